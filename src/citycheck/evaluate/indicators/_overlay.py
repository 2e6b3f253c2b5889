"""Shared geometric aggregation of layers onto spatial units (internal)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.city import BUILT_CLASSES, City

__all__ = [
    "area_in_units",
    "built_up_land",
    "count_in_units",
    "length_in_units",
    "residents_in_units",
    "sum_by_point_in_units",
]


def _empty(units: gpd.GeoDataFrame, name: str) -> pd.Series:
    return pd.Series(0.0, index=pd.Index(units["unit_id"], name="unit_id"), name=name)


def area_in_units(geom: shapely.Geometry | None, units: gpd.GeoDataFrame, name: str) -> pd.Series:
    """Area (m²) of ``geom`` inside each unit."""
    out = _empty(units, name)
    if geom is None or geom.is_empty:
        return out
    shapely.prepare(geom)
    inter = shapely.intersection(units.geometry.to_numpy(), geom)
    out[:] = shapely.area(inter)
    return out


def length_in_units(lines: gpd.GeoDataFrame, units: gpd.GeoDataFrame, name: str) -> pd.Series:
    """Length (m) of ``lines`` inside each unit."""
    out = _empty(units, name)
    if lines.empty:
        return out
    tree = shapely.STRtree(lines.geometry.to_numpy())
    geoms = lines.geometry.to_numpy()
    for i, unit in enumerate(units.geometry.to_numpy()):
        idx = tree.query(unit, predicate="intersects")
        if len(idx):
            out.iloc[i] = float(shapely.length(shapely.intersection(geoms[idx], unit)).sum())
    return out


def sum_by_point_in_units(
    points: gpd.GeoSeries, values: pd.Series | np.ndarray, units: gpd.GeoDataFrame, name: str
) -> pd.Series:
    """Sum ``values`` of the points falling in each unit (a point on a shared edge counts once)."""
    out = _empty(units, name)
    if len(points) == 0:
        return out
    vals = np.asarray(values, dtype=float)
    tree = shapely.STRtree(points.to_numpy())
    unit_idx, point_idx = tree.query(units.geometry.to_numpy(), predicate="intersects")
    seen = pd.DataFrame({"u": unit_idx, "p": point_idx}).drop_duplicates("p")
    sums = pd.Series(vals[seen["p"].to_numpy()]).groupby(seen["u"].to_numpy()).sum()
    out.iloc[sums.index.to_numpy()] = sums.to_numpy()
    return out


def count_in_units(points: gpd.GeoSeries, units: gpd.GeoDataFrame, name: str) -> pd.Series:
    """Number of points in each unit."""
    return sum_by_point_in_units(points, np.ones(len(points)), units, name)


def residents_in_units(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Residents per unit (buildings by their representative point)."""
    b = city.buildings
    return sum_by_point_in_units(
        b.geometry.representative_point(), b["residents"].fillna(0.0), units, "residents"
    )


def built_up_land(city: City) -> shapely.Geometry:
    """Built-up land: built land-use polygons ∪ building footprints, inside the boundary."""
    parts = list(city.landuse.loc[city.landuse["lu_class"].isin(BUILT_CLASSES)].geometry)
    parts += list(city.buildings.geometry)
    if not parts:
        return shapely.Polygon()
    return shapely.intersection(shapely.union_all(parts), city.boundary)
