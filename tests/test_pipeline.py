"""The whole check: a complete run folder on every real file; the Haidian census case."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod
from tests.conftest import ALL_OSM, osm_path, shared_data

from citycheck.evaluate.catalogue import catalogue
from citycheck.io.boundary import boundary_from_adcode
from citycheck.io.errors import InputError
from citycheck.io.runfolder import read_results
from citycheck.pipeline import run_check


@pytest.mark.parametrize("name", ALL_OSM)
def test_complete_run_folder(name, tmp_path, read_layers):
    out = run_check(osm_path(name), out_dir=tmp_path / "run", population=20_000)
    files = {p.name for p in out.iterdir()}
    assert files == {
        "results.json",
        "indicators.csv",
        "problems.csv",
        "units.gpkg",
        "summary.html",
        "COMPLETE",
    }
    doc = read_results(out)  # validates against the JSON Schema
    assert doc["inputs"][0]["sha256"] and doc["software"]["name"] == "citycheck"
    ids = {i["id"] for i in doc["indicators"]}
    assert ids == set(catalogue())  # every indicator appears, with a value or "no data"
    with_value = {i["id"] for i in doc["indicators"] if i["value"] is not None}
    for ind in doc["indicators"]:
        if ind["value"] is None:
            assert ind["grade"] == "no data"
            if ind["id"] not in with_value:  # nowhere a value: the reason is stated
                assert ind["id"] in doc["not_computed"]
    layers = set(pyogrio.list_layers(out / "units.gpkg")[:, 0])
    assert {"dwelling", "district", "grid", "neighbourhood"} <= layers
    # counts agree with the layers read independently of the pipeline
    raw = read_layers(name)
    box = shapely.box(*raw.default_bbox())
    pts = raw.buildings.representative_point()
    assert doc["counts"]["buildings"] == int(pts.intersects(box).sum())
    dwell = gpd.read_file(out / "units.gpkg", layer="dwelling")
    assert len(dwell) == doc["counts"]["buildings"]
    assert dwell["residents"].sum() == pytest.approx(20_000)
    table = pd.read_csv(out / "indicators.csv")
    assert len(table) == len(doc["indicators"])


def test_haidian_census(tmp_path):
    """Wudaokou with the 海淀区 census total scaled by the study area's share of the district."""
    pbf = shared_data("osm", "beijing-haidian-wudaokou.osm.pbf")
    census = shared_data("census", "china_county_census_2020.csv")
    steps = []
    out = run_check(
        pbf, out_dir=tmp_path / "wdk", adcode="110108", census=census, lang="zh",
        on_step=steps.append,
    )  # fmt: skip
    doc = read_results(out)
    # the progress lines, in both languages; the English as the CLI showed it before issue 16
    rec = doc["study_area"]["census"]
    assert [m.en for m in steps] == [
        "reading beijing-haidian-wudaokou.osm.pbf",
        f"spreading {rec['residents_total']:,.0f} residents ({rec['area_share']:.3%} of "
        f"{rec['county']})",
        "urban-system indicators from the census",
        "building the study area",
        "computing indicators from OpenStreetMap",
        "computing walking-network indicators",
        "grading and scoring",
        f"writing {out}",
    ]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m.zh) for m in steps)
    assert steps[0].zh == "读取 beijing-haidian-wudaokou.osm.pbf" and rec["county"] in steps[1].zh
    # independent share: geodesic areas on the WGS84 ellipsoid
    from citycheck.io.osm import read_osm

    study = shapely.box(*read_osm(pbf).default_bbox())
    district = boundary_from_adcode("110108")
    geod = Geod(ellps="WGS84")
    share = abs(geod.geometry_area_perimeter(study.intersection(district))[0]) / abs(
        geod.geometry_area_perimeter(district)[0]
    )
    expected = 3_133_469 * share
    assert doc["study_area"]["census"]["population"] == 3_133_469
    assert doc["study_area"]["residents_total"] == pytest.approx(expected, rel=2e-3)
    dwell = gpd.read_file(out / "units.gpkg", layer="dwelling")
    assert dwell["residents"].sum() == pytest.approx(doc["study_area"]["residents_total"], rel=1e-9)
    roles = {i["role"] for i in doc["inputs"]}
    assert roles == {"osm", "census", "census_city"}  # the city table beside the county table
    assert all(i["source"] for i in doc["indicators"])
    assert "城市体检报告" in (out / "summary.html").read_text(encoding="utf-8")


def test_problems_match_values(tmp_path):
    out = run_check(osm_path("test.osm.pbf"), out_dir=tmp_path / "r", population=12_000)
    doc = json.loads((out / "results.json").read_text())
    district = {i["id"]: i for i in doc["indicators"] if i["level"] == "district"}
    for p in doc["problems"]:
        if p["scope"] == "district":
            assert district[p["indicator"]]["grade"] == "fail"
            assert p["value"] == pytest.approx(district[p["indicator"]]["value"])
    failing = {k for k, v in district.items() if v["grade"] == "fail"}
    assert failing <= {p["indicator"] for p in doc["problems"]}


