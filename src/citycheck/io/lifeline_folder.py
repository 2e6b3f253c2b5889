"""Lifeline results in a run folder (``RUN/lifeline/``) for the report and the dashboard.

The lifeline commands write here with ``--run RUN``; each file is optional and written whole
through a temporary name, so a reader never sees half a file:

================= ==========================================================================
pipes.geojson     pipe geometry (``pipe_id``; the network model's coordinates)
risk.csv          ``citycheck lifeline risk``: pipes ranked by expected resident-outages/yr
criticality.csv   ``citycheck lifeline criticality``: pipes ranked by unmet demand
renewal.csv       ``citycheck lifeline renew``: renewal projects, selected within the budget
alarms.csv        ``citycheck lifeline monitor``: alarms with their work order and its status
================= ==========================================================================

This module is the folder format only: the lifeline part (:mod:`citycheck.lifeline`) computes
the tables and the command line hands them to :func:`write_lifeline_table`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

__all__ = ["FILES", "LifelineRun", "read_lifeline_run", "write_lifeline_table"]

SUBDIR = "lifeline"
FILES = ("pipes.geojson", "risk.csv", "criticality.csv", "renewal.csv", "alarms.csv")


def write_lifeline_table(run: str | Path, name: str, table: pd.DataFrame) -> Path:
    """Write one of the lifeline files into ``RUN/lifeline/`` (atomically).

    Parameters
    ----------
    run : path
        Run folder (created when absent).
    name : str
        One of :data:`FILES`.
    table : DataFrame or GeoDataFrame
        A GeoDataFrame for ``pipes.geojson`` (``pipe_id`` and geometry), a table otherwise.
    """
    if name not in FILES:
        raise ValueError(f"lifeline run file {name!r}: expected one of {FILES}")
    folder = Path(run) / SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.tmp"
    if name.endswith(".geojson"):
        gdf = gpd.GeoDataFrame(table[["pipe_id", "geometry"]], geometry="geometry")
        if tmp.exists():
            tmp.unlink()
        gdf.to_file(tmp, driver="GeoJSON")
    else:
        table.to_csv(tmp, index=False)
    os.replace(tmp, target)
    return target


@dataclass
class LifelineRun:
    """What a run folder holds of the lifeline results (None where absent)."""

    pipes: gpd.GeoDataFrame | None
    risk: pd.DataFrame | None
    criticality: pd.DataFrame | None
    renewal: pd.DataFrame | None
    alarms: pd.DataFrame | None


def read_lifeline_run(run: str | Path) -> LifelineRun | None:
    """The lifeline results of a run folder, or None when it has none."""
    folder = Path(run) / SUBDIR
    if not folder.is_dir() or not any((folder / f).exists() for f in FILES):
        return None

    def csv(name: str) -> pd.DataFrame | None:
        path = folder / name
        if not path.exists():
            return None
        return pd.read_csv(path, dtype={"pipe_id": str, "scenario": str, "sensor_id": str})

    pipes_path = folder / "pipes.geojson"
    pipes = gpd.read_file(pipes_path) if pipes_path.exists() else None
    if pipes is not None:
        pipes["pipe_id"] = pipes["pipe_id"].astype(str)
    return LifelineRun(
        pipes=pipes,
        risk=csv("risk.csv"),
        criticality=csv("criticality.csv"),
        renewal=csv("renewal.csv"),
        alarms=csv("alarms.csv"),
    )
