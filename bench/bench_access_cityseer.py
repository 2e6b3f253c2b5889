"""Benchmark: cityseer as a peer of citycheck's accessibility engine, on the same arrays.

cityseer has a cp311 wheel but pulls osmnx, rasterio and statsmodels, so it is not a project
dependency: it lives in its own virtual environment (``VENV``), made by ``--setup``. A plain run

1. builds, in the main environment, the same jittered synthetic grid and facilities as
   ``bench/bench_access.py`` (its ``build``), and times citycheck's whole workload on it: graph
   build, snapping, nearest distance to 12 categories and counts within 300/500/800/1000/1500 m
   for every node (median of ``--reps``);
2. writes the street nodes, street edges, facility points and citycheck's results at the street
   nodes to an ``.npz`` (no citycheck code goes into the venv);
3. re-executes this file inside the venv, which builds cityseer's ``NetworkStructure`` from those
   arrays (straight edges, both directions, as ``tools.io.network_structure_from_nx`` adds them),
   assigns the same facility points with ``DataMap.assign_data_to_network`` (100 m, citycheck's
   snap limit) and runs ``DataMap.accessibility`` at the same five distances, timing each step;
4. prints cityseer's time per step, its ratio to citycheck's time for the same step measured in
   this run, and the agreement of nearest distances and counts at every street node.

Like for like: cityseer 5.x assigns a point on a primal graph to the nearest street edge and
gives both of its end nodes the along-street distance plus the setback, which is what citycheck's
edge snapping computes; so both sides get the raw facility points. What differs: cityseer stores
lengths as float32, skips a street whose link to the point crosses another street, and searches
once per node (to 1500 m) where citycheck searches once per facility.

Run:  PYTHONPATH=src flock -s /tmp/cpu.lock python3 bench/bench_access_cityseer.py --setup
      PYTHONPATH=src flock -x /tmp/cpu.lock python3 bench/bench_access_cityseer.py
      [--sizes 50000] [--reps 3]  (cityseer needed > 150 s at 250000)
"""

from __future__ import annotations

import argparse
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

VENV = Path("/tmp/cityseer-venv")
VENV_PYTHON = VENV / "bin" / "python"
RADII = (300, 500, 800, 1000, 1500)
SNAP_M = 100.0
#: Distances within this (metres) agree; cityseer sums float32 lengths.
TOL_M = 0.01


def _rss_mib() -> float:
    """Peak RSS of this process (VmHWM: unlike ru_maxrss, not carried over an exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ----------------------------------------------------------------------------- main environment


def setup() -> int:
    """Create the venv and install cityseer into it; return the exit status."""
    if not VENV_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    p = subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "-q", "cityseer", "numpy"])
    if p.returncode:
        print(f"cityseer could not be installed into {VENV} (pip exit {p.returncode})")
    return p.returncode


def run_citycheck(n_nodes: int, out: Path, reps: int) -> dict:
    """Time citycheck's workload and export the arrays and its results at the street nodes."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_access as ba
    from citycheck.access.queries import counts_within

    g0, s0, q0, *_ = ba.build(2500)  # compile (or load numba's cache) outside the timings
    counts_within(g0, s0, q0, radii_m=[float(r) for r in RADII])
    many = np.resize(np.concatenate(list(s0.values())), 300)  # uint16 counts path
    counts_within(g0, {"many": many, **s0}, q0, radii_m=[float(r) for r in RADII])
    ends, builds, snaps, counts_t = [], [], [], []
    for _ in range(reps):
        g = sources = counts = near = None
        t0 = time.perf_counter()
        g, sources, query, names, (px, py, hub), tb = ba.build(n_nodes)
        t1 = time.perf_counter()
        counts, near = counts_within(g, sources, query, radii_m=[float(r) for r in RADII])
        t2 = time.perf_counter()
        ends.append(t2 - t0)
        builds.append(tb["build_s"])
        snaps.append(tb["snap_s"])
        counts_t.append(t2 - t1)
    base = g.base
    # row of each base street node in the query (= every transit node, in node order)
    row = np.searchsorted(query, g.base_node)
    assert np.array_equal(query[row], g.base_node)
    cat, _, _, _ = ba.facility_points(ba.grid_segments(n_nodes)[-1])
    np.savez(
        out,
        x=base.x,
        y=base.y,
        edge_u=base.edge_u,
        edge_v=base.edge_v,
        edge_len=base.edge_len,
        px=px,
        py=py,
        cat=cat,
        names=np.array(names),
        snapped=hub >= 0,
        **{f"near_{c}": near[c][row] for c in names},
        **{f"count_{c}": counts[c][row] for c in names},
    )
    return {
        "n_street_nodes": int(base.n_nodes),
        "n_edges": int(base.n_edges),
        "n_facilities": int(cat.size),
        "end_to_end_s": statistics.median(ends),
        "build_s": statistics.median(builds),
        "snap_s": statistics.median(snaps),
        "nearest_counts_s": statistics.median(counts_t),
        "peak_rss_mib": _rss_mib(),
    }


