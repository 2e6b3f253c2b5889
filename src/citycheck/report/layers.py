"""Map layers of a run folder: units, buildings, facilities, and the streets/water base map.

``units.gpkg`` holds the units, buildings (layer ``dwelling``) and facilities. Streets and water
are drawn from a ``streets`` / ``landuse`` layer when the run folder has one, otherwise from the
OpenStreetMap file named in results.json ``inputs`` — only when it is still there with the same
sha256, so the base map is always the city's own data of that run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from citycheck.categories import categories
from citycheck.evaluate.document import ResultsDocument, as_document
from citycheck.io.errors import InputError
from citycheck.labels import Message, message

__all__ = [
    "MapLayers",
    "distance_columns",
    "life_circle_missing",
    "load_layers",
    "water_and_green",
]

logger = logging.getLogger(__name__)

UNIT_LEVELS = ("district", "neighbourhood", "compound", "grid")

#: Land-use tags drawn as water / green on the base map.
_WATER = {("natural", "water"), ("landuse", "reservoir"), ("landuse", "basin"),
          ("waterway", "riverbank"), ("water", "*")}  # fmt: skip
_GREEN_VALUES = {
    "landuse": {"grass", "forest", "meadow", "village_green", "recreation_ground", "park"},
    "leisure": {"park", "garden", "nature_reserve", "common", "playground", "pitch"},
    "natural": {"wood", "scrub", "grassland", "heath", "wetland"},
}


@dataclass
class MapLayers:
    """Everything a map of one run can draw, in the run's metric CRS.

    Attributes
    ----------
    crs : str
    units : dict of GeoDataFrame
        By level (``district``, ``neighbourhood``, ``compound``, ``grid``), with indicator columns.
    buildings : GeoDataFrame
        The ``dwelling`` layer (with per-building accessibility columns when computed).
    facilities : GeoDataFrame
    streets, water, green : GeoDataFrame or None
        The base map; None when neither the run folder nor its OSM input has them.
    base_note : Message
        Why the base map is missing, or where it came from (both languages).
    """

    crs: str
    units: dict[str, gpd.GeoDataFrame]
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame | None = None
    water: gpd.GeoDataFrame | None = None
    green: gpd.GeoDataFrame | None = None
    base_note: Message = field(default_factory=lambda: Message("", ""))
    extra: dict[str, Any] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def water_and_green(landuse: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split land-use polygons (``key``/``value`` columns) into water and green areas."""
    if landuse is None or not len(landuse) or "key" not in landuse:
        empty = gpd.GeoDataFrame(geometry=[], crs=getattr(landuse, "crs", None))
        return empty, empty
    pairs = list(zip(landuse["key"], landuse["value"], strict=True))
    is_water = [(k, v) in _WATER or (k, "*") in _WATER for k, v in pairs]
    is_green = [v in _GREEN_VALUES.get(k, ()) for k, v in pairs]
    return landuse[is_water], landuse[is_green]


def _base_from_osm(doc: ResultsDocument, crs: str) -> tuple[Any, Any, Any, Message]:
    from citycheck.io.osm import read_osm

    osm = [i for i in doc.inputs if i.role == "osm"]
    if not osm:
        return None, None, None, message("msg_no_osm_input")
    rec = osm[0]
    path = Path(rec.path)
    if not path.exists():
        return None, None, None, message("msg_osm_input_gone", path=path)
    if _sha256(path) != rec.sha256:
        return None, None, None, message("msg_osm_input_changed", path=path)
    bbox = tuple(doc.study_area.bbox_wgs84)
    layers = read_osm(path, bbox=bbox)  # type: ignore[arg-type]
    streets = layers.streets.to_crs(crs) if len(layers.streets) else None
    water, green = water_and_green(layers.landuse)
    water = water.to_crs(crs) if len(water) else None
    green = green.to_crs(crs) if len(green) else None
    return streets, water, green, message("msg_base_map_from", name=path.name)


