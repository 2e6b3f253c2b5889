"""The tables of ``citycheck hotline stats``, computed without printing (data in, data out).

:func:`stats_tables` computes every table from one orders table; :func:`load_orders` reads the
orders from a file or the hotline store; :func:`read_residents` reads the ``area,residents``
CSV; :func:`write_run_bundle` writes RUN/hotline/ for the report and dashboard.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from citycheck.io.errors import InputError
from citycheck.listen.analytics.hotspots import hex_hotspots, space_time_clusters, unit_density
from citycheck.listen.analytics.rates import load_rate_config, rank_table, three_rates
from citycheck.listen.analytics.sources import read_orders
from citycheck.listen.analytics.themes import find_themes
from citycheck.listen.analytics.trends import surges

__all__ = ["load_orders", "read_residents", "stats_tables", "write_run_bundle"]

log = logging.getLogger(__name__)


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


def write_run_bundle(
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
    """Compute the report/dashboard bundle and write RUN/hotline/; returns the folder."""
    from citycheck.io.hotline_folder import write_hotline_folder
    from citycheck.listen.analytics.export import prepare_tables
    from citycheck.listen.analytics.runfolder import (
        hotline_bundle,
        run_hex_residents,
        run_units,
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
    return write_hotline_folder(run, bundle, hexes, prepare_tables(tables))


def load_orders(table: Path | None, db: str | None) -> pd.DataFrame:
    """Orders from a table file or (read-only) from the hotline store at ``db``: exactly one."""
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


def read_residents(path: Path) -> dict[str, float]:
    """``area,residents`` CSV -> residents by area (for densities per 10,000)."""
    rt = pd.read_csv(path)
    if not {"area", "residents"} <= set(rt.columns):
        raise InputError(path, "header", list(rt.columns), "need area,residents")
    return dict(zip(rt["area"].astype(str), rt["residents"].astype(float), strict=True))
