"""The command-line interface: a thin shell over the library (``citycheck --help``).

Importing this module has no side effect beyond building :data:`app`; the console script and
``python -m citycheck`` run :func:`citycheck.__main__.main`, which starts the fork server of
``citycheck batch`` before importing this module.
"""

from __future__ import annotations

import logging
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from citycheck import __version__
from citycheck.cli.report import report_command, serve_command, write_demo_reports
from citycheck.console import log_handler, log_message, make_console
from citycheck.io.errors import InputError, InputProblems

app = typer.Typer(
    name="citycheck",
    help="City health check (城市体检) from open data: evaluate, access, listen, act.",
    no_args_is_help=True,
    add_completion=False,
)
console = make_console()
err_console = make_console(stderr=True)


class _InLanguage(logging.Filter):
    """Shows a record in Chinese when it carries its Chinese text (``extra={"zh": …}``)."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def filter(self, record: logging.LogRecord) -> bool:
        zh = getattr(record, "zh", None)
        if self.lang == "zh" and isinstance(zh, str):
            record.msg, record.args = zh, ()
        return True


def _setup_logging(verbose: bool, lang: str = "en") -> None:
    handler = log_handler(err_console)
    handler.addFilter(_InLanguage(lang))
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[handler],
        force=True,
    )
    # WeasyPrint reports every CSS property it ignores; only its errors concern a user
    logging.getLogger("weasyprint").setLevel(logging.ERROR)


def _fail(exc: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


def demo_pbf() -> Path:
    """The second bundled sample: pyrosm's ``test.osm.pbf`` (a suburb near Kouvola, Finland)."""
    return Path(str(resources.files("pyrosm") / "data" / "test.osm.pbf"))


def _run_with_progress(func, *args, quiet: bool = False, **kwargs):  # type: ignore[no-untyped-def]
    """Run ``func`` showing its steps (``on_step`` Messages) in the run's ``lang``."""
    from citycheck.labels import Message, label

    if quiet:
        return func(*args, **kwargs)
    lang = kwargs.get("lang", "en")
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(label("step_starting", lang), total=None)

        def on_step(message: Message | str) -> None:
            text = message.text(lang) if isinstance(message, Message) else str(message)
            progress.update(task, description=text)
            log_message(progress.console, text)

        result = func(*args, on_step=on_step, **kwargs)
        progress.update(task, description=label("step_done", lang))
        return result


def _print_summary(run_dir: Path, lang: str) -> None:
    from citycheck.evaluate.catalogue import indicator_text
    from citycheck.evaluate.document import ResultsDocument
    from citycheck.io.runfolder import read_results
    from citycheck.labels import label, translate_threshold

    doc = ResultsDocument.from_json_dict(read_results(run_dir))
    table = Table(title=f"{label('title', lang)} — {doc.study_area.name}")
    for key in ("id", "indicator", "value", "unit", "threshold", "grade"):
        table.add_column(label(key, lang))
    colours = {"pass": "green", "warning": "yellow", "fail": "red"}
    for ind in doc.rows("district"):
        if ind.value is None:
            continue
        table.add_row(
            ind.id,
            ind.zh if lang == "zh" else ind.en,
            f"{ind.value:,.4g}",
            indicator_text(ind.id, "unit", lang, ind.unit),
            translate_threshold(ind.threshold, lang),
            f"[{colours.get(ind.grade, 'white')}]{label(ind.grade, lang)}[/]",
        )
    console.print(table)
    overall = next(o for o in doc.scores.overall if o["level"] == "district")
    console.print(
        f"{label('overall', lang)} {label('score', lang)}: {overall['score']:.1f} "
        f"({label(overall['grade'], lang)})"
        + (f" — {label('vetoed_by', lang)}: {overall['vetoed_by']}" if overall["vetoed_by"] else "")
    )
    console.print(f"{label('problem_list', lang)}: {len(doc.problems)}")
    console.print(
        f"[bold]{label('run_folder', lang)}:[/] {run_dir}  ·  "
        f"{label('open', lang)} {run_dir / 'summary.html'}"
    )


