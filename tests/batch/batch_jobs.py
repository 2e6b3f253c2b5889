"""Per-city jobs for the runner tests (importable by Dask workers: tests/batch is on PYTHONPATH).

``count_job`` reads the city's real OSM extract with pyosmium and counts the nodes, buildings and
amenities inside its boundary (a GeoJSON polygon file), then writes a run folder ending in COMPLETE.
It stands in for ``citycheck.pipeline.run_check`` so the Dask machinery is tested on real files
whose answer a second reader (pyrosm/osmium directly in the test) can check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import osmium
import shapely
from shapely.geometry import shape


def boundary_polygon(entry):
    if entry.boundary is None:
        return None
    doc = json.loads(Path(entry.boundary).read_text(encoding="utf-8"))
    geom = doc["features"][0]["geometry"] if doc.get("type") == "FeatureCollection" else doc
    return shape(geom)


def count_osm(pbf: Path, polygon) -> dict[str, int]:
    counts = {"nodes": 0, "amenity_nodes": 0, "buildings": 0}
    if polygon is not None:
        shapely.prepare(polygon)
    inside: set[int] = set()
    for obj in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node():
            loc = obj.location
            if polygon is not None and not shapely.contains_xy(polygon, loc.lon, loc.lat):
                continue
            inside.add(obj.id)
            counts["nodes"] += 1
            if "amenity" in obj.tags:
                counts["amenity_nodes"] += 1
        elif "building" in obj.tags and any(n.ref in inside for n in obj.nodes):
            counts["buildings"] += 1
    return counts


def count_job(entry, out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    counts = count_osm(entry.pbf, boundary_polygon(entry))
    out_dir.mkdir(parents=True, exist_ok=True)
    indicators = [{"id": k, "value": v} for k, v in counts.items()]
    n = max(counts["nodes"], 1)
    scores = {
        "dimensions": {
            "livable": 100.0 * counts["amenity_nodes"] / n,
            "vibrant": min(100.0, counts["buildings"] / 10.0),
        }
    }
    (out_dir / "results.json").write_text(
        json.dumps({"city": entry.id, "indicators": indicators, "scores": scores}), "utf-8"
    )
    (out_dir / "COMPLETE").write_text("", "utf-8")
    return out_dir


def flaky_job(entry, out_dir: Path) -> Path:
    """Fails the first attempt of cities whose id contains 'flaky', then works."""
    if "flaky" in entry.id:
        marker = Path(out_dir).parent.parent / f"_flaky_{entry.id}"
        if not marker.exists():
            marker.write_text(str(os.getpid()), "utf-8")
            raise RuntimeError(f"transient failure of {entry.id}")
    return count_job(entry, out_dir)


def crash_job(entry, out_dir: Path) -> Path:
    """Kills its worker process for cities whose id contains 'crash' (a segfault or OOM kill)."""
    if "crash" in entry.id:
        os._exit(13)
    return count_job(entry, out_dir)


def modules_job(entry, out_dir: Path) -> Path:
    """``count_job``, and a note of what the worker had imported before it took the city: the
    command line (``citycheck.cli``, typer) is the client's, not a worker's."""
    import sys

    imported = {name: name in sys.modules for name in ("citycheck.cli", "typer")}
    run = count_job(entry, out_dir)
    (run / "modules.json").write_text(json.dumps(imported), "utf-8")
    return run
