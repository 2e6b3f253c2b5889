"""Benchmark: leak detection on simulated leaks in WNTR's real network models.

Pattern + CUSUM detector vs a fixed low-pressure threshold, same simulated observations.
Run: ``PYTHONPATH=src python3 bench/bench_lifeline_leaks.py [network] [leaks_per_size]``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from citycheck.lifeline.monitoring.leak_eval import LeakStudy, run_leak_study


def network(name: str) -> Path:
    import wntr

    return Path(wntr.__file__).parent / "library" / "networks" / f"{name}.inp"


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "Net3"
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    for margin in (1.1, 2.0):
        study = LeakStudy(
            leaks_per_size=per,
            leak_coefficients=(3.0, 10.0, 30.0),
            clean_days=14,
            train_margin=margin,
        )
        t0 = time.perf_counter()
        res = run_leak_study(network(name), study)
        print(f"{name}: {len(res.scenarios)} leaks, {time.perf_counter() - t0:.1f} s")
        print(f"sensors ({len(res.sensors)}): {res.sensors}; settings: {study}")
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(res.summary.round(3).to_string(index=False))
        fa = {k: round(v, 2) for k, v in res.false_alarms_per_week.items()}
        print("false alarms per week:", fa)
        print("leak-free weeks observed:", round(res.extra["leak-free weeks observed"], 2))


if __name__ == "__main__":
    main()
