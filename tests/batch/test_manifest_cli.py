"""Manifests in three formats, their errors, and the ``citycheck batch`` command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from study_areas import write_areas
from typer.testing import CliRunner

from citycheck.batch.manifest import ManifestError, input_fingerprint, read_manifest
from citycheck.cli.batch import app, parse_weights
from conftest import shared_data

TOML = """
[[city]]
id = "hd-1"
name = "海淀 五道口"
pbf = "a.osm.pbf"
boundary = "b/a.geojson"
adcode = "110108"
inputs = { hotline = "t.csv" }

[[city]]
id = "hd-2"
pbf = "/abs/c.osm.pbf"
lang = "zh"
"""
CSV = """id,name,pbf,boundary,adcode,lang,inputs.hotline
hd-1,海淀 五道口,a.osm.pbf,b/a.geojson,110108,,t.csv
hd-2,,/abs/c.osm.pbf,,,zh,
"""
JSON = {
    "city": [
        {"id": "hd-1", "name": "海淀 五道口", "pbf": "a.osm.pbf", "boundary": "b/a.geojson",
         "adcode": 110108, "inputs": {"hotline": "t.csv"}},
        {"id": "hd-2", "pbf": "/abs/c.osm.pbf", "lang": "zh"},
    ]
}  # fmt: skip


def test_three_formats_agree(tmp_path):
    (tmp_path / "m.toml").write_text(TOML, "utf-8")
    (tmp_path / "m.csv").write_text(CSV, "utf-8")
    (tmp_path / "m.json").write_text(json.dumps(JSON, ensure_ascii=False), "utf-8")
    got = [read_manifest(tmp_path / f"m.{ext}") for ext in ("toml", "csv", "json")]
    assert got[0] == got[1] == got[2]
    first, second = got[0]
    assert first.pbf == tmp_path / "a.osm.pbf"
    assert first.boundary == tmp_path / "b" / "a.geojson"
    assert first.adcode == "110108"
    assert first.inputs == {"hotline": tmp_path / "t.csv"}
    assert first.name == "海淀 五道口"
    assert second.pbf == Path("/abs/c.osm.pbf") and second.lang == "zh" and second.name == "hd-2"


def test_errors_name_file_entry_field_value(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[city]]\nid = "ok"\npbf = "a"\n'
        '[[city]]\nid = "ok"\npbf = "b"\n'
        '[[city]]\nid = "has space"\npbf = "c"\n'
        '[[city]]\nid = "x"\nadcode = "1101"\npbf = "d"\ncolour = "red"\n'
        '[[city]]\nid = "y"\n'
        '[[city]]\nid = "comparison"\npbf = "e"\n',
        "utf-8",
    )
    with pytest.raises(ManifestError) as err:
        read_manifest(bad)
    msg = str(err.value)
    assert f"{bad}: city #2 (id 'ok'): field 'id' value 'ok' duplicates city #1" in msg
    assert "city #3 (id 'has space'): field 'id' value 'has space'" in msg
    assert "city #4 (id 'x'): unknown field 'colour' (value 'red')" in msg
    assert "city #4 (id 'x'): field 'adcode' value '1101' is not six digits" in msg
    assert "city #5 (id 'y'): field 'pbf' value None" in msg
    assert "city #6 (id 'comparison'): field 'id' value 'comparison' is reserved" in msg
    (tmp_path / "m.yaml").write_text("x", "utf-8")
    with pytest.raises(ManifestError, match=r"unknown manifest format '\.yaml'"):
        read_manifest(tmp_path / "m.yaml")
    (tmp_path / "broken.toml").write_text("[[city]\n", "utf-8")
    with pytest.raises(ManifestError, match=r"broken\.toml: not valid TOML"):
        read_manifest(tmp_path / "broken.toml")


def test_fingerprint_follows_file_content(tmp_path):
    (tmp_path / "a.osm.pbf").write_bytes(b"one")
    (tmp_path / "m.toml").write_text('[[city]]\nid = "a"\npbf = "a.osm.pbf"\n', "utf-8")
    (entry,) = read_manifest(tmp_path / "m.toml")
    fp1 = input_fingerprint(entry)
    # sha256 of b"one", computed independently (hashlib docs / `sha256sum`)
    assert fp1["files"]["pbf"] == (
        "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"
    )
    (tmp_path / "a.osm.pbf").write_bytes(b"two")
    assert input_fingerprint(entry) != fp1


def test_parse_weights(tmp_path):
    assert parse_weights("livable=2, green=1") == {"livable": 2.0, "green": 1.0}
    (tmp_path / "w.toml").write_text("[weights]\nlivable = 3\n", "utf-8")
    assert parse_weights(str(tmp_path / "w.toml")) == {"livable": 3.0}
    assert parse_weights(None) is None


def test_cli_end_to_end(tmp_path):
    manifest = write_areas(tmp_path / "areas")
    out = tmp_path / "out"
    args = ["batch", str(manifest), "--out", str(out), "--job", "batch_jobs:count_job"]
    args += [
        "--workers",
        "0",
        "--no-progress",
        "--draws",
        "200",
        "--weights",
        "livable=2,vibrant=1",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # one corrupt city
    assert "corrupt" in result.output
    ranking = pd.read_csv(out / "comparison" / "comparison.csv", index_col="city")
    assert len(ranking) == 24 and "corrupt" not in ranking.index
    assert ranking["keep_rank_share"].between(0, 1).all()
    outlines = gpd.read_file(out / "comparison" / "cities.geojson")
    assert len(outlines) == 18  # the 3 boundary variants of each of the 6 extracts
    assert set(outlines["city"]) <= set(ranking.index)
    again = CliRunner().invoke(app, [*args, "--resume"])
    assert again.exit_code == 1
    status = json.loads((out / "batch.json").read_text("utf-8"))
    counts = pd.Series([c["status"] for c in status["cities"]]).value_counts().to_dict()
    assert counts == {"skipped": 24, "failed": 1}
    bad = CliRunner().invoke(app, ["batch", str(tmp_path / "nope.toml"), "--out", str(out)])
    assert bad.exit_code == 2 and "nope.toml" in bad.output


def test_urban_system_command(tmp_path):
    city = shared_data("census", "china_city_census_2010_2020.csv")
    county = shared_data("census", "china_county_census_2020.csv")
    out = tmp_path / "sys"
    result = CliRunner().invoke(app, ["urban-system", str(city), str(county), "--out", str(out)])
    assert result.exit_code == 0, result.output
    classes = pd.read_csv(out / "size_classes.csv").set_index("size_class")["cities"]
    assert classes["super"] == 7 and classes["mega"] == 14
    cities = gpd.read_file(out / "cities.gpkg", layer="cities")
    assert len(cities) == 369
    counties = pd.read_csv(out / "counties.csv")
    assert len(counties) > 2800
    bad = tmp_path / "bad.csv"
    pd.read_csv(city).drop(columns=["age_65_2020"]).to_csv(bad, index=False)
    failed = CliRunner().invoke(app, ["urban-system", str(bad), str(county), "--out", str(out)])
    assert failed.exit_code == 2 and "age_65_2020" in failed.output
