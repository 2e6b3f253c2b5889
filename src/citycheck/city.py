"""The study area: one City object holding every layer in one metric CRS.

:func:`build_city` takes the layers read from OpenStreetMap (:func:`citycheck.io.osm.read_osm`)
and a boundary, chooses a metric CRS (the UTM zone of the area by default), flags residential
buildings, estimates residents, assigns facilities to categories (``categories.toml``) and builds
the spatial units of the four levels. It is pure: layers in, a City out.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.prepared

from citycheck.categories import categories, match_categories
from citycheck.io.errors import InputError
from citycheck.io.osm import STREET_KEYS, OsmLayers
from citycheck.labels import Message, labels_under, message

__all__ = [
    "DEFAULT_LEVELS",
    "LEVELS",
    "METRES_PER_LEVEL",
    "City",
    "build_city",
    "parse_height_m",
    "parse_levels",
    "spread_residents",
]

log = logging.getLogger(__name__)

#: The four levels of the health check, finest first, with Chinese and English names.
LEVELS: dict[str, tuple[str, str]] = labels_under("city.level")

#: Building tags that mean "people live here" (OSM wiki, Key:building, "Accommodation").
RESIDENTIAL_TYPES = frozenset(
    {
        "residential",
        "apartments",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "dormitory",
        "bungalow",
        "farm",
        "cabin",
        "static_caravan",
        "houseboat",
        "ger",
        "stilt_house",
        "trullo",
    }
)
#: Building tags that are clearly not dwellings, even inside residential land use.
NON_RESIDENTIAL_TYPES = frozenset(
    {
        "commercial",
        "industrial",
        "office",
        "retail",
        "supermarket",
        "kiosk",
        "warehouse",
        "school",
        "kindergarten",
        "university",
        "college",
        "hospital",
        "church",
        "temple",
        "mosque",
        "public",
        "civic",
        "government",
        "train_station",
        "transportation",
        "garage",
        "garages",
        "parking",
        "service",
        "shed",
        "roof",
        "hut",
        "toilets",
        "sports_hall",
        "stadium",
        "construction",
        "ruins",
        "greenhouse",
        "barn",
        "hangar",
        "carport",
        "bunker",
        "gatehouse",
        "fire_station",
        "library",
        "museum",
        "hotel",
        "bridge",
        "tower",
        "water_tower",
        "cowshed",
    }
)
#: Storeys assumed when a building has neither ``building:levels`` nor ``height``.
#: A citycheck convention (Chinese compounds are mostly 6-storey walk-ups or taller slabs; OSM
#: rarely tags levels there); override with ``default_levels=``.
DEFAULT_LEVELS: dict[str, float] = {
    "house": 2,
    "detached": 2,
    "semidetached_house": 2,
    "terrace": 2,
    "bungalow": 1,
    "farm": 2,
    "cabin": 1,
    "static_caravan": 1,
    "apartments": 6,
    "residential": 6,
    "dormitory": 6,
    "*": 3,
}
#: Storey height used to convert between levels and height (GB 50096-2011 residential storey
#: height is at most 3.0 m for most dwellings; a 3 m floor-to-floor is the usual planning figure).
METRES_PER_LEVEL = 3.0

_LU_CLASS: dict[tuple[str, str], str] = {}
for _v in ("residential",):
    _LU_CLASS[("landuse", _v)] = "residential"
for _v in ("commercial", "retail"):
    _LU_CLASS[("landuse", _v)] = "commercial"
for _v in ("industrial",):
    _LU_CLASS[("landuse", _v)] = "industrial"
for _v in ("education",):
    _LU_CLASS[("landuse", _v)] = "education"
for _v in ("university", "school", "college", "kindergarten", "hospital", "clinic"):
    _LU_CLASS[("amenity", _v)] = "education" if _v not in ("hospital", "clinic") else "public"
for _v in ("grass", "forest", "meadow", "village_green", "recreation_ground", "park"):
    _LU_CLASS[("landuse", _v)] = "green"
for _v in ("park", "garden", "nature_reserve", "common", "playground", "pitch", "golf_course"):
    _LU_CLASS[("leisure", _v)] = "green"
for _v in ("wood", "scrub", "grassland", "heath", "wetland"):
    _LU_CLASS[("natural", _v)] = "green"
for _v in ("water",):
    _LU_CLASS[("natural", _v)] = "water"
for _v in ("reservoir", "basin"):
    _LU_CLASS[("landuse", _v)] = "water"
_LU_CLASS[("waterway", "riverbank")] = "water"
for _v in (
    "railway",
    "construction",
    "military",
    "cemetery",
    "farmland",
    "allotments",
    "brownfield",
    "greenfield",
    "religious",
):
    _LU_CLASS[("landuse", _v)] = {
        "railway": "transport",
        "construction": "construction",
        "military": "special",
        "cemetery": "special",
        "farmland": "agriculture",
        "allotments": "agriculture",
        "brownfield": "vacant",
        "greenfield": "vacant",
        "religious": "public",
    }[_v]
_LU_CLASS[("amenity", "parking")] = "transport"

#: Land-use classes that count as built-up land.
BUILT_CLASSES = frozenset(
    {
        "residential",
        "commercial",
        "industrial",
        "education",
        "public",
        "construction",
        "transport",
        "special",
    }
)

#: Street classes that are public roads (road-network density, GB 50180 / 中发〔2016〕6号).
PUBLIC_ROADS = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "living_street",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
        "road",
    }
)
#: Street classes that bound neighbourhood blocks when no neighbourhood polygons are given.
MAJOR_ROADS = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
    }
)


@dataclass(frozen=True)
class City:
    """One study area, every layer in the metric CRS ``crs`` (see docs/architecture.md).

    Attributes
    ----------
    name : str
        Name of the study area.
    crs : pyproj.CRS
        Metric CRS of every layer.
    boundary : shapely geometry
        The study area.
    buildings, facilities, streets, entrances, landuse : GeoDataFrame
        Layers clipped to the area (streets and facilities to the area plus ``buffer_m`` so that
        services just outside the boundary still count).
    units : dict of str to GeoDataFrame
        Spatial units by level: ``grid``, ``compound``, ``neighbourhood``, ``district``.
    meta : dict
        Provenance and parameters: source file, residents method, defaults used, warnings.
    """

    name: str
    crs: pyproj.CRS
    boundary: shapely.Geometry
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    units: dict[str, gpd.GeoDataFrame]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def area_km2(self) -> float:
        """Area of the study area in km²."""
        return float(self.boundary.area) / 1e6

    @property
    def residential(self) -> gpd.GeoDataFrame:
        """The residential buildings."""
        return self.buildings[self.buildings["residential"]]

    def facilities_of(self, category: str, *, in_area: bool = False) -> gpd.GeoDataFrame:
        """Facilities of one category (optionally only those inside the boundary)."""
        f = self.facilities[self.facilities["category"] == category]
        return f[f["in_area"]] if in_area else f


_NUM = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def parse_levels(value: object) -> float:
    """Parse ``building:levels`` ("6", "3;4", "2.5", "5-7") to a number of storeys, else NaN.

    Examples
    --------
    >>> parse_levels("6"), parse_levels("3;4"), parse_levels("abc")
    (6.0, 4.0, nan)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    nums = [float(n.replace(",", ".")) for n in _NUM.findall(str(value))]
    nums = [n for n in nums if 0 < n < 250]
    return max(nums) if nums else math.nan


