"""The compiled classifier gives sklearn's probabilities, on every text of both real data sets.

Oracle: the fitted sklearn pipeline's own ``predict_proba`` (the compiled form reads the same
fitted numbers but computes features, scores and calibration without sklearn's transformers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from tests.conftest import shared_data

from citycheck.listen.classifier import (
    FIELD_SEP,
    TextClassifier,
    join_text,
    load_model,
    make_pipeline,
)
from citycheck.listen.fast_inference import compile_pipeline, ngram_code

CN_COLUMNS = ["留言主题", "留言详情"]
NYC_COLUMNS = ["Descriptor", "Location Type", "Resolution Description"]

#: Texts at the edges: empty, separators only, white-space runs (folded by the analyser),
#: characters no model has seen, NUL, a lone surrogate, a capital whose lower case is two
#: characters, the staff intake's longest text, and a title without a body.
ODD_TEXTS = [
    "",
    " ",
    FIELD_SEP,
    FIELD_SEP * 3,
    "\n\t  \r\n ",
    "ꙮꙮꙮ",
    "\x00",
    "路\ud800灯",  # a lone surrogate (a str can hold one)
    "İSTANBUL Street NOISE",
    "路灯" + FIELD_SEP,
    FIELD_SEP + "小区门口路灯不亮，晚上出行很不方便",
    "  噪音  扰民   \t\t 施工 ",
    ("城市管理" * 250 + "Street Light Condition " * 40)[:4000],
    "😀 垃圾 😀" * 20,
]

SETTINGS = {
    "svm (hotline train --no-select)": {},
    "nbsvm C=0.5 title": {"model": "nbsvm", "C": 0.5, "title_weight": 1.0},
    "logreg": {"model": "logreg"},
    "nbsvm keywords title x2": {
        "model": "nbsvm",
        "keywords": ("路灯", "噪音", "垃圾", "物业", "Noise", "Street"),
        "title_weight": 2.0,
    },
    "svm char 1-3 title": {"ngram_range": (1, 3), "title_weight": 1.0, "C": 0.5},
}


@pytest.fixture(scope="module")
def cn() -> pd.DataFrame:
    return pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)


@pytest.fixture(scope="module")
def nyc() -> pd.DataFrame:
    return pd.read_csv(
        shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str, keep_default_na=False
    )


def assert_same_predictions(model: TextClassifier, texts: list[str]) -> None:
    """Compiled and sklearn: same probabilities (1e-9), same labels and confidences."""
    assert model.compiled is not None
    ref = model.pipeline.predict_proba(texts)
    fast = model.compiled.predict_proba(texts)
    assert fast.shape == ref.shape
    np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-9)
    labels, conf = model.predict(texts)
    assert labels == [str(c) for c in model.pipeline.classes_[ref.argmax(axis=1)]]
    np.testing.assert_allclose(conf, ref.max(axis=1), rtol=0, atol=1e-9)
    # one text at a time, as the server classifies
    for t in texts[:: max(1, len(texts) // 40)]:
        np.testing.assert_allclose(
            model.compiled.predict_proba([t]), model.pipeline.predict_proba([t]), atol=1e-9
        )


@pytest.mark.parametrize("ngram_range", [(1, 2), (2, 3), (3, 3), (1, 4)])
def test_ngram_counts_equal_the_vectorisers_analyser(cn, nyc, ngram_range):
    """The coded n-gram counts (n <= 3; the analyser itself beyond) against sklearn's analyser
    and a Counter, on every text of both data sets, for the vocabulary's n-grams."""
    from collections import Counter

    from citycheck.listen.classifier import full_text

    texts = join_text(cn, CN_COLUMNS) + join_text(nyc, NYC_COLUMNS) + ODD_TEXTS
    vec = TfidfVectorizer(analyzer="char", ngram_range=ngram_range, preprocessor=full_text)
    pipe = make_pipeline()
    pipe.steps[0][1].transformer_list[0] = ("chars", vec.set_params(min_df=2, max_df=0.5))
    pipe.fit(join_text(cn, CN_COLUMNS), cn["一级分类"].tolist())
    block = compile_pipeline(pipe).tfidf[0]
    assert (block.codes is None) == (ngram_range[1] > 3)
    analyze, vocab = vec.build_analyzer(), vec.vocabulary_
    for t in texts:
        want = {vocab[g]: n for g, n in Counter(analyze(t)).items() if g in vocab}
        cols, counts = block.counts(t)
        assert dict(zip(cols.tolist(), counts.tolist(), strict=True)) == want, t[:40]
    assert ngram_code("a") < ngram_code("\U0010ffff") < ngram_code("\x00\x00")


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_compiled_equals_sklearn_on_every_chinese_message(cn, setting):
    texts = join_text(cn, CN_COLUMNS)
    model = TextClassifier.fit(texts, cn["一级分类"].tolist(), **SETTINGS[setting])
    assert_same_predictions(model, texts + ODD_TEXTS)


