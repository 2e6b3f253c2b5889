"""Siting models solved exactly as mixed-integer programmes (HiGHS through scipy.optimize.milp).

Three classic location models on a demand × candidate walking-distance table:

- **maximal covering** (MCLP, Church & ReVelle 1974): open at most ``k`` sites (and/or stay within
  a budget) to cover the most demand weight within the walking limit;
- **p-median** (Hakimi 1964; ReVelle & Swain 1970): open ``p`` sites to minimise the total weighted
  walking distance, each demand walking to its nearest open site or an existing facility;
  distances are truncated at a search bound ``R`` (a demand farther than ``R`` from everything
  counts ``R``), which keeps the table sparse;
- **set covering** (Toregas et al. 1971): the cheapest set of sites that covers every demand.

Optional capacities turn coverage/assignment into a capacitated (fractional) assignment. Every
solve reports the solver status, objective, best bound and relative optimality gap; a greedy
heuristic is used only when asked for (``method="greedy"``) or when the solver returns no
solution, and the result then says so.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = [
    "PlanningError",
    "Solution",
    "group_demand",
    "maximal_covering",
    "p_median",
    "set_covering",
]

log = logging.getLogger(__name__)


class PlanningError(ValueError):
    """A siting problem that cannot be solved as posed (the message says why and what to do)."""


@dataclass(frozen=True)
class Solution:
    """The answer of one siting model.

    Attributes
    ----------
    model : str
        "maximal_covering", "p_median" or "set_covering".
    selected : ndarray of int
        Positions of the chosen candidate sites (sorted).
    objective : float
        Covered weight (maximal covering), total weighted distance (p-median) or total cost
        (set covering).
    bound : float
        Best bound the solver proved (equals ``objective`` when optimal; NaN for greedy).
    gap : float
        Relative optimality gap ``|objective - bound| / max(|objective|, 1e-9)``; 0 when proved
        optimal; NaN for greedy.
    status : str
        Solver message.
    method : str
        "milp" (HiGHS branch and bound) or "greedy" (a stated heuristic fallback).
    stats : dict
        Sizes and timings (variables, constraints, seconds).
    """

    model: str
    selected: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    stats: dict[str, Any] = field(default_factory=dict)


def group_demand(cover: sp.csr_matrix, weights: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Merge demand rows with identical candidate sets, summing their weights.

    Rows with no candidate are dropped. The merged problem has the same optimum as the original
    (coverage depends only on a row's candidate set), and is much smaller: neighbouring buildings
    usually see the same sites.

    Returns
    -------
    cover : csr_matrix (n_groups × n_candidates, bool)
    weights : ndarray (n_groups,)
    """
    cover = sp.csr_matrix(cover, dtype=bool)
    cover.sort_indices()
    w = np.asarray(weights, dtype=np.float64)
    keep = np.flatnonzero(np.diff(cover.indptr) > 0)
    if keep.size == 0:
        return sp.csr_matrix((0, cover.shape[1]), dtype=bool), np.empty(0)
    keys: dict[bytes, int] = {}
    gid = np.empty(keep.size, dtype=np.int64)
    rows: list[np.ndarray] = []
    for n, i in enumerate(keep):
        cols = cover.indices[cover.indptr[i] : cover.indptr[i + 1]]
        key = cols.tobytes()
        g = keys.get(key)
        if g is None:
            g = keys[key] = len(rows)
            rows.append(cols)
        gid[n] = g
    gw = np.bincount(gid, weights=w[keep], minlength=len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([r.size for r in rows])
    indices = np.concatenate(rows)
    data = np.ones(indices.size, dtype=bool)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), cover.shape[1])), gw


def dominated_sites(cover: sp.csr_matrix, cost: np.ndarray | None = None) -> np.ndarray:
    """Candidates that another candidate covers at least as well (and no dearer).

    Site ``j`` is dominated by ``j'`` when every demand ``j`` covers is also covered by ``j'``,
    and ``j'`` costs no more; of identical sites the first is kept. Dropping dominated sites does
    not change the optimum of (uncapacitated) maximal or set covering: in any solution a
    dominated site can be swapped for its dominator without losing coverage or money.

    Returns
    -------
    ndarray of bool (n_candidates,)
    """
    c = sp.csc_matrix(cover, dtype=np.float64)
    size = np.asarray(c.sum(axis=0)).ravel()
    overlap = (c.T @ c).tocoo()
    i, j, v = overlap.row, overlap.col, overlap.data
    # j dominated by i: |cover(j) ∩ cover(i)| == |cover(j)|, i != j, and i strictly better or
    # an identical earlier twin
    full = (i != j) & (v >= size[j] - 0.5)
    bigger = size[i] > size[j] + 0.5
    twin = ~bigger & (size[i] >= size[j] - 0.5) & (i < j)
    ok = full & (bigger | twin)
    if cost is not None:
        ok &= cost[i] <= cost[j]
    dom = np.zeros(c.shape[1], dtype=bool)
    dom[j[ok]] = True
    dom[size == 0] = True
    return dom


