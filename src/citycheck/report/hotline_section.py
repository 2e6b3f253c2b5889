"""The report's hotline section, built from ``RUN/hotline/`` (``citycheck hotline stats --run``).

:func:`hotline_section` turns ``hotline.json`` into rows in one language (pure);
:func:`hotspot_problem_rows` gives the hotspots as rows of the report's problem list;
:func:`attach_hotline` reads the run folder, draws the figures and sets ``report.hotline``.
The section appears only when the run folder holds ``hotline/hotline.json``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd

from citycheck.evaluate.catalogue import indicator_text
from citycheck.labels import labels_under
from citycheck.report.model import Report, fmt_value

__all__ = [
    "HOTLINE_LABELS",
    "attach_hotline",
    "fmt_rate",
    "hotline_labels",
    "hotline_section",
    "hotspot_problem_rows",
    "theme_months",
]

#: Every label of the hotline views: key -> (zh, en).
HOTLINE_LABELS: dict[str, tuple[str, str]] = labels_under("report.hotline")


def hotline_labels(lang: str) -> dict[str, str]:
    """The hotline labels in one language."""
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in HOTLINE_LABELS.items()}


def fmt_rate(v: float | None, lo: float | None = None, hi: float | None = None) -> str:
    """A rate (0..1) as a percentage with one decimal, with its interval when given.

    Examples
    --------
    >>> fmt_rate(0.9337, 0.9114, 0.9508)
    '93.4 % [91.1–95.1]'
    >>> fmt_rate(None)
    '—'
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    s = f"{100 * v:.1f} %"
    if lo is not None and hi is not None:
        s += f" [{100 * lo:.1f}–{100 * hi:.1f}]"
    return s


def theme_months(theme: dict[str, Any], months: list[str]) -> list[int]:
    """A theme's orders per month over ``months`` (zeros where it had none)."""
    by = theme.get("by_month", {})
    return [int(by.get(m, 0)) for m in months]


def _month_list(by_month: dict[str, int], most: int = 12) -> str:
    """The months a theme came up in, with their counts ("2019-03 (2), 2019-07 (1)")."""
    items = [f"{m} ({n})" for m, n in sorted(by_month.items()) if n]
    return ", ".join(items[:most]) + (" …" if len(items) > most else "")


def _all_months(doc: dict[str, Any]) -> list[str]:
    months = doc.get("trend", {}).get("months") or []
    if months:
        return list(months)
    seen = sorted({m for t in doc.get("themes", []) for m in t.get("by_month", {})})
    return seen


