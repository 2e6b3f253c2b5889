"""From a service gap to sited projects: one category's plan, and the project list (项目清单).

:func:`plan_facilities` finds candidate sites, measures walking distances from every
residential building to every site on the engine's network (bounded by the category's walking
limit), solves the chosen siting model exactly, and re-evaluates the indicators with the new
facilities added (:class:`~citycheck.plan.whatif.WhatIf`). :func:`project_list` does that
for every problem of a check's problem list that a new facility can fix, and ranks the projects.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from citycheck.access.indicators import NEEDS
from citycheck.categories import categories
from citycheck.io.planning_folder import PROJECTS_SCHEMA
from citycheck.labels import labels_under
from citycheck.plan.candidates import candidate_sites
from citycheck.plan.matrix import distance_table, nearest_existing, siting_network
from citycheck.plan.models import (
    PlanningError,
    Solution,
    maximal_covering,
    p_median,
    set_covering,
)

__all__ = [
    "MODELS",
    "Plan",
    "fixable_problems",
    "plan_facilities",
    "plan_projects",
    "project_list",
    "projects_document",
]

log = logging.getLogger(__name__)

#: Siting models with Chinese and English names.
MODELS: dict[str, tuple[str, str]] = labels_under("plan.model")
#: Categories a renewal project does not site (transit infrastructure is planned elsewhere).
NOT_SITED = frozenset({"rail_station", "bus_stop"})


@dataclass(frozen=True, eq=False)
class Plan:
    """A siting plan for one category.

    Attributes
    ----------
    category : str
    model : str
    solution : Solution
    sites : GeoDataFrame
        The proposed sites (a subset of ``candidates``) with ``residents_newly_served`` and
        ``buildings_newly_served`` (each newly served building counted at its nearest proposed
        site).
    candidates : GeoDataFrame
        Every candidate site considered.
    demand : DataFrame
        Residential buildings (index of ``city.buildings``): ``weight``, ``dist_before_m``,
        ``dist_after_m`` (nearest walking distance to the category before/after, +inf beyond the
        limit), ``served_before``, ``served_after``.
    limit_m : float
        The category's walking limit.
    weight : str
        What the demand weights are ("residents" or "floor_area_m2").
    residents_newly_served, buildings_newly_served : float, int
    cost : float
        Sum of the proposed sites' costs (NaN when sites have no cost).
    changes : DataFrame
        Indicator changes (:func:`~citycheck.plan.whatif.indicator_changes`).
    stats : dict
        Sizes and timings.
    """

    category: str
    model: str
    solution: Solution
    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    demand: pd.DataFrame
    limit_m: float
    weight: str
    residents_newly_served: float
    buildings_newly_served: int
    cost: float
    changes: pd.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)


def _limit(category: str) -> float:
    cats = categories()
    if category not in cats:
        raise PlanningError(
            f"--category={category!r}: unknown category; choose from "
            + ", ".join(c for c, v in cats.items() if v.walk_limit_m is not None)
        )
    lim = cats[category].walk_limit_m
    if lim is None:
        raise PlanningError(
            f"--category={category!r} ({cats[category].zh} / {cats[category].en}) has no walking "
            f"limit ({cats[category].source}); walking-distance siting does not apply"
        )
    return float(lim)


def plan_facilities(
    city: Any,
    category: str,
    *,
    new: int | None = 5,
    budget: float | None = None,
    model: str = "maximal_covering",
    candidates: gpd.GeoDataFrame | None = None,
    site_cost: float | None = None,
    capacity: float | None = None,
    access: Any = None,
    method: str = "milp",
    time_limit_s: float | None = 600.0,
    pmedian_bound_m: float | None = None,
) -> Plan:
    """Site new ``category`` facilities in a city.

    Parameters
    ----------
    city : citycheck.city.City
    category : str
        Facility category with a walking limit (categories.toml).
    new : int or None
        Number of new sites (maximal covering: at most; p-median: exactly; ignored by set
        covering).
    budget : float, optional
        Total budget (needs site costs).
    model : {"maximal_covering", "p_median", "set_covering"}
    candidates : GeoDataFrame, optional
        Candidate sites (default :func:`~citycheck.plan.candidates.candidate_sites`).
    site_cost : float, optional
        Cost of each site without its own ``cost``.
    capacity : float, optional
        Residents one new site can serve (capacitated covering / p-median); a site's own
        ``capacity`` column wins.
    access : AccessResult, optional
        ``analyse_city(city)`` if already computed (used for the indicator changes).
    method : {"milp", "greedy"}
    time_limit_s : float, optional
    pmedian_bound_m : float, optional
        Distance truncation of p-median (default twice the walking limit).

    Returns
    -------
    Plan

    Raises
    ------
    PlanningError
        Category without a walking limit, empty candidate set, budget below every site,
        infeasible set covering.
    """
    if model not in MODELS:
        raise PlanningError(f"--model={model!r}: choose from {', '.join(MODELS)}")
    limit = _limit(category)
    t0 = time.perf_counter()
    stats: dict[str, Any] = {}
    if candidates is None:
        candidates = candidate_sites(city, category, site_cost=site_cost)
    elif site_cost is not None:
        candidates = candidates.copy()
        candidates["cost"] = candidates["cost"].fillna(float(site_cost))
    if len(candidates) == 0:
        raise PlanningError(
            f"the candidate set for {category} is empty: no vacant land, parking, convertible "
            "building or street node in the study area passed the exclusions; supply sites "
            "with --sites"
        )
    facilities = city.facilities[city.facilities["category"] == category].reset_index(drop=True)
    sn = siting_network(
        city.streets,
        city.buildings,
        facilities,
        candidates,
        entrances=getattr(city, "entrances", None),
    )
    stats["network_s"] = time.perf_counter() - t0
    joined = sn.candidate_hub >= 0
    if not joined.any():
        raise PlanningError(
            f"the candidate set for {category} is empty after joining the network: none of "
            f"{len(candidates)} sites is within 100 m of a walkable way"
        )
    if (~joined).any():
        log.warning(
            "%d candidate sites are not near a walkable way and were dropped", (~joined).sum()
        )
    cand = candidates[joined].reset_index(drop=True)
    cand_hub = sn.candidate_hub[joined]

    b = city.buildings
    res_mask = b["residential"].fillna(False).astype(bool).to_numpy()
    hubs_all = sn.building_hub
    rows = np.flatnonzero(res_mask & (hubs_all >= 0))
    demand_hub = hubs_all[rows]
    residents = b["residents"].to_numpy(dtype=float)[rows] if "residents" in b else None
    if residents is not None and np.nansum(residents) > 0:
        weight, w = "residents", np.nan_to_num(residents)
    else:
        weight, w = "floor_area_m2", np.nan_to_num(b["floor_area_m2"].to_numpy(dtype=float)[rows])
    fac_hub = sn.facility_hub
    bound = limit if model != "p_median" else float(pmedian_bound_m or 2 * limit)
    if bound < limit:
        raise PlanningError(f"pmedian_bound_m={bound:g} is below the walking limit {limit:g} m")
    before = nearest_existing(sn.graph, demand_hub, fac_hub, cutoff_m=bound)
    served = before <= limit
    t1 = time.perf_counter()
    dist = distance_table(sn.graph, demand_hub, cand_hub, cutoff_m=bound)
    stats["distance_s"] = time.perf_counter() - t1
    stats["pairs"] = int(dist.nnz)
    cover_all = sp.csr_matrix(
        (np.ones(dist.nnz, dtype=bool), dist.indices, dist.indptr), shape=dist.shape
    )
    if model != "p_median":
        cover_all = sp.csr_matrix(
            ((dist.data <= limit), dist.indices, dist.indptr), shape=dist.shape
        )
        cover_all.eliminate_zeros()
    cost = cand["cost"].to_numpy(dtype=float) if "cost" in cand else None
    if cost is not None and np.isnan(cost).all():
        cost = None
    elif cost is not None and np.isnan(cost).any() and budget is not None:
        raise PlanningError(
            f"{int(np.isnan(cost).sum())} candidate sites have no cost; give --site-cost "
            "for them or a cost for every site"
        )
    solver_cost = cost if budget is not None else None
    cap = None
    if capacity is not None or ("capacity" in cand and cand["capacity"].notna().any()):
        col = (
            cand["capacity"].to_numpy(dtype=float)
            if "capacity" in cand
            else np.full(len(cand), np.nan)
        )
        cap = np.where(np.isnan(col), np.inf if capacity is None else float(capacity), col)
        cap = np.minimum(cap, w.sum() + 1.0)
    unserved = np.flatnonzero(~served)
    t2 = time.perf_counter()
    if model == "maximal_covering":
        sol = maximal_covering(
            cover_all[unserved],
            w[unserved],
            new,
            cost=solver_cost,
            budget=budget,
            capacity=cap,
            method=method,
            time_limit_s=time_limit_s,
        )
    elif model == "set_covering":
        ids = b["osm_id"].to_numpy()[rows][unserved] if "osm_id" in b else rows[unserved]
        sol = set_covering(
            cover_all[unserved],
            cost=cost if cost is not None and not np.isnan(cost).any() else None,
            budget=budget,
            demand_ids=ids,
            time_limit_s=time_limit_s,
        )
    else:
        if new is None:
            raise PlanningError("p-median needs the number of new sites (--new)")
        sol = p_median(
            dist,
            w,
            int(new),
            bound_m=bound,
            existing_m=before,
            capacity=cap,
            time_limit_s=time_limit_s,
        )
    stats["solve_s"] = time.perf_counter() - t2
    sel = sol.selected
    # after: nearest of existing and the proposed sites
    sub = dist[:, sel].tocsr() if sel.size else sp.csr_matrix((len(rows), 0))
    after = before.copy()
    nearest_site = np.full(len(rows), -1)
    if sel.size:
        dense = np.full(sub.shape, np.inf)
        coo = sub.tocoo()  # stored entries, explicit zeros included, are real distances
        dense[coo.row, coo.col] = coo.data
        best = dense.argmin(axis=1)
        best_d = dense[np.arange(len(rows)), best]
        nearest_site = np.where(np.isfinite(best_d), best, -1)
        after = np.minimum(before, best_d)
    served_after = after <= limit
    newly = served_after & ~served
    sites = cand.iloc[sel].copy()
    per_site_w: np.ndarray | list[float] = (
        np.bincount(nearest_site[newly], weights=w[newly], minlength=sel.size) if sel.size else []
    )
    per_site_n: np.ndarray | list[int] = (
        np.bincount(nearest_site[newly], minlength=sel.size) if sel.size else []
    )
    sites["residents_newly_served" if weight == "residents" else "floor_area_newly_served_m2"] = (
        per_site_w
    )
    sites["buildings_newly_served"] = per_site_n
    demand = pd.DataFrame(
        {
            "weight": w,
            "dist_before_m": before,
            "dist_after_m": after,
            "served_before": served,
            "served_after": served_after,
        },
        index=b.index[rows],
    )
    total_cost = float(np.nansum(cost[sel])) if cost is not None and sel.size else np.nan
    # indicators moved: the engine's indicators with the proposed facilities added
    changes = pd.DataFrame()
    try:
        from citycheck.access import analyse_city
        from citycheck.plan.whatif import WhatIf, indicator_changes

        base = access if access is not None else analyse_city(city)
        wi = WhatIf(city, base)
        for g in sites.geometry:
            wi.add(category, g)
        changes = indicator_changes(city, base, wi.result())
    except ValueError as exc:  # an access result from another city, a site off the network
        log.warning("indicator changes not computed: %s", exc)
    stats["total_s"] = time.perf_counter() - t0
    stats.update(
        {"n_candidates": len(cand), "n_demand": len(rows), "n_unserved": int(unserved.size)}
    )
    return Plan(
        category=category,
        model=model,
        solution=sol,
        sites=sites,
        candidates=cand,
        demand=demand,
        limit_m=limit,
        weight=weight,
        residents_newly_served=float(w[newly].sum()),
        buildings_newly_served=int(newly.sum()),
        cost=total_cost,
        changes=changes,
        stats=stats,
    )


def fixable_problems(
    problems: Sequence[dict[str, Any]] | pd.DataFrame,
    not_computed: dict[str, str] | None = None,
) -> list[tuple[dict[str, Any], str]]:
    """Problems of a problem list that new facilities of one category can fix.

    An indicator qualifies when it needs exactly one facility category that has a walking limit
    (``citycheck.access.indicators.NEEDS``), other than transit stops and stations. Indicators
    without a value because the area has *no* facility of their category (``not_computed``
    reasons of the form "no facility joined … (none in area)") are the largest gaps of all and
    are added after the problem list, with grade "no facility".

    Returns
    -------
    list of (problem record, category)
    """
    recs = problems.to_dict("records") if isinstance(problems, pd.DataFrame) else list(problems)
    if not_computed:
        from citycheck.evaluate.catalogue import catalogue

        listed = {str(p.get("indicator")) for p in recs}
        for ind, why in not_computed.items():
            need = NEEDS.get(ind, ())
            if ind not in listed and len(need) == 1 and f"{need[0]} (none in area)" in why:
                c = catalogue()[ind]
                recs.append(
                    {
                        "indicator": ind,
                        "zh": c.zh,
                        "en": c.en,
                        "value": None,
                        "grade": "no facility",
                        "threshold": None,
                    }
                )
    cats = categories()
    out = []
    for p in recs:
        need = NEEDS.get(str(p.get("indicator")), ())
        if (
            len(need) == 1
            and need[0] in cats
            and cats[need[0]].walk_limit_m is not None
            and need[0] not in NOT_SITED
        ):
            out.append((p, need[0]))
    return out


def _site_records(plan: Plan) -> list[dict[str, Any]]:
    s = plan.sites.to_crs("EPSG:4326") if len(plan.sites) else plan.sites
    served_col = (
        "residents_newly_served" if plan.weight == "residents" else "floor_area_newly_served_m2"
    )
    out = []
    for (_, r), g in zip(s.iterrows(), s.geometry, strict=True):
        out.append(
            {
                "site_id": r["site_id"],
                "kind": r["kind"],
                "kind_zh": r["kind_zh"],
                "kind_en": r["kind_en"],
                "name": r.get("name"),
                "osm_id": r.get("osm_id"),
                "lon": round(float(g.x), 7),
                "lat": round(float(g.y), 7),
                "cost": None if pd.isna(r.get("cost")) else float(r["cost"]),
                served_col: float(r[served_col]),
                "buildings_newly_served": int(r["buildings_newly_served"]),
            }
        )
    return out


def project_record(plan: Plan, problem: dict[str, Any] | None = None) -> dict[str, Any]:
    """One project of the list, JSON-ready (see docs/planning.md)."""
    cat = categories()[plan.category]
    moved = []
    for r in plan.changes.to_dict("records"):
        moved.append(
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
        )
    sol = plan.solution
    return {
        "problem": None
        if problem is None
        else {
            "indicator": problem.get("indicator"),
            "zh": problem.get("zh"),
            "en": problem.get("en"),
            "value": problem.get("value"),
            "grade": problem.get("grade"),
            "threshold": problem.get("threshold"),
        },
        "category": plan.category,
        "category_zh": cat.zh,
        "category_en": cat.en,
        "walk_limit_m": plan.limit_m,
        "limit_source": cat.source,
        "model": plan.model,
        "model_zh": MODELS[plan.model][0],
        "model_en": MODELS[plan.model][1],
        "solver": {
            "method": sol.method,
            "status": sol.status,
            "objective": sol.objective,
            "bound": None if not np.isfinite(sol.bound) else sol.bound,
            "gap": None if not np.isfinite(sol.gap) else sol.gap,
        },
        "n_sites": len(plan.sites),
        "sites": _site_records(plan),
        "weight": plan.weight,
        "residents_newly_served": plan.residents_newly_served
        if plan.weight == "residents"
        else None,
        "floor_area_newly_served_m2": plan.residents_newly_served
        if plan.weight != "residents"
        else None,
        "buildings_newly_served": plan.buildings_newly_served,
        "demand_unserved_before": float(
            plan.demand.loc[~plan.demand["served_before"], "weight"].sum()
        ),
        "cost": None if not np.isfinite(plan.cost) else plan.cost,
        "indicators_moved": moved,
        "n_candidates": len(plan.candidates),
    }


def project_list(
    city: Any,
    problems: Sequence[dict[str, Any]] | pd.DataFrame,
    *,
    new: int | None = 5,
    budget: float | None = None,
    model: str = "maximal_covering",
    site_cost: float | None = None,
    user_sites: gpd.GeoDataFrame | None = None,
    access: Any = None,
    not_computed: dict[str, str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, list[Plan]]:
    """The project list (项目清单): one project per fixable problem, ranked.

    Ranking: residents (or floor area) newly served per unit of cost when every project has a
    cost, else residents newly served; ties by the problem's order in the list.

    Returns
    -------
    projects : DataFrame
        One row per project (columns of :func:`project_record`) with ``rank``.
    plans : list of Plan
    """
    step = on_step or (lambda _m: None)
    from citycheck.access import analyse_city

    base = access if access is not None else analyse_city(city)
    recs, plans = [], []
    for problem, cat in fixable_problems(problems, not_computed):
        step(f"siting {cat} for {problem.get('indicator')}")
        cands = candidate_sites(city, cat, user_sites=user_sites, site_cost=site_cost)
        try:
            plan = plan_facilities(
                city, cat, new=new, budget=budget, model=model, candidates=cands, access=base
            )
        except PlanningError as exc:
            log.warning("%s (%s): %s", problem.get("indicator"), cat, exc)
            recs.append({**project_record_empty(cat, problem), "note": str(exc)})
            continue
        plans.append(plan)
        recs.append(project_record(plan, problem))
    df = pd.DataFrame(recs)
    if len(df):
        served = df["residents_newly_served"].fillna(df.get("floor_area_newly_served_m2")).fillna(0)
        if "cost" in df and df["cost"].notna().all() and (df["cost"] > 0).all():
            key = served / df["cost"]
        else:
            key = served
        order = np.lexsort((np.arange(len(df)), -key.to_numpy(dtype=float)))
        df = df.iloc[order].reset_index(drop=True)
        df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df, plans


def project_record_empty(category: str, problem: dict[str, Any]) -> dict[str, Any]:
    """A project that could not be planned (its ``note`` says why)."""
    cat = categories()[category]
    return {
        "problem": {k: problem.get(k) for k in ("indicator", "zh", "en", "value", "grade")},
        "category": category,
        "category_zh": cat.zh,
        "category_en": cat.en,
        "n_sites": 0,
        "sites": [],
        "residents_newly_served": 0.0,
        "buildings_newly_served": 0,
        "cost": None,
        "indicators_moved": [],
    }


def projects_document(
    projects: pd.DataFrame, *, run: str, parameters: dict[str, Any]
) -> dict[str, Any]:
    """The ``projects.json`` document (see docs/planning.md)."""
    from citycheck import __version__

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            return None
        return v

    return clean(
        {
            "schema": PROJECTS_SCHEMA,
            "schema_version": "1.0",
            "software": {"name": "citycheck", "version": __version__},
            "run": run,
            "parameters": parameters,
            "projects": projects.to_dict("records"),
        }
    )


def plan_projects(
    city: Any,
    doc: dict[str, Any],
    *,
    category: str | None = None,
    new: int | None = 5,
    budget: float | None = None,
    model: str = "maximal_covering",
    site_cost: float | None = None,
    capacity: float | None = None,
    user_sites: gpd.GeoDataFrame | None = None,
    access: Any = None,
    method: str = "milp",
    on_step: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, list[Plan]]:
    """The projects of ``citycheck plan`` for a check's results document ``doc``.

    With ``category``: one project siting that category, filed under the first problem whose
    indicator the plan moves (rank 1). Without: :func:`project_list` over every fixable problem
    (``capacity`` and ``method`` apply to the single-category plan only, as before).
    """
    if category is None:
        return project_list(
            city,
            doc.get("problems", []),
            new=new,
            budget=budget,
            model=model,
            site_cost=site_cost,
            user_sites=user_sites,
            access=access,
            not_computed=doc.get("not_computed"),
            on_step=on_step,
        )
    cands = candidate_sites(city, category, user_sites=user_sites, site_cost=site_cost)
    plan = plan_facilities(
        city,
        category,
        new=new,
        budget=budget,
        model=model,
        candidates=cands,
        capacity=capacity,
        access=access,
        method=method,
    )
    problem = next(
        (
            p
            for p in doc.get("problems", [])
            if plan.changes is not None
            and len(plan.changes)
            and p.get("indicator") in set(plan.changes["indicator"])
        ),
        None,
    )
    projects = pd.DataFrame([project_record(plan, problem)])
    projects.insert(0, "rank", [1])
    return projects, [plan]
