"""Failure risk: break model, calibration, consequence, old-pipeline indicators."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from citycheck.lifeline.reference import BreakModel, break_parameters, materials
from citycheck.lifeline.register import register_from_inp, with_attributes
from citycheck.lifeline.risk import (
    break_rate,
    calibrate_break_model,
    due_for_renewal,
    failure_probability,
    old_pipeline_indicators,
    residents_from_demand,
    risk_table,
    topological_consequence,
)


def test_break_rate_by_hand():
    pipes = pd.DataFrame(
        {
            "pipe_id": ["a", "b"],
            "material": ["CI", "PE"],
            "install_year": pd.array([1970, pd.NA], dtype="Int64"),
            "diameter_mm": [300.0, 150.0],
            "length_m": [2000.0, 1000.0],
        }
    )
    params = pd.DataFrame(
        {"n0_per_km_yr": [0.02, 0.01], "growth_per_yr": [0.05, 0.03]}, index=["CI", "PE"]
    )
    model = BreakModel(reference_diameter_mm=150, diameter_exponent=-0.5, history_exponent=0.5)
    breaks = pd.DataFrame({"pipe_id": ["a", "a", "a"], "year": [2001, 2010, 2026]})
    got = failure_probability(pipes, year=2026, parameters=params, model=model, breaks=breaks)
    rate_a = 0.02 * math.exp(0.05 * 56) * 2**-0.5 * 3**0.5  # two breaks before 2026
    assert got.at[0, "break_rate_per_km_yr"] == pytest.approx(rate_a, rel=1e-12)
    assert got.at[0, "p_failure_yr"] == pytest.approx(1 - math.exp(-2 * rate_a), rel=1e-12)
    assert np.isnan(got.at[1, "p_failure_yr"])  # unknown age
    assumed = break_rate(pipes, year=2026, parameters=params, model=model, unknown_age_years=40)
    assert assumed[1] == pytest.approx(0.01 * math.exp(0.03 * 40))
    with pytest.raises(ValueError, match="XX"):
        break_rate(pipes.assign(material=["XX", "PE"]), year=2026, parameters=params)


def test_every_material_has_defaults_and_names():
    params = break_parameters()
    for code, m in materials().items():
        assert m.zh and m.en
        assert params.at[code, "n0_per_km_yr"] > 0 and 0 < params.at[code, "growth_per_yr"] < 0.2


def test_calibration_two_age_groups_closed_form():
    # one material, one observed year, no covariates: the MLE reproduces each group's rate, so
    # growth = ln(r2/r1)/(a2-a1) and n0 = r1*exp(-growth*a1) (hand computation)
    pipes = pd.DataFrame(
        {
            "pipe_id": [f"p{i}" for i in range(20)],
            "material": "CI",
            "install_year": pd.array([2010] * 10 + [1980] * 10, dtype="Int64"),
            "length_m": 500.0,
            "diameter_mm": 150.0,
        }
    )
    # group 1 (age 10): 5 km, 3 breaks; group 2 (age 40): 5 km, 12 breaks
    breaks = pd.DataFrame(
        {"pipe_id": ["p0", "p1", "p2"] + [f"p{10 + i % 10}" for i in range(12)], "year": 2020}
    )
    cal = calibrate_break_model(
        pipes, breaks, start_year=2020, end_year=2020, fit_diameter=False, fit_history=False
    )
    growth = math.log((12 / 5) / (3 / 5)) / 30
    assert cal.parameters.at["CI", "growth_per_yr"] == pytest.approx(growth, rel=1e-5)
    assert cal.parameters.at["CI", "n0_per_km_yr"] == pytest.approx(
        0.6 * math.exp(-growth * 10), rel=1e-5
    )
    assert cal.parameters.at["CI", "breaks"] == 15
    assert cal.parameters.at["CI", "exposure_km_yr"] == pytest.approx(10.0)


def _simulated_records(ky4, seed=7):
    """ky4's real pipes with drawn materials/ages and breaks drawn from known parameters."""
    reg = register_from_inp(ky4)
    rng = np.random.default_rng(seed)
    n = len(reg.pipes)
    attrs = pd.DataFrame(
        {
            "pipe_id": reg.pipes["pipe_id"],
            "material": rng.choice(["CI", "DI", "PVC"], size=n),
            "install_year": rng.integers(1940, 2004, size=n),  # all in service in 2005-2024
        }
    )
    pipes = with_attributes(reg, attrs).pipes
    true = pd.DataFrame(
        {"n0_per_km_yr": [0.05, 0.02, 0.04], "growth_per_yr": [0.04, 0.02, 0.03]},
        index=["CI", "DI", "PVC"],
    )
    model = BreakModel(150.0, -0.6, 0.4)
    rows = []
    for y in range(2005, 2025):
        b = pd.DataFrame(rows, columns=["pipe_id", "year"])
        lam = break_rate(pipes, year=y, parameters=true, model=model, breaks=b)
        lam = lam * pipes["length_m"] / 1000.0
        k = rng.poisson(lam.to_numpy())
        for pid, c in zip(pipes["pipe_id"], k, strict=True):
            rows += [(pid, y)] * int(c)
    return pipes, pd.DataFrame(rows, columns=["pipe_id", "year"]), true, model


