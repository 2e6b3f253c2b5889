"""Dispatch by place and category: the street office from the jurisdiction's polygons (point in
polygon), the department from the dispatch catalogue (派单目录)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import shapely
from shapely.geometry import shape

from citycheck.listen.catalogue import Service


@dataclass(frozen=True)
class Jurisdiction:
    """Units that own territory (street offices, townships) with their polygons (WGS84)."""

    units: tuple[str, ...]
    names: dict[str, tuple[str, str]]
    polygons: tuple[shapely.Geometry, ...]

    def unit_at(self, lat: float, lon: float) -> str | None:
        """The unit whose polygon contains the point (the first on a shared edge), or None."""
        point = shapely.Point(lon, lat)
        for unit, poly in zip(self.units, self.polygons, strict=True):
            if poly.covers(point):
                return unit
        return None


def load_jurisdiction(path: str | Path | None = None) -> Jurisdiction:
    """Read a GeoJSON FeatureCollection whose features carry ``unit``, ``name_zh``, ``name_en``.

    None reads the packaged demo jurisdiction (four synthetic squares, not real boundaries).
    """
    if path is None:
        text = resources.files("citycheck.listen").joinpath("data/jurisdiction.geojson").read_text()
        source = "jurisdiction.geojson"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    raw = json.loads(text)
    units, polys, names = [], [], {}
    for i, feat in enumerate(raw.get("features", [])):
        props = feat.get("properties") or {}
        if "unit" not in props:
            raise ValueError(f"{source}: feature #{i + 1} has no 'unit' property")
        geom = shape(feat["geometry"])
        if not geom.is_valid or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"{source}: feature #{i + 1} ({props['unit']}) is not a valid polygon")
        shapely.prepare(geom)
        units.append(str(props["unit"]))
        polys.append(geom)
        names[str(props["unit"])] = (props.get("name_zh", ""), props.get("name_en", ""))
    return Jurisdiction(tuple(units), names, tuple(polys))


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
