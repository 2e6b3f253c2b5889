"""Who a junction serves: a City's residents and critical facilities on the network's junctions.

Each residential building of a :class:`~citycheck.city.City` (its ``residents`` estimate) and each
critical facility (hospital, school, elderly care) is served by the nearest demand junction of the
pipe network — the nearest-node service area used when no customer-to-meter link exists. The
result feeds :func:`~citycheck.lifeline.risk.consequence` and
:func:`~citycheck.lifeline.criticality.criticality` (``residents=``, ``facilities=``) in place of
residents derived from demand.

The City and the register must share a metric CRS; buildings farther than ``max_distance_m``
from every junction (outside the network's reach) are reported, not assigned.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from citycheck.lifeline.register import AssetRegister

__all__ = ["CRITICAL_CATEGORIES", "ServiceAssignment", "assign_city_to_junctions"]

#: City facility categories treated as critical for lifeline consequence (categories.toml keys).
CRITICAL_CATEGORIES: tuple[str, ...] = (
    "hospital",
    "health_station",
    "primary_school",
    "middle_school",
    "kindergarten",
    "elderly_care",
)


@dataclass
class ServiceAssignment:
    """Residents and facilities per junction.

    Attributes
    ----------
    residents : Series
        Residents by junction id (every junction, 0 where none).
    facilities : DataFrame
        ``facility_id``, ``name``, ``category``, ``node``, ``distance_m``.
    buildings : DataFrame
        Per residential building: ``building_id``, ``residents``, ``node``, ``distance_m``
        (``node`` is None when out of reach).
    unassigned_residents : float
        Residents in buildings farther than ``max_distance_m`` from every junction.
    """

    residents: pd.Series
    facilities: pd.DataFrame
    buildings: pd.DataFrame
    unassigned_residents: float


def _same_crs(register: AssetRegister, city) -> None:
    reg_crs = register.points.crs
    if reg_crs is None:
        raise ValueError(
            f"register {register.source!r}: points have no CRS; give the network model's CRS "
            f"(e.g. register_from_inp(..., crs=...)) to map the City {city.name!r} onto it"
        )
    if not reg_crs.equals(city.crs):
        raise ValueError(
            f"register {register.source!r} CRS {reg_crs.to_string()} differs from the City "
            f"{city.name!r} CRS {city.crs.to_string()}: reproject one of them first"
        )


def _nearest(
    junctions: gpd.GeoDataFrame, geoms: gpd.GeoSeries, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest junction id (None beyond ``max_distance_m``) and distance for each geometry."""
    if len(geoms) == 0:
        return np.array([], dtype=object), np.array([], dtype=float)
    xy = np.column_stack([junctions.geometry.x, junctions.geometry.y])
    pts = geoms.representative_point()
    dist, idx = cKDTree(xy).query(np.column_stack([pts.x, pts.y]))
    ids = junctions["asset_id"].astype(str).to_numpy()[idx].astype(object)
    ids[dist > max_distance_m] = None
    return ids, dist


def assign_city_to_junctions(
    register: AssetRegister,
    city,
    *,
    max_distance_m: float = 500.0,
    categories: tuple[str, ...] = CRITICAL_CATEGORIES,
) -> ServiceAssignment:
    """Assign a City's building residents and critical facilities to the nearest junction.

    Parameters
    ----------
    register : AssetRegister
        Pipe network with junction points (``kind == "junction"``).
    city : citycheck.city.City
        Buildings with ``residents`` and facilities with ``category``, same CRS as ``register``.
    max_distance_m : float
        Buildings and facilities farther than this from every junction are left unassigned.
    categories : tuple of str
        Facility categories counted as critical.

    Returns
    -------
    ServiceAssignment

    Raises
    ------
    ValueError
        When the CRSs differ or are missing, the register has no junctions, or the City has no
        resident estimate.
    """
    _same_crs(register, city)
    junctions = register.points[register.points["kind"] == "junction"]
    if junctions.empty:
        raise ValueError(f"register {register.source!r}: no junctions to assign residents to")
    homes = city.residential
    if "residents" not in homes.columns or homes["residents"].isna().all():
        raise ValueError(
            f"City {city.name!r}: buildings have no residents estimate (build the City with "
            "residents_total or residents_by_osm_id)"
        )
    homes = homes[homes["residents"].fillna(0) > 0]
    node, dist = _nearest(junctions, homes.geometry, max_distance_m)
    bid = homes["osm_id"] if "osm_id" in homes.columns else pd.Series(homes.index, homes.index)
    buildings = pd.DataFrame(
        {
            "building_id": bid.astype(str).to_numpy(),
            "residents": homes["residents"].to_numpy(dtype=float),
            "node": node,
            "distance_m": dist,
        }
    )
    ids = junctions["asset_id"].astype(str)
    residents = (
        buildings.dropna(subset=["node"])
        .groupby("node")["residents"]
        .sum()
        .reindex(ids, fill_value=0.0)
        .rename("residents")
    )
    fac = city.facilities[city.facilities["category"].isin(categories)]
    f_node, f_dist = _nearest(junctions, fac.geometry, max_distance_m)
    names = fac["name"] if "name" in fac.columns else pd.Series("", index=fac.index)
    fid = fac["osm_id"] if "osm_id" in fac.columns else pd.Series(fac.index, fac.index)
    facilities = pd.DataFrame(
        {
            "facility_id": fid.astype(str).to_numpy(),
            "name": names.fillna("").astype(str).to_numpy(),
            "category": fac["category"].to_numpy(),
            "node": f_node,
            "distance_m": f_dist,
        }
    ).dropna(subset=["node"])
    unassigned = float(buildings.loc[buildings["node"].isna(), "residents"].sum())
    return ServiceAssignment(residents, facilities.reset_index(drop=True), buildings, unassigned)
