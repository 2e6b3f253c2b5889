"""``citycheck hotline stats``: the analytics tables in the terminal and as CSV/Excel.

The lead mounts :func:`stats` on the hotline command group
(``hotline_app.command("stats")(stats)``); :data:`stats_app` runs it standalone.
"""

from __future__ import annotations

import logging
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
from citycheck.listen.analytics.hotspots import hex_hotspots, space_time_clusters, unit_density
from citycheck.listen.analytics.rates import load_rate_config, rank_table, three_rates
from citycheck.listen.analytics.sources import read_orders
from citycheck.listen.analytics.themes import find_themes
from citycheck.listen.analytics.trends import surges

__all__ = ["stats", "stats_app", "stats_tables"]

log = logging.getLogger(__name__)

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


def stats_tables(
    orders: pd.DataFrame,
    *,
    by: list[str],
    period: str | None = None,
    rates: str = "default",
    rates_file: Path | None = None,
    residents: dict[str, float] | None = None,
    hex_resolution: int = 8,
    on_step=None,  # type: ignore[no-untyped-def]
) -> dict[str, pd.DataFrame]:
    """Every table of the stats command, computed from one orders table (no printing).

    Returns
    -------
    dict
        ``rates`` (ranked on the composite lower bound), ``rates_by_period`` (when ``period``),
        ``surges``, ``themes``, ``theme_months``, ``hotspots`` (significant H3 cells),
        ``clusters`` (space-time), ``density`` (with ``residents``); tables that the data cannot
        give (no positions, no text) are left out.
    """
    step = on_step or (lambda _m: None)
    cfg = load_rate_config(rates, rates_file)
    out: dict[str, pd.DataFrame] = {}
    step("three rates")
    r = three_rates(orders, by=by, config=cfg)
    on = "composite" if r["composite"].notna().any() else "on_time"
    ranked = rank_table(r, on=on)
    ranked["rank"] = ranked["rank"].astype("Int64")
    out["rates"] = ranked
    if period:
        out["rates_by_period"] = three_rates(orders, by=by, config=cfg, period=period)
    step("surges against the seasonal baseline")
    span_days = (orders["requested_at"].max() - orders["requested_at"].min()).days
    if span_days > 400:
        out["surges"] = surges(orders, by="category", freq="W")
    if orders["text"].str.len().gt(0).sum() >= 20:
        step("recurring themes")
        th = find_themes(orders)
        if len(th.themes):
            out["themes"] = th.themes.drop(columns=["lat", "lon"])
            out["theme_months"] = th.by_month.assign(month=th.by_month["month"].astype(str))
    located = orders["lat"].notna() & orders["lon"].notna()
    if located.sum() >= 20:
        step("hotspots on the H3 grid")
        hx = hex_hotspots(orders.loc[located], resolution=hex_resolution, by="category")
        out["hotspots"] = hx[hx["hot"]].sort_values("z", ascending=False).reset_index(drop=True)
        step("space-time clusters")
        cl, _ = space_time_clusters(orders.loc[located], radius_m=150, days=7, min_orders=3)
        if len(cl):
            out["clusters"] = cl
    if residents:
        out["density"] = unit_density(orders, unit_column="area", residents=residents, by="")
    return out


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


def _write_run(
    run: Path,
    orders: pd.DataFrame,
    keys: list[str],
    rates: str,
    rates_file: Path | None,
    residents: dict[str, float] | None,
    intervention: str | None,
    intervention_category: str | None,
    source: str,
    hex_resolution: int = 8,
) -> Path:
    """Compute the report/dashboard bundle and write RUN/hotline/."""
    from citycheck.listen.analytics.runfolder import (
        hotline_bundle,
        run_hex_residents,
        run_units,
        write_hotline_folder,
    )

    if not (run / "results.json").exists():
        raise InputError(run, "--run", str(run), "not a run folder (no results.json)")
    units = None
    if (run / "units.gpkg").exists():
        try:
            units = run_units(run, "neighbourhood")
        except InputError:
            log.info("run %s has no neighbourhood layer; densities by area only", run)
    bundle, hexes, tables = hotline_bundle(
        orders,
        by=keys,
        rates=rates,
        rates_file=rates_file,
        residents=residents,
        units=units,
        hex_residents=run_hex_residents(run, hex_resolution) if units is not None else None,
        intervention=intervention,
        intervention_category=intervention_category,
        hex_resolution=hex_resolution,
        source=Path(source).name,
    )
    return write_hotline_folder(run, bundle, hexes, tables)


def _load(table: Path | None, db: str | None) -> pd.DataFrame:
    if (table is None) == (db is None):
        raise InputError("hotline stats", "table/--db", None, "give a table or --db, not both")
    if table is not None:
        return read_orders(table)
    from citycheck.listen.analytics.store_adapter import frames_from_store
    from citycheck.listen.settings import HotlineSettings
    from citycheck.listen.store import Hotline

    assert db is not None  # exactly one of table/db, checked above
    if db.startswith("sqlite:///") and not Path(db.removeprefix("sqlite:///")).exists():
        raise InputError(db, "--db", db, "no such SQLite file (stats never creates a store)")
    settings = HotlineSettings(db_url=db)
    if not settings.secret:
        # analytics reads no personal field; the store still wants a key to start
        settings = HotlineSettings(db_url=db, secret="analytics-read-only")
    h = Hotline(settings)
    try:
        orders, _ = frames_from_store(h)
    finally:
        h.close()
    return orders


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
        orders = _load(table, db)
        res = None
        if residents is not None:
            rt = pd.read_csv(residents)
            if not {"area", "residents"} <= set(rt.columns):
                raise InputError(residents, "header", list(rt.columns), "need area,residents")
            res = dict(zip(rt["area"].astype(str), rt["residents"].astype(float), strict=True))
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
            _write_run(run, orders, keys, rates, rates_file, res, intervention,
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
