"""Compare the cities of a batch: ranking, its sensitivity to the weights, dimension profiles.

Scores are taken as each city's run computed them, against the catalogue's fixed targets; nothing
is re-normalised across the batch (no min-max over the cities compared), so a city's score and the
ranking built from it stay comparable across batches and years ("fixed goalposts").

Weight sensitivity follows the Monte Carlo practice of composite-indicator construction (OECD/JRC
*Handbook on Constructing Composite Indicators*, 2008, §1.7 uncertainty and sensitivity analysis):
weights are drawn from a Dirichlet distribution centred on the declared weights
(alpha = concentration x w, so E[w'] = w), the cities are re-ranked for each draw, and each city's
share of draws in which it keeps its rank is reported with the 5-95 % range of its rank.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from citycheck.evaluate.catalogue import DIMENSIONS
from citycheck.labels import labels_under

__all__ = [
    "COMPARISON_COLUMNS",
    "composite_scores",
    "dimension_profiles",
    "profiles_from_runs",
    "rank_cities",
    "weight_sensitivity",
    "write_batch_comparison",
    "write_comparison",
]

#: Columns of the comparison table with Chinese and English names.
COMPARISON_COLUMNS: dict[str, tuple[str, str]] = labels_under("batch.comparison")


def _weights(profiles: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.Series:
    if weights is None:
        w = pd.Series(1.0, index=profiles.columns)
    else:
        # a weight for a catalogue dimension that no city has a score for is simply unused
        unknown = [k for k in weights if k not in profiles.columns and k not in DIMENSIONS]
        if unknown:
            raise ValueError(f"weights for unknown dimension(s) {unknown}; known: "
                             f"{list(profiles.columns)}")  # fmt: skip
        w = pd.Series({c: float(weights.get(c, 0.0)) for c in profiles.columns})
    given = pd.Series({str(k): float(v) for k, v in (weights or {}).items()}, dtype=float)
    if (given < 0).any() or not np.isfinite(given).all():
        raise ValueError(f"weights must be finite and non-negative: {dict(weights or {})}")
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"weights must be finite, non-negative and not all zero: {w.to_dict()}")
    return w / w.sum()


def composite_scores(
    profiles: pd.DataFrame, weights: Mapping[str, float] | None = None
) -> pd.Series:
    """Weighted mean of each city's dimension scores.

    A city missing a dimension is scored on the dimensions it has (weights renormalised over
    them); a city with none gets NaN.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Cities x dimensions, scores on one scale (e.g. 0-100).
    weights : mapping, optional
        Dimension -> weight (normalised to sum 1); equal weights by default.
    """
    w = _weights(profiles, weights).to_numpy()
    values = profiles.to_numpy(dtype=float)
    have = ~np.isnan(values)
    num = np.where(have, values, 0.0) @ w
    den = have.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, np.nan)
    return pd.Series(score, index=profiles.index, name="score")


def rank_cities(profiles: pd.DataFrame, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Composite score and rank (1 = best; ties share the better rank; NaN scores unranked)."""
    score = composite_scores(profiles, weights)
    out = pd.DataFrame({"score": score})
    out["rank"] = score.rank(ascending=False, method="min")
    out["dimensions"] = profiles.notna().sum(axis=1)
    return out.sort_values(["rank", "score"], na_position="last")


def weight_sensitivity(
    profiles: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    *,
    n_draws: int = 1000,
    concentration: float = 50.0,
    seed: int = 0,
) -> pd.DataFrame:
    """How often each city keeps its rank when the weights are perturbed.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Cities x dimensions.
    weights : mapping, optional
        Declared weights (equal by default).
    n_draws : int
        Monte Carlo draws.
    concentration : float
        Dirichlet concentration; larger is a smaller perturbation (a weight w varies with standard
        deviation sqrt(w(1-w)/(concentration+1))).
    seed : int
        Random seed (results are reproducible).

    Returns
    -------
    pandas.DataFrame
        :func:`rank_cities` plus ``keep_rank_share``, ``rank_p05``, ``rank_median``, ``rank_p95``.
    """
    if n_draws < 1 or concentration <= 0:
        raise ValueError("n_draws must be >= 1 and concentration > 0")
    base = rank_cities(profiles, weights)
    w = _weights(profiles, weights)
    active = w.to_numpy() > 0
    rng = np.random.default_rng(seed)
    draws = np.zeros((n_draws, len(w)))
    draws[:, active] = rng.dirichlet(concentration * w.to_numpy()[active], size=n_draws)
    values = profiles.to_numpy(dtype=float)
    have = ~np.isnan(values)
    num = np.where(have, values, 0.0) @ draws.T  # cities x draws
    den = have.astype(float) @ draws.T
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(den > 0, num / den, np.nan)
    ranks = pd.DataFrame(scores, index=profiles.index).rank(ascending=False, method="min")
    base_rank = base["rank"].reindex(profiles.index).to_numpy()
    keep = (ranks.to_numpy() == base_rank[:, None]).mean(axis=1)
    out = base.copy()
    stats = pd.DataFrame(
        {
            "keep_rank_share": keep,
            "rank_p05": np.nanpercentile(ranks.to_numpy(), 5, axis=1),
            "rank_median": np.nanmedian(ranks.to_numpy(), axis=1),
            "rank_p95": np.nanpercentile(ranks.to_numpy(), 95, axis=1),
        },
        index=profiles.index,
    )
    return out.join(stats)


