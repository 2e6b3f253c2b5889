"""Outlines of the cities of a batch, for the map of all cities (WGS84 GeoJSON)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from citycheck.batch.manifest import CityEntry

__all__ = ["city_outlines"]

logger = logging.getLogger(__name__)


def _outline(entry: CityEntry, run_dir: Path | None):
    if entry.boundary is not None and entry.boundary.is_file():
        gdf = gpd.read_file(entry.boundary)
        if gdf.crs is None:
            gdf = gdf.set_crs(4326)
        return gdf.to_crs(4326).union_all()
    if run_dir is not None and (run_dir / "units.gpkg").is_file():
        try:
            gdf = gpd.read_file(run_dir / "units.gpkg", layer="district")
            return gdf.to_crs(4326).union_all()
        except Exception as exc:  # a run without a district layer: no outline
            logger.info("no district layer in %s: %s", run_dir, exc)
    return None


def city_outlines(
    entries: Sequence[CityEntry], run_dirs: Mapping[str, str | Path], table: pd.DataFrame
) -> gpd.GeoDataFrame:
    """One WGS84 outline per city (manifest boundary, else the run's district units) with the
    columns of ``table`` (indexed by city id) joined; cities without an outline are left out."""
    rows, geoms = [], []
    for entry in entries:
        run_dir = Path(run_dirs[entry.id]) if entry.id in run_dirs else None
        geom = _outline(entry, run_dir)
        if geom is None:
            continue
        rows.append({"city": entry.id, "name": entry.name})
        geoms.append(geom)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    if len(gdf):
        gdf = gdf.join(table, on="city")
    return gdf
