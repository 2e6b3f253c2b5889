"""The run folder format alone: a document, layers and a page in, the same read back."""

from __future__ import annotations

import json

import geopandas as gpd
import jsonschema
import pandas as pd
import pytest
import shapely

from citycheck import __version__
from citycheck.io.errors import InputError
from citycheck.io.runfolder import SCHEMA_VERSION, read_results, write_run_folder


def _doc() -> dict:
    return {
        "schema": "citycheck.results",
        "schema_version": SCHEMA_VERSION,
        "software": {"name": "citycheck", "version": __version__},
        "created": "2024-01-02T03:04:05+00:00",
        "study_area": {
            "name": "test",
            "crs": "EPSG:32650",
            "area_km2": 1.0,
            "bbox_wgs84": [116.0, 39.0, 116.1, 39.1],
            "residents_total": None,
            "residents_method": "",
        },
        "inputs": [],
        "parameters": {},
        "counts": {"buildings": 0, "residential_buildings": 0, "facilities": {}},
        "indicators": [
            {
                "id": "L01",
                "zh": "指标",
                "en": "indicator",
                "dimension": "livable",
                "level": "district",
                "unit_id": "district",
                "value": 1.5,
                "unit": "%",
                "grade": "pass",
                "threshold": "≥ 1",
                "source": "standard",
            }
        ],
        "scores": {"method": "equal", "dimension_weights": {}, "dimensions": [], "overall": []},
        "problems": [
            {
                "indicator": "L01",
                "zh": "指标",
                "en": "indicator",
                "scope": "district",
                "value": 1.5,
                "threshold": "≥ 1",
                "source": "standard",
                "worst_units": [{"unit_id": "a", "value": 0.123456}],
            }
        ],
        "not_computed": {},
    }


def _layers() -> dict:
    box = gpd.GeoDataFrame(
        {"unit_id": ["district"]}, geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:32650"
    )
    return {"district": box, "facilities": box.iloc[:0]}


def test_write_and_read_back(tmp_path):
    out = write_run_folder(tmp_path / "run", _doc(), layers=_layers(), summary_html="<p>hi</p>")
    assert {p.name for p in out.iterdir()} == {
        "results.json",
        "indicators.csv",
        "problems.csv",
        "units.gpkg",
        "summary.html",
        "COMPLETE",
    }
    assert read_results(out) == _doc()
    assert (out / "summary.html").read_text(encoding="utf-8") == "<p>hi</p>"
    assert (out / "COMPLETE").read_text() == f"citycheck {__version__} 2024-01-02T03:04:05+00:00\n"
    assert pd.read_csv(out / "indicators.csv", encoding="utf-8-sig")["id"].tolist() == ["L01"]
    probs = pd.read_csv(out / "problems.csv", encoding="utf-8-sig")
    assert probs["worst_units"].tolist() == ["a=0.1235"]
    assert list(gpd.list_layers(out / "units.gpkg")["name"]) == ["district"]  # empty: not written
    assert not list(tmp_path.glob("*.partial-*"))


def test_existing_folder_kept_or_replaced(tmp_path):
    out = write_run_folder(tmp_path / "run", _doc(), layers=_layers(), summary_html="one")
    with pytest.raises(InputError, match="exists"):
        write_run_folder(out, _doc(), layers=_layers(), summary_html="two")
    assert (out / "summary.html").read_text(encoding="utf-8") == "one"
    write_run_folder(out, _doc(), layers=_layers(), summary_html="two", overwrite=True)
    assert (out / "summary.html").read_text(encoding="utf-8") == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_invalid_document_leaves_no_folder(tmp_path):
    doc = _doc()
    doc["indicators"][0]["grade"] = "excellent"
    with pytest.raises(jsonschema.ValidationError):
        write_run_folder(tmp_path / "run", doc, layers=_layers(), summary_html="")
    assert not list(tmp_path.iterdir())


def test_document_not_matching_the_schema_rejected_on_reading(tmp_path):
    out = write_run_folder(tmp_path / "run", _doc(), layers=_layers(), summary_html="")
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    del doc["indicators"][0]["grade"]
    (out / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match="grade"):
        read_results(out)


def test_only_run_folders_and_empty_folders_may_be_replaced(tmp_path):
    from citycheck.io.runfolder import is_replaceable

    empty = tmp_path / "empty"
    empty.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "COMPLETE").write_text("citycheck")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "results.json").write_text("{}")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine")
    assert is_replaceable(empty) and is_replaceable(run) and is_replaceable(partial)
    assert not is_replaceable(other) and not is_replaceable(a_file)