def _check_costs(n_cand: int, cost: np.ndarray | None, budget: float | None) -> np.ndarray | None:
    if n_cand == 0:
        raise PlanningError("the candidate set is empty: no site to choose from")
    if budget is None:
        return None if cost is None else np.asarray(cost, dtype=np.float64)
    if cost is None:
        raise PlanningError(
            f"budget={budget:g} was given but the candidate sites have no cost; give each site "
            "a cost (a 'cost' column in the site layer, or --site-cost)"
        )
    c = np.asarray(cost, dtype=np.float64)
    if c.shape != (n_cand,) or not np.all(np.isfinite(c)) or np.any(c < 0):
        raise PlanningError("cost: need one finite non-negative cost per candidate site")
    if budget < c.min():
        raise PlanningError(
            f"budget={budget:g} is below the cheapest candidate site's cost ({c.min():g}); "
            "no site can be built"
        )
    return c


def _solve(
    model: str,
    c: np.ndarray,
    integrality: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    constraints: list[LinearConstraint],
    n_y: int,
    *,
    sense: float,
    time_limit_s: float | None,
    stats: dict[str, Any],
) -> Solution | None:
    """Solve with HiGHS; ``sense`` is -1 for maximisation (c already negated). None if no answer."""
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "disp": False}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    t0 = time.perf_counter()
    res = milp(
        c, integrality=integrality, bounds=Bounds(lb, ub), constraints=constraints, options=options
    )
    stats = {
        **stats,
        "n_variables": int(c.size),
        "n_constraints": int(sum(k.A.shape[0] for k in constraints)),
        "solve_s": time.perf_counter() - t0,
    }
    if res.x is None:
        log.warning("%s: the MILP solver returned no solution (%s)", model, res.message)
        stats["milp_status"] = res.message
        return None
    y = res.x[:n_y]
    selected = np.flatnonzero(y > 0.5)
    obj = float(sense * res.fun)
    bound_raw = getattr(res, "mip_dual_bound", None)
    bound = float(sense * bound_raw) if bound_raw is not None else obj
    gap = float(res.mip_gap) if getattr(res, "mip_gap", None) is not None else 0.0
    if res.status == 0:
        gap = max(gap, 0.0) if gap > 1e-9 else 0.0
    return Solution(model, selected, obj, bound, gap, str(res.message), "milp", stats)


def _greedy_cover(
    cover: sp.csr_matrix,
    weights: np.ndarray,
    k: int,
    cost: np.ndarray | None,
    budget: float | None,
) -> np.ndarray:
    """Greedy maximal covering: repeatedly add the site with the most new weight (per cost)."""
    csc = sp.csc_matrix(cover, dtype=bool)
    covered = np.zeros(cover.shape[0], dtype=bool)
    chosen: list[int] = []
    spent = 0.0
    for _ in range(k):
        gains = np.asarray(csc.T.astype(np.float64) @ (weights * ~covered)).ravel()
        if cost is not None:
            afford = spent + cost <= (budget if budget is not None else np.inf) + 1e-9
            score = np.where(afford, gains / np.maximum(cost, 1e-12), -1.0)
        else:
            score = gains.copy()
        score[chosen] = -1.0
        j = int(np.argmax(score))
        if score[j] <= 0:
            break
        chosen.append(j)
        spent += 0.0 if cost is None else float(cost[j])
        covered |= np.asarray(cover[:, j].todense()).ravel()
    return np.array(sorted(chosen), dtype=np.int64)


