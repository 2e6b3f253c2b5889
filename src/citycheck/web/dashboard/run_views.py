"""Dashboard endpoints of the runs themselves: the list, a run's metadata, map layers, tables,
problems, one unit explained, and two runs compared.

Runs are found with :func:`~citycheck.web.dashboard.deps.get_run` (404 unknown, 409 unreadable).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from citycheck.web.dashboard.deps import Lang, Store, get_run
from citycheck.web.dashboard.runs import (
    MAP_LEVELS,
    column_for,
    compare_runs,
    explain_building,
    explain_unit,
    indicator_menu,
    ui_labels,
)

__all__ = ["router"]

router = APIRouter()


@router.get("/api/runs")
def runs(store: Store) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "path": str(r.path),
            "created": r.doc["created"] if r.doc else None,
            "ok": not r.error,
            "error": r.error,
        }
        for r in store.runs.values()
    ]


@router.get("/api/runs/{rid}/meta")
def meta(rid: str, store: Store, lang: str = Lang) -> dict[str, Any]:
    run = get_run(store, rid)
    doc = run.doc
    assert doc is not None
    lay = run.layers()
    levels = [lv for lv in MAP_LEVELS if lv == "dwelling" or lv in lay.units]
    overall = next((o for o in doc["scores"]["overall"] if o["level"] == "district"), None)
    return {
        "id": rid,
        "name": run.name,
        "created": doc["created"],
        "bbox": doc["study_area"]["bbox_wgs84"],
        "levels": [{"id": lv, "name": ui_labels(lang).get(lv, lv)} for lv in levels],
        "dimensions": indicator_menu(doc, lang),
        "overall": overall,
        "n_problems": len(doc["problems"]),
        "not_computed": len(doc["not_computed"]),
    }


@router.get("/api/runs/{rid}/geojson/{level}")
def geojson(rid: str, level: str, store: Store) -> Response:
    run = get_run(store, rid)
    if level not in (*MAP_LEVELS, "facilities"):
        raise HTTPException(404, f"unknown level {level!r}; levels: {list(MAP_LEVELS)}")
    try:
        text = run.geojson(level)
    except KeyError:
        raise HTTPException(404, f"run {rid!r} has no {level} layer") from None
    return Response(text, media_type="application/geo+json")


@router.get("/api/runs/{rid}/table")
def table(
    rid: str, indicator: str, store: Store, level: str = "neighbourhood", lang: str = Lang
) -> dict[str, Any]:
    run = get_run(store, rid)
    rows = [
        {
            "unit_id": i["unit_id"],
            "value": i["value"],
            "grade": i["grade"],
            "grade_name": ui_labels(lang)[i["grade"]],
        }
        for i in run.doc["indicators"]  # type: ignore[index]
        if i["id"] == indicator and i["level"] == level
    ]
    rows.sort(key=lambda r: (r["grade"] != "fail", str(r["unit_id"])))
    return {"indicator": indicator, "level": level, "columns": column_for(indicator),
            "rows": rows}  # fmt: skip


@router.get("/api/runs/{rid}/problems")
def problems(rid: str, store: Store, lang: str = Lang) -> dict[str, Any]:
    run = get_run(store, rid)
    run.layers()
    rep = run.report(lang)
    return {"problems": rep.problems, "projects": rep.projects}


@router.get("/api/runs/{rid}/unit/{level}/{unit_id}")
def unit(rid: str, level: str, unit_id: str, store: Store, lang: str = Lang) -> dict[str, Any]:
    run = get_run(store, rid)
    try:
        if level == "dwelling":
            return explain_building(run.layers().buildings, unit_id, lang)
        return explain_unit(run.doc, level, unit_id, lang)  # type: ignore[arg-type]
    except KeyError:
        raise HTTPException(404, f"no {level} unit {unit_id!r} in run {rid!r}") from None


@router.get("/api/compare")
def compare(a: str, b: str, store: Store, lang: str = Lang) -> dict[str, Any]:
    ra, rb = get_run(store, a), get_run(store, b)
    return {"a": ra.name, "b": rb.name, "rows": compare_runs(ra.doc, rb.doc, lang)}  # type: ignore[arg-type]