@app.command()
def evaluate(
    pbf: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="run folder to write")] = Path(
        "citycheck-run"
    ),
    boundary: Annotated[Path | None, typer.Option(help="boundary file (GeoJSON/GPKG/…)")] = None,
    adcode: Annotated[str | None, typer.Option(help="6-digit Chinese administrative code")] = None,
    population: Annotated[
        str | None,
        typer.Option(help="residents of the study area (number) or CSV with osm_id,residents"),
    ] = None,
    census: Annotated[
        Path | None, typer.Option(help="7th-census county table (needs --adcode)")
    ] = None,
    city_census: Annotated[
        Path | None,
        typer.Option(
            help="7th-census city table (default: china_city_census_2010_2020.csv beside --census)"
        ),
    ] = None,
    inputs: Annotated[
        Path | None, typer.Option(help="filled-in `citycheck template` table")
    ] = None,
    hotline: Annotated[
        Path | None,
        typer.Option(help="hotline records: Z01/Z01b/Z01c/Z02/S02/C04 scored with the rest"),
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "en",
    name: Annotated[str | None, typer.Option(help="name of the study area")] = None,
    compounds: Annotated[Path | None, typer.Option(help="residential compound polygons")] = None,
    neighbourhoods: Annotated[Path | None, typer.Option(help="neighbourhood polygons")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run folder")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Evaluate one study area and write a run folder."""
    from citycheck.pipeline import run_check

    _setup_logging(verbose, lang)
    pop: float | str | None = population
    if population is not None:
        try:
            pop = float(population)
        except ValueError:
            pop = population
    try:
        run_dir = _run_with_progress(
            run_check,
            pbf,
            out_dir=out,
            boundary=boundary,
            adcode=adcode,
            census=census,
            city_census=city_census,
            population=pop,
            inputs=inputs,
            hotline=hotline,
            lang=lang,
            name=name,
            compounds=compounds,
            neighbourhoods=neighbourhoods,
            overwrite=overwrite,
            quiet=quiet,
        )
    except (InputError, InputProblems) as exc:
        _fail(exc)
    _print_summary(run_dir, lang)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="run folder to write")] = Path(
        "citycheck-demo"
    ),
    lang: Annotated[str, typer.Option(help="zh or en (the console summary)")] = "en",
    sample: Annotated[
        str,
        typer.Option(
            help="wudaokou (Beijing, Haidian: census residents) or kouvola (Finland: 12,000 "
            "residents assumed)"
        ),
    ] = "wudaokou",
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Run the whole check on a real sample bundled with the install and write its reports."""
    from citycheck.io.samples import DEMO, sample_file
    from citycheck.labels import label, message
    from citycheck.pipeline import run_check

    _setup_logging(False, lang)
    if sample not in ("wudaokou", "kouvola"):
        _fail(InputError("--sample", "sample", sample, "choose 'wudaokou' or 'kouvola'"))
    try:
        if sample == "wudaokou":
            pbf = sample_file(DEMO.pbf)
            console.print(
                f"[bold]citycheck {__version__}[/] "
                + message("demo_header_wudaokou", name=DEMO.name(lang)).text(lang)
            )
            run_dir = _run_with_progress(
                run_check,
                pbf,
                out_dir=out,
                adcode=DEMO.adcode,
                census=sample_file(DEMO.county_census),
                city_census=sample_file(DEMO.city_census),
                lang=lang,
                name=DEMO.run_name,
                overwrite=True,
                quiet=quiet,
            )
        else:
            pbf = demo_pbf()
            console.print(
                f"[bold]citycheck {__version__}[/] "
                + message("demo_header_kouvola", name=pbf.name).text(lang)
            )
            run_dir = _run_with_progress(
                run_check,
                pbf,
                out_dir=out,
                population=12_000.0,
                lang=lang,
                name="Kouvola sample",
                overwrite=True,
                quiet=quiet,
            )
    except (InputError, InputProblems) as exc:
        _fail(exc)
    _print_summary(run_dir, lang)
    for path in write_demo_reports(run_dir):
        console.print(f"{label('report_written', lang)}: {path}")


@app.command()
def indicators(
    lang: Annotated[str, typer.Option(help="zh, en or both")] = "both",
    dimension: Annotated[str | None, typer.Option(help="only this dimension")] = None,
) -> None:
    """List the indicator catalogue: seven dimensions, four levels, thresholds and sources."""
    from citycheck.city import LEVELS
    from citycheck.evaluate.catalogue import catalogue, dimensions

    dims = dimensions()
    zh_only = lang == "zh"
    title = "citycheck 指标体系" if zh_only else "citycheck indicator catalogue / 指标体系"
    table = Table(title=title, show_lines=False)
    table.add_column("id")
    if lang in ("zh", "both"):
        table.add_column("指标")
    if lang in ("en", "both"):
        table.add_column("indicator")
    table.add_column("维度" if zh_only else "dimension 维度")
    table.add_column("层级" if zh_only else "levels 层级")
    table.add_column("单位" if zh_only else "unit")
    table.add_column("标准值" if zh_only else "threshold")
    table.add_column("数据" if zh_only else "data")
    for ind in catalogue().values():
        if dimension and ind.dimension != dimension:
            continue
        row = [ind.id]
        if lang in ("zh", "both"):
            row.append(ind.zh)
        if lang in ("en", "both"):
            row.append(ind.en)
        dz, de = dims[ind.dimension]
        row.append(f"{dz} {de}" if lang == "both" else (dz if lang == "zh" else de))
        lv = [
            LEVELS[level][0] + " " + LEVELS[level][1]
            if lang == "both"
            else LEVELS[level][0 if lang == "zh" else 1]
            for level in ind.levels
        ]
        unit = ind.unit_text("zh" if zh_only else "en")
        if lang == "both" and ind.unit_text("zh") != ind.unit:
            unit = f"{ind.unit} {ind.unit_text('zh')}"
        row += [", ".join(lv), unit, ind.threshold_text("zh" if zh_only else "en"), ind.data]
        table.add_row(*row)
    console.print(table)


@app.command()
def template(
    out: Annotated[Path, typer.Argument(help="CSV (or .xlsx) file to write")] = Path(
        "citycheck-inputs.csv"
    ),
) -> None:
    """Write the bilingual table of indicators that need data beyond OpenStreetMap."""
    from citycheck.evaluate.inputs import template_frame

    frame = template_frame()
    if out.suffix.lower() == ".xlsx":
        frame.to_excel(out, index=False)
    else:
        frame.to_csv(out, index=False, encoding="utf-8-sig")
    console.print(f"wrote {len(frame)} rows to {out}; fill in the value column (blank = no data)")


app.command("report")(report_command)
app.command("serve")(serve_command)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


from citycheck.cli.hotline import hotline_app  # noqa: E402  (hotline subcommands)
from citycheck.cli.hotline_stats import stats as hotline_stats  # noqa: E402

hotline_app.command("stats")(hotline_stats)
app.add_typer(hotline_app, name="hotline")
from citycheck.cli.batch import (  # noqa: E402
    batch_command,
    land_consumption_command,
    urban_system_command,
)

app.command("batch")(batch_command)
app.command("urban-system")(urban_system_command)
app.command("land-consumption")(land_consumption_command)
from citycheck.cli.lifeline import lifeline_app  # noqa: E402  (lifeline subcommands)

app.add_typer(lifeline_app, name="lifeline")

from citycheck.cli.plan import plan_command, whatif_command  # noqa: E402

app.command("plan")(plan_command)
app.command("whatif")(whatif_command)


def main() -> None:
    """Run the command line (:func:`citycheck.__main__.main`).

    The console script should name :func:`citycheck.__main__.main` rather than this function:
    importing this module first costs the early fork-server start of ``citycheck batch`` its
    head start, and each local worker re-imports the console script's module.
    """
    from citycheck.__main__ import main as run

    run()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
