"""The nearest-distance search on its packed edge layout (head and float32 length side by
side), against scipy's Dijkstra on the same arrays.

Street grids here are property tests (junctions moved at random, as the benchmark does, and
the perfect lattice where every route ties); the real OSM networks, whose graphs take the
float32 layout too, are checked in test_oracle_osm.py, and one is checked for the layout here.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from citycheck.access._kernels import csr_from_edges
from citycheck.access._search import nearest_by_category, search_edges, sweep_width, thread_plan
from citycheck.access.graph import attach
from citycheck.access.network import network_from_segments
from citycheck.access.queries import nearest_distance
from citycheck.access.snapping import AccessPoints, SegmentIndex, snap_points

CUTOFF = 1500.0


def _scipy(indptr, indices, weights, src, cutoff):
    n = indptr.size - 1
    A = sp.csr_matrix((weights, indices, indptr), shape=(n, n))
    assert A.nnz == weights.size
    return dijkstra(A, directed=True, indices=src, min_only=True, limit=cutoff)


def _street_grid(side: int, jitter_m: float, seed: int, per_cat: tuple[int, ...]):
    """A 50 m street grid (junctions moved up to ``jitter_m``) with facilities snapped to it:
    category ``k`` has ``per_cat[k]`` facilities at random points."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = i * 50.0 + rng.uniform(-jitter_m, jitter_m, i.shape)
    y = j * 50.0 + rng.uniform(-jitter_m, jitter_m, j.shape)
    x0 = np.concatenate([x[:-1, :].ravel(), x[:, :-1].ravel()])
    y0 = np.concatenate([y[:-1, :].ravel(), y[:, :-1].ravel()])
    x1 = np.concatenate([x[1:, :].ravel(), x[:, 1:].ravel()])
    y1 = np.concatenate([y[1:, :].ravel(), y[:, 1:].ravel()])
    net = network_from_segments(x0, y0, x1, y1)
    cat = np.repeat(np.arange(len(per_cat)), per_cat)
    extent = (side - 1) * 50.0
    px, py = rng.uniform(0, extent, cat.size), rng.uniform(0, extent, cat.size)
    snaps = snap_points(
        SegmentIndex.build(net, 100.0),
        AccessPoints(np.arange(cat.size, dtype=np.int64), px, py),
        100.0,
    )
    g = attach(net, {"facilities": (snaps, cat.size)})
    hub = g.hubs["facilities"]
    sources = {f"c{k}": hub[(cat == k) & (hub >= 0)] for k in range(len(per_cat))}
    return g, sources


def test_search_edges_pairs_heads_with_lengths():
    rng = np.random.default_rng(3)
    eu = rng.integers(0, 50, 200)
    ev = rng.integers(0, 50, 200)
    exact = rng.uniform(0, 80, 200).astype(np.float32).astype(np.float64)
    for w, kind in ((exact, np.float32), (exact + 1e-9, np.float64)):
        _, indices, weights = csr_from_edges(50, eu, ev, w)
        edges, ew = search_edges(indices, weights)
        assert edges.dtype == np.int32 and ew.dtype == kind
        assert np.array_equal(edges[0::2], indices)
        assert np.array_equal(ew[1::2].astype(np.float64), weights)
        if kind == np.float32:  # one array: 8 bytes per edge
            assert np.shares_memory(edges, ew) and edges.nbytes == 8 * indices.size


def test_attach_stores_float32_lengths():
    g, _ = _street_grid(12, 10.0, 1, (3,))
    assert np.array_equal(g.weights.astype(np.float32).astype(np.float64), g.weights)
    assert np.array_equal(g.edge_len.astype(np.float32).astype(np.float64), g.edge_len)
    assert g.search_edges[1].dtype == np.float32
    assert g.search_edges is g.search_edges  # built once


