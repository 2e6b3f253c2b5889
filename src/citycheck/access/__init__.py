"""Walking-network accessibility: distances, counts within radii, life circles.

The walking network is stored as CSR arrays (:mod:`~citycheck.access.network`); buildings and
facilities join it at the nearest point of the nearest edge (:mod:`~citycheck.access.snapping`,
:mod:`~citycheck.access.graph`); compiled bounded searches answer nearest-distance and
counts-within-radius queries, and distances and (source, target) pairs within a cutoff
(:mod:`~citycheck.access.queries`); life circles and the catalogue's
network indicators are pure functions on the per-building table
(:mod:`~citycheck.access.life_circles`, :mod:`~citycheck.access.indicators`).
"""

from citycheck.access.analyse import (
    AccessResult,
    analyse_city,
    analyse_layers,
    count_column,
    dist_column,
)
from citycheck.access.graph import AccessGraph, attach
from citycheck.access.indicators import indicator_values
from citycheck.access.life_circles import life_circle_flags, unit_shares, worst_units
from citycheck.access.network import (
    WalkFilter,
    WalkNetwork,
    network_from_segments,
    network_from_streets,
    walkable_mask,
)
from citycheck.access.queries import (
    Route,
    counts_within,
    distances_within,
    isochrone,
    nearest_distance,
    pairs_within,
    reachable_within,
    route,
)

__all__ = [
    "AccessGraph",
    "AccessResult",
    "Route",
    "WalkFilter",
    "WalkNetwork",
    "analyse_city",
    "analyse_layers",
    "attach",
    "count_column",
    "counts_within",
    "dist_column",
    "distances_within",
    "indicator_values",
    "isochrone",
    "life_circle_flags",
    "nearest_distance",
    "network_from_segments",
    "network_from_streets",
    "pairs_within",
    "reachable_within",
    "route",
    "unit_shares",
    "walkable_mask",
    "worst_units",
]
