"""The report's content as data: one table and two lists, built from a run's results.json.

Pure functions: results.json (read as a :class:`citycheck.evaluate.document.ResultsDocument`;
a dict is accepted and read into one) and the run's map layers in, plain rows out. The HTML and
PDF renderers only lay these rows out, so tests can compare them with results.json directly.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from citycheck.categories import categories
from citycheck.city import LEVELS
from citycheck.evaluate.catalogue import DIMENSIONS, catalogue, dimensions, indicator_text
from citycheck.evaluate.document import IndicatorRow, ProblemRow, ResultsDocument, as_document
from citycheck.labels import (
    label,
    message,
    not_computed_reason,
    translate_threshold,
)

__all__ = [
    "Report",
    "actions",
    "build_report",
    "compare_runs",
    "fmt_value",
    "not_computed_reason",
    "residents_by_unit",
    "translate_threshold",
]

_LEVEL_ORDER = ("district", "neighbourhood", "compound", "dwelling")


@dataclass
class Report:
    """Everything the report shows, in one language.

    Each list holds plain dicts (rows); see :func:`build_report` for their keys.
    """

    lang: str
    title: str
    area_name: str
    created: str
    software: str
    overview: list[tuple[str, str]]
    inputs: list[dict[str, Any]]
    completeness: list[dict[str, Any]]
    building_completeness: list[tuple[str, str]]
    not_computed: list[dict[str, Any]]
    levels: list[dict[str, Any]]
    weights: list[dict[str, Any]]
    red_lines: list[dict[str, Any]]
    method_rows: list[dict[str, Any]]
    overall: list[dict[str, Any]]
    dimension_rows: list[dict[str, Any]]
    indicator_rows: list[dict[str, Any]]
    unit_rows: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    projects: list[dict[str, Any]]
    sensitivity: list[dict[str, Any]]
    sensitivity_units: list[dict[str, Any]]
    notes: list[str]
    warnings: list[str]
    attribution: list[str]
    figures: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    base_note: str = ""
    has_access: bool = False
    comparison: list[dict[str, Any]] = field(default_factory=list)
    compare_name: str = ""
    compare_dimensions: list[dict[str, Any]] = field(default_factory=list)
    planning: dict[str, Any] | None = None  # sited project list (report/planning_section.py)
    lifeline: dict[str, Any] | None = None  # report/lifeline_section.py (RUN/lifeline/)
    hotline: dict[str, Any] | None = None  # RUN/hotline/ (report/hotline_section.py)


def fmt_value(value: Any) -> str:
    """A value as shown in the report: 4 significant digits, thousands separated, "—" if none.

    Examples
    --------
    >>> fmt_value(36.3636), fmt_value(12000.0), fmt_value(None), fmt_value(0.0)
    ('36.36', '12,000', '—', '0')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | np.number):
        v = float(value)
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.4g}"
    return str(value)


def _census_overview(census: dict[str, Any], lang: str) -> str:
    """The census line of the overview: county, its residents, the study area's share."""
    try:
        msg = message(
            "msg_census_overview",
            county=census["county"],
            adcode=census["adcode"],
            population=int(census["population"]),
            share=float(census["area_share"]),
            residents=float(census["residents_total"]),
        )
    except (KeyError, TypeError, ValueError):
        return ", ".join(f"{k}: {v}" for k, v in census.items() if not isinstance(v, dict))
    method = census.get("method_zh" if lang == "zh" else "method") or census.get("method", "")
    sep = "。" if lang == "zh" else ". "
    return msg.text(lang) + (sep + str(method) if method else "")


@cache
def actions() -> dict[str, dict[str, Any]]:
    """Candidate actions by indicator id (``actions.toml``)."""
    text = resources.files("citycheck.report").joinpath("actions.toml").read_text("utf-8")
    return tomllib.loads(text)["actions"]


