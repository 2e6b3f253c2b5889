"""Dashboard endpoints of the what-if panel: place, move or remove facilities on the map.

The page sends the whole scenario (a list of actions, WGS84) with every change; the server
rebuilds the run's City once from its recorded inputs (sha256-checked, as ``citycheck whatif``
does), keeps the walking-access result of the check, and answers each request with a fresh
:class:`~citycheck.plan.whatif.WhatIf` — only the area around each change is searched.
The answer is the difference: residents and buildings that switch to covered (or lose coverage)
per category, the changed buildings as GeoJSON, and every indicator value before and after.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi import APIRouter, Body, Depends, HTTPException, Request

from citycheck.categories import categories
from citycheck.evaluate.catalogue import indicator_text
from citycheck.io.errors import InputError, InputProblems
from citycheck.plan.labels import planning_labels
from citycheck.web.dashboard.deps import Lang, Store, get_run
from citycheck.web.dashboard.runs import Run, ui_labels

__all__ = ["MAX_ACTIONS", "WhatIfSessions", "router", "whatif_diff"]

#: The most actions one what-if request may carry.
MAX_ACTIONS = 100

Scenario = Body(..., description="{'actions': [...]} as in docs/planning.md (WGS84)")


@dataclass
class _Session:
    city: Any
    before: Any  # AccessResult of the check's city
    facilities: str  # GeoJSON of the facilities that can be moved or removed


class WhatIfSessions:
    """The what-if state of each run, built on first use (one per app: ``app.state.whatif``)."""

    def __init__(self) -> None:
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def get(self, rid: str, run: Run) -> _Session:
        """The session of run ``rid``: its City rebuilt from the recorded inputs (else 409)."""
        with self._lock:
            if rid not in self._sessions:
                from citycheck.access import analyse_city
                from citycheck.plan.runinputs import city_from_run

                try:
                    city, _doc = city_from_run(run.path)
                except (InputError, InputProblems) as exc:
                    raise HTTPException(409, f"what-if needs the run's inputs: {exc}") from exc
                self._sessions[rid] = _Session(city, analyse_city(city), _facility_geojson(city))
            return self._sessions[rid]


async def get_sessions(request: Request) -> WhatIfSessions:
    """The app's :class:`WhatIfSessions` (``app.state.whatif``)."""
    return request.app.state.whatif


Sessions = Annotated[WhatIfSessions, Depends(get_sessions)]


def _facility_geojson(city: Any) -> str:
    cats = categories()
    fac = city.facilities
    keep = fac["category"].map(lambda c: c in cats and cats[c].walk_limit_m is not None)
    gdf = fac.loc[keep.to_numpy(), ["facility_id", "category", "name", "geometry"]].copy()
    gdf["geometry"] = gdf.geometry.representative_point()
    gdf["name"] = gdf["name"].fillna("").astype(str)
    return gdf.to_crs("EPSG:4326").to_json(drop_id=True)


