"""SDG 11.3.1 (ratio of land consumption rate to population growth rate), checked by hand.

UN-Habitat metadata 11.3.1: LCR = ln(Urb_t+n / Urb_t) / y, PGR = ln(Pop_t+n / Pop_t) / y,
LCRPGR = LCR / PGR.  Hand case: built-up 40 -> 50 km², population 800,000 -> 880,000 over
2015 -> 2020 (y = 5): ln 1.25 = 0.2231435513, ln 1.1 = 0.0953101798, so LCR = 0.0446287103,
PGR = 0.0190620360, LCRPGR = 2.3412352; built-up per capita 50 m² and 56.8182 m².
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from citycheck.cli.batch import app
from citycheck.evaluate.land_consumption import (
    built_up_area,
    land_consumption,
    land_consumption_table,
    read_area_table,
)
from citycheck.io.errors import InputError


def test_hand_case():
    r = land_consumption(40.0, 50.0, 800_000.0, 880_000.0, 2015, 2020)
    assert r.years == 5
    assert r.lcr == pytest.approx(0.0446287103, rel=1e-8)
    assert r.pgr == pytest.approx(0.0190620360, rel=1e-8)
    assert r.ratio == pytest.approx(2.3412352, rel=1e-7)
    assert r.built_up_per_capita_1 == pytest.approx(50.0)
    assert r.built_up_per_capita_2 == pytest.approx(56.8181818, rel=1e-8)


def test_unchanged_population_is_undefined():
    r = land_consumption(40.0, 50.0, 1000.0, 1000.0, 2010, 2020)
    assert math.isnan(r.ratio) and "PGR = 0" in r.note


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((40.0, 50.0, 800.0, 880.0, 2020, 2015), "year_2"),
        ((40.0, 50.0, -1.0, 880.0, 2015, 2020), "pop_1"),
        ((0.0, 50.0, 800.0, 880.0, 2015, 2020), "built_up_km2_1"),
    ],
)
def test_bad_values_named(args, field):
    with pytest.raises(InputError) as err:
        land_consumption(*args, where="cities.csv row 3")
    assert err.value.field == field and "cities.csv row 3" in str(err.value)


def _table(tmp_path, rows):
    path = tmp_path / "areas.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


ROWS = [
    {"id": "A", "year_1": 2015, "year_2": 2020, "built_up_km2_1": 40, "built_up_km2_2": 50,
     "pop_1": 800_000, "pop_2": 880_000},
    {"id": "B", "year_1": 2010, "year_2": 2020, "built_up_km2_1": 100, "built_up_km2_2": 110,
     "pop_1": 1_000_000, "pop_2": 1_100_000},
]  # fmt: skip


def test_table_and_command(tmp_path):
    path = _table(tmp_path, ROWS)
    result = land_consumption_table(read_area_table(path))
    assert result.loc["A", "ratio"] == pytest.approx(2.3412352, rel=1e-7)
    assert result.loc["B", "ratio"] == pytest.approx(1.0)  # land and people grow alike
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["land-consumption", "--table", str(path), "--out", str(out)])
    assert run.exit_code == 0, run.output
    written = pd.read_csv(out / "land_consumption.csv", index_col="id")
    # U01's band (pass 0.8–1.2, warning 0.5–1.5): A fails, B passes
    assert written["grade"].to_dict() == {"A": "fail", "B": "pass"}
    doc = json.loads((out / "land_consumption.json").read_text("utf-8"))
    assert "UN-Habitat" in doc["source"] and doc["columns"]["ratio"]["zh"]


def test_table_errors_name_file_field_value(tmp_path):
    bad = _table(tmp_path, [{**ROWS[0], "pop_2": "many"}])
    with pytest.raises(InputError, match="row 2") as err:
        read_area_table(bad)
    assert err.value.field == "pop_2" and err.value.value == "many"
    missing = _table(tmp_path, [{k: v for k, v in ROWS[0].items() if k != "year_1"}])
    run = CliRunner().invoke(app, ["land-consumption", "--table", str(missing)])
    assert run.exit_code == 2 and "year_1" in run.output and "areas.csv" in run.output
    later = _table(tmp_path, [{**ROWS[0], "year_2": 2010}])
    with pytest.raises(InputError, match="row 2"):
        land_consumption_table(read_area_table(later), source="areas.csv")


def _layer(path, boxes_m):
    """Squares given in metres (UTM 50N, around Beijing), written in WGS84."""
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(*b) for b in boxes_m], crs=32650).to_crs(4326)
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_polygon_layers(tmp_path):
    x, y = 440_000, 4_420_000
    # first date: 2 km x 2 km = 4 km²; second: the same square, an overlapping copy (counted
    # once) and an adjacent 2 km x 1 km strip = 6 km²
    one = _layer(tmp_path / "u1.geojson", [(x, y, x + 2000, y + 2000)])
    two = _layer(
        tmp_path / "u2.geojson",
        [(x, y, x + 2000, y + 2000), (x + 500, y + 500, x + 1500, y + 1500),
         (x + 2000, y, x + 3000, y + 2000)],
    )  # fmt: skip
    assert built_up_area(one) == pytest.approx(4.0, rel=2e-3)
    assert built_up_area(two) == pytest.approx(6.0, rel=2e-3)
    out = tmp_path / "out"
    args = ["land-consumption", "--built-up-1", str(one), "--built-up-2", str(two),
            "--pop-1", "1000000", "--pop-2", "1500000", "--year-1", "2010", "--year-2", "2020",
            "--out", str(out)]  # fmt: skip
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    row = pd.read_csv(out / "land_consumption.csv").iloc[0]
    # ln(6/4) / ln(1.5) = 1 exactly: land grew as fast as people
    assert row["ratio"] == pytest.approx(1.0, rel=5e-3)
    missing = CliRunner().invoke(app, [*args[:-8], "--out", str(out)])
    assert missing.exit_code == 2 and "missing --pop-2, --year-1, --year-2" in missing.output
    lines = tmp_path / "lines.geojson"
    gpd.GeoDataFrame(geometry=[shapely.LineString([(116, 40), (116.1, 40)])], crs=4326).to_file(
        lines, driver="GeoJSON"
    )
    with pytest.raises(InputError, match="polygons"):
        built_up_area(lines)
