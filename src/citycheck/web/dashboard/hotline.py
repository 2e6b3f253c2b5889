"""Dashboard endpoints of the hotline view: ``RUN/hotline/`` as JSON and GeoJSON.

Mounted by the app as :data:`router`; the browser side is ``static/hotline.js``.
A run without ``hotline/`` answers ``{"available": false}`` (the view stays hidden).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from citycheck.io.errors import InputError
from citycheck.io.hotline_folder import FOLDER, read_hotline_folder
from citycheck.report.hotline_figures import sparkline_svg
from citycheck.report.hotline_section import hotline_labels, hotline_section
from citycheck.web.dashboard.deps import Lang, Store, get_run
from citycheck.web.dashboard.runs import Run

__all__ = ["hotline_view", "router"]

router = APIRouter()


def hotline_view(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the dashboard's hotline view shows, in ``lang`` (pure).

    The section rows of the report (:func:`.hotline_section`) plus the raw series the browser
    draws the trend chart from: ``trend`` (months, categories, counts per category),
    ``surges`` (category, month) and ``intervention``.
    """
    sec = hotline_section(doc, lang)
    for t in sec["themes"]:
        t["sparkline"] = sparkline_svg(t["counts"], title=t["name"])
    months = doc["trend"]["months"]
    pos = {m: i for i, m in enumerate(months)}
    series: dict[str, list[int]] = {c: [0] * len(months) for c in doc["trend"]["categories"]}
    for r in doc["trend"]["rows"]:
        if r["category"] in series:
            series[r["category"]][pos[r["month"]]] = r["orders"]
    return {
        "available": True,
        "labels": sec.pop("labels"),
        **{k: v for k, v in sec.items() if k != "figures"},
        "trend": {"months": months, "series": series},
        "surge_marks": [
            {"category": s.get("category", ""), "month": s["month"]}
            for s in doc.get("surges", [])
            if s.get("month") in pos
        ],
        "intervention_raw": doc.get("intervention"),
        "hex_cells": doc["hex_cells"],
        "hot_cells": doc["hot_cells"],
    }


def _doc_of(run: Run) -> dict[str, Any] | None:
    try:
        return read_hotline_folder(run.path)
    except InputError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get("/api/runs/{rid}/hotline")
def hotline(rid: str, store: Store, lang: str = Lang) -> dict[str, Any]:
    doc = _doc_of(get_run(store, rid))
    if doc is None:
        return {"available": False, "labels": hotline_labels(lang)}
    return hotline_view(doc, lang)


@router.get("/api/runs/{rid}/hotline/hexes")
def hexes(rid: str, store: Store) -> Response:
    run = get_run(store, rid)
    f = Path(run.path) / FOLDER / "hexes.geojson"
    if not f.exists():
        raise HTTPException(404, f"run {rid!r} has no hotline grid")
    return Response(f.read_text(encoding="utf-8"), media_type="application/geo+json")
