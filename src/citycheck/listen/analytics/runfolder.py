"""Hotline analytics inside a run folder: ``RUN/hotline/`` for the report and the dashboard.

``citycheck hotline stats RECORDS --run RUN`` computes the analytics of one hotline table and
writes them beside a city health-check run, so the report and the dashboard show them with the
run's other results:

``RUN/hotline/hotline.json``
    Everything the views show as plain data (:func:`hotline_bundle`): the three-rates ranking
    with Wilson bounds, monthly volume by category with surges flagged, the before/after
    measure of an intervention, recurring themes with redacted evidence, density per 10,000
    residents on areas and on the run's units, and hotspots as problem-list rows with the units
    they lie in.
``RUN/hotline/hexes.geojson``
    The H3 grid: orders, per 10,000 residents (where known), Gi* z, p, q and the ``hot`` flag.
``RUN/hotline/tables/*.csv``
    Every table with bilingual headers (:func:`.export.prepare_tables`).

This module computes the content (:func:`hotline_bundle`) and reads the run's units; the folder
format (writing and reading ``RUN/hotline/``) is :mod:`citycheck.io.hotline_folder`.
Evidence texts go through :func:`citycheck.listen.privacy.redact`; requester ids, names and
phone numbers are never written.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.io.errors import InputError
from citycheck.io.hotline_folder import FORMAT_VERSION
from citycheck.listen.analytics.frames import normalise_orders
from citycheck.listen.analytics.health import hotspot_problems
from citycheck.listen.analytics.hotspots import (
    assign_units,
    hex_hotspots,
    residents_per_hex,
    residents_per_unit,
    unit_density,
)
from citycheck.listen.analytics.rates import load_rate_config, rank_table, three_rates
from citycheck.listen.analytics.themes import find_themes
from citycheck.listen.analytics.trends import before_after, surges
from citycheck.listen.privacy import redact

__all__ = [
    "hotline_bundle",
    "run_hex_residents",
    "run_units",
]

#: Seasonal baselines look back two years (:func:`.trends.surges`); shorter logs get no surges.
_SURGE_MIN_DAYS = 400

_RATE_KEEP = (
    "orders",
    "response", "response_lo", "response_hi", "response_n",
    "resolution", "resolution_lo", "resolution_hi", "resolution_n",
    "satisfaction", "satisfaction_lo", "satisfaction_hi", "satisfaction_n",
    "on_time", "on_time_lo", "on_time_hi", "on_time_n",
    "composite", "composite_lo", "closure_hours_median",
)  # fmt: skip


def _plain(v: Any) -> Any:
    """A JSON-safe scalar (NaN/NaT -> None, numpy -> Python, timestamps -> ISO text)."""
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, pd.Period):
        return str(v)
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, list | tuple | np.ndarray):
        return [_plain(x) for x in v]
    if v is pd.NaT or (not isinstance(v, str | dict) and pd.isna(v)):
        return None
    return v


def _records(df: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    use = df if columns is None else df[[c for c in columns if c in df.columns]]
    return [{k: _plain(v) for k, v in row.items()} for row in use.to_dict("records")]


def run_units(run_dir: str | os.PathLike[str], level: str = "neighbourhood") -> gpd.GeoDataFrame:
    """One unit layer of a run folder with the residents of its buildings (``units.gpkg``).

    Raises
    ------
    InputError
        When the run folder has no ``units.gpkg`` or no such layer.
    """
    import pyogrio

    gpkg = Path(run_dir) / "units.gpkg"
    if not gpkg.exists():
        raise InputError(gpkg, "file", str(gpkg), "the run folder has no units.gpkg")
    names = [n for n, _ in pyogrio.list_layers(gpkg)]
    if level not in names:
        raise InputError(gpkg, "layer", level, f"no such layer; layers: {names}")
    units = gpd.read_file(gpkg, layer=level)[["unit_id", "geometry"]]
    units["unit_id"] = units["unit_id"].astype(str)
    if "dwelling" in names:
        b = gpd.read_file(gpkg, layer="dwelling", columns=["residents"])
        if "residents" in b.columns:
            units["residents"] = residents_per_unit(b, units).to_numpy()
    return units


def run_hex_residents(run_dir: str | os.PathLike[str], resolution: int) -> pd.Series | None:
    """Residents per H3 cell from the run's buildings (``units.gpkg`` layer ``dwelling``), or
    None when the run has no buildings with residents."""
    import pyogrio

    gpkg = Path(run_dir) / "units.gpkg"
    if not gpkg.exists() or "dwelling" not in [n for n, _ in pyogrio.list_layers(gpkg)]:
        return None
    b = gpd.read_file(gpkg, layer="dwelling", columns=["residents"])
    if "residents" not in b.columns or not (b["residents"].fillna(0) > 0).any():
        return None
    return residents_per_hex(b.assign(residents=b["residents"].fillna(0.0)), resolution)


def _trend(
    o: pd.DataFrame, top: int, must: list[str]
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Monthly counts of the ``top`` busiest categories (plus ``must``) and of all orders."""
    month = o["requested_at"].dt.to_period("M")
    busiest = o["category"].astype(str).value_counts()
    cats = list(dict.fromkeys([*busiest.index[:top], *[m for m in must if m in busiest.index]]))
    months = pd.period_range(month.min(), month.max(), freq="M")
    t = pd.crosstab(month, o["category"].astype(str)).reindex(months, fill_value=0)
    rows = []
    total = t.sum(axis=1)
    for m in months:
        rows.append({"month": str(m), "category": "", "orders": int(total.loc[m])})
        for c in cats:
            rows.append({"month": str(m), "category": c, "orders": int(t.loc[m, c])})
    return rows, cats, [str(m) for m in months]


