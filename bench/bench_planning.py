"""Siting and what-if benchmarks: citycheck against PySAL spopt, and what-if on 1 M nodes.

1. **MCLP** on a synthetic grid city: ``--demand`` buildings (20,000) and ``--sites`` candidate
   sites (2,000), walking limit 300 m. citycheck builds the walking network, joins buildings and
   sites, measures every pair within 300 m and solves the maximal covering MILP (HiGHS through
   scipy). spopt (``MCLP.from_cost_matrix``) gets the same distance matrix (dense, ``inf`` beyond
   the limit — computing it is *not* counted for spopt) and solves with PuLP's HiGHS. Both
   objectives are printed and must be equal; the time ratio is printed.
2. **p-median** at ``--pm-demand`` × ``--pm-sites`` (default 500 × 50) and twice that
   (1,000 × 100), ``--p`` sites, distances truncated at ``2 × limit`` for both: citycheck's
   Lagrangian relaxation + branch and bound against spopt's ``PMedian.from_cost_matrix`` on
   the same (dense) matrix, run in a child process stopped after ``--spopt-timeout`` seconds
   (then the printed ratio is a lower bound, and says so). Objectives must be equal. Then
   citycheck alone at ``--demand`` × ``--sites`` (20,000 × 2,000) with its proven gap
   (``--pm-time-limit`` caps the branch and bound; ``--pm-big-p`` sets p there).
3. **What-if**: a ``--grid`` × ``--grid`` street grid (1,000 × 1,000 = 1 M nodes) with buildings
   and facilities; one facility is added and the per-building table updated
   (:class:`citycheck.plan.WhatIf`); the time is printed next to a full re-run of the
   engine's search for that category.

    python bench/bench_planning.py                 # the issue's sizes
    python bench/bench_planning.py --quick         # small sizes, a smoke run

Synthetic data only (a scaling benchmark); correctness is tested on real OSM in tests/.
"""

from __future__ import annotations

import argparse
import time
import types

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from citycheck.plan.matrix import distance_table, siting_network
from citycheck.plan.models import maximal_covering, p_median


