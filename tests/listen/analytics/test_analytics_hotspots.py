"""Hotspots: NYC 311 by borough and by grid, Gi* against its formula, space-time clusters."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from tests.conftest import shared_data

from citycheck.listen.analytics.hotspots import (
    getis_ord,
    hex_hotspots,
    space_time_clusters,
    unit_density,
)
from citycheck.listen.analytics.sources import from_nyc311
from citycheck.listen.analytics.synthetic import Plant, generate_orders

#: New York City boroughs, 2010 census (US Census Bureau, 2010 Census Summary File 1).
NYC_2010 = {
    "Bronx": 1_385_108,
    "Brooklyn": 2_504_700,
    "Manhattan": 1_585_873,
    "Queens": 2_230_722,
    "Staten Island": 468_730,
}


@pytest.fixture(scope="module")
def nyc_raw() -> pd.DataFrame:
    return pd.read_csv(shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str)


@pytest.fixture(scope="module")
def nyc(nyc_raw) -> pd.DataFrame:
    return from_nyc311(nyc_raw)


def test_borough_density_per_10k_matches_pandas(nyc, nyc_raw):
    got = unit_density(nyc, unit_column="area", residents=NYC_2010, by="category")
    got = got[got["unit_id"].isin(NYC_2010)]
    raw = nyc_raw[nyc_raw["Borough"].str.title().isin(NYC_2010)]
    want = raw.groupby([raw["Borough"].str.title(), "Complaint Type"]).size()
    g = got.set_index(["unit_id", "category"])["orders"]
    g = g[g > 0]
    assert g.sort_index().to_dict() == want.sort_index().to_dict()
    # per 10,000 residents and against the city-wide rate of the same type
    noise = got[got["category"] == "Noise - Residential"].set_index("unit_id")
    n_bx = int(want.loc[("Bronx", "Noise - Residential")])
    assert noise.loc["Bronx", "per_10k"] == pytest.approx(n_bx / NYC_2010["Bronx"] * 1e4)
    city = want.xs("Noise - Residential", level=1).sum() / sum(NYC_2010.values()) * 1e4
    assert noise.loc["Bronx", "ratio_to_city"] == pytest.approx(
        noise.loc["Bronx", "per_10k"] / city
    )
    # all types together: every borough row present, zero-free
    tot = unit_density(nyc, unit_column="area", residents=NYC_2010, by="")
    tot = tot.set_index("unit_id")
    for b, n in raw["Borough"].str.title().value_counts().items():
        assert tot.loc[b, "orders"] == n


def _gi_star_by_hand(x: np.ndarray, nb: dict[int, list[int]]) -> np.ndarray:
    """Ord & Getis (1995) Gi* with binary weights including i itself."""
    n = len(x)
    xbar = x.mean()
    s = np.sqrt((x**2).mean() - xbar**2)
    z = np.empty(n)
    for i in range(n):
        js = [i, *nb[i]]
        w = len(js)
        num = x[js].sum() - xbar * w
        den = s * np.sqrt((n * w - w * w) / (n - 1))
        z[i] = num / den
    return z


def test_grid_counts_and_gi_star_on_nyc(nyc):
    hexes = hex_hotspots(nyc, resolution=7, by=None)
    located = nyc[nyc["lat"].notna()]
    assert hexes["orders"].sum() == len(located)
    # every located order lies in (or on the edge of) the hexagon it was counted in
    cells = {c: shapely.Polygon([(b, a) for a, b in h3.cell_to_boundary(c)]) for c in hexes["cell"]}
    sample = located.sample(200, random_state=1)
    for _, r in sample.iterrows():
        cell = h3.latlng_to_cell(r["lat"], r["lon"], 7)
        assert cell in cells
        assert cells[cell].buffer(1e-9).contains(shapely.Point(r["lon"], r["lat"]))
    # Gi* from PySAL equals the formula by hand on the same cells
    index = {c: i for i, c in enumerate(hexes["cell"])}
    nb = {
        i: [index[d] for d in h3.grid_disk(c, 1) if d in index and d != c] for c, i in index.items()
    }
    z = _gi_star_by_hand(hexes["orders"].to_numpy(float), nb)
    np.testing.assert_allclose(hexes["z"].to_numpy(), z, rtol=1e-8)
    hot = hexes[hexes["hot"]]
    assert len(hot) > 0 and (hot["z"] > 1.96).all() and (hot["orders"] > 0).all()
    # flags are on Benjamini-Hochberg q-values: never more than on raw p-values
    raw_p = hexes[(hexes["z"] > 0) & (hexes["p"] < 0.05)]
    assert len(hot) <= len(raw_p) and (hot["q"] < 0.05).all()
    # the hottest cells are in Manhattan below Central Park (40.70..40.80 N, -74.02..-73.93 E)
    top = hexes.nlargest(3, "z")
    assert top["lat"].between(40.70, 40.80).all() and top["lon"].between(-74.02, -73.93).all()


def test_gi_star_small_case():
    # a line of five cells; the middle one is high
    x = np.array([1.0, 1.0, 10.0, 1.0, 1.0])
    nb = {0: [1], 1: [0, 2], 2: [1, 3], 3: [2, 4], 4: [3]}
    got = getis_ord(x, nb)
    np.testing.assert_allclose(got["z"], _gi_star_by_hand(x, nb), rtol=1e-10)
    # cells 1..3 each hold the high value in their neighbourhood; the ends do not
    assert got["z"][2] == pytest.approx(got["z"].max())
    assert got["z"][0] < 0 < got["z"][1]


def test_planted_surge_is_a_hotspot():
    plant = Plant()
    log = generate_orders(120_000, plant=plant, seed=7)
    s0 = pd.Timestamp(plant.surge_start)
    week = log[
        (log["category"] == plant.surge_category)
        & (log["requested_at"] >= s0)
        & (log["requested_at"] < s0 + pd.Timedelta(days=7))
    ]
    hexes = hex_hotspots(week, resolution=8, by=None)
    hot = hexes[hexes["hot"]]
    assert 1 <= len(hot) <= 6  # the planted spot and its ring, nothing elsewhere
    top = hot.loc[hot["z"].idxmax()]
    # the planted centre: the middle of strip D2 of the default bbox
    lon_c = 116.25 + (116.50 - 116.25) / 8 * 2.5
    lat_c = (39.85 + 40.02) / 2
    assert h3.great_circle_distance((top["lat"], top["lon"]), (lat_c, lon_c), unit="m") < 1500


def test_fifty_callers_one_pothole_is_one_problem():
    rng = np.random.default_rng(0)
    t0 = pd.Timestamp("2025-06-02 08:00")
    lat0, lon0 = 39.9, 116.4
    pothole = pd.DataFrame(
        {
            "order_id": [f"p{i}" for i in range(50)],
            "requested_at": t0 + pd.to_timedelta(rng.uniform(0, 6, 50), unit="D"),
            "category": "road",
            "lat": lat0 + rng.normal(0, 0.0001, 50),  # ~11 m
            "lon": lon0 + rng.normal(0, 0.0001, 50),
            "requester": [f"r{i}" for i in range(50)],
        }
    )
    noise = pd.DataFrame(
        {
            "order_id": [f"n{i}" for i in range(400)],
            "requested_at": t0 + pd.to_timedelta(rng.uniform(-60, 60, 400), unit="D"),
            "category": rng.choice(["road", "noise"], 400),
            "lat": lat0 + rng.uniform(-0.1, 0.1, 400),
            "lon": lon0 + rng.uniform(-0.1, 0.1, 400),
            "requester": [f"q{i}" for i in range(400)],
        }
    )
    orders = pd.concat([pothole, noise], ignore_index=True)
    clusters, labels = space_time_clusters(orders, radius_m=100, days=7, min_orders=5)
    assert len(clusters) == 1
    c = clusters.iloc[0]
    assert set(c["order_ids"]) >= set(pothole["order_id"])
    assert c["orders"] <= 52 and c["requesters"] == c["orders"] and c["category"] == "road"
    assert (labels.iloc[:50] == c["cluster"]).all()
    # the same reports spread over three months are not one burst
    spread = pothole.assign(requested_at=t0 + pd.to_timedelta(np.arange(50) * 2, unit="D"))
    clusters2, _ = space_time_clusters(spread, radius_m=100, days=1, min_orders=5)
    assert clusters2.empty
