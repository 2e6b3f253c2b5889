"""``citycheck hotline stats``: the analytics tables in the terminal and as CSV/Excel.

The lead mounts :func:`stats` on the hotline command group
(``hotline_app.command("stats")(stats)``); :data:`stats_app` runs it standalone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from citycheck.console import make_console
from citycheck.io.errors import InputError
from citycheck.listen.analytics.export import bilingual_columns, export_tables
from citycheck.listen.analytics.stats import (
    load_orders,
    read_residents,
    stats_tables,
    write_run_bundle,
)

__all__ = ["stats", "stats_app", "stats_tables"]

stats_app = typer.Typer(
    help="Hotline statistics: three rates, hotspots, recurring themes (热线数据分析).",
    add_completion=False,
)

_RATE_COLS = [
    "orders",
    "response",
    "response_lo",
    "resolution",
    "resolution_lo",
    "satisfaction",
    "satisfaction_lo",
    "on_time",
    "on_time_lo",
    "closure_hours_median",
]


def _print(console: Console, name: str, df: pd.DataFrame, rows: int, note: str = "") -> None:
    t = Table(title=name, caption=note or None, show_lines=False)
    show = bilingual_columns(df.head(rows))
    for c in show.columns:
        t.add_column(str(c), overflow="fold", max_width=40)
    for _, r in show.iterrows():
        cells = []
        for v in r:
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}")
            elif isinstance(v, list | tuple):
                cells.append("; ".join(map(str, v[:5])) + (" …" if len(v) > 5 else ""))
            else:
                cells.append(str(v))
        t.add_row(*cells)
    console.print(t)


@stats_app.command()
def stats(
    table: Annotated[
        Path | None,
        typer.Argument(help="Orders: NYC 311 / message-board / orders CSV or Excel"),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Read the hotline store at this SQLAlchemy URL instead of a file"),
    ] = None,
    by: Annotated[str, typer.Option(help="Group by these columns (comma-separated)")] = "unit",
    period: Annotated[str | None, typer.Option(help="Also by period: W, M, Q or Y")] = None,
    rates: Annotated[str, typer.Option(help="City formulas id in the rates file")] = "default",
    rates_file: Annotated[Path | None, typer.Option(help="Your own rates TOML")] = None,
    residents: Annotated[
        Path | None, typer.Option(help="CSV with area,residents for density per 10k")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Export every table: FILE.xlsx or a folder of CSVs")
    ] = None,
    run: Annotated[
        Path | None,
        typer.Option(help="Also write RUN/hotline/ for the report and dashboard of this run"),
    ] = None,
    intervention: Annotated[
        str | None, typer.Option(help="Date the centre acted (YYYY-MM-DD): volume before/after")
    ] = None,
    intervention_category: Annotated[
        str | None, typer.Option(help="Category the intervention addressed (default: all)")
    ] = None,
    hex_resolution: Annotated[
        int, typer.Option(help="H3 resolution of the grid (8 ≈ 0.74 km², 10 ≈ 0.015 km²)")
    ] = 8,
    rows: Annotated[int, typer.Option(help="Rows shown per table")] = 15,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display")] = False,
) -> None:
    """Three rates, surges, recurring themes and hotspots of a hotline table (热线统计)."""
    console = make_console()
    err = make_console(stderr=True)
    try:
        if run is not None and not (run / "results.json").exists():
            raise InputError(run, "--run", str(run), "not a run folder (no results.json)")
        orders = load_orders(table, db)
        res = None
        if residents is not None:
            res = read_residents(residents)
        keys = [k.strip() for k in by.split(",") if k.strip()]
        if quiet:
            tables = stats_tables(
                orders,
                by=keys,
                period=period,
                rates=rates,
                rates_file=rates_file,
                residents=res,
                hex_resolution=hex_resolution,
            )
        else:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as prog:
                task = prog.add_task("reading", total=None)
                tables = stats_tables(
                    orders,
                    by=keys,
                    period=period,
                    rates=rates,
                    rates_file=rates_file,
                    residents=res,
                    hex_resolution=hex_resolution,
                    on_step=lambda m: prog.update(task, description=m),
                )
        written = (
            write_run_bundle(run, orders, keys, rates, rates_file, res, intervention,
                       intervention_category, str(table or db), hex_resolution)
            if run is not None
            else None
        )  # fmt: skip
    except InputError as e:
        err.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(code=2) from e
    console.print(
        f"{len(orders):,} orders 工单, {orders['requested_at'].min():%Y-%m-%d} – "
        f"{orders['requested_at'].max():%Y-%m-%d}"
    )
    for name, df in tables.items():
        _print(
            console,
            name,
            df
            if name != "rates"
            else df[["rank", *keys, *[c for c in _RATE_COLS if c in df.columns]]],
            rows,
            df.attrs.get("note", "") + (" " + df.attrs.get("note_zh", "")),
        )
    if out is not None:
        files = export_tables(tables, out)
        console.print(f"exported 已导出: {', '.join(map(str, files))}")
    if written is not None:
        console.print(f"run folder 体检成果目录: {written}")
