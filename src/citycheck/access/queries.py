"""Queries on an access graph: nearest distances, counts within radii, distances and
(source, target) pairs within a cutoff, reachable sets, isochrones and routes.

All distances are along the network in metres, snap distances included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numba import get_num_threads

from citycheck.access._kernels import (
    bounded_search,
    bucket_count,
    default_blocks,
    dijkstra_pred,
    pairs_csr,
)
from citycheck.access._search import (
    counts_by_category,
    increasing_within,
    nearest_by_category,
    query_rows,
    thread_plan,
)
from citycheck.access.graph import AccessGraph
from citycheck.access.snapping import SegmentIndex

#: Most patches one category's sources are split into (one search thread each).
MAX_SPLIT = 8

__all__ = [
    "CSRArrays",
    "Route",
    "bucket_width",
    "counts_within",
    "distances_within",
    "isochrone",
    "nearest_distance",
    "pairs_within",
    "reachable_within",
    "route",
]

#: A graph's CSR arrays ``(indptr, indices, weights, transit)`` (as in :class:`AccessGraph`):
#: what :func:`distances_within` reads, so a caller may search a graph it is editing, or with
#: another ``transit`` (every node passable, say).
CSRArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: GB 50180-2018 equates the 15-minute life circle with about 1000 m of walking (§2.0.2 and the
#: table of life-circle ranges), i.e. 1000 m / 900 s.
DEFAULT_SPEED_M_S = 1000.0 / 900.0


def bucket_width(cutoff_m: float) -> float:
    """Bucket width of the bounded bucket search behind :func:`distances_within` and
    :func:`pairs_within`: ``cutoff / 64``, at least 0.5 m.

    Wider buckets mean fewer bucket sweeps and list moves; edges shorter than the width may be
    scanned again (label-correcting), which keeps the result exact.
    """
    return max(float(cutoff_m) / 64.0, 0.5)


def _query_rows(n_nodes: int, query_nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Output row of every node (-1: not queried), rows in node order for memory locality;
    and the row of each query node (None when that is the identity: no reordering needed)."""
    qrow, row_of, code = query_rows(n_nodes, np.ascontiguousarray(query_nodes, dtype=np.int64))
    if code == -1:
        raise ValueError(
            "query_nodes: ids must be nodes of the graph (-1 marks an unjoined owner; filter it)"
        )
    if code == -2:
        raise ValueError("query_nodes: duplicate node ids")
    return qrow, (None if code == 1 else row_of)


