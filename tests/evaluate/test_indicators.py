"""Indicator functions: the registry contract, and hand-checked values."""

from __future__ import annotations

import dataclasses
import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from tests.conftest import ALL_OSM

from citycheck.city import PUBLIC_ROADS
from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.indicators import (
    REGISTRY,
    IndicatorContext,
    compute_builtin,
    compute_indicators,
)
from citycheck.evaluate.indicators.registry import COLUMNS, registrations
from citycheck.evaluate.indicators.streets import (
    INTERSECTION_STREETS,
    consolidated_intersections,
    intersection_density,
    road_density,
)

#: The built-in indicators: those with a per-unit function of a City and its units.
BUILTIN = sorted(i for i, e in REGISTRY.items() if e.per_unit is not None)
#: compute of the catalogue -> the context input its registered computation needs.
NEEDS = {"builtin": "city", "access": "network", "census": "census", "hotline": "hotline"}


@pytest.mark.parametrize("iid", BUILTIN)
@pytest.mark.parametrize("name", ["beijing-haidian-cau.osm.pbf", "test.osm.pbf"])
def test_registry_contract(iid, name, city_of):
    city = city_of(name)
    for level in catalogue()[iid].levels:
        if level == "dwelling":
            continue
        units = city.units[level]
        before = units.copy()
        out = REGISTRY[iid](city, units)
        assert isinstance(out, pd.Series) and out.name == iid
        assert list(out.index) == list(units["unit_id"])  # one value per unit, in order
        assert out.dtype.kind == "f"
        pd.testing.assert_frame_equal(units, before)  # never mutates


@pytest.mark.parametrize("iid", BUILTIN)
def test_registry_empty_city(iid, city_of):
    """A city with nothing mapped gives a value or NaN per unit, never an exception."""
    city = city_of("beijing-haidian-bupt.osm.pbf")
    empty = dataclasses.replace(
        city,
        buildings=city.buildings.iloc[:0],
        facilities=city.facilities.iloc[:0],
        streets=city.streets.iloc[:0],
        landuse=city.landuse.iloc[:0],
    )
    out = REGISTRY[iid](empty, empty.units["district"])
    assert len(out) == 1


