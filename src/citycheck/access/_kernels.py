"""Compiled (numba) kernels: CSR assembly, the bounded bucket search (behind
:func:`citycheck.access.distances_within` and :func:`citycheck.access.pairs_within`, which the
siting models and the what-if of ``plan`` use), the route search, point snapping. Nearest
distances and counts within radii have their own search in :mod:`citycheck.access._search`.

:func:`bounded_search` uses a bucket queue
(Dial's algorithm on float distances): a node sits in bucket ``floor(d / width)``; buckets are
emptied in order, and a node whose distance drops while it waits moves to its new bucket through
intrusive doubly-linked lists (no heap, no stale entries). When an edge is shorter than the
bucket width a node may be scanned again after its distance drops inside the current bucket
(label-correcting), so results are exact whatever the width; the width only trades bucket
sweeps against re-scans.

Nodes flagged non-transit (the hubs that stand for a building or a facility) are never passed
through: they take a distance but only relax their edges when they are a source.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

INF = np.inf


@njit(cache=True)
def csr_from_edges(n, eu, ev, el):  # pragma: no cover - compiled
    """Symmetric CSR (indptr int64, indices int32, weights float64) from undirected edges."""
    m = eu.size
    deg = np.zeros(n + 1, dtype=np.int64)
    for k in range(m):
        deg[eu[k] + 1] += 1
        deg[ev[k] + 1] += 1
    for i in range(n):
        deg[i + 1] += deg[i]
    indptr = deg.copy()
    fill = deg[:-1].copy()
    indices = np.empty(2 * m, dtype=np.int32)
    weights = np.empty(2 * m, dtype=np.float64)
    for k in range(m):
        a = eu[k]
        b = ev[k]
        w = el[k]
        p = fill[a]
        indices[p] = b
        weights[p] = w
        fill[a] = p + 1
        p = fill[b]
        indices[p] = a
        weights[p] = w
        fill[b] = p + 1
    return indptr, indices, weights


@njit(cache=True)
def lattice_keys(x0, y0, x1, y1, tol):  # pragma: no cover - compiled
    """One int64 key per segment end (starts, then ends) on a ``tol`` lattice.

    ``key = (rint(x / tol) - min) * span_y + (rint(y / tol) - min)``; returns (keys, True), or
    (empty, False) when the extent at this tolerance does not fit in 62 bits.
    """
    m = x0.size
    if m == 0:
        return np.empty(0, dtype=np.int64), True
    kx_lo = min(np.rint(x0 / tol).min(), np.rint(x1 / tol).min())
    kx_hi = max(np.rint(x0 / tol).max(), np.rint(x1 / tol).max())
    ky_lo = min(np.rint(y0 / tol).min(), np.rint(y1 / tol).min())
    ky_hi = max(np.rint(y0 / tol).max(), np.rint(y1 / tol).max())
    span_y = ky_hi - ky_lo + 1.0
    if (kx_hi - kx_lo + 1.0) * span_y >= 2.0**62:
        return np.empty(0, dtype=np.int64), False
    sy = np.int64(span_y)
    keys = np.empty(2 * m, dtype=np.int64)
    for i in range(m):
        kx = np.int64(np.rint(x0[i] / tol) - kx_lo)
        keys[i] = kx * sy + np.int64(np.rint(y0[i] / tol) - ky_lo)
        kx = np.int64(np.rint(x1[i] / tol) - kx_lo)
        keys[m + i] = kx * sy + np.int64(np.rint(y1[i] / tol) - ky_lo)
    return keys, True


@njit(cache=True)
def number_sorted_keys(keys, order):  # pragma: no cover - compiled
    """Node id of every key (ids in key order) and the position of each id's first key.

    ``order`` is a stable argsort of ``keys``. Returns (node_of int32, first int64), as
    ``np.unique(keys, return_index=True, return_inverse=True)`` would.
    """
    n = keys.size
    n_unique = 0
    for i in range(n):
        if i == 0 or keys[order[i]] != keys[order[i - 1]]:
            n_unique += 1
    node_of = np.empty(n, dtype=np.int32)
    first = np.empty(n_unique, dtype=np.int64)
    c = -1
    for i in range(n):
        j = order[i]
        if i == 0 or keys[j] != keys[order[i - 1]]:
            c += 1
            first[c] = j
        node_of[j] = c
    return node_of, first


@njit(cache=True)
def shortest_per_key(keys, length, order):  # pragma: no cover - compiled
    """For each run of equal ``keys`` (``order`` a stable argsort), the position of its shortest
    member (the earliest on ties), in key order."""
    n = keys.size
    out = np.empty(n, dtype=np.int64)
    c = -1
    for i in range(n):
        j = order[i]
        if i == 0 or keys[j] != keys[order[i - 1]]:
            c += 1
            out[c] = j
        elif length[j] < length[out[c]]:
            out[c] = j
    return out[: c + 1].copy()


@njit(cache=True, inline="always")
def _bucket_insert(v, b, heads, bnext, bprev, inb):  # pragma: no cover - compiled
    h = heads[b]
    bprev[v] = -1
    bnext[v] = h
    if h != -1:
        bprev[h] = v
    heads[b] = v
    inb[v] = b


@njit(cache=True, inline="always")
def _bucket_remove(v, heads, bnext, bprev, inb):  # pragma: no cover - compiled
    b = inb[v]
    p = bprev[v]
    nx = bnext[v]
    if p != -1:
        bnext[p] = nx
    else:
        heads[b] = nx
    if nx != -1:
        bprev[nx] = p
    inb[v] = -1


@njit(cache=True)
def bounded_search(
    indptr,
    indices,
    weights,
    transit,
    src_nodes,
    src_dist,
    cutoff,
    width,
    dist,
    touched,
    heads,
    bnext,
    bprev,
    inb,
):  # pragma: no cover - compiled
    """Multi-source shortest distances up to ``cutoff``; returns the number of touched nodes.

    ``dist`` must be +inf and ``inb`` -1 everywhere on entry; afterwards ``dist`` holds the
    distances of ``touched[:n]`` (the caller resets them to inf).
    """
    nb = heads.size
    inv = 1.0 / width
    for b in range(nb):
        heads[b] = -1
    n_t = 0
    # sources: set, and relax the edges of non-transit sources here (they are skipped later)
    for k in range(src_nodes.size):
        s = src_nodes[k]
        d = src_dist[k]
        if d <= cutoff and d < dist[s]:
            if dist[s] == INF:
                touched[n_t] = s
                n_t += 1
            else:
                if inb[s] != -1:
                    _bucket_remove(s, heads, bnext, bprev, inb)
            dist[s] = d
            _bucket_insert(s, int(d * inv), heads, bnext, bprev, inb)
    for k in range(src_nodes.size):
        s = src_nodes[k]
        if transit[s] or dist[s] != src_dist[k]:
            continue
        ds = dist[s]
        for p in range(indptr[s], indptr[s + 1]):
            v = indices[p]
            nd = ds + weights[p]
            if nd < dist[v] and nd <= cutoff:
                if dist[v] == INF:
                    touched[n_t] = v
                    n_t += 1
                elif inb[v] != -1:
                    _bucket_remove(v, heads, bnext, bprev, inb)
                dist[v] = nd
                _bucket_insert(v, int(nd * inv), heads, bnext, bprev, inb)
    for b in range(nb):
        while heads[b] != -1:
            u = heads[b]
            _bucket_remove(u, heads, bnext, bprev, inb)
            if not transit[u]:
                continue
            du = dist[u]
            for p in range(indptr[u], indptr[u + 1]):
                v = indices[p]
                nd = du + weights[p]
                if nd < dist[v] and nd <= cutoff:
                    if dist[v] == INF:
                        touched[n_t] = v
                        n_t += 1
                    elif inb[v] != -1:
                        _bucket_remove(v, heads, bnext, bprev, inb)
                    dist[v] = nd
                    _bucket_insert(v, int(nd * inv), heads, bnext, bprev, inb)
    return n_t


def bucket_count(cutoff: float, width: float) -> int:
    """Number of buckets a search bounded by ``cutoff`` needs."""
    return int(cutoff / width) + 2


@njit(cache=True)
def _search_block(
    indptr,
    indices,
    weights,
    transit,
    src,
    lo,
    hi,
    cutoff,
    width,
    nb,
    qrow,
    counts,
    ptr,
    out_q,
    out_d,
    fill,
):  # pragma: no cover - compiled
    """One :func:`bounded_search` per source ``src[lo:hi]`` (-1: none): the number of query
    nodes (``qrow >= 0``) each reaches in ``counts``, and with ``fill`` their rows and distances
    written from ``ptr[k]`` on, in the order the search reached them."""
    n = indptr.size - 1
    dist = np.full(n, INF)
    touched = np.empty(n, dtype=np.int32)
    heads = np.empty(nb, dtype=np.int32)
    bnext = np.empty(n, dtype=np.int32)
    bprev = np.empty(n, dtype=np.int32)
    inb = np.full(n, -1, dtype=np.int32)
    one = np.zeros(1)
    for k in range(lo, hi):
        if src[k] < 0:
            continue
        n_t = bounded_search(
            indptr,
            indices,
            weights,
            transit,
            src[k : k + 1],
            one,
            cutoff,
            width,
            dist,
            touched,
            heads,
            bnext,
            bprev,
            inb,
        )
        m = 0
        p = ptr[k]
        for t in range(n_t):
            v = touched[t]
            r = qrow[v]
            if r >= 0:
                if fill:
                    out_q[p + m] = r
                    out_d[p + m] = dist[v]
                m += 1
            dist[v] = INF
        counts[k] = m


@njit(cache=True, parallel=True)
def pairs_csr(indptr, indices, weights, transit, src, cutoff, width, nb, qrow, n_blocks):
    """(source-major CSR) query rows and distances within ``cutoff`` of each source node.

    Each source is searched on its own with :func:`bounded_search`; two parallel passes over
    ``n_blocks`` blocks of sources (count, then fill) give a deterministic table without growing
    buffers. Returns ``ptr`` (n_src + 1), ``rows`` and ``dist``: the query rows reached from
    source ``k`` are ``rows[ptr[k]:ptr[k+1]]``; sources of -1 reach nothing.
    """  # pragma: no cover - compiled
    n_src = src.size
    counts = np.zeros(n_src, dtype=np.int64)
    ptr = np.zeros(n_src + 1, dtype=np.int64)
    dummy_q = np.empty(0, dtype=np.int64)
    dummy_d = np.empty(0)
    step = (n_src + n_blocks - 1) // n_blocks
    for b in prange(n_blocks):
        lo = min(b * step, n_src)
        hi = min(lo + step, n_src)
        _search_block(
            indptr,
            indices,
            weights,
            transit,
            src,
            lo,
            hi,
            cutoff,
            width,
            nb,
            qrow,
            counts,
            ptr,
            dummy_q,
            dummy_d,
            False,
        )
    for k in range(n_src):
        ptr[k + 1] = ptr[k] + counts[k]
    rows = np.empty(ptr[n_src], dtype=np.int64)
    dist = np.empty(ptr[n_src])
    for b in prange(n_blocks):
        lo = min(b * step, n_src)
        hi = min(lo + step, n_src)
        _search_block(
            indptr,
            indices,
            weights,
            transit,
            src,
            lo,
            hi,
            cutoff,
            width,
            nb,
            qrow,
            counts,
            ptr,
            rows,
            dist,
            True,
        )
    return ptr, rows, dist


def default_blocks() -> int:
    """Blocks of :func:`pairs_csr`'s parallel passes: a few per thread, for balance."""
    return 4 * get_num_threads()


