"""Run folders: write an evaluation atomically, read one back with its version checked.

Layout: ``results.json`` (schema ``citycheck/evaluate/results.schema.json``), ``indicators.csv``,
``problems.csv``, ``units.gpkg`` (one layer per level plus ``grid``), ``summary.html`` and
``COMPLETE``. A folder is written under a temporary name and renamed when complete, so a failed
run never leaves a folder that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd

from citycheck import __version__
from citycheck.io.errors import InputError
from citycheck.labels import Message

if TYPE_CHECKING:
    from citycheck.pipeline import Evaluation

__all__ = [
    "SCHEMA_VERSION",
    "column_name",
    "file_record",
    "read_results",
    "results_schema",
    "write_run_folder",
]

SCHEMA_VERSION = "1.1"
COMPLETE = "COMPLETE"


def column_name(indicator_id: str, kind: str = "value") -> str:
    """The one place output column names are made (GeoPackage layers, CSVs, dashboard).

    Examples
    --------
    >>> column_name("L01.pop"), column_name("L12", "grade")
    ('L01_pop', 'L12_grade')
    """
    base = indicator_id.replace(".", "_")
    return base if kind == "value" else f"{base}_{kind}"


def file_record(role: str, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Provenance of an input file: role, absolute path, sha256 and size."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file", str(p), f"{role} file not found")
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return {
        "role": role,
        "path": str(p.resolve()),
        "sha256": h.hexdigest(),
        "bytes": p.stat().st_size,
    }


def results_schema() -> dict[str, Any]:
    """The JSON Schema of results.json."""
    text = resources.files("citycheck.evaluate").joinpath("results.schema.json").read_text()
    return json.loads(text)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _en(value: Any) -> Any:
    """English text of a message (or of each message in a list or dict); text as given."""
    if isinstance(value, Message):
        return value.en
    if isinstance(value, dict):
        return {k: _en(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_en(v) for v in value]
    return value


def _zh(value: Any) -> Any:
    """Chinese text of a message (or of each message in a list or dict); text as given."""
    if isinstance(value, Message):
        return value.zh
    if isinstance(value, dict):
        return {k: _zh(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_zh(v) for v in value]
    return value


def results_document(ev: Evaluation) -> dict[str, Any]:
    """The results.json document of an evaluation.

    Messages shown to people (not-computed reasons, warnings, the residents method, scoring
    notes) are stored in English under their 1.0 keys and in Chinese under ``<key>_zh``.
    """
    from citycheck.evaluate.catalogue import catalogue

    city = ev.city
    cat = catalogue()
    bbox = gpd.GeoSeries([city.boundary], crs=city.crs).to_crs("EPSG:4326").total_bounds
    fac_counts = city.facilities[city.facilities["in_area"]]["category"].value_counts()
    indicators = []
    for rec in ev.values.to_dict("records"):
        ind = cat[rec["indicator"]]
        indicators.append(
            {
                "id": ind.id,
                "zh": ind.zh,
                "en": ind.en,
                "dimension": ind.dimension,
                "level": rec["level"],
                "unit_id": str(rec["unit_id"]),
                "value": rec["value"],
                "unit": ind.unit,
                "grade": rec["grade"],
                "normalised": rec["normalised"],
                "threshold": rec["threshold"],
                "gap": rec["gap"],
                "source": ind.source,
                "red_line": ind.red_line,
                "data": ind.data,
                "compute": ind.compute,
            }
        )
    problems = ev.problems.to_dict("records") if len(ev.problems) else []
    doc: dict[str, Any] = {
        "schema": "citycheck.results",
        "schema_version": SCHEMA_VERSION,
        "software": {"name": "citycheck", "version": __version__},
        "created": ev.created,
        "study_area": {
            "name": city.name,
            "crs": city.crs.to_string(),
            "area_km2": city.area_km2,
            "bbox_wgs84": [float(v) for v in bbox],
            "residents_total": city.meta.get("residents_total"),
            "residents_method": _en(city.meta.get("residents_method", "")),
            "residents_method_zh": _zh(city.meta.get("residents_method", "")),
            "census": city.meta.get("census"),
        },
        "inputs": ev.inputs,
        "parameters": {
            **ev.parameters,
            **{
                k: city.meta[k]
                for k in ("default_levels", "metres_per_level", "grid_size_m", "buffer_m")
                if k in city.meta
            },
        },
        "counts": {
            "buildings": len(city.buildings),
            "residential_buildings": int(city.buildings["residential"].sum()),
            "facilities": {str(k): int(v) for k, v in fac_counts.items()},
            "units": {k: len(v) for k, v in city.units.items()},
        },
        "indicators": indicators,
        "scores": {
            "method": ev.scores.method,
            "dimension_weights": ev.scores.dimension_weights,
            "dimensions": ev.scores.dimensions.to_dict("records"),
            "overall": ev.scores.overall.to_dict("records"),
            "sensitivity": ev.sensitivity,
            "notes": _en(ev.scores.notes),
            "notes_zh": _zh(ev.scores.notes),
        },
        "problems": problems,
        "not_computed": _en(ev.not_computed),
        "not_computed_zh": _zh(ev.not_computed),
        "warnings": _en(list(city.meta.get("warnings", []))),
        "warnings_zh": _zh(list(city.meta.get("warnings", []))),
    }
    return _clean(doc)


def _units_layers(ev: Evaluation) -> dict[str, gpd.GeoDataFrame]:
    city = ev.city
    layers: dict[str, gpd.GeoDataFrame] = {}
    vals = ev.values
    for level, units in city.units.items():
        layer = units.copy()
        sub = vals[(vals["level"] == level) & vals["value"].notna()]
        if len(sub):
            wide = sub.pivot_table(
                index="unit_id", columns="indicator", values="value", aggfunc="first"
            )
            grades = sub.pivot_table(
                index="unit_id", columns="indicator", values="grade", aggfunc="first"
            )
            wide.columns = [column_name(c) for c in wide.columns]
            grades.columns = [column_name(c, "grade") for c in grades.columns]
            layer = layer.merge(wide, left_on="unit_id", right_index=True, how="left")
            layer = layer.merge(grades, left_on="unit_id", right_index=True, how="left")
        layers[level] = layer
    b = city.buildings
    keep = [
        "osm_id",
        "building",
        "levels",
        "height_m",
        "start_date",
        "residential",
        "residential_source",
        "levels_est",
        "levels_source",
        "height_est_m",
        "footprint_m2",
        "floor_area_m2",
        "residents",
        "geometry",
    ]
    bl = b[[c for c in keep if c in b.columns]].copy()
    access = getattr(ev.access, "buildings", None)
    if isinstance(access, pd.DataFrame) and len(access) == len(bl):
        extra = access.drop(
            columns=[c for c in access.columns if c in bl.columns or c == "geometry"]
        )
        bl = pd.concat([bl, extra.set_index(bl.index)], axis=1)
    layers["dwelling"] = gpd.GeoDataFrame(bl, geometry="geometry", crs=city.crs)
    fac = city.facilities.copy()
    layers["facilities"] = fac[fac.geom_type == "Point"] if len(fac) else fac
    return layers


def write_run_folder(
    ev: Evaluation, out: str | os.PathLike[str], *, lang: str = "en", overwrite: bool = False
) -> Path:
    """Write an evaluation to a run folder, atomically.

    The folder is written as ``<out>.partial-<pid>`` and renamed to ``out`` only when every file
    (and the ``COMPLETE`` marker) is written; with ``overwrite`` an existing folder is replaced
    only then.
    """
    from citycheck.report.summary import render_summary

    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(out, "out_dir", str(out), "the run folder exists; use --overwrite")
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        doc = results_document(ev)
        jsonschema.validate(doc, results_schema())
        (tmp / "results.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        table = pd.DataFrame(doc["indicators"])
        table.to_csv(tmp / "indicators.csv", index=False, encoding="utf-8-sig")
        probs = pd.DataFrame(doc["problems"])
        if len(probs):
            probs["worst_units"] = probs["worst_units"].map(
                lambda us: "; ".join(f"{u['unit_id']}={u['value']:.4g}" for u in us)
            )
        probs.to_csv(tmp / "problems.csv", index=False, encoding="utf-8-sig")
        gpkg = tmp / "units.gpkg"
        for name, layer in _units_layers(ev).items():
            if len(layer):
                layer.to_file(gpkg, layer=name, driver="GPKG")
        (tmp / "summary.html").write_text(render_summary(doc, lang=lang), encoding="utf-8")
        (tmp / COMPLETE).write_text(f"citycheck {__version__} {ev.created}\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f"{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
    return out


def read_results(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a run folder's results.json.

    Raises
    ------
    InputError
        If the folder is missing, incomplete (no ``COMPLETE`` marker), or from an incompatible
        schema version, or results.json does not match the schema.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise InputError(run, "run_dir", str(run), "not a folder")
    if not (run / COMPLETE).exists():
        raise InputError(
            run,
            "COMPLETE",
            None,
            "the run folder is incomplete (the run failed or is still writing)",
        )
    path = run / "results.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, "file", path.name, f"unreadable results.json ({exc})") from exc
    version = str(doc.get("schema_version", ""))
    if doc.get("schema") != "citycheck.results" or version.split(".")[0] != "1":
        raise InputError(
            path,
            "schema_version",
            version or None,
            f"incompatible results (this citycheck reads 1.x, {SCHEMA_VERSION})",
        )
    try:
        jsonschema.validate(doc, results_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise InputError(path, where or "document", None, exc.message) from exc
    return doc
