"""Hydraulic criticality: what happens to supply when a pipe or a valve-isolated segment is lost.

Each scenario closes a set of links (one pipe, or every pipe of a segment between isolation
valves) and re-runs the network with WNTR's EPANET 2.2 simulator in pressure-dependent demand
mode (PDA): a junction whose pressure falls below the required pressure receives less than its
demand. The shortfall against the intact network gives unmet demand and residents affected.

Scenarios run in parallel worker processes. :func:`verify_with_wntr_simulator` re-simulates a
sample with WNTR's own Newton solver (a separate implementation of the same hydraulic equations)
as an independent check.

Pressure-dependent demand (Wagner et al. 1988; EPANET 2.2 manual, "Pressure Driven Analysis"):

.. math:: d = D \\left(\\frac{p - p_{min}}{p_{req} - p_{min}}\\right)^{e}

References
----------
Rossman, L. et al. (2020). EPANET 2.2 User Manual. US EPA, EPA/600/R-20/133.
Klise, K. et al. (2017). A software framework for assessing the resilience of drinking water
    systems to disasters with an example earthquake case study. Env. Modelling & Software 95.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from citycheck.lifeline.register import load_network_model

__all__ = [
    "HydraulicSettings",
    "pipe_criticality",
    "scenario_criticality",
    "segment_scenarios",
    "verify_with_wntr_simulator",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HydraulicSettings:
    """Pressure-dependent demand settings and simulated period.

    Attributes
    ----------
    required_pressure_m : float
        Pressure at which a junction receives its full demand. 20 m is the minimum service head
        of a four-storey building under GB 50013-2018 (10 m for one storey, 12 m for two, 4 m
        more per further storey); use the city's service standard.
    minimum_pressure_m : float
        Pressure below which a junction receives nothing.
    pressure_exponent : float
        Exponent of the pressure-demand relation (0.5, orifice flow).
    duration_h : float or None
        Simulated period; None keeps the model's own. 24 h covers the daily peak.
    hydraulic_step_s : int or None
        Hydraulic and report time step; None keeps the model's own.
    """

    required_pressure_m: float = 20.0
    minimum_pressure_m: float = 0.0
    pressure_exponent: float = 0.5
    duration_h: float | None = 24.0
    hydraulic_step_s: int | None = 3600


def _prepare(path: str | Path, settings: HydraulicSettings):
    wn = load_network_model(path)
    h = wn.options.hydraulic
    h.demand_model = "PDA"
    h.required_pressure = settings.required_pressure_m
    h.minimum_pressure = settings.minimum_pressure_m
    h.pressure_exponent = settings.pressure_exponent
    t = wn.options.time
    if settings.duration_h is not None:
        t.duration = int(settings.duration_h * 3600)
    if settings.hydraulic_step_s is not None:
        t.hydraulic_timestep = settings.hydraulic_step_s
        t.report_timestep = settings.hydraulic_step_s
        t.pattern_timestep = min(t.pattern_timestep, settings.hydraulic_step_s) or 3600
    t.report_start = 0
    return wn


def _controls_on(wn, links: Iterable[str]) -> list[tuple[str, object]]:
    names = set(links)
    out = []
    for cname, ctrl in wn.controls():
        if any(getattr(obj, "name", None) in names for obj in ctrl.requires()):
            out.append((cname, ctrl))
    return out


def _delivered(wn, closed: Sequence[str], engine: str, prefix: str | None) -> pd.DataFrame:
    """Delivered demand (m3/s) per junction and report time with ``closed`` links shut."""
    import wntr
    from wntr.network import LinkStatus

    saved = {name: wn.get_link(name).initial_status for name in closed}
    removed = _controls_on(wn, closed)
    for cname, _ctrl in removed:
        wn.remove_control(cname)
    for name in closed:
        wn.get_link(name).initial_status = LinkStatus.Closed
    try:
        if engine == "epanet":
            res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=prefix)
        else:
            wn.reset_initial_values()
            res = wntr.sim.WNTRSimulator(wn).run_sim()
    finally:
        for name, status in saved.items():
            wn.get_link(name).initial_status = status
        for cname, ctrl in removed:
            wn.add_control(cname, ctrl)
    return res.node["demand"][wn.junction_name_list]


class _ToolkitRunner:
    """One EPANET 2.2 project kept open; each scenario changes link initial status only.

    Opening the model once per worker and re-solving in memory avoids writing and parsing an
    input file per scenario (what ``EpanetSimulator.run_sim`` does). Links governed by simple or
    rule-based controls fall back to that slower path, which removes their controls.
    """

    def __init__(self, wn, folder: str) -> None:
        import wntr
        from wntr.epanet.toolkit import ENepanet
        from wntr.epanet.util import EN

        self._EN = EN
        self.wn = wn
        inp = os.path.join(folder, "model.inp")
        wntr.network.write_inpfile(wn, inp, units="LPS")
        self.en = ENepanet()
        self.en.ENopen(inp, os.path.join(folder, "model.rpt"), "")
        self.junctions = list(wn.junction_name_list)
        # only junctions with demand can fall short; the others are read as zero
        has_demand = [
            any(d.base_value != 0 for d in wn.get_node(n).demand_timeseries_list)
            for n in self.junctions
        ]
        self.read_pos = np.nonzero(np.asarray(has_demand, dtype=bool))[0]
        self.j_idx = [self.en.ENgetnodeindex(self.junctions[i]) for i in self.read_pos]
        # EPANET 2.2's project API (what WNTR opens) returns doubles
        self._value = ctypes.c_double()
        self.report_s = int(wn.options.time.report_timestep)
        self.duration_s = int(wn.options.time.duration)
        self.controlled = {
            getattr(obj, "name", None) for _n, c in wn.controls() for obj in c.requires()
        }

    def run(self, closed: Sequence[str]) -> pd.DataFrame:
        EN = self._EN
        idx = [self.en.ENgetlinkindex(name) for name in closed]
        saved = [self.en.ENgetlinkvalue(i, EN.INITSTATUS) for i in idx]
        for i in idx:
            self.en.ENsetlinkvalue(i, EN.INITSTATUS, 0)
        rows: list[list[float]] = []
        times: list[int] = []
        try:
            self.en.ENopenH()
            self.en.ENinitH(0)
            while True:
                t = int(self.en.ENrunH())
                if t % self.report_s == 0 and (not times or times[-1] != t):
                    times.append(t)
                    rows.append(self._demands(EN.DEMAND))
                step = self.en.ENnextH()
                if step <= 0:
                    break
        finally:
            self.en.ENcloseH()
            for i, v in zip(idx, saved, strict=True):
                self.en.ENsetlinkvalue(i, EN.INITSTATUS, v)
        full = np.zeros((len(rows), len(self.junctions)))
        full[:, self.read_pos] = np.asarray(rows).reshape(len(rows), -1) / 1000.0  # L/s -> m3/s
        return pd.DataFrame(full, index=times, columns=self.junctions)

    def _demands(self, code: int) -> list[float]:
        # the EPANET 2.2 project API called directly: the wrapper's per-call checks cost more
        # than the read itself when thousands of junctions are read per step
        lib, project, ref = self.en.ENlib, self.en._project, ctypes.byref(self._value)
        if project is None:  # legacy single-project API: use the wrapper
            return [self.en.ENgetnodevalue(j, code) for j in self.j_idx]
        out = []
        for j in self.j_idx:
            err = lib.EN_getnodevalue(project, j, code, ref)
            if err > 100:
                raise RuntimeError(f"EPANET error {err} reading node {j}")
            out.append(self._value.value)
        return out

    def close(self) -> None:
        self.en.ENclose()


def _expected(wn, times: np.ndarray) -> pd.DataFrame:
    import wntr

    exp = wntr.metrics.expected_demand(wn)
    return exp.reindex(times)[wn.junction_name_list]


def _summarise(
    name: str,
    closed: Sequence[str],
    delivered: pd.DataFrame,
    baseline: pd.DataFrame,
    expected_mean: pd.Series,
    residents: pd.Series,
    facilities: Mapping[str, list[str]],
    affected_fraction: float,
) -> dict:
    # mean shortfall rate per junction over the period, against the intact network
    common = baseline.index.intersection(delivered.index)
    if len(common) < len(baseline.index):
        raise RuntimeError(f"scenario {name}: simulation stopped early at t={delivered.index[-1]}")
    # EPANET's PDA occasionally reports negative "delivered" demand at junctions cut off from
    # every source (an ill-posed sub-system); a junction can receive neither less than nothing
    # nor more than its intact supply, so the shortfall is clipped to [0, baseline]
    got = delivered.loc[common]
    anomalous = int((got < -1e-6).to_numpy().sum())
    base = baseline.loc[common].clip(lower=0)
    short = (base - got.clip(lower=0)).clip(lower=0).mean(axis=0)
    frac = (short / expected_mean.where(expected_mean > 0)).fillna(0.0).clip(upper=1.0)
    hit = frac[frac > affected_fraction].index
    cats: dict[str, int] = {}
    for node in hit:
        for c in facilities.get(node, []):
            cats[c] = cats.get(c, 0) + 1
    return {
        "scenario": name,
        "links_closed": len(closed),
        "unmet_m3_per_day": float(short.sum() * 86400.0),
        "unmet_share": float(short.sum() / expected_mean.sum()) if expected_mean.sum() else 0.0,
        "residents_affected": float((frac * residents.reindex(frac.index).fillna(0)).sum()),
        "nodes_affected": len(hit),
        "facilities_affected": int(sum(cats.values())),
        "facility_categories": ";".join(f"{k}:{v}" for k, v in sorted(cats.items())),
        "negative_demand_values": anomalous,
    }


# worker state (one model per process)
_STATE: dict = {}


def _init_worker(path: str, settings: HydraulicSettings, shared: dict, root: str) -> None:
    wn = _prepare(path, settings)
    tmp = tempfile.mkdtemp(prefix=f"w{os.getpid()}-", dir=root)
    _STATE.update(wn=wn, tmp=tmp, runner=_ToolkitRunner(wn, tmp), **shared)


def _run_chunk(chunk: list[tuple[str, list[str]]]) -> list[dict]:
    wn = _STATE["wn"]
    runner: _ToolkitRunner = _STATE["runner"]
    out = []
    for name, closed in chunk:
        prefix = os.path.join(_STATE["tmp"], "s")
        try:
            if runner.controlled & set(closed):
                d = _delivered(wn, closed, "epanet", prefix)
            else:
                d = runner.run(closed)
            out.append(
                _summarise(
                    name,
                    closed,
                    d,
                    _STATE["baseline"],
                    _STATE["expected_mean"],
                    _STATE["residents"],
                    _STATE["facilities"],
                    _STATE["affected_fraction"],
                )
            )
        except Exception as exc:  # a scenario EPANET cannot solve is reported, not fatal
            out.append({"scenario": name, "links_closed": len(closed), "error": str(exc)})
    return out


def scenario_criticality(
    path: str | Path,
    scenarios: Mapping[str, Sequence[str]],
    *,
    settings: HydraulicSettings | None = None,
    residents: pd.Series | None = None,
    facilities: pd.DataFrame | None = None,
    affected_fraction: float = 0.1,
    workers: int = 2,
    chunk_size: int = 25,
    progress: bool = False,
    cut_off_shortcut: bool = True,
) -> pd.DataFrame:
    """Simulate each scenario (a set of links closed) and measure the loss of supply.

    A scenario that only cuts a source-free part off (a dead-end branch) is not simulated: its
    shortfall is the intact supply of that part (:mod:`citycheck.lifeline.cut_off`).

    Parameters
    ----------
    path : str or Path
        EPANET ``.inp`` model.
    scenarios : mapping
        Scenario name -> link names to close.
    settings : HydraulicSettings, optional
    residents : Series, optional
        Residents by junction (default: average demand / quota, see
        :func:`citycheck.lifeline.risk.residents_from_demand`).
    facilities : DataFrame, optional
        Critical facilities with ``node`` and ``category``.
    affected_fraction : float
        A junction counts as affected when it loses more than this share of its demand.
    workers : int
        Worker processes (1 runs in this process).
    chunk_size : int
        Scenarios per task sent to a worker.
    progress : bool
        Show a rich progress bar.
    cut_off_shortcut : bool
        Take cut-off-only scenarios from the intact run (False simulates every scenario).

    Returns
    -------
    DataFrame
        Indexed by ``scenario``: ``links_closed``, ``unmet_m3_per_day``, ``unmet_share`` (of all
        demand), ``residents_affected`` (residents weighted by the share of their water lost),
        ``nodes_affected``, ``facilities_affected``, ``facility_categories``,
        ``negative_demand_values`` (junction-times where EPANET returned a negative delivered
        demand, clipped to zero), ``error`` (NaN when solved), ``rank`` (1 = most unmet
        demand), ``method`` (``simulated`` or ``cut_off``: from the intact run). Baseline
        shortfall (the intact network below required pressure) is not counted.
    """

    settings = settings or HydraulicSettings()
    wn = _prepare(path, settings)
    root = tempfile.mkdtemp(prefix="citycheck-crit-")
    try:
        return _scenario_criticality(
            path,
            wn,
            scenarios,
            settings,
            residents,
            facilities,
            affected_fraction,
            workers,
            chunk_size,
            progress,
            root,
            cut_off_shortcut,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _scenario_criticality(
    path,
    wn,
    scenarios,
    settings,
    residents,
    facilities,
    affected_fraction,
    workers,
    chunk_size,
    progress,
    root,
    cut_off_shortcut=True,
) -> pd.DataFrame:
    from citycheck.lifeline.register import register_from_inp
    from citycheck.lifeline.risk import residents_from_demand

    # the intact network through the same toolkit session type the workers use, so that the
    # shortfall compares like with like
    base_dir = tempfile.mkdtemp(prefix="base-", dir=root)
    base_runner = _ToolkitRunner(wn, base_dir)
    try:
        baseline = base_runner.run([])
    finally:
        base_runner.close()
    expected_mean = _expected(wn, baseline.index.to_numpy()).mean(axis=0)
    if residents is None:
        residents = residents_from_demand(register_from_inp(path).points)
    fac = (
        facilities.groupby("node")["category"].apply(list).to_dict()
        if facilities is not None and len(facilities)
        else {}
    )
    unknown = sorted({lk for links in scenarios.values() for lk in links} - set(wn.link_name_list))
    if unknown:
        raise ValueError(f"{path}: scenarios close links not in the model: {unknown[:10]}")
    shared = {
        "baseline": baseline,
        "expected_mean": expected_mean,
        "residents": residents,
        "facilities": fac,
        "affected_fraction": affected_fraction,
    }
    items = [(str(k), list(v)) for k, v in scenarios.items()]
    rows: list[dict] = []
    if cut_off_shortcut:
        items, rows = _cut_off_rows(wn, items, baseline, shared)
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    bar = _progress(progress, len(items))
    if workers <= 1:
        _init_worker(str(path), settings, shared, root)
        try:
            for c in chunks:
                rows += _run_chunk(c)
                bar.advance(len(c))
        finally:
            _STATE["runner"].close()
            _STATE.clear()
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(str(path), settings, shared, root),
        ) as pool:
            for res in pool.map(_run_chunk, chunks):
                rows += res
                bar.advance(sum(1 for _ in res))
    bar.close()
    out = pd.DataFrame(rows).set_index("scenario")
    if "error" not in out:
        out["error"] = np.nan
    if "method" not in out:
        out["method"] = "simulated"
    out["method"] = out["method"].fillna("simulated")
    out = out.sort_values("unmet_m3_per_day", ascending=False, kind="stable")
    out["rank"] = out["unmet_m3_per_day"].rank(ascending=False, method="min")
    return out


def _cut_off_rows(
    wn, items: list[tuple[str, list[str]]], baseline: pd.DataFrame, shared: dict
) -> tuple[list[tuple[str, list[str]]], list[dict]]:
    """Split off the scenarios that only cut a part off; summarise those from the intact run."""
    from citycheck.lifeline.cut_off import CutOffGraph, cut_off_junctions

    injecting = [
        n
        for n in wn.junction_name_list
        if any(d.base_value < 0 for d in wn.get_node(n).demand_timeseries_list)
    ]
    net = CutOffGraph(
        ((name, lk.start_node_name, lk.end_node_name) for name, lk in wn.links()),
        [*wn.reservoir_name_list, *wn.tank_name_list, *injecting],
    )
    rest, rows = [], []
    for name, closed in items:
        cut = cut_off_junctions(net, closed)
        if cut is None:
            rest.append((name, closed))
            continue
        delivered = baseline.copy()
        delivered.loc[:, delivered.columns.isin(cut)] = 0.0
        row = _summarise(
            name,
            closed,
            delivered,
            baseline,
            shared["expected_mean"],
            shared["residents"],
            shared["facilities"],
            shared["affected_fraction"],
        )
        rows.append({**row, "method": "cut_off"})
    return rest, rows


class _NoBar:
    def advance(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _RichBar:
    def __init__(self, total: int) -> None:
        from rich.progress import Progress

        self._p = Progress(transient=True)
        self._p.start()
        self._t = self._p.add_task("criticality", total=total)

    def advance(self, n: int) -> None:
        self._p.advance(self._t, n)

    def close(self) -> None:
        self._p.stop()


def _progress(on: bool, total: int):
    return _RichBar(total) if on else _NoBar()


def pipe_criticality(
    path: str | Path,
    *,
    pipes: Sequence[str] | None = None,
    **kwargs,
) -> pd.DataFrame:
    """Loss of each pipe in turn (see :func:`scenario_criticality` for the options).

    Parameters
    ----------
    path : str or Path
        EPANET ``.inp`` model.
    pipes : sequence of str, optional
        Pipes to test (default: all).

    Returns
    -------
    DataFrame
        As :func:`scenario_criticality`, indexed by pipe id (``scenario``).
    """
    if pipes is None:
        pipes = load_network_model(path).pipe_name_list
    return scenario_criticality(path, {p: [p] for p in pipes}, **kwargs)


def segment_scenarios(path: str | Path, valve_layer: pd.DataFrame) -> dict[str, list[str]]:
    """Valve-isolated segments as scenarios: closing a segment closes all of its pipes.

    Parameters
    ----------
    path : str or Path
        EPANET model.
    valve_layer : DataFrame
        Isolation valves: ``link`` (the pipe the valve sits on) and ``node`` (the end it is
        next to), as in WNTR's valve layers (e.g. ``wntr.network.generate_valve_layer``).

    Returns
    -------
    dict
        ``"segment-<n>"`` -> pipe ids in that segment (segments without pipes are left out).
    """
    import wntr

    wn = load_network_model(path)
    missing = sorted(set(valve_layer["link"]) - set(wn.link_name_list))
    if missing:
        raise ValueError(f"valve layer names links not in {path}: {missing[:10]}")
    G = wn.to_graph()
    _nodes, links, _size = wntr.metrics.valve_segments(G, valve_layer)
    pipes = set(wn.pipe_name_list)
    out: dict[str, list[str]] = {}
    for link, seg in links.items():
        if link in pipes:
            out.setdefault(f"segment-{int(seg)}", []).append(link)
    return out


def verify_with_wntr_simulator(
    path: str | Path,
    scenarios: Mapping[str, Sequence[str]],
    *,
    settings: HydraulicSettings | None = None,
    residents: pd.Series | None = None,
    affected_fraction: float = 0.1,
) -> pd.DataFrame:
    """Re-simulate scenarios with WNTR's own solver, from a freshly read model each time.

    WNTRSimulator solves the same pressure-dependent network equations with its own Newton
    method in Python, independently of the EPANET toolkit used by
    :func:`scenario_criticality`; agreement of the two is a check on the analysis.

    Returns
    -------
    DataFrame
        Indexed by scenario: ``unmet_m3_per_day``, ``residents_affected``, ``nodes_affected``,
        ``negative_demand_values``, ``error`` (NaN when WNTR's solver finished the period).
    """
    from citycheck.lifeline.register import register_from_inp
    from citycheck.lifeline.risk import residents_from_demand

    settings = settings or HydraulicSettings()
    if residents is None:
        residents = residents_from_demand(register_from_inp(path).points)
    wn = _prepare(path, settings)
    baseline = _delivered(wn, [], "wntr", None)
    t = wn.options.time
    n_times = int(t.duration // t.report_timestep) + 1
    if len(baseline.index) < n_times:
        raise RuntimeError(
            f"{path}: WNTR's solver did not converge on the intact network "
            f"({len(baseline.index)} of {n_times} report times solved); no independent check"
        )
    expected_mean = _expected(wn, baseline.index.to_numpy()).mean(axis=0)
    rows = []
    for name, closed in scenarios.items():
        fresh = _prepare(path, settings)
        try:
            d = _delivered(fresh, list(closed), "wntr", None)
            row = _summarise(
                str(name),
                list(closed),
                d,
                baseline,
                expected_mean,
                residents,
                {},
                affected_fraction,
            )
        except Exception as exc:  # WNTR's solver may fail to converge where EPANET does not
            row = {"scenario": str(name), "error": f"{type(exc).__name__}: {exc}"}
        rows.append(row)
    out = pd.DataFrame(rows).set_index("scenario")
    if "error" not in out:
        out["error"] = np.nan
    if "method" not in out:
        out["method"] = "simulated"
    out["method"] = out["method"].fillna("simulated")
    cols = ["unmet_m3_per_day", "residents_affected", "nodes_affected", "negative_demand_values"]
    return out.reindex(columns=[*cols, "error"])
