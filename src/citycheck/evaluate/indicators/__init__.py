"""Indicator computations, one module per family, registered by catalogue id.

Built-in functions take a :class:`~citycheck.city.City` and a GeoDataFrame of spatial units (with
a ``unit_id`` column) and return a float Series named after the indicator id and indexed by
``unit_id``; the walking-network (:mod:`.network`), census (:mod:`.census`) and hotline
(:mod:`.hotline`) computations take an :class:`IndicatorContext`. Functions never mutate their
inputs. :func:`compute_indicators` runs them all.
"""

from citycheck.evaluate.indicators import (  # noqa: F401  # noqa: F401
    buildings,
    census,
    facilities,
    hotline,
    land,
    network,
    streets,
)
from citycheck.evaluate.indicators._overlay import built_up_land, residents_in_units
from citycheck.evaluate.indicators.registry import (
    REGISTRY,
    Computed,
    IndicatorContext,
    compute_builtin,
    compute_indicators,
    register,
    register_group,
)

__all__ = [
    "REGISTRY",
    "Computed",
    "IndicatorContext",
    "built_up_land",
    "compute_builtin",
    "compute_indicators",
    "register",
    "register_group",
    "residents_in_units",
]
