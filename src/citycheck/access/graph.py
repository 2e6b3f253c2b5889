"""The access graph: the walking network with buildings and facilities joined to it.

Each snapped access point splits its edge at the snap position (a new node unless it falls on an
end node). Each owner (a building or a facility) becomes one *hub* node linked to the split nodes
of its access points by *stub* edges as long as the snap distances. Hubs are non-transit: routes
start or end at them but never pass through, so a building with two entrances or a park with
many boundary access points never becomes a shortcut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from citycheck.access._kernels import csr_from_edges
from citycheck.access._search import search_edges
from citycheck.access.network import WalkNetwork
from citycheck.access.snapping import Snaps

__all__ = ["AccessGraph", "attach", "graph_csr"]

#: A snap closer than this (metres) to an edge end joins that end node instead of splitting.
END_TOLERANCE_M = 1e-6


@dataclass(frozen=True, eq=False)
class AccessGraph:
    """Walking network plus hubs.

    Attributes
    ----------
    base : WalkNetwork
        The network before joining.
    x, y : ndarray
        Coordinates of every node (street nodes, split nodes, then hubs at their owner's
        first access point).
    indptr, indices, weights : ndarray
        Symmetric CSR of all edges (street pieces and stubs). Lengths (here and in
        ``edge_len``, ``stub_len``) are float64 arrays holding float32 values (rounded to
        nearest, within 2**-24 relative), so the search can store them in half the bytes.
    transit : ndarray of bool
        False at hubs.
    edge_u, edge_v, edge_len : ndarray
        Street edges after splitting (no stubs).
    stub_hub, stub_node, stub_len : ndarray
        Stub edges.
    hubs : dict of str to ndarray
        Per owner set ("buildings", "facilities", ...), the hub node of each owner row, -1 where
        none of its access points was within the snap limit.
    snap_m : dict of str to ndarray
        Per owner set, the shortest snap distance of each owner (NaN where not snapped).
    component : ndarray of int32
        Component label (of the base network) of every street and split node; hubs take the
        label of their nearest access point.
    base_node : ndarray of int64
        The node id in this graph of each node of ``base`` (nodes are renumbered in Morton
        order for memory locality).
    """

    base: WalkNetwork
    x: np.ndarray
    y: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    transit: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_len: np.ndarray
    stub_hub: np.ndarray
    stub_node: np.ndarray
    stub_len: np.ndarray
    hubs: dict[str, np.ndarray] = field(default_factory=dict)
    snap_m: dict[str, np.ndarray] = field(default_factory=dict)
    component: np.ndarray | None = None
    base_node: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes, hubs included."""
        return int(self.x.size)

    @cached_property
    def search_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """The edges as the nearest-distance search reads them
        (:func:`citycheck.access._search.search_edges`), built on first use and kept."""
        return search_edges(self.indices, self.weights)

    @property
    def n_street_nodes(self) -> int:
        """Street and split nodes (every node but the hubs)."""
        return int(self.transit.sum())


