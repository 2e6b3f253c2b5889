"""``citycheck batch MANIFEST``: evaluate many cities on Dask and compare them.

Mount in the main CLI with ``app.command("batch")(batch_command)`` and
``app.command("urban-system")(urban_system_command)``.
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "batch_command", "parse_weights", "urban_system_command"]


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
    from rich.console import Console
    from rich.table import Table

    from citycheck.batch.compare import profiles_from_runs, write_comparison
    from citycheck.batch.comparison_map import map_title, write_comparison_map
    from citycheck.batch.jobs import load_job, run_check_job
    from citycheck.batch.manifest import ManifestError, read_manifest
    from citycheck.batch.outlines import city_outlines
    from citycheck.batch.runner import STATUS_LABELS, run_batch

    console = Console(stderr=True)
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
    if runs:
        profiles = profiles_from_runs(runs)
        if profiles.shape[1]:
            try:
                ranking = write_comparison(out / "comparison", profiles, weight_map, n_draws=draws)
            except ValueError as exc:
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(2) from exc
            outlines = city_outlines(entries, runs, ranking.join(profiles))
            if len(outlines):
                outlines.to_file(out / "comparison" / "cities.geojson", driver="GeoJSON")
                png, page, _ = write_comparison_map(out / "comparison", outlines, map_by, runs)
                console.print(f"map of all cities: {png} · {page}")
            console.print(f"comparison: {out / 'comparison' / 'comparison.csv'}")
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
    from rich.console import Console

    from citycheck.batch.maps import write_map
    from citycheck.evaluate import urban_system as us

    console = Console(stderr=True)
    try:
        city = us.read_city_census(city_csv)
        county = us.read_county_census(county_csv)
    except (us.CensusTableError, OSError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    measures = us.city_measures(city, county)
    out.mkdir(parents=True, exist_ok=True)
    gdf = us.city_boundaries(city, measures)
    write_map(
        out, "map_size_class", gdf, "size_class", title_zh="城市规模等级（国发〔2014〕51号）",
        title_en="City-size class (State Council 2014 standard)", name_column="city",
        categories=[(c.id, c.name_zh, c.name_en) for c in us.SIZE_CLASSES],
    )  # fmt: skip
    write_map(
        out, "map_urbanisation", gdf, "urbanisation_2020", title_zh="常住人口城镇化率（2020年）",
        title_en="Resident urbanisation rate 2020", name_column="city", unit="%",
        bins=(0, 20, 40, 60, 80, 100),
    )  # fmt: skip
    measures.to_csv(out / "cities.csv")
    us.rank_size_by_province(measures).to_csv(out / "provinces_rank_size.csv")
    us.county_urbanisation(county).to_csv(out / "counties.csv")
    us.size_class_counts(measures["size_class"]).to_csv(out / "size_classes.csv", index=False)
    gdf.to_file(out / "cities.gpkg", layer="cities", driver="GPKG")
    names = {m.id: {"zh": m.name_zh, "en": m.name_en, "unit": m.unit, "source": m.source}
             for m in us.MEASURES.values()}  # fmt: skip
    (out / "measures.json").write_text(
        json.dumps(names, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    counts = us.size_class_counts(measures["size_class"])
    label = "name_zh" if lang == "zh" else "name_en"
    for _, row in counts.iterrows():
        console.print(f"{row[label]:>22}: {row['cities']}")
    console.print(f"written: {out}")


app = typer.Typer(help="Many-city runs on Dask distributed.", add_completion=False)
app.command("batch")(batch_command)
app.command("urban-system")(urban_system_command)
