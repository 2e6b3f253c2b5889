"""The registry that ties catalogue ids to their computations, and the one loop that runs them.

Every computed indicator of the catalogue is registered here, each id exactly once:

- ``builtin`` indicators with :func:`register`: a function of a City and a GeoDataFrame of units
  returning one value per unit (:data:`IndicatorFunction`), run at every level of the indicator;
- the walking-network, census and hotline indicators with :func:`register_group`: a thin function
  of the :class:`IndicatorContext` that calls its part's public computation and returns the long
  table of the ids it computes with the reasons of those it could not (:class:`Computed`).

The remaining ids of the catalogue (``compute = "input"``) are typed inputs
(:func:`citycheck.evaluate.inputs.read_inputs`). :func:`compute_indicators` is the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from citycheck.city import City
from citycheck.evaluate.catalogue import catalogue
from citycheck.labels import Message

__all__ = [
    "COLUMNS",
    "REGISTRY",
    "Computed",
    "IndicatorContext",
    "IndicatorFunction",
    "Registered",
    "compute_builtin",
    "compute_indicators",
    "register",
    "register_group",
]

log = logging.getLogger(__name__)

IndicatorFunction = Callable[[City, gpd.GeoDataFrame], pd.Series]
ContextFunction = Callable[["IndicatorContext"], "Computed"]
Needs = Literal["city", "network", "census", "hotline"]

#: Columns of the long table of values.
COLUMNS = ["indicator", "level", "unit_id", "value"]

#: What each kind of input computes: catalogue ``compute`` of the ids a registration may hold
#: (in the order :func:`compute_indicators` runs them).
_COMPUTE_OF: dict[str, str] = {
    "city": "builtin",
    "network": "access",
    "census": "census",
    "hotline": "hotline",
}


@dataclass
class IndicatorContext:
    """The inputs indicator computations take.

    Attributes
    ----------
    city : City
    census : DataFrame, optional
        Census indicators of the study area (``indicator``, ``level``, ``unit_id``, ``value``;
        :func:`citycheck.evaluate.census_indicators.census_system_values`).
    hotline : DataFrame, optional
        Hotline orders (:func:`citycheck.listen.analytics.sources.read_orders`).
    """

    city: City
    census: pd.DataFrame | None = None
    hotline: pd.DataFrame | None = None
    _network: Any = field(default=None, repr=False)

    @property
    def network(self) -> Any:
        """The walking-network analysis of the city (:func:`citycheck.access.analyse_city`),
        computed on first use."""
        if self._network is None:
            from citycheck.access import analyse_city

            self._network = analyse_city(self.city)
        return self._network


@dataclass(frozen=True)
class Computed:
    """What one registered computation returns: long-table values and reasons for no value."""

    values: pd.DataFrame
    not_computed: dict[str, Message] = field(default_factory=dict)


@dataclass(frozen=True)
class Registered:
    """One registered computation.

    Attributes
    ----------
    ids : tuple of str
        Catalogue ids it computes.
    needs : {"city", "network", "census", "hotline"}
        The input of the context it needs beyond the city.
    compute : callable
        IndicatorContext -> :class:`Computed`.
    per_unit : callable, optional
        For built-in indicators, the per-unit :data:`IndicatorFunction` itself.
    """

    ids: tuple[str, ...]
    needs: Needs
    compute: Callable[[IndicatorContext], Computed]
    per_unit: IndicatorFunction | None = None

    def __call__(self, city: City, units: gpd.GeoDataFrame) -> pd.Series:
        """Call the per-unit function of a built-in indicator."""
        if self.per_unit is None:
            raise TypeError(f"{self.ids} have no per-unit function; use .compute(context)")
        return self.per_unit(city, units)


#: catalogue id -> the registered computation of it (one per id).
REGISTRY: dict[str, Registered] = {}


def _add(entry: Registered, name: str) -> None:
    cat = catalogue()
    for iid in entry.ids:
        if iid not in cat:
            raise KeyError(f"{name}: {iid!r} is not in the catalogue")
        if cat[iid].compute != _COMPUTE_OF[entry.needs]:
            raise ValueError(f"{iid} is declared compute={cat[iid].compute!r}")
        if iid in REGISTRY and REGISTRY[iid].compute is not entry.compute:
            raise ValueError(f"{iid} is registered twice ({name})")
    for iid in entry.ids:
        REGISTRY[iid] = entry


def _per_level(iid: str, func: IndicatorFunction) -> Callable[[IndicatorContext], Computed]:
    def compute(ctx: IndicatorContext, levels: tuple[str, ...] | None = None) -> Computed:
        frames = []
        for level in catalogue()[iid].levels:
            if levels is not None and level not in levels:
                continue
            units = ctx.city.units.get(level)
            if units is None:
                continue
            if level == "dwelling":
                continue  # building-level values are the building layer's own columns
            values = func(ctx.city, units)
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
        return Computed(pd.concat(frames, ignore_index=True) if frames else _empty())

    return compute


def register(iid: str) -> Callable[[IndicatorFunction], IndicatorFunction]:
    """Register ``func`` (City, units -> Series) as the computation of built-in ``iid``."""

    def wrap(func: IndicatorFunction) -> IndicatorFunction:
        _add(Registered((iid,), "city", _per_level(iid, func), per_unit=func), func.__name__)
        return func

    return wrap


def register_group(
    ids: tuple[str, ...], needs: Needs
) -> Callable[[Callable[[IndicatorContext], Computed]], Callable[[IndicatorContext], Computed]]:
    """Register ``func`` (IndicatorContext -> Computed) as the computation of ``ids``."""

    def wrap(
        func: Callable[[IndicatorContext], Computed],
    ) -> Callable[[IndicatorContext], Computed]:
        _add(Registered(tuple(ids), needs, func), func.__name__)
        return func

    return wrap


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def registrations() -> list[Registered]:
    """Every registered computation once: the built-in ones, then those on the walking network,
    the census and the hotline, each kind in the order of registration."""
    seen: dict[int, Registered] = {}
    for entry in REGISTRY.values():
        seen.setdefault(id(entry), entry)
    order = list(_COMPUTE_OF)
    return sorted(seen.values(), key=lambda e: order.index(e.needs))


def compute_indicators(
    ctx: IndicatorContext,
    *,
    needs: tuple[str, ...] | None = None,
    on_needs: Callable[[str], None] | None = None,
) -> Computed:
    """The one loop: run every registered computation on ``ctx``.

    Parameters
    ----------
    ctx : IndicatorContext
    needs : tuple of str, optional
        Only the computations needing these inputs (e.g. ``("city",)``: the built-in ones).
    on_needs : callable, optional
        Called with the ``needs`` of a computation when it differs from the previous one's
        (progress display).

    Returns
    -------
    Computed
        Long table ``indicator``, ``level``, ``unit_id``, ``value`` (in registration order) and
        the reasons of the ids without a value.
    """
    frames: list[pd.DataFrame] = []
    reasons: dict[str, Message] = {}
    current = None
    for entry in registrations():
        if needs is not None and entry.needs not in needs:
            continue
        if entry.needs != current:
            current = entry.needs
            if on_needs is not None:
                on_needs(entry.needs)
        out = entry.compute(ctx)
        if len(out.values):
            frames.append(out.values[COLUMNS])
        reasons.update(out.not_computed)
    values = pd.concat(frames, ignore_index=True) if frames else _empty()
    return Computed(values, reasons)


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
    if levels is None:
        return compute_indicators(IndicatorContext(city), needs=("city",)).values
    frames = [
        _per_level(e.ids[0], e.per_unit)(IndicatorContext(city), levels).values  # type: ignore[call-arg]
        for e in registrations()
        if e.per_unit is not None
    ]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else _empty()
