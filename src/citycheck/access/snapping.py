"""Snapping: where buildings and facilities join the walking network.

A point joins at the nearest point of the nearest edge (not the nearest node), and the straight
snap distance is added to every route through it. Buildings join from their mapped entrances, or
else from the point of the footprint nearest the network; point facilities from themselves; area
facilities (parks, sports grounds) from points sampled along their boundary, so a large park is
entered from its edge, not its centroid. Nothing farther than ``max_snap_m`` is joined.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from citycheck.access._kernels import register_cells, snap_to_segments
from citycheck.access.network import WalkNetwork

__all__ = [
    "AccessPoints",
    "SegmentIndex",
    "building_access_points",
    "facility_access_points",
    "snap_points",
]

log = logging.getLogger(__name__)

#: Spacing of the points sampled along an area facility's boundary (metres).
BOUNDARY_STEP_M = 25.0
#: An entrance belongs to a building when it lies within this distance of the footprint.
ENTRANCE_TOLERANCE_M = 2.0


@dataclass(frozen=True)
class SegmentIndex:
    """A uniform-grid index of a network's edges for nearest-edge queries.

    It refers to the network's node coordinates and edge ends (no copies); each edge is listed
    in every grid cell its bounding box overlaps.
    """

    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    cell_keys: np.ndarray
    cell_seg: np.ndarray
    cell: float
    kx0: int
    ky0: int
    span_y: int

    @classmethod
    def build(cls, net: WalkNetwork, cell_m: float) -> SegmentIndex:
        """Register every edge in each grid cell its bounding box overlaps."""
        x, y, eu, ev = net.x, net.y, net.edge_u, net.edge_v
        kx0 = int(np.floor(x.min() / cell_m)) - 1
        ky0 = int(np.floor(y.min() / cell_m)) - 1
        span_y = int(np.floor(y.max() / cell_m)) - ky0 + 2
        keys, seg = register_cells(x, y, eu, ev, float(cell_m), kx0, ky0, span_y)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        seg = seg[order]
        del order
        return cls(x, y, eu, ev, keys, seg, float(cell_m), kx0, ky0, span_y)

    def nearest(
        self, px: np.ndarray, py: np.ndarray, max_dist: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(edge, t along edge from ``edge_u``, distance) per point; edge -1 beyond ``max_dist``."""
        if max_dist > self.cell:
            raise ValueError(f"max_snap_m={max_dist} exceeds the index cell size {self.cell}")
        return snap_to_segments(
            np.ascontiguousarray(px, dtype=np.float64),
            np.ascontiguousarray(py, dtype=np.float64),
            self.x,
            self.y,
            self.edge_u,
            self.edge_v,
            self.cell_keys,
            self.cell_seg,
            self.cell,
            self.kx0,
            self.ky0,
            self.span_y,
            float(max_dist),
        )


@dataclass(frozen=True)
class AccessPoints:
    """Points where owners (buildings or facilities) may join the network.

    Attributes
    ----------
    owner : ndarray of int64
        Row position of the owner in its table.
    x, y : ndarray of float64
        The access point (an entrance, the footprint point nearest the network, a point facility,
        a boundary sample of an area facility).
    """

    owner: np.ndarray
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Snaps:
    """Access points joined to the network (rows where ``edge >= 0``)."""

    owner: np.ndarray
    edge: np.ndarray
    t: np.ndarray
    dist: np.ndarray


def snap_points(index: SegmentIndex, points: AccessPoints, max_snap_m: float) -> Snaps:
    """Snap access points to their nearest edge within ``max_snap_m``."""
    edge, t, dist = index.nearest(points.x, points.y, max_snap_m)
    return Snaps(owner=points.owner, edge=edge, t=t, dist=dist)


