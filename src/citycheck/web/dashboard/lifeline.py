"""Dashboard views of a run's lifeline results (``RUN/lifeline/``): pipes by risk and the tables.

``GET /api/runs/{rid}/lifeline?lang=zh|en`` answers the pipes as GeoJSON in the network model's
own coordinates (``pipe_id``, ``risk``, ``risk_class``: 0 no risk, 1-4 quartiles of the positive
risks) and the same tables as the report section (top risk, renewal projects, criticality
ranking, active alarms), with their labels, and ``available: true``; a run without lifeline
results answers ``{"available": false}`` (not 404: the page asks for every run, and a browser
logs every 404 as an error). Drawn by ``static/lifeline.js``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter

from citycheck.io.lifeline_folder import read_lifeline_run
from citycheck.report.lifeline_section import lifeline_section, risk_classes
from citycheck.web.dashboard.deps import Lang, Store, get_run

__all__ = ["router"]

router = APIRouter(tags=["lifeline"])


def _pipes_geojson(run_path) -> dict[str, Any] | None:
    data = read_lifeline_run(run_path)
    if data is None or data.pipes is None:
        return None
    pipes = data.pipes[["pipe_id", "geometry"]].copy()
    if data.risk is not None:
        pipes = pipes.merge(data.risk[["pipe_id", "risk_residents_yr"]], on="pipe_id", how="left")
        pipes["risk_class"] = risk_classes(pipes["risk_residents_yr"])
        pipes = pipes.rename(columns={"risk_residents_yr": "risk"})
    return json.loads(pipes.to_json(na="null", drop_id=True))


@router.get("/api/runs/{rid}/lifeline")
def lifeline(rid: str, store: Store, lang: str = Lang) -> dict[str, Any]:
    """Lifeline map data and tables of one run."""
    run = get_run(store, rid)
    sec = lifeline_section(run.path, lang, with_map=False)
    if sec is None:
        return {"available": False}
    return {"available": True, **sec, "pipes": _pipes_geojson(run.path)}