def hotspot_problem_rows(doc: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The hotspots of ``hotline.json`` as rows of the report's problem list (scope "hotspot").

    Each row names the theme, the hot H3 cells (worst first, with their value) and the run's
    units the cells lie in.
    """
    lab = hotline_labels(lang)
    rows = []
    for p in doc.get("hotspot_problems", []):
        theme = str(p.get("theme", ""))
        units = p.get("units", [])
        rows.append(
            {
                "id": p["indicator"],
                "name": f"{lab['hotspot_problem']}: {theme}",
                "dimension_name": "",
                "scope": "hotspot",
                "scope_name": lab["hotspots"],
                "value": p["value"],
                "value_text": fmt_value(p["value"]),
                "unit": indicator_text(p["indicator"], "unit", lang, p.get("unit", "")),
                "threshold": "Gi* q < 0.05",
                "gap": None,
                "gap_text": "—",
                "grade": "fail",
                "grade_name": lab["hot"],
                "red_line": False,
                "units_failing": p["units_failing"],
                "units_total": p["units_total"],
                "worst_level": "h3",
                "worst_level_name": "H3",
                "worst_units": [
                    {
                        "unit_id": w["unit_id"]
                        + (f" ({lab['in_units']} {w['run_unit']})" if w.get("run_unit") else ""),
                        "value": w["value"],
                        "text": fmt_value(w["value"]),
                    }
                    for w in p["worst_units"]
                ],
                "run_units": units,
                "source": indicator_text(p["indicator"], "source", lang, p.get("source", "")),
                "hotline": True,
            }
        )
    return rows


def hotline_section(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """The section's content in ``lang`` from ``hotline.json`` (no figures; pure).

    Returns
    -------
    dict
        ``labels``, ``facts`` (key/value rows), ``rates`` (rows with formatted rates),
        ``rate_keys``, ``note``, ``surges``, ``surge_note``, ``intervention``, ``density``
        (areas), ``unit_density``, ``hex_note``, ``themes`` (cards), ``problems``.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang: expected 'zh' or 'en', got {lang!r}")
    lab = hotline_labels(lang)
    r = doc["rates"]
    keys = list(r["by"])
    rates = []
    for row in r["rows"]:
        rates.append(
            {
                "rank": "—" if row.get("rank") is None else str(int(row["rank"])),
                "group": " · ".join(str(row.get(k, "")) for k in keys),
                "orders": f"{int(row['orders']):,}",
                **{
                    m: fmt_rate(row.get(m), row.get(f"{m}_lo"), row.get(f"{m}_hi"))
                    for m in ("response", "resolution", "satisfaction", "on_time")
                },
                "composite": fmt_rate(row.get("composite"), row.get("composite_lo"), None),
                "closure_hours": fmt_value(row.get("closure_hours_median")),
            }
        )
    shown = [
        m
        for m in ("response", "resolution", "satisfaction", "on_time", "composite")
        if any(x[m] != "—" for x in rates)
    ]
    ranked_on = r["ranked_on"].removesuffix("_lo")
    facts = [
        (lab["source"], doc.get("source") or "—"),
        (lab["orders"], f"{doc['orders']:,}"),
        (lab["period"], f"{str(doc['first'])[:10]} – {str(doc['last'])[:10]}"),
        (lab["located"], f"{doc['located']:,}"),
    ]
    inter = None
    if doc.get("intervention"):
        i = doc["intervention"]
        inter = {
            "date": str(i["date"])[:10],
            "category": i.get("category") or lab["all_categories"],
            "before": f"{int(i['before']):,}",
            "after": f"{int(i['after']):,}",
            "change": f"{i['change_pct']:+.1f} %",
            "ratio": f"{i['ratio']:.3f}",
            "interval": f"[{i['ratio_lo']:.3f}, {i['ratio_hi']:.3f}]",
            "adjusted": (
                f"{i['adjusted_ratio']:.3f} [{i['adjusted_lo']:.3f}, {i['adjusted_hi']:.3f}]"
                if i.get("adjusted_ratio") is not None
                else "—"
            ),
            "fell": lab["fell"] if i["fell"] else lab["not_fell"],
        }
    months = _all_months(doc)
    themes = []
    for t in doc.get("themes", []):
        terms = t["terms"]
        themes.append(
            {
                "theme": t["theme"],
                "name": f"{t['category']} · {' / '.join(terms[:2])}" if terms else t["category"],
                "category": t["category"],
                "keywords": ", ".join(terms),
                "orders": f"{t['orders']:,}",
                "months": t["months"],
                "places": t["places"],
                "recurring": lab["yes"] if t["recurring"] else lab["no"],
                "is_recurring": bool(t["recurring"]),
                "first_last": f"{str(t['first'])[:10]} – {str(t['last'])[:10]}",
                "examples": t["examples"],
                "top_places": ", ".join(f"{p['place']} ({p['orders']})" for p in t["top_places"]),
                "counts": theme_months(t, months),
                "month_list": _month_list(t.get("by_month", {})),
            }
        )
    density = [
        {
            "unit_id": d["unit_id"],
            "orders": f"{int(d['orders']):,}",
            "residents": fmt_value(d.get("residents")),
            "per_10k": fmt_value(d.get("per_10k")),
            "ratio_to_city": fmt_value(d.get("ratio_to_city")),
        }
        for d in doc.get("density", [])
    ]
    unit_density = [
        {
            "unit_id": d["unit_id"],
            "orders": f"{int(d['orders']):,}",
            "residents": fmt_value(d.get("residents")),
            "per_10k": fmt_value(d.get("per_10k")),
            "ratio_to_city": fmt_value(d.get("ratio_to_city")),
        }
        for d in sorted(
            doc.get("unit_density", []),
            key=lambda d: -(d.get("per_10k") or d.get("orders") or 0),
        )[:15]
    ]
    surges = [
        {
            "category": s.get("category", ""),
            "week": str(s["period"])[:10],
            "count": f"{int(s['count']):,}",
            "expected": fmt_value(s["expected"]),
            "ratio": fmt_value(s["ratio"]),
        }
        for s in doc.get("surges", [])[:10]
    ]
    return {
        "labels": lab,
        "facts": facts,
        "rate_keys": shown,
        "rates": rates,
        "ranked_on": lab.get(ranked_on, ranked_on),
        "note": r["note_zh"] if lang == "zh" else r["note"],
        "surges": surges,
        "surge_note": lab["short_history"] if doc.get("surge_note") else lab["no_surges"],
        "intervention": inter,
        "density": density,
        "unit_density": unit_density,
        "hex_note": lab["hex_note"].format(
            res=doc["hex_resolution"], cells=doc["hex_cells"], hot=doc["hot_cells"]
        )
        if doc["hex_cells"]
        else lab["no_positions"],
        "hex_rate_note": lab["hex_rate_note"] if doc.get("hex_per_10k") else "",
        "themes": themes,
        "problems": hotspot_problem_rows(doc, lang),
        "figures": {},
    }


def attach_hotline(report: Report, run_dir: str | os.PathLike[str]) -> Report:
    """Read ``RUN/hotline/`` (when present), build the section with its figures into
    ``report.hotline`` and add the hotspots to the report's problem list."""
    from citycheck.io.hotline_folder import FOLDER, read_hotline_folder
    from citycheck.listen.analytics.runfolder import run_units
    from citycheck.report import hotline_figures as hf

    run = Path(run_dir)
    doc = read_hotline_folder(run)
    if doc is None:
        return report
    sec = hotline_section(doc, report.lang)
    lab = sec["labels"]
    figs: dict[str, str] = {}
    if doc["trend"]["months"]:
        figs["trend"] = hf.trend_chart(
            doc["trend"],
            doc.get("surges", []),
            doc.get("intervention"),
            {"orders": lab["orders"], "surge": lab["surge"], "title": lab["trend"],
             "intervention": lab["intervention"]},
        )  # fmt: skip
    hex_file = run / FOLDER / "hexes.geojson"
    units = None
    if (run / "units.gpkg").exists():
        try:
            units = run_units(run, "neighbourhood")
        except Exception:  # a run without that layer still gets the grid map
            units = None
    if hex_file.exists():
        hexes = gpd.read_file(hex_file)
        rate = bool(doc.get("hex_per_10k"))
        uri = hf.hex_map(
            hexes,
            {"value": lab["per_10k"] if rate else lab["orders"], "hot": lab["hot"],
             "title": lab["hex_map"]},
            units,
            value="per_10k" if rate else "orders",
        )  # fmt: skip
        if uri:
            figs["hex_map"] = uri
    dens = {d["unit_id"]: d.get("per_10k") for d in doc.get("unit_density", [])}
    if units is not None and sum(v is not None for v in dens.values()) >= 2:
        uri = hf.unit_density_map(
            units, {k: (math.nan if v is None else v) for k, v in dens.items()},
            {"per_10k": lab["per_10k"], "title": lab["density_map"]},
        )  # fmt: skip
        if uri:
            figs["density_map"] = uri
    for t in sec["themes"]:
        t["sparkline"] = hf.sparkline_svg(t["counts"], title=t["name"])
    sec["figures"] = figs
    report.hotline = sec
    report.problems = [*report.problems, *sec["problems"]]
    return report
