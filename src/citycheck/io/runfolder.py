"""Run folders: write one atomically, read one back with its version checked.

Layout: ``results.json`` (schema ``citycheck/evaluate/results.schema.json``), ``indicators.csv``,
``problems.csv``, ``units.gpkg`` (one layer per level plus ``grid``), ``summary.html`` and
``COMPLETE``. A folder is written under a temporary name and renamed when complete, so a failed
run never leaves a folder that looks complete.

This module is the folder format only: the caller builds the document
(:mod:`citycheck.evaluate.document`), the map layers and the summary page
(:mod:`citycheck.report.summary`) and hands them to :func:`write_run_folder`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import jsonschema
import pandas as pd

from citycheck import __version__
from citycheck.io.errors import InputError

__all__ = [
    "SCHEMA_VERSION",
    "column_name",
    "file_record",
    "is_replaceable",
    "read_results",
    "results_schema",
    "validate_results",
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


def validate_results(doc: Mapping[str, Any]) -> None:
    """Check a results.json document against :func:`results_schema`.

    Raises
    ------
    jsonschema.ValidationError
        Where the document does not match the schema.
    """
    jsonschema.validate(doc, results_schema())


def write_run_folder(
    out: str | os.PathLike[str],
    doc: Mapping[str, Any],
    *,
    layers: Mapping[str, gpd.GeoDataFrame],
    summary_html: str,
    overwrite: bool = False,
) -> Path:
    """Write a run folder, atomically.

    Parameters
    ----------
    out : path
        The run folder.
    doc : mapping
        The results.json document, JSON-ready
        (:meth:`citycheck.evaluate.document.ResultsDocument.to_json_dict`); it is checked
        against the schema. ``indicators.csv`` and ``problems.csv`` are its tables.
    layers : mapping of str to GeoDataFrame
        The layers of ``units.gpkg`` by name, in order (empty ones are not written).
    summary_html : str
        The text of ``summary.html``.
    overwrite : bool
        Replace an existing folder (only once the new one is complete).

    The folder is written as ``<out>.partial-<pid>`` and renamed to ``out`` only when every file
    (and the ``COMPLETE`` marker) is written; with ``overwrite`` an existing folder is replaced
    only then.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(out, "out_dir", str(out), "the run folder exists; use --overwrite")
    if out.exists() and not is_replaceable(out):
        raise InputError(
            out,
            "out_dir",
            str(out),
            "exists and is not a citycheck run folder (no results.json or COMPLETE); "
            "refusing to replace it: choose another --out",
        )
    tmp = out.with_name(f"{out.name}.partial-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        validate_results(doc)
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
        for name, layer in layers.items():
            if len(layer):
                layer.to_file(gpkg, layer=name, driver="GPKG")
        (tmp / "summary.html").write_text(summary_html, encoding="utf-8")
        (tmp / COMPLETE).write_text(f"citycheck {__version__} {doc['created']}\n")
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


def is_replaceable(path: str | os.PathLike[str]) -> bool:
    """Whether ``--overwrite`` may replace ``path``: an empty folder or a citycheck run folder
    (``results.json`` or ``COMPLETE`` in it), never a file or another folder with contents."""
    folder = Path(path)
    if not folder.is_dir():
        return False
    if (folder / COMPLETE).exists() or (folder / "results.json").exists():
        return True
    return not any(folder.iterdir())


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
        validate_results(doc)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise InputError(path, where or "document", None, exc.message) from exc
    return doc
