"""The compiled searches against scipy's Dijkstra on the same arrays, and their edge cases.

Synthetic graphs here are property tests (random edge lengths from 0 to far above the bucket
widths, so label-correcting inside buckets is exercised); the real-data agreement is in
test_oracle_osm.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from citycheck.access._kernels import csr_from_edges
from citycheck.access._search import (
    count_dtype,
    counts_by_category,
    nearest_by_category,
    query_rows,
    round_up_f32,
    thread_plan,
)


def _random_graph(seed: int, n: int = 3000):
    """A jittered grid with diagonals, random deletions and lengths from 0 to 120 m."""
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n))
    idx = np.arange(side * side).reshape(side, side)
    pairs = [
        np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], 1),
        np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], 1),
        np.stack([idx[:-1, :-1].ravel(), idx[1:, 1:].ravel()], 1),
    ]
    e = np.concatenate(pairs)
    e = e[rng.random(len(e)) < 0.7]
    w = rng.choice([0.0, 0.3, 2.0, 7.0, 31.0, 50.0, 120.0], size=len(e)) * rng.random(len(e))
    indptr, indices, weights = csr_from_edges(
        side * side, e[:, 0].astype(np.int64), e[:, 1].astype(np.int64), w
    )
    return indptr, indices, weights


def _scipy_nearest(indptr, indices, weights, src, cutoff):
    n = indptr.size - 1
    # built from (data, indices, indptr), stored zeros stay: csgraph reads them as 0-m edges
    A = sp.csr_matrix((weights, indices, indptr), shape=(n, n))
    assert A.nnz == weights.size
    d = dijkstra(A, directed=True, indices=src, min_only=True, limit=cutoff)
    return d


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("width", [None, 0.25, 5.0, 60.0, 1500.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sweep_search_matches_scipy(seed, width, dtype):
    indptr, indices, weights = _random_graph(seed)
    n = indptr.size - 1
    rng = np.random.default_rng(seed + 10)
    transit = np.ones(n, dtype=bool)
    cats = [np.sort(rng.choice(n, size=k, replace=False)) for k in (1, 7, 60)]
    ptr = np.zeros(len(cats) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([c.size for c in cats])
    nodes = np.concatenate(cats).astype(np.int64)
    qrow = np.arange(n, dtype=np.int32)
    for cutoff in (300.0, 1500.0, np.inf):
        out = nearest_by_category(
            indptr,
            indices,
            weights,
            transit,
            thread_plan(np.ones(len(cats)), 2),
            ptr,
            nodes,
            cutoff,
            qrow,
            n,
            width=width,
            dtype=dtype,
        )
        assert out.dtype == dtype
        for k, c in enumerate(cats):
            ref = _scipy_nearest(indptr, indices, weights, c, cutoff)
            got = out[k].astype(np.float64)
            if dtype == np.float64:  # the same float64 fixpoint as scipy's Dijkstra
                assert np.array_equal(got, ref), (seed, width, k)
                continue
            assert np.array_equal(np.isfinite(got), np.isfinite(ref)), (seed, width, k)
            f = np.isfinite(ref)
            assert np.all(got[f] >= ref[f])  # rounded up, never below
            np.testing.assert_allclose(got[f], ref[f], rtol=2**-23, atol=0)


@pytest.mark.parametrize("threads", [1, 2])
def test_sweep_rows_gathered_from_sorted_query_nodes(threads):
    """Rows read from sorted query nodes (``qn``) equal scipy's distances at those nodes; the
    reused scratch arrays come back clean, so a repeated call and a call on another query
    give the same distances."""
    from citycheck.access import _search

    indptr, indices, weights = _random_graph(7)
    n = indptr.size - 1
    rng = np.random.default_rng(7)
    transit = np.ones(n, dtype=bool)
    cats = [np.sort(rng.choice(n, size=k, replace=False)) for k in (2, 30)]
    ptr = np.array([0, 2, 32], dtype=np.int64)
    nodes = np.concatenate(cats).astype(np.int64)
    query = np.sort(rng.choice(n, size=n // 3, replace=False)).astype(np.int64)
    plan = thread_plan(np.ones(2), threads)
    args = (indptr, indices, weights, transit, plan, ptr, nodes, 400.0)
    for _ in range(2):
        got = nearest_by_category(*args, np.empty(0, np.int32), query.size, qn=query)
        everyone = nearest_by_category(*args, np.arange(n, dtype=np.int32), n)
        for k, c in enumerate(cats):
            ref = _scipy_nearest(indptr, indices, weights, c, 400.0)
            assert np.array_equal(got[k], ref[query])
            assert np.array_equal(everyone[k], ref)
        assert np.all(np.isinf(_search._SCRATCH.dist)) and not _search._SCRATCH.pend.any()


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("width", "pool"), [(None, 1 << 16), (0.05, 1), (3.0, 7), (400.0, 1)])
def test_counts_match_per_source_scipy(seed, dtype, width, pool):
    indptr, indices, weights = _random_graph(seed, n=1600)
    n = indptr.size - 1
    rng = np.random.default_rng(seed)
    transit = np.ones(n, dtype=bool)
    fac = [np.sort(rng.choice(n, size=k, replace=False)) for k in (3, 40)]
    ptr = np.zeros(3, dtype=np.int64)
    ptr[1:] = np.cumsum([f.size for f in fac])
    nodes = np.concatenate(fac).astype(np.int64)
    radii = np.array([50.0, 120.0, 400.0])
    qrow = np.full(n, -1, dtype=np.int32)
    query = np.sort(rng.choice(n, size=500, replace=False))
    qrow[query] = np.arange(query.size, dtype=np.int32)
    counts, near = counts_by_category(
        indptr,
        indices,
        weights,
        transit,
        thread_plan(np.array([3.0, 40.0]), 2),
        ptr,
        np.arange(nodes.size + 1, dtype=np.int64),
        nodes,
        radii,
        qrow,
        query.size,
        dtype=dtype,
        width=width,  # 0.05 m: 8000 buckets; 400 m: one bucket, all label-correcting
        pool=pool,  # 1 and 7 entries: the pool grows many times during one search
    )
    assert counts.dtype == np.uint8  # at most 40 facilities per category
    assert near.dtype == dtype
    for k, f in enumerate(fac):
        d = _scipy_nearest(indptr, indices, weights, f, np.inf)  # (n,) min over sources
        each = np.stack(
            [_scipy_nearest(indptr, indices, weights, np.array([s]), np.inf) for s in f]
        )[:, query]
        expect = np.stack([(each <= r).sum(0) for r in radii], 1)
        assert np.array_equal(counts[k], expect)
        dq = d[query]
        within = dq <= radii[-1]
        assert np.array_equal(np.isfinite(near[k]), within)
        if dtype == np.float64:
            assert np.array_equal(near[k][within], dq[within])
        assert np.all(near[k][within] >= dq[within])
        np.testing.assert_allclose(near[k][within], dq[within], rtol=2**-23, atol=0)


def _hub_line():
    """Street 0-1-2 (10 m each); facility hub 3 joins node 0 at 0 m; building hub 4 joins
    node 0 and node 2 at 0 m (an entrance on each end). Hubs never pass traffic through."""
    eu = np.array([0, 1, 3, 4, 4], dtype=np.int64)
    ev = np.array([1, 2, 0, 0, 2], dtype=np.int64)
    el = np.array([10.0, 10.0, 0.0, 0.0, 0.0])
    indptr, indices, weights = csr_from_edges(5, eu, ev, el)
    transit = np.array([True, True, True, False, False])
    return indptr, indices, weights, transit


def test_hub_at_zero_distance_is_not_a_shortcut():
    indptr, indices, weights, transit = _hub_line()
    qrow = np.arange(5, dtype=np.int32)
    ptr = np.array([0, 1], dtype=np.int64)
    nodes = np.array([3], dtype=np.int64)
    plan = thread_plan(np.ones(1), 1)
    near = nearest_by_category(indptr, indices, weights, transit, plan, ptr, nodes, 100.0, qrow, 5)
    # node 2 is 20 m along the street; through building hub 4 it would be 0 m
    assert near[0].tolist() == [0.0, 10.0, 20.0, 0.0, 0.0]
    counts, near_c = counts_by_category(
        indptr,
        indices,
        weights,
        transit,
        plan,
        ptr,
        np.array([0, 1], dtype=np.int64),
        nodes,
        np.array([5.0, 15.0, 25.0]),
        qrow,
        5,
    )
    assert counts[0].tolist() == [[1, 1, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1], [1, 1, 1]]
    assert near_c[0].tolist() == near[0].tolist()


def test_round_up_f32_never_below_and_keeps_thresholds():
    rng = np.random.default_rng(0)
    d = np.concatenate([rng.random(20000) * 1600, np.arange(0, 1600, 0.5), [0.1, 1e-9]])
    f = np.array([round_up_f32(x) for x in d], dtype=np.float32)
    assert np.all(f.astype(np.float64) >= d)
    assert np.all(f.astype(np.float64) - d <= np.spacing(np.float32(1600)))
    for r in (300.0, 500.0, 800.0, 1000.0, 1500.0, 400.5):
        assert np.array_equal(f <= np.float32(r), d <= r)


def test_count_dtype_holds_the_largest_count():
    assert count_dtype(0) is np.uint8
    assert count_dtype(255) is np.uint8
    assert count_dtype(256) is np.uint16
    assert count_dtype(65535) is np.uint16
    assert count_dtype(65536) is np.uint32


def test_query_rows():
    qrow, row_of, code = query_rows(6, np.array([1, 3, 4], dtype=np.int64))
    assert code == 1 and qrow.tolist() == [-1, 0, -1, 1, 2, -1] and row_of.size == 0
    qrow, row_of, code = query_rows(6, np.array([4, 1, 3], dtype=np.int64))
    assert code == 2 and qrow.tolist() == [-1, 0, -1, 1, 2, -1] and row_of.tolist() == [2, 0, 1]
    assert query_rows(6, np.array([1, 1], dtype=np.int64))[2] == -2
    assert query_rows(6, np.array([3, 1, 3], dtype=np.int64))[2] == -2
    assert query_rows(6, np.array([1, 6], dtype=np.int64))[2] == -1
    assert query_rows(6, np.array([-1, 2], dtype=np.int64))[2] == -1
