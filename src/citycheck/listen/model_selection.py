"""Choosing the classifier's settings by cross-validation, and measuring that choice honestly.

``hotline train`` picks the n-gram range, C, model, title weight and whether to add catalogue
keyword counts by k-fold cross-validation on the city's own orders (:func:`select`).  The score of
the chosen settings on the folds that chose them is optimistic, so the reported number comes from
nested cross-validation (:func:`nested_cv`): the whole selection is repeated inside each outer
training part and the outer test part is seen only once, by the model selected without it
(Varma & Simon 2006, "Bias in error estimation when using cross-validation for model selection",
BMC Bioinformatics 7:91; Cawley & Talbot 2010, JMLR 11:2079–2107).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from citycheck.listen.classifier import (
    TextClassifier,
    calibration_folds,
    join_text,
    make_pipeline,
)


@dataclass(frozen=True)
class Candidate:
    """One setting of the classifier: text joining plus :func:`make_pipeline` arguments."""

    first_weight: int = 1
    ngram_range: tuple[int, int] = (1, 2)
    C: float = 1.0
    model: str = "svm"
    keywords: bool = False

    def label(self) -> str:
        """Short text for reports."""
        kw = "+kw" if self.keywords else ""
        return (
            f"{self.model} C={self.C:g} char{self.ngram_range[0]}-{self.ngram_range[1]}"
            f"{kw} title×{self.first_weight}"
        )


def default_grid(with_keywords: bool) -> list[Candidate]:
    """The settings ``hotline train`` chooses from (24, or 48 with catalogue keywords).

    Small on purpose: with a few hundred orders a large grid mostly fits the folds' noise.
    C ranges differ per model because logistic regression on TF-IDF needs weaker regularisation
    than a hinge-loss SVM for similar fits.
    """
    grid = []
    for kw in (False, True) if with_keywords else (False,):
        for fw in (1, 2):
            for ng in ((1, 2), (1, 3)):
                for model, cs in (("svm", (0.5, 1.0, 2.0)), ("logreg", (10.0, 30.0, 100.0))):
                    for c in cs:
                        grid.append(Candidate(fw, ng, c, model, kw))
    return grid


def _macro_f1(
    table: pd.DataFrame,
    columns: list[str],
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    cand: Candidate,
    keywords: tuple[str, ...],
) -> float:
    """Fit ``cand`` on the ``train`` rows as ``hotline train`` would; macro-F1 on ``test``."""
    texts = np.asarray(join_text(table, columns, first_weight=cand.first_weight), dtype=object)
    model = TextClassifier.fit(
        list(texts[train]),
        list(y[train]),
        first_weight=cand.first_weight,
        ngram_range=cand.ngram_range,
        C=cand.C,
        model=cand.model,
        keywords=keywords if cand.keywords else (),
    )
    pred, _ = model.predict(list(texts[test]))
    return float(f1_score(y[test], pred, average="macro"))


def _split_scores(
    table: pd.DataFrame,
    columns: list[str],
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    grid: list[Candidate],
    keywords: tuple[str, ...],
) -> dict[Candidate, float]:
    """Macro-F1 of every candidate on one split, the features built once per feature setting.

    Candidates differing only in model and C share their (deterministic) feature matrix, so
    this gives the same scores as :func:`_macro_f1` per candidate at a fraction of the cost.
    """
    out: dict[Candidate, float] = {}
    settings = sorted({(c.first_weight, c.ngram_range, c.keywords) for c in grid})
    for fw, ngram, kw in settings:
        texts = np.asarray(join_text(table, columns, first_weight=fw), dtype=object)
        feats = make_pipeline(ngram_range=ngram, keywords=keywords if kw else ())
        features = feats.named_steps["features"]
        x_train = features.fit_transform(list(texts[train]))
        x_test = features.transform(list(texts[test]))
        cal = calibration_folds(y[train])
        for c in grid:
            if (c.first_weight, c.ngram_range, c.keywords) != (fw, ngram, kw):
                continue
            if c.model == "svm" and cal < 2:
                continue  # a label with one training example: the SVM cannot be calibrated
            clf = make_pipeline(
                ngram_range=ngram, C=c.C, model=c.model, calibration_folds=max(cal, 2)
            ).named_steps["clf"]
            clf.fit(x_train, y[train])
            pred = clf.classes_[clf.predict_proba(x_test).argmax(axis=1)]
            out[c] = float(f1_score(y[test], pred, average="macro"))
    return out


def select(
    table: pd.DataFrame,
    columns: list[str],
    labels: list[str],
    grid: list[Candidate],
    *,
    keywords: tuple[str, ...] = (),
    folds: int = 3,
    seed: int = 0,
) -> tuple[Candidate, dict[Candidate, float]]:
    """The candidate with the best mean macro-F1 over ``folds`` stratified folds of ``table``.

    Ties go to the earlier candidate of ``grid`` (the simpler one in :func:`default_grid`).
    Returns the winner and every candidate's mean score.
    """
    if not grid:
        raise ValueError("the candidate grid is empty")
    table = table.reset_index(drop=True)
    y = np.asarray(labels)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(table, y))
    per_split = [_split_scores(table, columns, y, tr, te, grid, keywords) for tr, te in splits]
    scores = {
        c: float(np.mean([sc[c] for sc in per_split]))
        if all(c in sc for sc in per_split)
        else float("-inf")  # not fittable on every split (see _split_scores)
        for c in grid
    }
    best = max(grid, key=lambda c: (scores[c], -grid.index(c)))
    return best, scores


@dataclass
class NestedResult:
    """Outer-fold macro-F1 of the whole select-then-fit procedure."""

    scores: list[float]
    chosen: list[Candidate]
    inner_best: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        """Mean outer macro-F1."""
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        """Standard deviation of the outer macro-F1 (population, as numpy's default)."""
        return float(np.std(self.scores))

    def as_rows(self) -> list[dict[str, object]]:
        """One row per outer fold, for printing."""
        folds = zip(self.scores, self.chosen, self.inner_best, strict=True)
        return [
            {"fold": i + 1, "macro_f1": s, "inner_f1": b, **asdict(c)}
            for i, (s, c, b) in enumerate(folds)
        ]


def nested_cv(
    table: pd.DataFrame,
    columns: list[str],
    labels: list[str],
    grid: list[Candidate],
    *,
    keywords: tuple[str, ...] = (),
    outer: int = 5,
    inner: int = 3,
    seed: int = 0,
) -> NestedResult:
    """Nested cross-validation: :func:`select` on each outer training part, scored on its test part.

    The outer folds are the same stratified ``outer``-fold split (``seed``) as
    :func:`citycheck.listen.classifier.cross_validated_macro_f1`, so the numbers compare.
    """
    table = table.reset_index(drop=True)
    y = np.asarray(labels)
    res = NestedResult([], [])
    for train, test in StratifiedKFold(outer, shuffle=True, random_state=seed).split(table, y):
        best, scores = select(
            table.iloc[train],
            columns,
            list(y[train]),
            grid,
            keywords=keywords,
            folds=inner,
            seed=seed,
        )
        res.chosen.append(best)
        res.inner_best.append(scores[best])
        res.scores.append(_macro_f1(table, columns, y, train, test, best, keywords))
    return res