def _clip_length(coords: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Length of a polyline inside an axis-aligned box (Liang–Barsky, written for the test)."""
    xmin, ymin, xmax, ymax = box
    total = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(coords):
        dx, dy = x1 - x0, y1 - y0
        t0, t1 = 0.0, 1.0
        ok = True
        for p, q in ((-dx, x0 - xmin), (dx, xmax - x0), (-dy, y0 - ymin), (dy, ymax - y0)):
            if p == 0:
                if q < 0:
                    ok = False
                    break
            else:
                t = q / p
                if p < 0:
                    t0 = max(t0, t)
                else:
                    t1 = min(t1, t)
        if ok and t0 < t1:
            total += (t1 - t0) * math.hypot(dx, dy)
    return total


def test_road_density_by_hand_on_real_clip(city_of):
    """A 400 m × 400 m clip of Wudaokou: road length summed segment by segment."""
    city = city_of("beijing-haidian-wudaokou.osm.pbf")
    primary = city.streets[city.streets["highway"] == "primary"].clip(city.boundary)
    cx, cy = (
        primary.geometry.iloc[primary.length.argmax()].interpolate(0.5, normalized=True).coords[0]
    )
    box = (cx - 200, cy - 200, cx + 200, cy + 200)
    units = gpd.GeoDataFrame({"unit_id": ["clip"]}, geometry=[shapely.box(*box)], crs=city.crs)
    roads = city.streets[city.streets["highway"].isin(PUBLIC_ROADS)]
    by_hand_m = sum(_clip_length(np.asarray(g.coords), box) for g in roads.geometry)
    assert by_hand_m > 0
    got = road_density(city, units)["clip"]
    assert got == pytest.approx(by_hand_m / 1000 / 0.16, rel=1e-9)


def _hand_grid_city(city):
    """Two east-west and two north-south streets crossing (a '#'), plus a T and a dead end."""
    x0, y0 = city.boundary.centroid.coords[0]
    # as in OSM, streets that cross share a vertex at the crossing
    lines = [
        shapely.LineString(
            [(x0, y0), (x0 + 100, y0), (x0 + 110, y0), (x0 + 200, y0), (x0 + 300, y0)]
        ),  # south street
        shapely.LineString(
            [(x0, y0 + 200), (x0 + 100, y0 + 200), (x0 + 200, y0 + 200), (x0 + 300, y0 + 200)]
        ),  # north street
        shapely.LineString(
            [(x0 + 100, y0 - 50), (x0 + 100, y0), (x0 + 100, y0 + 200), (x0 + 100, y0 + 250)]
        ),
        shapely.LineString(
            [(x0 + 200, y0 - 50), (x0 + 200, y0), (x0 + 200, y0 + 200), (x0 + 200, y0 + 250)]
        ),
        shapely.LineString([(x0 + 300, y0 + 100), (x0 + 350, y0 + 100)]),  # lone, no junction
        # a T 10 m from the (x0+100, y0) crossing: merged by the 15 m tolerance
        shapely.LineString([(x0 + 110, y0), (x0 + 110, y0 - 40)]),
    ]
    streets = gpd.GeoDataFrame(
        {"highway": ["residential"] * len(lines)}, geometry=lines, crs=city.crs
    )
    return dataclasses.replace(city, streets=streets), (x0, y0)


def test_intersections_by_hand(city_of):
    city, (x0, y0) = _hand_grid_city(city_of("beijing-haidian-bupt.osm.pbf"))
    pts = consolidated_intersections(city.streets.geometry)
    # crossings at x0+100/x0+200 × y0/y0+200 = 4, the T at x0+110 merges with (x0+100, y0)
    assert len(pts) == 4
    unit = gpd.GeoDataFrame(
        {"unit_id": ["u"]},
        geometry=[shapely.box(x0 - 1, y0 - 100, x0 + 400, y0 + 300)],
        crs=city.crs,
    )
    dens = intersection_density(city, unit)["u"]
    assert dens == pytest.approx(4 / (401 * 400 / 1e6))
    # with no tolerance the T stays separate
    assert len(consolidated_intersections(city.streets.geometry, tolerance_m=0.0)) == 5


def test_intersections_independent_on_real_data(city_of):
    """Degree ≥ 3 vertices counted with a plain dictionary over segments."""
    city = city_of("beijing-haidian-cau.osm.pbf")
    streets = city.streets[city.streets["highway"].isin(INTERSECTION_STREETS)]
    degree: dict[tuple[int, int], int] = {}
    for g in streets.geometry:
        cs = [(round(x * 100), round(y * 100)) for x, y in g.coords]
        for a, b in itertools.pairwise(cs):
            degree[a] = degree.get(a, 0) + 1
            degree[b] = degree.get(b, 0) + 1
    raw = [k for k, d in degree.items() if d >= 3]
    assert len(consolidated_intersections(streets.geometry, tolerance_m=0.0)) == len(raw)


@pytest.mark.parametrize("name", ALL_OSM)
def test_compute_builtin_every_level(name, city_of):
    df = compute_builtin(city_of(name))
    assert set(df["indicator"]) == set(BUILTIN)
    for iid in BUILTIN:
        levels = set(df.loc[df["indicator"] == iid, "level"])
        assert levels == set(catalogue()[iid].levels) - {"dwelling"}


def test_blue_green_and_intensity_bounded(city_of):
    df = compute_builtin(city_of("hsinchu-nctu.osm.pbf"))
    for iid in ("G05", "U03", "S07c"):
        v = df.loc[df["indicator"] == iid, "value"].dropna()
        assert ((v >= 0) & (v <= 100 + 1e-9)).all(), iid


def test_population_dependent_need_residents(read_layers):
    from citycheck.city import build_city

    city = build_city(read_layers("beijing-haidian-bupt.osm.pbf"))  # no population
    df = compute_builtin(city)
    for iid in ("U02", "L07b", "G03", "S05", "U04"):
        assert df.loc[df["indicator"] == iid, "value"].isna().all(), iid


def test_every_catalogue_id_computed_once_or_typed():
    """Each catalogue id is computed by exactly one registered function (needing the input its
    ``compute`` names), or is a typed input (``compute = "input"``) with none."""
    owners: dict[str, int] = {}
    for entry in registrations():
        assert entry.ids, entry
        for iid in entry.ids:
            owners[iid] = owners.get(iid, 0) + 1
            assert REGISTRY[iid] is entry
    assert all(n == 1 for n in owners.values()), owners
    for iid, ind in catalogue().items():
        if ind.compute == "input":
            assert iid not in REGISTRY, iid
        else:
            assert iid in REGISTRY, f"{iid} is declared {ind.compute} but has no function"
            assert REGISTRY[iid].needs == NEEDS[ind.compute], iid
            assert (REGISTRY[iid].per_unit is not None) == (ind.compute == "builtin"), iid
    assert {REGISTRY[i].needs for i in REGISTRY} == set(NEEDS.values())


@pytest.fixture(scope="module")
def full_context(city_of):
    """BUPT with every input: census figures of Haidian and synthetic hotline orders inside."""
    from tests.conftest import shared_data

    from citycheck.evaluate.census_indicators import census_system_values
    from citycheck.io.census import read_city_census, read_county_census
    from citycheck.listen.analytics.synthetic import generate_orders

    city = city_of("beijing-haidian-bupt.osm.pbf")
    census = census_system_values(
        read_city_census(shared_data("census", "china_city_census_2010_2020.csv")),
        read_county_census(shared_data("census", "china_county_census_2020.csv")),
        "110108",
    ).values
    wgs = gpd.GeoSeries([city.boundary], crs=city.crs).to_crs("EPSG:4326").iloc[0]
    orders = generate_orders(3000, start="2025-01-01", end="2025-12-31", seed=3, bbox=wgs.bounds)
    return IndicatorContext(city, census=census, hotline=orders)


@pytest.mark.parametrize(
    "entry", registrations(), ids=lambda e: e.ids[0] if len(e.ids) == 1 else e.needs
)
def test_registered_computation_contract(entry, full_context):
    """Every registered computation (built-in, walking-network, census, hotline) returns the long
    table of its own ids only, at their catalogue levels, one row per unit, and reasons only for
    its own ids; it never mutates the city's units."""
    city = full_context.city
    before = {lv: u.copy() for lv, u in city.units.items()}
    out = entry.compute(full_context)
    assert list(out.values.columns) == COLUMNS
    assert set(out.values["indicator"]) <= set(entry.ids)
    assert set(out.not_computed) <= set(entry.ids)
    assert len(out.values) or out.not_computed, "computes nothing on a city with every input"
    assert pd.api.types.is_float_dtype(out.values["value"].astype(float))
    for (iid, level), grp in out.values.groupby(["indicator", "level"]):
        assert level in catalogue()[iid].levels and level != "dwelling", (iid, level)
        assert grp["unit_id"].is_unique, (iid, level)
        assert set(grp["unit_id"]) <= set(city.units[level]["unit_id"]), (iid, level)
    for lv, units in city.units.items():
        pd.testing.assert_frame_equal(units, before[lv])


def test_one_loop_runs_every_registration(full_context):
    out = compute_indicators(full_context)
    computed = set(out.values.loc[out.values["value"].notna(), "indicator"])
    needs = {REGISTRY[i].needs for i in computed}
    assert needs == set(NEEDS.values())  # built-in, network, census and hotline values
    # without census and hotline inputs their computations give nothing, and no reason
    bare = compute_indicators(IndicatorContext(full_context.city), needs=("census", "hotline"))
    assert not len(bare.values) and not bare.not_computed
