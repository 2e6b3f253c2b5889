"""Where requests concentrate: density per 10,000 residents on units and an H3 grid, Getis-Ord
Gi* hotspots, and space-time clusters (fifty calls about one pothole in one week are one problem).

Gi* (Getis & Ord 1992; Ord & Getis 1995, Geographical Analysis 27:286) is computed with PySAL's
``esda.G_Local(star=True)`` on binary weights (each cell with its ring-1 neighbours and itself),
so a cell is hot when it *and its neighbours* carry more than the city-wide level; its z-score is
against the city-wide mean. The value tested is the count per cell, or the rate per 10,000
residents where residents are known (then cells without residents are left out).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citycheck.io.errors import InputError
from citycheck.listen.analytics.frames import normalise_orders

__all__ = [
    "assign_units",
    "getis_ord",
    "hex_cells",
    "hex_hotspots",
    "residents_per_hex",
    "residents_per_unit",
    "space_time_clusters",
    "unit_density",
]

log = logging.getLogger(__name__)


def _located(o: pd.DataFrame) -> pd.DataFrame:
    ok = o["lat"].between(-90, 90) & o["lon"].between(-180, 180)
    return o.loc[ok]


def hex_cells(lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell (string id) of each position; positions must be valid WGS84."""
    import h3

    return np.array(
        [h3.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lon, strict=True)], dtype=object
    )


def assign_units(
    orders: pd.DataFrame, units: gpd.GeoDataFrame, *, column: str = "unit_id"
) -> pd.Series:
    """The unit (``units[column]``) each order's position falls in ("" outside every unit).

    ``units`` may be in any CRS; positions are WGS84 ``lat``/``lon``.
    """
    o = orders
    pts = gpd.GeoDataFrame(
        {"i": np.arange(len(o))},
        geometry=gpd.points_from_xy(o["lon"], o["lat"]),
        crs="EPSG:4326",
    )
    pts = pts.loc[o["lat"].notna().to_numpy() & o["lon"].notna().to_numpy()].to_crs(units.crs)
    hit = gpd.sjoin(pts, units[[column, "geometry"]], how="left", predicate="within")
    hit = hit.drop_duplicates("i")
    out = pd.Series("", index=o.index, dtype=object)
    out.iloc[hit["i"].to_numpy()] = hit[column].fillna("").astype(str).to_numpy()
    return out


