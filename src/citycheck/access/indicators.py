"""The catalogue's walking-network indicators as pure functions.

Per-building functions take the per-building table of :class:`~citycheck.access.AccessResult`
(``dist_m_<category>`` columns) and return a boolean Series named after the indicator, indexed like
the table. :func:`indicator_values` turns them into the long table the evaluation pipeline takes
(``indicator``, ``level``, ``unit_id``, ``value``) with shares in percent per unit.

Thresholds and their sources:

- life circles and facility radii: GB 50180-2018 appendices B and C (categories.toml);
- park service radius (G01): 公园绿地服务半径覆盖率 (MOHURD 2021): ≥5000 m² parks within 500 m,
  2000–5000 m² parks within 300 m;
- SDG 11.2.1 (L09): 500 m to a low-capacity stop (bus), 1000 m to a high-capacity one (rail);
- SDG 11.7.1 (G02b): 400 m to open public space;
- rail 800 m (L11): MOHURD 2021 轨道站点 800 米覆盖;
- GHSCI daily-living score (Boeing et al., Lancet Global Health 2022): fresh food, convenience
  store and public transport stop within 500 m, 0–3; walkability = sum of z-scores of
  residential density, intersection density (intersections within 15 m consolidated) and the
  daily-living score across units.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from citycheck.access.analyse import AccessResult, dist_column
from citycheck.access.life_circles import CIRCLES, circle_categories, unit_shares
from citycheck.access.network import WalkNetwork
from citycheck.categories import categories
from citycheck.labels import Message, message

__all__ = [
    "daily_living_score",
    "indicator_values",
    "intersection_density",
    "merge_nearby",
    "park_service_coverage",
    "transit_access_sdg_11_2_1",
    "walkability_index",
    "within",
]


def _dist(table: pd.DataFrame, category: str) -> pd.Series:
    col = dist_column(category)
    if col not in table.columns:
        return pd.Series(np.nan, index=table.index)
    return table[col]


def within(table: pd.DataFrame, category: str, radius_m: float, *, name: str) -> pd.Series:
    """True where the nearest ``category`` facility is within ``radius_m`` metres (NaN: False)."""
    return (_dist(table, category) <= radius_m).fillna(False).astype(bool).rename(name)


def park_service_coverage(table: pd.DataFrame) -> pd.Series:
    """G01: within 300 m of a 2000–5000 m² park or 500 m of a ≥5000 m² park."""
    small = within(table, "park_small", 300.0, name="G01")
    large = within(table, "park_large", 500.0, name="G01")
    return (small | large).rename("G01")


def transit_access_sdg_11_2_1(table: pd.DataFrame) -> pd.Series:
    """L09 / SDG 11.2.1: within 500 m of a bus stop or 1000 m of a rail station."""
    bus = within(table, "bus_stop", 500.0, name="L09")
    rail = within(table, "rail_station", 1000.0, name="L09")
    return (bus | rail).rename("L09")


def daily_living_score(table: pd.DataFrame, *, radius_m: float = 500.0) -> pd.Series:
    """GHSCI daily-living score 0–3: fresh food, convenience, public transport within 500 m."""
    food = within(table, "food_market", radius_m, name="x")
    conv = within(table, "convenience", radius_m, name="x")
    pt = within(table, "bus_stop", radius_m, name="x") | within(
        table, "rail_station", radius_m, name="x"
    )
    return (food.astype(int) + conv.astype(int) + pt.astype(int)).rename("daily_living_score")


def merge_nearby(points: np.ndarray, *, within_m: float) -> np.ndarray:
    """Merge points closer than ``within_m`` (single linkage) into their clusters' centroids.

    Shared by the walkability index here and the evaluation's intersection density (L13).

    Parameters
    ----------
    points : ndarray (n, 2)
        Coordinates in a metric CRS.
    within_m : float
        Points at most this far apart join one cluster (chains join too).

    Returns
    -------
    ndarray (k, 2)
        One centroid per cluster, k ≤ n.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) == 0:
        return pts
    pairs = cKDTree(pts).query_pairs(r=within_m, output_type="ndarray")
    n = len(pts)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sums = np.zeros((labels.max() + 1, 2))
    np.add.at(sums, labels, pts)
    return sums / np.bincount(labels)[:, None]


