"""`citycheck plan` and `citycheck whatif` on a real run folder, as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Transformer
from tests.conftest import ROOT, shared_data


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "citycheck", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    from citycheck.pipeline import run_check

    tmp = tmp_path_factory.mktemp("plan")
    pbf = tmp / "bupt.osm.pbf"
    shutil.copy(shared_data("osm", "beijing-haidian-bupt.osm.pbf"), pbf)
    return run_check(pbf, out_dir=tmp / "run", population=20_000.0), pbf


def test_plan_writes_project_list(run_folder):
    run, _ = run_folder
    results_before = _sha(run / "results.json")
    res = _run("plan", str(run), "--category", "elderly_care", "--new", "3", "-q")
    assert res.returncode == 0, res.stderr
    doc = json.loads((run / "planning" / "projects.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "citycheck.projects"
    (p,) = doc["projects"]
    assert p["category"] == "elderly_care" and p["category_zh"] == "养老服务设施"
    assert 1 <= p["n_sites"] <= 3 and p["solver"]["gap"] == 0.0
    assert p["residents_newly_served"] > 0
    assert p["residents_newly_served"] == pytest.approx(
        sum(s["residents_newly_served"] for s in p["sites"])
    )
    assert any(m["indicator"] == "L05" for m in p["indicators_moved"])
    assert (run / "planning" / "projects.csv").exists() and (
        run / "planning" / "plan_elderly_care.png"
    ).exists()
    layers = gpd.list_layers(run / "planning" / "sites.gpkg")["name"].tolist()
    assert {"proposed_sites", "candidate_sites"} <= set(layers)
    assert _sha(run / "results.json") == results_before  # results untouched


def test_plan_all_problems_ranked(run_folder):
    run, _ = run_folder
    res = _run("plan", str(run), "--new", "2", "-q")
    assert res.returncode == 0, res.stderr
    doc = json.loads((run / "planning" / "projects.json").read_text(encoding="utf-8"))
    ranks = [p["rank"] for p in doc["projects"]]
    assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) >= 2
    served = [p["residents_newly_served"] or 0 for p in doc["projects"]]
    assert served == sorted(served, reverse=True)


def test_plan_bad_input_messages(run_folder, tmp_path):
    run, _ = run_folder
    res = _run("plan", str(run), "--category", "fire_station", "-q")
    assert res.returncode == 2 and "no walking" in res.stderr and "fire_station" in res.stderr
    res = _run(
        "plan", str(run), "--category", "elderly_care", "--budget", "10", "--site-cost", "50", "-q"
    )
    assert res.returncode == 2 and "below the cheapest" in res.stderr
    res = _run("plan", str(run), "--category", "kindergarten", "--model", "set_covering", "-q")
    assert res.returncode in (0, 2)
    if res.returncode == 2:
        assert "infeasible" in res.stderr
    bad = tmp_path / "sites.geojson"
    bad.write_text(
        '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4326"}},'
        '"features":[{"type":"Feature","properties":{"cost":"cheap"},'
        '"geometry":{"type":"Point","coordinates":[116.35,39.96]}}]}'
    )
    res = _run("plan", str(run), "--category", "elderly_care", "--sites", str(bad), "-q")
    assert res.returncode == 2 and "cost" in res.stderr and "cheap" in res.stderr


def test_whatif_scenario(run_folder, tmp_path):
    run, _ = run_folder
    from citycheck.plan.runinputs import city_from_run

    city, _ = city_from_run(run)
    res_b = city.buildings[city.buildings["residential"]]
    to_ll = Transformer.from_crs(city.crs, "EPSG:4326", always_xy=True)
    x, y = res_b.geometry.iloc[0].centroid.coords[0]
    lon, lat = to_ll.transform(x, y)
    scen = tmp_path / "add_one.json"
    scen.write_text(
        json.dumps(
            {
                "actions": [
                    {
                        "op": "add",
                        "category": "elderly_care",
                        "lon": lon,
                        "lat": lat,
                        "name": "日间照料中心",
                    }
                ]
            }
        )
    )
    res = _run("whatif", str(run), str(scen), "-q")
    assert res.returncode == 0, res.stderr
    out = run / "whatif" / "add_one"
    doc = json.loads((out / "whatif.json").read_text(encoding="utf-8"))
    dist = [c for c in doc["changes"] if c["indicator"] == "L05" and c["level"] == "district"]
    assert len(dist) == 1 and dist[0]["after"] > 0
    assert (out / "whatif.png").exists() and (out / "whatif.gpkg").exists()
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"actions": [{"op": "add", "category": "fire_station", "lon": lon, "lat": lat}]})
    )
    res = _run("whatif", str(run), str(bad), "-q")
    assert res.returncode == 2 and "actions[0].category" in res.stderr


def test_changed_input_is_refused(run_folder):
    run, pbf = run_folder
    saved = pbf.read_bytes()
    try:
        pbf.write_bytes(saved + b"\0")
        res = _run("plan", str(run), "--category", "elderly_care", "-q")
        assert res.returncode == 2
        assert "changed since the check" in res.stderr and "sha256" in res.stderr
    finally:
        pbf.write_bytes(saved)
