"""The planning folders of a run: ``RUN/planning/`` (a sited project list) and
``RUN/whatif/<scenario>/`` (a what-if re-evaluation).

``RUN/planning/`` (``citycheck plan``; each file written atomically, earlier planning outputs
replaced):

=================== ========================================================================
projects.json       the project list (made by ``citycheck.plan.plan.projects_document``)
projects.csv        the same list as a flat table, one row per project (:func:`projects_table`)
plan_<category>.png a map per plan (PNG bytes made by the caller)
sites.gpkg          layers ``proposed_sites`` and ``candidate_sites`` (WGS84)
=================== ========================================================================

``RUN/whatif/<scenario>/`` (``citycheck whatif``): ``whatif.json`` (schema
``citycheck.whatif``), ``changes.csv``, ``whatif.gpkg`` (``actions``, ``buildings_changed``)
and ``whatif.png``.

This module is the folder format only: the caller computes the plans, the tables, the layers and
the maps and hands them in as plain data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from citycheck.io.errors import InputError

__all__ = [
    "PLANNING_DIR",
    "PROJECTS_CSV",
    "PROJECTS_JSON",
    "PROJECTS_SCHEMA",
    "SITES_GPKG",
    "WHATIF_DIR",
    "plan_map_name",
    "projects_table",
    "read_projects",
    "write_bytes",
    "write_json",
    "write_layers",
    "write_planning_folder",
    "write_whatif_folder",
]

PLANNING_DIR = "planning"
PROJECTS_JSON = "projects.json"
PROJECTS_CSV = "projects.csv"
SITES_GPKG = "sites.gpkg"
PROJECTS_SCHEMA = "citycheck.projects"
WHATIF_DIR = "whatif"
WHATIF_SCHEMA = "citycheck.whatif"
WHATIF_SCHEMA_VERSION = "1.0"


def plan_map_name(category: str) -> str:
    """The file name of a plan's map in ``RUN/planning/``.

    Examples
    --------
    >>> plan_map_name("elderly_care")
    'plan_elderly_care.png'
    """
    return f"plan_{category}.png"


def write_json(path: Path, doc: Mapping[str, Any]) -> Path:
    """Write JSON atomically (a temporary file renamed over the target)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_layers(path: Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write GeoPackage layers (WGS84) atomically; empty layers are skipped.

    Object columns are written as text (values that are not None or str become ``str(v)``).
    """
    tmp = path.with_name(path.stem + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    for name, gdf in layers.items():
        if len(gdf):
            out = gdf.to_crs("EPSG:4326")
            for c in out.columns:
                if c != out.geometry.name and out[c].dtype == object:
                    out[c] = out[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
            out.to_file(tmp, layer=name, driver="GPKG")
    if tmp.exists():
        os.replace(tmp, path)
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write a file's bytes (a PNG map) atomically, through ``<stem>.tmp<suffix>``."""
    tmp = path.with_name(path.stem + ".tmp" + path.suffix)
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def projects_table(projects: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The project list as a flat table (projects.csv): one row per project.

    ``projects`` are the project records (the rows of the project list, as in projects.json).
    """
    rows = []
    for r in projects:
        prob = r.get("problem") or {}
        district = [m for m in r.get("indicators_moved", []) if m.get("level") == "district"]
        rows.append(
            {
                "rank": r.get("rank"),
                "indicator": prob.get("indicator"),
                "problem_zh": prob.get("zh"),
                "problem_en": prob.get("en"),
                "category": r["category"],
                "category_zh": r["category_zh"],
                "category_en": r["category_en"],
                "n_sites": r["n_sites"],
                "site_ids": ";".join(s["site_id"] for s in r.get("sites", [])),
                "residents_newly_served": r.get("residents_newly_served"),
                "buildings_newly_served": r.get("buildings_newly_served"),
                "cost": r.get("cost"),
                "gap": (r.get("solver") or {}).get("gap"),
                "district_changes": "; ".join(
                    f"{m['indicator']} {m['before'] if m['before'] is not None else 'no data'}"
                    f" → {m['after']:.1f}"
                    for m in district
                    if m.get("after") is not None
                ),
                "note": r.get("note", ""),
            }
        )
    return pd.DataFrame(rows)


def write_planning_folder(
    run: str | os.PathLike[str],
    *,
    document: Mapping[str, Any],
    projects: Sequence[Mapping[str, Any]],
    maps: Mapping[str, bytes],
    layers: Mapping[str, gpd.GeoDataFrame],
) -> Path:
    """Write ``RUN/planning/`` (the run folder must exist); returns the folder.

    Parameters
    ----------
    run : path
        The run folder.
    document : mapping
        The projects.json document, JSON-ready.
    projects : sequence of mappings
        The project records, flattened into projects.csv by :func:`projects_table`.
    maps : mapping of str to bytes
        PNG bytes of each plan's map by category (``plan_<category>.png``), in order.
    layers : mapping of str to GeoDataFrame
        The layers of sites.gpkg by name (empty ones are not written).
    """
    out = Path(run) / PLANNING_DIR
    out.mkdir(exist_ok=True)
    write_json(out / PROJECTS_JSON, document)
    csv_tmp = out / (PROJECTS_CSV + ".tmp")
    projects_table(projects).to_csv(csv_tmp, index=False)
    csv_tmp.replace(out / PROJECTS_CSV)
    for category, png in maps.items():
        write_bytes(out / plan_map_name(category), png)
    write_layers(out / SITES_GPKG, layers)
    return out


def write_whatif_folder(
    out: str | os.PathLike[str],
    *,
    scenario: str,
    actions: Any,
    changes: pd.DataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    map_png: bytes,
) -> Path:
    """Write a what-if folder (created with its parents); returns it.

    Parameters
    ----------
    out : path
        The folder (``RUN/whatif/<scenario stem>``).
    scenario : str
        The scenario file as given, recorded in whatif.json.
    actions : JSON-ready
        The log of the actions applied, recorded in whatif.json.
    changes : DataFrame
        The indicator changes: changes.csv, and the ``changes`` of whatif.json (NaN as null).
    layers : mapping of str to GeoDataFrame
        The layers of whatif.gpkg (``actions``, ``buildings_changed``).
    map_png : bytes
        whatif.png.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rec = changes.astype(object).where(changes.notna(), None).to_dict("records")
    write_json(
        out / "whatif.json",
        {
            "schema": WHATIF_SCHEMA,
            "schema_version": WHATIF_SCHEMA_VERSION,
            "scenario": scenario,
            "actions": actions,
            "changes": rec,
        },
    )
    changes.to_csv(out / "changes.csv", index=False)
    write_layers(out / "whatif.gpkg", layers)
    write_bytes(out / "whatif.png", map_png)
    return out


def read_projects(run: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``RUN/planning/projects.json`` document, or None when the run folder has none.

    The document is checked as far as its readers rely on it: the schema name, a list of
    projects, and each project's ``category``, ``category_zh`` and ``category_en`` texts.

    Raises
    ------
    InputError
        A ``projects.json`` that is not a readable project list (naming the file, the field and
        the value).
    """
    path = Path(run) / PLANNING_DIR / PROJECTS_JSON
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, "file", path.name, f"not readable JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("schema") != PROJECTS_SCHEMA:
        schema = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise InputError(path, "schema", schema, f"expected {PROJECTS_SCHEMA!r}")
    if not isinstance(doc.get("projects"), list):
        raise InputError(path, "projects", doc.get("projects"), "expected a list of projects")
    for i, p in enumerate(doc["projects"]):
        for key in ("category", "category_zh", "category_en"):
            if not isinstance(p, dict) or not isinstance(p.get(key), str):
                value = p.get(key) if isinstance(p, dict) else p
                raise InputError(path, f"projects[{i}].{key}", value, "expected a text")
    return doc
