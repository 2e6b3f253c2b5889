"""Dashboard API: the values served are those of the run folder; bad folders give clear errors."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from citycheck.io.runfolder import read_results
from citycheck.web.dashboard import create_app


@pytest.fixture(scope="module")
def client(demo_run, bupt_run, no_access_run, tmp_path_factory):
    bad = tmp_path_factory.mktemp("bad") / "broken-run"
    shutil.copytree(demo_run, bad)
    (bad / "COMPLETE").unlink()
    old = tmp_path_factory.mktemp("old") / "old-run"
    shutil.copytree(demo_run, old)
    doc = json.loads((old / "results.json").read_text(encoding="utf-8"))
    doc["schema_version"] = "2.0"
    (old / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    damaged = tmp_path_factory.mktemp("damaged") / "damaged-run"
    shutil.copytree(demo_run, damaged)
    (damaged / "units.gpkg").write_bytes(b"not a geopackage")
    return TestClient(create_app([demo_run, bupt_run, no_access_run, bad, old, damaged]))


def test_runs_listed_with_errors(client):
    runs = {r["id"]: r for r in client.get("/api/runs").json()}
    assert runs["run"]["ok"] and runs["bupt"]["ok"]
    assert not runs["broken-run"]["ok"]
    assert "incomplete" in runs["broken-run"]["error"]
    assert "COMPLETE" in runs["broken-run"]["error"]
    r = client.get("/api/runs/broken-run/meta")
    assert r.status_code == 409 and "incomplete" in r.json()["error"]
    assert "incompatible" in runs["old-run"]["error"] and "2.0" in runs["old-run"]["error"]
    assert "units.gpkg" in runs["damaged-run"]["error"]
    assert client.get("/api/runs/old-run/geojson/district").status_code == 409
    r = client.get("/api/runs/nope/meta")
    assert r.status_code == 404 and "nope" in r.json()["error"]


def test_geojson_has_every_unit_with_values(client, bupt_run):
    gpkg = bupt_run / "units.gpkg"
    for level in ("neighbourhood", "dwelling"):
        fc = client.get(f"/api/runs/bupt/geojson/{level}").json()
        ref = gpd.read_file(gpkg, layer=level)
        assert len(fc["features"]) == len(ref)
    fc = client.get("/api/runs/bupt/geojson/neighbourhood").json()
    doc = read_results(bupt_run)
    by_unit = {f["properties"]["unit_id"]: f["properties"] for f in fc["features"]}
    n = 0
    for ind in doc["indicators"]:
        if ind["level"] == "neighbourhood" and ind["value"] is not None:
            col = ind["id"].replace(".", "_")
            assert by_unit[ind["unit_id"]][col] == pytest.approx(ind["value"])
            n += 1
    assert n > 5
    lon0, lat0, lon1, lat1 = doc["study_area"]["bbox_wgs84"]
    x, y = fc["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert lon0 - 0.01 <= x <= lon1 + 0.01 and lat0 - 0.01 <= y <= lat1 + 0.01


def test_unit_values_and_why(client, bupt_run):
    doc = read_results(bupt_run)
    ind = next(
        i for i in doc["indicators"] if i["level"] == "neighbourhood" and i["grade"] == "fail"
    )
    for lang in ("en", "zh"):
        u = client.get(f"/api/runs/bupt/unit/neighbourhood/{ind['unit_id']}?lang={lang}").json()
        row = next(r for r in u["indicators"] if r["id"] == ind["id"])
        assert row["value"] == ind["value"] and row["grade"] == "fail"
        assert ("short by" if lang == "en" else "差距") in row["why"]
    assert client.get("/api/runs/bupt/unit/neighbourhood/zzz").status_code == 404
    assert client.get("/api/runs/bupt/meta?lang=fr").status_code == 422


def test_building_distances_against_limits(client, bupt_run):
    b = gpd.read_file(bupt_run / "units.gpkg", layer="dwelling")
    row = b[b["residential"]].iloc[0]
    r = client.get(f"/api/runs/bupt/unit/dwelling/{row['osm_id']}").json()
    gaps = {g["category"]: g for g in r["gaps"]}
    assert "kindergarten" in gaps and "bus_stop" in gaps
    for cat, g in gaps.items():
        d = row[f"dist_m_{cat}"]
        assert g["ok"] == bool(d == d and d <= g["limit_m"])
        if cat in ("kindergarten", "convenience", "primary_school"):
            assert g["ok"] == bool(row[f"within_{cat}"])  # the engine's own flag
    plain = client.get(f"/api/runs/bupt-noaccess/unit/dwelling/{row['osm_id']}").json()
    assert plain["access_computed"] is False


def test_compare_two_runs(client, demo_run, bupt_run):
    c = client.get("/api/compare?a=run&b=bupt").json()
    a = {
        i["id"]: i["value"]
        for i in read_results(demo_run)["indicators"]
        if i["level"] == "district"
    }
    b = {
        i["id"]: i["value"]
        for i in read_results(bupt_run)["indicators"]
        if i["level"] == "district"
    }
    for row in c["rows"]:
        assert row["a"] == a.get(row["id"]) and row["b"] == b.get(row["id"])
    assert any(r["changed"] for r in c["rows"])


def test_no_remote_assets_in_page(client):
    html = client.get("/").text
    assert "http://" not in html and "https://" not in html
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    js = client.get("/static/app.js").text
    assert "http://" not in js and "https://" not in js


def test_serve_refuses_when_no_run_can_be_shown(demo_run, tmp_path):
    from typer.testing import CliRunner

    from citycheck.cli import app

    bad = tmp_path / "half"
    shutil.copytree(demo_run, bad)
    (bad / "COMPLETE").unlink()
    res = CliRunner().invoke(app, ["serve", str(bad), "--port", "0"])
    assert res.exit_code == 2
    assert "incomplete" in res.output and "none of the run folders" in res.output


def _strings(value, key: str = "") -> list[str]:
    """Every text of a JSON payload a person may see (ids, unit ids, paths and raw grades aside)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, key)]
    skip = {"id", "unit_id", "path", "created", "grade", "level", "dimension", "category", "kind"}
    return [value] if isinstance(value, str) and key not in skip else []


