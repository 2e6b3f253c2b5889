"""Into the health check: hotline indicators on a real City, accepted by evaluate_city."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from citycheck.listen.analytics.health import (
    assign_themes,
    hotline_indicators,
    hotspot_problems,
)
from citycheck.listen.analytics.hotspots import hex_hotspots
from citycheck.listen.analytics.rates import three_rates
from citycheck.listen.analytics.synthetic import generate_orders
from citycheck.pipeline import evaluate_city

CITY = "beijing-haidian-bupt.osm.pbf"


@pytest.fixture(scope="module")
def city(city_of):
    return city_of(CITY)


def _wgs(city):
    return gpd.GeoSeries([city.boundary], crs=city.crs).to_crs("EPSG:4326").iloc[0]


@pytest.fixture(scope="module")
def orders(city):
    b = _wgs(city)
    o = generate_orders(4000, start="2025-01-01", end="2025-12-31", seed=3, bbox=b.bounds)
    o = o[o["category"].isin(["property", "road", "social", "noise"])].reset_index(drop=True)
    # three waterlogging spots inside, five reports each within a few metres
    inside = city.buildings.geometry.centroid.to_crs("EPSG:4326")
    inside = inside[inside.within(b)]
    spots = inside.iloc[[0, len(inside) // 2, len(inside) - 1]]
    rows = []
    t0 = pd.Timestamp("2025-07-20 10:00")
    for k, p in enumerate(spots):
        for i in range(5):
            rows.append(
                {
                    "order_id": f"w{k}-{i}",
                    "requested_at": t0 + pd.Timedelta(hours=i),
                    "category": "urban",
                    "text": "小区门口积水严重",
                    "lat": p.y + 1e-5 * i,
                    "lon": p.x,
                    "unit": "U00",
                    "area": "D0",
                }
            )
    # parking reports on two named streets (on the line, inside the study area)
    named = city.streets[city.streets["name"].notna()].copy()
    named["geometry"] = named.geometry.intersection(city.boundary.buffer(-20))
    named = named[named.geometry.length > 50].drop_duplicates("name")
    assert len(named) >= 2
    for k, (_, s) in enumerate(named.iloc[:2].iterrows()):
        mid = gpd.GeoSeries([s.geometry.interpolate(0.5, normalized=True)], crs=city.crs)
        mid = mid.to_crs("EPSG:4326").iloc[0]
        for i in range(3):
            rows.append(
                {
                    "order_id": f"p{k}-{i}",
                    "requested_at": t0 + pd.Timedelta(days=i),
                    "category": "transport",
                    "text": "车辆乱停占道",
                    "lat": mid.y,
                    "lon": mid.x,
                    "unit": "U01",
                    "area": "D0",
                }
            )
    extra = pd.DataFrame(rows)
    return pd.concat([o, extra], ignore_index=True), sorted(named["name"].iloc[:2])


def test_indicators_on_a_city_match_direct_computation(city, orders):
    o, streets = orders
    values = hotline_indicators(o, city, min_orders=5)
    b = _wgs(city)
    inside = o[[b.contains(shapely.Point(x, y)) for x, y in zip(o["lon"], o["lat"], strict=True)]]
    want = three_rates(inside, by=[]).iloc[0]
    d = values[values["level"] == "district"].set_index("indicator")
    assert d.loc["Z01", "value"] == pytest.approx(100 * want["resolution"])
    assert d.loc["Z01b", "value"] == pytest.approx(100 * want["satisfaction"])
    assert d.loc["Z01c", "value"] == pytest.approx(100 * want["response"])
    assert d.loc["Z01", "n"] == want["resolution_n"]
    # Z02: orders inside per 10,000 residents per year
    years = (o["requested_at"].max() - o["requested_at"].min()).total_seconds() / 86400 / 365.25
    residents = city.buildings.loc[
        city.buildings.geometry.centroid.within(city.boundary), "residents"
    ].sum()
    assert d.loc["Z02", "value"] == pytest.approx(len(inside) / residents * 1e4 / years, rel=1e-3)
    # S02: three planted spots; C04: the two named streets
    assert d.loc["S02", "n"] == 15 and d.loc["S02", "note"].startswith("3 waterlogging points")
    from citycheck.evaluate.indicators._overlay import built_up_land

    assert d.loc["S02", "value"] == pytest.approx(3 / (built_up_land(city).area / 1e6))
    assert d.loc["C04", "value"] == 2
    for s in streets:
        assert s in d.loc["C04", "note"]
    # neighbourhood rates use only the orders in each neighbourhood
    nb = values[(values["level"] == "neighbourhood") & (values["indicator"] == "Z01")]
    assert nb["n"].sum() <= d.loc["Z01", "n"]


def test_evaluate_city_accepts_the_values(city, orders):
    o, _ = orders
    values = hotline_indicators(o, city, min_orders=5)
    ev = evaluate_city(city, inputs=values)
    got = ev.values.set_index(["indicator", "level", "unit_id"])
    for ind in ("Z01", "Z01b", "Z01c", "Z02", "S02", "C04"):
        row = got.loc[(ind, "district", "district")]
        assert np.isfinite(row["value"]) and row["grade"] in ("pass", "warning", "fail", "info")
    # S02's pass mark is zero waterlogging points: three points fail it and reach the problems
    assert got.loc[("S02", "district", "district"), "grade"] == "fail"
    assert "S02" in set(ev.problems["indicator"])


def test_small_units_get_no_rate(city, orders):
    o, _ = orders
    values = hotline_indicators(o, city, min_orders=10**6)
    z = values[values["indicator"].isin(["Z01", "Z01b", "Z01c"])]
    assert z["value"].isna().all() and z["note"].str.contains("fewer than").all()


def test_themes_by_category_and_keywords():
    o = pd.DataFrame(
        {
            "category": ["Illegal Parking", "urban", "urban", "Noise - Residential", "labour"],
            "text": ["", "路口积水没过脚踝", "楼下广场舞噪音扰民", "", "工资拖欠"],
        }
    )
    assert assign_themes(o).tolist() == ["parking", "waterlogging", "noise", "noise", ""]


def test_hotspots_join_the_problem_list():
    log = generate_orders(30_000, seed=5)
    hexes = hex_hotspots(log[log["category"].isin(["parking", "noise"])], resolution=8)
    probs = hotspot_problems(hexes)
    for _, p in probs.iterrows():
        sub = hexes[(hexes["category"] == p["theme"]) & hexes["hot"]]
        assert p["units_failing"] == len(sub)
        assert p["worst_units"][0]["unit_id"] == sub.loc[sub["z"].idxmax(), "cell"]
        assert p["scope"] == "hotspot" and p["indicator"] == "Z02"
        assert (sub["orders"] > 0).all() and (sub["q"] < 0.05).all()


def test_hex_rates_per_10k_residents_on_a_city(city, orders):
    import h3

    from citycheck.listen.analytics.hotspots import residents_per_hex

    res = residents_per_hex(city.buildings, 9)
    assert res.sum() == pytest.approx(city.buildings["residents"].sum())
    # each building's residents land in the cell of its centroid
    c = city.buildings.geometry.centroid.to_crs("EPSG:4326")
    b0 = city.buildings["residents"].idxmax()
    cell = h3.latlng_to_cell(c.loc[b0].y, c.loc[b0].x, 9)
    assert res[cell] >= city.buildings.loc[b0, "residents"]
    o, _ = orders
    hexes = hex_hotspots(o, resolution=9, by=None, residents=res)
    assert (hexes["residents"] > 0).all()  # cells without residents are left out of the test
    want = o.assign(
        cell=[h3.latlng_to_cell(a, b, 9) for a, b in zip(o["lat"], o["lon"], strict=True)]
    )
    want = want["cell"].value_counts()
    for _, r in hexes.iterrows():
        assert r["orders"] == want.get(r["cell"], 0)
        assert r["per_10k"] == pytest.approx(r["orders"] / r["residents"] * 1e4)


def test_repeat_places_across_months():
    from citycheck.listen.analytics.trends import repeat_places

    t0 = pd.Timestamp("2025-01-10 10:00")
    rows = [
        # the same drain floods in three different months (within 20 m)
        *[
            (f"d{i}", t0 + pd.DateOffset(months=i), "waterlogging", 39.9 + 1e-4 * i, 116.4)
            for i in range(3)
        ],
        # three reports at one spot in one week: a burst, not a repeat place across months
        *[(f"b{i}", t0 + pd.Timedelta(days=i), "waterlogging", 39.95, 116.45) for i in range(3)],
        # scattered single reports
        *[(f"s{i}", t0, "waterlogging", 39.8 + 0.01 * i, 116.3) for i in range(5)],
    ]
    o = pd.DataFrame(rows, columns=["order_id", "requested_at", "category", "lat", "lon"])
    rep = repeat_places(o, resolution=10, min_orders=3, min_months=2)
    assert len(rep) == 1
    assert sorted(rep.iloc[0]["order_ids"]) == ["d0", "d1", "d2"] and rep.iloc[0]["months"] == 3
    by_address = repeat_places(
        o.assign(address=["A路1号"] * 3 + ["B路2号"] * 3 + [""] * 5),
        place="address",
        min_orders=3,
        min_months=1,
    )
    assert set(by_address["place"]) == {"A路1号", "B路2号"}