def residents_per_unit(buildings: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> pd.Series:
    """Residents of each unit: the ``residents`` of buildings whose centroid lies in it."""
    pts = buildings[["residents", "geometry"]].copy()
    pts["geometry"] = pts.geometry.centroid
    pts = pts.to_crs(units.crs)
    hit = gpd.sjoin(pts, units[["unit_id", "geometry"]], how="inner", predicate="within")
    hit = hit[~hit.index.duplicated()]
    s = hit.groupby("unit_id")["residents"].sum()
    return s.reindex(units["unit_id"].astype(str)).fillna(0.0).rename("residents")


def residents_per_hex(buildings: gpd.GeoDataFrame, resolution: int) -> pd.Series:
    """Residents per H3 cell from building centroids (a City's ``buildings``)."""
    c = buildings[["residents", "geometry"]].copy()
    c["geometry"] = c.geometry.centroid
    c = c.to_crs("EPSG:4326")
    cells = hex_cells(c.geometry.y.to_numpy(), c.geometry.x.to_numpy(), resolution)
    return c["residents"].groupby(cells).sum().rename("residents")


def unit_density(
    orders: pd.DataFrame,
    *,
    unit_column: str = "area",
    residents: Mapping[str, float] | pd.Series,
    by: str = "category",
    period_days: float | None = None,
) -> pd.DataFrame:
    """Orders per unit and theme, and per 10,000 residents.

    Parameters
    ----------
    orders : DataFrame
        Orders with a unit column (e.g. ``area``, or one filled by :func:`assign_units`).
    unit_column : str
    residents : mapping or Series
        Residents of each unit (census totals or :func:`residents_per_unit`).
    by : str
        Theme column; "" for all orders together.
    period_days : float, optional
        Scale to orders per year over this many days of records (default: no scaling).

    Returns
    -------
    DataFrame
        ``unit_id``, theme, ``orders``, ``residents``, ``per_10k`` and ``ratio_to_city`` (the
        unit's rate over the city-wide rate of the same theme). Units without residents get NaN.
    """
    o = normalise_orders(orders)
    res = pd.Series(residents, dtype=float)
    o = o.loc[o[unit_column].astype(str) != ""]
    keys = [unit_column, by] if by else [unit_column]
    counts = o.groupby(keys).size().rename("orders").reset_index()
    counts = counts.rename(columns={unit_column: "unit_id"})
    # every unit with residents appears, with zero orders where it had none
    themes = counts[by].unique() if by else [None]
    grid = pd.MultiIndex.from_product([res.index.astype(str), themes], names=["unit_id", by or "_"])
    full = grid.to_frame(index=False)
    if not by:
        full = full.drop(columns="_")
    counts["unit_id"] = counts["unit_id"].astype(str)
    out = full.merge(counts, on=["unit_id", *([by] if by else [])], how="outer")
    out["orders"] = out["orders"].fillna(0).astype(np.int64)
    out["residents"] = out["unit_id"].map(res).astype(float)
    scale = 365.25 / period_days if period_days else 1.0
    known = out["residents"] > 0
    total_res = float(res[res > 0].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_10k"] = np.where(known, out["orders"] / out["residents"] * 1e4 * scale, np.nan)
        if by:
            theme_orders = out.loc[known].groupby(by)["orders"].sum()
            city_rate = out[by].map(theme_orders / total_res * 1e4 * scale)
        else:
            city_rate = out.loc[known, "orders"].sum() / total_res * 1e4 * scale
        out["ratio_to_city"] = out["per_10k"] / city_rate
    return out.sort_values([*([by] if by else []), "per_10k"], ascending=False).reset_index(
        drop=True
    )


def getis_ord(
    values: np.ndarray,
    neighbours: Mapping[int, list[int]],
    *,
    alpha: float = 0.05,
    fdr: bool = True,
) -> pd.DataFrame:
    """Gi* z-scores and normal p-values (PySAL esda), binary weights including each cell itself.

    Parameters
    ----------
    values : array
        Value per location (counts or rates).
    neighbours : mapping
        Location index -> neighbouring location indices (excluding itself).
    alpha : float
        Level for the ``hot``/``cold`` flags (two-sided).
    fdr : bool
        Flag on Benjamini-Hochberg q-values rather than raw p-values (many cells are tested at
        once; Caldas de Castro & Singer 2006 recommend FDR control for local statistics).

    Returns
    -------
    DataFrame
        ``z``, ``p`` (two-sided, normal approximation), ``q`` (BH-adjusted), ``hot``, ``cold``.
    """
    import esda
    import libpysal

    y = np.asarray(values, dtype=float)
    n = len(y)
    if n < 3:
        raise InputError("getis_ord", "values", n, "Gi* needs at least three locations")
    nb = {i: [j for j in neighbours.get(i, []) if j != i] for i in range(n)}
    with warnings.catch_warnings():
        # islands and disconnected parts are expected on a clipped grid
        warnings.simplefilter("ignore", UserWarning)
        w = libpysal.weights.W(nb, silence_warnings=True)
        g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    z = np.asarray(g.Zs, dtype=float)
    from scipy.stats import false_discovery_control, norm

    p = 2 * norm.sf(np.abs(z))
    q = false_discovery_control(p, method="bh")
    sig = (q if fdr else p) < alpha
    return pd.DataFrame({"z": z, "p": p, "q": q, "hot": (z > 0) & sig, "cold": (z < 0) & sig})


def hex_hotspots(
    orders: pd.DataFrame,
    *,
    resolution: int = 8,
    by: str | None = "category",
    residents: pd.Series | None = None,
    alpha: float = 0.05,
    fdr: bool = True,
    min_orders: int = 3,
    fill: shapely.Geometry | None = None,
) -> pd.DataFrame:
    """Counts, rates per 10,000 residents and Gi* hotspots on an H3 grid, per theme.

    Parameters
    ----------
    orders : DataFrame
        Orders with ``lat``/``lon``; orders without a position are left out.
    resolution : int
        H3 resolution (8: cells of about 0.74 km²; 9: about 0.11 km²; H3 documentation).
    by : str or None
        Theme column, or None for all orders together.
    residents : Series, optional
        Residents per H3 cell (:func:`residents_per_hex`): then ``per_10k`` is given and Gi* is
        run on it over cells with residents; otherwise Gi* is run on counts.
    alpha, fdr : float, bool
        See :func:`getis_ord`.
    min_orders : int
        A cell is flagged hot only when it has an order and its ring (itself and neighbours)
        holds at least ``min_orders`` — Gi* on sparse counts otherwise calls an empty cell next
        to a single report "hot".
    fill : shapely geometry, optional
        Study area in WGS84: every cell in it enters the test (with zero orders where none);
        default the cells with orders and their ring-1 neighbours.

    Returns
    -------
    DataFrame
        ``cell``, theme, ``orders``, ``residents``, ``per_10k``, ``z``, ``p``, ``hot``,
        ``cold``, ``lat``, ``lon`` (cell centre).
    """
    import h3

    o = _located(normalise_orders(orders))
    if o.empty:
        raise InputError("hex_hotspots", "lat/lon", None, "no order has a position")
    o = o.assign(cell=hex_cells(o["lat"].to_numpy(), o["lon"].to_numpy(), resolution))
    if fill is not None:
        cells = set(h3.geo_to_cells(fill, resolution)) | set(o["cell"])
    else:
        cells = set(o["cell"])
        for c in list(cells):
            cells.update(h3.grid_disk(c, 1))
    if residents is not None:
        cells &= set(residents.index[residents > 0]) | set()
    cells_l = sorted(cells)
    index = {c: i for i, c in enumerate(cells_l)}
    nb = {
        i: [index[d] for d in h3.grid_disk(c, 1) if d in index and d != c] for c, i in index.items()
    }
    groups = [(None, o)] if by is None else list(o.groupby(by))
    frames = []
    for theme, sub in groups:
        counts = sub["cell"].value_counts().reindex(cells_l, fill_value=0).to_numpy(float)
        res = residents.reindex(cells_l).to_numpy(float) if residents is not None else None
        value = counts if res is None else counts / res * 1e4
        stats = getis_ord(value, nb, alpha=alpha, fdr=fdr)
        ring = np.array([counts[i] + counts[nb[i]].sum() for i in range(len(cells_l))])
        stats["hot"] &= (counts > 0) & (ring >= min_orders)
        df = pd.DataFrame({"cell": cells_l, "orders": counts.astype(np.int64)})
        if by is not None:
            df.insert(1, by, theme)
        df["residents"] = res if res is not None else np.nan
        df["per_10k"] = value if res is not None else np.nan
        frames.append(pd.concat([df, stats], axis=1))
    out = pd.concat(frames, ignore_index=True)
    centres = {c: h3.cell_to_latlng(c) for c in cells_l}
    out["lat"] = out["cell"].map(lambda c: centres[c][0])
    out["lon"] = out["cell"].map(lambda c: centres[c][1])
    return out


def space_time_clusters(
    orders: pd.DataFrame,
    *,
    by: str = "category",
    radius_m: float = 100.0,
    days: float = 7.0,
    min_orders: int = 5,
) -> tuple[pd.DataFrame, pd.Series]:
    """Group orders of one theme close in space and time into one problem (DBSCAN).

    Two orders are neighbours when they are within ``radius_m`` east-west and north-south and
    within ``days`` in time (Chebyshev distance on scaled coordinates); chains of neighbours
    with at least ``min_orders`` orders form a cluster (Ester et al. 1996, scikit-learn's
    DBSCAN). Positions are projected to the UTM zone of their centre.

    Returns
    -------
    clusters : DataFrame
        ``cluster``, theme, ``orders``, ``requesters``, ``first``, ``last``, ``lat``, ``lon``
        (mean), ``extent_m`` (largest distance from the centre), ``order_ids``; biggest first.
    labels : Series
        Cluster id per order (index of ``orders``), -1 for none.
    """
    from sklearn.cluster import DBSCAN

    o = _located(normalise_orders(orders).set_index(orders.index))
    labels = pd.Series(-1, index=orders.index, dtype=np.int64)
    if o.empty:
        return pd.DataFrame(), labels
    g = gpd.GeoSeries(gpd.points_from_xy(o["lon"], o["lat"]), crs="EPSG:4326", index=o.index)
    g = g.to_crs(g.estimate_utm_crs())
    x, y = g.x.to_numpy(), g.y.to_numpy()
    t = (o["requested_at"] - o["requested_at"].min()).dt.total_seconds().to_numpy() / 86400
    rows = []
    next_id = 0
    for theme, idx in o.groupby(by).groups.items():
        pos = o.index.get_indexer(idx)
        if len(pos) < min_orders:
            continue
        X = np.column_stack([x[pos] / radius_m, y[pos] / radius_m, t[pos] / days])
        lab = DBSCAN(eps=1.0, min_samples=min_orders, metric="chebyshev").fit_predict(X)
        for k in np.unique(lab[lab >= 0]):
            m = pos[lab == k]
            ids = o.index[m]
            labels.loc[ids] = next_id
            cx, cy = x[m].mean(), y[m].mean()
            sub = o.loc[ids]
            rows.append(
                {
                    "cluster": next_id,
                    by: theme,
                    "orders": len(m),
                    "requesters": int(
                        (sub["requester"] != "").sum() and sub["requester"].nunique()
                    ),
                    "first": sub["requested_at"].min(),
                    "last": sub["requested_at"].max(),
                    "lat": float(sub["lat"].mean()),
                    "lon": float(sub["lon"].mean()),
                    "extent_m": float(np.hypot(x[m] - cx, y[m] - cy).max()),
                    "order_ids": sub["order_id"].tolist(),
                }
            )
            next_id += 1
    clusters = pd.DataFrame(rows)
    if len(clusters):
        clusters = clusters.sort_values("orders", ascending=False).reset_index(drop=True)
    return clusters, labels
