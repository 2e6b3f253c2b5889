"""``citycheck plan`` and ``citycheck whatif``: thin shells over the planning library."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from citycheck.console import make_console
from citycheck.io.errors import InputError, InputProblems

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plan_command", "whatif_command"]

log = logging.getLogger(__name__)
console = make_console()
err_console = make_console(stderr=True)


def _fail(exc: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


def _step(quiet: bool):  # type: ignore[no-untyped-def]
    return (lambda _m: None) if quiet else (lambda m: err_console.print(f"[dim]· {m}[/]"))


def _flat(projects: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for r in projects.to_dict("records"):
        prob = r.get("problem") or {}
        district = [m for m in r.get("indicators_moved", []) if m.get("level") == "district"]
        rows.append(
            {
                "rank": r.get("rank"),
                "indicator": prob.get("indicator"),
                "problem_zh": prob.get("zh"),
                "problem_en": prob.get("en"),
                "category": r["category"],
                "category_zh": r["category_zh"],
                "category_en": r["category_en"],
                "n_sites": r["n_sites"],
                "site_ids": ";".join(s["site_id"] for s in r.get("sites", [])),
                "residents_newly_served": r.get("residents_newly_served"),
                "buildings_newly_served": r.get("buildings_newly_served"),
                "cost": r.get("cost"),
                "gap": (r.get("solver") or {}).get("gap"),
                "district_changes": "; ".join(
                    f"{m['indicator']} {m['before'] if m['before'] is not None else 'no data'}"
                    f" → {m['after']:.1f}"
                    for m in district
                    if m.get("after") is not None
                ),
                "note": r.get("note", ""),
            }
        )
    return pd.DataFrame(rows)


def plan_command(
    run_dir: Annotated[Path, typer.Argument(help="run folder of `citycheck evaluate`")],
    category: Annotated[
        str | None,
        typer.Option(help="facility category to site (default: every fixable problem)"),
    ] = None,
    new: Annotated[int, typer.Option("--new", help="number of new sites")] = 5,
    budget: Annotated[float | None, typer.Option(help="total budget (needs site costs)")] = None,
    model: Annotated[
        str, typer.Option(help="maximal_covering, p_median or set_covering")
    ] = "maximal_covering",
    sites: Annotated[
        Path | None, typer.Option(help="your own candidate sites (vector file; cost, capacity)")
    ] = None,
    site_cost: Annotated[
        float | None, typer.Option(help="cost of every site without its own cost")
    ] = None,
    capacity: Annotated[float | None, typer.Option(help="residents one new site can serve")] = None,
    greedy: Annotated[
        bool, typer.Option(help="greedy heuristic instead of the exact MILP")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")] = False,
) -> None:
    """Site new facilities for the problems of a check; write planning/projects.json (项目清单)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from citycheck.access import analyse_city
    from citycheck.plan.candidates import candidate_sites, read_site_layer
    from citycheck.plan.models import PlanningError
    from citycheck.plan.outputs import write_json, write_layers, write_map
    from citycheck.plan.plan import (
        plan_facilities,
        project_list,
        project_record,
        projects_document,
    )
    from citycheck.plan.runinputs import city_from_run

    step = _step(quiet)
    try:
        step("rebuilding the city from the run's inputs")
        city, doc = city_from_run(run_dir)
        user = read_site_layer(str(sites), city.crs) if sites is not None else None
        step("walking access before")
        access = analyse_city(city)
        if category is not None:
            cands = candidate_sites(city, category, user_sites=user, site_cost=site_cost)
            plan = plan_facilities(
                city,
                category,
                new=new,
                budget=budget,
                model=model,
                candidates=cands,
                capacity=capacity,
                access=access,
                method="greedy" if greedy else "milp",
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
            plans = [plan]
        else:
            projects, plans = project_list(
                city,
                doc.get("problems", []),
                new=new,
                budget=budget,
                model=model,
                site_cost=site_cost,
                user_sites=user,
                access=access,
                not_computed=doc.get("not_computed"),
                on_step=step,
            )
    except (InputError, InputProblems, PlanningError) as exc:
        _fail(exc)
        return
    run = Path(run_dir)
    params = {
        "category": category,
        "new": new,
        "budget": budget,
        "model": model,
        "sites": None if sites is None else str(sites),
        "site_cost": site_cost,
        "capacity": capacity,
        "method": "greedy" if greedy else "exact",  # the solver actually used: projects[*].solver
    }
    out = run / "planning"
    out.mkdir(exist_ok=True)
    write_json(out / "projects.json", projects_document(projects, run=str(run), parameters=params))
    csv_tmp = out / "projects.csv.tmp"
    _flat(projects).to_csv(csv_tmp, index=False)
    csv_tmp.replace(out / "projects.csv")
    layers: dict[str, gpd.GeoDataFrame] = {}
    for p in plans:
        s = p.sites.assign(category=p.category)
        c = p.candidates.assign(category=p.category)
        layers["proposed_sites"] = pd.concat([layers.get("proposed_sites", s.iloc[:0]), s])
        layers["candidate_sites"] = pd.concat([layers.get("candidate_sites", c.iloc[:0]), c])
        status = np.where(
            p.demand["served_before"],
            "served before",
            np.where(p.demand["served_after"], "newly served", "not served"),
        )
        write_map(
            out / f"plan_{p.category}.png",
            city,
            buildings=pd.Series(status, index=p.demand.index),
            points={"proposed sites": p.sites},
            title=f"{p.category}: {len(p.sites)} new sites, {p.buildings_newly_served} buildings "
            f"newly within {p.limit_m:g} m",
        )
    write_layers(out / "sites.gpkg", layers)
    table = Table(title="项目清单 / project list")
    for col in ("rank", "indicator", "category", "sites", "newly served", "cost", "gap"):
        table.add_column(col)
    for r in projects.to_dict("records"):
        served = r.get("residents_newly_served")
        table.add_row(
            str(r.get("rank")),
            str((r.get("problem") or {}).get("indicator", "")),
            f"{r['category']} {r['category_zh']}",
            str(r["n_sites"]),
            "" if served is None else f"{served:,.0f}",
            "" if r.get("cost") is None else f"{r['cost']:,.0f}",
            ""
            if not r.get("solver") or r["solver"]["gap"] is None
            else f"{r['solver']['gap']:.2%}",
        )
    console.print(table)
    console.print(f"[bold]wrote[/] {out / 'projects.json'}, {out / 'projects.csv'}, {out}/")


def whatif_command(
    run_dir: Annotated[Path, typer.Argument(help="run folder of `citycheck evaluate`")],
    scenario_file: Annotated[Path, typer.Argument(help="scenario JSON (docs/planning.md)")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")] = False,
) -> None:
    """Re-evaluate a check under a scenario: add/move/remove facilities, open paths."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from citycheck.access import analyse_city, dist_column
    from citycheck.plan.outputs import write_json, write_layers, write_map
    from citycheck.plan.runinputs import city_from_run
    from citycheck.plan.whatif import WhatIf, indicator_changes, read_scenario

    step = _step(quiet)
    try:
        step("rebuilding the city from the run's inputs")
        city, _doc = city_from_run(run_dir)
        actions = read_scenario(scenario_file, city.crs)
        step("walking access before")
        before = analyse_city(city)
        wi = WhatIf(city, before)
        step(f"applying {len(actions)} change(s)")
        wi.apply(actions)
        after = wi.result()
        changes = indicator_changes(city, before, after)
    except (InputError, InputProblems, ValueError) as exc:
        _fail(exc)
        return
    out = Path(run_dir) / "whatif" / scenario_file.stem
    out.mkdir(parents=True, exist_ok=True)
    rec = changes.astype(object).where(changes.notna(), None).to_dict("records")
    write_json(
        out / "whatif.json",
        {
            "schema": "citycheck.whatif",
            "schema_version": "1.0",
            "scenario": str(scenario_file),
            "actions": wi.log,
            "changes": rec,
        },
    )
    changes.to_csv(out / "changes.csv", index=False)
    # map: buildings whose access changed, and the actions
    rows = sorted(wi.changed_rows)
    idx = before.buildings.index[rows]
    geoms, labels = [], []
    for a in actions:
        if a.op == "connect":
            geoms.append(shapely.LineString([a.point, a.to]))
        elif a.point is not None:
            geoms.append(shapely.Point(a.point))
        else:
            continue
        labels.append(f"{a.op} {a.category or a.facility_id or ''} {a.name}".strip())
    acts = gpd.GeoDataFrame({"action": labels}, geometry=geoms, crs=city.crs)
    cats = {c for c in before.categories.index if dist_column(c) in after.buildings}
    bl = (
        city.buildings.loc[idx, ["osm_id", "geometry"]].copy()
        if len(idx)
        else city.buildings.iloc[:0][["osm_id", "geometry"]]
    )
    for c in sorted(cats):
        d0 = (
            before.buildings.loc[idx, dist_column(c)]
            if dist_column(c) in before.buildings
            else np.nan
        )
        d1 = after.buildings.loc[idx, dist_column(c)]
        if not np.array_equal(
            np.asarray(d0, dtype=float), np.asarray(d1, dtype=float), equal_nan=True
        ):
            bl[f"{c}_before_m"] = d0
            bl[f"{c}_after_m"] = d1
    write_layers(out / "whatif.gpkg", {"actions": acts, "buildings_changed": bl})
    write_map(
        out / "whatif.png",
        city,
        buildings=pd.Series("gains", index=idx),
        points={"changes": acts[acts.geom_type == "Point"]},
        title=f"what-if {scenario_file.stem}: {len(idx)} buildings with changed access",
    )
    table = Table(title="what-if: district indicators before → after")
    for col in ("indicator", "name", "before", "after", "grade"):
        table.add_column(col)
    for r in changes[changes["level"] == "district"].to_dict("records"):
        b = "no data" if pd.isna(r["before"]) else f"{r['before']:.1f}"
        table.add_row(
            r["indicator"],
            f"{r['zh']} {r['en']}",
            b,
            f"{r['after']:.1f}",
            f"{r['grade_before']} → {r['grade_after']}",
        )
    console.print(table)
    console.print(f"[bold]wrote[/] {out}/ ({len(changes)} indicator values changed)")
