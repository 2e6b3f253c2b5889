"""Siting models against brute-force enumeration on small random instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from citycheck.plan.models import (
    PlanningError,
    group_demand,
    maximal_covering,
    p_median,
    set_covering,
)


def instance(seed: int, n_d: int = 40, n_c: int = 9, radius: float = 0.3):
    rng = np.random.default_rng(seed)
    dxy = rng.random((n_d, 2))
    cxy = rng.random((n_c, 2))
    d = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1])
    w = rng.integers(1, 50, n_d).astype(float)
    cost = rng.integers(1, 10, n_c).astype(float)
    return d, d <= radius, w, cost


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_maximal_covering_equals_enumeration(seed, k):
    _, cover, w, _ = instance(seed)
    best = max(w[cover[:, list(s)].any(axis=1)].sum() for s in itertools.combinations(range(9), k))
    sol = maximal_covering(sp.csr_matrix(cover), w, k)
    assert sol.method == "milp" and sol.gap == 0.0
    assert sol.objective == pytest.approx(best)
    assert len(sol.selected) <= k
    assert w[cover[:, sol.selected].any(axis=1)].sum() == pytest.approx(best)


@pytest.mark.parametrize("seed", range(6))
def test_maximal_covering_budget_equals_enumeration(seed):
    _, cover, w, cost = instance(seed)
    budget = 12.0
    best = 0.0
    for r in range(1, 10):
        for s in itertools.combinations(range(9), r):
            if cost[list(s)].sum() <= budget:
                best = max(best, w[cover[:, list(s)].any(axis=1)].sum())
    sol = maximal_covering(sp.csr_matrix(cover), w, None, cost=cost, budget=budget)
    assert sol.objective == pytest.approx(best)
    assert cost[sol.selected].sum() <= budget


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_covering_equals_enumeration_with_lp_assignment(seed):
    """With capacities, each subset's best fractional assignment is an LP (solved by linprog)."""
    from scipy.optimize import linprog

    _, cover, w, _ = instance(seed, n_d=25, n_c=7)
    cap = np.full(7, 120.0)
    k = 2

    def served(s):
        pairs = [(i, j) for i in range(25) for j in s if cover[i, j]]
        if not pairs:
            return 0.0
        c = -np.array([w[i] for i, _ in pairs])
        a_rows, b = [], []
        for i in range(25):
            a_rows.append([1.0 if p[0] == i else 0.0 for p in pairs])
            b.append(1.0)
        for j in s:
            a_rows.append([w[p[0]] if p[1] == j else 0.0 for p in pairs])
            b.append(cap[j])
        res = linprog(c, A_ub=np.array(a_rows), b_ub=b, bounds=(0, 1), method="highs")
        return -res.fun

    best = max(served(list(s)) for s in itertools.combinations(range(7), k))
    sol = maximal_covering(sp.csr_matrix(cover), w, k, capacity=cap)
    assert sol.objective == pytest.approx(best, rel=1e-7)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_p_median_equals_enumeration(seed, p):
    d, _, w, _ = instance(seed)
    bound = 0.5
    rng = np.random.default_rng(seed + 100)
    existing = np.where(rng.random(40) < 0.3, rng.random(40) * 0.6, np.inf)
    trunc = np.minimum(d, bound)
    best = min(
        (w * np.minimum(trunc[:, list(s)].min(axis=1), existing)).sum()
        for s in itertools.combinations(range(9), p)
    )
    sparse = sp.csr_matrix(np.where(d < bound, d, 0.0))
    # an exact zero distance would vanish from the sparse table; none occur with random floats
    sol = p_median(sparse, w, p, bound_m=bound, existing_m=existing)
    assert sol.objective == pytest.approx(best, rel=1e-9)
    assert len(sol.selected) == p


@pytest.mark.parametrize("seed", range(6))
def test_set_covering_equals_enumeration(seed):
    _, cover, _, cost = instance(seed, radius=0.45)
    feasible = cover.any(axis=1).all()
    if not feasible:
        with pytest.raises(PlanningError, match="infeasible"):
            set_covering(sp.csr_matrix(cover), cost=cost)
        return
    best = min(
        cost[list(s)].sum()
        for r in range(1, 10)
        for s in itertools.combinations(range(9), r)
        if cover[:, list(s)].any(axis=1).all()
    )
    sol = set_covering(sp.csr_matrix(cover), cost=cost)
    assert sol.objective == pytest.approx(best)
    assert cover[:, sol.selected].any(axis=1).all()


