"""Lifeline reference data (``lifeline.toml``): networks, materials, break-model defaults.

Every value is data a city can replace; :func:`break_parameters` returns a DataFrame the city can
edit or obtain from :func:`citycheck.lifeline.risk.calibrate_break_model`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

__all__ = [
    "BreakModel",
    "Material",
    "Network",
    "break_model",
    "break_parameters",
    "materials",
    "networks",
    "residents_quota_l_day",
]


@dataclass(frozen=True)
class Network:
    """A lifeline network type (water, drainage, gas, heating) and its renewal age."""

    id: str
    zh: str
    en: str
    renewal_age_years: int
    source: str


@dataclass(frozen=True)
class Material:
    """A pipe material with its names and the networks where it is always due for renewal."""

    id: str
    zh: str
    en: str
    renew_always_in: tuple[str, ...]
    n0_per_km_yr: float
    growth_per_yr: float


@dataclass(frozen=True)
class BreakModel:
    """Shared terms of the break model (diameter and break-history effects)."""

    reference_diameter_mm: float
    diameter_exponent: float
    history_exponent: float


@cache
def _table() -> dict:
    text = resources.files("citycheck.lifeline").joinpath("lifeline.toml").read_text("utf-8")
    return tomllib.loads(text)


def networks() -> dict[str, Network]:
    """Network types by id (``water``, ``drainage``, ``gas``, ``heating``)."""
    return {k: Network(id=k, **v) for k, v in _table()["networks"].items()}


def materials() -> dict[str, Material]:
    """Pipe materials by code (``CI``, ``DI``, ``PE`` ...)."""
    out = {}
    for k, v in _table()["materials"].items():
        out[k] = Material(id=k, **{**v, "renew_always_in": tuple(v["renew_always_in"])})
    return out


def break_model() -> BreakModel:
    """Default diameter and history terms of the break model."""
    return BreakModel(**_table()["break_model"])


def break_parameters() -> pd.DataFrame:
    """Default per-material Shamir-Howard parameters.

    Returns
    -------
    DataFrame
        Index ``material``; columns ``n0_per_km_yr``, ``growth_per_yr``.
    """
    rows = [
        {"material": m.id, "n0_per_km_yr": m.n0_per_km_yr, "growth_per_yr": m.growth_per_yr}
        for m in materials().values()
    ]
    return pd.DataFrame(rows).set_index("material")


def residents_quota_l_day() -> float:
    """Default litres of supplied water per resident and day (demand-to-residents mapping)."""
    return float(_table()["residents"]["litres_per_resident_day"])
