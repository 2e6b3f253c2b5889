"""Facility indicators: functional mix, areas per resident, heritage inventory, completeness."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.categories import categories
from citycheck.city import City
from citycheck.evaluate.indicators._overlay import area_in_units, count_in_units, residents_in_units
from citycheck.evaluate.indicators.registry import register

__all__ = [
    "MIX_CATEGORIES",
    "area_per_resident",
    "completeness",
    "functional_mix",
    "heritage_count",
    "park_per_capita",
    "shelter_per_capita",
    "sports_per_capita",
]

#: Categories counted for functional mix (overlapping duplicates such as park/open_space and
#: the school of unknown level are left out so that one feature counts once).
MIX_CATEGORIES = tuple(
    c for c in categories() if c not in ("open_space", "school_other", "heritage")
)


@register("V01")
def functional_mix(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Shannon evenness H / ln K of facility categories in each unit (0 = one kind, 1 = even).

    K is the fixed number of categories in :data:`MIX_CATEGORIES`, so values compare across
    units and cities. A unit with no facility scores 0.
    """
    fac = city.facilities[city.facilities["category"].isin(MIX_CATEGORIES)]
    pts = fac.geometry.representative_point()
    cols = {}
    for cat in MIX_CATEGORIES:
        sel = (fac["category"] == cat).to_numpy()
        cols[cat] = count_in_units(pts[sel], units, cat).to_numpy()
    counts = pd.DataFrame(cols, index=pd.Index(units["unit_id"], name="unit_id"))
    total = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts.div(total, axis=0)
        h = -(p * np.log(p.where(p > 0))).sum(axis=1)
    return (h / np.log(len(MIX_CATEGORIES))).where(total > 0, 0.0).rename("V01")


def area_per_resident(city: City, units: gpd.GeoDataFrame, category: str, name: str) -> pd.Series:
    """Mapped area (m²) of one category's polygons inside each unit per resident of the unit."""
    fac = city.facilities_of(category)
    fac = fac[fac.geom_type.isin(["Polygon", "MultiPolygon"])]
    geom = shapely.union_all(fac.geometry.to_numpy()) if len(fac) else None
    area = area_in_units(geom, units, name)
    res = residents_in_units(city, units)
    if city.buildings["residents"].isna().all():
        return pd.Series(np.nan, index=area.index, name=name)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (area / res).where(res > 0).rename(name)


@register("L07b")
def sports_per_capita(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Sports-ground area per resident (m²/person)."""
    return area_per_resident(city, units, "sports", "L07b")


@register("G03")
def park_per_capita(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Public park area per resident (m²/person)."""
    return area_per_resident(city, units, "park", "G03")


@register("S05")
def shelter_per_capita(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Mapped emergency shelter area per resident (m²/person)."""
    return area_per_resident(city, units, "shelter", "S05")


@register("C01b")
def heritage_count(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Heritage objects mapped in each unit."""
    h = city.facilities_of("heritage")
    return count_in_units(h.geometry.representative_point(), units, "C01b")


@register("Z05")
def completeness(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Share (%) of life-circle categories with at least one facility mapped within reach.

    "Within reach" is inside the unit grown by the category's walking limit, so that a school
    just across the boundary counts.
    """
    circle = [c for c in categories().values() if c.life_circle is not None]
    out = pd.Series(0.0, index=pd.Index(units["unit_id"], name="unit_id"), name="Z05")
    for i, unit in enumerate(units.geometry.to_numpy()):
        present = 0
        for cat in circle:
            fac = city.facilities_of(cat.id)
            if len(fac) and fac.intersects(unit.buffer(cat.walk_limit_m or 0.0)).any():
                present += 1
        out.iloc[i] = 100.0 * present / len(circle)
    return out
