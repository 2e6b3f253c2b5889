"""Choosing the classifier's settings by cross-validation, and measuring that choice honestly.

``hotline train`` picks C, the model (SVM or NB-SVM), whether to add a title block and whether
to add catalogue keyword counts by 5-fold cross-validation on the city's own orders
(:func:`select`).  The score of the chosen settings on the folds that chose them is optimistic,
so the reported number comes from nested cross-validation (:func:`nested_cv`): the whole
selection is repeated inside each outer training part and the outer test part is seen only once,
by the model selected without it
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
    CALIBRATED_MODELS,
    TextClassifier,
    calibration_folds,
    join_text,
    make_pipeline,
)


@dataclass(frozen=True)
class Candidate:
    """One setting of the classifier: the :func:`make_pipeline` arguments it varies."""

    title_weight: float = 0.0
    ngram_range: tuple[int, int] = (1, 2)
    C: float = 1.0
    model: str = "svm"
    keywords: bool = False

    def label(self) -> str:
        """Short text for reports."""
        kw = "+kw" if self.keywords else ""
        title = f" title×{self.title_weight:g}" if self.title_weight else ""
        return (
            f"{self.model} C={self.C:g} char{self.ngram_range[0]}-{self.ngram_range[1]}{kw}{title}"
        )

    def pipeline_args(self, keywords: tuple[str, ...]) -> dict[str, object]:
        """Keyword arguments of :func:`make_pipeline` for this setting."""
        return {
            "ngram_range": self.ngram_range,
            "C": self.C,
            "model": self.model,
            "keywords": keywords if self.keywords else (),
            "title_weight": self.title_weight,
        }


def default_grid(with_keywords: bool) -> list[Candidate]:
    """The settings ``hotline train`` chooses from (8, or 16 with catalogue keywords).

    Simpler settings first (no title block, no keywords, the plain SVM, stronger
    regularisation), so that ties go to them.  Small on purpose: with a few hundred orders a
    large grid mostly fits the folds' noise (the earlier 24-setting grid with logistic
    regression and char 1–3-grams picked a setting that scored 0.53 on one outer fold).
    Character 1–2-grams only: most Chinese words are one or two characters long.
    """
    grid = []
    for kw in (False, True) if with_keywords else (False,):
        for tw in (0.0, 1.0):
            for model in ("svm", "nbsvm"):
                for c in (0.5, 1.0):
                    grid.append(Candidate(tw, (1, 2), c, model, kw))
    return grid


def _fit_predict(
    table: pd.DataFrame,
    columns: list[str],
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    cand: Candidate,
    keywords: tuple[str, ...],
) -> np.ndarray:
    """Fit ``cand`` on the ``train`` rows as ``hotline train`` would; the ``test`` rows' labels."""
    texts = np.asarray(join_text(table, columns), dtype=object)
    model = TextClassifier.fit(list(texts[train]), list(y[train]), **cand.pipeline_args(keywords))
    pred, _ = model.predict(list(texts[test]))
    return np.asarray(pred, dtype=object)


def _macro_f1(
    table: pd.DataFrame,
    columns: list[str],
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    cand: Candidate,
    keywords: tuple[str, ...],
) -> float:
    """Macro-F1 on ``test`` of ``cand`` fitted on ``train`` (see :func:`_fit_predict`)."""
    pred = _fit_predict(table, columns, y, train, test, cand, keywords)
    return float(f1_score(y[test], pred, average="macro"))


def _split_scores(
    texts: np.ndarray,
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
    cal = calibration_folds(y[train])
    settings = sorted({(c.title_weight, c.ngram_range, c.keywords) for c in grid})
    for setting in settings:
        same = [c for c in grid if (c.title_weight, c.ngram_range, c.keywords) == setting]
        features = make_pipeline(**same[0].pipeline_args(keywords))[:-1]  # type: ignore[arg-type]
        x_train = features.fit_transform(list(texts[train]))
        x_test = features.transform(list(texts[test]))
        for c in same:
            if c.model in CALIBRATED_MODELS and cal < 2:
                continue  # a label with one training example: the model cannot be calibrated
            args = {**c.pipeline_args(keywords), "calibration_folds": max(cal, 2)}
            clf = make_pipeline(**args).named_steps["clf"]  # type: ignore[arg-type]
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
    folds: int = 5,
    seed: int = 0,
    rule: str = "best",
) -> tuple[Candidate, dict[Candidate, float]]:
    """Choose a candidate by its macro-F1 over ``folds`` stratified folds of ``table``.

    ``rule="best"`` takes the best mean; ``rule="one_se"`` the earliest candidate of ``grid``
    whose mean is within one standard error (over the folds) of the best mean (the "one
    standard error rule", Hastie, Tibshirani & Friedman, *The Elements of Statistical
    Learning*, 2nd ed., §7.10).  Ties go to the earlier candidate of ``grid`` (the simpler one
    in :func:`default_grid`).  Returns the choice and every candidate's mean score
    (``-inf`` where a candidate could not be fitted on every fold).
    """
    if not grid:
        raise ValueError("the candidate grid is empty")
    if rule not in ("best", "one_se"):
        raise ValueError(f"rule must be 'best' or 'one_se', got {rule!r}")
    table = table.reset_index(drop=True)
    y = np.asarray(labels)
    texts = np.asarray(join_text(table, columns), dtype=object)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y))
    per_split = [_split_scores(texts, y, tr, te, grid, keywords) for tr, te in splits]
    fittable = [c for c in grid if all(c in sc for sc in per_split)]
    scores = {
        c: float(np.mean([sc[c] for sc in per_split])) if c in fittable else float("-inf")
        for c in grid
    }
    best = max(grid, key=lambda c: (scores[c], -grid.index(c)))
    if rule == "one_se" and best in fittable:
        spread = np.std([sc[best] for sc in per_split], ddof=1) / np.sqrt(folds)
        best = next(c for c in grid if scores[c] >= scores[best] - spread)
    return best, scores


@dataclass
class NestedResult:
    """Outer-fold macro-F1 of the whole select-then-fit procedure."""

    scores: list[float]
    chosen: list[Candidate]
    inner_best: list[float] = field(default_factory=list)
    # every row's label as predicted by the model of the outer fold that held it out
    predicted: np.ndarray | None = None

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
    inner: int = 5,
    seed: int = 0,
    rule: str = "best",
) -> NestedResult:
    """Nested cross-validation: :func:`select` on each outer training part, scored on its test part.

    The outer folds are the same stratified ``outer``-fold split (``seed``) as
    :func:`citycheck.listen.classifier.cross_validated_macro_f1`, so the numbers compare.
    """
    table = table.reset_index(drop=True)
    y = np.asarray(labels)
    res = NestedResult([], [], predicted=np.empty(len(y), dtype=object))
    for train, test in StratifiedKFold(outer, shuffle=True, random_state=seed).split(table, y):
        best, scores = select(
            table.iloc[train],
            columns,
            list(y[train]),
            grid,
            keywords=keywords,
            folds=inner,
            seed=seed,
            rule=rule,
        )
        res.chosen.append(best)
        res.inner_best.append(scores[best])
        pred = _fit_predict(table, columns, y, train, test, best, keywords)
        res.predicted[test] = pred  # type: ignore[index]
        res.scores.append(float(f1_score(y[test], pred, average="macro")))
    return res
