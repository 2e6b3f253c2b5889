"""Hotline analytics at scale: the three rates over a generated log of 10 million orders.

Runs the same statistics with DuckDB (the default engine) and with pandas in the same process
and prints wall times and their ratio. The target (issue 6) is under a minute for 10 million
orders on this machine.

    PYTHONPATH=src python3 bench/bench_analytics.py [--orders 10000000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import pandas as pd

from citycheck.listen.analytics.frames import normalise_orders, order_facts
from citycheck.listen.analytics.rates import rank_table, three_rates
from citycheck.listen.analytics.synthetic import Plant, events_from_orders, generate_orders
from citycheck.listen.analytics.trends import surges


def _t(label: str, f):  # type: ignore[no-untyped-def]
    """Wall time and CPU time of this process and its threads (the machine may be shared)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = f()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<52} {dt:8.2f} s wall {dc:8.2f} s cpu")
    return out, (dt, dc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--events", type=int, default=1_000_000, help="fold the event log of this many orders"
    )
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, pandas {pd.__version__}")
    import duckdb

    print(f"duckdb {duckdb.__version__}")
    t0 = time.perf_counter()
    orders = generate_orders(args.orders, plant=Plant(), n_units=400, n_areas=16, seed=args.seed)
    print(f"generated {len(orders):,} orders in {time.perf_counter() - t0:.1f} s (not timed below)")

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    totals = {}
    cpu = {}
    for engine in ("duckdb", "pandas"):
        print(f"engine {engine}:")
        start, cstart = time.perf_counter(), time.process_time()
        o, _ = _t("check and normalise the orders table", lambda: normalise_orders(orders))
        r, _ = _t(
            "three rates + on-time + closure time by unit",
            lambda o=o, e=engine: three_rates(o, by=["unit"], engine=e),
        )
        _t("rank on Wilson lower bounds", lambda r=r: rank_table(r, on="composite"))
        _t(
            "by category x area x month",
            lambda o=o, e=engine: three_rates(o, by=["category", "area"], period="M", engine=e),
        )
        totals[engine] = time.perf_counter() - start
        cpu[engine] = time.process_time() - cstart
        print(f"  {'total':<52} {totals[engine]:8.2f} s wall {cpu[engine]:8.2f} s cpu")
    print("trends:")
    _, (t_s, c_s) = _t(
        "weekly surges per category x area (seasonal baseline)",
        lambda: surges(orders, by="category", freq="W", extra_keys=["area"]),
    )
    if args.events:
        sub = orders.iloc[: args.events]
        ev = events_from_orders(sub)
        print(f"event log: {len(ev):,} events of {len(sub):,} orders")
        _t("fold the event log into per-order facts", lambda: order_facts(ev))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"RESULT orders={len(orders):,} duckdb_wall_s={totals['duckdb']:.2f} "
        f"duckdb_cpu_s={cpu['duckdb']:.2f} pandas_wall_s={totals['pandas']:.2f} "
        f"pandas_cpu_s={cpu['pandas']:.2f} "
        f"pandas/duckdb_wall={totals['pandas'] / totals['duckdb']:.2f} "
        f"surges_wall_s={t_s:.2f} surges_cpu_s={c_s:.2f} "
        f"under_a_minute_wall={totals['duckdb'] + t_s < 60}"
    )


if __name__ == "__main__":
    main()
