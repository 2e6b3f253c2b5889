"""``citycheck batch MANIFEST``: evaluate many cities on Dask and compare them.

Mount in the main CLI with ``app.command("batch")(batch_command)`` and
``app.command("urban-system")(urban_system_command)
app.command("land-consumption")(land_consumption_command)``.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Annotated

import typer

from citycheck.console import make_console

__all__ = [
    "app",
    "batch_command",
    "land_consumption_command",
    "parse_weights",
    "urban_system_command",
]


def parse_weights(value: str | None) -> dict[str, float] | None:
    """``"livable=2,green=1"`` or a TOML file of ``dimension = weight`` -> dict (None: equal)."""
    if not value:
        return None
    path = Path(value)
    if path.suffix == ".toml" and path.is_file():
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        doc = doc.get("weights", doc)
        return {str(k): float(v) for k, v in doc.items()}
    out = {}
    for part in value.split(","):
        key, sep, num = part.partition("=")
        try:
            out[key.strip()] = float(num)
        except ValueError:
            raise typer.BadParameter(
                f"--weights part {part!r}: expected dimension=number"
            ) from None
        if not sep or not key.strip():
            raise typer.BadParameter(f"--weights part {part!r}: expected dimension=number")
    return out


def batch_command(
    manifest: Annotated[Path, typer.Argument(help="Cities to evaluate (.toml, .csv or .json).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("batch-out"),
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786); default local.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Local cluster workers; 0 runs in-process.")] = 2,
    retries: Annotated[int, typer.Option(help="Extra attempts for a failing city.")] = 1,
    resume: Annotated[
        bool, typer.Option(help="Skip cities already complete with unchanged inputs.")
    ] = False,
    weights: Annotated[
        str | None, typer.Option(help="Dimension weights: 'livable=2,green=1' or a .toml file.")
    ] = None,
    draws: Annotated[int, typer.Option(help="Weight draws for the rank sensitivity.")] = 1000,
    job: Annotated[
        str | None, typer.Option(help="Per-city job 'module:function' (default: the health check).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress.")] = True,
    map_by: Annotated[
        str,
        typer.Option(help="Colour the map of all cities by 'score', a dimension or an indicator."),
    ] = "score",
) -> None:
    """Evaluate every city of MANIFEST (one Dask task per city) and compare them."""
    if workers > 0 and not scheduler:
        # the local workers' fork server imports the health check while this process imports
        # the rest and reads the manifest (citycheck.batch.forkserver); already running when the
        # console entry point started it, with the numba threads that run_batch will ask for
        from citycheck.batch.forkserver import start_forkserver, worker_numba_threads

        start_forkserver(numba_threads=worker_numba_threads(workers))
    from rich.table import Table

    from citycheck.batch.compare import write_batch_comparison
    from citycheck.batch.comparison_map import map_title
    from citycheck.batch.jobs import load_job, run_check_job
    from citycheck.batch.manifest import ManifestError, read_manifest
    from citycheck.batch.runner import STATUS_LABELS, run_batch

    console = make_console(stderr=True)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        entries = read_manifest(manifest)
        city_job = load_job(job) if job else run_check_job
        weight_map = parse_weights(weights)
        map_title(map_by)
    except (ManifestError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    report = run_batch(
        entries, city_job, out_dir=out, scheduler=scheduler, n_workers=workers,
        retries=retries, resume=resume, progress=progress,
    )  # fmt: skip
    table = Table(title=f"citycheck batch · {report.scheduler} · {report.wall_s:.1f} s")
    table.add_column("city", no_wrap=True)
    for col in ("status 状态", "seconds", "attempts", "error"):
        table.add_column(col)
    for o in report.outcomes:
        zh, en = STATUS_LABELS[o.status]
        secs = f"{o.seconds:.1f}" if o.seconds is not None else ""
        table.add_row(o.id, f"{en} {zh}", secs, str(o.attempts), o.error or "")
    console.print(table)
    runs = {o.id: o.run_dir for o in report.outcomes if o.run_dir and o.status != "failed"}
    try:
        compared = write_batch_comparison(
            out, entries, runs, weight_map, n_draws=draws, map_by=map_by
        )
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if compared is not None:
        csv_path, drawn = compared
        if drawn is not None:
            console.print(f"map of all cities: {drawn[0]} · {drawn[1]}")
        console.print(f"comparison: {csv_path}")
    failed = report.by_status("failed")
    if failed:
        console.print(f"[red]{len(failed)} city/cities failed[/red]: {', '.join(failed)} "
                      f"(tracebacks in {out / '_errors'}; rerun with --resume)")  # fmt: skip
        raise typer.Exit(1)


def urban_system_command(
    city_csv: Annotated[Path, typer.Argument(help="china_city_census_2010_2020.csv")],
    county_csv: Annotated[Path, typer.Argument(help="china_county_census_2020.csv")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("system-out"),
    lang: Annotated[str, typer.Option(help="Label language of the class column: en or zh.")] = "en",
) -> None:
    """Urban-system measures of every city of China from the census tables."""
    from citycheck.evaluate import urban_system as us
    from citycheck.io.census import read_city_census, read_county_census
    from citycheck.io.errors import InputError, InputProblems

    console = make_console(stderr=True)
    try:
        city = read_city_census(city_csv)
        county = read_county_census(county_csv)
    except (InputError, InputProblems, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    counts = us.write_urban_system(out, city, county)
    label = "name_zh" if lang == "zh" else "name_en"
    for _, row in counts.iterrows():
        console.print(f"{row[label]:>22}: {row['cities']}")
    console.print(f"written: {out}")


def land_consumption_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("sdg-11-3-1"),
    table: Annotated[
        Path | None,
        typer.Option(help="CSV: id, year_1, year_2, built_up_km2_1, built_up_km2_2, pop_1, pop_2."),
    ] = None,
    built_up_1: Annotated[
        Path | None, typer.Option(help="Built-up polygons at the first date.")
    ] = None,
    built_up_2: Annotated[
        Path | None, typer.Option(help="Built-up polygons at the second date.")
    ] = None,
    pop_1: Annotated[float | None, typer.Option(help="Population at the first date.")] = None,
    pop_2: Annotated[float | None, typer.Option(help="Population at the second date.")] = None,
    year_1: Annotated[float | None, typer.Option(help="First date (year).")] = None,
    year_2: Annotated[float | None, typer.Option(help="Second date (year).")] = None,
    boundary: Annotated[
        Path | None, typer.Option(help="Study area: clip both built-up layers to it.")
    ] = None,
    area_id: Annotated[str, typer.Option("--id", help="Name of the area (layers).")] = "area",
) -> None:
    """SDG 11.3.1: ratio of land consumption rate to population growth rate (UN-Habitat)."""
    from rich.table import Table

    from citycheck.evaluate import land_consumption as lc
    from citycheck.io.errors import InputError

    console = make_console(stderr=True)
    try:
        result = lc.land_consumption_from_inputs(
            table=table, built_up_1=built_up_1, built_up_2=built_up_2, pop_1=pop_1, pop_2=pop_2,
            year_1=year_1, year_2=year_2, boundary=boundary, area_id=area_id,
        )  # fmt: skip
    except InputError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    result = lc.write_land_consumption(out, result)
    view = Table(title="SDG 11.3.1 土地消耗率与人口增长率之比 · LCR / PGR")
    for col in ("id", "LCR 土地消耗率/年", "PGR 人口增长率/年", "LCRPGR 比值", "grade 评价"):
        view.add_column(col)
    for rid, row in result.iterrows():
        view.add_row(str(rid), f"{row['lcr']:.4f}", f"{row['pgr']:.4f}", f"{row['ratio']:.3f}",
                     row["grade"])  # fmt: skip
    console.print(view)
    console.print(f"written: {out}")


app = typer.Typer(help="Many-city runs on Dask distributed.", add_completion=False)
app.command("batch")(batch_command)
app.command("urban-system")(urban_system_command)
app.command("land-consumption")(land_consumption_command)