def grid_streets(n: int, spacing: float, crs: str = "EPSG:32650") -> gpd.GeoDataFrame:
    """An n × n street grid of ``spacing`` metres, one LineString per block edge."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x, y = i.ravel() * spacing, j.ravel() * spacing
    h = (i[:-1, :].ravel(), j[:-1, :].ravel())
    v = (i[:, :-1].ravel(), j[:, :-1].ravel())
    x0 = np.concatenate([h[0], v[0]]) * spacing
    y0 = np.concatenate([h[1], v[1]]) * spacing
    x1 = np.concatenate([h[0] + 1, v[0]]) * spacing
    y1 = np.concatenate([h[1], v[1] + 1]) * spacing
    lines = shapely.linestrings(np.stack([np.stack([x0, y0], 1), np.stack([x1, y1], 1)], 1))
    del x, y
    return gpd.GeoDataFrame(
        {"highway": np.full(lines.size, "footway", dtype=object)}, geometry=lines, crs=crs
    )


def random_points(rng: np.random.Generator, n: int, extent: float, crs: str) -> gpd.GeoDataFrame:
    xy = rng.random((n, 2)) * extent
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


def spopt_solver():  # type: ignore[no-untyped-def]
    import pulp

    if "HiGHS" in pulp.listSolvers(onlyAvailable=True):
        return pulp.HiGHS(msg=False, mip_rel_gap=0.0), "PuLP HiGHS"
    return pulp.PULP_CBC_CMD(msg=False, gapRel=0.0), "PuLP CBC"


def bench_mclp(n_demand: int, n_sites: int, k: int, limit: float, seed: int) -> None:
    from spopt.locate import MCLP

    rng = np.random.default_rng(seed)
    spacing = 60.0
    extent = np.sqrt(n_demand / 400.0) * 1000.0  # ~400 buildings per km²
    n = int(extent / spacing) + 2
    streets = grid_streets(n, spacing)
    crs = streets.crs
    blds = random_points(rng, n_demand, extent, crs)
    sites = random_points(rng, n_sites, extent, crs)
    fac = gpd.GeoDataFrame(geometry=[], crs=crs)
    w = rng.integers(10, 200, n_demand).astype(float)
    print(
        f"\n== MCLP: {n_demand:,} buildings × {n_sites:,} sites, k={k}, limit {limit:g} m, "
        f"grid {n}×{n} ({extent / 1000:.1f} km)"
    )
    # warm the compiled kernels on a tiny instance (compilation is not what we measure)
    small = grid_streets(5, spacing)
    sn0 = siting_network(
        small, random_points(rng, 5, 200, crs), fac, random_points(rng, 3, 200, crs)
    )
    distance_table(sn0.graph, sn0.building_hub, sn0.candidate_hub, cutoff_m=limit)

    t0 = time.perf_counter()
    sn = siting_network(streets, blds, fac, sites)
    t1 = time.perf_counter()
    dist = distance_table(sn.graph, sn.building_hub, sn.candidate_hub, cutoff_m=limit)
    t2 = time.perf_counter()
    cover = sp.csr_matrix(
        (np.ones(dist.nnz, dtype=bool), dist.indices, dist.indptr), shape=dist.shape
    )
    sol = maximal_covering(cover, w, k, time_limit_s=1800)
    t3 = time.perf_counter()
    cc_total = t3 - t0
    print(
        f"citycheck: network+join {t1 - t0:.2f} s, distances {t2 - t1:.2f} s "
        f"({dist.nnz:,} pairs), MILP {t3 - t2:.2f} s (groups {sol.stats['n_groups']:,}); "
        f"total {cc_total:.2f} s; objective {sol.objective:,.0f}, gap {sol.gap:.2e}"
    )
    dense = np.full(dist.shape, np.inf)
    coo = dist.tocoo()
    dense[coo.row, coo.col] = coo.data
    solver, sname = spopt_solver()
    t4 = time.perf_counter()
    model = MCLP.from_cost_matrix(dense, w, service_radius=limit, p_facilities=k)
    t5 = time.perf_counter()
    model = model.solve(solver, results=False)
    t6 = time.perf_counter()
    import pulp

    sp_obj = float(pulp.value(model.problem.objective))
    print(
        f"spopt ({sname}): build {t5 - t4:.2f} s, solve {t6 - t5:.2f} s; total {t6 - t4:.2f} s "
        f"(distance matrix given); objective {sp_obj:,.0f}"
    )
    same = abs(sp_obj - sol.objective) <= 1e-6 * max(1.0, abs(sol.objective))
    print(f"objectives equal: {same}")
    print(f"RATIO spopt / citycheck (MCLP, build+solve): {(t6 - t4) / cc_total:.1f}x")
    print(f"RATIO spopt / citycheck (MCLP, model+solve only): {(t6 - t4) / (t3 - t2):.1f}x")


def _spopt_pmedian(dense: np.ndarray, w: np.ndarray, p: int, out) -> None:  # type: ignore[no-untyped-def]
    """Child process: spopt's p-median on the dense matrix; puts (objective, seconds) on ``out``."""
    import pulp
    from spopt.locate import PMedian

    solver, _ = spopt_solver()
    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(dense, w, p_facilities=p).solve(solver, results=False)
    out.put((float(pulp.value(model.problem.objective)), time.perf_counter() - t0))


def run_spopt_pmedian(
    dense: np.ndarray, w: np.ndarray, p: int, timeout_s: float
) -> tuple[float | None, float]:
    """spopt p-median (build + solve) in a child process stopped after ``timeout_s``.

    Returns (objective or None if stopped, seconds); on a stop the seconds are a lower bound.
    """
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_spopt_pmedian, args=(dense, w, p, out))
    t0 = time.perf_counter()
    proc.start()
    proc.join(timeout_s)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None, time.perf_counter() - t0
    obj, secs = out.get()
    return obj, secs


