"""The offline classifier on real data: 5-fold macro-F1, the low-confidence queue, retraining.

The Chinese messages have no licence: they are read from ../shared/data in tests only and any
model trained on them lives in pytest's tmp_path.
"""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.dummy import DummyClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from tests.conftest import shared_data

from citycheck.listen.catalogue import load_catalogue
from citycheck.listen.classifier import (
    FIELD_SEP,
    TextClassifier,
    cross_validated_macro_f1,
    join_text,
    load_model,
    make_pipeline,
)
from citycheck.listen.domain import EventKind, Status
from citycheck.listen.nbsvm import NBSVMClassifier, log_count_ratio
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake, Staff


@pytest.fixture(scope="module")
def cn():
    return pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)


def test_cn_messages_macro_f1(cn):
    texts = join_text(cn, ["留言主题", "留言详情"])
    labels = cn["一级分类"].tolist()
    mean, folds = cross_validated_macro_f1(texts, labels, folds=5)
    # measured 0.7786 (folds 0.749 0.815 0.787 0.790 0.752); the issue aims at 0.78
    assert mean >= 0.77, (mean, folds)
    # oracle: a stratified-random baseline scores near 1/7; we must beat it by far
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    base = cross_val_predict(
        DummyClassifier(strategy="stratified", random_state=0),
        pd.DataFrame({"x": range(len(labels))}),
        labels,
        cv=cv,
    )
    assert mean > f1_score(labels, base, average="macro") + 0.5


def test_cn_messages_nbsvm_with_title_block_beats_the_plain_svm(cn):
    """The setting the inner selection picks most often (NB-SVM, C=0.5, title block) on the
    same 5 folds as the plain SVM above; the honest (nested) figure is in the bench."""
    texts = join_text(cn, ["留言主题", "留言详情"])
    labels = cn["一级分类"].tolist()
    plain, _ = cross_validated_macro_f1(texts, labels, folds=5)
    mean, folds = cross_validated_macro_f1(
        texts, labels, folds=5, model="nbsvm", C=0.5, title_weight=1.0
    )
    assert mean >= 0.79 and mean > plain + 0.01, (mean, folds, plain)


def test_nyc311_complaint_type_macro_f1():
    nyc = pd.read_csv(
        shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str, keep_default_na=False
    )
    counts = nyc["Complaint Type"].value_counts()
    nyc = nyc[nyc["Complaint Type"].isin(counts[counts >= 5].index)]  # 5 folds need 5 per class
    mean, _ = cross_validated_macro_f1(
        join_text(nyc, ["Descriptor", "Location Type"]), nyc["Complaint Type"].tolist(), folds=5
    )
    assert len(nyc) == 1928 and nyc["Complaint Type"].nunique() == 50
    assert mean >= 0.84, mean  # measured 0.8631


def test_low_confidence_goes_to_a_person_and_corrections_become_training_data(cn, tmp_path):
    cat = load_catalogue()
    code_of = {s.name_zh: s.code for s in cat.services.values()}
    model = TextClassifier.fit(
        join_text(cn, ["留言主题", "留言详情"]), [code_of[x] for x in cn["一级分类"]]
    )
    path = tmp_path / "model.joblib"
    model.save(path)
    assert load_model(path).labels == sorted(code_of.values())
    h = Hotline(
        HotlineSettings(
            db_url=f"sqlite:///{tmp_path}/h.db",
            secret="s",
            model_file=str(path),
            confidence_threshold=0.5,
        )
    )
    clear = h.submit(Intake("孩子幼儿园入学报名和学校学位问题，教育局能否协调"))
    assert clear.service_code == "education" and clear.confidence >= 0.5
    assert clear.status == Status.DISPATCHED.value and clear.lead_unit == "dept:education"
    vague = h.submit(Intake("请问"))
    assert vague.confidence < 0.5 and vague.status == Status.NEEDS_REVIEW.value
    assert vague.lead_unit is None
    queue = h.search(internal_status=[Status.NEEDS_REVIEW.value])
    assert [o.id for o in queue] == [vague.id]
    # a person classifies it and dispatches it
    disp = Staff("d", "dispatcher", None)
    h.act(vague.id, EventKind.CLASSIFY, disp, data={"service_code": "transport"})
    h.act(vague.id, EventKind.DISPATCH, disp, unit="dept:transport")
    # a misrouted order is returned, corrected, re-dispatched
    wrong = h.submit(Intake("小区门口公交站台被占用", service_code="urban"))
    h.act(wrong.id, EventKind.RETURN, Staff("u", "unit", wrong.lead_unit), reason="不属于住建")
    h.act(wrong.id, EventKind.CLASSIFY, disp, data={"service_code": "transport"})
    h.act(wrong.id, EventKind.DISPATCH, disp, unit="dept:transport")
    rows = {r["id"]: r for r in h.training_examples()}
    assert set(rows) == {vague.id, wrong.id}  # the unsigned auto-classified one is not yet data
    assert rows[wrong.id]["label"] == "transport" and rows[wrong.id]["corrected"]
    assert rows[wrong.id]["returns"] == 1 and rows[wrong.id]["text"] == "小区门口公交站台被占用"
    h.close()


