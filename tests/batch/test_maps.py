"""Maps of many cities: the classes by hand, and the rendered PNG / HTML checked against the data.

Oracles: class membership recomputed by hand from the values; each city's fill colour in the
HTML page read back and compared with the class of its value; every legend colour with cities
found in the PNG's pixels (so the map is not blank and its legend matches what is drawn).
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import shapely
from study_areas import write_areas
from typer.testing import CliRunner

from citycheck.batch.maps import NO_DATA_COLOUR, classify, write_map
from citycheck.cli.batch import app
from citycheck.evaluate import urban_system as us
from conftest import shared_data

PATH = re.compile(r'<path d="[^"]+" fill="(#[0-9a-f]{6})" data-city="([^"]+)" data-class="(\d+)"')


def _html_fills(page: str) -> dict[str, tuple[str, int]]:
    return {city: (fill, int(c)) for fill, city, c in PATH.findall(page)}


def _png_pixels(path) -> dict[str, int]:
    """Pixels of each exact colour in a PNG."""
    img = mpimg.imread(path)[..., :3]
    rgb = np.round(img.reshape(-1, 3) * 255).astype(int)
    packed, counts = np.unique(rgb[:, 0] * 65536 + rgb[:, 1] * 256 + rgb[:, 2], return_counts=True)
    return {f"#{v:06x}": int(n) for v, n in zip(packed, counts, strict=True)}


#: Pixels of a legend swatch at most (a class drawn on the map covers many more).
SWATCH = 400


def test_classify_by_hand():
    values = pd.Series([10.0, 25.0, 100.0, math.nan, 55.0, 40.0], index=list("abcdef"))
    classes, legend = classify(values, bins=[0, 20, 40, 60, 80, 100])
    assert classes.tolist() == [0, 1, 4, 5, 2, 2]  # 40 opens the 40–60 class; 100 closes the last
    assert [c.count for c in legend] == [1, 1, 2, 0, 1, 1]
    assert legend[-1].colour == NO_DATA_COLOUR and legend[-1].label_en == "no data"
    cats, clegend = classify(
        pd.Series(["x", "y", "x", None]), categories=[("x", "甲", "A"), ("y", "乙", "B")]
    )
    assert cats.tolist() == [0, 1, 0, 2] and [c.count for c in clegend] == [2, 1, 1]
    with pytest.raises(ValueError, match="ascending"):
        classify(values, bins=[10, 5])


def test_small_map_renders_every_class(tmp_path):
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(4)]
    gdf = gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁"], "v": [5.0, 50.0, 95.0, math.nan]},
        geometry=boxes,
        crs=4326,
    )
    png, page, legend = write_map(
        tmp_path, "m", gdf, "v", title_zh="测试", title_en="Test", name_column="name", unit="%",
        bins=[0, 20, 40, 60, 80, 100],
    )  # fmt: skip
    fills = _html_fills(page.read_text("utf-8"))
    assert len(fills) == 4
    assert [fills[str(i)][1] for i in range(4)] == [0, 2, 4, 5]
    pixels = _png_pixels(png)
    for c in legend:  # a class with cities is drawn on the map; an empty one only in the legend
        assert (pixels.get(c.colour, 0) > SWATCH) == (c.count > 0), (c, pixels.get(c.colour))


def test_urban_system_maps_match_measures(tmp_path):
    city = shared_data("census", "china_city_census_2010_2020.csv")
    county = shared_data("census", "china_county_census_2020.csv")
    out = tmp_path / "sys"
    result = CliRunner().invoke(app, ["urban-system", str(city), str(county), "--out", str(out)])
    assert result.exit_code == 0, result.output
    measures = us.city_measures(us.read_city_census(city), us.read_county_census(county))
    order = {c.id: i for i, c in enumerate(us.SIZE_CLASSES)}
    page = (out / "map_size_class.html").read_text("utf-8")
    fills = _html_fills(page)
    assert len(fills) == 369
    for code, size_class in measures["size_class"].items():
        want = order.get(size_class, len(order))  # no urban-district figure: "no data"
        assert fills[str(code)][1] == want, code
    counts = measures["size_class"].map(order).value_counts()
    for i, c in enumerate(us.SIZE_CLASSES):
        assert f'{c.name_zh}</span><span class="en">{c.name_en}</span> ({counts.get(i, 0)})' in page
    assert "超大城市" in page and "super-large city" in page
    pixels = _png_pixels(out / "map_size_class.png")
    assert all(pixels.get(fill, 0) > SWATCH for fill, _ in fills.values())
    urb = _html_fills((out / "map_urbanisation.html").read_text("utf-8"))
    rate = measures["urbanisation_2020"]
    for code, value in rate.items():
        want = 5 if math.isnan(value) else min(int(value // 20), 4)
        assert urb[str(code)][1] == want, code


def test_batch_map_coloured_by_score(tmp_path):
    manifest = write_areas(tmp_path / "areas")
    out = tmp_path / "out"
    args = ["batch", str(manifest), "--out", str(out), "--job", "batch_jobs:count_job",
            "--workers", "0", "--no-progress", "--draws", "50"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # the corrupt city
    ranking = pd.read_csv(out / "comparison" / "comparison.csv", index_col="city")
    fills = _html_fills((out / "comparison" / "map_score.html").read_text("utf-8"))
    outlines = gpd.read_file(out / "comparison" / "cities.geojson")
    assert len(fills) == len(outlines) == 18
    for i, city in enumerate(outlines["city"]):
        score = ranking.at[city, "score"]
        want = 5 if math.isnan(score) else min(int(score // 20), 4)
        assert fills[str(i)][1] == want, city
    pixels = _png_pixels(out / "comparison" / "map_score.png")
    legend_counts = pd.Series([c for _, c in fills.values()]).value_counts()
    for fill, c in set(fills.values()):  # every class with cities is drawn, not only in the legend
        assert pixels.get(fill, 0) > SWATCH, (fill, legend_counts[c])
    bad = CliRunner().invoke(app, [*args, "--map-by", "nonsense"])
    assert bad.exit_code == 2 and "nonsense" in bad.output
