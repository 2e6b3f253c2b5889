"""Demand → candidate walking distances on the accessibility engine's network.

Buildings, existing facilities and candidate sites join the walking network exactly as in
:func:`citycheck.access.analyse_city` (same snapping, same hubs); each candidate is then searched
once, bounded by the category's walking limit, with the engine's bucket search
(:func:`citycheck.access.pairs_within`). The result is a sparse table: only pairs within the
bound are stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from citycheck.access.graph import AccessGraph, attach
from citycheck.access.network import WalkFilter, network_from_streets
from citycheck.access.queries import nearest_distance, pairs_within
from citycheck.access.snapping import (
    SegmentIndex,
    building_access_points,
    facility_access_points,
    snap_points,
)

__all__ = ["SitingNetwork", "distance_table", "siting_network"]


@dataclass(frozen=True, eq=False)
class SitingNetwork:
    """The walking network with buildings, existing facilities and candidate sites joined.

    Attributes
    ----------
    graph : AccessGraph
    building_hub : ndarray
        Hub node per row of the buildings given (-1: not within the snap limit).
    facility_hub : ndarray
        Hub node per existing facility row (-1: not joined).
    candidate_hub : ndarray
        Hub node per candidate site row (-1: not joined).
    """

    graph: AccessGraph
    building_hub: np.ndarray
    facility_hub: np.ndarray
    candidate_hub: np.ndarray


def siting_network(
    streets: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    entrances: gpd.GeoDataFrame | None = None,
    max_snap_m: float = 100.0,
    walk_filter: WalkFilter | None = None,
) -> SitingNetwork:
    """Join buildings, facilities and candidate sites to the walking network.

    Parameters
    ----------
    streets, buildings, facilities, candidates : GeoDataFrame
        In one metric CRS (``City`` layers; candidates from
        :func:`citycheck.plan.candidates.candidate_sites`).
    entrances : GeoDataFrame, optional
        Building entrances (as in the accessibility engine).
    max_snap_m : float
        Farthest a building, facility or site may be from a walkable way (100 m, the engine's
        default).

    Returns
    -------
    SitingNetwork
    """
    net = network_from_streets(streets, walk_filter=walk_filter, source="streets")
    index = SegmentIndex.build(net, max(max_snap_m, 50.0))
    bpts = building_access_points(buildings, net, entrances=entrances, max_snap_m=max_snap_m)
    snaps = {
        "buildings": (snap_points(index, bpts, max_snap_m), len(buildings)),
        "facilities": (
            snap_points(index, facility_access_points(facilities), max_snap_m),
            len(facilities),
        ),
        "candidates": (
            snap_points(index, facility_access_points(candidates), max_snap_m),
            len(candidates),
        ),
    }
    graph = attach(net, snaps)
    return SitingNetwork(
        graph, graph.hubs["buildings"], graph.hubs["facilities"], graph.hubs["candidates"]
    )


def distance_table(
    graph: AccessGraph,
    demand_hubs: np.ndarray,
    site_hubs: np.ndarray,
    *,
    cutoff_m: float,
    n_blocks: int | None = None,
) -> sp.csr_matrix:
    """Walking distances from each site to each demand point within ``cutoff_m``.

    Parameters
    ----------
    graph : AccessGraph
    demand_hubs : ndarray of int
        Hub node of each demand point (-1: not joined, never reached).
    site_hubs : ndarray of int
        Hub node of each candidate site (-1: reaches nothing).
    cutoff_m : float
        Walking limit (metres); pairs farther apart are not stored.

    Returns
    -------
    csr_matrix (n_demand × n_sites, float64)
        Distances; a stored 0 is a distance of 0 (use ``.has_sorted_indices`` structure, not
        truthiness, to test membership).
    """
    demand = np.asarray(demand_hubs, dtype=np.int64)
    sites = np.asarray(site_hubs, dtype=np.int64)
    ptr, rows, dist = pairs_within(graph, sites, demand, cutoff_m=cutoff_m, n_blocks=n_blocks)
    by_site = sp.csc_matrix((dist, rows, ptr), shape=(demand.size, sites.size))
    return by_site.tocsr()


def nearest_existing(
    graph: AccessGraph, demand_hubs: np.ndarray, facility_hubs: np.ndarray, *, cutoff_m: float
) -> np.ndarray:
    """Distance from each demand point to the nearest existing facility (+inf beyond the cutoff
    or when not joined)."""
    demand = np.asarray(demand_hubs, dtype=np.int64)
    out = np.full(demand.size, np.inf)
    ok = demand >= 0
    fac = np.asarray(facility_hubs, dtype=np.int64)
    fac = fac[fac >= 0]
    if fac.size == 0 or not ok.any():
        return out
    out[ok] = nearest_distance(graph, {"f": fac}, demand[ok], cutoff_m=cutoff_m)["f"]
    return out
