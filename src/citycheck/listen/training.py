"""Training the offline classifier from a table of past orders (``citycheck hotline train``).

Data in, a trained classifier and its scores out: which rows count (those with a label), the
keywords of a category catalogue, the choice of candidate by cross-validation and, on request,
the nested cross-validated score of that choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from citycheck.listen.classifier import TextClassifier, join_text
from citycheck.listen.model_selection import Candidate, NestedResult, default_grid, nested_cv
from citycheck.listen.model_selection import select as select_candidate

__all__ = ["Training", "read_keywords", "train_classifier"]


@dataclass
class Training:
    """A trained classifier and how it was chosen."""

    classifier: TextClassifier
    candidate: Candidate
    cv_score: float | None  # 5-fold CV macro-F1 of the chosen candidate (None: no selection)
    nested: NestedResult | None  # nested k-fold macro-F1 of the procedure (None: not asked)
    rows: int
    labels: int


def read_keywords(path: Path) -> tuple[str, ...]:
    """Every non-empty cell of a category-catalogue CSV (no header), sorted and unique."""
    table = pd.read_csv(path, dtype=str, header=None).stack()
    return tuple(sorted({t.strip() for t in table if t and t.strip()}))


def train_classifier(
    df: pd.DataFrame,
    columns: list[str],
    label: str,
    *,
    keywords: tuple[str, ...] = (),
    select: bool = True,
    cv: int = 0,
) -> Training:
    """Train on the rows of ``df`` with a non-empty ``label``.

    Parameters
    ----------
    columns : list of str
        Text columns, joined.
    keywords : tuple of str
        Catalogue terms (the grid then tries keyword blocks too).
    select : bool
        Choose C, model, title block and keywords by 5-fold CV; otherwise the default candidate.
    cv : int
        Also score the whole procedure by nested ``cv``-fold CV (0: no).

    Raises
    ------
    ValueError
        The label column or a text column is missing.
    """
    if label not in df.columns:
        raise ValueError(f"label column {label!r} not found; columns: {list(df.columns)}")
    df = df[df[label].astype(str).str.strip() != ""].reset_index(drop=True)
    labels = df[label].astype(str).tolist()
    grid = default_grid(with_keywords=bool(keywords)) if select else [Candidate()]
    join_text(df, columns)  # raises ValueError naming a missing column
    nested = nested_cv(df, columns, labels, grid, keywords=keywords, outer=cv) if cv else None
    best, scores = (
        select_candidate(df, columns, labels, grid, keywords=keywords)
        if len(grid) > 1
        else (grid[0], {})
    )
    texts = join_text(df, columns)
    clf = TextClassifier.fit(texts, labels, **best.pipeline_args(keywords))
    return Training(
        clf, best, scores[best] if scores else None, nested, len(texts), len(set(labels))
    )
