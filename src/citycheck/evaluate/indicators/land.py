"""Land indicators: built-up land, intensity, clusters, density, blue-green and open space."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.city import City
from citycheck.evaluate.indicators._overlay import (
    area_in_units,
    built_up_land,
    length_in_units,
    residents_in_units,
)
from citycheck.evaluate.indicators.registry import register

__all__ = [
    "OVER_DENSE_PER_KM2",
    "STREET_WIDTH_M",
    "blue_green_share",
    "built_up_per_capita",
    "development_intensity",
    "largest_cluster_km2",
    "open_space_share",
    "over_dense_land_km2",
]

#: Resident density above which land counts as over-dense (M21: 1.5万人/km²).
OVER_DENSE_PER_KM2 = 15_000.0

#: Typical carriageway-plus-sidewalk width by street class, metres (a citycheck convention for
#: SDG 11.7.1 street area where OSM has no width; GB 50220 / CJJ 37-2012 class ranges).
STREET_WIDTH_M: dict[str, float] = {
    "motorway": 30,
    "trunk": 30,
    "primary": 25,
    "secondary": 20,
    "tertiary": 15,
    "motorway_link": 10,
    "trunk_link": 10,
    "primary_link": 10,
    "secondary_link": 10,
    "tertiary_link": 8,
    "unclassified": 8,
    "residential": 8,
    "living_street": 6,
    "road": 8,
    "service": 5,
    "pedestrian": 8,
    "footway": 2.5,
    "path": 2,
    "cycleway": 2.5,
    "steps": 2,
    "track": 3,
}


def _ratio(num: pd.Series, den: pd.Series, scale: float = 1.0) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num.astype(float) / den.astype(float) * scale
    return out.where(den > 0)


@register("U02")
def built_up_per_capita(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Built-up land per resident (m²/person); NaN where no residents are known."""
    area = area_in_units(built_up_land(city), units, "U02")
    return _ratio(area, residents_in_units(city, units)).rename("U02")


@register("U03")
def development_intensity(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Built-up land as a share (%) of each unit's area."""
    area = area_in_units(built_up_land(city), units, "U03")
    return _ratio(area, pd.Series(units.area.to_numpy(), index=area.index), 100.0).rename("U03")


@register("U03b")
def largest_cluster_km2(
    city: City, units: gpd.GeoDataFrame, *, dilate_m: float = 50.0
) -> pd.Series:
    """Area (km²) of the largest built-up cluster: footprints closed by ``dilate_m``."""
    out = pd.Series(0.0, index=pd.Index(units["unit_id"], name="unit_id"), name="U03b")
    if city.buildings.empty:
        return out
    merged = shapely.union_all(city.buildings.geometry.buffer(dilate_m).to_numpy())
    closed = merged.buffer(-dilate_m)
    parts = shapely.get_parts(closed)
    for i, unit in enumerate(units.geometry.to_numpy()):
        areas = shapely.area(shapely.intersection(parts, unit))
        out.iloc[i] = float(areas.max()) / 1e6 if len(areas) else 0.0
    return out


@register("U04")
def over_dense_land_km2(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Area (km²) of grid cells denser than 15,000 residents/km², per unit.

    Densities are measured on the City's grid (``city.units["grid"]``); a cell counts for the
    unit containing its centre. NaN where no residents are known.
    """
    if city.buildings["residents"].isna().all():
        return pd.Series(np.nan, index=pd.Index(units["unit_id"], name="unit_id"), name="U04")
    grid = city.units["grid"]
    res = residents_in_units(city, grid)
    km2 = grid.area.to_numpy() / 1e6
    dense = (res.to_numpy() / np.where(km2 > 0, km2, np.nan)) > OVER_DENSE_PER_KM2
    centres = grid.geometry.representative_point()
    out = pd.Series(0.0, index=pd.Index(units["unit_id"], name="unit_id"), name="U04")
    for i, unit in enumerate(units.geometry.to_numpy()):
        inside = shapely.contains_xy(unit, centres.x.to_numpy(), centres.y.to_numpy())
        out.iloc[i] = float(km2[dense & inside].sum())
    return out


@register("G05")
def blue_green_share(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Green land cover and water as a share (%) of each unit's area."""
    lu = city.landuse[city.landuse["lu_class"].isin(["green", "water"])]
    geom = shapely.union_all(lu.geometry.to_numpy()) if len(lu) else None
    area = area_in_units(geom, units, "G05")
    return _ratio(area, pd.Series(units.area.to_numpy(), index=area.index), 100.0).rename("G05")


@register("G02")
def open_space_share(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """(Open public space + street area) / built-up land, % (SDG 11.7.1 first component).

    Street area is street length × :data:`STREET_WIDTH_M` by class; open space is the union of
    mapped open-space polygons (parks, squares, playgrounds) not already counted as street.
    """
    space = city.facilities_of("open_space")
    space = space[space.geom_type.isin(["Polygon", "MultiPolygon"])]
    geom = shapely.union_all(space.geometry.to_numpy()) if len(space) else None
    open_area = area_in_units(geom, units, "G02")
    streets = city.streets[city.streets["highway"].isin(STREET_WIDTH_M)]
    street_area = pd.Series(0.0, index=open_area.index)
    for cls, width in STREET_WIDTH_M.items():
        sub = streets[streets["highway"] == cls]
        if len(sub):
            street_area = street_area + length_in_units(sub, units, "len").to_numpy() * width
    built = area_in_units(built_up_land(city), units, "built")
    return _ratio(open_area + street_area, built, 100.0).rename("G02")