def pmedian_instance(n_demand: int, n_sites: int, bound: float, seed: int):  # type: ignore[no-untyped-def]
    """Grid city, random buildings and sites; returns (seconds to build the table, table, w)."""
    rng = np.random.default_rng(seed)
    spacing = 60.0
    extent = np.sqrt(n_demand / 400.0) * 1000.0
    n = int(extent / spacing) + 2
    streets = grid_streets(n, spacing)
    crs = streets.crs
    blds = random_points(rng, n_demand, extent, crs)
    sites = random_points(rng, n_sites, extent, crs)
    fac = gpd.GeoDataFrame(geometry=[], crs=crs)
    w = rng.integers(10, 200, n_demand).astype(float)
    t0 = time.perf_counter()
    sn = siting_network(streets, blds, fac, sites)
    dist = distance_table(sn.graph, sn.building_hub, sn.candidate_hub, cutoff_m=bound)
    return time.perf_counter() - t0, dist, w


def bench_pmedian(
    n_demand: int,
    n_sites: int,
    p: int,
    limit: float,
    seed: int,
    *,
    spopt_timeout_s: float | None,
    time_limit_s: float,
) -> None:
    bound = 2 * limit
    print(f"\n== p-median: {n_demand:,} buildings × {n_sites:,} sites, p={p}, bound {bound:g} m")
    # warm the compiled kernels (compilation is not what we measure)
    _, d0, w0 = pmedian_instance(60, 8, bound, seed + 1)
    p_median(d0, w0, 2, bound_m=bound)
    t_net, dist, w = pmedian_instance(n_demand, n_sites, bound, seed)
    t1 = time.perf_counter()
    sol = p_median(dist, w, p, bound_m=bound, time_limit_s=time_limit_s)
    t2 = time.perf_counter()
    st = sol.stats
    milp = f", MILP {st['solve_s']:.2f} s" if "solve_s" in st else ""
    print(
        f"citycheck: network+distances {t_net:.2f} s ({dist.nnz:,} pairs), "
        f"solve {t2 - t1:.2f} s [{sol.method}: Lagrangian {st.get('lagrangian_s', 0):.2f} s, "
        f"root {st.get('lagrangian_iterations', 0)} iterations, "
        f"root sites fixed open/closed "
        f"{st.get('sites_fixed_open', 0)}/{st.get('sites_fixed_closed', 0)}, "
        f"branch-and-bound nodes {st.get('branch_nodes', 0)}"
        f"{milp}]; "
        f"objective {sol.objective:,.1f}, bound {sol.bound:,.1f}, gap {sol.gap:.2e}"
    )
    if spopt_timeout_s is None:
        return
    dense = np.full(dist.shape, bound)
    coo = dist.tocoo()
    dense[coo.row, coo.col] = np.minimum(coo.data, bound)
    sp_obj, sp_s = run_spopt_pmedian(dense, w, p, spopt_timeout_s)
    cc = t_net + (t2 - t1)
    if sp_obj is None:
        print(f"spopt (PuLP): stopped after {sp_s:.1f} s without an answer (timeout)")
        print(
            f"RATIO spopt / citycheck (p-median, build+solve): > {sp_s / cc:.1f}x "
            f"(lower bound: spopt timed out at {spopt_timeout_s:g} s)"
        )
        return
    print(f"spopt (PuLP): build+solve {sp_s:.2f} s (matrix given); objective {sp_obj:,.1f}")
    same = abs(sp_obj - sol.objective) <= 1e-6 * max(1.0, abs(sol.objective))
    print(f"objectives equal: {same}")
    print(f"RATIO spopt / citycheck (p-median, build+solve): {sp_s / cc:.1f}x")


