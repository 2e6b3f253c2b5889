"""Street indicators: road-network density and consolidated intersection density."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.access.indicators import merge_nearby
from citycheck.city import PUBLIC_ROADS, City
from citycheck.evaluate.indicators._overlay import (
    area_in_units,
    built_up_land,
    count_in_units,
    length_in_units,
)
from citycheck.evaluate.indicators.registry import register

__all__ = [
    "INTERSECTION_STREETS",
    "consolidated_intersections",
    "intersection_density",
    "merge_nearby",
    "road_density",
    "street_nodes",
]

#: Street classes whose crossings count as intersections: public roads and pedestrian streets
#: (campus footpaths and service ways would count every path junction inside a compound).
INTERSECTION_STREETS = PUBLIC_ROADS | {"pedestrian"}


def street_nodes(
    lines: gpd.GeoSeries, *, precision_m: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of a set of lines with their degree (number of incident segments).

    A vertex shared by two crossing ways has degree 4, a way's end degree 1, and a vertex in
    the middle of one way degree 2; an intersection is a vertex of degree ≥ 3.

    Returns
    -------
    xy : ndarray (n, 2)
        Unique vertex coordinates.
    degree : ndarray (n,)
    """
    parts = shapely.get_parts(lines.to_numpy())
    parts = parts[shapely.get_type_id(parts) == 1]  # LineString
    if len(parts) == 0:
        return np.empty((0, 2)), np.empty(0, dtype=int)
    coords, which = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(which, minlength=len(parts))
    # each vertex gets one incident segment per neighbour along its line: ends 1, inner 2
    inc = np.full(len(coords), 2, dtype=int)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ends = starts + counts - 1
    inc[starts] = 1
    inc[ends] = 1
    inc[starts[counts == 1]] = 0
    keys = np.round(coords / precision_m).astype(np.int64)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    degree = np.bincount(inverse.ravel(), weights=inc).astype(int)
    return uniq.astype(float) * precision_m, degree


def consolidated_intersections(lines: gpd.GeoSeries, *, tolerance_m: float = 15.0) -> np.ndarray:
    """Intersections of a street network, nearby ones merged into one.

    Intersections whose ``tolerance_m`` buffers overlap (centres closer than 2 × tolerance) are
    merged by single linkage into one, placed at the cluster's centroid — the convention of
    osmnx's ``consolidate_intersections(tolerance=15)`` used by GHSCI and Cerin et al. (2022).

    Returns
    -------
    ndarray (k, 2)
        Coordinates of the consolidated intersections.
    """
    xy, degree = street_nodes(lines)
    return merge_nearby(xy[degree >= 3], within_m=2 * tolerance_m)


@register("L12")
def road_density(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Public road length per km² (km/km²).

    The district value divides by built-up land (the MOHURD definition); smaller units divide by
    their own area (a block is built-up land by construction).
    """
    roads = city.streets[city.streets["highway"].isin(PUBLIC_ROADS)]
    length_km = length_in_units(roads, units, "L12") / 1000.0
    area = pd.Series(units.area.to_numpy() / 1e6, index=length_km.index)
    if len(units) == 1 and units["unit_id"].iloc[0] == "district":
        area = area_in_units(built_up_land(city), units, "built") / 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (length_km / area).where(area > 0)
    return out.rename("L12")


@register("L13")
def intersection_density(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Consolidated intersections (15 m tolerance) per km² of each unit."""
    streets = city.streets[city.streets["highway"].isin(INTERSECTION_STREETS)]
    pts = consolidated_intersections(streets.geometry)
    counts = count_in_units(gpd.GeoSeries(shapely.points(pts), crs=city.crs), units, "L13")
    area = pd.Series(units.area.to_numpy() / 1e6, index=counts.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (counts / area).where(area > 0).rename("L13")
