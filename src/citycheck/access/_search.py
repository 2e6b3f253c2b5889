"""Compiled (numba) bounded searches behind nearest distances and counts within radii.

Nearest distance per category is one multi-source search whose wavefront covers the whole
graph; :func:`sweep_search` settles it bucket by bucket in node (Morton) order, so memory is
read nearly in sequence. Counts within radii need one small search per facility, which stays
in cache; :func:`count_search` (a bucket queue of stacks, O(1) push and pop) is the fastest
there. Routes and isochrones use :func:`citycheck.access._kernels.dijkstra_pred` (a binary heap
with predecessors).

Distances accumulate in float64 and are returned as float64, or on request as float32 rounded
*up* (never below the float64 distance): within 2**-23 relative (1.2e-4 m at 1500 m), and
``stored <= r`` agrees with ``exact <= r`` for every threshold ``r`` that float32 represents
exactly (every whole or half metre below 16 km).

Nodes flagged non-transit (the hubs that stand for a building or a facility) are never passed
through: they take a distance but only relax their edges when they are a source.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import get_num_threads, njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

INF = np.inf


@njit(cache=True, inline="always")
def round_up_f32(d):  # pragma: no cover - compiled
    """The smallest float32 not below ``d``."""
    f = np.float32(d)
    if np.float64(f) < d:
        f = np.nextafter(f, np.float32(np.inf))
    return f


#: Entries of a :func:`count_search` pool at the start (doubled when a search runs out).
POOL_START = 1 << 16


@njit(cache=True)
def _abandon(touched, n_t, dist, head):  # pragma: no cover - compiled
    """Undo a search whose entry pool ran out: distances back to +inf, buckets emptied."""
    for k in range(n_t):
        dist[touched[k]] = INF
    head[:] = -1
    return False


@njit(cache=True)
def count_search(
    indptr,
    indices,
    weights,
    transit,
    src_nodes,
    radii,
    inv_width,
    qrow,
    counts_c,
    near_c,
    f32,
    dist,
    touched,
    head,
    enode,
    edist,
    enext,
):  # pragma: no cover - compiled
    """One facility's shortest distances (sources at 0) up to the largest radius, by a bucket
    queue; then every reached query node is counted in its radius bin.

    Bucket ``b`` holds the improvements with distance in ``[b w, (b+1) w)`` as a stack of
    entries (node, distance) threaded through one pool; buckets are emptied in order. An
    entry whose distance is no longer its node's is stale and skipped (lazy deletion, no
    list moves). An edge shorter than ``w`` may improve a node of the bucket being emptied:
    it goes on the same stack and is relaxed again (label-correcting), so every distance is
    the exact float64 fixpoint whatever ``w``. Push and pop are O(1) (a binary heap pays
    ``log`` sift steps with unpredictable branches); the pool is written in sequence.

    After the search every touched node is visited once: a query node ``q`` adds one to
    ``counts_c[q, r]`` (its radius bin; the caller makes the bins cumulative) and lowers
    ``near_c[q]`` (float32 rounded up when ``f32``); its distance is reset to +inf.

    Parameters
    ----------
    indptr, indices, weights, transit : ndarray
        The graph (CSR) and its transit flags.
    src_nodes : ndarray
        The facility's node(s).
    radii : ndarray of float64
        Sorted radii; the last bounds the search.
    inv_width : float
        ``1 / w``; ``head`` has ``int(radii[-1] * inv_width) + 1`` buckets.
    qrow : ndarray of int32
        Output row of every node (-1: not reported).
    counts_c, near_c : ndarray
        The category's (n_query, n_radii) bins and (n_query,) nearest distances.
    f32 : bool
        ``near_c`` is float32: store distances rounded up (:func:`round_up_f32`).
    dist : ndarray of float64
        +inf everywhere, on entry and on return.
    touched : ndarray of int32
        Room for every node.
    head : ndarray of int32
        -1 everywhere, on entry and on return.
    enode, edist, enext : ndarray
        The entry pool (node, distance, next entry of its bucket); any size.

    Returns
    -------
    bool
        False when the pool was too small: nothing was counted and ``dist`` and ``head`` are
        restored; run again with a larger pool. (Growing the pool inside the loop would make
        numba reference-count the pool arrays in the hot loop, 4x slower.)
    """
    cutoff = radii[radii.size - 1]
    cap = enode.size
    n_t = 0
    ne = 0
    for k in range(src_nodes.size):
        s = src_nodes[k]
        if dist[s] == INF:
            touched[n_t] = s
            n_t += 1
            dist[s] = 0.0
            if ne == cap:
                return _abandon(touched, n_t, dist, head)
            enode[ne] = s
            edist[ne] = 0.0
            enext[ne] = head[0]
            head[0] = ne
            ne += 1
    for b in range(head.size):
        while head[b] != -1:
            e = head[b]
            head[b] = enext[e]
            u = enode[e]
            du = edist[e]
            if du != dist[u]:
                continue  # stale: u improved since
            if not transit[u]:
                # only sources are queued among the hubs; another hub may also sit at 0
                is_src = False
                for k in range(src_nodes.size):
                    if src_nodes[k] == u:
                        is_src = True
                        break
                if not is_src:
                    continue
            p0 = indptr[u]
            p1 = indptr[u + 1]
            if ne + p1 - p0 > cap:
                return _abandon(touched, n_t, dist, head)
            for p in range(p0, p1):
                v = indices[p]
                nd = du + weights[p]
                if nd <= cutoff and nd < dist[v]:
                    if dist[v] == INF:
                        touched[n_t] = v
                        n_t += 1
                    dist[v] = nd
                    if transit[v]:  # a hub takes a distance but never relays
                        bv = int(nd * inv_width)
                        enode[ne] = v
                        edist[ne] = nd
                        enext[ne] = head[bv]
                        head[bv] = ne
                        ne += 1
    for k in range(n_t):
        u = touched[k]
        du = dist[u]
        dist[u] = INF
        q = qrow[u]
        if q >= 0:
            r = 0
            while radii[r] < du:
                r += 1
            counts_c[q, r] += 1
            if du < near_c[q]:  # round only on improvement
                if f32:
                    near_c[q] = round_up_f32(du)
                else:
                    near_c[q] = du
    return True


def _median_edge(weights: np.ndarray) -> float:
    """Median edge length from a sample of about 1024 edges."""
    sample = weights[:: max(1, weights.size // 1024)]
    return float(np.partition(sample, sample.size // 2)[sample.size // 2])


def count_width(weights: np.ndarray, cutoff_m: float) -> float:
    """Bucket width of :func:`count_search`: a quarter of the median edge length, kept within
    ``cutoff / 2048`` and ``cutoff / 8`` (1 m for a zero cutoff).

    An edge at least ``w`` long never lands in the bucket being emptied, so wider buckets only
    cost re-scans along short edges; narrower ones cost empty buckets. Every width gives the
    same distances.
    """
    if cutoff_m <= 0.0:
        return 1.0
    med = _median_edge(weights) if weights.size else cutoff_m
    return float(np.clip(0.25 * med, cutoff_m / 2048.0, cutoff_m / 8.0))


#: Bytes of a uint64 word: every byte 0x01, every byte 0x80 (SWAR zero-byte test).
_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)
#: Every byte 0x7f (exact zero-byte test of :func:`_match`).
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
#: At most this many buckets: :func:`sweep_search` tests tags byte by byte, not by mask.
BYTEWISE_BUCKETS = 8
#: Entries of the in-bucket stack of :func:`sweep_search`.
STACK_SIZE = 4096


@njit(cache=True, inline="always")
def _tag(b):  # pragma: no cover - compiled
    """Pending mark of bucket ``b`` (1..255; buckets 255 apart share one)."""
    return np.uint8(b % 255 + 1)


@njit(cache=True, inline="always")
def _match(word, pat):  # pragma: no cover - compiled
    """High bit of every byte of ``word`` equal to the byte of ``pat``, all other bits zero
    (exact: no borrow runs into the next byte)."""
    x = word ^ pat
    y = (x & _LOW7) + _LOW7
    return ~(y | x | _LOW7)


@njit(cache=True, inline="always")
def _sweep_scan(
    u,
    du,
    b,
    cur,
    cutoff,
    inv_width,
    indptr,
    edges,
    eweights,
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
        v = edges[2 * p]
        nd = du + eweights[2 * p + 1]
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
    indptr, edges, eweights, transit, src_nodes, src_dist, cutoff, inv_width, dist, pend, stack
):  # pragma: no cover - compiled
    """Multi-source shortest distances up to ``cutoff`` by bucket sweeps in node order.

    The nearest-distance search. A multi-source wavefront is everywhere at once, so popping
    nodes in distance order jumps across the whole graph (a cache miss per array per node).
    Here each bucket ``b`` (distances in ``[b w, (b+1) w)``) is a range of node ids plus a
    pending mark per node (its bucket's tag); the bucket is settled by sweeping that range in
    node order (nodes are in Morton order, so neighbours are near in memory; eight marks are
    found at once) and relaxing every node marked for ``b``. A node behind the sweep that
    drops into ``b`` (over an edge shorter than ``w``) is relaxed at once from a small stack
    (label-correcting inside the bucket). When bucket ``b`` has nothing pending, all distances
    below ``(b+1) w`` are final (every improvement comes from a lower bucket), so the result
    is exact; ``w`` only trades sweeps against re-scans. Non-transit nodes take a distance but
    are never pending (sources relax their edges at the start).

    Parameters
    ----------
    indptr, transit : ndarray
        CSR row pointers and transit flags.
    edges, eweights : ndarray
        The edges as :func:`search_edges` lays them out: edge ``p`` leads to ``edges[2 p]``
        and is ``eweights[2 p + 1]`` long (one cache line holds eight edges when the weights
        are float32).
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
            v = edges[2 * p]
            nd = d0 + eweights[2 * p + 1]
            if nd <= cutoff and nd < dist[v]:
                dist[v] = nd
                if transit[v]:
                    bv = int(nd * inv_width)
                    pend[v] = _tag(bv)
                    blo[bv] = min(blo[bv], v >> 3)
                    bhi[bv] = max(bhi[bv], v >> 3)
    # few wide buckets: most tags of a word match, and a plain byte loop is cheaper than
    # walking the match mask (on the 1 M lattice, 375 m buckets: ~5 %; at 100 m the mask wins)
    bytewise = nb <= BYTEWISE_BUCKETS
    for b in range(nb):
        t = _tag(b)
        pat = _ONES * np.uint64(t)
        start = blo[b]
        while start <= bhi[b]:
            redo = np.iinfo(np.int64).max
            wi = start
            if bytewise:
                while wi <= bhi[b]:  # grows while the sweep marks nodes ahead
                    if _match(pw[wi], pat) == 0:
                        wi += 1
                        continue
                    for j in range(8):  # tags re-read: scanning may mark later nodes of the word
                        u = wi * 8 + j
                        if pend[u] != t:
                            continue
                        du = dist[u]
                        if int(du * inv_width) == b:  # else a bucket 255 later: swept there
                            pend[u] = 0
                            sp, r = _sweep_scan(
                                u,
                                du,
                                b,
                                u,
                                cutoff,
                                inv_width,
                                indptr,
                                edges,
                                eweights,
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
                                    edges,
                                    eweights,
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
            else:
                while wi <= bhi[b]:  # grows while the sweep marks nodes ahead
                    m = _match(pw[wi], pat)
                    while m != 0:  # the nodes of word wi pending for b, lowest first
                        j = trailing_zeros(m) >> 3
                        u = wi * 8 + j
                        du = dist[u]
                        if int(du * inv_width) == b:  # else a bucket 255 later: swept there
                            pend[u] = 0
                            sp, r = _sweep_scan(
                                u,
                                du,
                                b,
                                u,
                                cutoff,
                                inv_width,
                                indptr,
                                edges,
                                eweights,
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
                                    edges,
                                    eweights,
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
                        if j == 7:
                            break
                        # re-read: scanning u may have marked later nodes of this word
                        m = _match(pw[wi], pat) & (_HIGHS << np.uint64(8 * j + 8))
                    wi += 1
            start = redo


def sweep_width(weights: np.ndarray, cutoff_m: float) -> float:
    """Bucket width of :func:`sweep_search`: ``(2 + 6 t)`` median edge lengths, where ``t`` is
    the share of edges exactly as long as the median (both from a sample of about 1024 edges),
    kept within ``cutoff / 256`` and ``cutoff / 4``.

    Each bucket costs one sweep of its node range, so few wide buckets are cheap; a node is
    relaxed again when its distance drops inside its bucket, which wide buckets make likelier
    unless routes tie. On the 1 M-node benchmark grid with junctions moved up to 10 m (``t``
    near 0) about two median edges (100 m) were fastest (375 m took 1.3x as long, with 2.1
    scans per node against 1.1); on the perfect 50 m lattice (``t`` near 1, every route ties)
    375 m was fastest (150 m took 1.1x). Every width gives the same distances.
    """
    if weights.size == 0:
        return max(float(cutoff_m), 1.0)
    sample = weights[:: max(1, weights.size // 1024)]
    med = float(np.partition(sample, sample.size // 2)[sample.size // 2])
    ties = float(np.mean(sample == med))
    return float(np.clip((2.0 + 6.0 * ties) * med, cutoff_m / 256.0, cutoff_m / 4.0)) or 1.0


def search_edges(indices: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edges laid out for :func:`sweep_search`: each edge's head and length side by side.

    Edge ``p`` leads to ``edges[2 p]`` (int32) and is ``eweights[2 p + 1]`` long. When every
    weight is a float32 value (:func:`citycheck.access.graph.attach` stores lengths so), both
    views share one int32 array: 8 bytes per edge, so a node's edges usually sit in one cache
    line (about 10 % faster than two arrays on the 1 M-node grid); the sums stay float64, so
    the distances are the same bits. Otherwise the lengths stay float64 (24 bytes per edge).

    Parameters
    ----------
    indices, weights : ndarray
        CSR column indices and edge lengths.

    Returns
    -------
    edges : ndarray of int32, shape (2 E,)
    eweights : ndarray of float32 or float64, shape (2 E,)
    """
    m = indices.size
    edges = np.zeros(2 * m, dtype=np.int32)
    edges[0::2] = indices
    w32 = weights.astype(np.float32)
    if np.array_equal(w32, weights):
        ew = edges.view(np.float32)
        ew[1::2] = w32
        return edges, ew
    ew64 = np.zeros(2 * m, dtype=np.float64)
    ew64[1::2] = weights
    return edges, ew64


@njit(cache=True)
def _nearest_chunk(
    indptr,
    edges,
    eweights,
    transit,
    cats,
    cat_ptr,
    src_nodes,
    cutoff,
    inv_width,
    qrow,
    qn,
    out,
    dist,
    pend,
):  # pragma: no cover - compiled
    """Run the categories ``cats`` one after another with one set of scratch arrays.

    ``dist`` (+inf) and ``pend`` (zero) are this thread's scratch, restored on return. With
    ``qn`` (query nodes in increasing order, one per output row) rows are gathered from it;
    otherwise every reached node finds its row in ``qrow``.
    """
    n = indptr.size - 1
    f32 = out.itemsize == 4  # float32 results are rounded up
    gather = qn.size == out.shape[1] and qn.size > 0
    stack = np.empty(STACK_SIZE, dtype=np.int32)
    for c in cats:
        a = cat_ptr[c]
        b = cat_ptr[c + 1]
        src = src_nodes[a:b]
        sweep_search(
            indptr,
            edges,
            eweights,
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
        if gather:
            for k in range(qn.size):
                d = dist[qn[k]]
                if d != INF:
                    if f32:
                        out_c[k] = round_up_f32(d)
                    else:
                        out_c[k] = d
            dist[:] = INF
            continue
        for i in range(n):
            d = dist[i]
            if d != INF:
                q = qrow[i]
                if q >= 0:
                    if f32:
                        out_c[q] = round_up_f32(d)
                    else:
                        out_c[q] = d
                dist[i] = INF


@njit(cache=True, parallel=True)
def _nearest_parallel(
    indptr,
    edges,
    eweights,
    transit,
    plan_ptr,
    plan_cat,
    cat_ptr,
    src_nodes,
    cutoff,
    inv_width,
    qrow,
    qn,
    out,
    dist,
    pend,
):  # pragma: no cover - compiled
    for t in prange(plan_ptr.size - 1):
        _nearest_chunk(
            indptr,
            edges,
            eweights,
            transit,
            plan_cat[plan_ptr[t] : plan_ptr[t + 1]],
            cat_ptr,
            src_nodes,
            cutoff,
            inv_width,
            qrow,
            qn,
            out,
            dist[t],
            pend[t],
        )


@njit(cache=True, parallel=True)
def _nearest_split(
    indptr,
    edges,
    eweights,
    transit,
    cats,
    cat_ptr,
    src_nodes,
    cutoff,
    inv_width,
    qrow,
    qn,
    out,
    dist,
    pend,
):  # pragma: no cover - compiled
    """Each category of ``cats`` in turn, its sources split over the threads.

    Part ``p`` of a category's sources (its sources sorted by node id, cut into
    ``dist.shape[0]`` runs of equal count: nodes are in Morton order, so each run is a compact
    patch of the map) is searched by thread ``p`` into ``dist[p]``; the category's distance is
    the least over the parts (exact: the nearest source lies in some part, whose search finds
    that very route). Parts overlap only where their searches cross a patch border, a band of
    the cutoff's width. Then, node ranges split over the threads, one pass takes the least,
    writes the rows and resets the scratch.
    """
    n = indptr.size - 1
    n_part = dist.shape[0]
    f32 = out.itemsize == 4
    gather = qn.size == out.shape[1] and qn.size > 0
    for c in cats:
        src = np.sort(src_nodes[cat_ptr[c] : cat_ptr[c + 1]])
        zero = np.zeros(src.size)
        for p in prange(n_part):
            a = src.size * p // n_part
            b = src.size * (p + 1) // n_part
            stack = np.empty(STACK_SIZE, dtype=np.int32)
            sweep_search(
                indptr,
                edges,
                eweights,
                transit,
                src[a:b],
                zero[a:b],
                cutoff,
                inv_width,
                dist[p],
                pend[p],
                stack,
            )
        out_c = out[c]
        for p in prange(n_part):  # one pass per node range: least over the parts, row, reset
            i0 = n * p // n_part
            i1 = n * (p + 1) // n_part
            k = np.searchsorted(qn, i0) if gather else 0  # first query row in the range
            for i in range(i0, i1):
                d = dist[0, i]
                for r in range(1, n_part):
                    d = min(d, dist[r, i])
                row = -1
                if gather:
                    if k < qn.size and qn[k] == i:  # qn increases strictly: rows in node order
                        row = k
                        k += 1
                elif d != INF:
                    row = qrow[i]
                if d == INF:
                    continue
                if row >= 0:
                    if f32:
                        out_c[row] = round_up_f32(d)
                    else:
                        out_c[row] = d
                for r in range(n_part):
                    dist[r, i] = INF


class _Scratch(threading.local):
    """Search arrays kept between calls, one set per calling Python thread."""

    dist: np.ndarray | None = None
    pend: np.ndarray | None = None


_SCRATCH = _Scratch()


def _sweep_scratch(n: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances (+inf) and pending tags (zero) of :func:`sweep_search` for ``rows`` threads
    on an ``n``-node graph.

    Reused from this Python thread's previous call when the sizes fit (the searches leave
    them as they found them), so a query neither allocates nor faults in ~9 bytes per node
    each time; 9.4 MiB per search thread stay held at 1 M nodes.
    """
    d, p = _SCRATCH.dist, _SCRATCH.pend
    if d is None or p is None or d.shape[1] != n or d.shape[0] < rows:
        _SCRATCH.dist = _SCRATCH.pend = None
        d = np.full((rows, n), INF)
        p = np.zeros((rows, (n + 7) // 8 * 8), dtype=np.uint8)
        _SCRATCH.dist, _SCRATCH.pend = d, p
    return d, p


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
    width: float | None = None,
    dtype: type = np.float64,
    qn: np.ndarray | None = None,
    edges: tuple[np.ndarray, np.ndarray] | None = None,
    split: int = 1,
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
        Search bound (may be +inf).
    qrow : ndarray of int32
        Output row of every node (-1: not reported).
    n_query : int
        Number of output rows.
    width : float, optional
        Bucket width of :func:`sweep_search` (:func:`sweep_width` by default; any positive
        width gives the same distances).
    dtype : {numpy.float64, numpy.float32}
        Result type; float32 halves the memory and rounds each distance up.
    qn : ndarray of int64, optional
        The query nodes in strictly increasing order (``n_query`` of them): rows are read
        from them in one gather and ``qrow`` is not used.
    edges : (ndarray, ndarray), optional
        :func:`search_edges` of ``indices`` and ``weights`` when the caller keeps it (built
        here otherwise).
    split : int, default 1
        With ``split > 1`` the categories run one after another (``plan`` is not used), each
        with its sources cut into ``split`` patches searched by as many threads at once: for
        fewer categories than threads (one category on two threads took 0.55-0.6 of the time
        on the 1 M-node benchmark grid).

    Returns
    -------
    ndarray, shape (n_categories, n_query)
        Distances, +inf beyond ``cutoff``.
    """
    plan_ptr, plan_cat = plan
    if not np.isfinite(cutoff):  # unbounded: no shortest path is longer than all edges together
        cutoff = float(weights.sum()) + 1.0
    width = sweep_width(weights, cutoff) if width is None else float(width)
    out: np.ndarray = np.full((cat_ptr.size - 1, n_query), np.inf, dtype=_float_type(dtype))
    if qn is None or qn.size != n_query:
        qn = np.empty(0, dtype=np.int64)
    if edges is None:
        edges = search_edges(indices, weights)
    args = (indptr, *edges, transit)
    tail = (cat_ptr, src_nodes, float(cutoff), 1.0 / width, qrow, qn, out)
    if split > 1:
        dist, pend = _sweep_scratch(indptr.size - 1, split)
        cats = np.arange(cat_ptr.size - 1, dtype=np.int64)
        _nearest_split(*args, cats, *tail, dist[:split], pend[:split])
        return out
    n_run = plan_ptr.size - 1
    dist, pend = _sweep_scratch(indptr.size - 1, max(1, n_run))
    if n_run <= 1:
        _nearest_chunk(*args, plan_cat, *tail, dist[0], pend[0])
    else:
        _nearest_parallel(*args, plan_ptr, plan_cat, *tail, dist, pend)
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
    qrow,
    counts,
    near,
    pool,
):  # pragma: no cover - compiled
    """One bounded search per facility of the categories ``cats``; bin every reached query
    node by radius, then make the bins cumulative."""
    f32 = near.itemsize == 4  # float32 results are rounded up
    n = indptr.size - 1
    n_rad = radii.size
    dist = np.full(n, INF)
    touched = np.empty(n, dtype=np.int32)
    head = np.full(int(radii[n_rad - 1] * inv_width) + 1, -1, dtype=np.int32)
    enode = np.empty(pool, dtype=np.int32)
    edist = np.empty(pool, dtype=np.float64)
    enext = np.empty(pool, dtype=np.int32)
    n_query = counts.shape[1]
    for c in cats:
        counts_c = counts[c]
        near_c = near[c]
        for g in range(cat_gptr[c], cat_gptr[c + 1]):
            while not count_search(
                indptr,
                indices,
                weights,
                transit,
                src_nodes[grp_ptr[g] : grp_ptr[g + 1]],
                radii,
                inv_width,
                qrow,
                counts_c,
                near_c,
                f32,
                dist,
                touched,
                head,
                enode,
                edist,
                enext,
            ):  # the pool was too small: double it and search again
                cap = 2 * enode.size
                enode = np.empty(cap, dtype=np.int32)
                edist = np.empty(cap, dtype=np.float64)
                enext = np.empty(cap, dtype=np.int32)
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
    qrow,
    counts,
    near,
    pool,
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
            qrow,
            counts,
            near,
            pool,
        )


def _float_type(dtype: type) -> type:
    t = np.dtype(dtype).type
    if t not in (np.float64, np.float32):
        raise ValueError(f"dtype: float64 or float32, got {np.dtype(dtype).name}")
    return t


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
    dtype: type = np.float64,
    width: float | None = None,
    pool: int = POOL_START,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts of facilities within each radius, and nearest distance, per category and node.

    One bounded search per group (a facility: one or more source nodes at distance 0), bounded
    by the largest radius. Work is split by category (``plan`` as in
    :func:`nearest_by_category`), so no two threads write the same row. Groups of category ``c``
    are ``cat_gptr[c]..cat_gptr[c+1]``; group ``g``'s sources are
    ``src_nodes[grp_ptr[g]:grp_ptr[g+1]]``.

    Parameters
    ----------
    width : float, optional
        Bucket width of :func:`count_search` (:func:`count_width` by default; any positive
        width gives the same results).
    pool : int
        Entries of each thread's entry pool at the start (doubled whenever full).

    Returns
    -------
    counts : ndarray, shape (n_categories, n_query, n_radii)
        Cumulative over radii, in the smallest unsigned type that holds the largest category's
        number of facilities (:func:`count_dtype`).
    near : ndarray of ``dtype``, shape (n_categories, n_query)
        Nearest distance (+inf beyond the largest radius); float32 rounds up.
    """
    plan_ptr, plan_cat = plan
    n_cat = cat_gptr.size - 1
    most = int(np.diff(cat_gptr).max()) if n_cat else 0
    counts: np.ndarray = np.zeros((n_cat, n_query, radii.size), dtype=count_dtype(most))
    near: np.ndarray = np.full((n_cat, n_query), np.inf, dtype=_float_type(dtype))
    args = (indptr, indices, weights, transit)
    cutoff = float(radii[-1]) if radii.size else 0.0
    width = count_width(weights, cutoff) if width is None else float(width)
    if not width > 0:
        raise ValueError(f"width: need a positive bucket width, got {width}")
    tail = (cat_gptr, grp_ptr, src_nodes, radii, 1.0 / width, qrow, counts, near, max(1, pool))
    if plan_ptr.size - 1 <= 1:
        _counts_chunk(*args, plan_cat, *tail)
    else:
        _counts_parallel(*args, plan_ptr, plan_cat, *tail)
    return counts, near


@njit(cache=True)
def increasing_within(n_nodes, qn):  # pragma: no cover - compiled
    """Whether ``qn`` is strictly increasing with every id in ``0..n_nodes-1``."""
    for k in range(qn.size):
        v = qn[k]
        if v < 0 or v >= n_nodes or (k and v <= qn[k - 1]):
            return False
    return True


@njit(cache=True)
def query_rows(n_nodes, qn):  # pragma: no cover - compiled
    """Output rows for the query nodes ``qn``, in node order (memory locality).

    Returns (qrow, row_of, code): ``qrow[node]`` is a node's row (-1: not queried) and
    ``row_of[k]`` the row of ``qn[k]``. code 1: ``qn`` is strictly increasing, rows are
    ``0..`` in its order and ``row_of`` is empty; 2: rows were sorted by node; -1: an id is
    outside ``0..n_nodes-1``; -2: an id repeats.
    """
    none = np.empty(0, dtype=np.int64)
    qrow = np.full(n_nodes, -1, dtype=np.int32)
    in_order = True
    for k in range(qn.size):
        v = qn[k]
        if v < 0 or v >= n_nodes:
            return qrow, none, -1
        if k and v <= qn[k - 1]:
            in_order = False
    if in_order:
        for k in range(qn.size):
            qrow[qn[k]] = k
        return qrow, none, 1
    order = np.argsort(qn)
    row_of = np.empty(qn.size, dtype=np.int64)
    for i in range(order.size):
        v = qn[order[i]]
        if qrow[v] != -1:
            return qrow, none, -2
        qrow[v] = i
        row_of[order[i]] = i
    return qrow, row_of, 2


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
    if load.size <= 1 or n_threads == 1:  # one thread runs everything: no parallel region
        return np.array([0, load.size], dtype=np.int64), np.arange(load.size, dtype=np.int64)
    n_threads = max(1, min(n_threads or get_num_threads(), load.size))
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