def maximal_covering(
    cover: sp.spmatrix,
    weights: np.ndarray,
    k: int | None,
    *,
    cost: np.ndarray | None = None,
    budget: float | None = None,
    capacity: np.ndarray | None = None,
    method: str = "milp",
    time_limit_s: float | None = 600.0,
    _reduced: bool = False,
) -> Solution:
    """Maximal covering: choose at most ``k`` sites (within ``budget``) covering the most weight.

    Parameters
    ----------
    cover : sparse matrix (n_demand × n_candidates)
        True where the candidate is within the walking limit of the demand point. Pass only
        demand not yet served (rows without any candidate are ignored).
    weights : ndarray (n_demand,)
        Residents (or floor area) of each demand point.
    k : int or None
        Most sites to open (None: limited by the budget only).
    cost, budget : optional
        Cost per candidate and the total budget.
    capacity : ndarray (n_candidates,), optional
        Most weight a site can serve (e.g. places); coverage becomes a fractional assignment.
    method : {"milp", "greedy"}
        Exact MILP (default) or the greedy heuristic.
    time_limit_s : float, optional
        Solver time limit; the gap of the best solution found is reported when it is hit.

    Returns
    -------
    Solution
        ``objective`` is the covered weight.

    Raises
    ------
    PlanningError
        Empty candidate set, no ``k`` and no budget, budget below every site's cost.
    """
    n_c = cover.shape[1]
    c_arr = _check_costs(n_c, cost, budget)
    if k is None and budget is None:
        raise PlanningError("maximal covering needs a number of new sites (--new) or a budget")
    if k is not None and k < 1:
        raise PlanningError(f"--new={k}: the number of new sites must be at least 1")
    kk = n_c if k is None else min(int(k), n_c)
    if method == "greedy":
        g_cover, g_w = group_demand(cover, weights)
        sel = _greedy_cover(g_cover, g_w, kk, c_arr, budget)
        obj = float(g_w[np.asarray(g_cover[:, sel].sum(axis=1)).ravel() > 0].sum())
        return Solution("maximal_covering", sel, obj, np.nan, np.nan, "greedy", "greedy")
    t0 = time.perf_counter()
    g_cover, g_w = group_demand(cover, weights)
    n_g = g_cover.shape[0]
    stats: dict[str, Any] = {"n_demand": int(cover.shape[0]), "n_groups": n_g, "n_candidates": n_c}
    if capacity is None and n_g and not _reduced:
        keep = np.flatnonzero(~dominated_sites(g_cover, c_arr))
        stats["n_candidates_undominated"] = int(keep.size)
        affordable = c_arr is None or budget is None or c_arr[keep].min() <= budget
        if 0 < keep.size < n_c and affordable:
            sub = maximal_covering(
                cover[:, keep] if sp.issparse(cover) else sp.csr_matrix(cover)[:, keep],
                weights,
                None if k is None else min(int(k), keep.size),
                cost=None if c_arr is None else c_arr[keep],
                budget=budget,
                method=method,
                time_limit_s=time_limit_s,
                _reduced=True,
            )
            return dataclasses.replace(
                sub, selected=keep[sub.selected], stats={**sub.stats, **stats}
            )
    budget_rows: list[LinearConstraint] = [
        LinearConstraint(sp.csr_matrix(np.ones((1, n_c))), -np.inf, kk)
    ]
    if c_arr is not None and budget is not None:
        budget_rows.append(LinearConstraint(sp.csr_matrix(c_arr[None, :]), -np.inf, budget))
    if capacity is None:
        # variables: y (n_c, binary), z (n_g, [0, 1])
        a = sp.hstack([-g_cover.astype(np.float64), sp.identity(n_g, format="csr")], format="csr")
        cons = [LinearConstraint(a, -np.inf, 0.0)]
        cons += [
            LinearConstraint(sp.hstack([b.A, sp.csr_matrix((1, n_g))], format="csr"), b.lb, b.ub)
            for b in budget_rows
        ]
        c = np.concatenate([np.zeros(n_c), -g_w])
        integ = np.concatenate([np.ones(n_c), np.zeros(n_g)])
        lb, ub = np.zeros(n_c + n_g), np.ones(n_c + n_g)
    else:
        cap = np.asarray(capacity, dtype=np.float64)
        coo = g_cover.tocoo()
        gi, cj = coo.row, coo.col
        n_x = gi.size
        # variables: y (n_c), x (pairs): share of group gi served by site cj
        one = sp.csr_matrix((np.ones(n_x), (gi, np.arange(n_x))), shape=(n_g, n_x))
        load = sp.csr_matrix((g_w[gi], (cj, np.arange(n_x))), shape=(n_c, n_x))
        link = sp.csr_matrix((np.ones(n_x), (np.arange(n_x), np.arange(n_x))), shape=(n_x, n_x))
        ylink = sp.csr_matrix((-np.ones(n_x), (np.arange(n_x), cj)), shape=(n_x, n_c))
        cons = [
            LinearConstraint(sp.hstack([sp.csr_matrix((n_g, n_c)), one], format="csr"), 0, 1),
            LinearConstraint(sp.hstack([-sp.diags(cap), load], format="csr"), -np.inf, 0),
            LinearConstraint(sp.hstack([ylink, link], format="csr"), -np.inf, 0),
        ]
        cons += [
            LinearConstraint(sp.hstack([b.A, sp.csr_matrix((1, n_x))], format="csr"), b.lb, b.ub)
            for b in budget_rows
        ]
        c = np.concatenate([np.zeros(n_c), -g_w[gi]])
        integ = np.concatenate([np.ones(n_c), np.zeros(n_x)])
        lb, ub = np.zeros(n_c + n_x), np.ones(n_c + n_x)
    stats["build_s"] = time.perf_counter() - t0
    if n_g == 0:
        return Solution(
            "maximal_covering",
            np.empty(0, np.int64),
            0.0,
            0.0,
            0.0,
            "no unserved demand within reach of any candidate",
            "milp",
            stats,
        )
    sol = _solve(
        "maximal_covering",
        c,
        integ,
        lb,
        ub,
        cons,
        n_c,
        sense=-1.0,
        time_limit_s=time_limit_s,
        stats=stats,
    )
    if sol is None:
        sel = _greedy_cover(g_cover, g_w, kk, c_arr, budget)
        obj = float(g_w[np.asarray(g_cover[:, sel].sum(axis=1)).ravel() > 0].sum())
        return Solution(
            "maximal_covering",
            sel,
            obj,
            np.nan,
            np.nan,
            "MILP returned no solution; greedy fallback",
            "greedy",
            stats,
        )
    return sol


