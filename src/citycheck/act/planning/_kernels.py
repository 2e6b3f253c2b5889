"""Compiled kernels of the siting models: every (site, demand) pair within a walking limit.

Each candidate site is searched on its own with the accessibility engine's bounded bucket search
(:func:`citycheck.access._kernels.bounded_search`), so a site's distances are exactly those the
engine would measure if a facility stood there. Two parallel passes (count, then fill) give a
deterministic CSR table without growing buffers.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from citycheck.access._kernels import bounded_search

INF = np.inf


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
def pairs_within(indptr, indices, weights, transit, src, cutoff, width, nb, qrow, n_blocks):
    """(site-major CSR) demand rows and distances within ``cutoff`` of each source node.

    Returns ``ptr`` (n_src + 1), ``rows`` and ``dist``: the demand rows reached from source
    ``k`` are ``rows[ptr[k]:ptr[k+1]]``; sources of -1 reach nothing.
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
    """Blocks of the parallel passes: a few per thread, for balance."""
    return 4 * get_num_threads()
