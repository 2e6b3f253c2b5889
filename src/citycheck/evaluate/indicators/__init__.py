"""Indicator functions, one module per family, registered by catalogue id.

Each function takes a :class:`~citycheck.city.City` and a GeoDataFrame of spatial units (with a
``unit_id`` column) and returns a float Series named after the indicator id and indexed by
``unit_id``. Functions never mutate their inputs.
"""

from citycheck.evaluate.indicators import buildings, facilities, land, streets  # noqa: F401
from citycheck.evaluate.indicators._overlay import built_up_land, residents_in_units
from citycheck.evaluate.indicators.registry import REGISTRY, compute_builtin, register

__all__ = ["REGISTRY", "built_up_land", "compute_builtin", "register", "residents_in_units"]
