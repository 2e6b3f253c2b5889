"""A hand-built network whose answers are worked out by hand (see each expected value)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon

from citycheck.access import analyse_layers, count_column, dist_column

CRS = "EPSG:32650"


def _streets() -> gpd.GeoDataFrame:
    rows = []
    for y in (0, 100, 200):  # three east-west ways across a 200 m x 200 m grid
        rows.append(("footway", LineString([(0, y), (100, y), (200, y)])))
    for x in (0, 100, 200):  # three north-south ways
        rows.append(("residential", LineString([(x, 0), (x, 100), (x, 200)])))
    rows.append(("motorway", LineString([(0, -25), (200, -25)])))  # never walkable
    rows.append(("path", LineString([(500, 0), (600, 0)])))  # a second, separate component
    return gpd.GeoDataFrame(
        {"highway": [r[0] for r in rows], "name": None}, geometry=[r[1] for r in rows], crs=CRS
    )


def _buildings() -> gpd.GeoDataFrame:
    tri = lambda x, y: Polygon([(x, y), (x - 5, y - 10), (x + 5, y - 10)])  # noqa: E731
    geoms = [
        tri(45, -20),  # B1: apex 20 m below way y=0 (the motorway at y=-25 is closer but barred)
        tri(100, -130),  # B2: 130 m from every walkable way: beyond the 100 m snap limit
        tri(550, -10),  # B3: 10 m from the separate component
        Polygon([(120, 120), (160, 120), (160, 160), (120, 160)]),  # B4: entrance mapped
    ]
    return gpd.GeoDataFrame(
        {
            "residential": True,
            "floor_area_m2": [100.0, 200.0, 300.0, 400.0],
            "residents": [1.0, 2.0, 3.0, 4.0],
        },
        geometry=geoms,
        crs=CRS,
    )


def _facilities() -> gpd.GeoDataFrame:
    park = Polygon([(210, 50), (400, 50), (400, 150), (210, 150)])  # centroid 105 m from ways
    rows = [
        ("f1", "kindergarten", Point(0, 210), 0.0),
        ("f2", "park", park, park.area),
        ("f3", "food_market", Point(600, 10), 0.0),
        ("f4", "bus_stop", Point(103, 150), 0.0),
    ]
    return gpd.GeoDataFrame(
        {
            "facility_id": [r[0] for r in rows],
            "category": [r[1] for r in rows],
            "area_m2": [r[3] for r in rows],
        },
        geometry=[r[2] for r in rows],
        crs=CRS,
    )


@pytest.fixture(scope="module")
def result():
    entrances = gpd.GeoDataFrame({"entrance": ["main"]}, geometry=[Point(150, 120)], crs=CRS)
    return analyse_layers(_streets(), _buildings(), _facilities(), entrances=entrances)


def test_snap_and_reachability(result):
    b = result.buildings
    assert b["reachable"].tolist() == [True, False, True, True]
    # B1 joins way y=0 at (45, 0): 20 m; B4 joins from its entrance (150,120) to (150,100): 20 m
    assert b["snap_m"].iloc[0] == pytest.approx(20.0)
    assert b["snap_m"].iloc[3] == pytest.approx(20.0)
    assert b["snap_m"].iloc[2] == pytest.approx(10.0)
    assert np.isnan(b["snap_m"].iloc[1])
    assert result.unreachable.index.tolist() == [1]
    assert "100 m" in result.unreachable["reason"].iloc[0]
    # B3 is on the 100 m piece, the others on the 1200 m grid
    assert b["component_length_m"].iloc[2] == pytest.approx(100.0)
    assert b["component_length_m"].iloc[0] == pytest.approx(1200.0)


def test_distances_by_hand(result):
    d = result.buildings
    # B1 -> kindergarten: 20 snap + 45 west to (0,0) + 200 north + 10 stub = 275
    assert d[dist_column("kindergarten")].iloc[0] == pytest.approx(275.0)
    # B4 -> kindergarten: 20 + 50 west + 100 north + 100 west + 10 = 280
    assert d[dist_column("kindergarten")].iloc[3] == pytest.approx(280.0)
    # B1 -> park, entered from its west edge at (200,50): 20 + 155 + 50 + 10 = 235
    assert d[dist_column("park")].iloc[0] == pytest.approx(235.0)
    assert d[dist_column("park_large")].iloc[0] == pytest.approx(235.0)  # 19 000 m2 park
    # B4 -> park: 20 + 50 east to (200,100) + 10 = 80
    assert d[dist_column("park")].iloc[3] == pytest.approx(80.0)
    # B1 -> bus stop joined at (100,150) 3 m off: 20 + 55 + 150 + 3 = 228; B4: 20+50+50+3 = 123
    assert d[dist_column("bus_stop")].iloc[0] == pytest.approx(228.0)
    assert d[dist_column("bus_stop")].iloc[3] == pytest.approx(123.0)
    # B3 -> food market on its own piece: 10 + 50 + 10 = 70; the grid cannot reach it
    assert d[dist_column("food_market")].iloc[2] == pytest.approx(70.0)
    assert np.isinf(d[dist_column("food_market")].iloc[0])
    assert np.isinf(d[dist_column("kindergarten")].iloc[2])
    # unreachable building: not computed (NaN), never 0 or inf
    assert np.isnan(d[dist_column("kindergarten")].iloc[1])


def test_counts_and_missing_category(result):
    d = result.buildings
    assert d[count_column("bus_stop", 300)].iloc[3] == 1
    assert d[count_column("bus_stop", 300)].iloc[0] == 1
    assert d[count_column("park", 300)].iloc[0] == 1
    assert d[count_column("park", 1500)].iloc[2] == 0
    assert d[count_column("food_market", 300)].iloc[2] == 1
    cats = result.categories
    assert cats.loc["nursery", "status"] == "none in area"
    assert np.isnan(d[dist_column("nursery")]).all()
    assert d[count_column("nursery", 500)].isna().all()
    assert cats.loc["park_small", "status"] == "none in area"
    assert cats.loc["kindergarten", "zh"] == "幼儿园"


def test_life_circle_flags(result):
    d = result.buildings
    assert d["within_kindergarten"].tolist() == [True, False, False, True]
    assert not d["lc5_complete"].any()  # nursery, clinic, ... are missing everywhere
    assert (d["lc5_missing"] >= 1).all()


def test_centroid_would_be_too_far():
    """The park's centroid is 105 m from every way: only its edge makes it reachable."""
    fac = _facilities()
    fac.loc[1, "geometry"] = fac.geometry.iloc[1].centroid
    r = analyse_layers(_streets(), _buildings(), fac, category_ids=["park"], greenways=False)
    assert r.categories.loc["park", "status"] == "none joined"
    assert len(r.unjoined_facilities) == 1