def _pmedian_model(
    di: np.ndarray,
    cj: np.ndarray,
    dv: np.ndarray,
    w: np.ndarray,
    fallback: np.ndarray,
    n_c: int,
    p: int,
    capacity: np.ndarray | None,
    y_lb: np.ndarray,
    y_ub: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[LinearConstraint]]:
    """The truncated p-median MILP: y (sites), x (pairs within the bound), u (fallback)."""
    n_d = w.size
    n_x = di.size
    assign = sp.hstack(
        [
            sp.csr_matrix((n_d, n_c)),
            sp.csr_matrix((np.ones(n_x), (di, np.arange(n_x))), shape=(n_d, n_x)),
            sp.identity(n_d, format="csr"),
        ],
        format="csr",
    )
    link = sp.hstack(
        [
            sp.csr_matrix((-np.ones(n_x), (np.arange(n_x), cj)), shape=(n_x, n_c)),
            sp.identity(n_x, format="csr"),
            sp.csr_matrix((n_x, n_d)),
        ],
        format="csr",
    )
    count = sp.hstack([sp.csr_matrix(np.ones((1, n_c))), sp.csr_matrix((1, n_x + n_d))])
    cons = [
        LinearConstraint(assign, 1, 1),
        LinearConstraint(link, -np.inf, 0),
        LinearConstraint(count.tocsr(), p, p),
    ]
    if capacity is not None:
        cap = np.asarray(capacity, dtype=np.float64)
        load = sp.hstack(
            [
                -sp.diags(cap),
                sp.csr_matrix((w[di], (cj, np.arange(n_x))), shape=(n_c, n_x)),
                sp.csr_matrix((n_c, n_d)),
            ],
            format="csr",
        )
        cons.append(LinearConstraint(load, -np.inf, 0))
    c = np.concatenate([np.zeros(n_c), w[di] * dv, w * fallback])
    integ = np.concatenate([np.ones(n_c), np.zeros(n_x + n_d)])
    lb = np.concatenate([y_lb, np.zeros(n_x + n_d)])
    ub = np.concatenate([y_ub, np.ones(n_x + n_d)])
    return c, integ, lb, ub, cons


