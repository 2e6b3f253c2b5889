"""The public bounded-search queries (``distances_within``, ``pairs_within``) against distances
worked out by hand on a tiny graph, and against scipy's Dijkstra on a real OSM extract.

The oracle (:func:`_oracle`) is independent of the engine's search: it rebuilds the graph from the
street edges and stubs as a directed scipy sparse matrix in which every hub is split in two (arcs
into the hub end at one copy, arcs out of it leave from the other), so a hub is reached but never
passed through unless the search starts there, and runs ``scipy.sparse.csgraph.dijkstra`` with
``limit``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from citycheck.access import AccessGraph, WalkNetwork, distances_within, pairs_within
from citycheck.access.graph import graph_csr

# -- a tiny graph, distances by hand ---------------------------------------------------------
#
#   street:  0 --100-- 1 --50-- 2,  and 0 --300-- 2 (a long way round)
#   hub 3:   stubs to 0 (10 m) and to 2 (10 m): through it 0 -> 2 would be 20 m, but a hub is
#            never passed through, so 0 -> 2 stays 150 m
#   hub 4:   stub to 1 (5 m)          (a building, say)
#   hub 5:   stub to 0 (7 m)          (a facility, say)
#
# from hub 5: 5:0, 0:7, 1:107, 2:157, 3:min(7+10, 157+10)=17, 4:107+5=112
# from node 1: 1:0, 0:100, 2:50, 4:5, 3:min(100+10, 50+10)=60, 5:100+7=107
# with every node passable, from hub 5: 0:7, 3:17, 2:7+10+10=27, 1:min(107, 27+50)=77, 4:82

FROM_5 = {5: 0.0, 0: 7.0, 1: 107.0, 2: 157.0, 3: 17.0, 4: 112.0}
FROM_1 = {1: 0.0, 0: 100.0, 2: 50.0, 4: 5.0, 3: 60.0, 5: 107.0}
FROM_5_PASSABLE = {5: 0.0, 0: 7.0, 3: 17.0, 2: 27.0, 1: 77.0, 4: 82.0}


def tiny_graph() -> AccessGraph:
    x = np.array([0.0, 100.0, 150.0, 75.0, 100.0, 0.0])
    y = np.array([0.0, 0.0, 0.0, 10.0, -5.0, 7.0])
    edge_u, edge_v = np.array([0, 1, 0]), np.array([1, 2, 2])
    edge_len = np.array([100.0, 50.0, 300.0])
    stub_hub, stub_node = np.array([3, 3, 4, 5]), np.array([0, 2, 1, 0])
    stub_len = np.array([10.0, 10.0, 5.0, 7.0])
    indptr, indices, weights = graph_csr(6, edge_u, edge_v, edge_len, stub_hub, stub_node, stub_len)
    base = WalkNetwork(x[:3], y[:3], edge_u, edge_v, edge_len, np.zeros(3, np.int32))
    return AccessGraph(
        base=base,
        x=x,
        y=y,
        indptr=indptr,
        indices=indices,
        weights=weights,
        transit=np.array([True, True, True, False, False, False]),
        edge_u=edge_u,
        edge_v=edge_v,
        edge_len=edge_len,
        stub_hub=stub_hub,
        stub_node=stub_node,
        stub_len=stub_len,
        component=np.zeros(6, np.int32),
    )


def as_dict(nodes: np.ndarray, dist: np.ndarray) -> dict[int, float]:
    assert nodes.dtype == np.int64 and dist.dtype == np.float64
    assert np.unique(nodes).size == nodes.size
    return dict(zip(nodes.tolist(), dist.tolist(), strict=True))


def pair_set(ptr, target, dist) -> list[set[tuple[int, float]]]:
    return [
        set(zip(target[a:b].tolist(), dist[a:b].tolist(), strict=True))
        for a, b in zip(ptr[:-1].tolist(), ptr[1:].tolist(), strict=True)
    ]


@pytest.mark.parametrize(
    ("cutoff", "expect"),
    [
        (1000.0, FROM_5),
        (112.0, {k: v for k, v in FROM_5.items() if k != 2}),  # hub 4 at exactly 112: in
        (111.5, {k: v for k, v in FROM_5.items() if v <= 111.5}),
        (0.0, {5: 0.0}),
    ],
)
def test_distances_within_tiny_graph(cutoff, expect):
    assert as_dict(*distances_within(tiny_graph(), np.array([5]), cutoff_m=cutoff)) == expect


def test_distances_within_tiny_graph_sources_and_offsets():
    g = tiny_graph()
    # two sources: the least of offset + distance; -1 ignored; an offset beyond the cutoff
    # starts nothing
    got = as_dict(*distances_within(g, [5, -1, 1], [0.0, 0.0, 40.0], cutoff_m=1000.0))
    assert got == {v: min(FROM_5[v], 40.0 + FROM_1[v]) for v in FROM_5}
    assert as_dict(*distances_within(g, [1, 5], [2000.0, 0.0], cutoff_m=1000.0)) == FROM_5
    # the graph's arrays with every node passable: the shortcut through hub 3 opens
    relaxed = (g.indptr, g.indices, g.weights, np.ones(6, dtype=bool))
    assert as_dict(*distances_within(relaxed, [5], cutoff_m=1000.0)) == FROM_5_PASSABLE
    # the arrays as they are give what the graph gives
    arrays = (g.indptr, g.indices, g.weights, g.transit)
    assert as_dict(*distances_within(arrays, [5], cutoff_m=1000.0)) == FROM_5


def test_distances_within_rejects_bad_input():
    g = tiny_graph()
    with pytest.raises(ValueError, match="nodes"):
        distances_within(g, [6], cutoff_m=10.0)
    with pytest.raises(ValueError, match="offsets"):
        distances_within(g, [0, 1], [0.0], cutoff_m=10.0)
    with pytest.raises(ValueError, match="cutoff_m"):
        distances_within(g, [0], cutoff_m=np.inf)


@pytest.mark.parametrize("n_blocks", [None, 1, 2, 5])
def test_pairs_within_tiny_graph(n_blocks):
    g = tiny_graph()
    targets = np.array([4, 3, -1, 2])
    ptr, target, dist = pairs_within(
        g, np.array([5, -1, 1]), targets, cutoff_m=120.0, n_blocks=n_blocks
    )
    assert ptr.tolist() == [0, 2, 2, 5]
    assert target.dtype == np.int64 and dist.dtype == np.float64
    assert pair_set(ptr, target, dist) == [
        {(0, 112.0), (1, 17.0)},  # hub 5: hub 4 at 112, hub 3 at 17 (node 2 is 157 away)
        set(),  # -1 reaches nothing
        {(0, 5.0), (1, 60.0), (3, 50.0)},  # node 1: hub 4, hub 3 through node 2, node 2
    ]
    # the boundary: 112 is in at 112 and out below it
    ptr, target, _ = pairs_within(g, np.array([5]), np.array([4]), cutoff_m=112.0)
    assert ptr.tolist() == [0, 1] and target.tolist() == [0]
    ptr, _, _ = pairs_within(g, np.array([5]), np.array([4]), cutoff_m=111.999)
    assert ptr.tolist() == [0, 0]


def test_pairs_within_rejects_bad_input():
    g = tiny_graph()
    with pytest.raises(ValueError, match="duplicate"):
        pairs_within(g, np.array([5]), np.array([4, 3, 4]), cutoff_m=100.0)
    with pytest.raises(ValueError, match="targets"):
        pairs_within(g, np.array([5]), np.array([9]), cutoff_m=100.0)
    with pytest.raises(ValueError, match="sources"):
        pairs_within(g, np.array([-2]), np.array([4]), cutoff_m=100.0)


# -- a real OSM extract, against scipy's Dijkstra --------------------------------------------


def _oracle(g: AccessGraph, transit: np.ndarray) -> sp.csr_matrix:
    """Directed graph on 2n nodes: node v, and the out-copy n + h of each hub h (the arcs out
    of h leave from it)."""
    n = g.n_nodes
    a = np.concatenate([g.edge_u, g.stub_hub, g.edge_v, g.stub_node]).astype(np.int64)
    b = np.concatenate([g.edge_v, g.stub_node, g.edge_u, g.stub_hub]).astype(np.int64)
    w = np.tile(np.concatenate([g.edge_len, g.stub_len]), 2)
    a = np.where(transit[a], a, n + a)
    # parallel arcs: keep the shortest (a sparse matrix would add them up); zero-length arcs
    # stay stored entries, which csgraph takes as edges
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(a.size, dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return sp.csr_matrix((w[first], (a[first], b[first])), shape=(2 * n, 2 * n))


def _oracle_search(
    m: sp.csr_matrix, transit: np.ndarray, nodes, offsets, cutoff: float
) -> np.ndarray:
    """Distance of every node from the sources, the least offset + distance (+inf beyond
    ``cutoff``): one Dijkstra per source."""
    n = transit.size
    nodes = np.asarray(nodes, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.float64)
    start = np.where(transit[nodes], nodes, n + nodes)
    each = dijkstra(m, directed=True, indices=start, limit=cutoff)[:, :n]
    each[np.arange(nodes.size), nodes] = 0.0  # a hub source itself
    d = (each + offsets[:, None]).min(axis=0)
    d[d > cutoff] = np.inf
    return d


@pytest.fixture(scope="module")
def bupt_graph(city_of) -> AccessGraph:
    from citycheck.access import analyse_city

    return analyse_city(city_of("beijing-haidian-bupt.osm.pbf")).graph


CUTOFF = 1000.0
TOL = 1e-6  # metres: the oracle adds the same float64 lengths, perhaps along another tied path


def _assert_same(got: np.ndarray, expect: np.ndarray, cutoff: float) -> int:
    edge = np.abs(expect - cutoff) < TOL  # sets may differ only within TOL of the cutoff
    assert np.array_equal(np.isfinite(got[~edge]), np.isfinite(expect[~edge]))
    fin = np.isfinite(got) & np.isfinite(expect)
    np.testing.assert_allclose(got[fin], expect[fin], rtol=0, atol=TOL)
    return int(fin.sum())


def test_distances_within_matches_scipy_on_osm(bupt_graph):
    g = bupt_graph
    rng = np.random.default_rng(7)
    fac = g.hubs["facilities"][g.hubs["facilities"] >= 0]
    checked = 0
    for transit in (g.transit, np.ones(g.n_nodes, dtype=bool)):
        m = _oracle(g, transit)
        arrays = (g.indptr, g.indices, g.weights, transit)
        for _ in range(6):
            nodes = np.concatenate([rng.choice(fac, 2), rng.choice(g.n_nodes, 2)])
            offs = rng.uniform(0, 300, nodes.size)
            t, d = distances_within(arrays, nodes, offs, cutoff_m=CUTOFF)
            got = np.full(g.n_nodes, np.inf)
            got[t] = d
            checked += _assert_same(got, _oracle_search(m, transit, nodes, offs, CUTOFF), CUTOFF)
    assert checked > 10_000


def test_pairs_within_matches_scipy_on_osm(bupt_graph):
    g = bupt_graph
    rng = np.random.default_rng(11)
    fac = g.hubs["facilities"][g.hubs["facilities"] >= 0]
    sources = np.concatenate([rng.choice(fac, 25), rng.choice(g.n_nodes, 25), [-1]])
    # building hubs (some -1: buildings that did not join) and half the street nodes
    bld = g.hubs["buildings"].copy()
    bld[rng.choice(bld.size, 10, replace=False)] = -1
    street = np.flatnonzero(g.transit)
    targets = np.concatenate([bld, rng.permutation(street)[: street.size // 2]])
    ptr, target, dist = pairs_within(g, sources, targets, cutoff_m=CUTOFF)
    assert ptr.size == sources.size + 1 and ptr[-2] == ptr[-1]  # the -1 source: nothing
    m = _oracle(g, g.transit)
    starts = np.where(g.transit[sources[:-1]], sources[:-1], g.n_nodes + sources[:-1])
    full = dijkstra(m, directed=True, indices=starts, limit=CUTOFF)[:, : g.n_nodes]
    full[np.arange(starts.size), sources[:-1]] = 0.0  # a hub source itself
    ok = targets >= 0
    pairs = 0
    for k in range(sources.size - 1):
        got = np.full(targets.size, np.inf)
        sl = slice(ptr[k], ptr[k + 1])
        assert np.unique(target[sl]).size == ptr[k + 1] - ptr[k]
        got[target[sl]] = dist[sl]
        expect = np.full(targets.size, np.inf)
        expect[ok] = full[k, targets[ok]]
        pairs += _assert_same(got, expect, CUTOFF)
    assert pairs > 5000
    # the table is the same whatever the blocks
    for n_blocks in (1, 3):
        again = pairs_within(g, sources, targets, cutoff_m=CUTOFF, n_blocks=n_blocks)
        assert all(np.array_equal(x, y) for x, y in zip(again, (ptr, target, dist), strict=True))
