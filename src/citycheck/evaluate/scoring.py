"""Scoring: grade every value, normalise, aggregate by dimension, apply vetoes, test sensitivity.

Practice in China's city health checks judges each indicator against its standard and publishes
no composite; citycheck does that first (grades) and adds a transparent composite for comparison
and ranking, following the OECD/JRC Handbook (2008): fixed goalposts, declared weights, red-line
indicators as vetoes rather than terms of a sum, and a sensitivity analysis of the result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citycheck.evaluate.catalogue import DIMENSIONS, catalogue, dimensions
from citycheck.evaluate.weights import equal_weights, validate_weights
from citycheck.labels import Message, message

__all__ = [
    "OVERALL_CUTS",
    "Scores",
    "grade_overall",
    "grade_values",
    "score",
    "sensitivity",
]

#: Overall score cuts: ≥ 80 pass, ≥ 60 warning, else fail (a citycheck convention, stated in
#: every report; the grades of single indicators come from their own thresholds).
OVERALL_CUTS = (80.0, 60.0)


def grade_overall(value: float) -> str:
    """Grade a composite 0–100 score with :data:`OVERALL_CUTS`."""
    if value is None or math.isnan(value):
        return "no data"
    if value >= OVERALL_CUTS[0]:
        return "pass"
    if value >= OVERALL_CUTS[1]:
        return "warning"
    return "fail"


def grade_values(values: pd.DataFrame) -> pd.DataFrame:
    """Add grade, normalised score, threshold, gap and metadata to a long table of values.

    Parameters
    ----------
    values : DataFrame
        Columns ``indicator``, ``level``, ``unit_id``, ``value``.

    Returns
    -------
    DataFrame
        A copy with ``dimension``, ``unit``, ``direction``, ``grade``, ``normalised``,
        ``threshold``, ``gap``, ``source``, ``red_line`` added.
    """
    cat = catalogue()
    out = values.copy()
    unknown = sorted(set(out["indicator"]) - set(cat))
    if unknown:
        raise KeyError(f"values for unknown indicators: {unknown}")
    ind = out["indicator"].map(cat)
    vals = out["value"].astype(float)
    out["dimension"] = ind.map(lambda i: i.dimension)
    out["unit"] = ind.map(lambda i: i.unit)
    out["direction"] = ind.map(lambda i: i.direction)
    out["grade"] = [i.grade(v) for i, v in zip(ind, vals, strict=True)]
    out["normalised"] = [i.normalise(v) for i, v in zip(ind, vals, strict=True)]
    out["threshold"] = ind.map(lambda i: i.threshold_text())
    out["gap"] = [i.gap(v) for i, v in zip(ind, vals, strict=True)]
    out["source"] = ind.map(lambda i: i.source)
    out["red_line"] = ind.map(lambda i: i.red_line)
    return out


@dataclass(frozen=True)
class Scores:
    """Aggregated scores.

    Attributes
    ----------
    dimensions : DataFrame
        ``level``, ``unit_id``, ``dimension``, ``score`` (0–100), ``n_indicators``.
    overall : DataFrame
        ``level``, ``unit_id``, ``score``, ``grade``, ``vetoed_by`` (red-line ids that failed).
    dimension_weights : dict
        The weights used.
    method : str
        How the weights were chosen.
    notes : list of Message
        Caveats of the scoring (e.g. dimensions without data), in both languages.
    """

    dimensions: pd.DataFrame
    overall: pd.DataFrame
    dimension_weights: dict[str, float]
    method: str = "equal"
    notes: list[Message] = field(default_factory=list)


def _dimension_scores(graded: pd.DataFrame) -> pd.DataFrame:
    usable = graded[
        graded["normalised"].notna() & ~graded["red_line"] & (graded["grade"] != "info")
    ]
    if usable.empty:
        return pd.DataFrame(columns=["level", "unit_id", "dimension", "score", "n_indicators"])
    g = usable.groupby(["level", "unit_id", "dimension"])["normalised"]
    out = pd.DataFrame({"score": g.mean(), "n_indicators": g.size()}).reset_index()
    return out


def _overall(
    dims: pd.DataFrame, graded: pd.DataFrame, weights: Mapping[str, float]
) -> pd.DataFrame:
    rows = []
    vetoes = graded[graded["red_line"] & (graded["grade"] == "fail")]
    veto_map = (
        vetoes.groupby(["level", "unit_id"])["indicator"].apply(lambda s: sorted(set(s))).to_dict()
    )
    keys = graded[["level", "unit_id"]].drop_duplicates().itertuples(index=False)
    dim_idx = dims.set_index(["level", "unit_id", "dimension"])["score"] if len(dims) else None
    for level, unit_id in keys:
        total_w = 0.0
        acc = 0.0
        for d, w in weights.items():
            if dim_idx is not None and (level, unit_id, d) in dim_idx.index:
                acc += w * float(dim_idx[(level, unit_id, d)])
                total_w += w
        value = acc / total_w if total_w > 0 else math.nan
        veto = veto_map.get((level, unit_id), [])
        grade = "fail" if veto else grade_overall(value)
        rows.append(
            {
                "level": level,
                "unit_id": unit_id,
                "score": value,
                "grade": grade,
                "vetoed_by": ",".join(veto),
            }
        )
    return pd.DataFrame(rows, columns=["level", "unit_id", "score", "grade", "vetoed_by"])


def score(
    graded: pd.DataFrame,
    *,
    dimension_weights: Mapping[str, float] | None = None,
    method: str = "equal",
) -> Scores:
    """Aggregate graded values into dimension and overall scores.

    Within a dimension, indicators are averaged with equal weights over those with a value
    (missing data shrinks the set, it never counts as zero). Dimensions are combined with
    ``dimension_weights`` (renormalised over the dimensions that have data). Red-line indicators
    are not averaged: a red-line fail makes the unit's overall grade "fail" whatever its score.
    """
    weights = (
        equal_weights(list(DIMENSIONS))
        if dimension_weights is None
        else validate_weights(dimension_weights, list(DIMENSIONS), what="dimension")
    )
    dims = _dimension_scores(graded)
    overall = _overall(dims, graded, weights)
    notes: list[Message] = []
    missing = [
        d
        for d in DIMENSIONS
        if dims.empty or d not in set(dims.loc[dims["level"] == "district", "dimension"])
    ]
    if missing:
        names = dimensions()
        dims_named = [Message(names[d][0], d) for d in missing]
        notes.append(message("msg_dimensions_without_data", dimensions=dims_named))
    return Scores(dims, overall, dict(weights), method, notes)


def sensitivity(
    scores: Scores,
    *,
    level: str = "district",
    draws: int = 1000,
    concentration: float = 50.0,
    seed: int = 0,
) -> dict[str, object]:
    """How the overall grades and ranks move when the dimension weights are perturbed.

    Weights are drawn from a Dirichlet distribution centred on the declared weights
    (``concentration`` 50 gives each weight a relative spread of roughly ±35 % for seven equal
    weights). Reported per unit of ``level``: the share of draws keeping the base grade, the
    5th–95th percentile of the score and, with more than one unit, the share keeping the base rank.
    """
    dims = scores.dimensions[scores.dimensions["level"] == level]
    base = scores.overall[scores.overall["level"] == level].set_index("unit_id")
    if dims.empty or base.empty:
        return {"level": level, "draws": 0, "units": {}}
    table = dims.pivot(index="unit_id", columns="dimension", values="score")
    names = list(table.columns)
    w0 = np.array([scores.dimension_weights[d] for d in names])
    w0 = w0 / w0.sum()
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.maximum(w0 * concentration, 1e-6), size=draws)
    values = table.to_numpy()
    present = ~np.isnan(values)
    filled = np.nan_to_num(values)
    num = filled @ w.T
    den = present.astype(float) @ w.T
    with np.errstate(invalid="ignore", divide="ignore"):
        sc = num / den  # units × draws
    vetoed = base.reindex(table.index)["vetoed_by"].fillna("").astype(bool).to_numpy()
    grades = np.vectorize(grade_overall)(sc)
    grades[vetoed, :] = "fail"
    base_grade = base.reindex(table.index)["grade"].to_numpy()
    keep_grade = (grades == base_grade[:, None]).mean(axis=1)
    result: dict[str, object] = {
        "level": level,
        "draws": draws,
        "concentration": concentration,
        "seed": seed,
        "units": {},
    }
    ranks = None
    if len(table) > 1:
        order = (-np.nan_to_num(sc, nan=-1.0)).argsort(axis=0).argsort(axis=0)
        base_scores = base.reindex(table.index)["score"].to_numpy()
        base_rank = (-np.nan_to_num(base_scores, nan=-1.0)).argsort().argsort()
        ranks = (order == base_rank[:, None]).mean(axis=1)
    units: dict[str, dict[str, float | str]] = {}
    for i, uid in enumerate(table.index):
        entry: dict[str, float | str] = {
            "base_score": float(base.loc[uid, "score"]),
            "base_grade": str(base.loc[uid, "grade"]),
            "share_same_grade": float(keep_grade[i]),
            "score_p05": float(np.nanpercentile(sc[i], 5)),
            "score_p95": float(np.nanpercentile(sc[i], 95)),
        }
        if ranks is not None:
            entry["share_same_rank"] = float(ranks[i])
        units[str(uid)] = entry
    result["units"] = units
    return result
