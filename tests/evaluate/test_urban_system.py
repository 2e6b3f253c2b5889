"""Urban-system measures from the 7th census, against independent pandas computations.

Oracles: (1) the raw CSVs re-read with plain pandas and each measure recomputed by hand for a
random sample of cities; (2) the city-size thresholds of 国发〔2014〕51号 applied by hand to
Beijing, Shanghai, a medium and a small city; (3) the list of 7 super-large and 14 megacities that
the National Bureau of Statistics published from the same census (求是 2021 No. 18, "第七次全国
人口普查超大、特大城市人口基本情况", ordered by urban-district population).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from citycheck.evaluate import urban_system as us
from conftest import shared_data

CITY_CSV = ("census", "china_city_census_2010_2020.csv")
COUNTY_CSV = ("census", "china_county_census_2020.csv")


@pytest.fixture(scope="module")
def tables():
    city = us.read_city_census(shared_data(*CITY_CSV))
    county = us.read_county_census(shared_data(*COUNTY_CSV))
    return city, county


@pytest.fixture(scope="module")
def measures(tables):
    return us.city_measures(*tables)


def test_all_369_cities_have_measures(measures):
    assert len(measures) == 369
    assert measures.index.is_unique
    # every city with census figures gets a rate; Hong Kong/Macao and a few new cities have none
    have = measures["pop_2020"].notna() & measures["pop_2010"].notna()
    assert have.sum() >= 355
    assert (
        measures.loc[have & measures["urbanisation_2020"].notna(), "urbanisation_2020"]
        .between(0, 100)
        .all()
    )
    for mid in measures.columns:
        if mid in us.MEASURES:
            m = us.MEASURES[mid]
            assert m.name_zh and m.name_en and m.source


def test_sample_against_independent_pandas(measures):
    raw = pd.read_csv(shared_data(*CITY_CSV))
    raw = raw.dropna(subset=["popu_2010", "popu_urban_2010", "popu_2020", "popu_urban_2020"])
    sample = raw.sample(n=40, random_state=7)
    for _, r in sample.iterrows():
        got = measures.loc[int(r["city_code"])]
        assert got["urbanisation_2020"] == pytest.approx(
            r["popu_urban_2020"] / r["popu_2020"] * 100
        )
        u10 = r["popu_urban_2010"] / r["popu_2010"] * 100
        assert got["urbanisation_change_pp"] == pytest.approx(
            r["popu_urban_2020"] / r["popu_2020"] * 100 - u10
        )
        assert got["pop_growth_pct"] == pytest.approx(
            (r["popu_2020"] - r["popu_2010"]) / r["popu_2010"] * 100
        )
        assert got["pop_growth_annual_pct"] == pytest.approx(
            (math.exp(math.log(r["popu_2020"] / r["popu_2010"]) / 10) - 1) * 100
        )
        for a in ("60", "65"):
            if not math.isnan(r[f"age_{a}_2020"]):
                assert got[f"age{a}_change_pp"] == pytest.approx(
                    r[f"age_{a}_2020"] - r[f"age_{a}_2010"]
                )
        if not math.isnan(r["household_2020"]):
            assert got["household_size_2020"] == r["household_2020"]


def test_beijing_numbers_by_hand(measures):
    bj = measures.loc[110100]
    # 19,166,433 urban of 21,893,095 residents (census 2020): 87.5 %
    assert bj["urbanisation_2020"] == pytest.approx(87.546, abs=1e-3)
    assert bj["age65_change_pp"] == pytest.approx(13.3 - 8.7)


def _class_by_hand(p: float) -> str:
    # 国发〔2014〕51号: ≥10 M super-large, 5–10 M mega, 3–5 M large I, 1–3 M large II,
    # 0.5–1 M medium, 0.2–0.5 M small I, <0.2 M small II (lower bound included)
    if p >= 10_000_000:
        return "super"
    if p >= 5_000_000:
        return "mega"
    if p >= 3_000_000:
        return "large_i"
    if p >= 1_000_000:
        return "large_ii"
    if p >= 500_000:
        return "medium"
    if p >= 200_000:
        return "small_i"
    return "small_ii"


@pytest.mark.parametrize(
    ("code", "name", "core_pop", "expected"),
    [
        # 城区人口 from the county table's own rows (Beijing and Shanghai: province rows)
        (110100, "北京市", 17_751_681, "super"),
        (310100, "上海市", 19_873_080, "super"),
        (131000, "廊坊市", 659_566, "medium"),
        (140600, "朔州市", 417_807, "small_i"),
        (231100, "黑河市", 175_427, "small_ii"),
    ],
)
def test_size_class_by_hand(measures, code, name, core_pop, expected):
    row = measures.loc[code]
    assert row["city"] == name
    assert row["urban_core_pop_2020"] == core_pop
    assert _class_by_hand(core_pop) == expected
    assert row["size_class"] == expected
    zh = {c.id: c.name_zh for c in us.SIZE_CLASSES}[expected]
    assert row["size_class_zh"] == zh


def test_super_and_megacities_match_nbs_publication(measures):
    published_super = ["上海市", "北京市", "深圳市", "重庆市", "广州市", "成都市", "天津市"]
    published_mega = ["武汉市", "东莞市", "西安市", "杭州市", "佛山市", "南京市", "沈阳市"]
    published_mega += ["青岛市", "济南市", "长沙市", "哈尔滨市", "郑州市", "昆明市", "大连市"]
    ranked = measures.sort_values("urban_core_pop_2020", ascending=False)
    assert ranked.loc[ranked.size_class == "super", "city"].tolist() == published_super
    assert ranked.loc[ranked.size_class == "mega", "city"].tolist() == published_mega


def test_size_class_boundaries_inclusive_below():
    s = pd.Series([0, 199_999, 200_000, 499_999, 500_000, 1e6, 3e6, 5e6, 1e7, np.nan])
    got = us.city_size_class(s).tolist()
    assert got == ["small_ii", "small_ii", "small_i", "small_i", "medium", "large_ii",
                   "large_i", "mega", "super", None]  # fmt: skip
    assert us.city_size_class(s, lang="en")[8] == "super-large city"
    with pytest.raises(ValueError):
        us.city_size_class(pd.Series([-1.0]))


def test_rank_size_recovers_known_exponent():
    # exact Zipf with q = 1.3: P_r = 1e6 * r^-1.3
    p = pd.Series(1e6 * np.arange(1, 21, dtype=float) ** -1.3)
    fit = us.rank_size_fit(p.sample(frac=1, random_state=1))
    assert fit["zipf_exponent"] == pytest.approx(1.3)
    assert fit["r2"] == pytest.approx(1.0)
    assert math.isnan(us.rank_size_fit(pd.Series([5.0, 3.0]))["zipf_exponent"])
    assert us.primacy(pd.Series([10.0, 5.0, 3.0, 2.0, 1.0])) == {"primacy_2": 2.0, "primacy_4": 1.0}


def test_rank_size_by_province_matches_numpy_polyfit(measures):
    table = us.rank_size_by_province(measures)
    g = measures[measures.province == "广东省"]["pop_2020"].dropna().sort_values(ascending=False)
    slope, _ = np.polyfit(np.log(np.arange(1, len(g) + 1)), np.log(g.to_numpy()), 1)
    assert table.loc["广东省", "zipf_exponent"] == pytest.approx(-slope)
    assert table.loc["广东省", "largest_city"] == "广州市"  # 18.7 M residents, Shenzhen 17.6 M
    assert table.loc["广东省", "primacy_2"] == pytest.approx(g.iloc[0] / g.iloc[1])
    assert math.isnan(table.loc["北京市", "zipf_exponent"])


def test_county_urbanisation(tables):
    _, county = tables
    cu = us.county_urbanisation(county)
    raw = pd.read_csv(shared_data(*COUNTY_CSV))
    raw = raw[raw["区划代码"].notna() & (raw["区划代码"] % 100 != 0)]
    assert len(cu) == len(raw)
    hd = cu.loc[110108]
    assert hd["county"] == "海淀区"
    assert hd["county_urbanisation_2020"] == pytest.approx(3058731 / 3133469 * 100)
    assert hd["age65_2020"] == 13.06
    # county-level cities carry their own 城区人口 and size class: 三河市 628,784 -> medium
    assert cu.loc[131082, "size_class"] == "medium"


def test_land_consumption_ratio():
    # built-up grows 21 %, population 10 %: ln1.21/ln1.1 = 2 exactly
    assert us.land_consumption_ratio(100.0, 121.0, 1000.0, 1100.0) == pytest.approx(2.0)
    assert math.isnan(us.land_consumption_ratio(1.0, 2.0, 5.0, 5.0))
    with pytest.raises(ValueError):
        us.land_consumption_ratio(0.0, 1.0, 1.0, 2.0)


def test_bad_column_named(tmp_path):
    raw = pd.read_csv(shared_data(*CITY_CSV)).drop(columns=["popu_2020"])
    bad = tmp_path / "city.csv"
    raw.to_csv(bad, index=False)
    with pytest.raises(us.CensusTableError, match=r"city\.csv.*'popu_2020'"):
        us.read_city_census(bad)


def test_bad_values_named_with_file_field_value(tmp_path):
    raw = pd.read_csv(shared_data(*CITY_CSV), dtype=str)
    raw.loc[3, "popu_urban_2020"] = "12 万"
    raw.loc[5, "age_65_2020"] = "130"
    raw.loc[6, "city_code"] = "abc"
    bad = tmp_path / "city.csv"
    raw.to_csv(bad, index=False)
    with pytest.raises(us.CensusTableError) as err:
        us.read_city_census(bad)
    msg = str(err.value)
    assert "field 'popu_urban_2020', row 5: value '12 万'" in msg
    assert "field 'age_65_2020', row 7: value '130'" in msg
    assert "field 'city_code', row 8: value 'abc'" in msg


def test_county_bad_value(tmp_path):
    raw = pd.read_csv(shared_data(*COUNTY_CSV), dtype=str)
    raw.loc[10, "城镇人口"] = str(int(raw.loc[10, "人口数_合计"]) + 5)
    bad = tmp_path / "county.csv"
    raw.to_csv(bad, index=False)
    with pytest.raises(us.CensusTableError, match=r"county\.csv: field '城镇人口', row 12"):
        us.read_county_census(bad)


def test_boundaries_map_every_city(tables, measures):
    city, _ = tables
    gdf = us.city_boundaries(city, measures)
    assert len(gdf) == 369 and gdf.geometry.notna().all() and gdf.crs.to_epsg() == 4326
    assert gdf.loc[110100, "size_class"] == "super"
    # Beijing's administrative area is 16,410.54 km² (Beijing municipal government, 北京概况)
    area_km2 = gdf.to_crs(6933).area.loc[110100] / 1e6
    assert area_km2 == pytest.approx(16410.54, rel=0.01)
    assert gdf.loc[110100].geometry.contains(Point(116.397, 39.909))  # Tiananmen


def test_indicator_records(measures):
    recs = {r["id"]: r for r in us.city_indicator_records(measures, 440300)}  # Shenzhen
    assert recs["system.size_class"]["value"] == "super"
    assert recs["system.size_class"]["class_zh"] == "超大城市"
    # Shenzhen 2010 -> 2020 in the table: 10,423,973 -> 17,560,061 residents, +68.46 %
    assert recs["system.pop_growth_pct"]["value"] == pytest.approx(68.458, abs=0.001)
    assert all(r["dimension"] == "system" and r["zh"] and r["en"] for r in recs.values())
    hk = {r["id"]: r for r in us.city_indicator_records(measures, 810000)}
    assert hk["system.urbanisation_2020"]["value"] is None  # no data, never zero
    with pytest.raises(KeyError):
        us.city_indicator_records(measures, 999999)
