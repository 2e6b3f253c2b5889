"""Run folders for the act tests: the demo (via the CLI) and a real Beijing extract."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"


def shared_data(*parts: str) -> Path:
    """A file of ../shared/data (as tests/conftest.py: skip outside CI when absent)."""
    import os

    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"shared data missing in CI: {path}")
        pytest.skip(f"../shared/data not present ({path})")
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and page images kept from the test run (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """`citycheck demo` run through the CLI: the run folder plus its four reports."""
    from typer.testing import CliRunner

    from citycheck.cli import app

    out = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def bupt_run(tmp_path_factory) -> Path:
    """A real Chinese study area: the BUPT extract of Haidian, 30,000 residents assumed."""
    from citycheck.act.report import write_reports
    from citycheck.pipeline import run_check

    pbf = shared_data("osm", "beijing-haidian-bupt.osm.pbf")
    out = tmp_path_factory.mktemp("bupt") / "bupt"
    run_check(pbf, out_dir=out, population=30_000.0, name="北邮 BUPT")
    write_reports(out)
    return out


def straight_line_distances(buildings: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                            category: str) -> np.ndarray:  # fmt: skip
    """Euclidean distance from each building to the nearest facility of a category (brute force).

    A lower bound of the walking distance, used to stand in for the accessibility engine's
    columns in tests of the drawing and counting (not of the distances themselves).
    """
    pts = facilities[facilities["category"] == category].geometry
    if not len(pts):
        return np.full(len(buildings), np.nan)
    return np.array([min(g.distance(p) for p in pts) for g in buildings.geometry])


@pytest.fixture(scope="session")
def access_run(bupt_run, tmp_path_factory) -> Path:
    """The BUPT run with per-building distance columns as the access engine would add them."""
    import pyogrio

    out = tmp_path_factory.mktemp("access") / "bupt-access"
    shutil.copytree(bupt_run, out)
    for f in out.glob("report.*"):
        f.unlink()
    gpkg = out / "units.gpkg"
    b = gpd.read_file(gpkg, layer="dwelling")
    fac = gpd.read_file(gpkg, layer="facilities")
    for cat in ("kindergarten", "bus_stop", "convenience", "sports"):
        b[f"dist_{cat}"] = straight_line_distances(b, fac, cat)
    layers = {name: gpd.read_file(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    layers["dwelling"] = b
    gpkg.unlink()
    for name, layer in layers.items():
        layer.to_file(gpkg, layer=name, driver="GPKG")
    return out
