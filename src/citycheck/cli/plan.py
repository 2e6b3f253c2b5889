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
    pass

__all__ = ["plan_command", "whatif_command"]

log = logging.getLogger(__name__)
console = make_console()
err_console = make_console(stderr=True)


def _fail(exc: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


def _step(quiet: bool):  # type: ignore[no-untyped-def]
    return (lambda _m: None) if quiet else (lambda m: err_console.print(f"[dim]· {m}[/]"))


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
    from citycheck.access import analyse_city
    from citycheck.plan.candidates import read_site_layer
    from citycheck.plan.models import PlanningError
    from citycheck.plan.outputs import write_plan_outputs
    from citycheck.plan.plan import plan_projects
    from citycheck.plan.runinputs import city_from_run

    step = _step(quiet)
    try:
        step("rebuilding the city from the run's inputs")
        city, doc = city_from_run(run_dir)
        user = read_site_layer(str(sites), city.crs) if sites is not None else None
        step("walking access before")
        access = analyse_city(city)
        projects, plans = plan_projects(
            city,
            doc,
            category=category,
            new=new,
            budget=budget,
            model=model,
            site_cost=site_cost,
            capacity=capacity,
            user_sites=user,
            access=access,
            method="greedy" if greedy else "milp",
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
    out = write_plan_outputs(run, city, projects, plans, params)
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
    import pandas as pd

    from citycheck.access import analyse_city
    from citycheck.plan.outputs import write_whatif_outputs
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
    out = write_whatif_outputs(
        Path(run_dir) / "whatif" / scenario_file.stem,
        city,
        scenario_file,
        wi,
        actions,
        before,
        after,
        changes,
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
