"""Dispatch by place and category: the street office from the jurisdiction's polygons (point in
polygon), the department from the dispatch catalogue (派单目录)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import geopandas as gpd
import shapely

from citycheck.io.errors import InputError
from citycheck.listen.catalogue import Service

#: Properties a jurisdiction layer must have (``name_en`` may be missing or empty).
UNIT_FIELD, NAME_ZH_FIELD, NAME_EN_FIELD = "unit", "name_zh", "name_en"


@dataclass(frozen=True)
class Jurisdiction:
    """Units that own territory (districts, street offices, townships) with polygons (WGS84)."""

    units: tuple[str, ...]
    names: dict[str, tuple[str, str]]
    polygons: tuple[shapely.Geometry, ...]
    source: str = ""
    _tree: shapely.STRtree | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tree", shapely.STRtree(list(self.polygons)))

    def unit_at(self, lat: float, lon: float) -> str | None:
        """The unit whose polygon covers the point (the first in file order on a shared edge)."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="covered_by")  # type: ignore[union-attr]
        return self.units[int(hits.min())] if len(hits) else None


def load_jurisdiction(path: str | Path | None = None, *, layer: str | None = None) -> Jurisdiction:
    """Read the city's jurisdiction layer: one polygon per unit with its code and names.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or any vector format GDAL reads, with properties ``unit`` (the unit's
        code, e.g. an administrative code or a street-office code), ``name_zh`` and optionally
        ``name_en``; any CRS (reprojected to WGS84).  ``citycheck hotline jurisdiction`` writes
        one from China's district boundaries.  None reads the packaged demo layer (four
        synthetic squares in Beijing, for tests and trying the service out; not real).
    layer
        Layer of a multi-layer file (GeoPackage).

    Raises
    ------
    InputError
        Naming the file, the field and the value: unreadable file, no CRS, a missing field, an
        empty or repeated unit code, a missing Chinese name, a geometry that is not a valid
        polygon, or two units whose polygons overlap (a point there would have two owners).
    """
    if path is None:
        source = "jurisdiction.geojson (demo)"
        text = resources.files("citycheck.listen").joinpath("data/jurisdiction.geojson").read_text()
        gdf = gpd.GeoDataFrame.from_features(json.loads(text)["features"], crs="EPSG:4326")
    else:
        source = str(path)
        if not Path(path).exists():
            raise InputError(path, "file", str(path), "jurisdiction file not found")
        try:
            gdf = gpd.read_file(path, layer=layer)
        except Exception as exc:
            msg = f"not a readable vector file ({exc})"
            raise InputError(path, "file", Path(path).name, msg) from exc
        if gdf.crs is None:
            raise InputError(path, "crs", None, "the layer has no CRS; set one (e.g. EPSG:4326)")
        gdf = gdf.to_crs("EPSG:4326")
    return jurisdiction_from_frame(gdf, source)


def jurisdiction_from_frame(gdf: gpd.GeoDataFrame, source: str) -> Jurisdiction:
    """Validate a WGS84 GeoDataFrame of units (see :func:`load_jurisdiction`) and index it."""
    if gdf.empty:
        raise InputError(source, "features", 0, "the jurisdiction layer has no features")
    for col in (UNIT_FIELD, NAME_ZH_FIELD):
        if col not in gdf.columns:
            have = sorted(map(str, gdf.columns))
            raise InputError(source, col, None, f"missing property; the layer has {have}")
    units: list[str] = []
    polys: list[shapely.Geometry] = []
    names: dict[str, tuple[str, str]] = {}
    for i, row in enumerate(gdf.itertuples(index=False), start=1):
        unit = _text(getattr(row, UNIT_FIELD))
        where = f"feature #{i}"
        if not unit:
            raise InputError(source, f"{where} {UNIT_FIELD}", unit, "empty unit code")
        if unit in names:
            raise InputError(source, f"{where} {UNIT_FIELD}", unit, "unit code used twice")
        name_zh = _text(getattr(row, NAME_ZH_FIELD))
        if not name_zh:
            msg = f"unit {unit} has no Chinese name"
            raise InputError(source, f"{where} {NAME_ZH_FIELD}", name_zh, msg)
        name_en = _text(getattr(row, NAME_EN_FIELD, None)) or name_zh
        geom = row.geometry
        kind = None if geom is None else geom.geom_type
        if kind not in ("Polygon", "MultiPolygon") or geom.is_empty:
            raise InputError(source, f"{where} geometry", kind, f"unit {unit} needs a polygon")
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            raise InputError(source, f"{where} geometry", reason, f"unit {unit}: invalid polygon")
        shapely.prepare(geom)
        units.append(unit)
        polys.append(geom)
        names[unit] = (name_zh, name_en)
    _check_overlaps(units, polys, source)
    return Jurisdiction(tuple(units), names, tuple(polys), source)


#: Overlap tolerated between neighbouring units, as a share of the smaller one's area: digitised
#: boundaries of adjacent units overlap by slivers along the shared edge.
OVERLAP_TOLERANCE = 0.001


def _check_overlaps(units: list[str], polys: list[shapely.Geometry], source: str) -> None:
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        shared = shapely.intersection(polys[i], polys[j]).area
        smaller = min(polys[i].area, polys[j].area)
        if smaller > 0 and shared / smaller > OVERLAP_TOLERANCE:
            raise InputError(
                source,
                "geometry",
                f"{units[i]} / {units[j]}",
                f"units overlap ({shared / smaller:.1%} of the smaller one); "
                "each place must belong to one unit",
            )


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def route(
    service: Service, lat: float | None, lon: float | None, jurisdiction: Jurisdiction
) -> tuple[str, tuple[str, ...]]:
    """The lead unit and assisting units for a request.

    Place-bound services (``lead = "street"``) go to the street office containing the point, with
    the department assisting; other services go to the department, with the street office
    assisting when the point is inside the jurisdiction.
    """
    street = jurisdiction.unit_at(lat, lon) if lat is not None and lon is not None else None
    dept = f"dept:{service.department}"
    if street is None:
        return dept, ()
    if service.lead == "street":
        return street, (dept,)
    return dept, (street,)