def dimension_profiles(profiles: pd.DataFrame) -> pd.DataFrame:
    """Long table of each city's score and rank within every dimension."""
    ranks = profiles.rank(ascending=False, method="min")
    long = profiles.stack().rename("score").to_frame()
    long["rank_in_dimension"] = ranks.stack()
    long.index.names = ["city", "dimension"]
    return long.reset_index()


def _dimension_scores(doc: dict) -> dict[str, float]:
    scores = doc.get("scores") or {}
    dims = scores.get("dimensions", scores) if isinstance(scores, dict) else scores
    out: dict[str, float] = {}
    if isinstance(dims, dict):
        for key, value in dims.items():
            if isinstance(value, dict):
                value = value.get("score", value.get("value"))
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[str(key)] = float(value)
    elif isinstance(dims, list):
        # the run folder's scores hold every level; the city's own profile is the district level
        for item in dims:
            if not isinstance(item, dict) or item.get("level", "district") != "district":
                continue
            key, value = item.get("dimension", item.get("id")), item.get("score")
            if key is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                out[str(key)] = float(value)
    return out


def profiles_from_runs(run_dirs: Mapping[str, str | Path]) -> pd.DataFrame:
    """Read each city's ``results.json`` and collect its dimension scores (cities x dimensions).

    Parameters
    ----------
    run_dirs : mapping
        City id -> run folder.

    Raises
    ------
    ValueError
        A ``results.json`` that cannot be read, naming the file.
    """
    rows = {}
    for city, run_dir in run_dirs.items():
        path = Path(run_dir) / "results.json"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read results ({exc})") from exc
        rows[city] = _dimension_scores(doc)
    return pd.DataFrame.from_dict(rows, orient="index").sort_index(axis=1)


def write_comparison(
    out_dir: str | Path,
    profiles: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    *,
    n_draws: int = 1000,
    concentration: float = 50.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Write ``comparison.csv`` (ranking + sensitivity, bilingual header row names in
    ``comparison.json``) and ``profiles.csv`` into ``out_dir``; return the ranking table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = weight_sensitivity(
        profiles, weights, n_draws=n_draws, concentration=concentration, seed=seed
    )
    table.index.name = "city"
    table.join(profiles).to_csv(out_dir / "comparison.csv")
    dimension_profiles(profiles).to_csv(out_dir / "profiles.csv", index=False)
    meta = {
        "weights": _weights(profiles, weights).to_dict() if len(profiles.columns) else {},
        "n_draws": n_draws,
        "concentration": concentration,
        "seed": seed,
        "columns": {k: {"zh": zh, "en": en} for k, (zh, en) in COMPARISON_COLUMNS.items()},
        "goalposts": "fixed: each city's scores as its run computed them against catalogue targets",
        "ranking": json.loads(table.reset_index().to_json(orient="records")),
    }
    (out_dir / "comparison.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return table


def write_batch_comparison(
    out: Path,
    entries,  # type: ignore[no-untyped-def]
    runs: Mapping[str, str | Path],
    weights: Mapping[str, float] | None,
    *,
    n_draws: int = 1000,
    map_by: str = "score",
) -> tuple[Path, tuple[Path, Path] | None] | None:
    """Compare the cities whose runs succeeded: OUT/comparison/ (ranking, sensitivity,
    profiles) and, where the cities have outlines, ``cities.geojson`` and the map of all cities.

    Returns
    -------
    (comparison.csv, (map png, map page) or None), or None when no run has a profile.

    Raises
    ------
    ValueError
        The weights name no dimension of the profiles (from :func:`write_comparison`).
    """
    from citycheck.batch.comparison_map import write_comparison_map
    from citycheck.batch.outlines import city_outlines

    if not runs:
        return None
    profiles = profiles_from_runs(runs)
    if not profiles.shape[1]:
        return None
    folder = out / "comparison"
    ranking = write_comparison(folder, profiles, weights, n_draws=n_draws)
    outlines = city_outlines(entries, runs, ranking.join(profiles))
    drawn = None
    if len(outlines):
        outlines.to_file(folder / "cities.geojson", driver="GeoJSON")
        png, page, _ = write_comparison_map(folder, outlines, map_by, runs)
        drawn = (png, page)
    return folder / "comparison.csv", drawn