def intersection_density(
    net: WalkNetwork, units: gpd.GeoDataFrame, *, consolidate_m: float = 15.0
) -> pd.Series:
    """Street intersections (degree ≥ 3, those within ``consolidate_m`` merged) per km² of unit.

    Returns a Series indexed like ``units``.
    """
    sel = np.flatnonzero(net.degree() >= 3)
    merged = merge_nearby(np.stack([net.x[sel], net.y[sel]], axis=1), within_m=consolidate_m)
    cx, cy = merged[:, 0], merged[:, 1]
    centres = gpd.GeoDataFrame(geometry=gpd.points_from_xy(cx, cy), crs=units.crs)
    upoly = gpd.GeoDataFrame(
        {"_pos": np.arange(len(units))}, geometry=units.geometry.to_numpy(), crs=units.crs
    )
    hits = gpd.sjoin(centres, upoly, predicate="within")
    counts = np.bincount(hits["_pos"].to_numpy(), minlength=len(units))
    area_km2 = units.geometry.area.to_numpy() / 1e6
    dens = np.divide(counts, area_km2, out=np.full(len(units), np.nan), where=area_km2 > 0)
    return pd.Series(dens, index=units.index, name="intersection_density_per_km2")


def walkability_index(
    residential_density: pd.Series, intersection_density: pd.Series, daily_living: pd.Series
) -> pd.Series:
    """L14: sum of the z-scores of the three components across units (GHSCI).

    Units missing any component are NaN; with fewer than two complete units the index is NaN.
    """
    df = pd.concat([residential_density, intersection_density, daily_living], axis=1)
    ok = df.notna().all(axis=1)
    z = (df[ok] - df[ok].mean()) / df[ok].std(ddof=0)
    out = pd.Series(np.nan, index=df.index, name="L14")
    if ok.sum() >= 2:
        out[ok] = z.sum(axis=1, skipna=False)
    return out


#: Catalogue id -> (flag function, weight: "buildings" | "floor_area" | "residents").
SHARE_INDICATORS: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], str]] = {
    "L01": (lambda t: t["lc_complete"].rename("L01"), "buildings"),
    "L01.pop": (lambda t: t["lc_complete"].rename("L01.pop"), "residents"),
    "L02": (lambda t: within(t, "kindergarten", 300.0, name="L02"), "floor_area"),
    "L03": (lambda t: within(t, "primary_school", 500.0, name="L03"), "floor_area"),
    "L04": (lambda t: within(t, "middle_school", 1000.0, name="L04"), "floor_area"),
    "L05": (lambda t: within(t, "elderly_care", 300.0, name="L05"), "floor_area"),
    "L06": (lambda t: within(t, "health_station", 300.0, name="L06"), "floor_area"),
    "L06b": (lambda t: within(t, "food_market", 500.0, name="L06b"), "floor_area"),
    "L08": (lambda t: within(t, "culture", 1000.0, name="L08"), "floor_area"),
    "L09": (transit_access_sdg_11_2_1, "residents"),
    "L11": (lambda t: within(t, "rail_station", 800.0, name="L11"), "residents"),
    "G01": (park_service_coverage, "floor_area"),
    "G02b": (lambda t: within(t, "open_space", 400.0, name="G02b"), "residents"),
    "G04": (lambda t: within(t, "greenway", 1000.0, name="G04"), "floor_area"),
}

#: The facility categories each indicator needs (a missing category makes the value "no data").
NEEDS: dict[str, tuple[str, ...]] = {
    "L01": tuple(c for m in CIRCLES for c in circle_categories(m)),
    "L01.pop": tuple(c for m in CIRCLES for c in circle_categories(m)),
    "L02": ("kindergarten",),
    "L03": ("primary_school",),
    "L04": ("middle_school",),
    "L05": ("elderly_care",),
    "L06": ("health_station",),
    "L06b": ("food_market",),
    "L07": ("sports",),
    "L08": ("culture",),
    "L11": ("rail_station",),
    "G02b": ("open_space",),
    "G04": ("greenway",),
}