def residents_by_unit(buildings: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.Series:
    """Residents per unit: buildings assigned by a point on their surface.

    Returns
    -------
    Series
        Residents by ``unit_id`` (0 for units without residential buildings).
    """
    if not len(units):
        return pd.Series(dtype=float)
    if not len(buildings) or "residents" not in buildings:
        return pd.Series(0.0, index=units["unit_id"].astype(str))
    pts = gpd.GeoDataFrame(
        {"residents": buildings["residents"].fillna(0.0).to_numpy()},
        geometry=buildings.geometry.representative_point(),
        crs=buildings.crs,
    )
    joined = gpd.sjoin(pts, units[["unit_id", "geometry"]], how="inner", predicate="within")
    joined = joined[~joined.index.duplicated()]
    sums = joined.groupby("unit_id")["residents"].sum()
    out = pd.Series(0.0, index=units["unit_id"].astype(str))
    out.loc[sums.index.astype(str)] = sums.to_numpy()
    return out


def _level_name(level: str, lang: str) -> str:
    if level in LEVELS:
        return LEVELS[level][0 if lang == "zh" else 1]
    return label(level, lang)


def _dim_name(dim: str, lang: str) -> str:
    pair = dimensions().get(dim, (dim, dim))
    return pair[0] if lang == "zh" else pair[1]


def _ind_name(iid: str, lang: str, fallback: IndicatorRow | ProblemRow | None = None) -> str:
    cat = catalogue()
    if iid in cat:
        return cat[iid].name(lang)
    if fallback:
        return fallback.zh if lang == "zh" else fallback.en
    return iid


def _cat_name(cid: str, lang: str) -> str:
    cats = categories()
    return cats[cid].name(lang) if cid in cats else cid


def _order_key(iid: str) -> tuple[int, int]:
    ids = list(catalogue())
    ind = catalogue().get(iid)
    dim = DIMENSIONS.index(ind.dimension) if ind else len(DIMENSIONS)
    return dim, ids.index(iid) if iid in ids else len(ids)


def _indicator_rows(doc: ResultsDocument, lang: str) -> tuple[list[dict], list[dict]]:
    by_id = doc.by_indicator()
    rows, unit_rows = [], []
    for iid in sorted(by_id, key=_order_key):
        recs = by_id[iid]
        levels_present = sorted({r.level for r in recs}, key=_LEVEL_ORDER.index)
        top = next(r for r in recs if r.level == levels_present[0])
        spread = []
        for lv in levels_present[1:]:
            sub = [r for r in recs if r.level == lv]
            n_fail = sum(r.grade == "fail" for r in sub)
            n_val = sum(r.value is not None for r in sub)
            spread.append(
                {
                    "level": lv,
                    "level_name": _level_name(lv, lang),
                    "n": len(sub),
                    "n_fail": n_fail,
                    "n_value": n_val,
                }
            )
        rows.append(
            {
                "id": iid,
                "name": _ind_name(iid, lang, top),
                "dimension": top.dimension,
                "dimension_name": _dim_name(top.dimension, lang),
                "level": top.level,
                "level_name": _level_name(top.level, lang),
                "unit_id": top.unit_id,
                "value": top.value,
                "value_text": fmt_value(top.value),
                "unit": indicator_text(iid, "unit", lang, top.unit),
                "threshold": translate_threshold(top.threshold, lang),
                "grade": top.grade,
                "grade_name": label(top.grade, lang),
                "gap": top.gap,
                "gap_text": fmt_value(top.gap),
                "source": indicator_text(iid, "source", lang, top.source),
                "red_line": bool(top.red_line),
                "reason": doc.not_computed_reason(iid, lang),
                "spread": spread,
            }
        )
        for r in sorted(recs, key=lambda r: (_LEVEL_ORDER.index(r.level), r.unit_id)):
            if r is top:
                continue
            unit_rows.append(
                {
                    "id": iid,
                    "name": _ind_name(iid, lang, r),
                    "level": r.level,
                    "level_name": _level_name(r.level, lang),
                    "unit_id": r.unit_id,
                    "value": r.value,
                    "value_text": fmt_value(r.value),
                    "unit": indicator_text(iid, "unit", lang, r.unit),
                    "grade": r.grade,
                    "grade_name": label(r.grade, lang),
                }
            )
    return rows, unit_rows


def _problem_rows(doc: ResultsDocument, lang: str) -> list[dict[str, Any]]:
    rows = []
    for p in doc.problems:
        # optional fields: the defaults a document without them (schema 1.0) is read with
        grade = p.value_of("grade", "fail")
        rows.append(
            {
                "id": p.indicator,
                "name": _ind_name(p.indicator, lang, p),
                "dimension_name": _dim_name(p.value_of("dimension", ""), lang),
                "scope": p.scope,
                "scope_name": _level_name(p.scope, lang),
                "value": p.value,
                "value_text": fmt_value(p.value),
                "unit": indicator_text(p.indicator, "unit", lang, p.value_of("unit", "")),
                "threshold": translate_threshold(p.threshold, lang),
                "gap": p.gap,
                "gap_text": fmt_value(p.gap),
                "grade": grade,
                "grade_name": label(grade, lang),
                "red_line": bool(p.red_line),
                "units_failing": p.value_of("units_failing", 0),
                "units_total": p.value_of("units_total", 0),
                "worst_level": p.worst_level,
                "worst_level_name": _level_name(p.worst_level, lang) if p.worst_level else "",
                "worst_units": [
                    {
                        "unit_id": str(u["unit_id"]),
                        "value": u["value"],
                        "text": fmt_value(u["value"]),
                    }
                    for u in p.worst_units
                ],
                "source": indicator_text(p.indicator, "source", lang, p.source),
            }
        )
    return rows


def _gap_residents(
    buildings: gpd.GeoDataFrame, cats: list[str], dist_cols: dict[str, str], rule: str = "each"
) -> float | None:
    """Residents of residential buildings lacking the categories within their walking limits.

    ``rule="each"``: a building lacks when any category is beyond its limit (all are needed);
    ``"any"``: the categories are alternatives, a building lacks only when all are beyond.
    """
    use = [c for c in cats if c in dist_cols]
    if not use or "residents" not in buildings:
        return None
    within = np.array(
        [
            pd.to_numeric(buildings[dist_cols[c]], errors="coerce").to_numpy(float)
            <= categories()[c].walk_limit_m  # NaN (unreachable) and +inf are not within
            for c in use
        ]
    )
    lack = ~within.any(axis=0) if rule == "any" else ~within.all(axis=0)
    res = buildings["residents"].fillna(0.0).to_numpy(float)
    if "residential" in buildings:
        res = np.where(buildings["residential"].fillna(False).astype(bool), res, 0.0)
    return float(res[lack].sum())


def _project_rows(
    doc: ResultsDocument,
    lang: str,
    unit_residents: dict[str, pd.Series],
    buildings: gpd.GeoDataFrame | None,
    dist_cols: dict[str, str],
) -> list[dict[str, Any]]:
    acts = actions()
    total = doc.study_area.residents_total
    grades: dict[tuple[str, str], list[IndicatorRow]] = {}
    for rec in doc.indicators:
        grades.setdefault((rec.id, rec.level), []).append(rec)
    rows = []
    for p in doc.problems:
        iid = p.indicator
        act = acts.get(iid)
        cats = list(act["categories"]) if act else []
        if act:
            action = act["zh"] if lang == "zh" else act["en"]
        else:
            name = _ind_name(iid, lang, p)
            action = f"改善“{name}”" if lang == "zh" else f"Improve “{name}”"
        level = p.worst_level
        failing: list[str] = []
        if level:
            failing = [str(u.unit_id) for u in grades.get((iid, level), []) if u.grade == "fail"]
        residents: float | None
        basis: str
        rule = act.get("rule", "each") if act else "each"
        walk_measure = iid in catalogue() and catalogue()[iid].compute == "access"
        gap_res = (
            _gap_residents(buildings, cats, dist_cols, rule)
            if buildings is not None and walk_measure
            else None
        )
        if gap_res is not None:
            residents, basis = gap_res, "walk"
        elif failing and level in unit_residents:
            ser = unit_residents[level]
            residents = float(ser.reindex(failing).fillna(0.0).sum())
            basis = "units"
        else:
            residents, basis = total, "area"
        if failing and level:  # units fail only at a worst level
            area = f"{len(failing)} {_level_name(level, lang)}: " + ", ".join(failing[:8])
            area += " …" if len(failing) > 8 else ""
        else:
            area = label("whole_area", lang)
        rows.append(
            {
                "id": iid,
                "name": _ind_name(iid, lang, p),
                "action": action,
                "categories": [_cat_name(c, lang) for c in cats],
                "area": area,
                "failing_units": failing,
                "level": level or p.scope,
                "residents": residents,
                "residents_text": fmt_value(round(residents) if residents is not None else None),
                "basis": label(f"residents_basis_{basis}", lang),
                "red_line": bool(p.red_line),
                "gap_text": fmt_value(p.gap),
                "unit": indicator_text(iid, "unit", lang, p.value_of("unit", "")),
                "priority": 0 if p.red_line else 1,
            }
        )
    rows.sort(key=lambda r: (r["priority"], -(r["residents"] or 0.0)))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


def _completeness(
    doc: ResultsDocument, facilities: gpd.GeoDataFrame | None, lang: str
) -> list[dict[str, Any]]:
    counts = doc.counts.facilities
    residents = doc.study_area.residents_total or 0.0
    fac = facilities if facilities is not None and len(facilities) else None
    if fac is not None and "in_area" in fac:
        fac = fac[fac["in_area"].fillna(False).astype(bool)]
    rows = []
    for cid, cat in categories().items():
        n = int(counts.get(cid, 0))
        named = None
        if fac is not None and n:
            sub = fac[fac["category"] == cid]
            if len(sub) and "name" in sub:
                named = float(sub["name"].notna().mean() * 100)
        status = ("none_mapped" if cat.life_circle else "none_found") if n == 0 else "mapped"
        rows.append(
            {
                "category": cid,
                "name": cat.name(lang),
                "count": n,
                "per_10k": fmt_value(n / residents * 1e4) if residents else "—",
                "named_share": fmt_value(named),
                "life_circle": cat.life_circle,
                "walk_limit_m": cat.walk_limit_m,
                "status": status,
                "status_name": label(status, lang),
            }
        )
    return rows


def _building_completeness(buildings: gpd.GeoDataFrame | None, lang: str) -> list[tuple[str, str]]:
    if buildings is None or not len(buildings):
        return []
    out = []
    n = len(buildings)
    for col, key in (("levels", "tagged_levels"), ("height_m", "tagged_height"),
                     ("start_date", "tagged_start_date")):  # fmt: skip
        if col in buildings:
            out.append((label(key, lang), f"{buildings[col].notna().mean() * 100:.1f} %"))
    if "residential_source" in buildings:
        for src, k in Counter(buildings["residential_source"].fillna("—")).most_common():
            out.append((f"{label('residential_source', lang)}: {src}", f"{k / n * 100:.1f} %"))
    return out


def _dimension_rows(doc: ResultsDocument, lang: str) -> list[dict[str, Any]]:
    dims = pd.DataFrame(doc.scores.dimensions)
    weights = doc.scores.dimension_weights
    rows = []
    for dim in DIMENSIONS:
        row: dict[str, Any] = {
            "dimension": dim,
            "name": _dim_name(dim, lang),
            "weight": weights.get(dim),
            "weight_text": fmt_value(weights.get(dim)),
        }
        for lv in ("district", "neighbourhood", "compound"):
            sub = dims[(dims["level"] == lv) & (dims["dimension"] == dim)] if len(dims) else dims
            vals = sub["score"].dropna().to_numpy(float) if len(sub) else np.array([])
            if lv == "district":
                row["district"] = float(vals[0]) if len(vals) else None
                row["district_text"] = fmt_value(row["district"])
            else:
                row[lv] = (
                    f"{np.median(vals):.1f} ({vals.min():.1f}–{vals.max():.1f}, n={len(vals)})"
                    if len(vals)
                    else "—"
                )
        rows.append(row)
    return rows


def _overall_rows(doc: ResultsDocument, lang: str) -> list[dict[str, Any]]:
    ov = pd.DataFrame(doc.scores.overall)
    rows: list[dict[str, Any]] = []
    if not len(ov):
        return rows
    for lv in _LEVEL_ORDER:
        sub = ov[ov["level"] == lv]
        if not len(sub):
            continue
        grades = Counter(sub["grade"])
        vetoes = sorted({v for v in sub.get("vetoed_by", pd.Series(dtype=str)).fillna("") if v})
        scores = sub["score"].dropna().to_numpy(float)
        rows.append(
            {
                "level": lv,
                "level_name": _level_name(lv, lang),
                "n": len(sub),
                "score_text": fmt_value(float(scores[0]))
                if len(sub) == 1 and len(scores)
                else (
                    f"{np.median(scores):.1f} ({scores.min():.1f}–{scores.max():.1f})"
                    if len(scores)
                    else "—"
                ),
                "grades": ", ".join(f"{label(g, lang)} {k}" for g, k in grades.most_common()),
                "vetoed_by": ", ".join(vetoes),
            }
        )
    return rows


def _sensitivity(doc: ResultsDocument, lang: str) -> tuple[list[dict], list[dict]]:
    sens = doc.scores.sensitivity or {}
    rows: list[dict] = []
    unit_rows: list[dict] = []
    for lv, block in sens.items():
        units = block.get("units", {})
        for uid, u in units.items():
            row = {
                "level": lv,
                "level_name": _level_name(lv, lang),
                "unit_id": uid,
                "base": fmt_value(u.get("base_score")),
                "grade_name": label(u.get("base_grade", ""), lang),
                "same_grade": f"{u.get('share_same_grade', float('nan')) * 100:.1f} %",
                "p05_p95": f"{fmt_value(u.get('score_p05'))}–{fmt_value(u.get('score_p95'))}",
                "same_rank": f"{u['share_same_rank'] * 100:.1f} %"
                if "share_same_rank" in u
                else "—",
                "draws": block.get("draws"),
                "concentration": block.get("concentration"),
            }
            (rows if lv == "district" else unit_rows).append(row)
    return rows, unit_rows


def compare_runs(
    a: ResultsDocument | Mapping[str, Any], b: ResultsDocument | Mapping[str, Any], lang: str
) -> list[dict[str, Any]]:
    """District values of two runs side by side, with the difference and the grade change."""

    def top(doc: ResultsDocument) -> dict[str, IndicatorRow]:
        return {i.id: i for i in doc.rows("district")}

    ta, tb = top(as_document(a)), top(as_document(b))
    cat = catalogue()
    rows = []
    for iid in [i for i in cat if i in ta or i in tb]:
        x, y = ta.get(iid), tb.get(iid)
        va = x.value if x else None
        vb = y.value if y else None
        rows.append(
            {
                "id": iid,
                "name": cat[iid].name(lang),
                "unit": cat[iid].unit_text(lang),
                "a": va,
                "b": vb,
                "a_text": fmt_value(va),
                "b_text": fmt_value(vb),
                "diff_text": fmt_value(vb - va) if va is not None and vb is not None else "—",
                "grade_a": label(x.grade, lang) if x else "—",
                "grade_b": label(y.grade, lang) if y else "—",
                "changed": bool(x and y and x.grade != y.grade),
            }
        )
    return rows


def build_report(
    doc: ResultsDocument | Mapping[str, Any],
    *,
    lang: str = "en",
    buildings: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    units: dict[str, gpd.GeoDataFrame] | None = None,
    baseline: ResultsDocument | Mapping[str, Any] | None = None,
) -> Report:
    """The report's content from results.json and (optionally) the run's map layers.

    Parameters
    ----------
    doc : ResultsDocument or dict
        results.json of a run (:func:`citycheck.evaluate.document.load_results`; a dict, as
        :func:`citycheck.io.runfolder.read_results` gives it, is read into the model).
    lang : {"zh", "en"}
    buildings, facilities, units : GeoDataFrame, optional
        Layers of ``units.gpkg``; without them, residents affected fall back to the whole area
        and the building-attribute completeness is left out.
    baseline : ResultsDocument or dict, optional
        results.json of an earlier run or another scenario, shown as "before" beside this run.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang: expected 'zh' or 'en', got {lang!r}")
    from citycheck.report.layers import distance_columns

    doc = as_document(doc)
    base = as_document(baseline) if baseline is not None else None
    sa = doc.study_area
    counts = doc.counts
    overview = [
        (label("study_area", lang), sa.name),
        (label("area_km2", lang), fmt_value(sa.area_km2)),
        (label("residents", lang), fmt_value(sa.residents_total)),
        (label("residents_method", lang), sa.in_language("residents_method", lang) or "—"),
        (label("buildings", lang), fmt_value(counts.buildings)),
        (label("residential_buildings", lang), fmt_value(counts.residential_buildings)),
        (label("facilities", lang), fmt_value(sum(counts.facilities.values()))),
        (label("crs", lang), sa.crs),
        (label("created", lang), doc.created),
    ]
    census = sa.census
    if census:
        overview.append((label("census", lang), _census_overview(census, lang)))
    unit_res: dict[str, pd.Series] = {}
    if units is not None and buildings is not None:
        for lv, gdf in units.items():
            unit_res[lv] = residents_by_unit(buildings, gdf)
    dist_cols = distance_columns(buildings) if buildings is not None else {}
    indicator_rows, unit_rows = _indicator_rows(doc, lang)
    cat = catalogue()
    evaluated = sorted({r.id for r in doc.indicators}, key=_order_key)
    method_rows = []
    for iid in evaluated:
        ind = cat.get(iid)
        if ind is None:
            continue
        method_rows.append(
            {
                "id": iid,
                "name": ind.name(lang),
                "dimension_name": _dim_name(ind.dimension, lang),
                "levels": ", ".join(_level_name(lv, lang) for lv in ind.levels),
                "direction": label(f"direction_{ind.direction}", lang),
                "threshold": ind.threshold_text(lang),
                "formula": ind.formula_text(lang),
                "source": ind.source_text(lang),
                "data": ind.data,
                "compute": ind.compute,
                "red_line": ind.red_line,
            }
        )
    n_units = counts.value_of("units", {})
    levels = [
        {"level": lv, "name": _level_name(lv, lang), "n": n_units.get(lv, "—")}
        for lv in ("district", "neighbourhood", "compound", "grid")
    ]
    levels.append(
        {"level": "dwelling", "name": _level_name("dwelling", lang), "n": counts.buildings}
    )
    weights = [
        {"name": _dim_name(d, lang), "weight": fmt_value(w)}
        for d, w in doc.scores.dimension_weights.items()
    ]
    red_lines = [m for m in method_rows if m["red_line"]]
    not_computed = [
        {
            "id": iid,
            "name": _ind_name(iid, lang),
            "reason": doc.not_computed_reason(iid, lang),
            "compute": cat[iid].compute if iid in cat else "",
        }
        for iid in sorted(doc.not_computed, key=_order_key)
    ]
    sens, sens_units = _sensitivity(doc, lang)
    attribution = [label("osm_attribution", lang)]
    if census:
        attribution.append(label("census_attribution", lang))
    attribution.append(f"{label('generated_by', lang)} {doc.software.version}")
    comparison, compare_name, compare_dims = [], "", []
    if base is not None:
        comparison = compare_runs(base, doc, lang)
        compare_name = f"{base.study_area.name} ({base.created[:10]})"
        compare_dims = _dimension_rows(base, lang)
    return Report(
        comparison=comparison,
        compare_name=compare_name,
        compare_dimensions=compare_dims,
        lang=lang,
        title=label("title", lang),
        area_name=sa.name,
        created=doc.created,
        software=f"citycheck {doc.software.version}",
        overview=overview,
        inputs=[i.to_json_dict() for i in doc.inputs],
        completeness=_completeness(doc, facilities, lang),
        building_completeness=_building_completeness(buildings, lang),
        not_computed=not_computed,
        levels=levels,
        weights=weights,
        red_lines=red_lines,
        method_rows=method_rows,
        overall=_overall_rows(doc, lang),
        dimension_rows=_dimension_rows(doc, lang),
        indicator_rows=indicator_rows,
        unit_rows=unit_rows,
        problems=_problem_rows(doc, lang),
        projects=_project_rows(doc, lang, unit_res, buildings, dist_cols),
        sensitivity=sens,
        sensitivity_units=sens_units,
        notes=list(doc.scores.in_language("notes", lang, [])),
        warnings=list(doc.in_language("warnings", lang, [])),
        attribution=attribution,
    )
