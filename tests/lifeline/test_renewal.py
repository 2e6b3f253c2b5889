"""Renewal priorities: benefit, street projects, exact selection within a budget."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from citycheck.lifeline.register import register_from_inp, with_attributes
from citycheck.lifeline.renewal import plan_renewal, renewal_benefit, select_projects
from citycheck.lifeline.risk import risk_table, topological_consequence


def test_select_projects_equals_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = 9
        b = rng.uniform(0, 10, n)
        c = rng.uniform(1, 5, n)
        budget = float(rng.uniform(3, 15))
        best = max(
            (
                sum(b[i] for i in range(n) if mask[i])
                for mask in itertools.product([0, 1], repeat=n)
                if sum(c[i] for i in range(n) if mask[i]) <= budget
            ),
        )
        sel = select_projects(b, c, budget)
        assert c[sel].sum() <= budget + 1e-9
        assert b[sel].sum() == pytest.approx(best, rel=1e-9)


def test_projects_follow_streets(small_inp):
    reg = register_from_inp(small_inp)
    attrs = pd.DataFrame(
        {
            "pipe_id": ["P1", "P2", "P3", "P4", "P5", "P6"],
            "material": ["CI", "CI", "DI", "DI", "DI", "CI"],
            "install_year": [1960, 1962, 1995, 1995, 1995, 1970],
            # P1-P2 run along Main St; P3 and P5 share a name but are joined through J2
            "street": ["Main St", "Main St", "Ring Rd", None, "Ring Rd", "Side Ln"],
        }
    )
    reg = with_attributes(reg, attrs)
    cons = topological_consequence(reg)
    risk = risk_table(reg, year=2026, consequence=cons)
    ben = renewal_benefit(risk, year=2026, new_material="DI")
    # loop pipes cut nobody off: no benefit in this topological view
    assert (ben.set_index("pipe_id").loc[["P3", "P4", "P5"], "benefit_residents_yr"] == 0).all()
    plan = plan_renewal(ben, budget_cny=1e12, project_fixed_cost_cny=1e5)
    by_street = plan.set_index("street")
    assert by_street.at["Main St", "pipes"] == "P1;P2"
    assert by_street.at["Side Ln", "pipes"] == "P6"
    assert plan["selected"].all()  # budget unlimited
    main = ben.set_index("pipe_id").loc[["P1", "P2"]]
    assert by_street.at["Main St", "cost_cny"] == pytest.approx(main["cost_cny"].sum() + 1e5)
    # a budget that affords only the Side Ln project
    side_cost = by_street.at["Side Ln", "cost_cny"]
    small = plan_renewal(ben, budget_cny=side_cost * 1.01, project_fixed_cost_cny=1e5)
    assert list(small.loc[small["selected"], "street"]) in (["Side Ln"], ["Main St"])
    assert small.loc[small["selected"], "cost_cny"].sum() <= side_cost * 1.01
    assert {"name_zh", "name_en"} <= set(plan.columns)
