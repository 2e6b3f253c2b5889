"""One call for the pipeline: walking access of every residential building in a city.

``analyse_city(city)`` builds the walking network, joins buildings and facilities to it, and
returns an :class:`AccessResult` with per-building nearest distances and counts within radii for
every facility category, reachability, GB 50180-2018 life-circle flags, and helpers to aggregate
shares to any units.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from citycheck.access.graph import AccessGraph, attach
from citycheck.access.life_circles import life_circle_flags, unit_shares
from citycheck.access.network import WalkFilter, network_from_streets
from citycheck.access.queries import DEFAULT_SPEED_M_S, counts_within, reachable_within
from citycheck.access.snapping import (
    SegmentIndex,
    building_access_points,
    facility_access_points,
    snap_points,
)
from citycheck.categories import categories

__all__ = [
    "DERIVED_CATEGORIES",
    "AccessResult",
    "analyse_city",
    "analyse_layers",
    "count_column",
    "dist_column",
]

log = logging.getLogger(__name__)

DEFAULT_RADII_M = (300.0, 500.0, 800.0, 1000.0, 1500.0)

#: Categories derived from the table's: (zh, en, base category, min area m², max area m²).
#: Park size classes of 公园绿地服务半径覆盖率 (MOHURD 2021, see ../shared/indicators.md G01).
DERIVED_CATEGORIES: dict[str, tuple[str, str, str, float, float]] = {
    "park_large": ("公园绿地(≥5000 m²)", "Park ≥5000 m²", "park", 5000.0, np.inf),
    "park_small": ("公园绿地(2000–5000 m²)", "Park 2000–5000 m²", "park", 2000.0, 5000.0),
}


def dist_column(category: str) -> str:
    """Column of the nearest network distance (metres) to ``category``."""
    return f"dist_m_{category}"


def count_column(category: str, radius_m: float) -> str:
    """Column of the number of ``category`` facilities within ``radius_m`` metres."""
    return f"n{round(radius_m)}_{category}"


@dataclass(frozen=True, eq=False)
class AccessResult:
    """Walking access of the buildings of a city.

    Attributes
    ----------
    buildings : DataFrame
        Indexed like the buildings analysed. Columns: ``residential``, ``reachable`` (joined
        to the network within ``max_snap_m``), ``snap_m``, ``component`` and
        ``component_length_m`` (the network piece it joined; small pieces are campus or
        compound paths), then per category
        :func:`dist_column` (metres; +inf beyond the search bound; NaN when the building is
        unreachable or the category has no facility in the area) and :func:`count_column` per
        radius (nullable integers, NA where the distance is NaN), then the life-circle flags of
        :func:`citycheck.access.life_circles.life_circle_flags`.
    categories : DataFrame
        Per category: ``zh``, ``en``, ``n_facilities``, ``n_joined``, ``status`` ("ok", "none in
        area", "none joined": facilities exist but none within the snap limit).
    unreachable : DataFrame
        Buildings not joined, with ``reason``.
    unjoined_facilities : DataFrame
        Facilities farther than ``max_snap_m`` from the network (``facility_id``, ``category``).
    graph : AccessGraph
        The network with buildings and facilities joined (for isochrones and routes).
    params : dict
        Parameters and timings.
    facilities : GeoDataFrame
        The facilities analysed (table categories plus park size classes and greenways), in
        the order of ``graph.hubs["facilities"]``.
    """

    buildings: pd.DataFrame
    categories: pd.DataFrame
    unreachable: pd.DataFrame
    unjoined_facilities: pd.DataFrame
    graph: AccessGraph
    params: dict[str, Any] = field(default_factory=dict)
    facilities: gpd.GeoDataFrame | None = None

    def facilities_within(
        self, x: float, y: float, *, radius_m: float, category: str | None = None
    ) -> pd.DataFrame:
        """Facilities reachable on foot from a point within ``radius_m``, nearest first.

        Returns the facility rows (``facility_id``, ``category``) with ``dist_m``.
        """
        if self.facilities is None:
            raise ValueError("this result keeps no facility table")
        hubs = self.graph.hubs["facilities"]
        d = reachable_within(
            self.graph, x, y, hubs, radius_m=radius_m, max_snap_m=self.params["max_snap_m"]
        )
        keep = np.isfinite(d)
        if category is not None:
            keep &= (self.facilities["category"] == category).to_numpy()
        cols = [c for c in ("facility_id", "category") if c in self.facilities.columns]
        out = pd.DataFrame(self.facilities.loc[keep, cols]).assign(dist_m=d[keep])
        return out.sort_values("dist_m")

    def shares(
        self,
        buildings: gpd.GeoDataFrame,
        units: gpd.GeoDataFrame,
        *,
        flags: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Shares of residential buildings, floor area and residents meeting each flag, per unit.

        Only residential buildings count. See :func:`citycheck.access.life_circles.unit_shares`.
        """
        table = self.buildings[self.buildings["residential"]]
        return unit_shares(buildings, table, units, flags=flags)


def _category_names(cat: str) -> tuple[str, str]:
    if cat in DERIVED_CATEGORIES:
        return DERIVED_CATEGORIES[cat][0], DERIVED_CATEGORIES[cat][1]
    table = categories()
    if cat in table:
        return table[cat].zh, table[cat].en
    if cat == "greenway":
        return "绿道", "Greenway"
    return cat, cat


def analyse_layers(
    streets: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    entrances: gpd.GeoDataFrame | None = None,
    radii_m: Sequence[float] = DEFAULT_RADII_M,
    max_snap_m: float = 100.0,
    speed_m_s: float = DEFAULT_SPEED_M_S,
    walk_filter: WalkFilter | None = None,
    residential_only: bool = True,
    category_ids: Sequence[str] | None = None,
    greenways: bool = True,
    source: str = "city",
) -> AccessResult:
    """Walking access from layers (see :func:`analyse_city` for the parameters).

    ``facilities`` needs ``category`` (ids from categories.toml) and optionally ``area_m2`` and
    ``facility_id``; ``buildings`` optionally ``residential``.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    radii = tuple(sorted(float(r) for r in radii_m))
    if not radii or radii[0] <= 0:
        raise ValueError(f"radii_m: need positive radii, got {list(radii_m)}")
    if max_snap_m <= 0:
        raise ValueError(f"max_snap_m: must be positive, got {max_snap_m}")
    for name, layer in (("buildings", buildings), ("facilities", facilities)):
        if streets.crs is not None and layer.crs is not None and layer.crs != streets.crs:
            raise ValueError(
                f"{source}.{name}: CRS {layer.crs.to_string()} differs from streets "
                f"({streets.crs.to_string()}); reproject first"
            )
    if "category" not in facilities.columns:
        raise ValueError(f"{source}.facilities: column 'category' is missing")
    net = network_from_streets(streets, walk_filter=walk_filter, source=f"{source}.streets")
    timings["network_s"] = time.perf_counter() - t0

    # buildings analysed
    if residential_only and "residential" in buildings.columns:
        res = buildings["residential"].fillna(False).astype(bool).to_numpy()
        blds = buildings[res]
    else:
        blds = buildings
    # facilities: table categories plus derived size classes and greenways
    fac = facilities
    known = set(categories())
    unknown = sorted(set(fac["category"].dropna().unique()) - known)
    if unknown:
        log.warning("%s.facilities: unknown categories ignored: %s", source, unknown)
    cat_list = list(category_ids) if category_ids is not None else list(categories())
    parts = [fac[fac["category"].isin(cat_list)]]
    if category_ids is None or any(c in DERIVED_CATEGORIES for c in category_ids):
        area = fac["area_m2"] if "area_m2" in fac.columns else fac.geometry.area
        for cid, (_, _, base, lo, hi) in DERIVED_CATEGORIES.items():
            sel = (fac["category"] == base) & (area >= lo) & (area < hi)
            parts.append(fac[sel].assign(category=cid))
            if cid not in cat_list:
                cat_list.append(cid)
    if greenways:
        names = streets.get("name")
        if names is not None:
            gw = names.fillna("").str.contains("绿道|greenway", case=False, regex=True)
            gdf = streets[gw.to_numpy()]
            parts.append(
                gpd.GeoDataFrame(
                    {"category": "greenway", "facility_id": gdf.get("osm_id", gdf.index)},
                    geometry=gdf.geometry.to_numpy(),
                    crs=streets.crs,
                )
            )
        if "greenway" not in cat_list:
            cat_list.append("greenway")
    fac_all = pd.concat(parts, ignore_index=True)
    fac_all = gpd.GeoDataFrame(fac_all, geometry=fac_all.geometry.name, crs=streets.crs)

    t1 = time.perf_counter()
    index = SegmentIndex.build(net, max(max_snap_m, 50.0))
    bpts = building_access_points(blds, net, entrances=entrances, max_snap_m=max_snap_m)
    fpts = facility_access_points(fac_all)
    b_snaps = snap_points(index, bpts, max_snap_m)
    f_snaps = snap_points(index, fpts, max_snap_m)
    graph = attach(net, {"buildings": (b_snaps, len(blds)), "facilities": (f_snaps, len(fac_all))})
    timings["snap_s"] = time.perf_counter() - t1

    b_hub = graph.hubs["buildings"]
    f_hub = graph.hubs["facilities"]
    reachable = b_hub >= 0
    fac_cat = fac_all["category"].to_numpy()
    sources = {c: f_hub[(fac_cat == c) & (f_hub >= 0)] for c in cat_list}
    t2 = time.perf_counter()
    counts, near = counts_within(graph, sources, b_hub[reachable], radii_m=radii)
    timings["search_s"] = time.perf_counter() - t2

    # assemble the per-building table
    out: dict[str, Any] = {
        "residential": (
            blds["residential"].fillna(False).astype(bool).to_numpy()
            if "residential" in blds.columns
            else np.ones(len(blds), dtype=bool)
        ),
        "reachable": reachable,
        "snap_m": graph.snap_m["buildings"],
    }
    comp = np.full(len(blds), -1, dtype=np.int64)
    assert graph.component is not None  # attach() labels every node
    comp[reachable] = graph.component[b_hub[reachable]]
    comp_len = net.component_lengths()
    out["component"] = comp
    out["component_length_m"] = np.where(reachable, comp_len[np.maximum(comp, 0)], np.nan)
    rows = []
    for c in cat_list:
        zh, en = _category_names(c)
        n_fac = int((fac_cat == c).sum())
        n_joined = int(sources[c].size)
        status = "ok" if n_joined else ("none in area" if n_fac == 0 else "none joined")
        rows.append(
            {
                "category": c,
                "zh": zh,
                "en": en,
                "n_facilities": n_fac,
                "n_joined": n_joined,
                "status": status,
            }
        )
        d = np.full(len(blds), np.nan)
        if n_joined:
            d[reachable] = near[c]
        out[dist_column(c)] = d
        for k, r in enumerate(radii):
            col = pd.array(np.zeros(len(blds), dtype=np.int64), dtype="Int32")
            if n_joined:
                vals = np.zeros(len(blds), dtype=np.int64)
                vals[reachable] = counts[c][:, k]
                col = pd.array(vals, dtype="Int32")
                col[~reachable] = pd.NA
            else:
                col[:] = pd.NA
            out[count_column(c, r)] = col
    table = pd.DataFrame(out, index=blds.index)
    flags = life_circle_flags(table)
    table = pd.concat([table, flags], axis=1)
    cat_table = pd.DataFrame(rows).set_index("category")

    geoms = blds.geometry
    reason = np.where(
        geoms.isna().to_numpy() | geoms.is_empty.to_numpy(),
        "missing geometry",
        f"no walkable way within {max_snap_m:g} m",
    )
    unreachable = pd.DataFrame({"reason": reason[~reachable]}, index=blds.index[~reachable])
    unjoined = fac_all.loc[f_hub < 0, [c for c in ("facility_id", "category") if c in fac_all]]
    if len(unreachable):
        log.warning(
            "%s: %d of %d buildings are not within %g m of a walkable way",
            source,
            len(unreachable),
            len(blds),
            max_snap_m,
        )
    for row in rows:
        if row["status"] != "ok":
            log.warning("%s: category %s: %s", source, row["category"], row["status"])
    timings["total_s"] = time.perf_counter() - t0
    params = {
        "radii_m": radii,
        "max_snap_m": max_snap_m,
        "speed_m_s": speed_m_s,
        "walk_filter": walk_filter or WalkFilter(),
        "residential_only": residential_only,
        "n_nodes": net.n_nodes,
        "n_edges": net.n_edges,
        "facility_categories": fac_cat,
        **timings,
    }
    return AccessResult(table, cat_table, unreachable, unjoined, graph, params, fac_all)


def analyse_city(
    city: Any,
    *,
    radii_m: Sequence[float] = DEFAULT_RADII_M,
    max_snap_m: float = 100.0,
    speed_m_s: float = DEFAULT_SPEED_M_S,
    walk_filter: WalkFilter | None = None,
    residential_only: bool = False,
    category_ids: Sequence[str] | None = None,
) -> AccessResult:
    """Walking access of every (residential) building of a city.

    Parameters
    ----------
    city : citycheck.city.City
        Needs ``streets``, ``buildings``, ``facilities`` and optionally ``entrances``, all in the
        city's metric CRS (docs/architecture.md).
    radii_m : sequence of float
        Count radii; the largest bounds every search (300/500/800/1000/1500 m by default).
    max_snap_m : float
        Farthest a building or facility may be from a walkable way to join it (100 m).
    speed_m_s : float
        Walking speed, recorded for isochrones (GB 50180: 15 minutes ≈ 1000 m).
    walk_filter : WalkFilter, optional
        Which ways are walkable.
    residential_only : bool
        Analyse only buildings with ``residential`` True. By default every building is analysed
        (the table then lines up with ``city.buildings``); shares and indicators count
        residential buildings only.
    category_ids : sequence of str, optional
        Categories to analyse (all of categories.toml, the park size classes and greenways by
        default).

    Returns
    -------
    AccessResult

    Examples
    --------
    >>> result = analyse_city(city)  # doctest: +SKIP
    >>> result.buildings["lc15_complete"].mean()  # doctest: +SKIP
    """
    return analyse_layers(
        city.streets,
        city.buildings,
        city.facilities,
        entrances=getattr(city, "entrances", None),
        radii_m=radii_m,
        max_snap_m=max_snap_m,
        speed_m_s=speed_m_s,
        walk_filter=walk_filter,
        residential_only=residential_only,
        category_ids=category_ids,
        source=getattr(city, "name", "city"),
    )
