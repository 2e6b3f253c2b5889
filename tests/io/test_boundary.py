"""Boundaries from files and from administrative codes."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from pyproj import Geod

from citycheck.io.boundary import boundary_from_adcode, read_boundary
from citycheck.io.errors import InputError


def test_haidian_from_adcode():
    geom = boundary_from_adcode("110108")
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0]) / 1e6
    # Haidian District: 430.77 km² (Beijing statistical yearbook); outlines differ slightly
    assert 400 < area_km2 < 460
    # Peking University's east gate (WGS84 116.3165, 39.9925) lies inside after conversion
    assert geom.contains(shapely.Point(116.3165, 39.9925))


def test_adcode_errors():
    with pytest.raises(InputError, match="6 digits"):
        boundary_from_adcode("11010")
    with pytest.raises(InputError, match="no boundary"):
        boundary_from_adcode("999999")


def test_read_boundary_reprojects(tmp_path):
    box = gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[shapely.box(116.3, 39.99, 116.33, 40.01)], crs="EPSG:4326"
    ).to_crs(3857)
    path = tmp_path / "b.gpkg"
    box.to_file(path)
    geom = read_boundary(path)
    assert geom.bounds == pytest.approx((116.3, 39.99, 116.33, 40.01), abs=1e-6)


def test_read_boundary_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_boundary(tmp_path / "none.geojson")
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(116.3, 40.0)], crs="EPSG:4326")
    path = tmp_path / "pts.geojson"
    pts.to_file(path)
    with pytest.raises(InputError, match="polygon"):
        read_boundary(path)
    junk = tmp_path / "junk.geojson"
    junk.write_text("{not json")
    with pytest.raises(InputError, match=r"junk\.geojson"):
        read_boundary(junk)