def indicator_values(
    result: AccessResult,
    city: Any,
    *,
    levels: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, dict[str, Message]]:
    """Every walking-network indicator of the catalogue, per unit of each of its levels.

    Parameters
    ----------
    result : AccessResult
        From :func:`citycheck.access.analyse_city`.
    city : City
        Its ``buildings`` (``floor_area_m2``, ``residents``, ``residential``) and ``units``.
    levels : mapping, optional
        Indicator id -> the levels to compute it at (the catalogue's levels, as
        :func:`citycheck.evaluate.indicators.network.network_levels` gives them); an id not
        in it gets the district only. Default: the share indicators at every level of
        ``city.units`` but ``dwelling``, L07 at the district.

    Returns
    -------
    values : DataFrame
        ``indicator``, ``level``, ``unit_id``, ``value`` (percent for shares).
    not_computed : dict
        Indicator id to the reason it has no value (both languages).
    """
    table = result.buildings
    if "residential" in table.columns:
        table = table[table["residential"].fillna(False).astype(bool)]
    status = result.categories["status"]
    frames: list[pd.DataFrame] = []
    missing: dict[str, Message] = {}

    def lacking(ind: str) -> Message | None:
        bad = [c for c in NEEDS.get(ind, ()) if c not in status.index or status[c] != "ok"]
        if not bad:
            return None
        cats = categories()
        parts = [
            message(
                "msg_category_status",
                category=Message(cats[c].zh if c in cats else c, c),
                status=message(f"status_{status.get(c, 'not analysed')}"),
            )
            for c in bad
        ]
        return message("msg_no_facility_joined", categories=parts)

    def emit(ind: str, level: str, values: pd.Series) -> None:
        frames.append(
            pd.DataFrame(
                {"indicator": ind, "level": level, "unit_id": values.index, "value": values}
            ).reset_index(drop=True)
        )

    def levels_of(ind: str) -> Sequence[str]:
        if levels is None:
            return ["district"] if ind == "L07" else [lv for lv in city.units if lv != "dwelling"]
        return levels.get(ind, ["district"])

    flag_cols = {}
    for ind, (fn, _) in SHARE_INDICATORS.items():
        if (reason := lacking(ind)) is not None:
            missing[ind] = reason
            continue
        flag_cols[ind] = fn(table)
    flags = pd.DataFrame(flag_cols, index=table.index)
    for level, units in city.units.items():
        if not len(units) or not len(flags.columns):
            continue
        shares = unit_shares(city.buildings, flags, units)
        uid = units["unit_id"].to_numpy() if "unit_id" in units else units.index.to_numpy()
        for ind, (_, weight) in SHARE_INDICATORS.items():
            if ind in flag_cols and level in levels_of(ind):
                emit(
                    ind,
                    level,
                    pd.Series(100 * shares[f"{ind}_share_{weight}"].to_numpy(), index=uid),
                )
    # L07: share of neighbourhoods where some residential building lacks a sports ground
    if (reason := lacking("L07")) is not None:
        missing["L07"] = reason
    elif "neighbourhood" in city.units and "district" in city.units:
        lack = ~within(table, "sports", 1000.0, name="L07")
        nb = city.units["neighbourhood"]
        s = unit_shares(city.buildings, pd.DataFrame({"lack": lack}), nb)
        has_res = s["n_buildings"] > 0
        lacking_nb = (s["lack_share_buildings"] > 0) & has_res
        value = 100 * lacking_nb.sum() / has_res.sum() if has_res.sum() else np.nan
        for lv in levels_of("L07"):
            if lv == "district":
                emit("L07", "district", pd.Series([value], index=city.units["district"]["unit_id"]))
    # L14: walkability per neighbourhood
    res_known = "residents" in city.buildings and city.buildings["residents"].fillna(0).gt(0).any()
    if "neighbourhood" not in city.units or len(city.units["neighbourhood"]) < 2:
        missing["L14"] = message("msg_few_neighbourhoods")
    elif not res_known:
        missing["L14"] = message("msg_residents_unknown")
    else:
        nb = city.units["neighbourhood"]
        dls = daily_living_score(table)
        s = unit_shares(city.buildings, pd.DataFrame({f"dls{k}": dls >= k for k in (1, 2, 3)}), nb)
        # mean score weighted by residents = sum over k of share(score >= k)
        mean_dls = sum(s[f"dls{k}_share_residents"] for k in (1, 2, 3))
        density = s["residents"] / (nb.geometry.area / 1e6)
        inter = intersection_density(result.graph.base, nb)
        wi = walkability_index(density, inter, mean_dls)
        emit("L14", "neighbourhood", pd.Series(wi.to_numpy(), index=nb["unit_id"].to_numpy()))
    missing["S04"] = message("msg_fire_drive_time")
    cols = ["indicator", "level", "unit_id", "value"]
    values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return values[cols], missing