@pytest.mark.parametrize("jitter", [0.0, 3.0, 10.0, 20.0])
@pytest.mark.parametrize("width", [None, 0.5, 10.0, 50.0, 100.0, 375.0])
def test_grid_nearest_matches_scipy_at_any_width(jitter, width):
    """Dense, sparse, single and empty categories on a jittered grid (and the lattice): the
    same float64 distances as scipy, bit for bit, at every bucket width."""
    g, sources = _street_grid(60, jitter, int(jitter) + 7, (400, 40, 3, 1, 0))
    names = list(sources)
    ptr = np.zeros(len(names) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([sources[c].size for c in names])
    nodes = np.concatenate([np.sort(sources[c]) for c in names]).astype(np.int64)
    n = g.n_nodes
    for threads in (1, 2):
        out = nearest_by_category(
            g.indptr,
            g.indices,
            g.weights,
            g.transit,
            thread_plan(np.ones(len(names)), threads),
            ptr,
            nodes,
            CUTOFF,
            np.arange(n, dtype=np.int32),
            n,
            width=width,
            edges=g.search_edges,
        )
        for k, c in enumerate(names):
            if sources[c].size == 0:
                assert np.all(np.isinf(out[k]))
                continue
            ref = _scipy(g.indptr, g.indices, g.weights, sources[c], CUTOFF)
            assert np.array_equal(out[k], ref), (jitter, width, c, threads)


@pytest.mark.parametrize("jitter", [0.0, 10.0])
@pytest.mark.parametrize("split", [2, 3, 5])
def test_split_sources_match_scipy(jitter, split):
    """Each category's sources cut into ``split`` patches searched side by side: the least over
    the patches is scipy's distance bit for bit, whether rows are gathered from query nodes in
    order or mapped through ``qrow``, and float32 results are scipy's rounded up. Categories
    with fewer sources than patches, one source or none are included."""
    g, sources = _street_grid(60, jitter, int(jitter) + 21, (400, 40, 3, 1, 0))
    names = list(sources)
    ptr = np.zeros(len(names) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([sources[c].size for c in names])
    rng = np.random.default_rng(split)
    nodes = np.concatenate([rng.permutation(sources[c]) for c in names]).astype(np.int64)
    n = g.n_nodes
    query = np.sort(rng.choice(n, n // 3, replace=False)).astype(np.int64)
    qrow = np.full(n, -1, dtype=np.int32)
    qrow[query] = np.arange(query.size, dtype=np.int32)
    refs = {c: _scipy(g.indptr, g.indices, g.weights, sources[c], CUTOFF)[query] for c in names}
    for gathered in (True, False):
        for dtype in (np.float64, np.float32):
            out = nearest_by_category(
                g.indptr,
                g.indices,
                g.weights,
                g.transit,
                thread_plan(np.ones(len(names)), 1),
                ptr,
                nodes,
                CUTOFF,
                qrow,
                query.size,
                dtype=dtype,
                qn=query if gathered else None,
                split=split,
            )
            for k, c in enumerate(names):
                ref = refs[c]
                if dtype == np.float64:
                    assert np.array_equal(out[k], ref), (jitter, split, c, gathered)
                    continue
                up = ref.astype(np.float32)  # the smallest float32 not below scipy's
                low = up.astype(np.float64) < ref
                up[low] = np.nextafter(up[low], np.float32(np.inf))
                assert np.array_equal(out[k], up), (jitter, split, c, gathered)
    # the scratch arrays were left as found: a plain run afterwards is still exact
    again = nearest_distance(g, sources, query, cutoff_m=CUTOFF, n_threads=1)
    for c in names:
        assert np.array_equal(again[c], refs[c]), c


def test_nearest_distance_splits_sources_when_categories_are_few(monkeypatch):
    """Fewer categories than threads: the sources are split (as many patches as threads);
    otherwise the categories are spread over the threads."""
    import citycheck.access.queries as queries

    g, sources = _street_grid(30, 10.0, 5, (60, 20, 4))
    seen = []
    real = queries.nearest_by_category

    def spy(*args, **kwargs):
        seen.append(kwargs["split"])
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "nearest_by_category", spy)
    query = np.flatnonzero(g.transit)
    one = nearest_distance(g, {"c0": sources["c0"]}, query, cutoff_m=CUTOFF, n_threads=2)
    three = nearest_distance(g, sources, query, cutoff_m=CUTOFF, n_threads=2)
    four = nearest_distance(g, sources, query, cutoff_m=CUTOFF, n_threads=4)
    nearest_distance(g, sources, query, cutoff_m=CUTOFF, n_threads=1)
    many = nearest_distance(g, {"c0": sources["c0"]}, query, cutoff_m=CUTOFF, n_threads=64)
    assert seen == [2, 1, 4, 1, queries.MAX_SPLIT]
    assert np.array_equal(many["c0"], one["c0"])
    for c in sources:
        ref = _scipy(g.indptr, g.indices, g.weights, sources[c], CUTOFF)[query]
        assert np.array_equal(three[c], ref) and np.array_equal(four[c], ref), c
    assert np.array_equal(one["c0"], three["c0"])


def test_nearest_distance_on_grid_street_nodes():
    """The benchmark's query (every street node, in node order) through the public API."""
    g, sources = _street_grid(45, 10.0, 11, (150, 2))
    query = np.flatnonzero(g.transit)
    got = nearest_distance(g, sources, query, cutoff_m=CUTOFF, n_threads=1)
    for c, src in sources.items():
        ref = _scipy(g.indptr, g.indices, g.weights, src, CUTOFF)[query]
        assert np.array_equal(got[c], ref), c


def test_sweep_width_follows_edge_length_ties():
    """About two median edges when lengths vary; wide (cutoff / 4) when nearly all tie."""
    rng = np.random.default_rng(0)
    varied = rng.uniform(30.0, 70.0, 50_000)
    assert sweep_width(varied, CUTOFF) == pytest.approx(2.0 * np.median(varied), rel=0.05)
    lattice = np.full(50_000, 50.0)
    cut = rng.random(lattice.size) < 0.03  # split pieces and stubs
    lattice[cut] = rng.uniform(0.0, 50.0, int(cut.sum()))
    assert sweep_width(lattice, CUTOFF) == CUTOFF / 4
    lattice[rng.random(lattice.size) < 0.5] = 49.0  # half the edges off the median: narrower
    assert sweep_width(lattice, CUTOFF) < 0.7 * CUTOFF / 4
    assert sweep_width(np.empty(0), CUTOFF) == CUTOFF