def run_cityseer_in_venv(npz: Path, out: Path, timeout_s: float) -> dict:
    """Run the cityseer side in the venv; a dict with ``error`` says why it could not."""
    if not VENV_PYTHON.exists():
        return {"error": f"no venv at {VENV}; create it with --setup"}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # keep citycheck out
    cmd = [str(VENV_PYTHON), __file__, "--venv-child", str(npz), "--out", str(out)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"cityseer timed out after {timeout_s:.0f} s"}
    if p.returncode or not out.exists():
        return {"error": f"cityseer failed (exit {p.returncode}): {p.stderr.strip()[-1500:]}"}
    return json.loads(out.read_text())


def agreement(npz: Path, res: dict) -> str:
    """Compare cityseer's nearest distances and counts with citycheck's, node by node."""
    a = np.load(npz)
    b = np.load(res["file"])
    worst, n_near, n_diff, n_reach_diff, n_cnt, n_cnt_diff = 0.0, 0, 0, 0, 0, 0
    edge_gap: list[float] = []
    for c in a["names"]:
        x, y = a[f"near_{c}"], b[f"near_{c}"]
        fx, fy = np.isfinite(x) & (x <= RADII[-1]), np.isfinite(y) & (y <= RADII[-1])
        n_reach_diff += int(np.sum(fx != fy))
        odd = fx != fy  # the finite side's distance says whether it is a boundary case
        edge_gap.extend(np.abs(np.where(fx, x, y)[odd] - RADII[-1]).tolist())
        both = fx & fy
        if both.any():
            d = np.abs(x[both] - y[both])
            worst = max(worst, float(d.max()))
            n_diff += int(np.sum(d > TOL_M))
        n_near += int(both.sum())
        ca, cb = a[f"count_{c}"].astype(np.int64), b[f"count_{c}"].astype(np.int64)
        n_cnt += ca.size
        n_cnt_diff += int(np.sum(ca != cb))
    return (
        f"nearest: {n_near} distances within 1500 m on both sides, max |diff| {worst:.3g} m, "
        f"{n_diff} differ by > {TOL_M} m, reachability differs at {n_reach_diff}"
        + (f" (found side within {max(edge_gap):.3g} m of 1500 m)" if edge_gap else "")
        + "; "
        f"counts differ in {n_cnt_diff} of {n_cnt}"
    )


