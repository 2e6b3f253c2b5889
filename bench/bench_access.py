"""Benchmark: citycheck's accessibility engine against its peers on the same arrays.

Workload (issue 3): nearest network distance to 12 facility categories and counts within
300/500/800/1000/1500 m, for every street node, on synthetic street grids of 50 k, 250 k and 1 M
nodes (50 m spacing: the shared OSM extracts have 177-759 nodes per km², median ~370) with
facilities placed uniformly at the per-category densities measured in the shared OSM extracts
(see ``DENSITY_PER_KM2``), plus the real OSM networks.

Every (engine, size) runs in its own subprocess (so peak RSS is that run's own); each rebuilds
the same grid and facilities from the same seed with citycheck's builder, so every engine sees
identical CSR arrays and snapped hubs (edge lengths at float32 precision, as citycheck's graph
stores them; every engine sums them in float64). Agreement is checked against citycheck's results.

Nearest distance per query: the 12 categories run one at a time (one call each, 1500 m bound)
by citycheck's ``nearest_distance`` and by scipy's ``dijkstra(min_only=True, limit=1500)``;
citycheck runs each call twice, on all threads (numba's default: one category's sources are
split into as many map patches, searched side by side) and on one thread. The ratios printed
are scipy's median over categories over citycheck's median over those 12 calls (both
settings), with the per-category min and median ratios beside them, and CPU seconds per query.
The grid's junctions are moved up to ``--jitter`` metres (default 10 of 50 m); ``--jitter 0``
is the perfect lattice.

Run:  PYTHONPATH=src python3 bench/bench_access.py [--sizes 50000,250000,1000000]
      [--pandana-max 250000] [--networkx-max 50000]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RADII = (300.0, 500.0, 800.0, 1000.0, 1500.0)
SPACING_M = 50.0
# junctions moved up to this many metres (default a fifth of the spacing; --jitter 0: a lattice)
JITTER_M = float(os.environ.get("CITYCHECK_BENCH_JITTER_M", "10"))
SEED = 20251128
#: Facilities per km² by category: medians over the four shared extracts
#: (beijing-haidian-bupt/-cau/-wudaokou, hsinchu-nctu; facilities of City.facilities over the
#: convex hull of the walking network), 12 most common categories.
DENSITY_PER_KM2 = {
    "bus_stop": 4.75,
    "sports": 4.75,
    "open_space": 3.25,
    "convenience": 1.85,
    "park": 1.4,
    "food_market": 0.9,
    "culture": 0.6,
    "rail_station": 0.55,
    "hospital": 0.25,
    "kindergarten": 0.2,
    "pharmacy": 0.2,
    "middle_school": 0.1,
}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def grid_segments(n_nodes: int) -> tuple[np.ndarray, ...]:
    """Segments of a square street grid with about ``n_nodes`` nodes.

    Each junction is moved by up to ``JITTER_M`` in x and y, as streets are never a perfect
    lattice: with every edge exactly ``SPACING_M`` long, all routes tie, which real networks
    never do and which makes contraction hierarchies (pandana) degenerate.
    """
    side = round(np.sqrt(n_nodes))
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    rng = np.random.default_rng(SEED + 1)
    x = i * SPACING_M + rng.uniform(-JITTER_M, JITTER_M, i.shape)
    y = j * SPACING_M + rng.uniform(-JITTER_M, JITTER_M, j.shape)
    x0 = np.concatenate([x[:-1, :].ravel(), x[:, :-1].ravel()])
    y0 = np.concatenate([y[:-1, :].ravel(), y[:, :-1].ravel()])
    x1 = np.concatenate([x[1:, :].ravel(), x[:, 1:].ravel()])
    y1 = np.concatenate([y[1:, :].ravel(), y[:, 1:].ravel()])
    return x0, y0, x1, y1, side


def facility_points(side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(SEED)
    extent = (side - 1) * SPACING_M
    area_km2 = (extent / 1000.0) ** 2
    cats, xs, ys = [], [], []
    names = list(DENSITY_PER_KM2)
    for k, c in enumerate(names):
        m = max(1, round(DENSITY_PER_KM2[c] * area_km2))
        cats.append(np.full(m, k))
        xs.append(rng.uniform(0, extent, m))
        ys.append(rng.uniform(0, extent, m))
    return np.concatenate(cats), np.concatenate(xs), np.concatenate(ys), names


def build(n_nodes: int):
    """citycheck's graph build and snapping, timed."""
    from citycheck.access.graph import attach
    from citycheck.access.network import network_from_segments
    from citycheck.access.snapping import AccessPoints, SegmentIndex, snap_points

    x0, y0, x1, y1, side = grid_segments(n_nodes)
    cat, px, py, names = facility_points(side)
    t0 = time.perf_counter()
    net = network_from_segments(x0, y0, x1, y1)
    t1 = time.perf_counter()
    index = SegmentIndex.build(net, 100.0)
    pts = AccessPoints(np.arange(cat.size, dtype=np.int64), px, py)
    snaps = snap_points(index, pts, 100.0)
    g = attach(net, {"facilities": (snaps, cat.size)})
    t2 = time.perf_counter()
    hub = g.hubs["facilities"]
    sources = {c: hub[(cat == k) & (hub >= 0)] for k, c in enumerate(names)}
    query = np.flatnonzero(g.transit)  # every node of the street network, in node order
    return g, sources, query, names, (px, py, hub), {"build_s": t1 - t0, "snap_s": t2 - t1}


