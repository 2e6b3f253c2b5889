"""Failure risk of pipes: likelihood (break model) times consequence (people who lose service).

Likelihood follows the exponential break-rate model of Shamir & Howard (1979),

.. math:: N(a) = N_0 \\, e^{A a}

(breaks per km per year at age *a*), extended by the two covariates most often found significant
in the statistical literature reviewed by Kleiner & Rajani (2001): diameter and the pipe's own
previous breaks,

.. math:: \\lambda = N_0^{(m)} e^{A^{(m)} a} (D / D_{ref})^{\\beta} (1 + n_{prev})^{\\gamma}

with per-material :math:`N_0, A` and shared :math:`\\beta, \\gamma`. The yearly probability of at
least one break of a pipe of length *L* km is :math:`1 - e^{-\\lambda L}` (Poisson arrivals).
:func:`calibrate_break_model` fits all parameters by Poisson maximum likelihood on a city's own
break records (a log-linear Poisson regression with the pipe-year exposure as offset).

References
----------
Shamir, U., Howard, C.D.D. (1979). An analytic approach to scheduling pipe replacement.
    Journal AWWA 71(5), 248-258.
Kleiner, Y., Rajani, B. (2001). Comprehensive review of structural deterioration of water mains:
    statistical models. Urban Water 3(3), 131-150.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from citycheck.lifeline.reference import (
    BreakModel,
    break_model,
    break_parameters,
    materials,
    networks,
    residents_quota_l_day,
)
from citycheck.lifeline.register import SOURCE_KINDS, AssetRegister

__all__ = [
    "Calibration",
    "break_rate",
    "calibrate_break_model",
    "due_for_renewal",
    "failure_probability",
    "old_pipeline_indicators",
    "residents_from_demand",
    "risk_table",
    "topological_consequence",
]

log = logging.getLogger(__name__)


def _previous_breaks(pipes: pd.DataFrame, breaks: pd.DataFrame | None, year: int) -> np.ndarray:
    if breaks is None or breaks.empty:
        return np.zeros(len(pipes))
    before = breaks[breaks["year"] < year]
    counts = before.groupby(before["pipe_id"].astype(str)).size()
    return pipes["pipe_id"].astype(str).map(counts).fillna(0).to_numpy(dtype=float)


def break_rate(
    pipes: pd.DataFrame,
    *,
    year: int,
    parameters: pd.DataFrame | None = None,
    model: BreakModel | None = None,
    breaks: pd.DataFrame | None = None,
    unknown_age_years: float | None = None,
) -> pd.Series:
    """Expected breaks per km per year of each pipe in ``year``.

    Parameters
    ----------
    pipes : DataFrame
        Register pipes: ``pipe_id``, ``material``, ``install_year``, ``diameter_mm``.
    year : int
        The year of the forecast.
    parameters : DataFrame, optional
        Per-material ``n0_per_km_yr`` and ``growth_per_yr`` indexed by material (default: the
        uncalibrated defaults of ``lifeline.toml``, or a :class:`Calibration`'s ``parameters``).
    model : BreakModel, optional
        Diameter and history terms (default from ``lifeline.toml``).
    breaks : DataFrame, optional
        Break records (``pipe_id``, ``year``); breaks before ``year`` raise the rate.
    unknown_age_years : float, optional
        Age assumed when the install year is unknown; default NaN (rate unknown).

    Returns
    -------
    Series
        ``break_rate_per_km_yr``, index of ``pipes``.
    """
    params = break_parameters() if parameters is None else parameters
    model = break_model() if model is None else model
    mat = pipes["material"].astype(str)
    missing = sorted(set(mat) - set(params.index))
    if missing:
        raise ValueError(f"no break-model parameters for material(s) {missing}")
    age = year - pipes["install_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if unknown_age_years is not None:
        age = np.where(np.isnan(age), unknown_age_years, age)
    age = np.clip(age, 0, None)
    n0 = mat.map(params["n0_per_km_yr"]).to_numpy(dtype=float)
    growth = mat.map(params["growth_per_yr"]).to_numpy(dtype=float)
    d = pipes["diameter_mm"].to_numpy(dtype=float) / model.reference_diameter_mm
    prev = _previous_breaks(pipes, breaks, year)
    rate = (
        n0
        * np.exp(growth * age)
        * d**model.diameter_exponent
        * (1.0 + prev) ** model.history_exponent
    )
    return pd.Series(rate, index=pipes.index, name="break_rate_per_km_yr")


def failure_probability(
    pipes: pd.DataFrame,
    *,
    year: int,
    parameters: pd.DataFrame | None = None,
    model: BreakModel | None = None,
    breaks: pd.DataFrame | None = None,
    unknown_age_years: float | None = None,
) -> pd.DataFrame:
    """Yearly break rate, expected breaks and probability of at least one break per pipe.

    Returns
    -------
    DataFrame
        Index of ``pipes``; ``age_years``, ``break_rate_per_km_yr``, ``expected_breaks_yr``,
        ``p_failure_yr``.
    """
    rate = break_rate(
        pipes,
        year=year,
        parameters=parameters,
        model=model,
        breaks=breaks,
        unknown_age_years=unknown_age_years,
    )
    expected = rate * pipes["length_m"].to_numpy(dtype=float) / 1000.0
    age = year - pipes["install_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(
        {
            "age_years": age,
            "break_rate_per_km_yr": rate,
            "expected_breaks_yr": expected,
            "p_failure_yr": -np.expm1(-expected),
        },
        index=pipes.index,
    )


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Fitted break model.

    Attributes
    ----------
    parameters : DataFrame
        Per material: ``n0_per_km_yr``, ``growth_per_yr``, ``breaks``, ``exposure_km_yr``.
    model : BreakModel
        Fitted (or fixed) diameter and history exponents.
    log_likelihood : float
        Poisson log-likelihood at the optimum (without the constant log(k!) term).
    pipe_years : int
        Pipe-years used; ``dropped_pipes`` had no install year or unknown material.
    """

    parameters: pd.DataFrame
    model: BreakModel
    log_likelihood: float
    pipe_years: int
    dropped_pipes: tuple[str, ...]


def _poisson_newton(
    X: np.ndarray, y: np.ndarray, offset: np.ndarray, theta: np.ndarray, max_iter: int = 100
) -> tuple[np.ndarray, float]:
    """Maximise the Poisson log-likelihood sum(y*eta - exp(eta)), eta = offset + X theta.

    Newton's method with step halving; the objective is concave, so the stationary point found is
    the maximum. Returns the estimate and the log-likelihood (without log y!).
    """

    def loglik(t: np.ndarray) -> float:
        e = offset + X @ t
        return float(np.sum(y * e - np.exp(e)))

    current = loglik(theta)
    for _ in range(max_iter):
        mu = np.exp(offset + X @ theta)
        grad = X.T @ (y - mu)
        hess = X.T @ (X * mu[:, None])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                "break model not identifiable from these records (a material with no "
                "spread of ages, or no breaks at all)"
            ) from exc
        t = 1.0
        while t > 1e-8:
            cand = theta + t * step
            new = loglik(cand)
            if new >= current - 1e-12:
                break
            t /= 2
        theta, improvement, current = cand, new - current, new
        if abs(improvement) < 1e-10 * (1 + abs(current)) and np.max(np.abs(t * step)) < 1e-9:
            break
    else:
        log.warning("break-model calibration: Newton did not converge in %d steps", max_iter)
    return theta, current


