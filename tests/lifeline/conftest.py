"""Fixtures: EPANET network models shipped in the wntr wheel (real utility networks)."""

from __future__ import annotations

from pathlib import Path

import pytest


def wntr_network(name: str) -> Path:
    """Path of a network model shipped in wntr's ``library/networks`` (Net3, ky4, ky10 ...)."""
    import wntr

    path = Path(wntr.__file__).parent / "library" / "networks" / f"{name}.inp"
    if not path.exists():
        raise FileNotFoundError(f"wntr does not ship {path}")
    return path


@pytest.fixture(scope="session")
def net3() -> Path:
    return wntr_network("Net3")


@pytest.fixture(scope="session")
def ky4() -> Path:
    return wntr_network("ky4")


@pytest.fixture(scope="session")
def ky10() -> Path:
    return wntr_network("ky10")