def test_inputs_join_the_evaluation(tmp_path):
    from citycheck.evaluate.inputs import TEMPLATE_COLUMNS, template_frame

    t = template_frame()
    t.loc[t[TEMPLATE_COLUMNS["indicator"]] == "G06", TEMPLATE_COLUMNS["value"]] = "70"
    t.loc[t[TEMPLATE_COLUMNS["indicator"]] == "S01", TEMPLATE_COLUMNS["value"]] = "12"
    path = tmp_path / "in.csv"
    t.to_csv(path, index=False)
    out = run_check(
        osm_path("beijing-haidian-bupt.osm.pbf"),
        out_dir=tmp_path / "r",
        population=5000,
        inputs=path,
    )
    doc = read_results(out)
    g06 = next(i for i in doc["indicators"] if i["id"] == "G06")
    assert g06["value"] == 70 and g06["grade"] == "fail"
    overall = next(o for o in doc["scores"]["overall"] if o["level"] == "district")
    assert overall["grade"] == "fail" and "S01" in overall["vetoed_by"]  # red line


def test_bad_inputs_leave_no_run_folder(tmp_path):
    bad = tmp_path / "in.csv"
    pd.DataFrame({"indicator_id": ["G06"], "value": ["n/a!"]}).to_csv(bad, index=False)
    with pytest.raises(Exception, match="expected a number"):
        run_check(osm_path("beijing-haidian-bupt.osm.pbf"), out_dir=tmp_path / "r", inputs=bad)
    assert not any(tmp_path.glob("r*"))


def test_existing_run_folder_kept(tmp_path):
    out = run_check(osm_path("beijing-haidian-bupt.osm.pbf"), out_dir=tmp_path / "r")
    stamp = (out / "COMPLETE").read_text()
    with pytest.raises(InputError, match="exists"):
        run_check(osm_path("beijing-haidian-bupt.osm.pbf"), out_dir=tmp_path / "r")
    assert (out / "COMPLETE").read_text() == stamp


def test_incomplete_folder_rejected(tmp_path):
    out = run_check(osm_path("beijing-haidian-bupt.osm.pbf"), out_dir=tmp_path / "r")
    (out / "COMPLETE").unlink()
    with pytest.raises(InputError, match="incomplete"):
        read_results(out)


def test_incompatible_version_rejected(tmp_path):
    out = run_check(osm_path("beijing-haidian-bupt.osm.pbf"), out_dir=tmp_path / "r")
    doc = json.loads((out / "results.json").read_text())
    doc["schema_version"] = "2.0"
    (out / "results.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="incompatible"):
        read_results(out)


def test_census_needs_adcode(tmp_path):
    with pytest.raises(InputError, match="--adcode"):
        run_check(
            osm_path("beijing-haidian-bupt.osm.pbf"),
            out_dir=tmp_path / "r",
            census=shared_data("census", "china_county_census_2020.csv"),
        )


def test_adcode_not_overlapping(tmp_path):
    with pytest.raises(InputError, match="does not overlap"):
        run_check(osm_path("test.osm.pbf"), out_dir=tmp_path / "r", adcode="110108")


def test_user_neighbourhoods_and_empty_category_warning(tmp_path, read_layers):
    layers = read_layers("beijing-haidian-cau.osm.pbf")
    left, bottom, right, top = layers.default_bbox()
    mid = (bottom + top) / 2
    units = gpd.GeoDataFrame(
        {"unit_id": ["south", "north"]},
        geometry=[shapely.box(left, bottom, right, mid), shapely.box(left, mid, right, top)],
        crs="EPSG:4326",
    )
    path = tmp_path / "nb.geojson"
    units.to_file(path)
    out = run_check(
        osm_path("beijing-haidian-cau.osm.pbf"),
        out_dir=tmp_path / "r",
        population=20_000,
        neighbourhoods=path,
    )
    doc = read_results(out)
    nb = {
        i["unit_id"]
        for i in doc["indicators"]
        if i["level"] == "neighbourhood" and i["value"] is not None
    }
    assert nb == {"south", "north"}
    assert any("elderly" in w.lower() and "养老" in w for w in doc["warnings"])


def test_population_flag_not_a_number(tmp_path):
    # bool is an int to Python: it must not reach Path() (TypeError) but be named as bad input
    with pytest.raises(InputError, match="population"):
        run_check(osm_path("test.osm.pbf"), out_dir=tmp_path / "r", population=True)
    assert not any(tmp_path.glob("r*"))