def bench_whatif(grid: int, n_buildings: int, n_fac: int, seed: int) -> None:
    from citycheck.access import analyse_layers
    from citycheck.plan.whatif import WhatIf

    rng = np.random.default_rng(seed)
    spacing = 50.0
    extent = (grid - 1) * spacing
    print(
        f"\n== what-if: {grid}×{grid} grid ({grid * grid:,} street nodes), "
        f"{n_buildings:,} buildings, {n_fac:,} elderly-care facilities"
    )
    t0 = time.perf_counter()
    streets = grid_streets(grid, spacing)
    crs = streets.crs
    blds = random_points(rng, n_buildings, extent, crs)
    blds["residential"] = True
    fac = random_points(rng, n_fac, extent, crs)
    fac["category"] = "elderly_care"
    fac["facility_id"] = [f"f{i}" for i in range(n_fac)]
    fac["area_m2"] = 0.0
    t1 = time.perf_counter()
    result = analyse_layers(
        streets, blds, fac, category_ids=["elderly_care"], greenways=False, residential_only=False
    )
    t2 = time.perf_counter()
    print(
        f"setup {t1 - t0:.1f} s; full analysis of the category {t2 - t1:.1f} s "
        f"(network {result.params['network_s']:.1f} s, join {result.params['snap_s']:.1f} s, "
        f"search {result.params['search_s']:.2f} s)"
    )
    city = types.SimpleNamespace(facilities=fac, crs=crs)
    wi = WhatIf(city, result)
    # warm-up on a first site (compilation and the street index are one-off)
    wi.add("elderly_care", shapely.Point(extent * 0.1, extent * 0.1))
    times = []
    for _ in range(5):
        pt = shapely.Point(*(rng.random(2) * extent))
        t3 = time.perf_counter()
        rec = wi.add("elderly_care", pt)
        t4 = time.perf_counter()
        times.append(t4 - t3)
    t5 = time.perf_counter()
    wi.result()
    t6 = time.perf_counter()
    print(
        "add one facility (bounded search + table update): "
        f"median {np.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"({rec['buildings_reached']} buildings reached)"
    )
    print(f"life-circle flags of the whole table after it: {(t6 - t5) * 1000:.0f} ms")
    print(
        f"WHATIF add-one-facility on {grid * grid:,} nodes: {max(times):.3f} s "
        f"(under 1 s: {max(times) < 1.0}); "
        f"full search of the category {result.params['search_s']:.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--demand", type=int, default=20_000)
    ap.add_argument("--sites", type=int, default=2_000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--pm-demand", type=int, default=500)
    ap.add_argument("--pm-sites", type=int, default=50)
    ap.add_argument("--p", type=int, default=10)
    ap.add_argument("--pm-big-p", type=int, default=10, help="p of the 20,000 × 2,000 p-median")
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--grid", type=int, default=1_000)
    ap.add_argument("--buildings", type=int, default=200_000)
    ap.add_argument("--facilities", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--spopt-timeout", type=float, default=600.0, help="p-median: stop spopt after")
    ap.add_argument(
        "--pm-time-limit", type=float, default=300.0, help="p-median: citycheck MILP limit (s)"
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--only", choices=["mclp", "pmedian", "whatif"], default=None)
    a = ap.parse_args()
    if a.quick:
        a.demand, a.sites, a.pm_demand, a.pm_sites = 2_000, 200, 300, 40
        a.grid, a.buildings, a.facilities = 200, 10_000, 100
    pd.set_option("display.width", 120)
    if a.only in (None, "mclp"):
        bench_mclp(a.demand, a.sites, a.k, a.limit, a.seed)
    if a.only in (None, "pmedian"):
        for nd, ns in ((a.pm_demand, a.pm_sites), (2 * a.pm_demand, 2 * a.pm_sites)):
            bench_pmedian(
                nd,
                ns,
                a.p,
                a.limit,
                a.seed,
                spopt_timeout_s=a.spopt_timeout,
                time_limit_s=a.pm_time_limit,
            )
        bench_pmedian(
            a.demand,
            a.sites,
            a.pm_big_p,
            a.limit,
            a.seed,
            spopt_timeout_s=None,
            time_limit_s=a.pm_time_limit,
        )
    if a.only in (None, "whatif"):
        bench_whatif(a.grid, a.buildings, a.facilities, a.seed)


if __name__ == "__main__":
    main()
