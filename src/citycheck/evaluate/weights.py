"""Weights for aggregation: equal, expert (AHP) and entropy.

Aggregation choices follow the OECD/JRC *Handbook on Constructing Composite Indicators* (2008):
weights are declared, checked and reported, and their effect is shown by sensitivity analysis.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = [
    "RANDOM_INDEX",
    "AHPResult",
    "ahp_weights",
    "entropy_weights",
    "equal_weights",
    "validate_weights",
]

log = logging.getLogger(__name__)

#: Saaty's random consistency index RI by matrix order n (Saaty 1980, The Analytic Hierarchy
#: Process, table 1.7; n = 1..10).
RANDOM_INDEX = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
}


def equal_weights(names: Sequence[str]) -> dict[str, float]:
    """Equal weights summing to 1."""
    if not names:
        raise ValueError("equal_weights needs at least one name")
    return {n: 1.0 / len(names) for n in names}


def validate_weights(
    weights: Mapping[str, float], names: Sequence[str], *, what: str
) -> dict[str, float]:
    """Check weights: known names, finite, ≥ 0, summing to 1 (±1e-6); collect every problem."""
    problems = []
    unknown = sorted(set(weights) - set(names))
    if unknown:
        problems.append(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(names)})")
    for k, v in weights.items():
        if not np.isfinite(v) or v < 0:
            problems.append(f"weight of {k} must be finite and ≥ 0, got {v!r}")
    total = float(sum(weights.values()))
    if abs(total - 1.0) > 1e-6:
        problems.append(f"weights must sum to 1, they sum to {total:.6g}")
    if problems:
        raise ValueError(f"invalid {what} weights: " + "; ".join(problems))
    return {n: float(weights.get(n, 0.0)) for n in names}


@dataclass(frozen=True)
class AHPResult:
    """Weights from a pairwise comparison matrix with its consistency."""

    weights: dict[str, float]
    lambda_max: float
    consistency_index: float
    consistency_ratio: float


def ahp_weights(matrix: ArrayLike, names: Sequence[str], *, max_cr: float = 0.1) -> AHPResult:
    """Weights from an AHP pairwise comparison matrix (principal eigenvector).

    Parameters
    ----------
    matrix : array-like (n, n)
        ``a[i, j]`` = importance of i over j on Saaty's 1–9 scale; positive and reciprocal.
    names : sequence of str
        The n criteria.
    max_cr : float
        Largest acceptable consistency ratio (Saaty: 0.1).

    Returns
    -------
    AHPResult

    Raises
    ------
    ValueError
        If the matrix is not square, positive and reciprocal, or CR ≥ ``max_cr``.
    """
    a = np.asarray(matrix, dtype=float)
    n = len(names)
    if a.shape != (n, n):
        raise ValueError(f"AHP matrix must be {n}×{n} for {n} criteria, got {a.shape}")
    if np.any(a <= 0) or not np.all(np.isfinite(a)):
        raise ValueError("AHP matrix entries must be positive numbers")
    if not np.allclose(a * a.T, 1.0, rtol=1e-3):
        i, j = np.argwhere(~np.isclose(a * a.T, 1.0, rtol=1e-3))[0]
        raise ValueError(
            f"AHP matrix must be reciprocal: a[{names[i]},{names[j]}]={a[i, j]:g} but "
            f"a[{names[j]},{names[i]}]={a[j, i]:g}"
        )
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX.get(n)
    if ri is None:
        raise ValueError(f"no random index for n={n} (supported up to 10 criteria)")
    cr = ci / ri if ri > 0 else 0.0
    if cr >= max_cr:
        raise ValueError(
            f"AHP matrix is inconsistent: consistency ratio {cr:.3f} ≥ {max_cr} "
            "(revise the pairwise judgements)"
        )
    return AHPResult(dict(zip(names, w.tolist(), strict=True)), lam, ci, cr)


def entropy_weights(values: pd.DataFrame) -> dict[str, float]:
    """Entropy weights of the columns of a units × indicators table of normalised scores.

    Warns that entropy weights reward dispersion across the sample, not importance, and change
    when units are added (OECD/JRC Handbook 2008, §6).
    """
    warnings.warn(
        "entropy weights reflect how much indicators vary across these units, not how much "
        "they matter, and shift when the sample changes; report them beside equal weights",
        UserWarning,
        stacklevel=2,
    )
    x = values.astype(float).clip(lower=0).fillna(0.0)
    m = len(x)
    if m < 2:
        raise ValueError("entropy weights need at least two units")
    col_sum = x.sum(axis=0)
    p = x.div(col_sum.where(col_sum > 0), axis=1).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = -(p * np.log(p.where(p > 0))).sum(axis=0).fillna(0.0) / np.log(m)
    e = e.where(col_sum > 0, 1.0)
    d = 1.0 - e
    if d.sum() <= 0:
        return equal_weights(list(values.columns))
    return (d / d.sum()).to_dict()