def pipe_years(
    pipes: pd.DataFrame, breaks: pd.DataFrame, *, start_year: int, end_year: int
) -> pd.DataFrame:
    """Exposure table: one row per pipe and observed year, with breaks that year.

    Returns
    -------
    DataFrame
        ``pipe_id``, ``material``, ``year``, ``age``, ``length_km``, ``diameter_mm``,
        ``previous_breaks`` (before that year, within the records), ``breaks``.
    """
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} before start_year {start_year}")
    b = breaks.assign(pipe_id=breaks["pipe_id"].astype(str))
    counts = b.groupby(["pipe_id", "year"]).size()
    rows = []
    ids = pipes["pipe_id"].astype(str).to_numpy()
    inst = pipes["install_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    for y in range(start_year, end_year + 1):
        alive = ~np.isnan(inst) & (inst <= y)
        rows.append(
            pd.DataFrame(
                {
                    "pipe_id": ids[alive],
                    "material": pipes["material"].astype(str).to_numpy()[alive],
                    "year": y,
                    "age": y - inst[alive],
                    "length_km": pipes["length_m"].to_numpy(dtype=float)[alive] / 1000.0,
                    "diameter_mm": pipes["diameter_mm"].to_numpy(dtype=float)[alive],
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    key = pd.MultiIndex.from_arrays([table["pipe_id"], table["year"]])
    table["breaks"] = counts.reindex(key).fillna(0).to_numpy(dtype=float)
    table = table.sort_values(["pipe_id", "year"], kind="stable")
    before_window = b[b["year"] < start_year].groupby("pipe_id").size()
    table["previous_breaks"] = table.groupby("pipe_id")["breaks"].cumsum() - table["breaks"]
    table["previous_breaks"] += table["pipe_id"].map(before_window).fillna(0)
    return table.reset_index(drop=True)


def calibrate_break_model(
    pipes: pd.DataFrame,
    breaks: pd.DataFrame,
    *,
    start_year: int,
    end_year: int,
    fit_diameter: bool = True,
    fit_history: bool = True,
    reference_diameter_mm: float | None = None,
) -> Calibration:
    """Fit the break model to a city's break records by Poisson maximum likelihood.

    Each pipe-year is a Poisson count with mean
    ``length_km * n0[m] * exp(growth[m] * age) * (D/Dref)**beta * (1+prev)**gamma``; the
    log-likelihood is concave in ``(log n0, growth, beta, gamma)`` and is maximised by Newton's
    method (iteratively reweighted least squares).

    Parameters
    ----------
    pipes : DataFrame
        Register pipes (``pipe_id``, ``material``, ``install_year``, ``length_m``,
        ``diameter_mm``); pipes without install year are dropped and named in the result.
    breaks : DataFrame
        Break records: ``pipe_id``, ``year`` (one row per break).
    start_year, end_year : int
        The observation window (inclusive). Breaks outside it count only as history.
    fit_diameter, fit_history : bool
        Fit the diameter and history exponents; when False they are held at 0.
    reference_diameter_mm : float, optional
        Default from ``lifeline.toml``.

    Returns
    -------
    Calibration
    """
    if not {"pipe_id", "year"} <= set(breaks.columns):
        raise ValueError(f"break records need columns pipe_id and year, got {list(breaks.columns)}")
    dref = (
        break_model().reference_diameter_mm
        if reference_diameter_mm is None
        else float(reference_diameter_mm)
    )
    known = pipes["install_year"].notna() & pipes["material"].isin(list(materials()))
    dropped = tuple(pipes.loc[~known, "pipe_id"].astype(str))
    unknown_breaks = set(breaks["pipe_id"].astype(str)) - set(pipes["pipe_id"].astype(str))
    if unknown_breaks:
        raise ValueError(f"break records name pipes not in the register: {sorted(unknown_breaks)}")
    table = pipe_years(pipes[known], breaks, start_year=start_year, end_year=end_year)
    mats = sorted(table["material"].unique())
    m_idx = table["material"].map({m: i for i, m in enumerate(mats)}).to_numpy()
    k = len(mats)
    age = table["age"].to_numpy(dtype=float)
    y = table["breaks"].to_numpy(dtype=float)
    offset = np.log(table["length_km"].to_numpy(dtype=float))
    logd = np.log(table["diameter_mm"].to_numpy(dtype=float) / dref)
    logh = np.log1p(table["previous_breaks"].to_numpy(dtype=float))
    # design matrix: k log-n0 indicators, k growth-by-age, log diameter, log(1 + history)
    n = len(table)
    X = np.zeros((n, 2 * k + 2))
    X[np.arange(n), m_idx] = 1.0
    X[np.arange(n), k + m_idx] = age
    X[:, 2 * k] = logd if fit_diameter else 0.0
    X[:, 2 * k + 1] = logh if fit_history else 0.0
    free = np.ones(2 * k + 2, dtype=bool)
    free[2 * k] = fit_diameter
    free[2 * k + 1] = fit_history
    theta = np.zeros(2 * k + 2)
    for i in range(k):
        sel = m_idx == i
        theta[i] = np.log((y[sel].sum() + 0.5) / np.exp(offset[sel]).sum())
    theta, ll = _poisson_newton(X[:, free], y, offset, theta[free])
    full = np.zeros(2 * k + 2)
    full[free] = theta
    theta = full
    exposure = np.bincount(m_idx, weights=np.exp(offset), minlength=k)
    nb = np.bincount(m_idx, weights=y, minlength=k)
    params = pd.DataFrame(
        {
            "n0_per_km_yr": np.exp(theta[:k]),
            "growth_per_yr": theta[k : 2 * k],
            "breaks": nb,
            "exposure_km_yr": exposure,
        },
        index=pd.Index(mats, name="material"),
    )
    model = BreakModel(
        reference_diameter_mm=dref,
        diameter_exponent=float(theta[2 * k]),
        history_exponent=float(theta[2 * k + 1]),
    )
    return Calibration(params, model, ll, len(table), dropped)


# --------------------------------------------------------------------------------------------
# Consequence
# --------------------------------------------------------------------------------------------


def residents_from_demand(
    points: pd.DataFrame, *, litres_per_resident_day: float | None = None
) -> pd.Series:
    """Residents served by each junction, from its average demand.

    ``residents = demand_m3_s * 86400 * 1000 / litres_per_resident_day`` — a simple mapping for
    when no City (buildings with residents) is given; the quota defaults to ``lifeline.toml``.

    Returns
    -------
    Series
        Indexed by ``asset_id`` (junctions only), name ``residents``.
    """
    quota = residents_quota_l_day() if litres_per_resident_day is None else litres_per_resident_day
    if quota <= 0:
        raise ValueError(f"litres_per_resident_day must be positive, got {quota}")
    j = points[points["kind"] == "junction"]
    res = j["demand_m3_s"].to_numpy(dtype=float).clip(min=0) * 86400.0 * 1000.0 / quota
    return pd.Series(res, index=j["asset_id"].astype(str).to_numpy(), name="residents")


def _network_graph(register: AssetRegister) -> nx.MultiGraph:
    G = nx.MultiGraph()
    G.add_nodes_from(register.points.loc[register.points["kind"] != "valve", "asset_id"])
    for r in register.pipes[["pipe_id", "from_node", "to_node"]].itertuples(index=False):
        G.add_edge(r.from_node, r.to_node, key=r.pipe_id)
    for r in register.links.itertuples(index=False):
        G.add_edge(r.from_node, r.to_node, key=r.link_id)
    return G


def topological_consequence(
    register: AssetRegister,
    *,
    residents: pd.Series | None = None,
    facilities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """People and critical facilities cut off from every source when one pipe fails.

    A pipe whose loss leaves part of the network without a path to any reservoir or tank cuts
    off the residents and facilities of that part. Pipes inside loops cut off nobody in this
    purely topological view; :mod:`citycheck.lifeline.criticality` adds the hydraulic view
    (pressure loss in loops).

    Parameters
    ----------
    register : AssetRegister
        With sources (``points.kind`` reservoir/tank) and node ids on pipes.
    residents : Series, optional
        Residents by node id (default :func:`residents_from_demand`).
    facilities : DataFrame, optional
        Critical facilities with ``node`` (the junction serving them), ``category`` and
        optionally ``name`` (hospitals, schools, elderly care from the City).

    Returns
    -------
    DataFrame
        Indexed by ``pipe_id``: ``nodes_cut``, ``residents_affected``, ``facilities_affected``,
        ``facility_categories`` (e.g. ``"hospital:1;school:2"``).
    """
    residents = residents_from_demand(register.points) if residents is None else residents
    sources = set(register.points.loc[register.points["kind"].isin(SOURCE_KINDS), "asset_id"])
    if not sources:
        raise ValueError(f"{register.source}: no reservoir or tank: cannot judge service loss")
    G = _network_graph(register)
    simple = nx.Graph(G)
    fac_by_node = (
        facilities.groupby("node")["category"].apply(list).to_dict()
        if facilities is not None and len(facilities)
        else {}
    )
    out: dict[str, dict[str, Any]] = {
        pid: {"nodes_cut": 0, "residents_affected": 0.0, "facilities_affected": 0, "cats": {}}
        for pid in register.pipes["pipe_id"]
    }
    for u, v in nx.bridges(simple):
        if G.number_of_edges(u, v) != 1:
            continue
        key = next(iter(G[u][v]))
        if key not in out:
            continue  # a pump or valve
        simple.remove_edge(u, v)
        side = nx.node_connected_component(simple, u)
        if side & sources:
            side = nx.node_connected_component(simple, v)
        simple.add_edge(u, v)
        if side & sources:
            continue  # both sides still fed
        rec = out[key]
        rec["nodes_cut"] = len(side)
        rec["residents_affected"] = float(residents.reindex(list(side)).fillna(0).sum())
        for node in side:
            for cat in fac_by_node.get(node, []):
                rec["cats"][cat] = rec["cats"].get(cat, 0) + 1
        rec["facilities_affected"] = sum(rec["cats"].values())
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame["facility_categories"] = frame.pop("cats").map(
        lambda d: ";".join(f"{k}:{v}" for k, v in sorted(d.items()))
    )
    frame.index.name = "pipe_id"
    return frame


def risk_table(
    register: AssetRegister,
    *,
    year: int,
    consequence: pd.DataFrame,
    parameters: pd.DataFrame | None = None,
    model: BreakModel | None = None,
    breaks: pd.DataFrame | None = None,
    facility_weight_residents: float = 1000.0,
    unknown_age_years: float | None = None,
) -> pd.DataFrame:
    """Risk per pipe = yearly failure probability x consequence.

    Parameters
    ----------
    register : AssetRegister
    year : int
    consequence : DataFrame
        Indexed by ``pipe_id`` with ``residents_affected`` and ``facilities_affected`` — from
        :func:`topological_consequence` or :func:`citycheck.lifeline.criticality.pipe_criticality`.
    facility_weight_residents : float
        Resident-equivalents of one critical facility losing service (a choice for the city).

    Returns
    -------
    DataFrame
        One row per pipe: register fields, failure columns, consequence columns,
        ``consequence_residents`` (weighted), ``risk_residents_yr`` (expected resident-outages per
        year), sorted by risk descending.
    """
    pipes = register.pipes
    fail = failure_probability(
        pipes,
        year=year,
        parameters=parameters,
        model=model,
        breaks=breaks,
        unknown_age_years=unknown_age_years,
    )
    cons = consequence.reindex(pipes["pipe_id"].astype(str))
    res = cons["residents_affected"].fillna(0).to_numpy(dtype=float)
    fac = cons["facilities_affected"].fillna(0).to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "pipe_id": pipes["pipe_id"].to_numpy(),
            "network": pipes["network"].to_numpy(),
            "material": pipes["material"].to_numpy(),
            "install_year": pipes["install_year"].to_numpy(),
            "diameter_mm": pipes["diameter_mm"].to_numpy(),
            "length_m": pipes["length_m"].to_numpy(),
            "street": pipes["street"].to_numpy() if "street" in pipes else None,
            "from_node": pipes["from_node"].to_numpy(),
            "to_node": pipes["to_node"].to_numpy(),
        }
    )
    for c in fail.columns:
        out[c] = fail[c].to_numpy()
    out["residents_affected"] = res
    out["facilities_affected"] = fac
    out["consequence_residents"] = res + facility_weight_residents * fac
    out["risk_residents_yr"] = out["p_failure_yr"] * out["consequence_residents"]
    return out.sort_values("risk_residents_yr", ascending=False, kind="stable").reset_index(
        drop=True
    )


# --------------------------------------------------------------------------------------------
# Old-pipeline indicators (catalogue S06 and the share past design life)
# --------------------------------------------------------------------------------------------


def due_for_renewal(pipes: pd.DataFrame, *, year: int) -> pd.Series:
    """Whether each pipe is due for renewal under 国办发〔2022〕22号.

    Due when its age reaches the network's renewal age, or its material is listed for renewal in
    that network whatever its age (grey cast iron gas and water mains, asbestos and cement water
    mains, plain-concrete sewers). Pipes with unknown install year and a material not listed are
    not counted as due.
    """
    nets = networks()
    mats = materials()
    age = year - pipes["install_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    limit = (
        pipes["network"]
        .map({k: v.renewal_age_years for k, v in nets.items()})
        .to_numpy(dtype=float)
    )
    by_age = np.nan_to_num(age, nan=-1.0) >= limit
    by_mat = np.array(
        [
            (m in mats and n in mats[m].renew_always_in)
            for m, n in zip(pipes["material"], pipes["network"], strict=True)
        ],
        dtype=bool,
    )
    return pd.Series(by_age | by_mat, index=pipes.index, name="due_for_renewal")


def old_pipeline_indicators(
    pipes: pd.DataFrame,
    *,
    year: int,
    renewed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Share of pipe length past its design life and renewal rate, by network.

    Parameters
    ----------
    pipes : DataFrame
        Register pipes as they are in ``year`` (renewed pipes carry their new install year).
    year : int
    renewed : DataFrame, optional
        Renewal works in the evaluation period: ``network``, ``length_m`` (pipes that were due and
        have been renewed).

    Returns
    -------
    DataFrame
        Index ``network``; ``length_km``, ``due_km``, ``share_past_design_life`` (due / total),
        ``renewed_km``, ``renovation_rate`` (catalogue S06: km renewed / km due, where km due =
        still due + renewed; NaN when nothing was due), ``zh``, ``en``.
    """
    due = due_for_renewal(pipes, year=year)
    km = pipes["length_m"].astype(float) / 1000.0
    g = pd.DataFrame({"network": pipes["network"], "km": km, "due_km": km.where(due, 0.0)})
    out = g.groupby("network").agg(length_km=("km", "sum"), due_km=("due_km", "sum"))
    if renewed is not None and len(renewed):
        rk = renewed.groupby("network")["length_m"].sum() / 1000.0
        out = out.reindex(out.index.union(rk.index), fill_value=0.0)
        out["renewed_km"] = rk.reindex(out.index).fillna(0.0)
    else:
        out["renewed_km"] = 0.0
    out["share_past_design_life"] = out["due_km"] / out["length_km"].where(out["length_km"] > 0)
    total_due = out["due_km"] + out["renewed_km"]
    out["renovation_rate"] = out["renewed_km"] / total_due.where(total_due > 0)
    nets = networks()
    out["zh"] = [nets[n].zh if n in nets else n for n in out.index]
    out["en"] = [nets[n].en if n in nets else n for n in out.index]
    return out