def run_citycheck(n_nodes: int, out: Path, reps: int) -> dict:
    from numba import get_num_threads

    from citycheck.access.queries import counts_within, nearest_distance

    # compile outside the timings (numba caches to disk; the first call of a process loads it)
    g0, s0, q0, *_ = build(2500)
    nearest_distance(g0, s0, q0, cutoff_m=RADII[-1])
    nearest_distance(g0, {"a": next(iter(s0.values()))}, q0, cutoff_m=RADII[-1], n_threads=1)
    counts_within(g0, s0, q0, radii_m=RADII)
    # and with over 255 facilities in a category (uint16 counts, as at 250 k and 1 M nodes)
    many = np.resize(np.concatenate(list(s0.values())), 300)
    counts_within(g0, {"many": many, **s0}, q0, radii_m=RADII)
    base_rss = _rss_mib()
    ends, builds, snaps, nears, counts_t, single, single_t = [], [], [], [], [], [], []
    per_cat: dict[str, list[float]] = {}
    per_cat_t: dict[str, list[float]] = {}
    cpu_end, cpu_single, cpu_near, cpu_single_t = [], [], [], []
    same = True
    for rep in range(reps):
        if rep:  # free the previous repetition before building again
            g = sources = query = None
            gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        g, sources, query, names, _, tb = build(n_nodes)
        t1 = time.perf_counter()
        counts, near = counts_within(g, sources, query, radii_m=RADII)
        t2, c2 = time.perf_counter(), time.process_time()
        ends.append(t2 - t0)
        cpu_end.append(c2 - c0)
        builds.append(tb["build_s"])
        snaps.append(tb["snap_s"])
        counts_t.append(t2 - t1)
        digest = {c: hashlib.sha256(near[c].tobytes()).hexdigest() for c in names}
        if rep == reps - 1:
            np.savez_compressed(
                out,
                **{f"near_{c}": near[c] for c in names},
                **{f"count_{c}": counts[c] for c in names},
            )
        counts = near = None  # the workload ends here; the nearest timings below are extra
        gc.collect()
        c3, t3 = time.process_time(), time.perf_counter()
        near_only = nearest_distance(g, sources, query, cutoff_m=RADII[-1])
        nears.append(time.perf_counter() - t3)
        cpu_near.append(time.process_time() - c3)
        same &= all(hashlib.sha256(near_only[c].tobytes()).hexdigest() == digest[c] for c in names)
        near_only = None
        for c in names:  # the same 12 single queries scipy runs
            c4, t4 = time.process_time(), time.perf_counter()
            nearest_distance(g, {c: sources[c]}, query, cutoff_m=RADII[-1], n_threads=1)
            single.append(time.perf_counter() - t4)
            cpu_single.append(time.process_time() - c4)
            per_cat.setdefault(c, []).append(single[-1])
        for c in names:  # again, each on all threads (the category's sources split over them)
            c5, t5 = time.process_time(), time.perf_counter()
            one = nearest_distance(g, {c: sources[c]}, query, cutoff_m=RADII[-1])
            single_t.append(time.perf_counter() - t5)
            cpu_single_t.append(time.process_time() - c5)
            per_cat_t.setdefault(c, []).append(single_t[-1])
            same &= hashlib.sha256(one[c].tobytes()).hexdigest() == digest[c]
    cpu = time.process_time()
    assert same, "nearest_distance (12 at once, or one by one) and counts_within disagree"
    return {
        "engine": "citycheck",
        "n_nodes": int(g.n_street_nodes),
        "n_graph_nodes": int(g.n_nodes),
        "n_facilities": int(sum(s.size for s in sources.values())),
        "threads": get_num_threads(),
        "end_to_end_s": statistics.median(ends),
        "build_s": statistics.median(builds),
        "snap_s": statistics.median(snaps),
        "nearest_counts_s": statistics.median(counts_t),
        "nearest12_s": statistics.median(nears),
        "nearest_per_query_1thread_s": statistics.median(single),
        "nearest_1thread_by_category_s": {c: statistics.median(v) for c, v in per_cat.items()},
        "nearest_per_query_s": statistics.median(single_t),
        "nearest_by_category_s": {c: statistics.median(v) for c, v in per_cat_t.items()},
        "nearest_per_query_threads_cpu_s": statistics.median(cpu_single_t),
        "end_to_end_cpu_s": statistics.median(cpu_end),
        "nearest12_cpu_s": statistics.median(cpu_near),
        "nearest_per_query_cpu_s": statistics.median(cpu_single),
        "cpu_total_s": cpu,
        "peak_rss_mib": _rss_mib(),
        "base_rss_mib": base_rss,
    }


