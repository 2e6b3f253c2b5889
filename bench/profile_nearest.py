"""Profiling aid: citycheck's single nearest-distance queries against scipy on one grid.

Builds the benchmark's grid once (``bench_access.build``, same seed, jitter and facilities) and
times, per category, ``nearest_distance`` (one category per call, one thread) and scipy's
``dijkstra(min_only=True, limit=1500)`` on the same arrays, checking that they agree bit for
bit; optionally again at fixed bucket widths. Lighter than bench_access.py (one process, no
counts, no peak memory), for iterating on the search; report numbers from bench_access.py.

Run:  PYTHONPATH=src python3 bench/profile_nearest.py [--n 1000000] [--jitter 10]
      [--widths 50,100,200] [--reps 3] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np


def _median_time(fn: Callable[[], object], reps: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--jitter", type=float, default=10.0)
    ap.add_argument("--widths", default="", help="also time these bucket widths (m)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", default="1", help="comma list of thread counts to time")
    args = ap.parse_args()
    os.environ["CITYCHECK_BENCH_JITTER_M"] = str(args.jitter)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    import bench_access
    from citycheck.access import _search
    from citycheck.access.queries import nearest_distance

    bench_access.JITTER_M = args.jitter
    g, sources, query, names, _, _ = bench_access.build(args.n)
    cutoff = bench_access.RADII[-1]
    print(f"load average {os.getloadavg()}; {g.n_nodes} nodes, jitter {args.jitter:g} m")
    A = sp.csr_matrix((g.weights, g.indices, g.indptr), shape=(g.n_nodes,) * 2)
    ref, t_scipy = {}, {}
    for c in names:
        t_scipy[c], d = _median_time(
            lambda c=c: dijkstra(A, indices=sources[c], min_only=True, limit=cutoff), args.reps
        )
        ref[c] = d[query]
    med_scipy = statistics.median(t_scipy.values())

    def ours(c: str, threads: int) -> np.ndarray:
        return nearest_distance(g, {c: sources[c]}, query, cutoff_m=cutoff, n_threads=threads)[c]

    thread_counts = [int(t) for t in args.threads.split(",")]
    for th in thread_counts:
        ours(names[0], th)  # compile or load from the cache, build the packed edges
    default_width = _search.sweep_width
    labels = [(f"{th} thr", None, th) for th in thread_counts] + [
        (f"w={w}", float(w), thread_counts[0]) for w in args.widths.split(",") if w
    ]
    for label, width, th in labels:
        if width is not None:
            _search.sweep_width = lambda weights, cutoff_m, w=width: w
        t_ours = {}
        for c in names:
            t_ours[c], d = _median_time(lambda c=c, th=th: ours(c, th), args.reps)
            if not np.array_equal(d, ref[c]):
                raise SystemExit(f"{label} {c}: distances differ from scipy's")
        _search.sweep_width = default_width
        ratios = [t_scipy[c] / t_ours[c] for c in names]
        med = statistics.median(t_ours.values())
        print(
            f"{label:>8}: citycheck {med * 1e3:.1f} ms, scipy {med_scipy * 1e3:.0f} ms per query "
            f"= {med_scipy / med:.2f}x (per category min {min(ratios):.2f}x, "
            f"median {statistics.median(ratios):.2f}x)"
        )
        print("          " + " ".join(f"{c}={t_ours[c] * 1e3:.0f}" for c in names))
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