def test_keyword_hits_counts_catalogue_words():

    from citycheck.listen.classifier import KeywordHits

    kh = KeywordHits(("安全生产", "事故", " ", "安全生产")).fit([])
    assert kh.vocabulary_ == ["事故", "安全生产"]  # blanks and repeats dropped, sorted
    m = kh.transform(["安全生产安全生产，发生事故", "没有关键词"]).toarray()
    raw = np.array([1.0, 1.0 + np.log(2)])  # 事故 once, 安全生产 twice (sublinear)
    assert np.allclose(m[0], raw / np.linalg.norm(raw)) and not m[1].any()


def test_nested_cv_scores_each_outer_fold_with_the_inner_choice(cn):
    """The outer score of a fold is the chosen candidate refitted on that fold's training part,
    and the choice is made without the fold's test rows (same as select() on the training part)."""

    from citycheck.listen.model_selection import Candidate, _macro_f1, nested_cv, select

    columns, labels = ["留言主题", "留言详情"], cn["一级分类"].tolist()
    grid = [Candidate(model="svm"), Candidate(title_weight=1.0, model="nbsvm", C=0.5)]
    res = nested_cv(cn, columns, labels, grid, outer=3, inner=3)
    y = np.asarray(labels)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(cn, y)
    for (train, test), chosen, score in zip(folds, res.chosen, res.scores, strict=True):
        best, _ = select(cn.iloc[train], columns, list(y[train]), grid, folds=3)
        assert best == chosen
        assert score == _macro_f1(cn, columns, y, train, test, chosen, ())
    assert 0.6 < res.mean < 0.95 and len(res.as_rows()) == 3


def test_select_prefers_the_earlier_candidate_on_ties(cn):
    from citycheck.listen.model_selection import Candidate, select

    # without a keyword list, keywords=True builds the same features: the two always tie
    a, b = Candidate(keywords=True), Candidate(keywords=False)
    labels = cn["一级分类"].tolist()
    best, scores = select(cn, ["留言主题"], labels, [a, b], folds=3)
    assert scores[a] == scores[b] and best == a
    assert select(cn, ["留言主题"], labels, [b, a], folds=3)[0] == b


def test_saved_model_predicts_the_same_and_a_bare_text_is_its_own_title(tmp_path, cn):
    columns = ["留言主题", "留言详情"]
    texts = join_text(cn, columns)
    assert texts[0] == cn.loc[0, "留言主题"] + FIELD_SEP + cn.loc[0, "留言详情"]
    m = TextClassifier.fit(texts, cn["一级分类"].tolist(), model="nbsvm", C=0.5, title_weight=1.0)
    m.save(tmp_path / "m.joblib")
    again = load_model(tmp_path / "m.joblib")
    assert again.legacy_first_weight is None
    assert np.array_equal(
        again.pipeline.predict_proba(texts[:30]), m.pipeline.predict_proba(texts[:30])
    )
    # an Open311 description has one field: the title block reads the whole text
    title = m.pipeline.named_steps["features"].transformer_list[1][1]
    bare = cn.loc[0, "留言主题"]
    assert np.array_equal(
        title.transform([bare]).toarray(), title.transform([bare + FIELD_SEP]).toarray()
    )


def test_first_format_models_still_load_and_join_their_way(tmp_path, cn):
    """Models of format 1 were trained on columns joined by spaces with the title repeated
    ``first_weight`` times; loaded now, they must see new tables joined that way."""
    old_texts = (cn["留言主题"] + " " + cn["留言主题"] + " " + cn["留言详情"]).tolist()
    labels = cn["一级分类"].tolist()
    old = make_pipeline().fit(old_texts, labels)
    TextClassifier(old, legacy_first_weight=2).save(tmp_path / "old.joblib")
    assert joblib.load(tmp_path / "old.joblib")["format"] == "citycheck-hotline-classifier/1"
    loaded = load_model(tmp_path / "old.joblib")
    got, conf = loaded.predict(join_text(cn.head(25), ["留言主题", "留言详情"]))
    proba = old.predict_proba(old_texts[:25])
    assert got == list(old.classes_[proba.argmax(1)]) and np.allclose(conf, proba.max(1))
    joblib.dump({"format": "something else"}, tmp_path / "x.joblib")
    with pytest.raises(ValueError, match="not a citycheck hotline classifier"):
        load_model(tmp_path / "x.joblib")


