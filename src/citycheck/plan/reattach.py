"""A new path in the access graph, with the buildings and facilities that now join it.

When a path is opened between two street nodes, the accessibility engine would snap some access
points to it: those nearer to the new path than to any other way (a building on a campus island,
one beyond the snapping distance of every way, a facility beside the new path). This module
redoes the engine's snapping (:func:`~citycheck.access.snapping.building_access_points`,
:func:`~citycheck.access.snapping.facility_access_points`, nearest edge within ``max_snap_m``)
for the owners near the path only, and rebuilds the graph with the path split at their new
access points and their stubs replaced. Node ids of the graph are kept; new split nodes and new
hubs (owners that had none) are appended.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from citycheck.access.graph import END_TOLERANCE_M, AccessGraph, graph_csr
from citycheck.access.network import WalkNetwork
from citycheck.access.snapping import (
    SegmentIndex,
    building_access_points,
    facility_access_points,
)

__all__ = ["Reattached", "open_path"]

#: An access point recomputed on an unchanged way must land on an existing node (the split
#: node made for it when the graph was built); this is the tolerance of that match (metres).
NODE_MATCH_M = 1e-3


@dataclass(frozen=True)
class Reattached:
    """The graph with the new path, and the owners whose access changed.

    Attributes
    ----------
    graph : AccessGraph
        Node ids of the old graph kept; split nodes of the path and new hubs appended.
    buildings, facilities : ndarray of int64
        Owner rows (building rows; positions in the graph's facility hubs) now joined to the
        path; their stubs were replaced.
    new_hubs : dict of str to ndarray
        Per owner set, the rows that had no hub before (beyond the snapping distance).
    snap_m : dict of str to ndarray
        Per owner set, the new shortest snap distance of the re-attached rows.
    """

    graph: AccessGraph
    buildings: np.ndarray
    facilities: np.ndarray
    new_hubs: dict[str, np.ndarray]
    snap_m: dict[str, np.ndarray]


def _shim(graph: AccessGraph, u: np.ndarray, v: np.ndarray, length: np.ndarray) -> WalkNetwork:
    assert graph.component is not None  # attach() labels every node
    return WalkNetwork(
        x=graph.x,
        y=graph.y,
        edge_u=u,
        edge_v=v,
        edge_len=length,
        component=graph.component,
    )


def _near(geoms: np.ndarray, seg: shapely.LineString, dist: float) -> np.ndarray:
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = np.zeros(geoms.size, dtype=bool)
    out[ok] = shapely.dwithin(geoms[ok], seg, dist)
    return np.flatnonzero(out)


def open_path(
    graph: AccessGraph,
    na: int,
    nb: int,
    length_m: float,
    *,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    entrances: gpd.GeoDataFrame | None,
    max_snap_m: float,
) -> Reattached:
    """Add the path ``na``–``nb`` (street nodes) and re-snap the owners near it.

    Parameters
    ----------
    graph : AccessGraph
    na, nb : int
        Street nodes joined by the path (straight between them).
    length_m : float
        Walking length of the path (its weight; positions along it scale with it).
    buildings : GeoDataFrame
        The buildings in the rows of ``graph.hubs["buildings"]``.
    facilities : GeoDataFrame
        The facilities in the rows of ``graph.hubs["facilities"]`` (geometry only used).
    entrances : GeoDataFrame or None
        Entrance points, as given to the engine.
    max_snap_m : float
        The engine's snapping distance.

    Returns
    -------
    Reattached
    """
    seg = shapely.LineString([(graph.x[na], graph.y[na]), (graph.x[nb], graph.y[nb])])
    geo_len = float(seg.length)
    owner_sets = {"buildings": buildings, "facilities": facilities}
    near = {k: _near(g.geometry.to_numpy(), seg, max_snap_m) for k, g in owner_sets.items()}
    # the ways that may be nearer to these owners than the path: a box around them
    boxes = [
        shapely.total_bounds(owner_sets[k].geometry.to_numpy()[near[k]])
        for k in near
        if near[k].size
    ]
    moved: dict[str, list[np.ndarray]] = {"buildings": [], "facilities": []}
    pts: dict[str, tuple[np.ndarray, ...]] = {}
    if boxes:
        b = np.array(boxes)
        x0, y0 = b[:, 0].min() - max_snap_m, b[:, 1].min() - max_snap_m
        x1, y1 = b[:, 2].max() + max_snap_m, b[:, 3].max() + max_snap_m
        ex = np.stack([graph.x[graph.edge_u], graph.x[graph.edge_v]])
        ey = np.stack([graph.y[graph.edge_u], graph.y[graph.edge_v]])
        local = np.flatnonzero(
            (ex.max(0) >= x0) & (ex.min(0) <= x1) & (ey.max(0) >= y0) & (ey.min(0) <= y1)
        )
        lu = np.append(graph.edge_u[local], na)
        lv = np.append(graph.edge_v[local], nb)
        ll = np.append(graph.edge_len[local], geo_len)
        shim = _shim(graph, lu, lv, ll)
        index = SegmentIndex.build(shim, max(max_snap_m, 50.0))
        path_edge = local.size  # the last edge of the shim
        for name, gdf in owner_sets.items():
            rows = near[name]
            if not rows.size:
                continue
            sub = gdf.iloc[rows]
            if name == "buildings":
                ap = building_access_points(sub, shim, entrances=entrances, max_snap_m=max_snap_m)
            else:
                ap = facility_access_points(sub)
            e, t, d = index.nearest(ap.x, ap.y, max_snap_m)
            owner = rows[ap.owner]
            on_path = np.unique(owner[e == path_edge])
            keep = np.isin(owner, on_path) & (e >= 0)
            moved[name] = [on_path]
            pts[name] = (owner[keep], e[keep], t[keep], d[keep])
        local_ids = local
    else:
        local_ids = np.empty(0, np.int64)
        path_edge = -1

    # positions of the new access points along the path (weight units), split nodes
    scale = length_m / geo_len if geo_len > 0 else 0.0
    on_s = [pts[k][2][pts[k][1] == path_edge] * geo_len * scale for k in pts if pts[k][0].size]
    pos = np.unique(np.concatenate(on_s)) if on_s else np.empty(0)
    interior = pos[(pos > END_TOLERANCE_M) & (pos < length_m - END_TOLERANCE_M)]
    n0 = graph.n_nodes
    split_ids = n0 + np.arange(interior.size)
    frac = interior / length_m if length_m > 0 else interior
    sx = graph.x[na] + frac * (graph.x[nb] - graph.x[na])
    sy = graph.y[na] + frac * (graph.y[nb] - graph.y[na])
    chain = np.concatenate([[na], split_ids, [nb]]).astype(np.int64)
    chain_pos = np.concatenate([[0.0], interior, [length_m]])

    def node_on_path(p: np.ndarray) -> np.ndarray:
        out = np.empty(p.size, dtype=np.int64)
        at_a = p <= END_TOLERANCE_M
        at_b = ~at_a & (p >= length_m - END_TOLERANCE_M)
        mid = ~at_a & ~at_b
        out[at_a], out[at_b] = na, nb
        out[mid] = split_ids[np.searchsorted(interior, p[mid])]
        return out

    def node_on_piece(edge_local: np.ndarray, t: np.ndarray) -> np.ndarray:
        e = local_ids[edge_local]
        length = graph.edge_len[e]
        at_u = t * length <= NODE_MATCH_M
        at_v = (1 - t) * length <= NODE_MATCH_M
        if not (at_u | at_v).all():
            raise RuntimeError(
                "connect: an access point away from the new path no longer falls on its "
                "split node; the graph and the city do not match"
            )
        return np.where(at_u, graph.edge_u[e], graph.edge_v[e])

    # new hubs for owners that had none; stubs of the moved owners replaced
    next_id = n0 + interior.size
    hubs = {k: v.copy() for k, v in graph.hubs.items()}
    snap = {k: v.copy() for k, v in graph.snap_m.items()}
    new_hubs: dict[str, np.ndarray] = {}
    new_snap: dict[str, np.ndarray] = {}
    drop = np.zeros(graph.stub_hub.size, dtype=bool)
    add_hub, add_node, add_len = [], [], []
    hub_x, hub_y = [], []
    for name in ("buildings", "facilities"):
        rows = moved[name][0] if moved[name] else np.empty(0, np.int64)
        fresh = rows[hubs[name][rows] < 0]
        hubs[name][fresh] = next_id + np.arange(fresh.size)
        next_id += fresh.size
        new_hubs[name] = fresh
        if not rows.size:
            new_snap[name] = np.empty(0)
            continue
        drop |= np.isin(graph.stub_hub, hubs[name][rows])
        owner, e, t, d = pts[name]
        sel = np.isin(owner, rows)
        owner, e, t, d = owner[sel], e[sel], t[sel], d[sel]
        node = np.empty(owner.size, dtype=np.int64)
        p = e == path_edge
        node[p] = node_on_path(t[p] * geo_len * scale)
        node[~p] = node_on_piece(e[~p], t[~p])
        add_hub.append(hubs[name][owner])
        add_node.append(node)
        add_len.append(d)
        best = np.full(rows.size, np.inf)
        np.minimum.at(best, np.searchsorted(rows, owner), d)
        snap[name][rows] = best
        new_snap[name] = best
        if fresh.size:  # a new hub sits at its nearest access point's node
            first: dict[int, tuple[int, float]] = {}
            for o, nd, dd in zip(owner.tolist(), node.tolist(), d.tolist(), strict=True):
                if o not in first or dd < first[o][1]:
                    first[o] = (nd, dd)
            ids = [first[int(o)][0] for o in fresh]
            all_x = np.concatenate([graph.x, sx])
            all_y = np.concatenate([graph.y, sy])
            hub_x.append(all_x[ids])
            hub_y.append(all_y[ids])

    # every street piece stays; the path is added as the chain of its split nodes
    edge_u = np.concatenate([graph.edge_u, chain[:-1]])
    edge_v = np.concatenate([graph.edge_v, chain[1:]])
    edge_len = np.concatenate([graph.edge_len, np.diff(chain_pos)])
    stub_hub = np.concatenate([graph.stub_hub[~drop], *add_hub])
    stub_node = np.concatenate([graph.stub_node[~drop], *add_node])
    stub_len = np.concatenate([graph.stub_len[~drop], *add_len])
    n_hub_new = next_id - n0 - interior.size
    x = np.concatenate([graph.x, sx, *hub_x])
    y = np.concatenate([graph.y, sy, *hub_y])
    transit = np.concatenate(
        [graph.transit, np.ones(interior.size, dtype=bool), np.zeros(n_hub_new, dtype=bool)]
    )
    comp = graph.component if graph.component is not None else np.zeros(n0, np.int32)
    component = np.concatenate(
        [comp, np.full(interior.size + n_hub_new, comp[na], dtype=comp.dtype)]
    )
    n = int(x.size)
    indptr, indices, weights = graph_csr(n, edge_u, edge_v, edge_len, stub_hub, stub_node, stub_len)
    new_graph = dataclasses.replace(
        graph,
        x=x,
        y=y,
        indptr=indptr,
        indices=indices,
        weights=weights,
        transit=transit,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_len=edge_len,
        stub_hub=stub_hub,
        stub_node=stub_node,
        stub_len=stub_len,
        hubs=hubs,
        snap_m=snap,
        component=component,
    )
    return Reattached(
        graph=new_graph,
        buildings=moved["buildings"][0] if moved["buildings"] else np.empty(0, np.int64),
        facilities=moved["facilities"][0] if moved["facilities"] else np.empty(0, np.int64),
        new_hubs=new_hubs,
        snap_m=new_snap,
    )