def test_group_demand_keeps_weights():
    cover = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 1], [0, 0]], dtype=bool))
    g, w = group_demand(cover, np.array([1.0, 2.0, 3.0, 4.0]))
    assert g.shape == (2, 2)
    assert sorted(w.tolist()) == [3.0, 3.0]


def test_greedy_is_stated_and_feasible():
    _, cover, w, _ = instance(3)
    sol = maximal_covering(sp.csr_matrix(cover), w, 3, method="greedy")
    assert sol.method == "greedy" and np.isnan(sol.gap)
    exact = maximal_covering(sp.csr_matrix(cover), w, 3)
    assert sol.objective <= exact.objective + 1e-9
    assert w[cover[:, sol.selected].any(axis=1)].sum() == pytest.approx(sol.objective)


def test_bad_input_messages():
    _, cover, w, cost = instance(0)
    with pytest.raises(PlanningError, match="candidate set is empty"):
        maximal_covering(sp.csr_matrix((5, 0), dtype=bool), np.ones(5), 2)
    with pytest.raises(PlanningError, match="below the cheapest"):
        maximal_covering(sp.csr_matrix(cover), w, 2, cost=cost, budget=cost.min() - 0.5)
    with pytest.raises(PlanningError, match="no cost"):
        maximal_covering(sp.csr_matrix(cover), w, 2, budget=10)
    cover2 = np.ones((40, 9), dtype=bool)
    cover2[7, :] = False
    with pytest.raises(PlanningError, match=r"infeasible: 1 of 40 .*e\.g\. 7\)"):
        set_covering(sp.csr_matrix(cover2))
    with pytest.raises(PlanningError, match="above the budget"):
        # rows 0 and 1 each need their own site: the cheapest covering costs 11
        both = sp.csr_matrix(np.array([[1, 0], [0, 1]], dtype=bool))
        set_covering(both, cost=np.array([5.0, 6.0]), budget=10.0)


def pmedian_instance(seed: int, n_d: int, n_c: int, bound: float):
    """Random points in the unit square; distances below ``bound`` as a sparse table."""
    rng = np.random.default_rng(seed)
    dxy, cxy = rng.random((n_d, 2)), rng.random((n_c, 2))
    d = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1])
    w = rng.integers(1, 100, n_d).astype(float)
    existing = np.where(rng.random(n_d) < 0.2, rng.random(n_d) * bound * 1.2, np.inf)
    return d, sp.csr_matrix(np.where(d < bound, d, 0.0)), w, existing


def truncated_cost(d, w, existing, bound, sites) -> float:
    return float((w * np.minimum(np.minimum(d[:, sites], bound).min(axis=1), existing)).sum())


def test_p_median_lagrangian_equals_enumeration_property():
    """Seed loop over random small instances of varied shape: the Lagrangian path (and its
    reduced-MILP variant) returns the enumerated optimum, with a proof (gap 0)."""
    for seed in range(40):
        rng = np.random.default_rng(1000 + seed)
        n_d, n_c = int(rng.integers(5, 60)), int(rng.integers(2, 11))
        p = int(rng.integers(1, n_c + 1))
        bound = float(rng.uniform(0.15, 0.8))
        d, sparse, w, existing = pmedian_instance(seed, n_d, n_c, bound)
        best = min(
            truncated_cost(d, w, existing, bound, list(s))
            for s in itertools.combinations(range(n_c), p)
        )
        sol = p_median(sparse, w, p, bound_m=bound, existing_m=existing)
        assert sol.method == "lagrangian" and sol.gap == 0.0, (seed, sol.status)
        assert sol.objective == pytest.approx(best, rel=1e-9), seed
        assert len(sol.selected) == p
        # the reported objective is the cost of the reported sites
        assert truncated_cost(d, w, existing, bound, sol.selected) == pytest.approx(
            sol.objective, rel=1e-12
        )
        assert sol.bound <= sol.objective * (1 + 1e-9)
        red = p_median(sparse, w, p, bound_m=bound, existing_m=existing, method="lagrangian+milp")
        assert red.objective == pytest.approx(best, rel=1e-9), seed