def _pack(sources: Mapping[str, np.ndarray]) -> tuple[list[str], np.ndarray, np.ndarray]:
    names = list(sources)
    arrays = [np.asarray(sources[c], dtype=np.int64) for c in names]
    arrays = [np.sort(a[a >= 0]) for a in arrays]  # node order = Morton order: cache locality
    ptr = np.zeros(len(names) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([a.size for a in arrays])
    nodes = np.concatenate(arrays) if arrays else np.empty(0, np.int64)
    return names, ptr, nodes


def nearest_distance(
    graph: AccessGraph,
    sources: Mapping[str, np.ndarray],
    query_nodes: np.ndarray,
    *,
    cutoff_m: float,
    n_threads: int | None = None,
    dtype: type = np.float64,
) -> dict[str, np.ndarray]:
    """Distance from each query node to the nearest source of each category.

    One multi-source bounded search per category (:mod:`citycheck.access._search`).

    Parameters
    ----------
    graph : AccessGraph
        The network with hubs.
    sources : mapping of str to ndarray
        Category to source nodes (facility hubs; -1 entries are ignored).
    query_nodes : ndarray of int
        Nodes to report (building hubs, or street nodes).
    cutoff_m : float
        Search bound; farther distances are +inf.
    n_threads : int, optional
        Threads (numba's setting by default): the categories are spread over them, or, with
        fewer categories than threads, each category's sources are split over them.
    dtype : {numpy.float64, numpy.float32}
        Result type. float32 halves the memory; each distance is rounded up (at most 1.2e-4 m
        above the exact one at 1500 m, and ``d <= r`` stays exact for whole and half metres).

    Returns
    -------
    dict of str to ndarray
        Category to distances (metres) aligned with ``query_nodes``.
    """
    names, ptr, nodes = _pack(sources)
    qn = np.ascontiguousarray(query_nodes, dtype=np.int64)
    search_qn: np.ndarray | None = qn  # read in node order: the search gathers the rows
    if increasing_within(graph.n_nodes, qn):  # rows gathered in node order: no row map
        qrow, row_of = np.empty(0, dtype=np.int32), None
    else:
        qrow, row_of = _query_rows(graph.n_nodes, qn)
        search_qn = None
    threads = max(1, n_threads or get_num_threads())
    # fewer categories than threads: each category's sources split over the threads instead
    # (at most MAX_SPLIT patches: each holds a node-sized scratch, 9.4 MiB at 1 M nodes)
    split = min(threads, MAX_SPLIT) if 0 < len(names) < threads else 1
    out = nearest_by_category(
        graph.indptr,
        graph.indices,
        graph.weights,
        graph.transit,
        thread_plan(np.ones(len(names)), threads),
        ptr,
        nodes,
        float(cutoff_m),
        qrow,
        int(np.asarray(query_nodes).size),
        dtype=dtype,
        qn=search_qn,
        edges=graph.search_edges,
        split=split,
    )
    if row_of is None:  # query in node order: no copy
        return {c: out[k] for k, c in enumerate(names)}
    return {c: out[k][row_of] for k, c in enumerate(names)}


def counts_within(
    graph: AccessGraph,
    sources: Mapping[str, np.ndarray],
    query_nodes: np.ndarray,
    *,
    radii_m: Sequence[float],
    n_threads: int | None = None,
    dtype: type = np.float64,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Number of sources within each radius, and the nearest distance, per category.

    Each source (a facility hub) is searched once up to the largest radius.

    Parameters
    ----------
    graph : AccessGraph
    sources : mapping of str to ndarray
        Category to facility hubs (one per facility; -1 ignored).
    query_nodes : ndarray of int
        Nodes to report.
    radii_m : sequence of float
        Radii in metres (sorted here); a source exactly at a radius counts.
    n_threads : int, optional
        Threads to spread the categories over (numba's setting by default).
    dtype : {numpy.float64, numpy.float32}
        Type of the nearest distances, as in :func:`nearest_distance`.

    Returns
    -------
    counts : dict of str to ndarray
        Category to an unsigned integer array (n_query, n_radii), cumulative; its type is the
        smallest that holds the largest category's number of sources (uint8 up to 255, uint16
        up to 65 535, ...): cast before subtracting.
    nearest : dict of str to ndarray
        Category to distances (+inf beyond the largest radius), as :func:`nearest_distance`.
    """
    radii = np.sort(np.asarray(radii_m, dtype=np.float64))
    if radii.size == 0 or not np.all(np.isfinite(radii)) or radii[0] < 0:
        raise ValueError(f"radii_m: need finite non-negative radii, got {list(radii_m)}")
    names, ptr, nodes = _pack(sources)
    qrow, row_of = _query_rows(graph.n_nodes, query_nodes)
    n_query = int(np.asarray(query_nodes).size)
    counts, near = counts_by_category(
        graph.indptr,
        graph.indices,
        graph.weights,
        graph.transit,
        thread_plan(np.diff(ptr).astype(np.float64), n_threads),
        ptr,
        np.arange(nodes.size + 1, dtype=np.int64),
        nodes,
        radii,
        qrow,
        n_query,
        dtype=dtype,
    )
    if row_of is None:  # query in node order: no copy
        return (
            {c: counts[k] for k, c in enumerate(names)},
            {c: near[k] for k, c in enumerate(names)},
        )
    return (
        {c: counts[k][row_of] for k, c in enumerate(names)},
        {c: near[k][row_of] for k, c in enumerate(names)},
    )


def _csr_arrays(graph: AccessGraph | CSRArrays) -> CSRArrays:
    if isinstance(graph, AccessGraph):
        return graph.indptr, graph.indices, graph.weights, graph.transit
    indptr, indices, weights, transit = graph
    return indptr, indices, weights, transit


def _check_cutoff(cutoff_m: float) -> float:
    cutoff = float(cutoff_m)
    if not (np.isfinite(cutoff) and cutoff >= 0):
        raise ValueError(f"cutoff_m: need a finite non-negative bound, got {cutoff_m}")
    return cutoff


def _check_nodes(name: str, nodes: np.ndarray, n_nodes: int) -> None:
    if nodes.size and (nodes.max() >= n_nodes or nodes.min() < -1):
        raise ValueError(f"{name}: ids must be nodes of the graph (or -1 for none)")


def distances_within(
    graph: AccessGraph | CSRArrays,
    nodes: np.ndarray,
    offsets: np.ndarray | None = None,
    *,
    cutoff_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Every node within ``cutoff_m`` of a set of sources, and its distance.

    One multi-source bounded search (a bucket queue, exact whatever the bucket width): the
    distance of a node is the least ``offsets[k]`` + network distance from ``nodes[k]``. Hubs
    (non-transit nodes) are reached but never passed through, unless they are a source.

    Parameters
    ----------
    graph : AccessGraph or CSRArrays
        The network with hubs, or its arrays ``(indptr, indices, weights, transit)``.
    nodes : ndarray of int
        Source nodes (-1 entries are ignored).
    offsets : ndarray of float, optional
        Distance already walked at each source (metres, 0 by default); sources with an offset
        beyond ``cutoff_m`` start nothing.
    cutoff_m : float
        Search bound (metres, finite); nodes exactly at the bound are reached.

    Returns
    -------
    reached : ndarray of int64
        The nodes within ``cutoff_m``, sources included, in the order the search reached them.
    distance : ndarray of float64
        Their distances (metres).
    """
    indptr, indices, weights, transit = _csr_arrays(graph)
    cutoff = _check_cutoff(cutoff_m)
    n = indptr.size - 1
    src = np.asarray(nodes, dtype=np.int64).reshape(-1)
    off = np.zeros(src.size) if offsets is None else np.asarray(offsets, dtype=np.float64)
    off = off.reshape(-1)
    if off.size != src.size:
        raise ValueError(f"offsets: {off.size} values for {src.size} nodes")
    _check_nodes("nodes", src, n)
    keep = src >= 0
    if not keep.all():
        src, off = src[keep], off[keep]
    width = bucket_width(cutoff)
    dist = np.full(n, np.inf)
    touched = np.empty(n, dtype=np.int32)
    n_t = bounded_search(
        indptr,
        indices,
        weights,
        transit,
        np.ascontiguousarray(src),
        np.ascontiguousarray(off),
        cutoff,
        width,
        dist,
        touched,
        np.empty(bucket_count(cutoff, width), dtype=np.int32),
        np.empty(n, dtype=np.int32),
        np.empty(n, dtype=np.int32),
        np.full(n, -1, dtype=np.int32),
    )
    reached = touched[:n_t].astype(np.int64)
    return reached, dist[reached]


def pairs_within(
    graph: AccessGraph,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    cutoff_m: float,
    n_blocks: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (source, target) pair within ``cutoff_m``, and its walking distance.

    Each source is searched on its own (as :func:`distances_within` from that node alone), in
    parallel over blocks of sources; the table is the same whatever the blocks and threads.

    Parameters
    ----------
    graph : AccessGraph
    sources : ndarray of int
        Source nodes (candidate sites' hubs, say); -1 reaches nothing but keeps its slot.
    targets : ndarray of int
        Target nodes (demand hubs, say); -1 is never reached. No node may be listed twice.
    cutoff_m : float
        Walking limit (metres, finite); pairs exactly at the limit are included.
    n_blocks : int, optional
        Blocks of sources the parallel passes are split into (4 per numba thread by default).

    Returns
    -------
    ptr : ndarray of int64 (n_sources + 1)
        The pairs of source ``k`` are ``ptr[k]:ptr[k + 1]`` of the two arrays below.
    target : ndarray of int64
        Position in ``targets`` of each reached target, per source in the order its search
        reached them.
    distance : ndarray of float64
        Walking distance (metres) of each pair; a source's own node is at 0.
    """
    cutoff = _check_cutoff(cutoff_m)
    tg = np.asarray(targets, dtype=np.int64).reshape(-1)
    src = np.ascontiguousarray(np.asarray(sources, dtype=np.int64).reshape(-1))
    _check_nodes("sources", src, graph.n_nodes)
    _check_nodes("targets", tg, graph.n_nodes)
    ok = tg >= 0
    if np.unique(tg[ok]).size != int(ok.sum()):
        raise ValueError("targets: duplicate node ids")
    qrow = np.full(graph.n_nodes, -1, dtype=np.int64)
    qrow[tg[ok]] = np.flatnonzero(ok)
    width = bucket_width(cutoff)
    return pairs_csr(
        graph.indptr,
        graph.indices,
        graph.weights,
        graph.transit,
        src,
        cutoff,
        width,
        bucket_count(cutoff, width),
        qrow,
        n_blocks or default_blocks(),
    )


def _point_sources(
    graph: AccessGraph, x: float, y: float, max_snap_m: float, index: SegmentIndex | None
) -> tuple[np.ndarray, np.ndarray, float, tuple[float, float]]:
    """Start nodes and offsets for an arbitrary point (both ends of its nearest street edge),
    its snap distance and the snapped point."""
    idx = index or street_index(graph, max_snap_m)
    e, t, d = idx.nearest(np.array([x]), np.array([y]), max_snap_m)
    if e[0] < 0:
        raise ValueError(
            f"point ({x:.1f}, {y:.1f}) is farther than max_snap_m={max_snap_m} from the network"
        )
    k = int(e[0])
    L = graph.edge_len[k]
    u, v = graph.edge_u[k], graph.edge_v[k]
    nodes = np.array([u, v], dtype=np.int64)
    offs = np.array([d[0] + t[0] * L, d[0] + (1 - t[0]) * L])
    on = (
        float(graph.x[u] + t[0] * (graph.x[v] - graph.x[u])),
        float(graph.y[u] + t[0] * (graph.y[v] - graph.y[u])),
    )
    return nodes, offs, float(d[0]), on


def street_index(graph: AccessGraph, cell_m: float) -> SegmentIndex:
    """A nearest-edge index over the street edges of ``graph`` (stubs excluded)."""
    from citycheck.access.network import WalkNetwork

    assert graph.component is not None  # attach() labels every node
    shim = WalkNetwork(
        x=graph.x,
        y=graph.y,
        edge_u=graph.edge_u,
        edge_v=graph.edge_v,
        edge_len=graph.edge_len,
        component=graph.component,
    )
    return SegmentIndex.build(shim, cell_m)


def reachable_within(
    graph: AccessGraph,
    x: float,
    y: float,
    targets: np.ndarray,
    *,
    radius_m: float,
    max_snap_m: float = 100.0,
) -> np.ndarray:
    """Distances from a point to each target hub within ``radius_m`` (+inf beyond)."""
    nodes, offs, _, _ = _point_sources(graph, x, y, max_snap_m, None)
    dist, _ = dijkstra_pred(
        graph.indptr,
        graph.indices,
        graph.weights,
        graph.transit,
        nodes,
        offs,
        float(radius_m),
        np.empty(0, np.int64),
    )
    tg = np.asarray(targets, dtype=np.int64)
    out = np.full(tg.size, np.inf)
    ok = tg >= 0
    out[ok] = dist[tg[ok]]
    return out


def isochrone(
    graph: AccessGraph,
    x: float,
    y: float,
    *,
    minutes: float,
    speed_m_s: float = DEFAULT_SPEED_M_S,
    buffer_m: float = 25.0,
    max_snap_m: float = 100.0,
) -> shapely.Geometry:
    """Area reachable on foot from a point within ``minutes``.

    The reached network (whole edges, and the reached part of edges left partly) is buffered by
    ``buffer_m`` and dissolved.

    Returns
    -------
    shapely Polygon or MultiPolygon (empty when nothing is reached)
    """
    if minutes < 0 or speed_m_s <= 0:
        raise ValueError(f"isochrone: minutes={minutes}, speed_m_s={speed_m_s} must be positive")
    budget = minutes * 60.0 * speed_m_s
    nodes, offs, snap, _ = _point_sources(graph, x, y, max_snap_m, None)
    dist, _ = dijkstra_pred(
        graph.indptr,
        graph.indices,
        graph.weights,
        graph.transit,
        nodes,
        offs,
        float(budget),
        np.empty(0, np.int64),
    )
    u, v, L = graph.edge_u, graph.edge_v, graph.edge_len
    du, dv = dist[u], dist[v]
    reach_u = np.clip(budget - du, 0, None)  # metres along the edge from u
    reach_v = np.clip(budget - dv, 0, None)
    reach_u[~np.isfinite(du)] = 0
    reach_v[~np.isfinite(dv)] = 0
    pieces = []
    full = reach_u + reach_v >= L
    sel = np.flatnonzero(full & (np.isfinite(du) | np.isfinite(dv)))
    if sel.size:
        pieces.append(
            shapely.linestrings(
                np.stack(
                    [
                        np.stack([graph.x[u[sel]], graph.y[u[sel]]], 1),
                        np.stack([graph.x[v[sel]], graph.y[v[sel]]], 1),
                    ],
                    1,
                )
            )
        )
    for a, b, r in ((u, v, reach_u), (v, u, reach_v)):
        sel = np.flatnonzero(~full & (r > 0))
        if sel.size:
            f = np.divide(r[sel], L[sel], out=np.zeros(sel.size), where=L[sel] > 0)
            ex = graph.x[a[sel]] + f * (graph.x[b[sel]] - graph.x[a[sel]])
            ey = graph.y[a[sel]] + f * (graph.y[b[sel]] - graph.y[a[sel]])
            pieces.append(
                shapely.linestrings(
                    np.stack(
                        [np.stack([graph.x[a[sel]], graph.y[a[sel]]], 1), np.stack([ex, ey], 1)], 1
                    )
                )
            )
    start = shapely.points(x, y)
    if not pieces:
        return shapely.buffer(start, buffer_m) if snap <= budget else shapely.Polygon()
    lines = np.concatenate(pieces)
    return shapely.union_all(shapely.buffer(np.append(lines, start), buffer_m))


@dataclass(frozen=True)
class Route:
    """A shortest walking route between two points.

    Attributes
    ----------
    length_m : float
        Network length including both snap distances (+inf when no route exists).
    geometry : shapely LineString
        From the origin through the network to the destination (empty when no route).
    nodes : ndarray
        Graph nodes along the route.
    """

    length_m: float
    geometry: shapely.Geometry
    nodes: np.ndarray


def route(
    graph: AccessGraph,
    origin: tuple[float, float],
    destination: tuple[float, float],
    *,
    max_snap_m: float = 100.0,
) -> Route:
    """Shortest walking route between two points (each joined at its nearest edge)."""
    index = street_index(graph, max_snap_m)
    o_nodes, o_offs, o_snap, o_on = _point_sources(graph, *origin, max_snap_m, index)
    d_nodes, d_offs, d_snap, d_on = _point_sources(graph, *destination, max_snap_m, index)
    dist, pred = dijkstra_pred(
        graph.indptr,
        graph.indices,
        graph.weights,
        graph.transit,
        o_nodes,
        o_offs,
        np.inf,
        d_nodes,
    )
    ends = dist[d_nodes] + d_offs
    k = int(np.argmin(ends))
    best = float(ends[k])
    # both points on the same edge: walk along it directly
    e_o = index.nearest(np.array([origin[0]]), np.array([origin[1]]), max_snap_m)
    e_d = index.nearest(np.array([destination[0]]), np.array([destination[1]]), max_snap_m)
    if e_o[0][0] == e_d[0][0]:
        L = graph.edge_len[e_o[0][0]]
        direct = o_snap + abs(e_o[1][0] - e_d[1][0]) * L + d_snap
        if direct <= best:
            a = (
                graph.x[graph.edge_u[e_o[0][0]]],
                graph.y[graph.edge_u[e_o[0][0]]],
            )
            b = (graph.x[graph.edge_v[e_o[0][0]]], graph.y[graph.edge_v[e_o[0][0]]])
            pts = [origin]
            for tt in (e_o[1][0], e_d[1][0]):
                pts.append((a[0] + tt * (b[0] - a[0]), a[1] + tt * (b[1] - a[1])))
            pts.append(destination)
            return Route(float(direct), shapely.LineString(pts), np.empty(0, np.int64))
    if not np.isfinite(best):
        return Route(np.inf, shapely.LineString(), np.empty(0, np.int64))
    path = [int(d_nodes[k])]
    while pred[path[-1]] != -1:
        path.append(int(pred[path[-1]]))
    path.reverse()
    pts = [origin, o_on] + [(graph.x[i], graph.y[i]) for i in path] + [d_on, destination]
    return Route(best, shapely.LineString(pts), np.asarray(path, dtype=np.int64))
