"""Run folders behind the dashboard: read once, checked, served as plain data and GeoJSON."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from citycheck.categories import categories
from citycheck.evaluate.catalogue import DIMENSIONS, catalogue, dimensions, indicator_text
from citycheck.evaluate.document import IndicatorRow, ResultsDocument, as_document
from citycheck.io.errors import InputError
from citycheck.io.runfolder import column_name, read_results
from citycheck.labels import label
from citycheck.report.layers import (
    MapLayers,
    distance_columns,
    life_circle_missing,
    load_layers,
)
from citycheck.report.model import (
    Report,
    build_report,
    compare_runs,
    fmt_value,
    translate_threshold,
)

__all__ = ["Run", "RunStore", "explain_building", "explain_unit"]

logger = logging.getLogger(__name__)

MAP_LEVELS = ("district", "neighbourhood", "compound", "grid", "dwelling")


@dataclass
class Run:
    """One run folder: its results, or the error that keeps it from being shown.

    ``results`` is results.json as read by the typed model; ``doc`` the same document as the
    JSON dict (kept for the views that serve it as it is).
    """

    id: str
    path: Path
    doc: dict[str, Any] | None = None
    results: ResultsDocument | None = None
    error: str = ""
    _layers: MapLayers | None = None
    _geojson: dict[str, str] = field(default_factory=dict)
    _reports: dict[str, Report] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.document.study_area.name if self.doc else self.path.name

    @property
    def document(self) -> ResultsDocument:
        """The typed results (read from ``doc`` the first time when only the dict was set)."""
        assert self.doc is not None
        if self.results is None:
            self.results = as_document(self.doc)
        return self.results

    def layers(self) -> MapLayers:
        with self._lock:
            if self._layers is None:
                self._layers = load_layers(self.path, self.document, base=False)
            return self._layers

    def report(self, lang: str) -> Report:
        with self._lock:
            if lang not in self._reports:
                lay = self._layers
                self._reports[lang] = build_report(
                    self.document,
                    lang=lang,
                    buildings=lay.buildings if lay is not None else None,
                    facilities=lay.facilities if lay is not None else None,
                    units=lay.units if lay is not None else None,
                )
            return self._reports[lang]

    def geojson(self, level: str) -> str:
        """A level's features in WGS84 as GeoJSON text (values, grades, ids)."""
        lay = self.layers()
        with self._lock:
            if level not in self._geojson:
                if level == "dwelling":
                    gdf = lay.buildings
                    keep = [c for c in gdf.columns if c in (
                        "osm_id", "building", "residential", "levels_est", "residents",
                    ) or c in distance_columns(gdf).values()]  # fmt: skip
                    cols = distance_columns(gdf)
                    gdf = gdf[[*keep, "geometry"]].rename(columns={"osm_id": "unit_id"})
                    if any(categories()[c].life_circle for c in cols):
                        gdf["lc_missing"] = life_circle_missing(lay.buildings, cols)
                elif level == "facilities":
                    gdf = lay.facilities[["category", "name", "geometry"]]
                else:
                    if level not in lay.units:
                        raise KeyError(level)
                    gdf = lay.units[level]
                gdf = gdf.to_crs("EPSG:4326")
                num = gdf.select_dtypes("number").columns
                if len(num):  # +inf (beyond the engine's search bound) is not valid JSON
                    gdf[num] = gdf[num].replace([np.inf, -np.inf], np.nan)
                if level == "dwelling":
                    gdf["geometry"] = gdf.geometry.simplify(0.000005)
                self._geojson[level] = gdf.to_json(na="null", drop_id=True)
            return self._geojson[level]


class RunStore:
    """The run folders given to ``citycheck serve``, each checked when the server starts.

    A folder that is incomplete or from an incompatible version is kept with its error, so the
    page can say what is wrong instead of breaking.
    """

    def __init__(self, run_dirs: Sequence[str | Path]) -> None:
        self.runs: dict[str, Run] = {}
        for i, path in enumerate(run_dirs):
            p = Path(path)
            rid = re.sub(r"[^A-Za-z0-9_-]", "_", p.name) or f"run{i}"
            while rid in self.runs:
                rid = f"{rid}_{i}"
            run = Run(id=rid, path=p)
            try:
                run.doc = read_results(p)
                run.results = ResultsDocument.from_json_dict(run.doc)
                run.layers()
            except InputError as exc:
                run.error = str(exc)
                logger.warning("run folder %s cannot be shown: %s", p, exc)
            self.runs[rid] = run

    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs.values() if not r.error]


def _grade_reason(ind: IndicatorRow, lang: str) -> str:
    grade = ind.grade
    thr = translate_threshold(ind.threshold, lang)
    unit = indicator_text(ind.id, "unit", lang, ind.unit)
    if grade in ("fail", "warning"):
        gap = fmt_value(ind.gap)
        if lang == "zh":
            return f"{label(grade, lang)}：标准 {thr}，差距 {gap} {unit}"
        return f"{label(grade, lang)}: threshold {thr}, short by {gap} {unit}"
    if grade == "pass":
        return f"{label(grade, lang)}（{thr}）" if lang == "zh" else f"{label(grade, lang)} ({thr})"
    return label(grade, lang)


