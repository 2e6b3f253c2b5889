"""The dashboard web app (FastAPI): run folders as JSON/GeoJSON, and one page with a Leaflet map.

Leaflet is served from this package (``static/vendor/leaflet``, from the npm registry); the page
loads nothing from the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from citycheck.web.dashboard.hotline import hotline_router
from citycheck.web.dashboard.lifeline import lifeline_router
from citycheck.web.dashboard.planning import planning_router
from citycheck.web.dashboard.runs import (
    MAP_LEVELS,
    Run,
    RunStore,
    column_for,
    compare_runs,
    explain_building,
    explain_unit,
    indicator_menu,
    ui_labels,
)

__all__ = ["create_app"]

Lang = Query("en", pattern="^(zh|en)$")


def _static_dir() -> Path:
    return Path(str(resources.files("citycheck.web.dashboard") / "static"))


def create_app(store: RunStore | Sequence[str | Path]) -> FastAPI:
    """The dashboard app for a set of run folders.

    Parameters
    ----------
    store : RunStore or list of paths
        Run folders; those that cannot be read are listed with their error.
    """
    if not isinstance(store, RunStore):
        store = RunStore(list(store))
    app = FastAPI(title="citycheck dashboard", docs_url=None, redoc_url=None)
    static = _static_dir()
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.include_router(hotline_router(store))

    def get_run(rid: str) -> Run:
        run = store.runs.get(rid)
        if run is None:
            raise HTTPException(404, f"no run {rid!r}; runs: {sorted(store.runs)}")
        if run.error:
            raise HTTPException(409, f"run {rid!r} cannot be shown: {run.error}")
        return run

    app.include_router(lifeline_router(get_run))  # web/dashboard/lifeline.py

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(static / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/api/labels")
    def labels(lang: str = Lang) -> dict[str, str]:
        return ui_labels(lang)

    @app.get("/api/runs")
    def runs() -> list[dict[str, Any]]:
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

    @app.get("/api/runs/{rid}/meta")
    def meta(rid: str, lang: str = Lang) -> dict[str, Any]:
        run = get_run(rid)
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

    @app.get("/api/runs/{rid}/geojson/{level}")
    def geojson(rid: str, level: str) -> Response:
        run = get_run(rid)
        if level not in (*MAP_LEVELS, "facilities"):
            raise HTTPException(404, f"unknown level {level!r}; levels: {list(MAP_LEVELS)}")
        try:
            text = run.geojson(level)
        except KeyError:
            raise HTTPException(404, f"run {rid!r} has no {level} layer") from None
        return Response(text, media_type="application/geo+json")

    @app.get("/api/runs/{rid}/table")
    def table(
        rid: str, indicator: str, level: str = "neighbourhood", lang: str = Lang
    ) -> dict[str, Any]:
        run = get_run(rid)
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

    @app.get("/api/runs/{rid}/problems")
    def problems(rid: str, lang: str = Lang) -> dict[str, Any]:
        run = get_run(rid)
        run.layers()
        rep = run.report(lang)
        return {"problems": rep.problems, "projects": rep.projects}

    @app.get("/api/runs/{rid}/unit/{level}/{unit_id}")
    def unit(rid: str, level: str, unit_id: str, lang: str = Lang) -> dict[str, Any]:
        run = get_run(rid)
        try:
            if level == "dwelling":
                return explain_building(run.layers().buildings, unit_id, lang)
            return explain_unit(run.doc, level, unit_id, lang)  # type: ignore[arg-type]
        except KeyError:
            raise HTTPException(404, f"no {level} unit {unit_id!r} in run {rid!r}") from None

    @app.get("/api/compare")
    def compare(a: str, b: str, lang: str = Lang) -> dict[str, Any]:
        ra, rb = get_run(a), get_run(b)
        return {"a": ra.name, "b": rb.name, "rows": compare_runs(ra.doc, rb.doc, lang)}  # type: ignore[arg-type]

    app.include_router(planning_router(store))

    @app.exception_handler(HTTPException)
    def http_error(_request: Any, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    return app
