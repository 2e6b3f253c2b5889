"""Largest cities first: an estimate of each city's work, to order the tasks of a batch.

With few workers, the batch ends when the last city ends; starting the largest cities first
(the "longest processing time first" rule, Graham 1969, "Bounds on multiprocessing timing
anomalies", SIAM J. Appl. Math. 17(2)) keeps one long city from running alone at the end.

The estimate is the size of the OSM extract times the share of it that the study area covers
(a city clipped to a quarter of an extract does about a quarter of the work).  It only orders
the tasks; results never depend on it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import shapely

from citycheck.batch.manifest import CityEntry

__all__ = ["estimated_work", "largest_first"]

logger = logging.getLogger(__name__)


def _extract_box_area(pbf: Path) -> float | None:
    """Area (degrees²) of the extract's header box, None when the header has none."""
    try:
        import osmium

        reader = osmium.io.Reader(str(pbf), osmium.osm.NOTHING)
        box = reader.header().box()
        reader.close()
    except Exception:  # unreadable extract: the job reports it; no estimate here
        return None
    if not box.valid():
        return None
    return abs(
        (box.top_right.lon - box.bottom_left.lon) * (box.top_right.lat - box.bottom_left.lat)
    )


def _boundary(path: Path) -> shapely.Geometry | None:
    """The geometry (WGS84) of a boundary file, None when it cannot be read."""
    try:
        if path.suffix.lower() in (".geojson", ".json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            features = doc.get("features") if doc.get("type") == "FeatureCollection" else None
            geoms = [f["geometry"] for f in features] if features else [doc.get("geometry", doc)]
            return shapely.union_all([shapely.geometry.shape(g) for g in geoms])
        import geopandas as gpd

        return gpd.read_file(path).to_crs(4326).union_all()
    except Exception as exc:  # a bad boundary: the job reports it; no estimate here
        logger.debug("no area for %s: %s", path, exc)
        return None


def estimated_work(entries: Sequence[CityEntry]) -> dict[str, float]:
    """Relative work of each city: extract bytes × share of the extract in the study area.

    The share is the boundary's area over the extract's header box; for an extract without a
    header box, over the bounding box of all the boundaries given for that extract in the
    batch.  A city without a boundary (or whose files cannot be read) counts its whole extract.

    Returns
    -------
    dict
        City id -> estimated work (bytes of OSM data).
    """
    shapes = {e.id: _boundary(e.boundary) for e in entries if e.boundary}
    box_area = {pbf: _extract_box_area(pbf) for pbf in {e.pbf for e in entries}}
    envelope: dict[Path, float] = {}
    for pbf in box_area:
        geoms = [shapes[e.id] for e in entries if e.pbf == pbf and shapes.get(e.id) is not None]
        envelope[pbf] = shapely.envelope(shapely.union_all(geoms)).area if geoms else 0.0
    out = {}
    for e in entries:
        try:
            size = float(e.pbf.stat().st_size)
        except OSError:
            size = 0.0
        shape = shapes.get(e.id)
        area = shape.area if shape is not None else None
        whole = box_area[e.pbf] or envelope[e.pbf]
        share = min(area / whole, 1.0) if (area and whole) else 1.0
        out[e.id] = size * share
    return out


def largest_first(entries: Sequence[CityEntry]) -> list[CityEntry]:
    """The entries sorted by :func:`estimated_work`, largest first (stable for ties)."""
    work = estimated_work(entries)
    return sorted(entries, key=lambda e: -work[e.id])