def distance_columns(buildings: pd.DataFrame) -> dict[str, str]:
    """Per-building walking-distance columns by facility category, where the run has them.

    The accessibility engine adds one column per category with the network distance in metres
    to the nearest facility, ``dist_m_<category>`` (:func:`citycheck.access.dist_column`; +inf
    beyond its search bound, NaN when unreachable). Also accepted: ``dist_<category>``,
    ``<category>_dist``, ``<category>_dist_m``, ``nearest_<category>``.

    Returns
    -------
    dict
        Category id -> column name (only categories with a walking limit).
    """
    cats = {cid for cid, c in categories().items() if c.walk_limit_m is not None}
    out: dict[str, str] = {}
    for col in buildings.columns:
        name = str(col)
        m = (
            re.fullmatch(r"dist_m_(\w+)", name)
            or re.fullmatch(r"(?:dist|nearest|distance)_(\w+?)(?:_m)?", name)
            or re.fullmatch(r"(\w+?)_(?:dist|distance|nearest)(?:_m)?", name)
        )
        if m and m.group(1) in cats and pd.api.types.is_numeric_dtype(buildings[col]):
            out.setdefault(m.group(1), name)
    return out


def life_circle_missing(buildings: pd.DataFrame, columns: dict[str, str]) -> np.ndarray:
    """Per building, how many life-circle categories (5/10/15-minute, GB 50180-2018) are not
    within their walking limit (NaN and +inf distances count as not within)."""
    cats = categories()
    missing = np.zeros(len(buildings), dtype=int)
    for cid, col in columns.items():
        if cats[cid].life_circle:
            d = pd.to_numeric(buildings[col], errors="coerce").to_numpy(float)
            missing += ~(d <= cats[cid].walk_limit_m)
    return missing


def load_layers(
    run_dir: str | Path, doc: ResultsDocument | Mapping[str, Any], *, base: bool = True
) -> MapLayers:
    """Read the map layers of a run folder (``units.gpkg``) and its base map.

    Parameters
    ----------
    run_dir : path
        A complete run folder (checked by :func:`citycheck.io.runfolder.read_results`).
    doc : ResultsDocument or dict
        Its results.json (:func:`citycheck.evaluate.document.load_results`; a dict is read into
        the model).
    base : bool
        Also read streets and water (from the folder or the OSM input).

    Raises
    ------
    InputError
        If ``units.gpkg`` is missing or has no ``dwelling`` layer.
    """
    gpkg = Path(run_dir) / "units.gpkg"
    if not gpkg.exists():
        raise InputError(gpkg, "file", "units.gpkg", "the run folder has no units.gpkg")
    try:
        names = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    except Exception as exc:  # pyogrio raises its own DataSourceError for damaged files
        raise InputError(gpkg, "file", "units.gpkg", f"unreadable GeoPackage ({exc})") from exc
    if "dwelling" not in names:
        raise InputError(gpkg, "layer", "dwelling", f"missing layer; found {sorted(names)}")
    doc = as_document(doc)
    crs = doc.study_area.crs
    units = {lv: gpd.read_file(gpkg, layer=lv) for lv in UNIT_LEVELS if lv in names}
    buildings = gpd.read_file(gpkg, layer="dwelling")
    facilities = (
        gpd.read_file(gpkg, layer="facilities")
        if "facilities" in names
        else gpd.GeoDataFrame({"category": []}, geometry=[], crs=crs)
    )
    layers = MapLayers(crs=crs, units=units, buildings=buildings, facilities=facilities)
    if not base:
        return layers
    if "streets" in names:
        layers.streets = gpd.read_file(gpkg, layer="streets")
        if "landuse" in names:
            water, green = water_and_green(gpd.read_file(gpkg, layer="landuse"))
            layers.water, layers.green = water, green
        layers.base_note = message("msg_base_map_from", name="units.gpkg")
        return layers
    try:
        streets, water, green, note = _base_from_osm(doc, crs)
    except InputError as exc:  # a damaged input must not stop the report
        note = message("msg_osm_input_unreadable", error=exc)
        streets, water, green = None, None, None
    layers.streets, layers.water, layers.green, layers.base_note = streets, water, green, note
    if streets is None:
        logger.warning("report maps without streets: %s", note.en)
    return layers
