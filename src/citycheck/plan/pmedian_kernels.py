"""Compiled kernels of the Lagrangian p-median solver (see :mod:`.pmedian_lagrange`).

The instance is a sparse table of weighted assignment costs ``c[i, j] = w_i · d_ij`` for the
pairs cheaper than the demand's fallback cost ``F_i`` (its nearest existing facility or the
truncation bound), stored twice: by demand (``rptr, rcol, rcost``) and by site
(``cptr, crow, ccost``). A demand served by no open site pays ``F_i``.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, objmode


@njit(cache=True)
def nearest_two(rptr, rcol, rcost, fallback, is_open):  # pragma: no cover - compiled
    """Per demand: cheapest cost ``d1``, its site ``c1`` (-1: the fallback) and second ``d2``."""
    n = fallback.size
    d1 = fallback.copy()
    d2 = fallback.copy()
    c1 = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        for k in range(rptr[i], rptr[i + 1]):
            j = rcol[k]
            if not is_open[j]:
                continue
            c = rcost[k]
            if c < d1[i]:
                d2[i] = d1[i]
                d1[i] = c
                c1[i] = j
            elif c < d2[i]:
                d2[i] = c
    return d1, c1, d2


@njit(cache=True)
def evaluate(rptr, rcol, rcost, fallback, is_open):  # pragma: no cover - compiled
    """Total cost of an open set: every demand pays its cheapest open site or its fallback."""
    total = 0.0
    for i in range(fallback.size):
        best = fallback[i]
        for k in range(rptr[i], rptr[i + 1]):
            if is_open[rcol[k]] and rcost[k] < best:
                best = rcost[k]
        total += best
    return total


@njit(cache=True)
def greedy(cptr, crow, ccost, fallback, p):  # pragma: no cover - compiled
    """Greedy start: add, p times, the site that lowers the total cost most."""
    n_c = cptr.size - 1
    d1 = fallback.copy()
    is_open = np.zeros(n_c, dtype=np.bool_)
    for _ in range(p):
        best_j = -1
        best_g = 1.0
        for j in range(n_c):
            if is_open[j]:
                continue
            g = 0.0
            for k in range(cptr[j], cptr[j + 1]):
                c = ccost[k]
                i = crow[k]
                if c < d1[i]:
                    g += c - d1[i]
            if best_j < 0 or g < best_g:
                best_j = j
                best_g = g
        is_open[best_j] = True
        for k in range(cptr[best_j], cptr[best_j + 1]):
            i = crow[k]
            if ccost[k] < d1[i]:
                d1[i] = ccost[k]
    return is_open


@njit(cache=True)
def interchange(rptr, rcol, rcost, cptr, crow, ccost, fallback, is_open, tol):  # pragma: no cover
    """Vertex substitution (Teitz & Bart 1968) with best-improvement swaps.

    The change of swapping site ``j`` in for open site ``r`` is computed for all pairs at once
    from each demand's two cheapest open costs (Whitaker 1983's fast interchange):
    ``Δ(j, r) = G_j + loss_r + Σ_{i ∈ col j, c1_i = r} [min(d2, c) − min(d1, c) − (d2 − d1)]``
    with ``G_j = Σ_{i ∈ col j} min(0, c_ij − d1_i)`` and ``loss_r = Σ_{c1_i = r} (d2_i − d1_i)``.
    Swaps are applied while one lowers the cost by more than ``tol``. Modifies ``is_open``.

    Returns
    -------
    (total cost, swaps made)
    """
    n_c = cptr.size - 1
    swaps = 0
    corr = np.zeros(n_c)
    while True:
        d1, c1, d2 = nearest_two(rptr, rcol, rcost, fallback, is_open)
        loss = np.zeros(n_c)
        for i in range(d1.size):
            if c1[i] >= 0:
                loss[c1[i]] += d2[i] - d1[i]
        open_idx = np.flatnonzero(is_open)
        best = -tol
        best_in = -1
        best_out = -1
        for j in range(n_c):
            if is_open[j]:
                continue
            g = 0.0
            for k in range(cptr[j], cptr[j + 1]):
                i = crow[k]
                c = ccost[k]
                if c < d1[i]:
                    g += c - d1[i]
                r = c1[i]
                if r >= 0:
                    corr[r] += min(d2[i], c) - min(d1[i], c) - (d2[i] - d1[i])
            for r in open_idx:
                delta = g + loss[r] + corr[r]
                corr[r] = 0.0  # corr is only ever set at open sites (c1 is open)
                if delta < best:
                    best = delta
                    best_in = j
                    best_out = r
        if best_in < 0:
            break
        is_open[best_in] = True
        is_open[best_out] = False
        swaps += 1
    return evaluate(rptr, rcol, rcost, fallback, is_open), swaps


@njit(cache=True)
def site_values(cptr, crow, ccost, lam):  # pragma: no cover - compiled
    """ρ_j = Σ_i min(0, c_ij − λ_i): what opening site j contributes to the Lagrangian."""
    n_c = cptr.size - 1
    rho = np.zeros(n_c)
    for j in range(n_c):
        s = 0.0
        for k in range(cptr[j], cptr[j + 1]):
            v = ccost[k] - lam[crow[k]]
            if v < 0.0:
                s += v
        rho[j] = s
    return rho


@njit(cache=True)
def subgradient(
    rptr,
    rcol,
    rcost,
    cptr,
    crow,
    ccost,
    fallback,
    p,
    ub,
    best_open,
    max_iter,
    heur_every,
    tol,
    fix_open,
    fix_closed,
    lam0,
):  # pragma: no cover - compiled
    """Subgradient optimisation of the Lagrangian dual of the assignment constraints.

    Starts from ``lam0``. L(λ) = Σ_i λ_i + Σ_{p smallest} ρ_j(λ), with 0 ≤ λ_i ≤ F_i (then
    the fallback term min(0, F_i − λ_i) vanishes). Step ``π (UB − L) / ‖g‖²`` (Held, Wolfe &
    Crowder 1974), π halved after 30 iterations without a better bound. Every ``heur_every``
    iterations the p sites of the relaxed solution are evaluated (a Lagrangian heuristic) and
    kept when better. After each iteration, reduced-cost tests mark sites that cannot be open
    (``fix_closed``) or closed (``fix_open``) in any solution cheaper than the incumbent:
    ``L − ρ_(p) + ρ_j`` bounds the solutions with ``j`` open, ``L − ρ_j + ρ_(p+1)`` those
    with ``j`` closed.

    Returns
    -------
    (best bound, incumbent cost, iterations, best λ); ``best_open`` and the fix flags are
    updated in place.
    """
    n_d = fallback.size
    n_c = cptr.size - 1
    lam = lam0.copy()
    best_lam = lam.copy()
    lb = -np.inf
    pi = 2.0
    stall = 0
    it = 0
    g = np.zeros(n_d)
    is_open = np.zeros(n_c, dtype=np.bool_)
    for it in range(1, max_iter + 1):
        rho = site_values(cptr, crow, ccost, lam)
        order = np.argsort(rho, kind="mergesort")
        sp_ = 0.0
        for t in range(p):
            sp_ += rho[order[t]]
        lval = lam.sum() + sp_
        if lval > lb:
            lb = lval
            best_lam[:] = lam
            stall = 0
        else:
            stall += 1
            if stall >= 30:
                pi *= 0.5
                stall = 0
        # reduced-cost fixing (valid for any λ)
        rp = rho[order[p - 1]]
        for t in range(p, n_c):
            j = order[t]
            if lval - rp + rho[j] > ub:
                fix_closed[j] = True
        if p < n_c:
            rq = rho[order[p]]
            for t in range(p):
                j = order[t]
                if lval - rho[j] + rq > ub:
                    fix_open[j] = True
        is_open[:] = False
        for t in range(p):
            is_open[order[t]] = True
        if heur_every > 0 and it % heur_every == 0:
            val = evaluate(rptr, rcol, rcost, fallback, is_open)
            if val < ub:
                ub = val
                best_open[:] = is_open
        if ub - lb <= tol * max(abs(ub), 1.0) or pi < 1e-4:
            break
        # subgradient g_i = 1 − Σ_j x_ij, projected on the box 0 ≤ λ ≤ F
        for i in range(n_d):
            g[i] = 1.0
        for t in range(p):
            j = order[t]
            for k in range(cptr[j], cptr[j + 1]):
                i = crow[k]
                if ccost[k] < lam[i]:
                    g[i] -= 1.0
        norm = 0.0
        for i in range(n_d):
            if (g[i] > 0.0 and lam[i] >= fallback[i]) or (g[i] < 0.0 and lam[i] <= 0.0):
                g[i] = 0.0
            norm += g[i] * g[i]
        if norm == 0.0:
            break  # g lies in the box's normal cone: λ maximises L
        step = pi * (ub - lval) / norm
        for i in range(n_d):
            v = lam[i] + step * g[i]
            lam[i] = min(max(v, 0.0), fallback[i])
    return lb, ub, it, best_lam


@njit(cache=True)
def node_bound(
    rptr,
    rcol,
    rcost,
    cptr,
    crow,
    ccost,
    fallback,
    p,
    lam,
    state,
    ub,
    best_open,
    max_iter,
    pi0,
    tol,
):  # pragma: no cover - compiled
    """Lagrangian bound of one branch-and-bound node (``state``: 1 open, -1 closed, 0 free).

    Sites forced open are open in the relaxed solution; the rest of the ``p`` are the free
    sites of smallest ρ. Starts from ``lam`` (updated in place to the best multipliers found),
    stops as soon as the bound reaches the incumbent (the node is pruned). Free sites are fixed
    in ``state`` by the reduced-cost tests of :func:`subgradient`. The relaxed solutions' sites
    are evaluated as incumbents (``best_open`` updated).

    Returns
    -------
    (bound, incumbent cost); the bound is ``inf`` when the node has no feasible completion.
    """
    n_d = fallback.size
    n_c = cptr.size - 1
    best_lam = lam.copy()
    lb = -np.inf
    pi = pi0
    stall = 0
    g = np.zeros(n_d)
    is_open = np.zeros(n_c, dtype=np.bool_)
    free = np.empty(n_c, dtype=np.int64)
    for it in range(max_iter):
        n_open = 0
        n_free = 0
        for j in range(n_c):
            if state[j] == 1:
                n_open += 1
            elif state[j] == 0:
                free[n_free] = j
                n_free += 1
        need = p - n_open
        if need < 0 or need > n_free:
            return np.inf, ub
        rho = site_values(cptr, crow, ccost, lam)
        fr = free[:n_free]
        order = fr[np.argsort(rho[fr], kind="mergesort")]
        lval = lam.sum()
        is_open[:] = False
        for j in range(n_c):
            if state[j] == 1:
                lval += rho[j]
                is_open[j] = True
        for t in range(need):
            lval += rho[order[t]]
            is_open[order[t]] = True
        if lval > lb:
            lb = lval
            best_lam[:] = lam
            stall = 0
        else:
            stall += 1
            if stall >= 5:
                pi *= 0.5
                stall = 0
        if it % 10 == 0:
            val = evaluate(rptr, rcol, rcost, fallback, is_open)
            if val < ub:
                ub = val
                best_open[:] = is_open
        if lb >= ub - tol:
            break
        # reduced-cost fixing inside the node
        if need > 0:
            rp = rho[order[need - 1]]
            for t in range(need, n_free):
                j = order[t]
                if lval - rp + rho[j] > ub - tol:
                    state[j] = -1
        if need < n_free:
            rq = rho[order[need]]
            for t in range(need):
                j = order[t]
                if lval - rho[j] + rq > ub - tol:
                    state[j] = 1
        if pi < 1e-3:
            break
        for i in range(n_d):
            g[i] = 1.0
        for j in range(n_c):
            if is_open[j]:
                for k in range(cptr[j], cptr[j + 1]):
                    i = crow[k]
                    if ccost[k] < lam[i]:
                        g[i] -= 1.0
        norm = 0.0
        for i in range(n_d):
            if (g[i] > 0.0 and lam[i] >= fallback[i]) or (g[i] < 0.0 and lam[i] <= 0.0):
                g[i] = 0.0
            norm += g[i] * g[i]
        if norm == 0.0:
            break
        step = pi * (ub - lval) / norm
        for i in range(n_d):
            v = lam[i] + step * g[i]
            lam[i] = min(max(v, 0.0), fallback[i])
    lam[:] = best_lam
    return lb, ub


@njit(cache=True)
def _now():  # pragma: no cover - compiled
    with objmode(t="float64"):
        t = time.perf_counter()
    return t


@njit(cache=True)
def branch_and_bound(
    rptr,
    rcol,
    rcost,
    cptr,
    crow,
    ccost,
    fallback,
    p,
    lam,
    state0,
    ub,
    best_open,
    node_iter,
    tol,
    deadline,
):  # pragma: no cover - compiled
    """Depth-first Lagrangian branch and bound on the sites (Beasley 1993).

    Each node is bounded by :func:`node_bound`, warm-started from the multipliers of the node
    solved before it; a node whose bound reaches the incumbent (minus ``tol``) is pruned. The
    branching site is the free site of the relaxed solution with the largest ρ (the least sure
    one); its "open" child is explored first. A new incumbent found in a node is improved by
    :func:`interchange`. Stops at ``deadline`` (``time.perf_counter``).

    Returns
    -------
    (proven lower bound, incumbent cost, nodes, finished)
    """
    n_c = cptr.size - 1
    cap = 2 * n_c + 2
    stack = np.zeros((cap, n_c), dtype=np.int8)
    stack_lb = np.empty(cap)
    top = 0
    stack[0, :] = state0
    stack_lb[0] = -np.inf
    top = 1
    nodes = 0
    state = np.zeros(n_c, dtype=np.int8)
    while top > 0:
        if _now() > deadline:
            low = ub
            for s in range(top):
                low = min(low, stack_lb[s])
            return low, ub, nodes, False
        top -= 1
        if stack_lb[top] >= ub - tol:
            continue
        state[:] = stack[top]
        nodes += 1
        ub_before = ub
        lb, ub = node_bound(
            rptr,
            rcol,
            rcost,
            cptr,
            crow,
            ccost,
            fallback,
            p,
            lam,
            state,
            ub,
            best_open,
            node_iter,
            0.5,
            tol,
        )
        if ub < ub_before:
            # a relaxed solution of this node is the new incumbent: polish it by substitution
            ub, _ = interchange(
                rptr, rcol, rcost, cptr, crow, ccost, fallback, best_open, tol * 1e-3
            )
        if lb >= ub - tol:
            continue
        # branching site: the relaxed solution's free site with the largest ρ
        rho = site_values(cptr, crow, ccost, lam)
        n_open = 0
        for j in range(n_c):
            if state[j] == 1:
                n_open += 1
        need = p - n_open
        free = np.flatnonzero(state == 0)
        if free.size == 0 or need <= 0:
            # all sites decided or the open set is complete: the node is a solution
            continue
        order = free[np.argsort(rho[free], kind="mergesort")]
        jb = order[min(need, order.size) - 1]
        stack[top, :] = state
        stack[top, jb] = -1
        stack_lb[top] = lb
        top += 1
        stack[top, :] = state
        stack[top, jb] = 1
        stack_lb[top] = lb
        top += 1
    return ub, ub, nodes, True