def _valid_geometry(geoms: np.ndarray) -> np.ndarray:
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def facility_access_points(
    facilities: gpd.GeoDataFrame, *, boundary_step_m: float = BOUNDARY_STEP_M
) -> AccessPoints:
    """Access points of facilities: points themselves; polygons from their boundary.

    Parameters
    ----------
    facilities : GeoDataFrame
        Point or (Multi)Polygon geometries in a metric CRS.
    boundary_step_m : float
        Spacing of boundary samples of polygons (every boundary vertex is also kept).

    Returns
    -------
    AccessPoints
        ``owner`` is the facility's row position; rows without geometry have no points.
    """
    geoms = facilities.geometry.to_numpy()
    ok = _valid_geometry(geoms)
    kinds = np.full(geoms.size, -1)
    kinds[ok] = shapely.get_type_id(geoms[ok])
    is_point = (kinds == 0) | (kinds == 4)
    is_area = (kinds == 3) | (kinds == 6)
    is_line = (kinds == 1) | (kinds == 2) | (kinds == 5)
    owners, xs, ys = [], [], []
    if is_point.any():
        idx = np.flatnonzero(is_point)
        parts = shapely.get_parts(geoms[idx], return_index=True)
        c = shapely.get_coordinates(parts[0])
        owners.append(idx[parts[1]])
        xs.append(c[:, 0])
        ys.append(c[:, 1])
    outline_idx = np.flatnonzero(is_area | is_line)
    if outline_idx.size:
        g = geoms[outline_idx]
        g = np.where(is_area[outline_idx], shapely.boundary(g), g)
        g = shapely.segmentize(g, boundary_step_m)
        c, which = shapely.get_coordinates(g, return_index=True)
        owners.append(outline_idx[which])
        xs.append(c[:, 0])
        ys.append(c[:, 1])
    if not owners:
        return AccessPoints(np.empty(0, np.int64), np.empty(0), np.empty(0))
    return AccessPoints(
        np.concatenate(owners).astype(np.int64), np.concatenate(xs), np.concatenate(ys)
    )


def building_access_points(
    buildings: gpd.GeoDataFrame,
    net: WalkNetwork,
    *,
    entrances: gpd.GeoDataFrame | None = None,
    max_snap_m: float,
    entrance_tolerance_m: float = ENTRANCE_TOLERANCE_M,
) -> AccessPoints:
    """Access points of buildings: their mapped entrances, else the footprint point nearest the
    network.

    Parameters
    ----------
    buildings : GeoDataFrame
        Footprints (Polygon / MultiPolygon, or Points) in the network's CRS.
    net : WalkNetwork
        The walking network.
    entrances : GeoDataFrame, optional
        Entrance points; one belongs to a building when within ``entrance_tolerance_m`` of it.
    max_snap_m : float
        Footprints farther than this from every edge get no access point.

    Returns
    -------
    AccessPoints
        ``owner`` is the building's row position.
    """
    geoms = buildings.geometry.to_numpy()
    ok = _valid_geometry(geoms)
    owners, xs, ys = [], [], []
    has_entrance = np.zeros(geoms.size, dtype=bool)
    if entrances is not None and len(entrances) and ok.any():
        eg = entrances.geometry.to_numpy()
        eg = eg[_valid_geometry(eg)]
        if eg.size:
            tree = shapely.STRtree(geoms[ok])
            e_idx, b_idx = tree.query(eg, predicate="dwithin", distance=entrance_tolerance_m)
            if e_idx.size:
                b_pos = np.flatnonzero(ok)[b_idx]
                c = shapely.get_coordinates(eg[e_idx])
                owners.append(b_pos)
                xs.append(c[:, 0])
                ys.append(c[:, 1])
                has_entrance[b_pos] = True
    rest = np.flatnonzero(ok & ~has_entrance)
    if rest.size:
        g = geoms[rest]
        kinds = shapely.get_type_id(g)
        pts = (kinds == 0) | (kinds == 4)
        if pts.any():
            c = shapely.get_coordinates(shapely.centroid(g[pts]))
            owners.append(rest[pts])
            xs.append(c[:, 0])
            ys.append(c[:, 1])
        polys = rest[~pts]
        if polys.size:
            segs = shapely.linestrings(
                np.stack(
                    [
                        np.stack([net.x[net.edge_u], net.y[net.edge_u]], axis=1),
                        np.stack([net.x[net.edge_v], net.y[net.edge_v]], axis=1),
                    ],
                    axis=1,
                )
            )
            tree = shapely.STRtree(segs)
            p_idx, s_idx = tree.query_nearest(
                geoms[polys], max_distance=max_snap_m, all_matches=False
            )
            lines = shapely.shortest_line(geoms[polys][p_idx], segs[s_idx])
            c = shapely.get_coordinates(shapely.get_point(lines, 0))
            owners.append(polys[p_idx])
            xs.append(c[:, 0])
            ys.append(c[:, 1])
    if not owners:
        return AccessPoints(np.empty(0, np.int64), np.empty(0), np.empty(0))
    return AccessPoints(
        np.concatenate(owners).astype(np.int64), np.concatenate(xs), np.concatenate(ys)
    )