def test_nbsvm_scores_are_the_svm_on_nb_scaled_features():
    """Oracle: the log-count ratios by hand (Wang & Manning 2012, eq. 1–2 with binarised
    features) and one scikit-learn LinearSVC per class on the scaled features."""
    from sklearn.svm import LinearSVC

    X = sparse.csr_matrix(
        np.array([[2, 0, 1, 0], [1, 1, 0, 0], [0, 0, 3, 1], [0, 1, 1, 1], [1, 0, 0, 2.0]])
    )
    y = np.array(["a", "a", "b", "b", "c"])
    # class a: feature present in a-rows (p) and in the other rows (q), each smoothed by 1
    p, q = 1 + np.array([2, 1, 1, 0]), 1 + np.array([1, 1, 2, 3])
    r_a = np.log(p / p.sum()) - np.log(q / q.sum())
    assert np.allclose(log_count_ratio((X > 0).astype(float), y == "a", 1.0), r_a)
    nb = NBSVMClassifier(C=0.7).fit(X, y)
    for k, c in enumerate(nb.classes_):
        r = log_count_ratio((X > 0).astype(float), y == c, 1.0)
        svm = LinearSVC(C=0.7, class_weight="balanced", random_state=0)
        svm.fit(X.multiply(r).tocsr(), (y == c).astype(int))
        want = svm.decision_function(X.multiply(r).tocsr())
        assert np.allclose(nb.decision_function(X)[:, k], want)
    assert list(nb.predict(X)) == list(nb.classes_[nb.decision_function(X).argmax(1)])
    two = NBSVMClassifier().fit(X[:4], y[:4])
    assert two.decision_function(X[:4]).shape == (4,)  # binary: one score, as scikit-learn's


def test_one_se_rule_takes_the_earliest_setting_within_one_standard_error(cn):
    """Oracle: every candidate refitted whole on each inner fold (``_macro_f1``), the rule
    applied by hand."""
    from citycheck.listen.model_selection import Candidate, _macro_f1, select

    columns, labels = ["留言主题", "留言详情"], cn["一级分类"].tolist()
    y = np.asarray(labels)
    grid = [
        Candidate(model="svm"),
        Candidate(title_weight=1.0, model="svm"),
        Candidate(title_weight=1.0, model="nbsvm", C=0.5),
    ]
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(cn, y))
    per = {c: [_macro_f1(cn, columns, y, tr, te, c, ()) for tr, te in folds] for c in grid}
    means = {c: np.mean(v) for c, v in per.items()}
    top = max(grid, key=lambda c: means[c])
    se = np.std(per[top], ddof=1) / np.sqrt(4)
    want = next(c for c in grid if means[c] >= means[top] - se)
    assert want != top  # measured: the SVM with a title block, 0.776 vs 0.807 - 0.033
    best, scores = select(cn, columns, labels, grid, folds=4)
    assert best == top and all(np.isclose(scores[c], means[c]) for c in grid)
    assert select(cn, columns, labels, grid, folds=4, rule="one_se")[0] == want
    with pytest.raises(ValueError, match="rule"):
        select(cn, columns, labels, grid, rule="worst")


def test_rare_labels_calibrate_on_fewer_folds_or_say_which_label(cn):
    """A city's past orders often hold a category with only a few examples: the SVM then
    calibrates on as many folds as the rarest label allows, and with a single example training
    names the label instead of failing inside scikit-learn; selection falls back to a model that
    can be fitted."""
    from citycheck.listen.classifier import calibration_folds
    from citycheck.listen.model_selection import Candidate, select

    columns = ["留言主题", "留言详情"]
    big = cn["一级分类"].value_counts().index[:2]
    rare = cn["一级分类"].value_counts().index[-1]
    two = pd.concat([cn[cn["一级分类"].isin(big)], cn[cn["一级分类"] == rare].head(2)])
    labels = two["一级分类"].tolist()
    assert calibration_folds(labels) == 2
    model = TextClassifier.fit(join_text(two, columns), labels)  # calibrated on 2 folds
    assert sorted(model.labels) == sorted([*big, rare])

    one = pd.concat([cn[cn["一级分类"].isin(big)], cn[cn["一级分类"] == rare].head(1)])
    with pytest.raises(ValueError, match=str(rare)):
        TextClassifier.fit(join_text(one, columns), one["一级分类"].tolist())
    grid = [Candidate(model="svm"), Candidate(model="nbsvm"), Candidate(C=30.0, model="logreg")]
    with pytest.warns(UserWarning):  # scikit-learn: the rare label is in fewer than 3 folds
        best, scores = select(one, columns, one["一级分类"].tolist(), grid, folds=3)
    assert best.model == "logreg" and scores[grid[0]] == scores[grid[1]] == float("-inf")
    with pytest.raises(ValueError, match="nbsvm"):
        TextClassifier.fit(join_text(one, columns), one["一级分类"].tolist(), model="nbsvm")