def hotline_bundle(
    orders: pd.DataFrame,
    *,
    by: list[str] | None = None,
    rates: str = "default",
    rates_file: str | os.PathLike[str] | None = None,
    residents: dict[str, float] | None = None,
    units: gpd.GeoDataFrame | None = None,
    hex_residents: pd.Series | None = None,
    hex_resolution: int = 8,
    intervention: str | None = None,
    intervention_category: str | None = None,
    top_categories: int = 6,
    max_themes: int = 12,
    source: str = "",
) -> tuple[dict[str, Any], gpd.GeoDataFrame, dict[str, pd.DataFrame]]:
    """Every hotline view's data from one orders table (no I/O).

    Parameters
    ----------
    orders : DataFrame
        Orders table (:mod:`.frames`).
    by : list of str
        Grouping of the three-rates ranking (default ``["unit"]``).
    rates, rates_file
        City formulas (:func:`.rates.load_rate_config`).
    residents : dict, optional
        Residents per ``area`` (census totals) for density per 10,000 residents by area.
    units : GeoDataFrame, optional
        The run's units (:func:`run_units`) with ``unit_id``, ``residents`` and geometry:
        orders are placed in them for the density per unit, hotspot cells are matched with
        the units they fall in, and (when orders fall in them) every H3 cell of the units
        enters the Gi* test.
    hex_residents : Series, optional
        Residents per H3 cell (:func:`.hotspots.residents_per_hex` of the run's buildings):
        used when orders fall in the run's units — the grid then shows orders per 10,000
        residents and Gi* tests that rate (cells without residents are left out).
    hex_resolution : int
        H3 resolution of the grid.
    intervention, intervention_category : str, optional
        Date the centre acted (ISO) and the category it acted on (default all orders): the
        volume in the 8 weeks after is compared with the 8 weeks before.
    top_categories : int
        Categories drawn in the trend chart (the busiest; surging ones are added).
    max_themes : int
        Theme cards kept (recurring first, then by size).
    source : str
        Name of the records file, shown in the views.

    Returns
    -------
    bundle : dict
        JSON-safe content of ``hotline.json``.
    hexes : GeoDataFrame
        H3 cells (WGS84 polygons) with ``orders``, ``per_10k``, ``z``, ``p``, ``q``, ``hot``.
    tables : dict of DataFrame
        The same content as tables for the CSV export.
    """
    o = normalise_orders(orders).reset_index(drop=True)
    if o.empty:
        raise InputError(source or "orders", "rows", 0, "no orders to analyse")
    keys = by or ["unit"]
    for k in keys:
        if k not in o.columns:
            raise InputError(source or "orders", "--by", k, f"no such column; have {list(o)}")
    cfg = load_rate_config(rates, rates_file)
    tables: dict[str, pd.DataFrame] = {}
    r = three_rates(o, by=keys, config=cfg)
    on = "composite" if r["composite"].notna().any() else "on_time"
    ranked = rank_table(r, on=on)
    tables["rates"] = ranked
    span_days = int((o["requested_at"].max() - o["requested_at"].min()).days)

    surge_rows: list[dict[str, Any]] = []
    if span_days > _SURGE_MIN_DAYS:
        s = surges(o, by="category", freq="W")
        tables["surges"] = s
        for row in _records(s.head(20)):
            row["month"] = str(pd.Timestamp(row["period"]).to_period("M"))
            surge_rows.append(row)
    inter: dict[str, Any] | None = None
    if intervention:
        mask = None
        if intervention_category:
            mask = o["category"].astype(str) == intervention_category
            if not mask.any():
                raise InputError(
                    source or "orders", "--intervention-category", intervention_category,
                    "no order has this category",
                )  # fmt: skip
        ba = before_after(o, intervention, mask=mask)
        inter = {k: _plain(v) for k, v in ba.items()}
        inter["category"] = intervention_category or ""
    must = [row["category"] for row in surge_rows]
    if intervention_category:
        must.append(intervention_category)
    trend, trend_cats, months = _trend(o, top_categories, must)
    tables["trend"] = pd.DataFrame(trend)

    themes: list[dict[str, Any]] = []
    if o["text"].str.len().gt(0).sum() >= 20:
        th = find_themes(o)
        if len(th.themes):
            t = th.themes.head(max_themes)
            for row in t.to_dict("records"):
                tid = int(row["theme"])
                bm = th.by_month[th.by_month["theme"] == tid]
                bp = th.by_place[th.by_place["theme"] == tid].sort_values("orders", ascending=False)
                themes.append(
                    {
                        "theme": tid,
                        "category": str(row["category"]),
                        "terms": [str(x) for x in row["terms"]],
                        "orders": int(row["orders"]),
                        "months": int(row["months"]),
                        "places": int(row["places"]),
                        "recurring": bool(row["recurring"]),
                        "first": _plain(row["first"]),
                        "last": _plain(row["last"]),
                        "examples": [redact(str(x)) for x in row["examples"]],
                        "top_places": [
                            {"place": str(p), "orders": int(n)}
                            for p, n in zip(bp["place"][:5], bp["orders"][:5], strict=True)
                        ],
                        "by_month": {
                            str(m): int(n) for m, n in zip(bm["month"], bm["orders"], strict=True)
                        },
                        "order_ids": [str(x) for x in row["order_ids"][:50]],
                    }
                )
            tables["themes"] = th.themes.drop(columns=["lat", "lon"]).assign(
                examples=lambda d: d["examples"].map(lambda xs: [redact(str(x)) for x in xs])
            )
            tables["theme_months"] = th.by_month.assign(month=th.by_month["month"].astype(str))

    density: list[dict[str, Any]] = []
    if residents:
        d = unit_density(o, unit_column="area", residents=residents, by="")
        d.insert(0, "level", "area")
        density += _records(d)
        tables["density_areas"] = d
    unit_rows: list[dict[str, Any]] = []
    located = o["lat"].notna() & o["lon"].notna()
    fill = None
    in_units = False
    if units is not None and located.any():
        o["run_unit"] = assign_units(o, units)
        in_units = bool((o["run_unit"] != "").any())
    if in_units:
        assert units is not None
        # test every cell of the study area, not only those around orders: otherwise the
        # empty ring just outside the records makes every cell inside look "hot"
        fill = units.to_crs("EPSG:4326").union_all()
        res = units.set_index("unit_id")["residents"] if "residents" in units else None
        if res is not None and (res > 0).any():
            d = unit_density(o, unit_column="run_unit", residents=res, by="")
        else:
            d = o.loc[o["run_unit"] != ""].groupby("run_unit").size().rename("orders")
            d = d.reset_index().rename(columns={"run_unit": "unit_id"})
        unit_rows = _records(d)
        tables["density_units"] = d

    hexes = gpd.GeoDataFrame(
        {"cell": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs="EPSG:4326")
    )
    problems: list[dict[str, Any]] = []
    if located.sum() >= 3:
        import h3

        res_hex = hex_residents if fill is not None and hex_residents is not None else None
        if res_hex is not None and not (res_hex > 0).any():
            res_hex = None
        hx = hex_hotspots(
            o.loc[located], resolution=hex_resolution, by=None, fill=fill, residents=res_hex
        )
        polys = [shapely.Polygon([(b, a) for a, b in h3.cell_to_boundary(c)]) for c in hx["cell"]]
        hexes = gpd.GeoDataFrame(
            hx[["cell", "orders", "residents", "per_10k", "z", "p", "q", "hot", "lat", "lon"]],
            geometry=polys,
            crs="EPSG:4326",
        )
        tables["hexes"] = hx.drop(columns=["cold"])
        if located.sum() >= 20:
            by_cat = hex_hotspots(
                o.loc[located],
                resolution=hex_resolution,
                by="category",
                fill=fill,
                residents=res_hex,
            )
            tables["hotspots"] = by_cat[by_cat["hot"]].sort_values("z", ascending=False)
            hp = hotspot_problems(by_cat, theme_col="category")
            if len(hp):
                top_z = hp["worst_units"].map(lambda ws: max(w["z"] for w in ws))
                hp = hp.assign(_z=top_z).sort_values("_z", ascending=False).drop(columns="_z")
                problems = _records(hp)
                if units is not None:
                    _units_of_cells(problems, units)
                tables["hotspot_problems"] = hp.assign(
                    worst_units=hp["worst_units"].map(lambda ws: [w["unit_id"] for w in ws])
                )

    ranked_rows = _records(ranked, ["rank", *keys, *_RATE_KEEP])
    bundle: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "orders": len(o),
        "first": _plain(o["requested_at"].min()),
        "last": _plain(o["requested_at"].max()),
        "span_days": span_days,
        "located": int(located.sum()),
        "rates": {
            "by": keys,
            "ranked_on": f"{on}_lo",
            "config": rates,
            "confidence": float(cfg.confidence),
            "note": ranked.attrs.get("note", ""),
            "note_zh": ranked.attrs.get("note_zh", ""),
            "rows": ranked_rows,
        },
        "trend": {"months": months, "categories": trend_cats, "rows": trend},
        "surges": surge_rows,
        "surge_note": "" if span_days > _SURGE_MIN_DAYS else "short_history",
        "intervention": inter,
        "themes": themes,
        "density": density,
        "unit_density": unit_rows,
        "hex_resolution": hex_resolution,
        "hex_per_10k": bool(len(hexes) and hexes["per_10k"].notna().any()),
        "hex_cells": len(hexes),
        "hot_cells": int(hexes["hot"].sum()) if len(hexes) else 0,
        "hotspot_problems": problems,
    }
    return bundle, hexes, tables


def _units_of_cells(problems: list[dict[str, Any]], units: gpd.GeoDataFrame) -> None:
    """Add ``units`` (the run units the hot cells' centres fall in) to each hotspot problem."""
    import h3

    for p in problems:
        cells = [w["unit_id"] for w in p["worst_units"]]
        pts = pd.DataFrame(
            {
                "lat": [h3.cell_to_latlng(c)[0] for c in cells],
                "lon": [h3.cell_to_latlng(c)[1] for c in cells],
            }
        )
        hit = assign_units(pts, units) if len(pts) else pd.Series(dtype=object)
        for w, u in zip(p["worst_units"], hit, strict=True):
            w["run_unit"] = u
        p["units"] = sorted({u for u in hit if u})