def run_scipy(n_nodes: int, out: Path, reps: int) -> dict:
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    g, sources, query, names, _, _ = build(n_nodes)
    A = sp.csr_matrix((g.weights, g.indices.astype(np.int32), g.indptr), shape=(g.n_nodes,) * 2)
    times, cpus, res = [], [], {}
    for c in names:
        ts, cs = [], []
        for _ in range(reps):
            c0, t = time.process_time(), time.perf_counter()
            d = dijkstra(A, directed=True, indices=sources[c], min_only=True, limit=RADII[-1])
            ts.append(time.perf_counter() - t)
            cs.append(time.process_time() - c0)
        times.append(statistics.median(ts))
        cpus.append(statistics.median(cs))
        res[f"near_{c}"] = d[query]
    np.savez_compressed(out, **res)
    return {
        "engine": "scipy",
        "nearest_by_category_s": dict(zip(names, times, strict=True)),
        "nearest_per_query_s": statistics.median(times),
        "nearest_per_query_cpu_s": statistics.median(cpus),
        "nearest12_s": sum(times),
        "peak_rss_mib": _rss_mib(),
    }


def run_igraph(n_nodes: int, out: Path, reps: int) -> dict:
    import igraph as ig

    g, sources, query, names, _, _ = build(n_nodes)
    src = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    # directed copy of the CSR (both directions) plus a super source with out-edges only
    G = ig.Graph(n=g.n_nodes + 1, edges=np.stack([src, g.indices], 1).tolist(), directed=True)
    G.es["w"] = g.weights.tolist()
    super_node = g.n_nodes
    times, res = [], {}
    for c in names:
        H = G.copy()
        H.add_edges([(super_node, int(h)) for h in sources[c]])
        H.es[G.ecount() :]["w"] = [0.0] * sources[c].size
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            d = np.asarray(H.distances(source=[super_node], weights="w", mode="out")[0])
            ts.append(time.perf_counter() - t)
        times.append(statistics.median(ts))
        d = d[query]
        d[d > RADII[-1]] = np.inf
        res[f"near_{c}"] = d
    np.savez_compressed(out, **res)
    return {
        "engine": "igraph",
        "nearest_per_query_s": statistics.median(times),
        "nearest12_s": sum(times),
        "peak_rss_mib": _rss_mib(),
        "note": "no search bound (igraph has none); graph copies not timed",
    }


