"""Benchmark: hydraulic criticality of every pipe of ky10 (WNTR's network library).

Prints
- wall time of the whole analysis (every pipe closed in turn, EPANET 2.2 PDA, 24 h, 2 workers),
  with how many scenarios were simulated and how many only cut a dead-end part off (taken from
  the intact run); with ``--full`` also the time with every scenario simulated;
- the per-scenario cost of the obvious peer, ``wntr.sim.EpanetSimulator(wn).run_sim()`` per
  scenario (writes and parses an input file each time), on a sample, and the ratio;
- agreement with an independent re-simulation (WNTRSimulator, fresh model) on a sample — on the
  network itself where WNTR's solver converges, and on ky4 (snapshot; WNTR's solver does not
  converge on ky10 at all).

Run: ``PYTHONPATH=src python3 bench/bench_lifeline_criticality.py [network] [sample] [--full]``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from citycheck.lifeline.criticality import (
    HydraulicSettings,
    _delivered,
    _prepare,
    pipe_criticality,
    verify_with_wntr_simulator,
)


def network(name: str) -> Path:
    import wntr

    return Path(wntr.__file__).parent / "library" / "networks" / f"{name}.inp"


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    name = args[0] if args else "ky10"
    n_sample = int(args[1]) if len(args) > 1 else 20
    path = network(name)
    settings = HydraulicSettings(duration_h=24.0)
    print(f"load average at start: {os.getloadavg()}")
    t0 = time.perf_counter()
    res = pipe_criticality(path, settings=settings, workers=2)
    wall = time.perf_counter() - t0
    n = len(res)
    by = res["method"].value_counts().to_dict()
    print(
        f"{name}: {n} pipes, 24 h EPS, PDA, 2 workers: {wall:.1f} s = {wall / 60:.1f} min "
        f"({wall / n * 1000:.1f} ms/pipe); simulated {by.get('simulated', 0)}, "
        f"cut-off only (from the intact run) {by.get('cut_off', 0)}"
    )
    if "--full" in sys.argv:
        t0 = time.perf_counter()
        full = pipe_criticality(path, settings=settings, workers=2, cut_off_shortcut=False)
        wf = time.perf_counter() - t0
        cut = res.index[res["method"] == "cut_off"]
        d = (full.loc[cut, "unmet_m3_per_day"] - res.loc[cut, "unmet_m3_per_day"]).abs()
        print(
            f"  every scenario simulated: {wf:.1f} s (shortcut {wf / wall:.2f}x faster); "
            f"cut-off pipes, max |unmet diff| shortcut vs simulated {d.max():.4f} m3/d"
        )
    print(f"  scenarios failed: {int(res['error'].notna().sum())}")
    for pid, err in res["error"].dropna().items():
        print(f"    {pid}: {err[:200]}")
    print(f"  pipes with unmet demand > 1 m3/d: {int((res['unmet_m3_per_day'] > 1.0).sum())}")
    clipped = int((res["negative_demand_values"] > 0).sum())
    print(f"  scenarios with negative EPANET demands clipped: {clipped}")
    print(res.head(10)[["unmet_m3_per_day", "residents_affected", "nodes_affected"]].round(1))

    rng = np.random.default_rng(0)
    sample = list(res.index[:10]) + list(rng.choice(res.index[10:], n_sample - 10, replace=False))
    # peer: one EpanetSimulator.run_sim per scenario, serial, same settings
    wn = _prepare(path, settings)
    tmp = tempfile.mkdtemp()
    t0 = time.perf_counter()
    for p in sample:
        _delivered(wn, [p], "epanet", os.path.join(tmp, "s"))
    peer = (time.perf_counter() - t0) / len(sample)
    print(
        f"peer EpanetSimulator.run_sim per scenario (serial): {peer * 1000:.1f} ms; "
        f"ours {wall / n * 1000:.1f} ms per pipe on 2 workers incl. start-up; "
        f"ratio {peer / (wall / n):.1f}x"
    )

    # same scenarios through WNTR's file-based EpanetSimulator path (checks our in-memory
    # scenario handling, not the EPANET solver itself)
    base_file = _delivered(_prepare(path, settings), [], "epanet", os.path.join(tmp, "b"))
    worst = 0.0
    for p in sample:
        d = _delivered(_prepare(path, settings), [p], "epanet", os.path.join(tmp, "c"))
        short = (base_file.clip(lower=0) - d.clip(lower=0)).clip(lower=0).mean(axis=0).sum()
        worst = max(worst, abs(short * 86400 - res.at[p, "unmet_m3_per_day"]))
    print(
        f"file-based EpanetSimulator vs in-memory toolkit, {len(sample)} pipes: "
        f"max |unmet diff| {worst:.4f} m3/d"
    )

    snap = HydraulicSettings(duration_h=0.0)
    checks = [(name, "24 h EPS", settings, res, sample), (name, "snapshot", snap, None, sample)]
    if name != "ky4":
        # a network of similar size on which WNTR's solver converges (snapshot; ~15 s/scenario)
        k4 = pipe_criticality(network("ky4"), settings=snap, workers=2)
        sim4 = k4[k4["method"] == "simulated"]
        pick = list(sim4.index[:4]) + list(rng.choice(sim4.index[4:], 4, replace=False))
        print(f"ky4 snapshot criticality ({len(k4)} pipes) for the independent check")
        checks.append(("ky4", "snapshot", snap, k4, pick))
    for net, label, s, ref, sample in checks:
        path = network(net)
        label = f"{net} {label}"
        if ref is None:
            ref = pipe_criticality(path, pipes=sample, settings=s, workers=2)
        t0 = time.perf_counter()
        try:
            chk = verify_with_wntr_simulator(path, {p: [p] for p in sample}, settings=s)
        except RuntimeError as exc:
            print(f"independent re-simulation ({label}): {exc}")
            continue
        tv = time.perf_counter() - t0
        failed = chk["error"].notna()
        if failed.any():
            print(
                f"  WNTRSimulator failed on {int(failed.sum())}/{len(chk)} ({label}), e.g. "
                f"{chk.loc[failed, 'error'].iloc[0][:120]}"
            )
        chk = chk[~failed]
        a = ref.loc[chk.index, "unmet_m3_per_day"]
        b = chk["unmet_m3_per_day"]
        diff = (a - b).abs()
        tol = np.maximum(0.01 * a.abs(), 1.0)
        print(
            f"independent re-simulation ({label}, WNTRSimulator, {len(chk)} pipes, {tv:.1f} s): "
            f"agree within 1% or 1 m3/d: {int((diff <= tol).sum())}/{len(chk)}; "
            f"max |diff| {diff.max():.2f} m3/d; "
            f"top-10 rank order equal: {list(a.iloc[:10].rank()) == list(b.iloc[:10].rank())}"
        )
        bad = diff[diff > tol]
        for p in bad.index:
            print(f"   differs: {p}: EPANET {a[p]:.1f} vs WNTR {b[p]:.1f} m3/d")


if __name__ == "__main__":
    main()