def attach(net: WalkNetwork, snaps: dict[str, tuple[Snaps, int]]) -> AccessGraph:
    """Join snapped access points to ``net``.

    Parameters
    ----------
    net : WalkNetwork
        The walking network.
    snaps : dict
        Owner-set name to ``(snaps, n_owners)``; rows of ``snaps`` with ``edge == -1`` (beyond the
        snap limit) are ignored.

    Returns
    -------
    AccessGraph
    """
    names = list(snaps)
    set_id, owner, edge, t, dist = [], [], [], [], []
    for k, name in enumerate(names):
        s, _ = snaps[name]
        ok = s.edge >= 0
        set_id.append(np.full(int(ok.sum()), k, dtype=np.int64))
        owner.append(s.owner[ok])
        edge.append(s.edge[ok])
        t.append(s.t[ok])
        dist.append(s.dist[ok])
    set_id_a = np.concatenate(set_id) if set_id else np.empty(0, np.int64)
    owner_a = np.concatenate(owner) if owner else np.empty(0, np.int64)
    edge_a = np.concatenate(edge) if edge else np.empty(0, np.int64)
    t_a = np.concatenate(t) if t else np.empty(0)
    dist_a = np.concatenate(dist) if dist else np.empty(0)

    n0 = net.n_nodes
    L = net.edge_len[edge_a]
    pos = t_a * L
    at_u = pos <= END_TOLERANCE_M
    at_v = ~at_u & (L - pos <= END_TOLERANCE_M)
    interior = ~at_u & ~at_v
    attach_node = np.empty(edge_a.size, dtype=np.int64)
    attach_node[at_u] = net.edge_u[edge_a[at_u]]
    attach_node[at_v] = net.edge_v[edge_a[at_v]]

    # split nodes: unique (edge, position) among interior snaps, ordered along each edge
    ie = edge_a[interior]
    ip = pos[interior]
    order = np.lexsort((ip, ie))
    se, sp = ie[order], ip[order]
    new = np.ones(se.size, dtype=bool)
    new[1:] = (se[1:] != se[:-1]) | (sp[1:] != sp[:-1])
    split_id = np.cumsum(new) - 1
    node_of_sorted = n0 + split_id
    inter_nodes = np.empty(se.size, dtype=np.int64)
    inter_nodes[order] = node_of_sorted
    attach_node[interior] = inter_nodes
    ue, up = se[new], sp[new]  # unique split positions
    n_split = ue.size
    eu, ev = net.edge_u, net.edge_v
    frac = np.divide(up, net.edge_len[ue], out=np.zeros_like(up), where=net.edge_len[ue] > 0)
    sx = net.x[eu[ue]] + frac * (net.x[ev[ue]] - net.x[eu[ue]])
    sy = net.y[eu[ue]] + frac * (net.y[ev[ue]] - net.y[eu[ue]])
    split_nodes = n0 + np.arange(n_split)

    # chains along split edges
    first = np.ones(n_split, dtype=bool)
    first[1:] = ue[1:] != ue[:-1]
    last = np.ones(n_split, dtype=bool)
    last[:-1] = ue[1:] != ue[:-1]
    prev_node = np.where(first, eu[ue], np.roll(split_nodes, 1))
    prev_pos = np.where(first, 0.0, np.roll(up, 1))
    chain_u = np.concatenate([prev_node, split_nodes[last]])
    chain_v = np.concatenate([split_nodes, ev[ue[last]]])
    chain_l = np.concatenate([up - prev_pos, net.edge_len[ue[last]] - up[last]])
    keep = np.ones(net.n_edges, dtype=bool)
    keep[ue] = False
    street_u = np.concatenate([eu[keep].astype(np.int64), chain_u])
    street_v = np.concatenate([ev[keep].astype(np.int64), chain_v])
    street_l = np.concatenate([net.edge_len[keep], chain_l])

    # hubs: one per owner with at least one snapped access point
    n_street = n0 + n_split
    hubs: dict[str, np.ndarray] = {}
    snap_m: dict[str, np.ndarray] = {}
    next_hub = n_street
    hub_x, hub_y = [], []
    stub_hub = np.empty(edge_a.size, dtype=np.int64)
    comp_street = np.concatenate([net.component, net.component[eu[ue]]])
    for k, name in enumerate(names):
        n_owners = snaps[name][1]
        rows = set_id_a == k
        own = owner_a[rows]
        has = np.zeros(n_owners, dtype=bool)
        has[own] = True
        hub = np.full(n_owners, -1, dtype=np.int64)
        hub[has] = next_hub + np.arange(int(has.sum()))
        next_hub += int(has.sum())
        hubs[name] = hub
        stub_hub[rows] = hub[own]
        best = np.full(n_owners, np.inf)
        np.minimum.at(best, own, dist_a[rows])
        snap_m[name] = np.where(has, best, np.nan)
        # hub coordinates: the attach point of its nearest access point
        idx = np.flatnonzero(rows)
        o = np.lexsort((dist_a[idx], own))
        firsts = idx[o][np.r_[True, own[o][1:] != own[o][:-1]]] if idx.size else idx
        ax = np.concatenate([net.x, sx])[attach_node[firsts]]
        ay = np.concatenate([net.y, sy])[attach_node[firsts]]
        hub_x.append(ax)
        hub_y.append(ay)
    n_hub = next_hub - n_street
    hx = np.concatenate(hub_x) if hub_x else np.empty(0)
    hy = np.concatenate(hub_y) if hub_y else np.empty(0)
    x = np.concatenate([net.x, sx, hx])
    y = np.concatenate([net.y, sy, hy])
    # hub component: that of its first (nearest) access point, computed in hub order
    hub_comp = np.zeros(n_hub, dtype=np.int32)
    if edge_a.size:
        o = np.lexsort((-dist_a, stub_hub))  # last per hub = nearest
        hub_comp[stub_hub[o] - n_street] = comp_street[attach_node[o]]
    component = np.concatenate([comp_street, hub_comp]).astype(np.int32)

    n = n_street + n_hub
    transit = np.ones(n, dtype=bool)
    transit[n_street:] = False
    # renumber every node along a space-filling (Morton) curve so that searches touch
    # neighbouring memory; hubs sit beside their access point
    order = np.argsort(morton_keys(x, y), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    street_u, street_v = rank[street_u], rank[street_v]
    stub_hub, attach_node = rank[stub_hub], rank[attach_node]
    for name in hubs:
        h = hubs[name]
        hubs[name] = np.where(h >= 0, rank[np.maximum(h, 0)], -1)
    # lengths kept to float32 precision (2**-24 relative: 3 micrometres on a 50 m edge) so the
    # nearest-distance search reads 8 bytes per edge (search_edges); they stay float64 arrays
    # and every search adds them in float64
    street_l = street_l.astype(np.float32).astype(np.float64)
    dist_a = dist_a.astype(np.float32).astype(np.float64)
    indptr, indices, weights = graph_csr(
        n, street_u, street_v, street_l, stub_hub, attach_node, dist_a
    )
    return AccessGraph(
        base=net,
        x=x[order],
        y=y[order],
        indptr=indptr,
        indices=indices,
        weights=weights,
        transit=transit[order],
        edge_u=street_u,
        edge_v=street_v,
        edge_len=street_l,
        stub_hub=stub_hub,
        stub_node=attach_node,
        stub_len=dist_a,
        hubs=hubs,
        snap_m=snap_m,
        component=component[order],
        base_node=rank[:n0],
    )


def graph_csr(
    n_nodes: int,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_len: np.ndarray,
    stub_hub: np.ndarray,
    stub_node: np.ndarray,
    stub_len: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The symmetric CSR of an access graph's street edges and stubs.

    For a caller that edits a graph's edges (a new path, say) and rebuilds
    :attr:`AccessGraph.indptr`, ``indices`` and ``weights`` exactly as :func:`attach` does.

    Parameters
    ----------
    n_nodes : int
        Nodes of the graph, hubs included.
    edge_u, edge_v, edge_len : ndarray
        Street edges (both ends, length in metres).
    stub_hub, stub_node, stub_len : ndarray
        Stub edges (hub, access node, snap length in metres).

    Returns
    -------
    indptr : ndarray of int64
    indices : ndarray of int32
    weights : ndarray of float64
        The neighbours of node ``i`` are ``indices[indptr[i]:indptr[i + 1]]``: its street
        edges in the order given, then its stubs.
    """
    return csr_from_edges(
        int(n_nodes),
        np.concatenate([edge_u, stub_hub]),
        np.concatenate([edge_v, stub_node]),
        np.concatenate([edge_len, stub_len]),
    )


def _spread_bits(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.uint64)
    v = (v | (v << np.uint64(16))) & np.uint64(0x0000FFFF0000FFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x3333333333333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x5555555555555555)
    return v


def morton_keys(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morton (Z-order) keys of coordinates quantised to 2**20 steps over their extent."""
    if x.size == 0:
        return np.empty(0, dtype=np.uint64)
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    scale = (2**20 - 1) / span
    qx = ((x - x.min()) * scale).astype(np.uint64)
    qy = ((y - y.min()) * scale).astype(np.uint64)
    return _spread_bits(qx) | (_spread_bits(qy) << np.uint64(1))