@pytest.mark.parametrize("setting", ["svm (hotline train --no-select)", "nbsvm C=0.5 title"])
def test_compiled_equals_sklearn_on_every_nyc_request(nyc, setting):
    counts = nyc["Complaint Type"].value_counts()
    train = nyc[nyc["Complaint Type"].isin(counts[counts >= 5].index)]
    model = TextClassifier.fit(
        join_text(train, NYC_COLUMNS), train["Complaint Type"].tolist(), **SETTINGS[setting]
    )
    # every row, also those of the rare types left out of training
    assert_same_predictions(model, join_text(nyc, NYC_COLUMNS) + ODD_TEXTS)


@pytest.mark.parametrize(
    "setting", ["svm (hotline train --no-select)", "nbsvm C=0.5 title", "logreg"]
)
def test_compiled_equals_sklearn_with_two_classes(nyc, setting):
    """Binary models keep one score column (LinearSVC) or the second class's (NB-SVM), and
    logistic regression uses the logistic function: each its own branch."""
    top = nyc["Complaint Type"].value_counts().index[:2]
    two = nyc[nyc["Complaint Type"].isin(top)]
    model = TextClassifier.fit(
        join_text(two, NYC_COLUMNS), two["Complaint Type"].tolist(), **SETTINGS[setting]
    )
    assert len(model.labels) == 2
    assert_same_predictions(model, join_text(nyc, NYC_COLUMNS) + ODD_TEXTS)


def test_a_loaded_model_is_compiled_and_predicts_as_saved(tmp_path, cn):
    texts = join_text(cn, CN_COLUMNS)
    model = TextClassifier.fit(texts, cn["一级分类"].tolist(), **SETTINGS["nbsvm C=0.5 title"])
    model.save(tmp_path / "m.joblib")
    again = load_model(tmp_path / "m.joblib")
    assert_same_predictions(again, texts + ODD_TEXTS)
    (got, conf), (saved, saved_conf) = again.predict(texts), model.predict(texts)
    assert got == saved and np.array_equal(conf, saved_conf)


def test_legacy_models_are_compiled_too(tmp_path, cn):
    old_texts = (cn["留言主题"] + " " + cn["留言主题"] + " " + cn["留言详情"]).tolist()
    old = make_pipeline().fit(old_texts, cn["一级分类"].tolist())
    TextClassifier(old, legacy_first_weight=2).save(tmp_path / "old.joblib")
    loaded = load_model(tmp_path / "old.joblib")
    assert loaded.compiled is not None
    got, conf = loaded.predict(join_text(cn, CN_COLUMNS))
    proba = old.predict_proba(old_texts)
    assert got == list(old.classes_[proba.argmax(1)])
    np.testing.assert_allclose(conf, proba.max(1), rtol=0, atol=1e-9)


def test_other_pipelines_are_not_compiled_and_still_predict(cn):
    """Shapes the compiled form does not know (word analyser, isotonic calibration) are left
    to sklearn: compile_pipeline says None and TextClassifier predicts through the pipeline."""
    texts = join_text(cn, CN_COLUMNS)
    labels = cn["一级分类"].tolist()
    words = make_pipeline()
    words.steps[0][1].transformer_list[0] = (
        "chars",
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True),
    )
    isotonic = make_pipeline()
    isotonic.steps[-1] = (
        "clf",
        CalibratedClassifierCV(LinearSVC(random_state=0), cv=3, method="isotonic"),
    )
    bare = Pipeline([("tfidf", TfidfVectorizer(analyzer="char")), ("svm", LinearSVC())])
    for pipe in (words, isotonic, bare):
        pipe.fit(texts, labels)
        assert compile_pipeline(pipe) is None
        model = TextClassifier(pipe)
        assert model.compiled is None
        if hasattr(pipe, "predict_proba"):
            got, conf = model.predict(texts[:20])
            proba = pipe.predict_proba(texts[:20])
            assert got == list(pipe.classes_[proba.argmax(1)])
            assert np.array_equal(conf, proba.max(1))