def test_p_median_branch_and_bound_equals_enumeration():
    """Random instances mostly close at the root; starve the root (3 subgradient iterations)
    and the nodes (5) so that the branch and bound has to prove the optimum itself."""
    from citycheck.plan.pmedian_lagrange import lagrangian_pmedian

    nodes = []
    for seed in range(30):
        rng = np.random.default_rng(2000 + seed)
        n_d, n_c = int(rng.integers(30, 120)), int(rng.integers(6, 13))
        p = int(rng.integers(2, min(6, n_c)))
        bound = float(rng.uniform(0.15, 0.5))
        d, sparse, w, existing = pmedian_instance(seed, n_d, n_c, bound)
        best = min(
            truncated_cost(d, w, existing, bound, list(s))
            for s in itertools.combinations(range(n_c), p)
        )
        coo = sp.coo_matrix(sparse)
        fb = w * np.minimum(existing, bound)
        res = lagrangian_pmedian(
            coo.row, coo.col, w[coo.row] * coo.data, fb, n_c, p, max_iter=3, node_iter=5
        )
        assert res.finished and res.upper - res.lower <= 1e-9 * res.upper
        assert res.upper == pytest.approx(best, rel=1e-9), seed
        sites = np.flatnonzero(res.is_open)
        assert sites.size == p
        assert truncated_cost(d, w, existing, bound, sites) == pytest.approx(res.upper)
        nodes.append(res.nodes)
    assert sum(n > 1 for n in nodes) >= 10, nodes


@pytest.mark.parametrize("seed", range(3))
def test_p_median_lagrangian_equals_milp_medium(seed):
    """300 × 40 random instances: the same optimum as the full MILP (HiGHS)."""
    d, sparse, w, existing = pmedian_instance(50 + seed, 300, 40, 0.35)
    lag = p_median(sparse, w, 6, bound_m=0.35, existing_m=existing)
    ref = p_median(sparse, w, 6, bound_m=0.35, existing_m=existing, method="milp")
    assert ref.gap == 0.0 and lag.gap == 0.0
    assert lag.objective == pytest.approx(ref.objective, rel=1e-9)
    assert truncated_cost(d, w, existing, 0.35, lag.selected) == pytest.approx(
        lag.objective, rel=1e-12
    )


def test_p_median_time_limit_reports_an_honest_gap():
    """A limit hit before the proof: the incumbent is feasible, the bound below it, the gap
    the true relative difference and the status says so."""
    d, sparse, w, existing = pmedian_instance(7, 400, 60, 0.3)
    full = p_median(sparse, w, 8, bound_m=0.3, existing_m=existing)
    assert full.stats["branch_nodes"] > 0  # the root alone does not prove this one
    cut = p_median(sparse, w, 8, bound_m=0.3, existing_m=existing, time_limit_s=0.0)
    assert "time limit" in cut.status and cut.gap > 0
    assert cut.bound <= full.objective + 1e-6 <= cut.objective + 2e-6
    assert cut.gap == pytest.approx((cut.objective - cut.bound) / cut.objective)
    assert truncated_cost(d, w, existing, 0.3, cut.selected) == pytest.approx(cut.objective)


def test_interchange_is_swap_optimal():
    """After vertex substitution no single swap lowers the cost (checked by enumeration)."""
    from citycheck.plan import pmedian_kernels as k

    d, sparse, w, existing = pmedian_instance(3, 200, 25, 0.4)
    fb = w * np.minimum(existing, 0.4)
    coo = sp.coo_matrix(sparse)
    by_row = sp.csr_matrix((w[coo.row] * coo.data, (coo.row, coo.col)), shape=sparse.shape)
    by_col = by_row.tocsc()
    r = (by_row.indptr.astype(np.int64), by_row.indices.astype(np.int64), by_row.data)
    c = (by_col.indptr.astype(np.int64), by_col.indices.astype(np.int64), by_col.data)
    is_open = k.greedy(*c, fb, 5)
    cost, _ = k.interchange(*r, *c, fb, is_open, 1e-9)
    assert cost == pytest.approx(truncated_cost(d, w, existing, 0.4, np.flatnonzero(is_open)))
    for j in np.flatnonzero(~is_open):
        for o in np.flatnonzero(is_open):
            trial = is_open.copy()
            trial[j], trial[o] = True, False
            assert k.evaluate(*r, fb, trial) >= cost - 1e-9
