"""The City: residential flags, residents, facilities, units, CRS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from tests.conftest import ALL_OSM

from citycheck.city import build_city, parse_height_m, parse_levels, spread_residents
from citycheck.io.errors import InputError


@pytest.mark.parametrize("name", ALL_OSM)
def test_city_is_metric_and_complete(name, city_of):
    city = city_of(name)
    assert city.crs.is_projected and city.crs.axis_info[0].unit_name == "metre"
    assert set(city.units) == {"grid", "compound", "neighbourhood", "district"}
    for level, units in city.units.items():
        assert units["unit_id"].is_unique, level
        assert units.crs == city.crs
    assert city.buildings["residents"].sum() == pytest.approx(10_000, rel=1e-9)
    assert (city.buildings.loc[~city.buildings["residential"], "residents"] == 0).all()
    # neighbourhood blocks tile the study area
    blocks = city.units["neighbourhood"].area.sum()
    assert blocks == pytest.approx(city.boundary.area, rel=0.05)


def test_residents_sum_exactly():
    rng = np.random.default_rng(1)
    for _ in range(50):
        fa = pd.Series(rng.exponential(500, size=rng.integers(1, 300)))
        fa[rng.random(len(fa)) < 0.3] = 0.0
        if fa.sum() == 0:
            continue
        total = float(rng.integers(0, 5_000_000))
        out = spread_residents(fa, total)
        assert out.sum() == pytest.approx(total, rel=1e-12, abs=1e-6)
        assert (out[fa == 0] == 0).all()
        # proportional to floor area
        nz = fa > 0
        ratio = out[nz] / fa[nz]
        assert ratio.max() == pytest.approx(ratio.min(), rel=1e-9)


def test_residents_errors():
    with pytest.raises(InputError, match="no residential floor area"):
        spread_residents(pd.Series([0.0, 0.0]), 100)
    with pytest.raises(InputError, match="finite"):
        spread_residents(pd.Series([1.0]), -5)


def test_residential_flags_wudaokou(city_of):
    """147 buildings carry residential tags; building=yes in residential land use is added."""
    b = city_of("beijing-haidian-wudaokou.osm.pbf").buildings
    assert int((b["residential_source"] == "tag").sum()) == 147
    by_land = b[b["residential_source"] == "landuse"]
    assert len(by_land) > 0 and (by_land["building"] == "yes").all()
    assert not b.loc[b["building"].isin(["school", "commercial"]), "residential"].any()


def test_floor_area_and_levels(city_of):
    b = city_of("beijing-haidian-bupt.osm.pbf").buildings
    tagged = b[b["levels"].notna()]
    assert (tagged["levels_est"] == tagged["levels"]).all()
    assert np.allclose(b["floor_area_m2"], b.geometry.area * b["levels_est"])
    untagged_apts = b[(b["levels_source"] == "default") & (b["building"] == "apartments")]
    assert (untagged_apts["levels_est"] == 6).all()


def test_parse_levels_and_height():
    assert parse_levels("12") == 12
    assert parse_levels("3;5") == 5
    assert np.isnan(parse_levels("many"))
    assert parse_height_m("45.5 m") == 45.5
    assert parse_height_m("30'") == pytest.approx(9.144)
    assert np.isnan(parse_height_m("tall"))


def test_facilities_have_categories_and_parks_keep_polygons(city_of, read_layers):
    city = city_of("beijing-haidian-wudaokou.osm.pbf")
    f = city.facilities
    assert f["facility_id"].is_unique
    parks = f[f["category"] == "park"]
    assert len(parks) and parks.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (parks["area_m2"] > 0).all()
    stops = f[(f["category"] == "bus_stop") & f["in_area"]]
    # independent: bus-stop nodes of the file inside the boundary, tested in WGS84
    raw = read_layers("beijing-haidian-wudaokou.osm.pbf").features
    raw = raw[raw["highway"] == "bus_stop"]
    assert len(raw) == 68  # shared/data/README.md
    box = shapely.box(*read_layers("beijing-haidian-wudaokou.osm.pbf").default_bbox())
    assert len(stops) == int(raw.intersects(box).sum())


def test_boundary_not_overlapping(read_layers):
    with pytest.raises(InputError, match="does not overlap"):
        build_city(read_layers("beijing-haidian-bupt.osm.pbf"), boundary=shapely.box(0, 0, 1, 1))


def test_geographic_crs_refused(read_layers):
    with pytest.raises(InputError, match="metric"):
        build_city(read_layers("beijing-haidian-bupt.osm.pbf"), crs="EPSG:4326")


def test_inputs_not_mutated(read_layers):
    layers = read_layers("beijing-haidian-bupt.osm.pbf")
    before = layers.buildings.copy()
    build_city(layers, residents_total=5)
    pd.testing.assert_frame_equal(layers.buildings, before)


def test_user_units(read_layers):
    import geopandas as gpd

    layers = read_layers("beijing-haidian-cau.osm.pbf")
    left, bottom, right, top = layers.default_bbox()
    mid = (left + right) / 2
    units = gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[shapely.box(left, bottom, mid, top), shapely.box(mid, bottom, right, top)],
        crs="EPSG:4326",
    )
    city = build_city(layers, neighbourhoods=units)
    assert list(city.units["neighbourhood"]["unit_id"]) == ["west", "east"]