def p_median(
    dist: sp.spmatrix,
    weights: np.ndarray,
    p: int,
    *,
    bound_m: float,
    existing_m: np.ndarray | None = None,
    capacity: np.ndarray | None = None,
    time_limit_s: float | None = 600.0,
    method: str = "auto",
) -> Solution:
    """p-median: open exactly ``p`` sites minimising the total weighted (truncated) distance.

    Without capacities (``method="auto"``) the problem is first attacked by Lagrangian
    relaxation of the assignment constraints with subgradient optimisation, a greedy +
    vertex-substitution incumbent and Lagrangian heuristics (Beasley 1993, European Journal of
    Operational Research 65:383–399; Daskin, *Network and Discrete Location*, 2nd ed., ch. 6;
    see :mod:`.pmedian_lagrange`). When the Lagrangian bound meets the incumbent (relative gap
    ≤ 1e-9) the incumbent is returned as proven optimal (``method="lagrangian"``); otherwise
    reduced-cost tests fix sites open or closed and the reduced model is solved by the MILP
    solver (``method="lagrangian+milp"``): its answer, or the incumbent when no better one
    exists, is optimal. With capacities, or with ``method="milp"``, the full truncated MILP is
    solved directly.

    Parameters
    ----------
    dist : sparse matrix (n_demand × n_candidates)
        Walking distance where it is below ``bound_m`` (absent entries: farther). Explicit zeros
        are distances of 0.
    weights : ndarray (n_demand,)
        Non-negative demand weights.
    p : int
        Sites to open.
    bound_m : float
        Truncation: a demand's distance counts at most ``bound_m``.
    existing_m : ndarray (n_demand,), optional
        Distance to the nearest existing facility (inf where none within the bound).
    capacity : ndarray (n_candidates,), optional
        Most weight a new site can serve (existing facilities are uncapacitated).
    time_limit_s : float, optional
        Limit of the branch and bound ("auto") or of the MILP solve; when hit, the incumbent is
        returned with its gap.
    method : {"auto", "lagrangian+milp", "milp"}
        "auto": Lagrangian relaxation and branch and bound (uncapacitated); "lagrangian+milp":
        the root-reduced model to HiGHS; "milp": the full MILP only.

    Returns
    -------
    Solution
        ``objective`` is Σ weight × min(distance to the assigned site, bound). ``stats`` holds
        the Lagrangian bound, incumbent, iterations and sites fixed when that path ran.
    """
    n_d, n_c = dist.shape
    _check_costs(n_c, None, None)
    if p < 1 or p > n_c:
        raise PlanningError(f"p={p}: need 1 ≤ p ≤ number of candidate sites ({n_c})")
    if method not in ("auto", "lagrangian+milp", "milp"):
        raise PlanningError(f"p-median method={method!r}: use 'auto', 'lagrangian+milp' or 'milp'")
    t0 = time.perf_counter()
    d = sp.coo_matrix(dist)
    keep = d.data < bound_m
    di, cj, dv = d.row[keep], d.col[keep], d.data[keep]
    w = np.asarray(weights, dtype=np.float64)
    fallback = np.full(n_d, float(bound_m))
    if existing_m is not None:
        fallback = np.minimum(fallback, np.asarray(existing_m, dtype=np.float64))
    stats: dict[str, Any] = {"n_demand": n_d, "n_candidates": n_c, "n_pairs": int(di.size)}
    y_lb, y_ub = np.zeros(n_c), np.ones(n_c)
    lag = None
    if method != "milp" and capacity is None and np.all(w >= 0) and np.all(dv >= 0):
        from citycheck.plan.pmedian_lagrange import lagrangian_pmedian

        lag = lagrangian_pmedian(
            di,
            cj,
            w[di] * dv,
            w * fallback,
            n_c,
            p,
            branch=method == "auto",
            time_limit_s=time_limit_s,
        )
        stats.update(
            lagrangian_lower=lag.lower,
            lagrangian_upper=lag.upper,
            lagrangian_iterations=lag.iterations,
            branch_nodes=lag.nodes,
            interchange_swaps=lag.swaps,
            lagrangian_s=lag.seconds,
            sites_fixed_open=int(lag.fix_open.sum()),
            sites_fixed_closed=int(lag.fix_closed.sum()),
        )
        gap = max(lag.upper - lag.lower, 0.0) / max(abs(lag.upper), 1e-9)
        if gap <= 1e-9 or method == "auto":
            done = gap <= 1e-9
            stats["build_s"] = time.perf_counter() - t0
            return Solution(
                "p_median",
                np.flatnonzero(lag.is_open),
                lag.upper,
                lag.lower,
                0.0 if done else gap,
                "optimal: the Lagrangian bound meets the incumbent"
                if done
                else f"time limit ({time_limit_s} s) reached; gap {gap:.2e}",
                "lagrangian",
                stats,
            )
        # reduced model: closed sites and their pairs go, open ones are fixed, and pairs no
        # cheaper than the demand's fallback are dropped (never needed in an optimum)
        y_ub[lag.fix_closed] = 0.0
        y_lb[lag.fix_open] = 1.0
        red = ~lag.fix_closed[cj] & (dv < fallback[di])
        di, cj, dv = di[red], cj[red], dv[red]
        stats["n_pairs_reduced"] = int(di.size)
    c, integ, lb, ub, cons = _pmedian_model(di, cj, dv, w, fallback, n_c, p, capacity, y_lb, y_ub)
    stats["build_s"] = time.perf_counter() - t0
    sol = _solve(
        "p_median",
        c,
        integ,
        lb,
        ub,
        cons,
        n_c,
        sense=1.0,
        time_limit_s=time_limit_s,
        stats=stats,
    )
    if lag is None:
        if sol is None:
            raise PlanningError(
                f"p-median: the solver found no solution ({stats.get('milp_status')})"
            )
        return sol
    # every solution cheaper than the incumbent lies in the reduced model: the better of the
    # two is optimal, and the proven bound is the reduced model's bound capped by the incumbent
    if sol is not None and sol.objective < lag.upper:
        objective, selected, status = sol.objective, sol.selected, sol.status
        reduced_bound = sol.bound
    else:
        objective, selected = lag.upper, np.flatnonzero(lag.is_open)
        status = "optimal: the reduced model has no better solution than the incumbent"
        if sol is None:
            # no answer (e.g. the time limit): nothing proven beyond the Lagrangian bound
            reduced_bound = lag.lower
            status = "incumbent kept; the reduced MILP returned no solution"
        else:
            reduced_bound = np.inf if sol.gap == 0.0 else sol.bound
    bound = max(lag.lower, min(reduced_bound, lag.upper))
    gap = max(objective - bound, 0.0) / max(abs(objective), 1e-9)
    gap = 0.0 if gap <= 1e-9 else gap
    if gap > 0.0 and status.startswith("optimal"):
        status = f"time limit reached in the reduced MILP; gap {gap:.2e}"
    return Solution(
        "p_median",
        selected,
        float(objective),
        float(bound),
        gap,
        status,
        "lagrangian+milp",
        sol.stats if sol is not None else stats,
    )


