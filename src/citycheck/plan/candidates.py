"""Candidate sites: where a new facility could go.

Sources (each site is one point, a polygon's representative point):

- ``vacant``: vacant or low-efficiency land — ``landuse`` brownfield, greenfield, construction
  (OSM wiki, Key:landuse) and ``landuse=garages``;
- ``parking``: surface parking (``amenity=parking``);
- ``building``: existing non-residential buildings of a use that can take a community facility
  (commercial, retail, office, public, civic, industrial, warehouse: the usual 腾退/改造 stock);
- ``node``: street intersections of the walking network (degree ≥ 3), thinned to one per
  ``node_spacing_m`` grid cell — a site "somewhere on this corner";
- ``user``: a layer the user supplies (points or polygons, optional ``cost``, ``capacity``,
  ``name``, ``site_id`` columns).

Exclusions: water, heritage protection buffers (``heritage_buffer_m`` around heritage features;
50 m is a citycheck default, set it to the zone your heritage plan draws), and, for built
facilities, parks and other green space. Sites outside the study area are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.io.errors import InputError
from citycheck.labels import labels_under

__all__ = ["OPEN_SPACE_CATEGORIES", "SITE_KINDS", "candidate_sites", "read_site_layer"]

log = logging.getLogger(__name__)

#: Site kinds with Chinese and English names.
SITE_KINDS: dict[str, tuple[str, str]] = labels_under("plan.site_kind")
#: Categories that are open space, not buildings: parks do not exclude them.
OPEN_SPACE_CATEGORIES = frozenset({"park", "open_space", "sports"})
VACANT_LANDUSE = frozenset({"brownfield", "greenfield", "construction", "garages"})
CONVERTIBLE_BUILDINGS = frozenset(
    {"commercial", "retail", "office", "public", "civic", "industrial", "warehouse"}
)
COLUMNS = ["site_id", "kind", "source", "osm_id", "name", "cost", "capacity", "area_m2"]


def read_site_layer(path: str, crs: object) -> gpd.GeoDataFrame:
    """Read a user site layer (any vector file) and project it to ``crs``.

    Raises
    ------
    InputError
        Unreadable file, no geometry, or non-numeric ``cost`` / ``capacity``.
    """
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(path, "file", str(path), f"not a readable vector file ({exc})") from exc
    if gdf.crs is None:
        raise InputError(path, "crs", None, "the site layer has no CRS; save it with one")
    for col in ("cost", "capacity"):
        if col in gdf.columns:
            vals = pd.to_numeric(gdf[col], errors="coerce")
            bad = np.flatnonzero((vals.isna() & gdf[col].notna()) | (vals < 0))
            if bad.size:
                raise InputError(
                    path, col, gdf[col].iloc[bad[0]], f"row {bad[0] + 1}: expected a number ≥ 0"
                )
            gdf[col] = vals
    return gdf.to_crs(crs)


def _points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    g = gdf.geometry.to_numpy()
    return np.asarray(shapely.point_on_surface(g))


def _frame(kind: str, gdf: gpd.GeoDataFrame, crs: object) -> gpd.GeoDataFrame:
    if not len(gdf):
        return gpd.GeoDataFrame(columns=[*COLUMNS, "geometry"], geometry="geometry", crs=crs)
    area = gdf.geometry.area.to_numpy()
    return gpd.GeoDataFrame(
        {
            "kind": kind,
            "source": "user" if kind == "user" else "osm",
            "osm_id": gdf["osm_id"].astype(str).to_numpy() if "osm_id" in gdf else None,
            "name": gdf["name"].to_numpy() if "name" in gdf else None,
            "cost": gdf["cost"].to_numpy(dtype=float) if "cost" in gdf else np.nan,
            "capacity": gdf["capacity"].to_numpy(dtype=float) if "capacity" in gdf else np.nan,
            "area_m2": area,
            "user_id": gdf["site_id"].astype(str).to_numpy() if "site_id" in gdf else None,
        },
        geometry=_points(gdf),
        crs=crs,
    )


def _intersection_nodes(streets: gpd.GeoDataFrame, spacing_m: float) -> gpd.GeoDataFrame:
    from citycheck.access.network import network_from_streets

    net = network_from_streets(streets, source="streets")
    sel = np.flatnonzero(net.degree() >= 3)
    x, y = net.x[sel], net.y[sel]
    if sel.size and spacing_m > 0:
        cell = np.stack([np.floor(x / spacing_m), np.floor(y / spacing_m)], axis=1)
        _, first = np.unique(cell, axis=0, return_index=True)
        first.sort()
        x, y = x[first], y[first]
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=streets.crs)


def candidate_sites(
    city: object,
    category: str,
    *,
    kinds: Sequence[str] = ("vacant", "parking", "building", "node"),
    user_sites: gpd.GeoDataFrame | None = None,
    node_spacing_m: float = 100.0,
    heritage_buffer_m: float = 50.0,
    site_cost: float | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites for new ``category`` facilities in a city.

    Parameters
    ----------
    city : citycheck.city.City
        Uses ``landuse``, ``buildings``, ``streets``, ``facilities`` (heritage) and ``boundary``.
    category : str
        The facility category (decides whether parks exclude sites).
    kinds : sequence of str
        OSM-derived kinds to include (see :data:`SITE_KINDS`); ``user`` sites are always kept.
    user_sites : GeoDataFrame, optional
        Sites the user supplies, in the city's CRS (:func:`read_site_layer`).
    node_spacing_m : float
        Keep at most one street intersection per grid cell of this size.
    heritage_buffer_m : float
        Exclude sites within this distance of a heritage feature.
    site_cost : float, optional
        Cost of every OSM-derived site (user sites keep their own ``cost``).

    Returns
    -------
    GeoDataFrame
        One Point per site: ``site_id`` (str), ``kind``, ``kind_zh``, ``kind_en``, ``source``,
        ``osm_id``, ``name``, ``cost``, ``capacity``, ``area_m2``; a 0..n-1 index.
    """
    unknown = sorted(set(kinds) - set(SITE_KINDS))
    if unknown:
        raise ValueError(f"kinds: unknown site kinds {unknown}; choose from {list(SITE_KINDS)}")
    crs = city.crs  # type: ignore[attr-defined]
    parts: list[gpd.GeoDataFrame] = []
    lu = city.landuse  # type: ignore[attr-defined]
    if "vacant" in kinds and len(lu):
        parts.append(
            _frame("vacant", lu[(lu["key"] == "landuse") & lu["value"].isin(VACANT_LANDUSE)], crs)
        )
    if "parking" in kinds and len(lu):
        parts.append(
            _frame("parking", lu[(lu["key"] == "amenity") & (lu["value"] == "parking")], crs)
        )
    if "building" in kinds:
        b = city.buildings  # type: ignore[attr-defined]
        sel = b["building"].isin(CONVERTIBLE_BUILDINGS) & ~b["residential"].fillna(False)
        parts.append(_frame("building", b[sel], crs))
    if "node" in kinds:
        parts.append(_frame("node", _intersection_nodes(city.streets, node_spacing_m), crs))  # type: ignore[attr-defined]
    if site_cost is not None:
        for p in parts:
            p["cost"] = float(site_cost)
    if user_sites is not None and len(user_sites):
        parts.append(_frame("user", user_sites, crs))
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame(
            columns=["site_id", "kind", "kind_zh", "kind_en", *COLUMNS[2:], "geometry"],
            geometry="geometry",
            crs=crs,
        )
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
    pts = sites.geometry.to_numpy()
    keep = shapely.contains(city.boundary, pts) | (sites["kind"] == "user").to_numpy()  # type: ignore[attr-defined]
    exclude = _exclusion_zone(city, category, heritage_buffer_m)
    if exclude is not None:
        keep &= ~shapely.intersects(exclude, pts)
    sites = sites[keep].reset_index(drop=True)
    seq = np.arange(len(sites))
    auto = np.char.add(sites["kind"].to_numpy().astype(str), np.char.mod("-%d", seq))
    uid = sites.pop("user_id")
    sites.insert(0, "site_id", np.where(uid.notna(), "user-" + uid.astype(str), auto))
    sites.insert(2, "kind_zh", sites["kind"].map(lambda k: SITE_KINDS[k][0]))
    sites.insert(3, "kind_en", sites["kind"].map(lambda k: SITE_KINDS[k][1]))
    return sites


def _exclusion_zone(
    city: object, category: str, heritage_buffer_m: float
) -> shapely.Geometry | None:
    """Water, heritage buffers and (for built facilities) green space, as one geometry."""
    pieces = []
    lu = city.landuse  # type: ignore[attr-defined]
    if len(lu):
        cls = lu["lu_class"]
        pieces.extend(lu.geometry[cls == "water"].to_numpy())
        if category not in OPEN_SPACE_CATEGORIES:
            pieces.extend(lu.geometry[cls == "green"].to_numpy())
    fac = city.facilities  # type: ignore[attr-defined]
    her = fac.geometry[fac["category"] == "heritage"].to_numpy()
    if her.size and heritage_buffer_m > 0:
        pieces.extend(shapely.buffer(her, heritage_buffer_m))
    if category not in OPEN_SPACE_CATEGORIES:
        pieces.extend(fac.geometry[fac["category"] == "park"].to_numpy())
    pieces = [p for p in pieces if p is not None and not p.is_empty and p.area > 0]
    return shapely.union_all(pieces) if pieces else None
