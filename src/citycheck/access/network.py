"""The walking network: OSM street lines to compact, undirected CSR arrays.

Every straight piece between two consecutive vertices of a walkable way becomes one edge whose
length is its Euclidean length in the (metric) CRS of the input. Vertices that coincide (to 1 cm)
are one node, which is how OSM ways that share a node join. No Python object graph is built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from citycheck.access._kernels import (
    csr_from_edges,
    lattice_keys,
    number_sorted_keys,
    shortest_per_key,
)

__all__ = [
    "WalkFilter",
    "WalkNetwork",
    "network_from_segments",
    "network_from_streets",
    "walkable_mask",
]

log = logging.getLogger(__name__)

#: Merge vertices closer than this (metres) into one node.
NODE_TOLERANCE_M = 0.01


@dataclass(frozen=True)
class WalkFilter:
    """Which OSM ways a pedestrian may use.

    Parameters
    ----------
    exclude_highway : tuple of str
        ``highway`` values never walkable (motorways and their links by default) unless
        ``foot`` says otherwise.
    exclude_foot : tuple of str
        ``foot`` values that forbid walking.
    exclude_access : tuple of str
        ``access`` values that forbid walking unless ``foot`` is in ``allow_foot``.
    allow_foot : tuple of str
        ``foot`` values that allow walking whatever ``access`` or ``highway`` say.
    exclude_area : bool
        Drop ways tagged ``area=yes`` (pedestrian squares drawn as closed rings are kept as
        their outline when False).
    """

    exclude_highway: tuple[str, ...] = (
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "abandoned",
        "raceway",
        "bus_guideway",
    )
    exclude_foot: tuple[str, ...] = ("no", "private", "use_sidepath")
    exclude_access: tuple[str, ...] = ("private", "no")
    allow_foot: tuple[str, ...] = ("yes", "designated", "permissive")
    exclude_area: bool = False


def walkable_mask(streets: pd.DataFrame, walk_filter: WalkFilter | None = None) -> np.ndarray:
    """Boolean mask of the ways a pedestrian may use.

    Parameters
    ----------
    streets : DataFrame
        One row per way with a ``highway`` column and optionally ``foot``, ``access`` and
        ``area`` (missing columns count as untagged).
    walk_filter : WalkFilter, optional
        The rules; :class:`WalkFilter` defaults when None.

    Returns
    -------
    numpy.ndarray of bool
        True where the way is walkable.

    Examples
    --------
    >>> import pandas as pd
    >>> walkable_mask(pd.DataFrame({"highway": ["footway", "motorway", "service"],
    ...                             "access": [None, None, "private"]})).tolist()
    [True, False, False]
    """
    f = walk_filter or WalkFilter()
    if "highway" not in streets.columns:
        raise ValueError("streets: column 'highway' is missing; every street needs a highway tag")

    def col(name: str) -> pd.Series:
        if name in streets.columns:
            return streets[name].astype("object").where(streets[name].notna(), None)
        return pd.Series([None] * len(streets), index=streets.index, dtype="object")

    highway, foot, access, area = col("highway"), col("foot"), col("access"), col("area")
    allowed = foot.isin(f.allow_foot)
    ok = highway.notna() & ~highway.isin(f.exclude_highway)
    ok &= ~foot.isin(f.exclude_foot)
    ok &= ~access.isin(f.exclude_access) | allowed
    ok |= allowed & highway.notna()
    if f.exclude_area:
        ok &= area != "yes"
    return ok.to_numpy(dtype=bool)


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """An undirected walking network stored as CSR arrays.

    Attributes
    ----------
    x, y : ndarray of float64
        Node coordinates (metres, in ``crs``).
    edge_u, edge_v, edge_len : ndarray
        The undirected edges (one row each), straight segments between their end nodes.
    component : ndarray of int32
        Connected-component label per node.
    crs : object
        CRS of the coordinates (None when unknown).

    The CSR adjacency (:attr:`indptr`, :attr:`indices`, :attr:`weights`) is built on first use:
    the searches run on the :class:`~citycheck.access.graph.AccessGraph`'s own CSR, so a
    network that is only joined never holds a second copy.
    """

    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_len: np.ndarray
    component: np.ndarray
    crs: object = None
    meta: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.x.size)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.edge_u.size)

    def component_lengths(self) -> np.ndarray:
        """Total edge length (metres) of each connected component, indexed by label."""
        n_comp = int(self.component.max()) + 1 if self.component.size else 0
        return np.bincount(self.component[self.edge_u], weights=self.edge_len, minlength=n_comp)

    def degree(self) -> np.ndarray:
        """Number of distinct neighbours of each node (edges are unique per node pair)."""
        deg = np.bincount(self.edge_u, minlength=self.n_nodes)
        deg += np.bincount(self.edge_v, minlength=self.n_nodes)
        return deg.astype(np.int32)

    @cached_property
    def _csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return csr_from_edges(self.n_nodes, self.edge_u, self.edge_v, self.edge_len)

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointers: the neighbours of node ``i`` are ``indices[indptr[i]:indptr[i+1]]``."""
        return self._csr[0]

    @property
    def indices(self) -> np.ndarray:
        """CSR neighbours (each undirected edge is stored both ways)."""
        return self._csr[1]

    @property
    def weights(self) -> np.ndarray:
        """CSR edge lengths (metres), aligned with :attr:`indices`."""
        return self._csr[2]


