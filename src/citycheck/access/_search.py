"""Compiled (numba) bounded searches behind nearest distances and counts within radii.

One search loop (:func:`bucket_search`) serves both queries. It is Dial's bucket queue on
float distances: a node waits in bucket ``floor(d / width)``; buckets are emptied in order.
Bucket entries live in a small recycled pool (two int32 per entry: node, next), so the queue
touches only a few cache-resident arrays and the pool grows only to the largest frontier.
Entries are never removed: when a node's distance drops into another bucket a new entry is
added, and an entry is stale (skipped) unless its node is still queued in that very bucket.
When an edge is shorter than the width a node may be scanned again after its distance drops
inside the current bucket (label-correcting), so results are exact whatever the width; the width
only trades bucket sweeps against re-scans (Dial 1969, "Shortest-path forest with topological
ordering", CACM 12(11); Dinitz 1978 for widths up to the shortest edge being label-setting).

Distances accumulate in float64. Results are stored as float32 rounded *up* (never below the
float64 distance), so a stored distance is within 2**-23 relative (1.2e-4 m at 1500 m) and
``stored <= r`` agrees with ``exact <= r`` for every threshold ``r`` that float32 represents
exactly (every whole or half metre below 16 km).

Nodes flagged non-transit (the hubs that stand for a building or a facility) are never passed
through: they take a distance but only relax their edges when they are a source.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

INF = np.inf
#: Initial pool capacity (entries); the pool doubles when a frontier outgrows it.
POOL_START = 4096


def search_width(cutoff_m: float) -> float:
    """Bucket width of :func:`bucket_search`: ``cutoff / 256``, at least 0.25 m.

    256 buckets keep a small bounded search (one facility) cheap to sweep, while re-scans stay
    rare (only edges shorter than the width can cause one).
    """
    return max(float(cutoff_m) / 256.0, 0.25)


def n_buckets(cutoff_m: float, width: float) -> int:
    """Number of buckets a search bounded by ``cutoff_m`` needs at ``width``."""
    return int(cutoff_m / width) + 2


@njit(cache=True, inline="always")
def round_up_f32(d):  # pragma: no cover - compiled
    """The smallest float32 not below ``d``."""
    f = np.float32(d)
    if np.float64(f) < d:
        f = np.nextafter(f, np.float32(np.inf))
    return f


@njit(cache=True, inline="always")
def _lower(u, nd, inv_width, dist, touched, n_t, queued, heads, pool, top, free):
    """Set ``dist[u] = nd`` (known to be lower) and queue ``u`` in its bucket unless it is
    already queued there; the pool must have a free entry. Returns (n_t, top, free)."""
    du = dist[u]
    if du == INF:
        touched[n_t] = u
        n_t += 1
    b = int(nd * inv_width)
    if queued[u] == 0 or int(du * inv_width) != b:
        if free != -1:
            e = free
            free = pool[e, 1]
        else:
            e = top
            top += 1
        pool[e, 0] = u
        pool[e, 1] = heads[b]
        heads[b] = e
        queued[u] = 1
    dist[u] = nd
    return n_t, top, free


@njit(cache=True)
def _grow(pool, need):  # pragma: no cover - compiled
    """A pool with room for at least ``need`` entries (the same one if it has)."""
    cap = pool.shape[0]
    if need <= cap:
        return pool
    while cap < need:
        cap *= 2
    grown = np.empty((cap, 2), dtype=np.int32)
    grown[: pool.shape[0]] = pool
    return grown


@njit(cache=True)
def bucket_search(
    indptr,
    indices,
    weights,
    transit,
    src_nodes,
    src_dist,
    cutoff,
    inv_width,
    dist,
    touched,
    queued,
    heads,
    pool,
):  # pragma: no cover - compiled
    """Multi-source shortest distances up to ``cutoff``.

    Parameters
    ----------
    indptr, indices, weights, transit : ndarray
        The graph (CSR) and its transit flags.
    src_nodes, src_dist : ndarray
        Sources and their start distances.
    cutoff, inv_width : float
        Search bound and ``1 / width`` of the buckets.
    dist : ndarray of float64
        +inf everywhere on entry; afterwards holds the distances of ``touched[:n]`` (the caller
        resets those to +inf).
    touched : ndarray of int32
        Room for every node.
    queued : ndarray of uint8
        Zero everywhere on entry, and on return.
    heads : ndarray of int32
        One per bucket (``n_buckets(cutoff, width)``).
    pool : ndarray of int32, shape (capacity, 2)
        Entry pool; grown here when too small.

    Returns
    -------
    n : int
        Number of touched nodes.
    pool : ndarray
        The pool (a larger one if it grew), for the next search.
    """
    nb = heads.size
    for b in range(nb):
        heads[b] = -1
    top = 0
    free = -1
    n_t = 0
    pool = _grow(pool, src_nodes.size)
    for k in range(src_nodes.size):
        s = src_nodes[k]
        d = src_dist[k]
        if d <= cutoff and d < dist[s]:
            n_t, top, free = _lower(
                s, d, inv_width, dist, touched, n_t, queued, heads, pool, top, free
            )
    # non-transit sources relax their edges here; popped later they only take a distance
    for k in range(src_nodes.size):
        s = src_nodes[k]
        if transit[s] or dist[s] != src_dist[k]:
            continue
        ds = dist[s]
        if top + indptr[s + 1] - indptr[s] > pool.shape[0]:
            pool = _grow(pool, top + indptr[s + 1] - indptr[s])
        for p in range(indptr[s], indptr[s + 1]):
            v = indices[p]
            nd = ds + weights[p]
            if nd <= cutoff and nd < dist[v]:
                n_t, top, free = _lower(
                    v, nd, inv_width, dist, touched, n_t, queued, heads, pool, top, free
                )
    cap = pool.shape[0]
    b = 0
    while b < nb:
        e = heads[b]
        if e == -1:
            b += 1
            continue
        heads[b] = pool[e, 1]
        u = pool[e, 0]
        pool[e, 1] = free
        free = e
        du = dist[u]
        if queued[u] == 0 or int(du * inv_width) != b:
            continue  # stale: its node moved to an earlier bucket, or was scanned already
        queued[u] = 0
        if not transit[u]:
            continue
        p0 = indptr[u]
        p1 = indptr[u + 1]
        if top + p1 - p0 > cap:  # room for one entry per edge (free entries not counted)
            pool = _grow(pool, top + p1 - p0)
            cap = pool.shape[0]
        for p in range(p0, p1):
            v = indices[p]
            nd = du + weights[p]
            if nd <= cutoff and nd < dist[v]:
                n_t, top, free = _lower(
                    v, nd, inv_width, dist, touched, n_t, queued, heads, pool, top, free
                )
    return n_t, pool


#: Bytes of a uint64 word: every byte 0x01, every byte 0x80 (SWAR zero-byte test).
_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)
#: Entries of the in-bucket stack of :func:`sweep_search`.
STACK_SIZE = 4096


@njit(cache=True, inline="always")
def _tag(b):  # pragma: no cover - compiled
    """Pending mark of bucket ``b`` (1..255; buckets 255 apart share one)."""
    return np.uint8(b % 255 + 1)


@njit(cache=True, inline="always")
def _sweep_scan(
    u,
    du,
    b,
    cur,
    cutoff,
    inv_width,
    indptr,
    indices,
    weights,
    transit,
    dist,
    pend,
    blo,
    bhi,
    stack,
    sp,
):  # pragma: no cover - compiled
    """Relax the edges of ``u`` (bucket ``b``); mark improved transit nodes pending in their
    bucket. A node behind the sweep position ``cur`` that drops into ``b`` goes on the stack
    (one the sweep will still meet needs nothing). Returns (sp, redo): the stack size, and the
    lowest word to sweep again when the stack was full (-1: none)."""
    redo = -1
    for p in range(indptr[u], indptr[u + 1]):
        v = indices[p]
        nd = du + weights[p]
        if nd <= cutoff and nd < dist[v]:
            bv = int(nd * inv_width)
            dist[v] = nd
            if not transit[v]:
                continue
            pend[v] = _tag(bv)
            wv = v >> 3
            if bv == b and v < cur:
                if sp < stack.size:
                    stack[sp] = v
                    sp += 1
                elif redo == -1 or wv < redo:
                    redo = wv
                continue
            if wv < blo[bv]:
                blo[bv] = wv
            if wv > bhi[bv]:
                bhi[bv] = wv
    return sp, redo


@njit(cache=True)
def sweep_search(
    indptr, indices, weights, transit, src_nodes, src_dist, cutoff, inv_width, dist, pend, stack
):  # pragma: no cover - compiled
    """Multi-source shortest distances up to ``cutoff`` by bucket sweeps in node order.

    The nearest-distance search. A multi-source wavefront is everywhere at once, so popping
    nodes in distance order jumps across the whole graph (a cache miss per array per node).
    Here each bucket ``b`` (distances in ``[b w, (b+1) w)``) is a range of node ids plus a
    pending mark per node (its bucket's tag); the bucket is settled by sweeping that range in
    node order (nodes are in Morton order, so neighbours are near in memory; eight marks are
    tested at once) and relaxing every node marked for ``b``. A node behind the sweep that
    drops into ``b`` (over an edge shorter than ``w``) is relaxed at once from a small stack
    (label-correcting inside the bucket). When bucket ``b`` has nothing pending, all distances
    below ``(b+1) w`` are final (every improvement comes from a lower bucket), so the result
    is exact; ``w`` only trades sweeps against re-scans. Non-transit nodes take a distance but
    are never pending (sources relax their edges at the start).

    Parameters
    ----------
    indptr, indices, weights, transit : ndarray
        The graph (CSR) and its transit flags.
    src_nodes, src_dist : ndarray
        Sources and their start distances.
    cutoff, inv_width : float
        Search bound and ``1 / w``.
    dist : ndarray of float64
        +inf everywhere on entry; the distances on return (the caller resets them).
    pend : ndarray of uint8
        Zero everywhere on entry and on return; its size is a multiple of 8, at least the
        number of nodes.
    stack : ndarray of int32
        Scratch (any size; :data:`STACK_SIZE` is plenty).
    """
    nb = int(cutoff * inv_width) + 1  # buckets that hold distances <= cutoff
    blo = np.full(nb, np.iinfo(np.int64).max, dtype=np.int64)
    bhi = np.full(nb, -1, dtype=np.int64)
    pw = pend.view(np.uint64)
    for k in range(src_nodes.size):
        s = src_nodes[k]
        d0 = src_dist[k]
        if d0 <= cutoff and d0 < dist[s]:
            dist[s] = d0
    for k in range(src_nodes.size):
        s = src_nodes[k]
        d0 = src_dist[k]
        if dist[s] != d0:
            continue
        if transit[s]:
            bs = int(d0 * inv_width)
            pend[s] = _tag(bs)
            blo[bs] = min(blo[bs], s >> 3)
            bhi[bs] = max(bhi[bs], s >> 3)
            continue
        for p in range(indptr[s], indptr[s + 1]):
            v = indices[p]
            nd = d0 + weights[p]
            if nd <= cutoff and nd < dist[v]:
                dist[v] = nd
                if transit[v]:
                    bv = int(nd * inv_width)
                    pend[v] = _tag(bv)
                    blo[bv] = min(blo[bv], v >> 3)
                    bhi[bv] = max(bhi[bv], v >> 3)
    for b in range(nb):
        t = _tag(b)
        pat = _ONES * np.uint64(t)
        start = blo[b]
        while start <= bhi[b]:
            redo = np.iinfo(np.int64).max
            wi = start
            while wi <= bhi[b]:  # grows while the sweep marks nodes ahead
                x = pw[wi] ^ pat
                if ((x - _ONES) & ~x & _HIGHS) == 0:  # no byte equals the tag
                    wi += 1
                    continue
                for j in range(8):
                    u = wi * 8 + j
                    if pend[u] != t:
                        continue
                    du = dist[u]
                    if int(du * inv_width) != b:
                        continue  # a bucket 255 later: swept there
                    pend[u] = 0
                    sp, r = _sweep_scan(
                        u,
                        du,
                        b,
                        u,
                        cutoff,
                        inv_width,
                        indptr,
                        indices,
                        weights,
                        transit,
                        dist,
                        pend,
                        blo,
                        bhi,
                        stack,
                        0,
                    )
                    if r != -1:
                        redo = min(redo, r)
                    while sp > 0:
                        sp -= 1
                        v = stack[sp]
                        dv = dist[v]
                        if pend[v] != t or int(dv * inv_width) != b:
                            continue
                        pend[v] = 0
                        sp, r = _sweep_scan(
                            v,
                            dv,
                            b,
                            u,
                            cutoff,
                            inv_width,
                            indptr,
                            indices,
                            weights,
                            transit,
                            dist,
                            pend,
                            blo,
                            bhi,
                            stack,
                            sp,
                        )
                        if r != -1:
                            redo = min(redo, r)
                wi += 1
            start = redo


def sweep_width(weights: np.ndarray, cutoff_m: float) -> float:
    """Bucket width of :func:`sweep_search`: eight median edge lengths (the median from a sample
    of at most 4096 edges), kept within ``cutoff / 256`` and ``cutoff / 4``.

    Each bucket costs one sweep of its node range, so few wide buckets are cheap; a node may be
    relaxed again when its distance drops inside a bucket, which wide buckets make likelier.
    On the 1 M-node benchmark grid (50 m edges) widths of 300-400 m were fastest (100 m took
    1.5x, 50 m 2x as long); every width gives the same distances.
    """
    if weights.size == 0:
        return max(float(cutoff_m), 1.0)
    step = max(1, weights.size // 4096)
    med = float(np.median(weights[::step]))
    return float(np.clip(8.0 * med, cutoff_m / 256.0, cutoff_m / 4.0)) or 1.0


@njit(cache=True)
def _nearest_chunk(
    indptr, indices, weights, transit, cats, cat_ptr, src_nodes, cutoff, inv_width, qrow, out
):  # pragma: no cover - compiled
    """Run the categories ``cats`` one after another with one set of scratch arrays."""
    n = indptr.size - 1
    dist = np.full(n, INF)
    pend = np.zeros((n + 7) // 8 * 8, dtype=np.uint8)
    stack = np.empty(STACK_SIZE, dtype=np.int32)
    for c in cats:
        a = cat_ptr[c]
        b = cat_ptr[c + 1]
        src = src_nodes[a:b]
        sweep_search(
            indptr,
            indices,
            weights,
            transit,
            src,
            np.zeros(src.size),
            cutoff,
            inv_width,
            dist,
            pend,
            stack,
        )
        out_c = out[c]
        for i in range(n):
            d = dist[i]
            if d != INF:
                q = qrow[i]
                if q >= 0:
                    out_c[q] = round_up_f32(d)
                dist[i] = INF


@njit(cache=True, parallel=True)
def _nearest_parallel(
    indptr,
    indices,
    weights,
    transit,
    plan_ptr,
    plan_cat,
    cat_ptr,
    src_nodes,
    cutoff,
    inv_width,
    qrow,
    out,
):  # pragma: no cover - compiled
    for t in prange(plan_ptr.size - 1):
        _nearest_chunk(
            indptr,
            indices,
            weights,
            transit,
            plan_cat[plan_ptr[t] : plan_ptr[t + 1]],
            cat_ptr,
            src_nodes,
            cutoff,
            inv_width,
            qrow,
            out,
        )


def nearest_by_category(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    transit: np.ndarray,
    plan: tuple[np.ndarray, np.ndarray],
    cat_ptr: np.ndarray,
    src_nodes: np.ndarray,
    cutoff: float,
    qrow: np.ndarray,
    n_query: int,
) -> np.ndarray:
    """Nearest distance from every query node to each category's sources (multi-source).

    Parameters
    ----------
    indptr, indices, weights, transit : ndarray
        The graph.
    plan : (ndarray, ndarray)
        ``(plan_ptr, plan_cat)`` from :func:`thread_plan`: thread ``t`` runs categories
        ``plan_cat[plan_ptr[t]:plan_ptr[t+1]]`` with its own scratch arrays (one thread: no
        parallel region at all).
    cat_ptr, src_nodes : ndarray
        Sources of category ``c`` are ``src_nodes[cat_ptr[c]:cat_ptr[c+1]]`` (distance 0).
    cutoff : float
        Search bound.
    qrow : ndarray of int32
        Output row of every node (-1: not reported).
    n_query : int
        Number of output rows.

    Returns
    -------
    ndarray of float32, shape (n_categories, n_query)
        Distances rounded up to float32, +inf beyond ``cutoff``.
    """
    plan_ptr, plan_cat = plan
    width = sweep_width(weights, cutoff)
    out = np.full((cat_ptr.size - 1, n_query), np.inf, dtype=np.float32)
    args = (indptr, indices, weights, transit)
    tail = (cat_ptr, src_nodes, float(cutoff), 1.0 / width, qrow, out)
    if plan_ptr.size - 1 <= 1:
        _nearest_chunk(*args, plan_cat, *tail)
    else:
        _nearest_parallel(*args, plan_ptr, plan_cat, *tail)
    return out


@njit(cache=True)
def _counts_chunk(
    indptr,
    indices,
    weights,
    transit,
    cats,
    cat_gptr,
    grp_ptr,
    src_nodes,
    radii,
    inv_width,
    nb,
    qrow,
    counts,
    near,
):  # pragma: no cover - compiled
    """One bounded search per facility of the categories ``cats``; bin every reached query
    node by radius, then make the bins cumulative."""
    n = indptr.size - 1
    n_rad = radii.size
    cutoff = radii[n_rad - 1]
    dist = np.full(n, INF)
    touched = np.empty(n, dtype=np.int32)
    queued = np.zeros(n, dtype=np.uint8)
    heads = np.empty(nb, dtype=np.int32)
    pool = np.empty((POOL_START, 2), dtype=np.int32)
    n_query = counts.shape[1]
    for c in cats:
        counts_c = counts[c]
        near_c = near[c]
        for g in range(cat_gptr[c], cat_gptr[c + 1]):
            src = src_nodes[grp_ptr[g] : grp_ptr[g + 1]]
            n_t, pool = bucket_search(
                indptr,
                indices,
                weights,
                transit,
                src,
                np.zeros(src.size),
                cutoff,
                inv_width,
                dist,
                touched,
                queued,
                heads,
                pool,
            )
            for k in range(n_t):
                i = touched[k]
                d = dist[i]
                dist[i] = INF
                q = qrow[i]
                if q >= 0:
                    r = 0
                    while radii[r] < d:
                        r += 1
                    counts_c[q, r] += 1
                    if d < near_c[q]:  # round only on improvement
                        near_c[q] = round_up_f32(d)
        for q in range(n_query):
            for r in range(1, n_rad):
                counts_c[q, r] += counts_c[q, r - 1]


@njit(cache=True, parallel=True)
def _counts_parallel(
    indptr,
    indices,
    weights,
    transit,
    plan_ptr,
    plan_cat,
    cat_gptr,
    grp_ptr,
    src_nodes,
    radii,
    inv_width,
    nb,
    qrow,
    counts,
    near,
):  # pragma: no cover - compiled
    for t in prange(plan_ptr.size - 1):
        _counts_chunk(
            indptr,
            indices,
            weights,
            transit,
            plan_cat[plan_ptr[t] : plan_ptr[t + 1]],
            cat_gptr,
            grp_ptr,
            src_nodes,
            radii,
            inv_width,
            nb,
            qrow,
            counts,
            near,
        )


def count_dtype(max_count: int) -> type:
    """Smallest unsigned integer type that holds counts up to ``max_count``."""
    for t in (np.uint8, np.uint16, np.uint32):
        if max_count <= np.iinfo(t).max:
            return t
    return np.uint64


def counts_by_category(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    transit: np.ndarray,
    plan: tuple[np.ndarray, np.ndarray],
    cat_gptr: np.ndarray,
    grp_ptr: np.ndarray,
    src_nodes: np.ndarray,
    radii: np.ndarray,
    qrow: np.ndarray,
    n_query: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of facilities within each radius, and nearest distance, per category and node.

    One bounded search per group (a facility: one or more source nodes at distance 0), bounded
    by the largest radius. Work is split by category (``plan`` as in
    :func:`nearest_by_category`), so no two threads write the same row. Groups of category ``c``
    are ``cat_gptr[c]..cat_gptr[c+1]``; group ``g``'s sources are
    ``src_nodes[grp_ptr[g]:grp_ptr[g+1]]``.

    Returns
    -------
    counts : ndarray, shape (n_categories, n_query, n_radii)
        Cumulative over radii, in the smallest unsigned type that holds the largest category's
        number of facilities (:func:`count_dtype`).
    near : ndarray of float32, shape (n_categories, n_query)
        Nearest distance rounded up to float32 (+inf beyond the largest radius).
    """
    plan_ptr, plan_cat = plan
    cutoff = float(radii[-1])
    width = search_width(cutoff)
    nb = n_buckets(cutoff, width)
    n_cat = cat_gptr.size - 1
    most = int(np.diff(cat_gptr).max()) if n_cat else 0
    counts = np.zeros((n_cat, n_query, radii.size), dtype=count_dtype(most))
    near = np.full((n_cat, n_query), np.inf, dtype=np.float32)
    args = (indptr, indices, weights, transit)
    tail = (cat_gptr, grp_ptr, src_nodes, radii, 1.0 / width, nb, qrow, counts, near)
    if plan_ptr.size - 1 <= 1:
        _counts_chunk(*args, plan_cat, *tail)
    else:
        _counts_parallel(*args, plan_ptr, plan_cat, *tail)
    return counts, near


@njit(cache=True)
def ordered_rows(n_nodes, qn):  # pragma: no cover - compiled
    """Output row of every node for query nodes given in increasing node order, in one pass.

    Returns (qrow, code): code 1 when ``qn`` is strictly increasing (``qrow`` is complete),
    0 when it is not (``qrow`` is partial: use another way), -1 when an id is outside
    ``0..n_nodes-1``.
    """
    qrow = np.full(n_nodes, -1, dtype=np.int32)
    for k in range(qn.size):
        v = qn[k]
        if v < 0 or v >= n_nodes:
            return qrow, -1
        if k and v <= qn[k - 1]:
            return qrow, 0
        qrow[v] = k
    return qrow, 1


def thread_plan(load: np.ndarray, n_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Split categories over threads, largest load first onto the least-loaded thread (LPT).

    Parameters
    ----------
    load : ndarray
        Work estimate per category.
    n_threads : int, optional
        Threads (numba's setting by default); never more than categories.

    Returns
    -------
    plan_ptr, plan_cat : ndarray of int64
        Thread ``t`` runs ``plan_cat[plan_ptr[t]:plan_ptr[t+1]]``.
    """
    n_threads = max(1, min(n_threads or get_num_threads(), max(1, load.size)))
    bins: list[list[int]] = [[] for _ in range(n_threads)]
    totals = np.zeros(n_threads)
    for c in np.argsort(-load, kind="stable"):
        t = int(np.argmin(totals))
        bins[t].append(int(c))
        totals[t] += load[c]
    ptr = np.zeros(n_threads + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(b) for b in bins])
    cats = np.array([c for b in bins for c in b], dtype=np.int64)
    return ptr, cats