def parse_height_m(value: object) -> float:
    """Parse an OSM ``height`` ("12", "12 m", "40'", "40 ft") to metres, else NaN.

    Examples
    --------
    >>> parse_height_m("12 m"), parse_height_m("100 ft"), parse_height_m(None)
    (12.0, 30.48, nan)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    text = str(value).strip().lower()
    nums = _NUM.findall(text)
    if not nums:
        return math.nan
    number = float(nums[0].replace(",", "."))
    if "ft" in text or "'" in text:
        number *= 0.3048
    return number if 0 < number < 1000 else math.nan


def spread_residents(floor_area_m2: pd.Series, total: float) -> pd.Series:
    """Spread a resident total over buildings in proportion to residential floor area.

    The sum of the result equals ``total`` (to floating-point rounding).

    Parameters
    ----------
    floor_area_m2 : Series
        Residential floor area per building (0 for non-residential buildings).
    total : float
        Residents to distribute.

    Returns
    -------
    Series named ``residents``, same index.
    """
    if total < 0 or not np.isfinite(total):
        raise InputError("population", "total", total, "a resident total must be finite and ≥ 0")
    weights = floor_area_m2.astype(float).clip(lower=0)
    denom = weights.sum()
    if denom <= 0:
        if total > 0:
            raise InputError(
                "buildings",
                "floor_area_m2",
                0,
                f"no residential floor area to place {total:,.0f} residents on",
            )
        return pd.Series(0.0, index=floor_area_m2.index, name="residents")
    return (weights / denom * total).rename("residents")


def _tag_dict(row: Mapping[str, object], keys: list[str]) -> dict[str, str]:
    out = {}
    for k in keys:
        v = row.get(k)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            out[k] = str(v)
    return out


def _project(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    if len(gdf):
        return gdf.to_crs(crs)
    return gdf.set_crs(crs, allow_override=True)


def _residential_flags(
    buildings: gpd.GeoDataFrame, residential_land: shapely.Geometry | None
) -> tuple[pd.Series, pd.Series]:
    tag = buildings["building"].astype(str)
    by_tag = tag.isin(RESIDENTIAL_TYPES)
    excluded = tag.isin(NON_RESIDENTIAL_TYPES)
    for key in ("amenity", "shop", "office", "tourism", "leisure", "healthcare"):
        if key in buildings.columns:
            excluded |= buildings[key].notna()
    if "building:use" in buildings.columns:
        use = buildings["building:use"].astype(str)
        by_tag |= use.isin(RESIDENTIAL_TYPES)
    by_land = pd.Series(False, index=buildings.index)
    if residential_land is not None and not residential_land.is_empty:
        points = buildings.geometry.representative_point()
        by_land = pd.Series(
            shapely.contains_xy(residential_land, points.x.to_numpy(), points.y.to_numpy()),
            index=buildings.index,
        )
    residential = by_tag | (by_land & ~excluded & (tag == "yes"))
    source = pd.Series(None, index=buildings.index, dtype=object)
    source[by_land & ~excluded & (tag == "yes")] = "landuse"
    source[by_tag] = "tag"
    return residential, source


def _grid_units(boundary: shapely.Geometry, size_m: float) -> gpd.GeoDataFrame:
    left, bottom, right, top = boundary.bounds
    cols = max(1, math.ceil((right - left) / size_m))
    rows = max(1, math.ceil((top - bottom) / size_m))
    ids, geoms = [], []
    prepared = shapely.prepared.prep(boundary)
    for r in range(rows):
        for c in range(cols):
            cell = shapely.box(
                left + c * size_m,
                bottom + r * size_m,
                left + (c + 1) * size_m,
                bottom + (r + 1) * size_m,
            )
            if prepared.intersects(cell):
                clipped = cell.intersection(boundary)
                if clipped.area > 0:
                    ids.append(f"g{r:03d}_{c:03d}")
                    geoms.append(clipped)
    return gpd.GeoDataFrame({"unit_id": ids}, geometry=geoms)


def _blocks(
    streets: gpd.GeoDataFrame, boundary: shapely.Geometry, min_area_m2: float
) -> gpd.GeoDataFrame:
    major = streets[streets["highway"].isin(MAJOR_ROADS)]
    lines = list(major.geometry.intersection(boundary))
    lines.append(boundary.boundary)
    merged = shapely.unary_union([g for g in lines if not g.is_empty])
    pieces = [
        p
        for p in shapely.get_parts(shapely.polygonize([merged]))
        if p.representative_point().within(boundary)
    ]
    polys = [p for p in pieces if p.area >= min_area_m2]
    if not polys:
        polys = [boundary]
    return gpd.GeoDataFrame({"unit_id": [f"b{i:03d}" for i in range(len(polys))]}, geometry=polys)


def _user_units(
    gdf: gpd.GeoDataFrame, crs: pyproj.CRS, prefix: str, source: str
) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise InputError(source, "crs", None, "unit polygons need a CRS")
    out = gdf.to_crs(crs)
    out = out[out.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    if out.empty:
        raise InputError(source, "geometry", "none", "no polygon units in the file")
    if "unit_id" not in out.columns:
        name_col = next((c for c in ("name", "NAME", "名称") if c in out.columns), None)
        out["unit_id"] = (
            out[name_col].astype(str) if name_col else [f"{prefix}{i:03d}" for i in range(len(out))]
        )
    if out["unit_id"].duplicated().any():
        dup = out.loc[out["unit_id"].duplicated(), "unit_id"].iloc[0]
        raise InputError(source, "unit_id", dup, "unit ids must be unique")
    out["unit_id"] = out["unit_id"].astype(str)
    return out[["unit_id", "geometry"]]


def build_city(
    layers: OsmLayers,
    *,
    boundary: shapely.Geometry | None = None,
    name: str | None = None,
    crs: str | pyproj.CRS | None = None,
    residents_total: float | None = None,
    residents_by_osm_id: Mapping[str, float] | None = None,
    default_levels: Mapping[str, float] | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    grid_size_m: float = 250.0,
    buffer_m: float = 1000.0,
    min_block_area_m2: float = 10_000.0,
) -> City:
    """Build a :class:`City` from OSM layers.

    Parameters
    ----------
    layers : OsmLayers
        Layers in WGS84 from :func:`citycheck.io.osm.read_osm`.
    boundary : shapely geometry, optional
        Study area in WGS84; default the area the extract covers
        (:meth:`~citycheck.io.osm.OsmLayers.default_bbox`).
    name : str, optional
        Name of the study area; default the file's stem.
    crs : str or CRS, optional
        Metric CRS; default the UTM zone of the area. A geographic CRS is refused.
    residents_total : float, optional
        Residents of the study area, spread over residential floor area.
    residents_by_osm_id : mapping, optional
        Residents per building ``osm_id`` supplied by the user (takes precedence).
    default_levels : mapping, optional
        Storeys assumed by building tag when levels and height are missing (``"*"`` for others);
        default :data:`DEFAULT_LEVELS`.
    compounds, neighbourhoods : GeoDataFrame, optional
        User polygons for those levels; default residential land-use polygons (compounds) and
        blocks bounded by major streets (neighbourhoods).
    grid_size_m : float
        Side of the square grid cells, metres.
    buffer_m : float
        Streets and facilities within this distance outside the boundary are kept (services
        across the boundary still serve residents).
    min_block_area_m2 : float
        Blocks smaller than this (traffic islands) are not neighbourhoods.

    Returns
    -------
    City
    """
    source = str(layers.path)
    if boundary is None:
        boundary = shapely.box(*layers.default_bbox())
    if boundary.is_empty:
        raise InputError(source, "boundary", "empty", "the boundary is empty")
    data_box = shapely.box(*layers.extent())
    if not boundary.intersects(data_box):
        raise InputError(
            source,
            "boundary",
            tuple(round(v, 4) for v in boundary.bounds),
            f"the boundary does not overlap the data (data extent "
            f"{tuple(round(v, 4) for v in data_box.bounds)}); check the boundary's CRS and area",
        )
    overlap = boundary.intersection(data_box).area / boundary.area
    warnings: list[Message] = []
    if overlap < 0.5:
        warnings.append(message("msg_boundary_coverage", share=overlap))
    if crs is None:
        utm = gpd.GeoSeries([boundary], crs="EPSG:4326").estimate_utm_crs()
        crs = pyproj.CRS(utm)
    crs = pyproj.CRS(crs)
    if not crs.is_projected:
        raise InputError(
            "crs", "crs", crs.to_string(), "a metric (projected) CRS is needed; e.g. a UTM zone"
        )
    levels_default = dict(DEFAULT_LEVELS if default_levels is None else default_levels)
    levels_default.setdefault("*", DEFAULT_LEVELS["*"])

    # densify first: a parallel of latitude is a curve in the projected CRS
    dense = shapely.segmentize(boundary, max_segment_length=0.0005)
    bnd = gpd.GeoSeries([dense], crs="EPSG:4326").to_crs(crs).iloc[0]
    bnd = shapely.make_valid(bnd)
    keep_zone = bnd.buffer(buffer_m)

    # --- land use
    landuse = _project(layers.landuse, crs)
    landuse = landuse[landuse.intersects(keep_zone)].copy()
    landuse["lu_class"] = (
        [
            _LU_CLASS.get((k, v), "other")
            for k, v in zip(landuse["key"], landuse["value"], strict=True)
        ]
        if len(landuse)
        else pd.Series(dtype=str)
    )
    landuse = landuse.reset_index(drop=True)
    res_land = landuse[landuse["lu_class"] == "residential"]
    res_union = res_land.union_all() if len(res_land) else None
    if res_union is not None:
        shapely.prepare(res_union)

    # --- buildings
    b = _project(layers.buildings, crs)
    if len(b):
        pts = b.geometry.representative_point()
        b = b[shapely.intersects_xy(bnd, pts.x.to_numpy(), pts.y.to_numpy())].copy()
    b = b.reset_index(drop=True)
    for col in ("building", "building:levels", "height", "building:height", "start_date"):
        if col not in b.columns:
            b[col] = pd.Series(None, index=b.index, dtype=object)
    b["levels"] = b["building:levels"].map(parse_levels).astype(float)
    height = b["height"].map(parse_height_m).astype(float)
    height = height.fillna(b["building:height"].map(parse_height_m).astype(float))
    b["height_m"] = height
    fallback = b["building"].map(lambda t: levels_default.get(str(t), levels_default["*"]))
    b["levels_est"] = (
        b["levels"]
        .fillna((b["height_m"] / METRES_PER_LEVEL).round().clip(lower=1))
        .fillna(fallback)
        .astype(float)
    )
    b["levels_source"] = np.where(
        b["levels"].notna(), "levels", np.where(b["height_m"].notna(), "height", "default")
    )
    b["height_est_m"] = b["height_m"].fillna(b["levels_est"] * METRES_PER_LEVEL)
    b["footprint_m2"] = b.geometry.area
    residential, res_source = _residential_flags(b, res_union)
    b["residential"] = residential.astype(bool)
    b["residential_source"] = res_source
    b["floor_area_m2"] = b["footprint_m2"] * b["levels_est"]
    res_floor = b["floor_area_m2"].where(b["residential"], 0.0)
    if residents_by_osm_id is not None:
        b["residents"] = b["osm_id"].map(residents_by_osm_id).astype(float).fillna(0.0)
        unknown = set(residents_by_osm_id) - set(b["osm_id"])
        if unknown:
            warnings.append(
                message("msg_unknown_buildings", n=len(unknown), example=sorted(unknown)[0])
            )
        residents_method = message("method_user_table")
    elif residents_total is not None:
        b["residents"] = spread_residents(res_floor, residents_total)
        residents_method = message("method_spread")
    else:
        b["residents"] = np.nan
        residents_method = message("method_none")

    # --- facilities
    feats = _project(layers.features, crs)
    feats = feats[feats.intersects(keep_zone)].reset_index(drop=True) if len(feats) else feats
    keys = [c for c in feats.columns if c not in ("geometry", "osm_id")]
    cats = categories()
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry] = []
    records = feats[keys].to_dict("records") if len(feats) else []
    for i, rec in enumerate(records):
        tags = _tag_dict(rec, keys)
        for cid in match_categories(tags):
            geom = feats.geometry.iloc[i]
            area = float(geom.area) if geom.geom_type in ("Polygon", "MultiPolygon") else 0.0
            if cats[cid].geometry == "point" and area > 0:
                geom = geom.representative_point()
            rows.append(
                {
                    "category": cid,
                    "osm_id": feats["osm_id"].iloc[i],
                    "name": tags.get("name"),
                    "area_m2": area,
                }
            )
            geoms.append(geom)
    fac = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["category", "osm_id", "name", "area_m2"]),
        geometry=gpd.GeoSeries(geoms, crs=crs),
        crs=crs,
    )
    fac["in_area"] = fac.intersects(bnd) if len(fac) else pd.Series(dtype=bool)
    fac.insert(0, "facility_id", np.arange(len(fac)))

    # --- streets, entrances
    streets = _project(layers.streets, crs)
    for col in STREET_KEYS:
        if col not in streets.columns:
            streets[col] = pd.Series(None, index=streets.index, dtype=object)
    streets = streets[streets.intersects(keep_zone)].reset_index(drop=True)
    entrances = _project(layers.entrances, crs)
    entrances = entrances[entrances.intersects(keep_zone)].reset_index(drop=True)

    # --- units of the four levels (+ grid)
    units: dict[str, gpd.GeoDataFrame] = {}
    units["grid"] = _grid_units(bnd, grid_size_m).set_crs(crs)
    if compounds is not None:
        units["compound"] = _user_units(compounds, crs, "c", "compounds")
    else:
        comp = res_land[res_land.intersects(bnd)].copy()
        comp["geometry"] = comp.geometry.intersection(bnd)
        comp = comp[comp.area > 0]
        units["compound"] = gpd.GeoDataFrame(
            {"unit_id": comp["osm_id"].astype(str).to_numpy()},
            geometry=comp.geometry.to_numpy(),
            crs=crs,
        )
    if neighbourhoods is not None:
        units["neighbourhood"] = _user_units(neighbourhoods, crs, "b", "neighbourhoods")
    else:
        units["neighbourhood"] = _blocks(streets, bnd, min_block_area_m2).set_crs(crs)
    units["district"] = gpd.GeoDataFrame({"unit_id": ["district"]}, geometry=[bnd], crs=crs)

    if len(b) == 0:
        warnings.append(message("msg_no_buildings"))
    elif not b["residential"].any():
        warnings.append(message("msg_no_residential"))
    present = set(fac["category"]) if len(fac) else set()
    empty = [c for c, cat in cats.items() if cat.life_circle is not None and c not in present]
    if empty:
        named = [message("msg_category_named", zh=cats[c].zh, en=cats[c].en, id=c) for c in empty]
        warnings.append(message("msg_empty_categories", categories=named))
    for w in warnings:
        log.warning("%s: %s", source, w.en, extra={"zh": f"{source}：{w.zh}"})
    meta = {
        "source": source,
        "crs": crs.to_string(),
        "residents_method": residents_method,
        "residents_total": float(b["residents"].sum()) if b["residents"].notna().any() else None,
        "default_levels": levels_default,
        "metres_per_level": METRES_PER_LEVEL,
        "grid_size_m": grid_size_m,
        "buffer_m": buffer_m,
        "skipped": dict(layers.skipped),
        "warnings": warnings,
    }
    return City(
        name=name or layers.path.name.split(".")[0],
        crs=crs,
        boundary=bnd,
        buildings=b,
        facilities=fac,
        streets=streets,
        entrances=entrances,
        landuse=landuse,
        units=units,
        meta=meta,
    )
