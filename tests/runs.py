"""Run folders shared by the report and web tests: the demo (via the CLI), real extracts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


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
    from citycheck.pipeline import run_check
    from citycheck.report import write_reports

    pbf = shared_data("osm", "beijing-haidian-bupt.osm.pbf")
    out = tmp_path_factory.mktemp("bupt") / "bupt"
    run_check(pbf, out_dir=out, population=30_000.0, name="北邮 BUPT")
    write_reports(out)
    return out


NO_ENGINE = "the walking-network engine (citycheck.access) is not available in this build"
NO_ENGINE_ZH = "本版本未启用步行网络分析模块（citycheck.access）"


@pytest.fixture(scope="session")
def no_access_run(bupt_run, tmp_path_factory) -> Path:
    """The BUPT run as a build without the walking-network engine writes it: no per-building
    distance columns, the network indicators listed as not computed."""
    import json

    import pyogrio

    from citycheck.evaluate.catalogue import catalogue

    out = tmp_path_factory.mktemp("noaccess") / "bupt-noaccess"
    shutil.copytree(bupt_run, out)
    for f in out.glob("report.*"):
        f.unlink()
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    access = {i for i, ind in catalogue().items() if ind.compute == "access"}
    doc["indicators"] = [i for i in doc["indicators"] if i["id"] not in access]
    doc["problems"] = [p for p in doc["problems"] if p["indicator"] not in access]
    doc["not_computed"] = {
        **{k: v for k, v in doc["not_computed"].items() if k not in access},
        **{i: NO_ENGINE for i in sorted(access)},
    }
    doc["not_computed_zh"] = {
        **{k: v for k, v in doc.get("not_computed_zh", {}).items() if k not in access},
        **{i: NO_ENGINE_ZH for i in sorted(access)},
    }
    (out / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    gpkg = out / "units.gpkg"
    layers = {name: gpd.read_file(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    b = layers["dwelling"]
    engine = re.compile(r"^(dist_m_|n\d+_|within_|lc\d*_)|^(reachable|snap_m|component.*)$")
    layers["dwelling"] = b.drop(columns=[c for c in b.columns if engine.match(c)])
    gpkg.unlink()
    for name, layer in layers.items():
        layer.to_file(gpkg, layer=name, driver="GPKG")
    return out
