"""City residents and facilities on the network's junctions (nearest-junction service areas)."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import Point, box

from citycheck.city import City
from citycheck.lifeline.register import register_from_inp
from citycheck.lifeline.risk import topological_consequence
from citycheck.lifeline.service_area import assign_city_to_junctions

CRS = "EPSG:32650"  # UTM 50N, metres: the hand-made network's coordinates read as metres


def _city(buildings: list[tuple[float, float, float]], facilities: list[tuple]) -> City:
    """A City with square residential buildings (x, y, residents) and point facilities."""
    crs = pyproj.CRS(CRS)
    b = gpd.GeoDataFrame(
        {
            "osm_id": [f"b{i}" for i in range(len(buildings))],
            "residential": True,
            "residents": [r for _, _, r in buildings],
        },
        geometry=[box(x - 10, y - 10, x + 10, y + 10) for x, y, _ in buildings],
        crs=crs,
    )
    f = gpd.GeoDataFrame(
        {
            "osm_id": [f"f{i}" for i in range(len(facilities))],
            "name": [n for n, *_ in facilities],
            "category": [c for _, c, *_ in facilities],
            "in_area": True,
        },
        geometry=[Point(x, y) for *_, x, y in facilities],
        crs=crs,
    )
    empty = gpd.GeoDataFrame(geometry=[], crs=crs)
    return City(
        name="hand",
        crs=crs,
        boundary=box(-100, -500, 1600, 500),
        buildings=b,
        facilities=f,
        streets=empty,
        entrances=empty,
        landuse=empty,
        units={},
    )


def test_residents_go_to_nearest_junction_by_hand(small_inp):
    # junctions: J1 (500,0) J2 (1000,0) J3 (1400,0) J4 (1200,-300) J5 (1000,300)
    reg = register_from_inp(small_inp, crs=CRS)
    city = _city(
        [
            (520, 40, 100.0),  # 45 m from J1
            (980, 250, 60.0),  # 54 m from J5, 251 m from J2
            (1010, 320, 40.0),  # J5
            (1180, -280, 30.0),  # J4
            (1390, 10, 20.0),  # J3
            (3000, 0, 999.0),  # 1600 m from J3: beyond reach
        ],
        [
            ("人民医院 People's Hospital", "hospital", 1000, 310),  # J5
            ("实验小学 Primary school", "primary_school", 1410, -5),  # J3
            ("超市 Supermarket", "convenience", 500, 0),  # not critical
        ],
    )
    got = assign_city_to_junctions(reg, city, max_distance_m=500)
    assert got.residents.to_dict() == {"J1": 100.0, "J2": 0.0, "J3": 20.0, "J4": 30.0, "J5": 100.0}
    assert got.unassigned_residents == 999.0
    assert got.buildings["distance_m"].iloc[0] == pytest.approx((20**2 + 40**2) ** 0.5)
    fac = got.facilities.set_index("category")
    assert fac.at["hospital", "node"] == "J5" and fac.at["primary_school", "node"] == "J3"
    assert "convenience" not in fac.index
    # consequence with the City's residents: losing P6 cuts off J5 (100 residents, the hospital);
    # losing P1 cuts off everyone assigned (250); loop pipes cut off nobody
    cons = topological_consequence(reg, residents=got.residents, facilities=got.facilities)
    assert cons.at["P6", "residents_affected"] == 100.0
    assert cons.at["P6", "facility_categories"] == "hospital:1"
    assert cons.at["P1", "residents_affected"] == 250.0
    assert cons.at["P1", "facilities_affected"] == 2
    assert cons.at["P4", "residents_affected"] == 0.0


def test_crs_must_match(small_inp):
    city = _city([(520, 40, 100.0)], [])
    with pytest.raises(ValueError, match="no CRS"):
        assign_city_to_junctions(register_from_inp(small_inp), city)
    with pytest.raises(ValueError, match=r"EPSG:32651.*differs.*hand"):
        assign_city_to_junctions(register_from_inp(small_inp, crs="EPSG:32651"), city)


def test_city_without_residents_is_refused(small_inp):
    city = _city([(520, 40, float("nan"))], [])
    with pytest.raises(ValueError, match="no residents estimate"):
        assign_city_to_junctions(register_from_inp(small_inp, crs=CRS), city)
