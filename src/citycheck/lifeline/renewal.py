"""Renewal priorities: risk reduction per cost, grouped into projects along streets, in a budget.

1. Each pipe's **benefit** is the yearly risk it removes when renewed: its current risk minus the
   risk of a new pipe of the chosen material in the same place (same consequence).
2. Pipes worth renewing are joined into **projects**: connected runs of pipes on the same street
   (one trench, one traffic arrangement); pipes without a street name form runs of their own.
3. Projects are **selected** to maximise total benefit within the budget, a 0/1 knapsack solved
   exactly by mixed-integer programming (``scipy.optimize.milp``, HiGHS), with a fixed cost per
   project for mobilisation and traffic management.

Unit costs are the city's (e.g. its municipal works estimate indices, 市政工程投资估算指标); the
default is a placeholder that only orders pipes by size.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np
import pandas as pd
from scipy import optimize

from citycheck.lifeline.risk import failure_probability

__all__ = ["default_unit_cost", "plan_renewal", "renewal_benefit", "select_projects"]


def default_unit_cost(diameter_mm: np.ndarray) -> np.ndarray:
    """Placeholder renewal cost in CNY per metre: 1000 + 6 x diameter (mm). Replace it."""
    return 1000.0 + 6.0 * np.asarray(diameter_mm, dtype=float)


def renewal_benefit(
    risk: pd.DataFrame,
    *,
    year: int,
    new_material: str | dict[str, str] = "DI",
    parameters: pd.DataFrame | None = None,
    model=None,
    unit_cost: Callable[[np.ndarray], np.ndarray] = default_unit_cost,
) -> pd.DataFrame:
    """Benefit and cost of renewing each pipe.

    Parameters
    ----------
    risk : DataFrame
        From :func:`citycheck.lifeline.risk.risk_table` (``pipe_id``, ``network``,
        ``material``, ``diameter_mm``, ``length_m``, ``p_failure_yr``,
        ``consequence_residents``, ``risk_residents_yr``; ``street``, ``from_node``,
        ``to_node`` when known).
    year : int
        Year of renewal (the new pipe's install year).
    new_material : str or dict
        Material of new pipes, or a map network -> material (e.g. ``{"gas": "PE"}``).

    Returns
    -------
    DataFrame
        ``risk`` plus ``p_failure_new``, ``benefit_residents_yr``, ``cost_cny``,
        ``benefit_per_million_cny``.
    """
    new = risk.copy()
    mat = (
        new["network"].map(new_material).fillna("DI")
        if isinstance(new_material, dict)
        else pd.Series(new_material, index=new.index)
    )
    renewed = pd.DataFrame(
        {
            "pipe_id": new["pipe_id"],
            "material": mat,
            "install_year": pd.array([year] * len(new), dtype="Int64"),
            "diameter_mm": new["diameter_mm"].astype(float),
            "length_m": new["length_m"].astype(float),
        },
        index=new.index,
    )
    p_new = failure_probability(renewed, year=year, parameters=parameters, model=model)[
        "p_failure_yr"
    ]
    new["p_failure_new"] = p_new
    p_old = new["p_failure_yr"].fillna(0.0)
    new["benefit_residents_yr"] = (p_old - p_new).clip(lower=0) * new["consequence_residents"]
    new["cost_cny"] = unit_cost(new["diameter_mm"].to_numpy()) * new["length_m"].to_numpy()
    new["benefit_per_million_cny"] = new["benefit_residents_yr"] / (new["cost_cny"] / 1e6)
    return new


def _projects(pipes: pd.DataFrame) -> list[list[int]]:
    """Connected runs of pipes on the same street (row positions)."""
    groups: list[list[int]] = []
    has_nodes = {"from_node", "to_node"} <= set(pipes.columns)
    street = pipes["street"] if "street" in pipes else pd.Series(None, index=pipes.index)
    for name, g in pipes.assign(_street=street.fillna("")).groupby("_street", sort=True):
        pos = [pipes.index.get_loc(i) for i in g.index]
        if name == "":
            groups.extend([p] for p in pos)  # no street: each pipe on its own
            continue
        if not has_nodes:
            groups.append(pos)  # a street without topology: one project
            continue
        G = nx.Graph()
        for p, (u, v) in zip(pos, zip(g["from_node"], g["to_node"], strict=True), strict=True):
            G.add_edge(("pipe", p), ("node", u))
            G.add_edge(("pipe", p), ("node", v))
        for comp in nx.connected_components(G):
            groups.append(sorted(k[1] for k in comp if k[0] == "pipe"))
    return groups


def select_projects(benefit: np.ndarray, cost: np.ndarray, budget: float) -> np.ndarray:
    """Choose projects maximising total benefit with total cost within ``budget`` (exact MILP).

    Returns
    -------
    ndarray of bool
    """
    n = len(benefit)
    if n == 0:
        return np.zeros(0, dtype=bool)
    res = optimize.milp(
        c=-np.asarray(benefit, dtype=float),
        constraints=optimize.LinearConstraint(
            np.asarray(cost, dtype=float)[None, :], -np.inf, budget
        ),
        integrality=np.ones(n),
        bounds=optimize.Bounds(0, 1),
    )
    if res.x is None:
        raise RuntimeError(f"project selection failed: {res.message}")
    return res.x > 0.5


def plan_renewal(
    benefits: pd.DataFrame,
    *,
    budget_cny: float,
    project_fixed_cost_cny: float = 200_000.0,
    min_benefit_per_million_cny: float = 0.0,
) -> pd.DataFrame:
    """Group worthwhile pipes into street projects and pick the best set within the budget.

    Parameters
    ----------
    benefits : DataFrame
        From :func:`renewal_benefit`.
    budget_cny : float
    project_fixed_cost_cny : float
        Mobilisation and traffic management per project (a city's figure).
    min_benefit_per_million_cny : float
        Pipes below this ratio are not candidates.

    Returns
    -------
    DataFrame
        One row per project, best ratio first: ``project_id``, ``street``, ``pipes`` (ids joined
        by ``;``), ``n_pipes``, ``length_m``, ``cost_cny``, ``benefit_residents_yr``,
        ``benefit_per_million_cny``, ``selected``, ``cumulative_cost_cny`` (of selected ones),
        ``name_zh``, ``name_en``.
    """
    cand = benefits[
        (benefits["benefit_residents_yr"] > 0)
        & (benefits["benefit_per_million_cny"] >= min_benefit_per_million_cny)
    ].reset_index(drop=True)
    rows = []
    for k, pos in enumerate(_projects(cand)):
        g = cand.iloc[pos]
        street = g["street"].iloc[0] if "street" in g and pd.notna(g["street"].iloc[0]) else None
        cost = float(g["cost_cny"].sum()) + project_fixed_cost_cny
        ben = float(g["benefit_residents_yr"].sum())
        label = street or f"pipe {g['pipe_id'].iloc[0]}"
        rows.append(
            {
                "project_id": f"R{k + 1:04d}",
                "street": street,
                "pipes": ";".join(map(str, g["pipe_id"])),
                "n_pipes": len(g),
                "length_m": float(g["length_m"].sum()),
                "cost_cny": cost,
                "benefit_residents_yr": ben,
                "benefit_per_million_cny": ben / (cost / 1e6),
                "name_zh": f"{label} 管网更新改造",
                "name_en": f"Pipe renewal: {label}",
            }
        )
    cols = [
        "project_id",
        "street",
        "pipes",
        "n_pipes",
        "length_m",
        "cost_cny",
        "benefit_residents_yr",
        "benefit_per_million_cny",
        "selected",
        "cumulative_cost_cny",
        "name_zh",
        "name_en",
    ]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    out["selected"] = select_projects(
        out["benefit_residents_yr"].to_numpy(), out["cost_cny"].to_numpy(), budget_cny
    )
    out = out.sort_values(
        ["selected", "benefit_per_million_cny"], ascending=[False, False], kind="stable"
    ).reset_index(drop=True)
    out["cumulative_cost_cny"] = (out["cost_cny"] * out["selected"]).cumsum().where(out["selected"])
    return out[cols]