def test_calibration_matches_sklearn_poisson_regression(ky4):
    from sklearn import linear_model as sklearn_glm

    pipes, breaks, true, model = _simulated_records(ky4)
    cal = calibrate_break_model(pipes, breaks, start_year=2005, end_year=2024)
    # independent design matrix built here, fitted by scikit-learn's Poisson GLM (rate target,
    # exposure weights = the same likelihood with log exposure as offset)
    rows = []
    counts = breaks.groupby(["pipe_id", "year"]).size()
    for p in pipes.itertuples():
        prev = 0
        for y in range(2005, 2025):
            k = int(counts.get((p.pipe_id, y), 0))
            rows.append((p.material, y - p.install_year, p.length_m / 1000, p.diameter_mm, prev, k))
            prev += k
    t = pd.DataFrame(rows, columns=["m", "age", "km", "d", "prev", "k"])
    mats = ["CI", "DI", "PVC"]
    X = np.column_stack(
        [(t["m"] == m).astype(float) for m in mats]
        + [(t["m"] == m) * t["age"] for m in mats]
        + [np.log(t["d"] / 150.0), np.log1p(t["prev"])]
    )
    glm = sklearn_glm.PoissonRegressor(
        alpha=0.0, fit_intercept=False, max_iter=1000, tol=1e-12, solver="newton-cholesky"
    )
    glm.fit(X, t["k"] / t["km"], sample_weight=t["km"])
    c = glm.coef_
    np.testing.assert_allclose(np.log(cal.parameters.loc[mats, "n0_per_km_yr"]), c[:3], atol=1e-6)
    np.testing.assert_allclose(cal.parameters.loc[mats, "growth_per_yr"], c[3:6], atol=1e-7)
    assert cal.model.diameter_exponent == pytest.approx(c[6], abs=1e-6)
    assert cal.model.history_exponent == pytest.approx(c[7], abs=1e-6)
    # and the truth is recovered within sampling error
    np.testing.assert_allclose(
        cal.parameters.loc[mats, "growth_per_yr"], true["growth_per_yr"], atol=0.01
    )
    assert abs(cal.model.diameter_exponent - model.diameter_exponent) < 0.15
    assert abs(cal.model.history_exponent - model.history_exponent) < 0.15


def test_calibration_rejects_unknown_pipe():
    pipes = pd.DataFrame(
        {
            "pipe_id": ["a"],
            "material": ["CI"],
            "install_year": pd.array([1990], dtype="Int64"),
            "length_m": [100.0],
            "diameter_mm": [100.0],
        }
    )
    with pytest.raises(ValueError, match="'zz'"):
        calibrate_break_model(
            pipes,
            pd.DataFrame({"pipe_id": ["zz"], "year": [2020]}),
            start_year=2020,
            end_year=2020,
        )


def test_topological_consequence_by_hand(small_inp):
    reg = register_from_inp(small_inp)
    residents = residents_from_demand(reg.points, litres_per_resident_day=200.0)
    # 1 L/s = 86 400 L/day -> 432 residents at 200 L/day
    assert residents["J1"] == pytest.approx(432.0)
    fac = pd.DataFrame({"node": ["J5", "J3"], "category": ["hospital", "school"]})
    cons = topological_consequence(reg, residents=residents, facilities=fac)
    per = 432.0
    assert cons.at["P1", "residents_affected"] == pytest.approx(per * 15)
    assert cons.at["P2", "residents_affected"] == pytest.approx(per * 14)
    assert cons.at["P6", "residents_affected"] == pytest.approx(per * 5)
    assert cons.at["P6", "facility_categories"] == "hospital:1"
    assert cons.at["P2", "facilities_affected"] == 2
    for loop_pipe in ("P3", "P4", "P5"):
        assert cons.at[loop_pipe, "residents_affected"] == 0
    table = risk_table(reg, year=2026, consequence=cons, unknown_age_years=30)
    assert table["risk_residents_yr"].is_monotonic_decreasing
    assert table.iloc[0]["pipe_id"] in {"P1", "P2", "P6"}


def test_due_and_indicators_by_hand():
    pipes = pd.DataFrame(
        {
            "pipe_id": list("abcdef"),
            "network": ["water", "water", "water", "gas", "gas", "drainage"],
            "material": ["DI", "CI", "DI", "PE", "ST", "RC"],
            "install_year": pd.array([1990, 2015, 2000, 2010, 2000, 1980], dtype="Int64"),
            "length_m": [1000.0, 500.0, 2000.0, 300.0, 700.0, 1500.0],
        }
    )
    due = due_for_renewal(pipes, year=2026)
    # water: 36 y >= 30 due; grey cast iron always; 26 y not. gas: 16 y no; 26 y >= 20 yes.
    # drainage: 46 y < 50 no.
    assert list(due) == [True, True, False, False, True, False]
    ind = old_pipeline_indicators(
        pipes, year=2026, renewed=pd.DataFrame({"network": ["water"], "length_m": [500.0]})
    )
    assert ind.at["water", "share_past_design_life"] == pytest.approx(1.5 / 3.5)
    assert ind.at["water", "renovation_rate"] == pytest.approx(0.5 / (1.5 + 0.5))
    assert ind.at["gas", "share_past_design_life"] == pytest.approx(0.7 / 1.0)
    assert np.isnan(ind.at["gas", "renovation_rate"]) or ind.at["gas", "renovation_rate"] == 0
    assert ind.at["drainage", "due_km"] == 0
    assert ind.at["water", "zh"] == "供水"
