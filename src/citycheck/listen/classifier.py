"""Offline text classifier: character n-grams (no segmenter needed for Chinese) + a linear model.

Trained from the city's own past orders (``citycheck hotline train``); no model is downloaded at
run time.  The confidence of a prediction is the top class probability; orders below the
threshold go to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC


def make_pipeline(
    *, ngram_range: tuple[int, int] = (1, 2), C: float = 1.0, min_df: int = 2
) -> Pipeline:
    """TF-IDF on character 1–2-grams, then a linear SVM with sigmoid-calibrated probabilities.

    Chosen by 5-fold cross-validation on the labelled Chinese messages
    (bench/bench_hotline_classifier.py):
    char 1–2-grams beat 1–3 and 2–4 and word-boundary n-grams; a linear SVM beat logistic
    regression, ridge and complement naive Bayes there.  Calibration (3-fold, sigmoid) gives a
    confidence usable for the low-confidence queue.
    """
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=ngram_range,
                    sublinear_tf=True,
                    min_df=min_df,
                    max_df=0.5,
                ),
            ),
            (
                "clf",
                CalibratedClassifierCV(
                    LinearSVC(C=C, class_weight="balanced", random_state=0), cv=3, method="sigmoid"
                ),
            ),
        ]
    )


@dataclass
class TextClassifier:
    """A fitted pipeline with its labels."""

    pipeline: Pipeline

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], **kw: object) -> TextClassifier:
        """Train on ``texts`` with ``labels`` (at least two classes)."""
        if len(set(labels)) < 2:
            raise ValueError("training needs at least two distinct labels")
        pipe = make_pipeline(**kw)  # type: ignore[arg-type]
        pipe.fit(list(texts), list(labels))
        return cls(pipe)

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
        joblib.dump({"format": "citycheck-hotline-classifier/1", "pipeline": self.pipeline}, path)


def load_model(path: str | Path) -> TextClassifier:
    """Read a model written by :meth:`TextClassifier.save`."""
    obj = joblib.load(path)
    if not isinstance(obj, dict) or obj.get("format") != "citycheck-hotline-classifier/1":
        raise ValueError(f"{path}: not a citycheck hotline classifier")
    return TextClassifier(obj["pipeline"])


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
