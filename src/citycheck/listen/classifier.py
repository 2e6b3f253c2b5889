"""Offline text classifier: character n-grams (no segmenter needed for Chinese) + a linear model.

Trained from the city's own past orders (``citycheck hotline train``); no model is downloaded at
run time.  The confidence of a prediction is the top class probability; orders below the
threshold go to a person.

A row's text columns are joined with :data:`FIELD_SEP`, so the first column (a title, a
descriptor) can get a TF-IDF block of its own next to the block of the whole text: a character
pair in a ten-character title says more about the category than the same pair somewhere in a
long complaint.  A text with no separator (an Open311 description) is its own first field.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer, normalize
from sklearn.svm import LinearSVC

from citycheck.listen.fast_inference import CompiledPipeline, compile_pipeline
from citycheck.listen.nbsvm import NBSVMClassifier

FIELD_SEP = "\x1f"  # ASCII unit separator between a row's text columns (see join_text)
FORMAT = "citycheck-hotline-classifier/2"
LEGACY_FORMAT = "citycheck-hotline-classifier/1"  # columns joined with spaces; title repeated
CALIBRATED_MODELS = ("svm", "nbsvm")


def full_text(text: str) -> str:
    """All fields of a joined text as one lower-cased string (TF-IDF preprocessor)."""
    return text.replace(FIELD_SEP, " ").lower()


def first_field(text: str) -> str:
    """The first field of a joined text, lower-cased (TF-IDF preprocessor)."""
    return text.split(FIELD_SEP, 1)[0].lower()


class KeywordHits(BaseEstimator, TransformerMixin):
    """How often each keyword of the city's category catalogue occurs in a text (substring count).

    Catalogue keywords such as 安全生产 or 医疗纠纷 are words, so they add word-level evidence that
    character 1–2-grams only see in pieces; no segmenter is needed because the vocabulary is
    given.  Counts are sublinear (``1 + log n``) and each row is L2-normalised, as TF-IDF does.
    """

    def __init__(self, keywords: tuple[str, ...] = ()) -> None:
        self.keywords = keywords

    def fit(self, texts: list[str], y: object = None) -> KeywordHits:
        """Nothing to learn: the vocabulary is the catalogue's."""
        self.vocabulary_ = sorted({k.strip() for k in self.keywords if k and k.strip()})
        return self

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        """A sparse matrix, one row per text, one column per keyword."""
        rows, cols, vals = [], [], []
        for i, t in enumerate(texts):
            for j, k in enumerate(self.vocabulary_):
                n = t.count(k)
                if n:
                    rows.append(i)
                    cols.append(j)
                    vals.append(1.0 + np.log(n))
        m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocabulary_)))
        return normalize(m)


def calibration_folds(labels: list[str] | np.ndarray, most: int = 3) -> int:
    """Folds for the SVM's probability calibration: ``most``, or fewer when the rarest label
    has fewer examples (stratified folds need one of each label per fold); below 2 the SVM
    cannot be calibrated."""
    counts = Counter(np.asarray(labels).tolist())
    return min(most, min(counts.values())) if counts else 0


def make_pipeline(
    *,
    ngram_range: tuple[int, int] = (1, 2),
    C: float = 1.0,
    min_df: int = 2,
    model: str = "svm",
    keywords: tuple[str, ...] = (),
    title_weight: float = 0.0,
    calibration_folds: int = 3,
) -> Pipeline:
    """TF-IDF on character n-grams (plus a title block and catalogue keyword counts), then a
    linear classifier.

    ``model`` is ``"svm"`` (a linear SVM), ``"nbsvm"`` (the SVM on naive-Bayes-scaled features,
    :class:`~citycheck.listen.nbsvm.NBSVMClassifier`) — both with sigmoid-calibrated
    probabilities on ``calibration_folds`` folds, which cannot exceed the count of the rarest
    label (:func:`calibration_folds`) — or ``"logreg"`` (multinomial logistic regression,
    probabilities of its own).  ``title_weight`` > 0 adds a TF-IDF block of the first field
    (see :func:`join_text`) with that weight; the blocks are concatenated and each row is
    L2-normalised again.  Which settings a city gets is chosen by cross-validation on its own
    orders (:func:`citycheck.listen.model_selection.select`); the defaults here are the
    earlier fixed choice (char 1–2-grams, C=1, calibrated SVM, no title block).
    """
    if title_weight < 0:
        raise ValueError(f"title_weight must be >= 0, got {title_weight}")
    blocks: list[tuple[str, object]] = [
        (
            "chars",
            TfidfVectorizer(
                analyzer="char",
                ngram_range=ngram_range,
                sublinear_tf=True,
                min_df=min_df,
                max_df=0.5,
                preprocessor=full_text,
            ),
        )
    ]
    weights = {"chars": 1.0}
    if title_weight > 0:
        # titles are short and few: keep every n-gram of them (no document-frequency cut)
        title = TfidfVectorizer(
            analyzer="char", ngram_range=ngram_range, sublinear_tf=True, preprocessor=first_field
        )
        blocks.append(("title", title))
        weights["title"] = title_weight
    if keywords:
        blocks.append(("keywords", KeywordHits(tuple(keywords))))
        weights["keywords"] = 1.0
    features = FeatureUnion(blocks, transformer_weights=weights)  # type: ignore[arg-type]
    if model == "svm":
        clf = CalibratedClassifierCV(
            LinearSVC(C=C, class_weight="balanced", random_state=0),
            cv=calibration_folds,
            method="sigmoid",
        )
    elif model == "nbsvm":
        clf = CalibratedClassifierCV(NBSVMClassifier(C=C), cv=calibration_folds, method="sigmoid")
    elif model == "logreg":
        clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    else:
        raise ValueError(f"model must be 'svm', 'nbsvm' or 'logreg', got {model!r}")
    return Pipeline([("features", features), ("normalize", Normalizer()), ("clf", clf)])