def test_zh_payloads_carry_no_english_sentence(client, bupt_run):
    """Issue 16: what the dashboard shows in Chinese (labels, indicator menu with units, problem
    and project lists with sources, a unit's values and why, a building, two runs compared) holds
    no run of three English words outside names."""
    from tests.report.page_language import english_sentences

    doc = read_results(bupt_run)
    units = sorted({i["unit_id"] for i in doc["indicators"] if i["level"] == "neighbourhood"})
    meta = client.get("/api/runs/bupt/meta?lang=zh").json()
    fc = client.get("/api/runs/bupt/geojson/dwelling").json()
    building = fc["features"][0]["properties"]["unit_id"]
    payloads = {
        "labels": client.get("/api/labels?lang=zh").json(),
        "meta": {k: meta[k] for k in ("levels", "dimensions")},
        "problems": client.get("/api/runs/bupt/problems?lang=zh").json(),
        "compare": client.get("/api/compare?a=run&b=bupt&lang=zh").json()["rows"],
        "building": client.get(f"/api/runs/bupt/unit/dwelling/{building}?lang=zh").json(),
    }
    for u in units:
        payloads[f"unit {u}"] = client.get(f"/api/runs/bupt/unit/neighbourhood/{u}?lang=zh").json()
    assert len(payloads["meta"]["dimensions"]) == 7 and payloads["problems"]["problems"]
    units_shown = [i["unit"] for d in meta["dimensions"] for i in d["indicators"]]
    assert "平方米/人" in units_shown or "比值" in units_shown or "个/km²" in units_shown
    names = [doc["study_area"]["name"]]
    found = {k: english_sentences(_strings(v), names) for k, v in payloads.items()}
    assert not any(found.values()), json.dumps(found, ensure_ascii=False, indent=1)