@njit(cache=True, inline="always")
def _hpush(hk, hv, size, key, val):  # pragma: no cover - compiled
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = val
    return size + 1


@njit(cache=True, inline="always")
def _hpop(hk, hv, size):  # pragma: no cover - compiled
    """Remove the root; the caller reads ``hk[0], hv[0]`` before calling."""
    size -= 1
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if key <= hk[c]:
            break
        hk[i] = hk[c]
        hv[i] = hv[c]
        i = c
    hk[i] = key
    hv[i] = val
    return size


@njit(cache=True)
def dijkstra_pred(
    indptr, indices, weights, transit, src_nodes, src_dist, cutoff, target_nodes
):  # pragma: no cover - compiled
    """Heap Dijkstra with predecessors; stops when all targets are settled or beyond cutoff.

    Returns (dist, pred); ``pred`` is -1 at sources and unreached nodes.
    """
    n = indptr.size - 1
    dist = np.full(n, INF)
    pred = np.full(n, -1, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    is_target = np.zeros(n, dtype=np.bool_)
    for t in target_nodes:
        is_target[t] = True
    left = target_nodes.size
    cap = indices.size + src_nodes.size + 1
    hk = np.empty(cap, dtype=np.float64)
    hv = np.empty(cap, dtype=np.int64)
    size = 0
    is_src = np.zeros(n, dtype=np.bool_)
    for k in range(src_nodes.size):
        s = src_nodes[k]
        if src_dist[k] < dist[s]:
            dist[s] = src_dist[k]
            is_src[s] = True
            size = _hpush(hk, hv, size, src_dist[k], s)
    while size > 0:
        du = hk[0]
        u = hv[0]
        size = _hpop(hk, hv, size)
        if done[u] or du > dist[u]:
            continue
        if du > cutoff:
            break
        done[u] = True
        if is_target[u]:
            left -= 1
            if left == 0:
                break
        if not transit[u] and not is_src[u]:
            continue
        for p in range(indptr[u], indptr[u + 1]):
            v = indices[p]
            nd = du + weights[p]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                size = _hpush(hk, hv, size, nd, v)
    for i in range(n):
        if dist[i] > cutoff:
            dist[i] = INF
            pred[i] = -1
    return dist, pred


@njit(cache=True)
def register_cells(x, y, eu, ev, cell, kx0, ky0, span_y):  # pragma: no cover - compiled
    """Grid-cell key of every (cell, segment) pair whose cell the segment's bounding box
    overlaps; two passes, so nothing but the result is allocated. Returns (keys int64,
    segment int32), in segment order."""
    m = eu.size
    total = 0
    for s in range(m):
        a = eu[s]
        b = ev[s]
        nx = int(np.floor(max(x[a], x[b]) / cell)) - int(np.floor(min(x[a], x[b]) / cell)) + 1
        ny = int(np.floor(max(y[a], y[b]) / cell)) - int(np.floor(min(y[a], y[b]) / cell)) + 1
        total += nx * ny
    keys = np.empty(total, dtype=np.int64)
    seg = np.empty(total, dtype=np.int32)
    k = 0
    for s in range(m):
        a = eu[s]
        b = ev[s]
        cx0 = int(np.floor(min(x[a], x[b]) / cell))
        cx1 = int(np.floor(max(x[a], x[b]) / cell))
        cy0 = int(np.floor(min(y[a], y[b]) / cell))
        cy1 = int(np.floor(max(y[a], y[b]) / cell))
        for gx in range(cx0, cx1 + 1):
            for gy in range(cy0, cy1 + 1):
                keys[k] = (gx - kx0) * span_y + (gy - ky0)
                seg[k] = s
                k += 1
    return keys, seg


@njit(cache=True)
def snap_to_segments(
    px, py, x, y, eu, ev, cell_keys, cell_seg, cell, kx0, ky0, span_y, max_dist
):  # pragma: no cover - compiled
    """Nearest segment to each point within ``max_dist`` using a uniform grid of ``cell`` metres.

    Segment ``s`` runs from node ``eu[s]`` to node ``ev[s]`` (coordinates ``x``, ``y``).
    ``cell_keys`` (sorted) and ``cell_seg`` list the segments registered in each cell (a
    segment is registered in every cell its bounding box overlaps); ``cell >= max_dist`` so the
    3x3 block around a point holds every segment within reach. Returns (segment, t, distance)
    with segment -1 where none is within ``max_dist``; ties go to the lowest segment index.
    """
    n = px.size
    seg = np.full(n, -1, dtype=np.int64)
    tt = np.zeros(n)
    dd = np.full(n, INF)
    for i in range(n):
        xp = px[i]
        yp = py[i]
        if not (np.isfinite(xp) and np.isfinite(yp)):
            continue
        cx = int(np.floor(xp / cell)) - kx0
        cy = int(np.floor(yp / cell)) - ky0
        best = INF
        best_s = -1
        best_t = 0.0
        for ax in range(cx - 1, cx + 2):
            if ax < 0:
                continue
            for ay in range(cy - 1, cy + 2):
                if ay < 0 or ay >= span_y:
                    continue
                key = ax * span_y + ay
                lo = np.searchsorted(cell_keys, key)
                hi = lo
                while hi < cell_keys.size and cell_keys[hi] == key:
                    hi += 1
                for k in range(lo, hi):
                    s = cell_seg[k]
                    x0 = x[eu[s]]
                    y0 = y[eu[s]]
                    dx = x[ev[s]] - x0
                    dy = y[ev[s]] - y0
                    l2 = dx * dx + dy * dy
                    t = 0.0
                    if l2 > 0.0:
                        t = ((xp - x0) * dx + (yp - y0) * dy) / l2
                        if t < 0.0:
                            t = 0.0
                        elif t > 1.0:
                            t = 1.0
                    qx = x0 + t * dx - xp
                    qy = y0 + t * dy - yp
                    d = np.sqrt(qx * qx + qy * qy)
                    if d < best or (d == best and s < best_s):
                        best = d
                        best_s = s
                        best_t = t
        if best_s >= 0 and best <= max_dist:
            seg[i] = best_s
            tt[i] = best_t
            dd[i] = best
    return seg, tt, dd