def set_covering(
    cover: sp.spmatrix,
    *,
    cost: np.ndarray | None = None,
    budget: float | None = None,
    demand_ids: np.ndarray | None = None,
    time_limit_s: float | None = 600.0,
) -> Solution:
    """Set covering: the cheapest set of sites (fewest, without costs) covering every demand row.

    Raises
    ------
    PlanningError
        When some demand has no candidate within reach (infeasible: names how many and which),
        or the cheapest covering exceeds ``budget``.
    """
    n_d, n_c = cover.shape
    c_arr = _check_costs(n_c, cost, budget)
    cov = sp.csr_matrix(cover, dtype=bool)
    empty = np.flatnonzero(np.diff(cov.indptr) == 0)
    if empty.size:
        ids = demand_ids[empty[:5]] if demand_ids is not None else empty[:5]
        raise PlanningError(
            f"set covering is infeasible: {empty.size} of {n_d} demand points have no candidate "
            f"site within the walking limit (e.g. {', '.join(map(str, ids))}); add candidate "
            "sites near them or use maximal covering"
        )
    g_cover, _ = group_demand(cov, np.ones(n_d))
    n_g = g_cover.shape[0]
    obj = np.ones(n_c) if c_arr is None else c_arr
    cons = [LinearConstraint(g_cover.astype(np.float64), 1, np.inf)]
    stats = {"n_demand": n_d, "n_groups": n_g, "n_candidates": n_c}
    sol = _solve(
        "set_covering",
        obj,
        np.ones(n_c),
        np.zeros(n_c),
        np.ones(n_c),
        cons,
        n_c,
        sense=1.0,
        time_limit_s=time_limit_s,
        stats=stats,
    )
    if sol is None:
        raise PlanningError(f"set covering: the solver found no solution ({stats})")
    if budget is not None and sol.objective > budget + 1e-9:
        raise PlanningError(
            f"set covering needs a cost of {sol.objective:g} to serve everyone, above the "
            f"budget {budget:g}; raise the budget or use maximal covering"
        )
    return sol
