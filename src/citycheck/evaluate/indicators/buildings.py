"""Building indicators: super high-rise, tall residential, height data, heights near heritage."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.city import City
from citycheck.evaluate.indicators._overlay import count_in_units
from citycheck.evaluate.indicators.registry import register

__all__ = [
    "HERITAGE_BUFFER_M",
    "HERITAGE_CONTROL_HEIGHT_M",
    "height_data_share",
    "residential_above_80m",
    "super_high_rise",
    "tall_near_heritage",
]

#: Default control height near heritage (GB 50352-2019: buildings up to 24 m are multi-storey);
#: replace with the protection plan's figure.
HERITAGE_CONTROL_HEIGHT_M = 24.0
#: Distance from a heritage object within which the control height applies (default).
HERITAGE_BUFFER_M = 100.0


def _known_height(city: City) -> gpd.GeoDataFrame:
    """Buildings whose height is tagged or derived from tagged levels."""
    b = city.buildings
    return b[b["levels_source"] != "default"]


def _count_where(city: City, units: gpd.GeoDataFrame, mask: pd.Series, name: str) -> pd.Series:
    b = city.buildings[mask.reindex(city.buildings.index, fill_value=False)]
    return count_in_units(b.geometry.representative_point(), units, name)


@register("S07")
def super_high_rise(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Buildings taller than 150 m (tagged height, or tagged levels × 3 m)."""
    known = _known_height(city)
    return _count_where(city, units, known["height_est_m"] > 150.0, "S07")


@register("S07b")
def residential_above_80m(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Residential buildings taller than 80 m (tagged height, or tagged levels × 3 m)."""
    known = _known_height(city)
    return _count_where(city, units, known["residential"] & (known["height_est_m"] > 80.0), "S07b")


@register("S07c")
def height_data_share(city: City, units: gpd.GeoDataFrame) -> pd.Series:
    """Share (%) of buildings with levels or height tagged; NaN where a unit has no building."""
    b = city.buildings
    pts = b.geometry.representative_point()
    total = count_in_units(pts, units, "S07c")
    known = count_in_units(pts[b["levels_source"] != "default"], units, "S07c")
    with np.errstate(divide="ignore", invalid="ignore"):
        return (known / total * 100.0).where(total > 0).rename("S07c")


@register("C03")
def tall_near_heritage(
    city: City,
    units: gpd.GeoDataFrame,
    *,
    control_height_m: float = HERITAGE_CONTROL_HEIGHT_M,
    buffer_m: float = HERITAGE_BUFFER_M,
) -> pd.Series:
    """Buildings within ``buffer_m`` of heritage whose known height exceeds the control height.

    Heritage buildings themselves are excluded (a pagoda is not a breach of its own setting).
    """
    heritage = city.facilities_of("heritage")
    if heritage.empty:
        return pd.Series(0.0, index=pd.Index(units["unit_id"], name="unit_id"), name="C03")
    zone = shapely.union_all(heritage.geometry.buffer(buffer_m).to_numpy())
    known = _known_height(city)
    tall = known[
        (known["height_est_m"] > control_height_m) & ~known["osm_id"].isin(set(heritage["osm_id"]))
    ]
    near = tall[tall.intersects(zone)]
    return count_in_units(near.geometry.representative_point(), units, "C03")