def _nodes_of_ends(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Node id of every segment end (starts, then ends) merged on a ``tol`` lattice, ids in key
    order; and the end position that gives each node its coordinates (its first end)."""
    keys, ok = lattice_keys(x0, y0, x1, y1, float(tol))
    if ok:
        order = np.argsort(keys, kind="stable")
        return number_sorted_keys(keys, order)
    # enormous extents at cm resolution: slower but safe
    kx = np.round(np.concatenate([x0, x1]) / tol).astype(np.int64)
    ky = np.round(np.concatenate([y0, y1]) / tol).astype(np.int64)
    _, first, inverse = np.unique(
        np.stack([kx, ky], axis=1), axis=0, return_index=True, return_inverse=True
    )
    return inverse.ravel().astype(np.int32), first


def network_from_segments(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    *,
    crs: object = None,
    node_tolerance_m: float = NODE_TOLERANCE_M,
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from straight segments given by their end coordinates.

    Parameters
    ----------
    x0, y0, x1, y1 : array_like of float
        Segment end points in a metric CRS.
    crs : object, optional
        Recorded on the network.
    node_tolerance_m : float
        End points closer than this (on a lattice of this spacing) become one node.

    Returns
    -------
    WalkNetwork
        Zero-length segments are dropped; parallel duplicates keep the shortest.
    """
    x0, y0, x1, y1 = (np.asarray(a, dtype=np.float64).ravel() for a in (x0, y0, x1, y1))
    m = x0.size
    if not (y0.size == x1.size == y1.size == m):
        raise ValueError("segments: x0, y0, x1, y1 must have the same length")
    finite = np.isfinite(x0) & np.isfinite(y0) & np.isfinite(x1) & np.isfinite(y1)
    if not finite.all():
        log.warning("segments: dropped %d segments with non-finite coordinates", (~finite).sum())
        x0, y0, x1, y1 = x0[finite], y0[finite], x1[finite], y1[finite]
        m = x0.size
    if m == 0:
        raise ValueError("streets: no walkable ways, so there is no walking network to build")
    node_of, first = _nodes_of_ends(x0, y0, x1, y1, node_tolerance_m)
    xs = np.where(first < m, x0[np.minimum(first, m - 1)], x1[np.maximum(first - m, 0)])
    ys = np.where(first < m, y0[np.minimum(first, m - 1)], y1[np.maximum(first - m, 0)])
    u = node_of[:m]
    v = node_of[m:]
    length = np.hypot(x1 - x0, y1 - y0)
    keep = u != v
    u, v, length = u[keep], v[keep], length[keep]
    del node_of, keep
    # one edge per node pair, the shortest
    n = xs.size
    lo = np.minimum(u, v)
    hi = np.maximum(u, v)
    key = lo.astype(np.int64) * n + hi
    sel = shortest_per_key(key, length, np.argsort(key, kind="stable"))
    del key
    eu, ev, el = lo[sel], hi[sel], length[sel]
    return _assemble(xs, ys, eu, ev, el, crs=crs)


def _assemble(
    xs: np.ndarray,
    ys: np.ndarray,
    eu: np.ndarray,
    ev: np.ndarray,
    el: np.ndarray,
    *,
    crs: object,
    meta: dict | None = None,
) -> WalkNetwork:
    n = xs.size
    if eu.size:
        adj = coo_matrix((np.ones(eu.size, dtype=np.int8), (eu, ev)), shape=(n, n))
        _, labels = connected_components(adj, directed=False)
    else:
        labels = np.arange(n)
    return WalkNetwork(
        x=xs,
        y=ys,
        edge_u=eu,
        edge_v=ev,
        edge_len=el,
        component=labels.astype(np.int32),
        crs=crs,
        meta=meta or {},
    )


def network_from_streets(
    streets: gpd.GeoDataFrame,
    *,
    walk_filter: WalkFilter | None = None,
    node_tolerance_m: float = NODE_TOLERANCE_M,
    source: str = "streets",
) -> WalkNetwork:
    """Build the walking network from street lines.

    Parameters
    ----------
    streets : GeoDataFrame
        ``highway`` ways as (Multi)LineStrings in a metric CRS, with optional ``foot``,
        ``access`` and ``area`` columns (architecture.md, ``City.streets``).
    walk_filter : WalkFilter, optional
        Which ways are walkable; defaults to :class:`WalkFilter()`.
    node_tolerance_m : float
        Vertices closer than this are one node.
    source : str
        Name used in error messages (a file name, a layer).

    Returns
    -------
    WalkNetwork

    Raises
    ------
    ValueError
        When the CRS is geographic (degrees), or no way is walkable.
    """
    if streets.crs is not None and streets.crs.is_geographic:
        raise ValueError(
            f"{source}: CRS {streets.crs.to_string()} is in degrees; project to a metric CRS "
            "(e.g. gdf.to_crs(gdf.estimate_utm_crs())) before building the network"
        )
    mask = walkable_mask(streets, walk_filter)
    geoms = streets.geometry.to_numpy()[mask]
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if (~valid).any():
        log.warning("%s: ignored %d walkable ways without geometry", source, (~valid).sum())
    geoms = geoms[valid]
    kinds = shapely.get_type_id(geoms)
    lines = geoms[(kinds == 1) | (kinds == 2) | (kinds == 5)]
    if lines.size == 0:
        raise ValueError(
            f"{source}: no walkable ways (of {len(streets)} rows, {int(mask.sum())} pass the "
            "pedestrian filter with line geometry); cannot build a walking network"
        )
    parts = shapely.get_parts(lines)
    # polygons' rings were excluded above; closed LineStrings are fine
    coords, ring_idx = shapely.get_coordinates(parts, return_index=True)
    same = ring_idx[1:] == ring_idx[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    net = network_from_segments(
        a[:, 0],
        a[:, 1],
        b[:, 0],
        b[:, 1],
        crs=streets.crs,
        node_tolerance_m=node_tolerance_m,
    )
    net.meta.update({"n_ways": int(lines.size), "n_rows": len(streets), "source": source})
    return net
