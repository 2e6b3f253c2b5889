"""The map of all cities of a batch: outlines coloured by composite score, a dimension or an
indicator (``citycheck batch --map-by``), written beside the comparison table."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from citycheck.batch.maps import LegendClass, write_map
from citycheck.evaluate.catalogue import DIMENSIONS, catalogue, dimensions

__all__ = ["SCORE_BINS", "indicator_from_runs", "map_title", "write_comparison_map"]

#: Scores are 0–100 against fixed goalposts, so the map's classes are fixed too.
SCORE_BINS = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)


def indicator_from_runs(run_dirs: Mapping[str, str | Path], indicator: str) -> pd.Series:
    """Each city's district-level value of ``indicator`` from its ``results.json`` (NaN if none).

    Raises
    ------
    ValueError
        When a ``results.json`` cannot be read (naming the file).
    """
    out = {}
    for city, run_dir in run_dirs.items():
        path = Path(run_dir) / "results.json"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read results ({exc})") from exc
        value = math.nan
        for row in doc.get("indicators", []):
            if row.get("id") == indicator and row.get("level") == "district":
                value = math.nan if row.get("value") is None else float(row["value"])
                break
        out[city] = value
    return pd.Series(out, name=indicator, dtype=float)


def map_title(by: str) -> tuple[str, str, str]:
    """Chinese title, English title and unit of what ``--map-by`` names.

    Raises
    ------
    ValueError
        When ``by`` is neither ``score``, a dimension nor a catalogue indicator.
    """
    if by == "score":
        return "综合得分", "Composite score", "0–100"
    if by in DIMENSIONS:
        zh, en = dimensions()[by]
        return f"{zh}得分", f"{en} score", "0–100"
    cat = catalogue()
    if by in cat:
        ind = cat[by]
        return ind.zh, ind.en, ind.unit
    raise ValueError(
        f"--map-by value {by!r}: expected 'score', a dimension ({', '.join(DIMENSIONS)}) "
        "or an indicator id of the catalogue"
    )


def write_comparison_map(
    out_dir: str | Path,
    outlines: gpd.GeoDataFrame,
    by: str,
    run_dirs: Mapping[str, str | Path],
) -> tuple[Path, Path, list[LegendClass]]:
    """Write ``map_<by>.png`` and ``map_<by>.html`` of the batch's cities.

    Parameters
    ----------
    outlines : geopandas.GeoDataFrame
        :func:`citycheck.batch.outlines.city_outlines` output (``city``, ``name``, the ranking's
        ``score`` and the dimension columns when joined).
    by : str
        ``"score"``, a dimension id or an indicator id.
    run_dirs : mapping
        City id -> run folder (for indicator values).
    """
    zh, en, unit = map_title(by)
    gdf = outlines.copy()
    if by == "score" or by in DIMENSIONS:
        if by not in gdf.columns:
            gdf[by] = math.nan
        bins: tuple[float, ...] | None = SCORE_BINS
    else:
        gdf[by] = gdf["city"].map(indicator_from_runs(run_dirs, by))
        bins = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0) if unit == "%" else None
    gdf["label"] = [
        f"{n} ({c})" if n and n != c else str(c)
        for n, c in zip(gdf["name"].fillna(""), gdf["city"], strict=True)
    ]
    stem = "map_" + by.replace(".", "_")
    return write_map(
        out_dir, stem, gdf, by, title_zh=zh, title_en=en, name_column="label", unit=unit,
        bins=bins,
    )  # fmt: skip
