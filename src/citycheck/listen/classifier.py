"""Offline text classifier: character n-grams (no segmenter needed for Chinese) + a linear model.

Trained from the city's own past orders (``citycheck hotline train``); no model is downloaded at
run time.  The confidence of a prediction is the top class probability; orders below the
threshold go to a person.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
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
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC


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
    calibration_folds: int = 3,
) -> Pipeline:
    """TF-IDF on character n-grams (plus catalogue keyword counts), then a linear classifier.

    ``model`` is ``"svm"`` (a linear SVM with sigmoid-calibrated probabilities, 3-fold) or
    ``"logreg"`` (multinomial logistic regression, probabilities of its own).  Which n-grams, C,
    model, title weight and keyword features a city gets is chosen by cross-validation on its own
    orders (:func:`citycheck.listen.model_selection.select`); the defaults here are the
    previous fixed choice (char 1–2-grams, C=1, calibrated SVM). ``calibration_folds`` is the
    SVM's calibration split; it cannot exceed the count of the rarest label
    (:func:`calibration_folds`).
    """
    chars = TfidfVectorizer(
        analyzer="char", ngram_range=ngram_range, sublinear_tf=True, min_df=min_df, max_df=0.5
    )
    features = (
        FeatureUnion([("chars", chars), ("keywords", KeywordHits(tuple(keywords)))])
        if keywords
        else chars
    )
    if model == "svm":
        clf = CalibratedClassifierCV(
            LinearSVC(C=C, class_weight="balanced", random_state=0),
            cv=calibration_folds,
            method="sigmoid",
        )
    elif model == "logreg":
        clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    else:
        raise ValueError(f"model must be 'svm' or 'logreg', got {model!r}")
    return Pipeline([("features", features), ("clf", clf)])


@dataclass
class TextClassifier:
    """A fitted pipeline with its labels."""

    pipeline: Pipeline
    first_weight: int = 1  # how often the first text column is repeated (see join_text)

    @classmethod
    def fit(
        cls, texts: list[str], labels: list[str], *, first_weight: int = 1, **kw: object
    ) -> TextClassifier:
        """Train on ``texts`` with ``labels`` (at least two classes).

        ``texts`` must already be joined with ``first_weight`` (recorded so that ``classify``
        joins new tables the same way); ``kw`` goes to :func:`make_pipeline`.
        """
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        if kw.get("model", "svm") == "svm":
            folds = calibration_folds(labels)
            if folds < 2:
                rare = sorted(k for k, v in Counter(labels).items() if v < 2)
                raise ValueError(
                    f"the calibrated SVM needs at least 2 examples of every label; "
                    f"{rare[:5]} have 1 (use model='logreg' or drop them)"
                )
            kw = {**kw, "calibration_folds": folds}
        pipe = make_pipeline(**kw)  # type: ignore[arg-type]
        pipe.fit(list(texts), list(labels))
        return cls(pipe, first_weight)

    @property
    def labels(self) -> list[str]:
        """The classes, in the model's order."""
        return [str(c) for c in self.pipeline.classes_]

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """Predicted label and confidence (top class probability) for each text."""
        proba = self.pipeline.predict_proba(list(texts))
        idx = proba.argmax(axis=1)
        classes = self.pipeline.classes_
        return [str(classes[i]) for i in idx], proba[np.arange(len(idx)), idx]

    def save(self, path: str | Path) -> None:
        """Write the model (joblib)."""
        joblib.dump(
            {
                "format": "citycheck-hotline-classifier/1",
                "pipeline": self.pipeline,
                "first_weight": self.first_weight,
            },
            path,
        )


def load_model(path: str | Path) -> TextClassifier:
    """Read a model written by :meth:`TextClassifier.save`."""
    obj = joblib.load(path)
    if not isinstance(obj, dict) or obj.get("format") != "citycheck-hotline-classifier/1":
        raise ValueError(f"{path}: not a citycheck hotline classifier")
    return TextClassifier(obj["pipeline"], int(obj.get("first_weight", 1)))


def join_text(table: pd.DataFrame, columns: list[str], *, first_weight: int = 1) -> list[str]:
    """Concatenate the text columns of each row (missing values as empty), space-separated.

    ``first_weight`` repeats the first column (e.g. a title) that many times, a simple way to
    weight it above a long body text.
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"text column(s) {missing} not in the table; it has {list(table.columns)}")
    if first_weight < 1:
        raise ValueError(f"first_weight must be >= 1, got {first_weight}")
    parts = table[columns].fillna("").astype(str)
    cols = [columns[0]] * first_weight + columns[1:]
    return parts[cols].apply(lambda r: " ".join(x for x in r if x), axis=1).tolist()


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