def main_env(args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        for n in [int(s) for s in args.sizes.split(",")]:
            npz = tmp / f"arrays_{n}.npz"
            cc = run_citycheck(n, npz, args.reps)
            cs = run_cityseer_in_venv(npz, tmp / f"cityseer_{n}.json", args.timeout)
            print(f"\n== {cc['n_street_nodes']} street nodes, {cc['n_facilities']} facilities ==")
            print(
                f"citycheck (median of {args.reps}): build {cc['build_s']:.2f} s, "
                f"snap+attach {cc['snap_s']:.2f} s, nearest+counts {cc['nearest_counts_s']:.2f} s, "
                f"end to end {cc['end_to_end_s']:.2f} s; peak RSS {cc['peak_rss_mib']:.0f} MiB",
                flush=True,
            )
            if "error" in cs:
                print(f"cityseer: NOT RUN - {cs['error']}", flush=True)
                continue
            print(
                f"cityseer {cs['version']} (1 run, {cs['threads']} threads): "
                f"build {cs['build_s']:.2f} s ({cs['build_s'] / cc['build_s']:.1f}x citycheck), "
                f"assign {cs['assign_s']:.2f} s ({cs['assign_s'] / cc['snap_s']:.1f}x), "
                f"accessibility {cs['access_s']:.2f} s "
                f"({cs['access_s'] / cc['nearest_counts_s']:.1f}x), "
                f"end to end {cs['end_to_end_s']:.2f} s "
                f"({cs['end_to_end_s'] / cc['end_to_end_s']:.1f}x citycheck); "
                f"peak RSS {cs['peak_rss_mib']:.0f} MiB",
                flush=True,
            )
            print(f"agreement: {agreement(npz, cs)}", flush=True)
    print(f"\nload average after: {os.getloadavg()}")


# ---------------------------------------------------------------------------------- inside venv


def venv_child(npz: Path, out: Path) -> None:
    """Build cityseer's structures from the exported arrays, run accessibility, time each step."""
    from importlib.metadata import version

    from cityseer import rustalgos

    a = np.load(npz)
    x, y = a["x"].tolist(), a["y"].tolist()  # Python floats: their repr is plain WKT
    u, v = a["edge_u"].tolist(), a["edge_v"].tolist()
    px, py, cat = a["px"].tolist(), a["py"].tolist(), a["cat"].tolist()
    names = [str(c) for c in a["names"]]
    n = len(x)

    t0 = time.perf_counter()
    ns = rustalgos.graph.NetworkStructure()
    for i in range(n):
        ns.add_street_node(i, x[i], y[i], True, 1.0)
    for e, (i, j) in enumerate(zip(u, v, strict=True)):
        wkt = f"LINESTRING ({x[i]!r} {y[i]!r}, {x[j]!r} {y[j]!r})"
        back = f"LINESTRING ({x[j]!r} {y[j]!r}, {x[i]!r} {y[i]!r})"
        ns.add_street_edge(i, j, e, i, j, wkt)
        ns.add_street_edge(j, i, e, j, i, back)
    ns.build_edge_rtree()
    t1 = time.perf_counter()
    dm = rustalgos.data.DataMap()
    landuses = {}
    for f in range(len(px)):
        dm.insert(f, f"POINT ({px[f]!r} {py[f]!r})")
        landuses[f] = names[cat[f]]
    dm.assign_data_to_network(ns, SNAP_M, 50)
    t2 = time.perf_counter()
    res = dm.accessibility(ns, landuses, names, distances=list(RADII), pbar_disabled=True)
    t3 = time.perf_counter()

    row = np.asarray(res.node_keys_py, dtype=np.int64)  # our node ids, in result order
    arrays = {}
    for c in names:
        near = np.full(n, np.inf)
        d = np.asarray(res.result[c].distance[RADII[-1]], dtype=float)
        near[row] = np.where(np.isfinite(d), d, np.inf)
        arrays[f"near_{c}"] = near
        cnt = np.zeros((n, len(RADII)), dtype=np.int64)
        for r, dist in enumerate(RADII):
            cnt[row, r] = np.rint(np.asarray(res.result[c].count[dist])).astype(np.int64)
        arrays[f"count_{c}"] = cnt
    arr_file = out.with_suffix(".npz")
    np.savez(arr_file, **arrays)
    out.write_text(
        json.dumps(
            {
                "version": version("cityseer"),
                "threads": int(os.environ.get("RAYON_NUM_THREADS", os.cpu_count())),
                "build_s": t1 - t0,
                "assign_s": t2 - t1,
                "access_s": t3 - t2,
                "end_to_end_s": t3 - t0,
                "peak_rss_mib": _rss_mib(),
                "file": str(arr_file),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--setup", action="store_true", help=f"create {VENV} with cityseer")
    ap.add_argument("--sizes", default="50000", help="250000 needs --timeout 400")
    ap.add_argument("--reps", type=int, default=3, help="citycheck repetitions (median)")
    ap.add_argument("--timeout", type=float, default=200, help="cityseer limit per size, s")
    ap.add_argument("--venv-child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.venv_child:
        venv_child(Path(args.venv_child), Path(args.out))
    elif args.setup:
        sys.exit(setup())
    else:
        main_env(args)


if __name__ == "__main__":
    main()
