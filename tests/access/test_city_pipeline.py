"""analyse_city and indicator_values on a City from the project's reader (the pipeline's call)."""

from __future__ import annotations

import numpy as np
import pytest

from citycheck.access import analyse_city, dist_column, indicator_values
from conftest import shared_data


@pytest.fixture(scope="module")
def city_and_result():
    from citycheck.city import build_city
    from citycheck.io.osm import read_osm

    city = build_city(
        read_osm(shared_data("osm", "beijing-haidian-wudaokou.osm.pbf")), residents_total=40_000
    )
    return city, analyse_city(city)


def test_table_lines_up_with_buildings(city_and_result):
    city, r = city_and_result
    assert r.buildings.index.equals(city.buildings.index)
    assert (r.buildings["residential"] == city.buildings["residential"]).all()
    assert r.buildings["reachable"].sum() + len(r.unreachable) == len(city.buildings)


def test_district_share_equals_direct_computation(city_and_result):
    city, r = city_and_result
    values, missing = indicator_values(r, city)
    assert set(values.columns) == {"indicator", "level", "unit_id", "value"}
    assert "S04" in missing
    res = r.buildings[r.buildings["residential"]]
    fa = city.buildings.loc[res.index, "floor_area_m2"].to_numpy()
    inside = (
        city.buildings.loc[res.index]
        .representative_point()
        .within(city.units["district"].geometry.iloc[0])
        .to_numpy()
    )
    ok = (res[dist_column("food_market")] <= 500).to_numpy()
    expect = 100 * (fa * ok)[inside].sum() / fa[inside].sum()
    got = values.query("indicator == 'L06b' and level == 'district'")["value"].iloc[0]
    assert got == pytest.approx(expect)
    # every unit of every catalogue level appears once per computed indicator
    for (ind, level), grp in values.groupby(["indicator", "level"]):
        assert grp["unit_id"].is_unique, (ind, level)
        assert len(grp) == len(city.units[level])
    l14 = values.query("indicator == 'L14'")["value"]
    assert np.isfinite(l14).sum() >= 2
    assert abs(np.nansum(l14)) < 1e-9  # a sum of z-scores sums to zero over units
    pop = values.query("indicator == 'L01.pop' or indicator == 'L09'")
    assert pop["value"].notna().any()
