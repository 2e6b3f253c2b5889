"""Who gains and who loses walking coverage between two access results (pure computation).

A residential building is *covered* for a category when its network distance to the nearest
facility of that category is within the category's walking limit (the limits of
``categories.toml``, from GB 50180-2018). Comparing the state before and after a what-if gives,
per category, the buildings that switch to covered (newly served) and those that switch to not
covered (no longer served), with their residents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from citycheck.access.analyse import AccessResult, dist_column
from citycheck.categories import categories

__all__ = ["CategoryChange", "coverage_changes"]


@dataclass(frozen=True)
class CategoryChange:
    """Coverage change of one facility category.

    Attributes
    ----------
    category : str
    limit_m : float
        Walking limit of the category.
    newly_served : numpy.ndarray
        Row positions (into the buildings table) of residential buildings that become covered.
    no_longer_served : numpy.ndarray
        Row positions of residential buildings that lose coverage.
    residents_newly_served, residents_no_longer_served : float
        Residents of those buildings.
    """

    category: str
    limit_m: float
    newly_served: np.ndarray
    no_longer_served: np.ndarray
    residents_newly_served: float
    residents_no_longer_served: float


def _distances(result: AccessResult, cat: str, n: int) -> np.ndarray:
    col = dist_column(cat)
    if col not in result.buildings:
        return np.full(n, np.inf)
    d = result.buildings[col].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(d), np.inf, d)


def coverage_changes(
    before: AccessResult, after: AccessResult, residents: pd.Series
) -> list[CategoryChange]:
    """Categories whose coverage of residential buildings changed, with the buildings.

    Parameters
    ----------
    before, after : AccessResult
        The same city's buildings (same rows, same order) before and after a change.
    residents : Series
        Residents per building, aligned with the rows of ``before.buildings``.

    Returns
    -------
    list of CategoryChange
        Only categories where at least one residential building switched; in the order of
        ``categories.toml``.
    """
    n = len(before.buildings)
    if len(after.buildings) != n or len(residents) != n:
        raise ValueError(
            f"coverage_changes: {n} buildings before, {len(after.buildings)} after, "
            f"{len(residents)} residents; they must be the same rows"
        )
    res_flag = before.buildings["residential"].to_numpy(dtype=bool)
    people = np.nan_to_num(residents.to_numpy(dtype=np.float64, na_value=np.nan), nan=0.0)
    out = []
    for cat, spec in categories().items():
        if spec.walk_limit_m is None:
            continue
        if dist_column(cat) not in after.buildings and dist_column(cat) not in before.buildings:
            continue
        limit = float(spec.walk_limit_m)
        cov0 = _distances(before, cat, n) <= limit
        cov1 = _distances(after, cat, n) <= limit
        gain = np.flatnonzero(res_flag & cov1 & ~cov0)
        loss = np.flatnonzero(res_flag & cov0 & ~cov1)
        if gain.size or loss.size:
            out.append(
                CategoryChange(
                    category=cat,
                    limit_m=limit,
                    newly_served=gain,
                    no_longer_served=loss,
                    residents_newly_served=float(people[gain].sum()),
                    residents_no_longer_served=float(people[loss].sum()),
                )
            )
    return out
