"""Rebuild a check's City from its run folder (the inputs results.json records).

A run folder stores results, not the City. ``plan`` and ``whatif`` rebuild it from the recorded
inputs — each file's sha256 is checked first, so a plan is never made on data that changed since
the check — with the same parameters (population total or per-building table, boundary, adcode,
compounds, neighbourhoods, name).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from citycheck.io.errors import InputError

if TYPE_CHECKING:
    from citycheck.evaluate.document import InputRecord

__all__ = ["city_from_run"]


def _verified(rec: InputRecord, results: Path) -> Path:
    from citycheck.io.runfolder import file_record

    path = Path(rec.path)
    if not path.exists():
        raise InputError(
            results,
            f"inputs[{rec.role}].path",
            str(path),
            "the input file of this run is gone; re-run the check or restore the file",
        )
    now = file_record(rec.role, path)["sha256"]
    if now != rec.sha256:
        raise InputError(
            results,
            f"inputs[{rec.role}].sha256",
            rec.sha256,
            f"{path} changed since the check (sha256 now {now}); re-run the check first",
        )
    return path


def city_from_run(run_dir: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """The City of a run folder and its results document (results.json as the JSON dict).

    Raises
    ------
    InputError
        Incomplete run folder, missing or changed input file (naming results.json, the field and
        the value).
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from citycheck.city import build_city
    from citycheck.evaluate.document import ResultsDocument
    from citycheck.io.osm import read_osm
    from citycheck.io.runfolder import read_results

    run = Path(run_dir)
    raw = read_results(run)
    doc = ResultsDocument.from_json_dict(raw)
    results = run / "results.json"
    files = {r.role: _verified(r, results) for r in doc.inputs}
    if "osm" not in files:
        raise InputError(results, "inputs", None, "no OSM input recorded; cannot rebuild the city")
    layers = read_osm(files["osm"])
    area = None
    if "boundary" in files:
        from citycheck.io.boundary import read_boundary

        area = read_boundary(files["boundary"])
    params = doc.parameters
    if params.get("adcode"):
        from citycheck.io.boundary import boundary_from_adcode

        base = area if area is not None else shapely.box(*layers.default_bbox())
        area = base.intersection(boundary_from_adcode(params["adcode"]))
    kwargs: dict[str, Any] = {}
    if "population" in files:
        table = pd.read_csv(files["population"], dtype={"osm_id": str})
        kwargs["residents_by_osm_id"] = dict(
            zip(table["osm_id"], pd.to_numeric(table["residents"]), strict=True)
        )
    else:
        total = params.get("population_total")
        if total is None:
            total = (doc.study_area.census or {}).get("residents_total")
        kwargs["residents_total"] = total
    for role in ("compounds", "neighbourhoods"):
        if role in files:
            kwargs[role] = gpd.read_file(files[role])
    city = build_city(layers, boundary=area, name=doc.study_area.name, **kwargs)
    return city, raw