def run_networkx(n_nodes: int, out: Path, reps: int) -> dict:
    import networkx as nx

    g, sources, query, names, _, _ = build(n_nodes)
    G = nx.Graph()
    src = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    G.add_weighted_edges_from(
        zip(src.tolist(), g.indices.tolist(), g.weights.tolist(), strict=True)
    )
    times, res = [], {}
    for c in names[:4]:
        t = time.perf_counter()
        d = nx.multi_source_dijkstra_path_length(G, set(sources[c].tolist()), cutoff=RADII[-1])
        times.append(time.perf_counter() - t)
        arr = np.full(query.size, np.inf)
        qi = {int(n): k for k, n in enumerate(query)}
        for n, v in d.items():
            if n in qi:
                arr[qi[n]] = v
        res[f"near_{c}"] = arr
    np.savez_compressed(out, **res)
    return {
        "engine": "networkx",
        "nearest_per_query_s": statistics.median(times),
        "nearest12_s": 12 * statistics.median(times),
        "peak_rss_mib": _rss_mib(),
        "note": "4 of 12 queries run; nearest12_s = 12 x median",
    }


def run_pandana(n_nodes: int, out: Path, reps: int) -> dict:
    import pandana
    import pandas as pd

    t0 = time.perf_counter()
    g, sources, query, names, (px, py, hub), _ = build(n_nodes)
    t_build = time.perf_counter() - t0
    x, y = g.x.copy(), g.y.copy()
    ok = hub >= 0
    x[hub[ok]], y[hub[ok]] = px[ok], py[ok]  # POIs map to their hub (distance 0)
    src = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
    keep = src < g.indices
    t1 = time.perf_counter()
    net = pandana.Network(
        pd.Series(x),
        pd.Series(y),
        pd.Series(src[keep]),
        pd.Series(g.indices[keep]),
        pd.DataFrame({"w": g.weights[keep]}),
        twoway=True,
    )
    net.precompute(RADII[-1])
    t2 = time.perf_counter()
    res = {}
    t_near = []
    for c in names:
        hx, hy = x[sources[c]], y[sources[c]]
        net.set_pois(c, RADII[-1], 1, pd.Series(hx), pd.Series(hy))
        t = time.perf_counter()
        d = net.nearest_pois(RADII[-1], c, num_pois=1).iloc[:, 0].to_numpy()
        t_near.append(time.perf_counter() - t)
        d = d[query].astype(float)
        d[d >= RADII[-1]] = np.inf  # pandana fills "none within" with the search distance
        res[f"near_{c}"] = d
    t3 = time.perf_counter()
    for c in names:
        net.set(pd.Series(sources[c]), variable=pd.Series(np.ones(sources[c].size)), name=c)
        cols = [
            net.aggregate(r, type="count", decay="flat", name=c).to_numpy()[query] for r in RADII
        ]
        res[f"count_{c}"] = np.stack(cols, 1).round().astype(np.int64)
    t4 = time.perf_counter()
    np.savez_compressed(out, **res)
    return {
        "engine": "pandana",
        "end_to_end_s": t_build + (t4 - t1),
        "network_precompute_s": t2 - t1,
        "nearest12_s": sum(t_near),
        "nearest_per_query_s": statistics.median(t_near),
        "counts_s": t4 - t3,
        "peak_rss_mib": _rss_mib(),
        "note": "end to end includes citycheck's build+snap (pandana has no edge snapping)",
    }


RUNNERS = {
    "citycheck": run_citycheck,
    "scipy": run_scipy,
    "igraph": run_igraph,
    "networkx": run_networkx,
    "pandana": run_pandana,
}