@dataclass
class TextClassifier:
    """A fitted pipeline with its labels.

    Predictions go through the pipeline's compiled form
    (:func:`~citycheck.listen.fast_inference.compile_pipeline`: the same numbers without
    sklearn's per-call overhead, about 20 times faster on one text) when it has the shape
    :func:`make_pipeline` builds, else through the pipeline itself.
    """

    pipeline: Pipeline
    # models of the first format were trained on columns joined with spaces, the first column
    # repeated ``first_weight`` times; their texts are rejoined that way before prediction
    legacy_first_weight: int | None = None
    compiled: CompiledPipeline | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.compiled = compile_pipeline(self.pipeline)

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], **kw: object) -> TextClassifier:
        """Train on ``texts`` (joined by :func:`join_text`) with ``labels`` (two or more classes).

        ``kw`` goes to :func:`make_pipeline`; the calibrated models calibrate on as many folds
        as the rarest label allows (at most 3) and need two examples of every label.
        """
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        if kw.get("model", "svm") in CALIBRATED_MODELS:
            folds = calibration_folds(labels)
            if folds < 2:
                rare = sorted(k for k, v in Counter(labels).items() if v < 2)
                raise ValueError(
                    f"the calibrated {kw.get('model', 'svm')} needs at least 2 examples of every "
                    f"label; {rare[:5]} have 1 (use model='logreg' or drop them)"
                )
            kw = {**kw, "calibration_folds": folds}
        pipe = make_pipeline(**kw)  # type: ignore[arg-type]
        pipe.fit(list(texts), list(labels))
        return cls(pipe)

    @property
    def labels(self) -> list[str]:
        """The classes, in the model's order."""
        return [str(c) for c in self.pipeline.classes_]

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Predicted label and confidence (top class probability) for each text."""
        texts = list(texts)
        if self.legacy_first_weight is not None:
            texts = [_legacy_join(t, self.legacy_first_weight) for t in texts]
        proba = self._proba(texts)
        idx = proba.argmax(axis=1)
        classes = self.pipeline.classes_
        return [str(classes[i]) for i in idx], proba[np.arange(len(idx)), idx]

    def _proba(self, texts: list[str]) -> np.ndarray:
        """Class probabilities (columns in :attr:`labels` order) of texts already rejoined for
        a legacy model; the compiled form when there is one, else sklearn's."""
        if self.compiled is not None:
            return self.compiled.predict_proba(texts)
        return self.pipeline.predict_proba(texts)

    def save(self, path: str | Path) -> None:
        """Write the model (joblib)."""
        if self.legacy_first_weight is not None:
            obj = {
                "format": LEGACY_FORMAT,
                "pipeline": self.pipeline,
                "first_weight": self.legacy_first_weight,
            }
        else:
            obj = {"format": FORMAT, "pipeline": self.pipeline}
        joblib.dump(obj, path)


def _legacy_join(text: str, first_weight: int) -> str:
    """A :func:`join_text` text as the first model format joined it."""
    parts = text.split(FIELD_SEP)
    return " ".join(x for x in [parts[0]] * first_weight + parts[1:] if x)


def load_model(path: str | Path) -> TextClassifier:
    """Read a model written by :meth:`TextClassifier.save` (either format)."""
    obj = joblib.load(path)
    fmt = obj.get("format") if isinstance(obj, dict) else None
    if fmt == FORMAT:
        return TextClassifier(obj["pipeline"])
    if fmt == LEGACY_FORMAT:
        return TextClassifier(obj["pipeline"], int(obj.get("first_weight", 1)))
    raise ValueError(f"{path}: not a citycheck hotline classifier")


def join_text(table: pd.DataFrame, columns: list[str]) -> list[str]:
    """The text columns of each row (missing values as empty) joined with :data:`FIELD_SEP`.

    The first column stays recognisable as the first field, for the title block of
    :func:`make_pipeline`; everything else reads the fields as one space-separated text.
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"text column(s) {missing} not in the table; it has {list(table.columns)}")
    parts = table[columns].fillna("").astype(str)
    return parts.apply(lambda r: FIELD_SEP.join(r), axis=1).tolist()


def cross_validated_macro_f1(
    texts: list[str], labels: list[str], *, folds: int = 5, seed: int = 0, **kw: object
) -> tuple[float, list[float]]:
    """Mean and per-fold macro-F1 under stratified ``folds``-fold cross-validation."""
    y = np.asarray(labels)
    X = np.asarray(texts, dtype=object)
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        model = TextClassifier.fit(list(X[train]), list(y[train]), **kw)
        pred, _ = model.predict(list(X[test]))
        scores.append(float(f1_score(y[test], pred, average="macro")))
    return float(np.mean(scores)), scores