def whatif_diff(city: Any, before: Any, actions: list[Any], lang: str) -> dict[str, Any]:
    """Apply ``actions`` to the check's state and describe what changed.

    Parameters
    ----------
    city : City
    before : AccessResult
        ``analyse_city(city)``; not modified.
    actions : list of Action
        Validated actions (:func:`~citycheck.plan.whatif.scenario_actions`).
    lang : {"zh", "en"}

    Returns
    -------
    dict
        ``log`` (per action), ``categories`` (coverage change per category), ``buildings``
        (GeoJSON of the residential buildings that switched), ``indicators`` (district values
        before/after), ``units_changed`` (count of changed values per other level).

    Raises
    ------
    ValueError
        A site farther than the snapping distance from every walkable way, or an unknown
        facility.
    """
    from citycheck.plan.coverage_change import coverage_changes
    from citycheck.plan.whatif import WhatIf, indicator_changes

    wi = WhatIf(city, before)
    wi.apply(actions)
    after = wi.result()
    cats = categories()
    changes = coverage_changes(before, after, city.buildings["residents"])
    labels = ui_labels(lang)
    cat_rows = [
        {
            "id": c.category,
            "name": cats[c.category].zh if lang == "zh" else cats[c.category].en,
            "limit_m": c.limit_m,
            "buildings_newly_served": int(c.newly_served.size),
            "residents_newly_served": c.residents_newly_served,
            "buildings_no_longer_served": int(c.no_longer_served.size),
            "residents_no_longer_served": c.residents_no_longer_served,
        }
        for c in changes
    ]
    # one feature per switched building: newly served if it gains any category
    status: dict[int, tuple[str, list[str]]] = {}
    for c in changes:
        for r in c.newly_served.tolist():
            status[r] = ("newly_served", [*status.get(r, ("", []))[1], c.category])
        for r in c.no_longer_served.tolist():
            kind = status.get(r, ("no_longer_served", []))[0]
            status[r] = (kind, [*status.get(r, ("", []))[1], c.category])
    rows = sorted(status)
    b = city.buildings.iloc[rows]
    gdf = gpd.GeoDataFrame(
        {
            "unit_id": b["osm_id"].astype(str).to_numpy(),
            "change": [status[r][0] for r in rows],
            "categories": [",".join(status[r][1]) for r in rows],
            "residents": np.nan_to_num(b["residents"].to_numpy(dtype=float), nan=0.0),
        },
        geometry=b.geometry.to_numpy(),
        crs=city.crs,
    ).to_crs("EPSG:4326")
    ind = indicator_changes(city, before, after)
    district = ind[ind["level"] == "district"]

    def num(v: Any) -> float | None:
        return None if v is None or pd.isna(v) else float(v)

    def grade(g: Any) -> dict[str, str]:
        g = "no data" if g is None or pd.isna(g) else str(g)
        return {"grade": g, "name": labels.get(g, g)}

    return {
        "log": wi.log,
        "categories": cat_rows,
        "buildings": json.loads(gdf.to_json(drop_id=True)),
        "indicators": [
            {
                "id": r["indicator"],
                "name": r["zh"] if lang == "zh" else r["en"],
                "unit": indicator_text(
                    r["indicator"], "unit", lang, r["unit"] if isinstance(r["unit"], str) else ""
                ),
                "before": num(r["before"]),
                "after": num(r["after"]),
                "delta": num(r["delta"]),
                "grade_before": grade(r["grade_before"]),
                "grade_after": grade(r["grade_after"]),
            }
            for r in district.to_dict("records")
        ],
        "units_changed": {
            str(k): int(v)
            for k, v in ind.loc[ind["level"] != "district", "level"].value_counts().items()
        },
    }


router = APIRouter()


@router.get("/api/runs/{rid}/whatif/setup")
def setup(rid: str, store: Store, sessions: Sessions, lang: str = Lang) -> dict[str, Any]:
    s = sessions.get(rid, get_run(store, rid))
    cats = categories()
    present = {c for c in s.before.categories.index}
    return {
        "labels": planning_labels(lang),
        "categories": [
            {"id": cid, "name": c.zh if lang == "zh" else c.en, "limit_m": c.walk_limit_m}
            for cid, c in cats.items()
            if c.walk_limit_m is not None and cid in present
        ],
        "facilities": json.loads(s.facilities),
    }


@router.post("/api/runs/{rid}/whatif")
def whatif(
    rid: str,
    store: Store,
    sessions: Sessions,
    scenario: dict[str, Any] = Scenario,
    lang: str = Lang,
) -> dict[str, Any]:
    from citycheck.plan.whatif import scenario_actions

    s = sessions.get(rid, get_run(store, rid))
    source = f"POST /api/runs/{rid}/whatif"
    acts = scenario.get("actions")
    if isinstance(acts, list) and len(acts) > MAX_ACTIONS:
        raise HTTPException(
            422, f"{source}: actions: {len(acts)} actions; at most {MAX_ACTIONS} per request"
        )
    try:
        actions = scenario_actions(scenario, s.city.crs, source=source)
        out = whatif_diff(s.city, s.before, actions, lang)
    except InputError as exc:
        raise HTTPException(422, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, f"{source}: {exc}") from exc
    out["actions"] = scenario["actions"]
    return out