def explain_unit(
    doc: ResultsDocument | Mapping[str, Any], level: str, unit_id: str, lang: str
) -> dict[str, Any]:
    """Every indicator value of one unit, with its grade and why it fails.

    Raises
    ------
    KeyError
        If the unit has no values at that level.
    """
    doc = as_document(doc)
    rows: list[dict[str, Any]] = [
        {
            "id": ind.id,
            "name": ind.zh if lang == "zh" else ind.en,
            "dimension": ind.dimension,
            "value": ind.value,
            "value_text": fmt_value(ind.value),
            "unit": indicator_text(ind.id, "unit", lang, ind.unit),
            "grade": ind.grade,
            "grade_name": label(ind.grade, lang),
            "why": _grade_reason(ind, lang),
        }
        for ind in doc.unit_rows(level, unit_id)
    ]
    if not rows:
        raise KeyError(f"{level} {unit_id}")
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    rows.sort(key=lambda r: (r["grade"] != "fail", order.get(r["dimension"], 9), r["id"]))
    ov = next(
        (o for o in doc.scores.overall if o["level"] == level and o["unit_id"] == unit_id),
        None,
    )
    return {
        "level": level,
        "level_name": label(level, lang),
        "unit_id": unit_id,
        "overall": None
        if ov is None
        else {
            "score": fmt_value(ov["score"]),
            "grade": ov["grade"],
            "grade_name": label(ov["grade"], lang),
            "vetoed_by": ov.get("vetoed_by", ""),
        },
        "indicators": rows,
        "n_fail": sum(r["grade"] == "fail" for r in rows),
    }


def explain_building(buildings: gpd.GeoDataFrame, osm_id: str, lang: str) -> dict[str, Any]:
    """One building's attributes and, where computed, its walking distances against the limits.

    Raises
    ------
    KeyError
        If no building has that ``osm_id``.
    """
    hit = buildings[buildings["osm_id"].astype(str) == str(osm_id)]
    if not len(hit):
        raise KeyError(osm_id)
    b = hit.iloc[0]
    attrs = []
    for col in ("building", "residential", "levels_est", "floor_area_m2", "residents"):
        if col in b.index:
            v = b[col]
            attrs.append({"key": label(col, lang), "value": fmt_value(
                v.item() if isinstance(v, np.generic) else v)})  # fmt: skip
    gaps = []
    cats = categories()
    for cid, col in distance_columns(buildings).items():
        d = float(pd.to_numeric(pd.Series([b[col]]), errors="coerce").iloc[0])
        limit = cats[cid].walk_limit_m
        assert limit is not None  # distance_columns keeps categories with a walking limit
        ok = bool(d <= limit)  # NaN (unreachable / none in area) and +inf are not within
        if np.isnan(d):
            text = label("unreachable", lang)
        elif np.isinf(d):
            text = label("beyond_search", lang)
        else:
            text = f"{d:,.0f} m"
        gaps.append(
            {
                "category": cid,
                "name": cats[cid].name(lang),
                "distance_m": float(d) if np.isfinite(d) else None,
                "distance_text": text,
                "limit_m": limit,
                "ok": ok,
                "grade": "pass" if ok else "fail",
                "grade_name": label("pass" if ok else "fail", lang),
            }
        )
    return {
        "level": "dwelling",
        "level_name": label("dwelling", lang),
        "unit_id": str(osm_id),
        "attributes": attrs,
        "gaps": gaps,
        "n_fail": sum(not g["ok"] for g in gaps),
        "access_computed": bool(gaps),
    }


def indicator_menu(doc: ResultsDocument | Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """Indicators with values in this run, by dimension, with the levels they have."""
    by_id: dict[str, set[str]] = {}
    for ind in as_document(doc).indicators:
        if ind.value is not None:
            by_id.setdefault(ind.id, set()).add(ind.level)
    cat = catalogue()
    dims = dimensions()
    out = []
    for d in DIMENSIONS:
        items = [
            {"id": iid, "name": cat[iid].name(lang) if iid in cat else iid,
             "unit": cat[iid].unit_text(lang) if iid in cat else "",
             "levels": [lv for lv in MAP_LEVELS if lv in by_id[iid]]}
            for iid in cat if iid in by_id and cat[iid].dimension == d
        ]  # fmt: skip
        out.append({"id": d, "name": dims[d][0 if lang == "zh" else 1], "indicators": items})
    return out


def ui_labels(lang: str) -> dict[str, str]:
    """Every label the page shows, in ``lang``."""
    from citycheck.labels import LABELS

    # the page's own labels: the parts' namespaced tables ("plan.view.*", ...) are served apart
    return {k: (v[0] if lang == "zh" else v[1]) for k, v in LABELS.items() if "." not in k}


def column_for(indicator: str) -> dict[str, str]:
    """Names of the value and grade properties of an indicator in the GeoJSON."""
    return {"value": column_name(indicator), "grade": column_name(indicator, "grade")}


__all__ += ["column_for", "compare_runs", "indicator_menu", "ui_labels"]
_ = json