def child(engine: str, n_nodes: int, out: str, reps: int) -> None:
    res = RUNNERS[engine](n_nodes, Path(out), reps)
    print("RESULT " + json.dumps(res))


def spawn(engine: str, n_nodes: int, tmp: Path, reps: int, timeout_s: float) -> dict | None:
    out = tmp / f"{engine}_{n_nodes}.npz"
    cmd = [
        sys.executable,
        __file__,
        "--child",
        engine,
        "--n",
        str(n_nodes),
        "--out",
        str(out),
        "--reps",
        str(reps),
    ]
    t = time.perf_counter()
    try:
        p = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    except subprocess.TimeoutExpired:
        print(f"  {engine} {n_nodes}: timed out after {timeout_s:.0f} s", flush=True)
        return {"engine": engine, "timeout_s": timeout_s}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode or not lines:
        print(f"  {engine} {n_nodes}: failed\n{p.stderr[-2000:]}", flush=True)
        return None
    res = json.loads(lines[-1][7:])
    res["wall_process_s"] = time.perf_counter() - t
    res["file"] = str(out)
    print(f"  {engine} {n_nodes}: {json.dumps(res)}", flush=True)
    return res


def agreement(ref: Path, other: Path) -> str:
    a, b = np.load(ref), np.load(other)
    worst, n_cmp, n_count_diff, n_count = 0.0, 0, 0, 0
    for k in b.files:
        if k.startswith("near_"):
            x, y = a[k], b[k]
            both = np.isfinite(x) & np.isfinite(y) & (x < RADII[-1] - 0.01)
            if not np.array_equal(np.isfinite(x) & (x < RADII[-1] - 0.01), both):
                mism = np.sum((np.isfinite(x) & (x < RADII[-1] - 0.01)) != both)
                return f"reachability differs at {mism} nodes ({k})"
            if both.any():
                worst = max(worst, float(np.max(np.abs(x[both] - y[both]))))
            n_cmp += int(both.sum())
        elif k.startswith("count_"):
            n_count += a[k].size
            n_count_diff += int(np.sum(a[k] != b[k]))
    msg = f"max |d| diff {worst:.2g} m over {n_cmp} distances"
    if n_count:
        msg += f"; counts differ in {n_count_diff} of {n_count}"
    return msg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--n", type=int)
    ap.add_argument("--out")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sizes", default="50000,250000,1000000")
    ap.add_argument("--engines", default="citycheck,scipy,igraph,networkx,pandana")
    ap.add_argument("--pandana-max", type=int, default=250000)
    ap.add_argument("--networkx-max", type=int, default=50000)
    ap.add_argument("--igraph-max", type=int, default=1000000)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument(
        "--jitter", type=float, default=JITTER_M, help="move grid junctions up to this many m"
    )
    args = ap.parse_args()
    os.environ["CITYCHECK_BENCH_JITTER_M"] = str(args.jitter)  # read by the child processes
    if args.child:
        child(args.child, args.n, args.out, args.reps)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    limits = {"pandana": args.pandana_max, "networkx": args.networkx_max, "igraph": args.igraph_max}
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()}", flush=True)
    print(f"synthetic grid: {SPACING_M:g} m spacing, junctions moved up to {args.jitter:g} m")
    results: dict[tuple[str, int], dict] = {}
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        for n in sizes:
            for e in engines:
                if n > limits.get(e, 10**9):
                    print(f"  {e} {n}: skipped (too slow at this size; see --{e}-max)")
                    continue
                reps = 3 if e in ("citycheck", "scipy") else 1
                r = spawn(e, n, tmp, reps, args.timeout)
                if r is not None:
                    results[(e, n)] = r
        print(f"\nload average after: {os.getloadavg()}")
        print(
            "cityseer: run by bench/bench_access_cityseer.py in its own venv (its wheel pulls "
            "osmnx, rasterio and statsmodels; not a project dependency)."
        )
        print("\n== citycheck (median of 3; wall seconds on this machine) ==")
        print(
            f"{'nodes':>9} {'facil':>6} {'build':>6} {'snap':>6} {'near+cnt':>9} "
            f"{'end2end':>8} {'e2e_cpu':>8} {'near12':>7} {'near/q 1thr':>11} {'(cpu)':>7} "
            f"{'near/q':>7} {'(cpu)':>7} {'peakMiB':>8} {'baseMiB':>8}"
        )
        cc = {n: results.get(("citycheck", n)) for n in sizes}
        for r in cc.values():
            if r:
                print(
                    f"{r['n_nodes']:>9} {r['n_facilities']:>6} {r['build_s']:>6.2f} "
                    f"{r['snap_s']:>6.2f} {r['nearest_counts_s']:>9.2f} "
                    f"{r['end_to_end_s']:>8.2f} {r['end_to_end_cpu_s']:>8.2f} "
                    f"{r['nearest12_s']:>7.2f} {r['nearest_per_query_1thread_s']:>11.3f} "
                    f"{r['nearest_per_query_cpu_s']:>7.3f} {r['nearest_per_query_s']:>7.3f} "
                    f"{r['nearest_per_query_threads_cpu_s']:>7.3f} {r['peak_rss_mib']:>8.0f} "
                    f"{r['base_rss_mib']:>8.0f}"
                )
        ok = [n for n in sizes if cc.get(n)]
        if len(ok) >= 2:
            a, b = ok[0], ok[-1]
            na, nb = cc[a]["n_nodes"], cc[b]["n_nodes"]
            expo = np.log(cc[b]["end_to_end_s"] / cc[a]["end_to_end_s"]) / np.log(nb / na)
            print(f"scaling exponent of end-to-end time {na}->{nb} nodes: {expo:.2f}")
        print("\n== peers (same arrays) ==")
        for n in sizes:
            ref = cc.get(n)
            for e in engines:
                r = results.get((e, n))
                if e == "citycheck" or r is None or not ref:
                    continue
                if "timeout_s" in r:
                    print(f"{n:>9} {e:>9}: timed out after {r['timeout_s']:.0f} s")
                    continue
                q = r.get("nearest_per_query_s")
                line = f"{n:>9} {e:>9}: nearest/query {q:.3f} s"
                by_cat = r.get("nearest_by_category_s")
                if by_cat:  # same sources, same bound, one query each
                    for key, label in (
                        ("nearest_by_category_s", f"{ref['threads']} thr"),
                        ("nearest_1thread_by_category_s", "1 thr"),
                    ):
                        ratios = [by_cat[c] / ref[key][c] for c in by_cat if c in ref[key]]
                        line += (
                            f" (per category {e}/citycheck {label}: min {min(ratios):.1f}x, "
                            f"median {statistics.median(ratios):.1f}x)"
                        )
                line += (
                    f" = {q / ref['nearest_per_query_s']:.1f}x citycheck per query "
                    f"({ref['threads']} threads)"
                )
                line += f", {q / ref['nearest_per_query_1thread_s']:.1f}x citycheck 1-thread"
                line += f", {q / (ref['nearest12_s'] / 12):.1f}x citycheck amortised (12 on 2 thr)"
                if "nearest_per_query_cpu_s" in r:
                    qc = r["nearest_per_query_cpu_s"]
                    line += (
                        f"; CPU/query {qc:.3f} s = "
                        f"{qc / ref['nearest_per_query_cpu_s']:.1f}x citycheck CPU"
                    )
                if "end_to_end_s" in r:
                    line += (
                        f"; end to end {r['end_to_end_s']:.1f} s = "
                        f"{r['end_to_end_s'] / ref['end_to_end_s']:.1f}x citycheck"
                    )
                line += f"; peak {r['peak_rss_mib']:.0f} MiB"
                line += f"; agreement: {agreement(Path(ref['file']), Path(r['file']))}"
                if r.get("note"):
                    line += f" [{r['note']}]"
                print(line)


if __name__ == "__main__":
    main()
