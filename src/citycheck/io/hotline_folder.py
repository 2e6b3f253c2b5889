"""The hotline folder of a run: ``RUN/hotline/``, written whole, read back with its version checked.

``citycheck hotline stats RECORDS --run RUN`` writes the analytics of one hotline table beside a
city health-check run, for the report and the dashboard:

``RUN/hotline/hotline.json``
    Everything the views show as plain data (made by
    ``citycheck.listen.analytics.runfolder.hotline_bundle``), version :data:`FORMAT_VERSION`.
``RUN/hotline/hexes.geojson``
    The H3 grid: orders, per 10,000 residents (where known), Gi* z, p, q and the ``hot`` flag.
``RUN/hotline/tables/*.csv``
    Every table, ready to write (bilingual headers, lists joined), UTF-8 with a byte-order mark.

This module is the folder format only: the caller computes the document, the grid and the
tables and hands them in as plain data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from citycheck.io.errors import InputError

__all__ = [
    "FOLDER",
    "FORMAT_VERSION",
    "read_hotline_folder",
    "write_hotline_folder",
    "write_table_folder",
]

#: Sub-folder of a run folder that holds the hotline analytics.
FOLDER = "hotline"
#: Version of ``hotline.json``; readers refuse other versions with a clear message.
FORMAT_VERSION = 1
HOTLINE_JSON = "hotline.json"
HEXES = "hexes.geojson"
TABLES = "tables"


def write_table_folder(
    tables: Mapping[str, pd.DataFrame], folder: str | os.PathLike[str]
) -> list[Path]:
    """Write each table as ``<name>.csv`` (UTF-8 with a byte-order mark, which Excel needs to
    show Chinese correctly) into ``folder`` (created); returns the files written."""
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables.items():
        f = p / f"{name}.csv"
        df.to_csv(f, index=False, encoding="utf-8-sig")
        written.append(f)
    return written


def write_hotline_folder(
    run_dir: str | os.PathLike[str],
    bundle: Mapping[str, Any],
    hexes: gpd.GeoDataFrame,
    tables: Mapping[str, pd.DataFrame],
) -> Path:
    """Write ``RUN/hotline/`` (replacing an earlier one only once the new one is complete).

    Parameters
    ----------
    run_dir : path
        A run folder (with ``results.json``).
    bundle : mapping
        The JSON-ready content of ``hotline.json``.
    hexes : GeoDataFrame
        The H3 grid (WGS84), ``hexes.geojson``.
    tables : mapping of str to DataFrame
        ``tables/<name>.csv``, written as given (:func:`write_table_folder`).

    Raises
    ------
    InputError
        When ``run_dir`` is not a complete run folder.
    """
    run = Path(run_dir)
    if not (run / "results.json").exists():
        raise InputError(run, "--run", str(run), "not a run folder (no results.json)")
    target = run / FOLDER
    tmp = Path(tempfile.mkdtemp(prefix=".hotline-", dir=run))
    tmp.chmod(0o755)
    try:
        (tmp / HOTLINE_JSON).write_text(
            json.dumps(bundle, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        hexes.to_file(tmp / HEXES, driver="GeoJSON")
        write_table_folder(tables, tmp / TABLES)
        old = run / ".hotline-old"
        if target.exists():
            target.replace(old)
        tmp.replace(target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_hotline_folder(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``RUN/hotline/hotline.json`` as a dict, or None when the run has no hotline analytics.

    Raises
    ------
    InputError
        When the file is unreadable or of another format version.
    """
    f = Path(run_dir) / FOLDER / HOTLINE_JSON
    if not f.exists():
        return None
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f, "file", str(f), f"not readable JSON ({exc})") from exc
    if doc.get("version") != FORMAT_VERSION:
        raise InputError(
            f, "version", doc.get("version"), f"expected {FORMAT_VERSION}; rerun hotline stats"
        )
    return doc
