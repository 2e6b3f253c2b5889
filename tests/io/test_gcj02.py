"""GCJ-02 <-> WGS84 on published test points."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from citycheck.io.gcj02 import gcj02_to_wgs84, geometry_gcj02_to_wgs84, wgs84_to_gcj02

# Published reference values:
# - wandergis/coordtransform test/app.js: wgs84togcj02(116.404, 39.915)
#   = [116.41024449916938, 39.91640428150164]; its one-step inverse gcj02towgs84(116.404, 39.915)
#   = [116.39775550083061, 39.91359571849836] (an approximation accurate to about 1 m).
# - geoToolbox test data: WGS84 (40.0, 116.0) -> GCJ-02 (40.001213650174, 116.006141221789).
FORWARD = [
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((116.0, 40.0), (116.006141221789, 40.001213650174)),
]


@pytest.mark.parametrize(("wgs", "gcj"), FORWARD)
def test_forward_matches_published(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert float(lon) == pytest.approx(gcj[0], abs=2e-7)
    assert float(lat) == pytest.approx(gcj[1], abs=2e-7)


@pytest.mark.parametrize(("wgs", "gcj"), FORWARD)
def test_inverse_recovers_wgs84(wgs, gcj):
    lon, lat = gcj02_to_wgs84(*gcj)
    assert float(lon) == pytest.approx(wgs[0], abs=2e-7)  # ~2 cm
    assert float(lat) == pytest.approx(wgs[1], abs=2e-7)


def test_inverse_close_to_published_one_step():
    lon, lat = gcj02_to_wgs84(116.404, 39.915)
    # the one-step approximation is within ~1e-5 degrees of the exact inverse
    assert float(lon) == pytest.approx(116.39775550083061, abs=2e-5)
    assert float(lat) == pytest.approx(39.91359571849836, abs=2e-5)
    # and ours round-trips exactly
    flon, flat = wgs84_to_gcj02(lon, lat)
    assert float(flon) == pytest.approx(116.404, abs=1e-9)
    assert float(flat) == pytest.approx(39.915, abs=1e-9)


def test_shift_size_in_beijing():
    """The shift is hundreds of metres in Beijing (shared/data/README: 350–600 m)."""
    lon, lat = wgs84_to_gcj02(116.32, 40.0)
    dx = (float(lon) - 116.32) * 111_320 * np.cos(np.radians(40.0))
    dy = (float(lat) - 40.0) * 110_570
    assert 350 < np.hypot(dx, dy) < 700


def test_outside_china_unchanged():
    lon, lat = wgs84_to_gcj02(24.94, 60.17)
    assert float(lon) == 24.94 and float(lat) == 60.17


def test_geometry_transform_vectorised():
    poly = shapely.box(116.3, 39.9, 116.4, 40.0)
    out = geometry_gcj02_to_wgs84(poly)
    x, y = gcj02_to_wgs84(116.3, 39.9)
    assert shapely.get_coordinates(out).min(axis=0) == pytest.approx([float(x), float(y)], abs=1e-3)
