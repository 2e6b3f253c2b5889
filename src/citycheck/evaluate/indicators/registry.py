"""The registry that ties catalogue ids to indicator functions."""

from __future__ import annotations

import logging
from collections.abc import Callable

import geopandas as gpd
import pandas as pd

from citycheck.city import City
from citycheck.evaluate.catalogue import catalogue

__all__ = ["REGISTRY", "IndicatorFunction", "compute_builtin", "register"]

log = logging.getLogger(__name__)

IndicatorFunction = Callable[[City, gpd.GeoDataFrame], pd.Series]

#: catalogue id -> function computing it for any units.
REGISTRY: dict[str, IndicatorFunction] = {}


def register(iid: str) -> Callable[[IndicatorFunction], IndicatorFunction]:
    """Register ``func`` as the computation of catalogue indicator ``iid``."""

    def wrap(func: IndicatorFunction) -> IndicatorFunction:
        if iid not in catalogue():
            raise KeyError(f"{func.__name__}: {iid!r} is not in the catalogue")
        if catalogue()[iid].compute != "builtin":
            raise ValueError(f"{iid} is declared compute={catalogue()[iid].compute!r}")
        REGISTRY[iid] = func
        return func

    return wrap


def compute_builtin(city: City, *, levels: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Compute every built-in indicator at every level where it is defined.

    Parameters
    ----------
    city : City
    levels : tuple of str, optional
        Restrict to these levels.

    Returns
    -------
    DataFrame
        Long table: ``indicator``, ``level``, ``unit_id``, ``value``.
    """
    frames = []
    for iid, func in REGISTRY.items():
        ind = catalogue()[iid]
        for level in ind.levels:
            if levels is not None and level not in levels:
                continue
            units = city.units.get(level)
            if units is None:
                continue
            if level == "dwelling":
                continue  # building-level values are the building layer's own columns
            values = func(city, units)
            frames.append(
                pd.DataFrame(
                    {
                        "indicator": iid,
                        "level": level,
                        "unit_id": values.index,
                        "value": values.to_numpy(dtype=float),
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=["indicator", "level", "unit_id", "value"])
    return pd.concat(frames, ignore_index=True)
