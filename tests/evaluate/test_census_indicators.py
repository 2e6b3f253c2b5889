"""The census measures of the urban system as catalogue indicators U07–U15 of a study area.

Oracle: the raw census CSVs re-read with plain pandas (``csv`` text, no citycheck reader) and each
value recomputed by hand; the grade of U07 by hand against its 60 % target; the system dimension
score recomputed from the run's own graded values.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from citycheck.evaluate import urban_system as us
from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.census_indicators import (
    CENSUS_INDICATORS,
    census_system_values,
    city_code_for,
)
from citycheck.io.errors import InputError
from citycheck.pipeline import run_check
from conftest import shared_data

CITY_CSV = ("census", "china_city_census_2010_2020.csv")
COUNTY_CSV = ("census", "china_county_census_2020.csv")


@pytest.fixture(scope="module")
def raw():
    city = pd.read_csv(shared_data(*CITY_CSV), encoding="utf-8-sig").set_index("city_code")
    county = pd.read_csv(shared_data(*COUNTY_CSV), encoding="utf-8-sig")
    county = county[county["区划代码"].notna()].set_index(county["区划代码"].dropna().astype(int))
    return city, county


@pytest.fixture(scope="module")
def tables():
    return us.read_city_census(shared_data(*CITY_CSV)), us.read_county_census(
        shared_data(*COUNTY_CSV)
    )


def _by_hand(raw, city_code: int, county_code: int) -> dict[str, float]:
    city, county = raw
    c = city.loc[city_code]
    # 城区人口 stands on the city's own row; for the four municipalities on the province row
    core = county.loc[county.index == city_code, "城区人口"].astype(float)
    if core.isna().all():
        core = county.loc[county.index == city_code // 10000 * 10000, "城区人口"].astype(float)
    return {
        "U07": 100 * c["popu_urban_2020"] / c["popu_2020"],
        "U08": 100 * c["popu_urban_2020"] / c["popu_2020"]
        - 100 * c["popu_urban_2010"] / c["popu_2010"],
        "U09": 100 * ((c["popu_2020"] / c["popu_2010"]) ** 0.1 - 1),
        "U10": c["age_60_2020"],
        "U11": c["age_65_2020"],
        "U12": c["age_65_2020"] - c["age_65_2010"],
        "U13": c["household_2020"],
        "U14": float(core.iloc[0]),
        "U15": 100 * county.at[county_code, "城镇人口"] / county.at[county_code, "人口数_合计"],
    }


def test_catalogue_declares_every_census_indicator():
    cat = catalogue()
    for iid in [*CENSUS_INDICATORS, "U15"]:
        ind = cat[iid]
        assert ind.compute == "census" and ind.dimension == "system"
        assert ind.zh and ind.en and ind.unit and ind.source
    # only the urbanisation rate has a published target; the others are reported, not graded
    assert [i for i in [*CENSUS_INDICATORS, "U15"] if cat[i].graded] == ["U07"]


@pytest.mark.parametrize(
    ("adcode", "city_code"),
    [("110108", 110100), ("440305", 440300), ("130181", 130100), ("321002", 321000)],
)
def test_values_against_raw_csv(tables, raw, adcode, city_code):
    got = census_system_values(*tables, adcode)
    values = dict(zip(got.values["indicator"], got.values["value"], strict=True))
    want = _by_hand(raw, city_code, int(adcode))
    assert set(values) == set(want)
    for iid, value in want.items():
        assert values[iid] == pytest.approx(value, rel=1e-9), iid
    assert got.meta["city_code"] == city_code
    assert got.meta["city"] == raw[0].at[city_code, "city"]


def test_size_class_meta_beijing(tables):
    meta = census_system_values(*tables, "110108").meta
    assert (meta["size_class"], meta["size_class_zh"], meta["county"]) == (
        "super",
        "超大城市",
        "海淀区",
    )


def test_unknown_code_named(tables):
    with pytest.raises(KeyError, match="990101"):
        census_system_values(*tables, "990101")
    assert city_code_for("429004", pd.Index([429004, 420100])) == 429004


def test_run_check_emits_and_scores_census_indicators(tmp_path, raw):
    pbf = shared_data("osm", "beijing-haidian-bupt.osm.pbf")
    county = shared_data(*COUNTY_CSV)
    out = run_check(pbf, out_dir=tmp_path / "bupt", adcode="110108", census=county)
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    rows = {i["id"]: i for i in doc["indicators"] if i["id"] in catalogue()}
    want = _by_hand(raw, 110100, 110108)
    for iid, value in want.items():
        assert rows[iid]["value"] == pytest.approx(value, rel=1e-9), iid
    # U07 by hand against its 60 % target (Beijing 2020: 87.5 %)
    assert rows["U07"]["grade"] == ("pass" if want["U07"] >= 60 else "fail") == "pass"
    assert all(rows[i]["grade"] == "info" for i in want if i != "U07")
    assert doc["study_area"]["census"]["urban_system"]["size_class_en"] == "super-large city"
    assert "census_city" in {r["role"] for r in doc["inputs"]}
    # the system dimension score is the mean of its graded, non-red-line district values
    graded = [
        i["normalised"]
        for i in doc["indicators"]
        if i["dimension"] == "system"
        and i["level"] == "district"
        and i["grade"] not in ("info", "no data")
        and not i.get("red_line")
        and i["normalised"] is not None
        and not math.isnan(i["normalised"])
    ]
    dims = doc["scores"]["dimensions"]
    system = [d for d in dims if d["dimension"] == "system" and d["level"] == "district"]
    assert system and system[0]["score"] == pytest.approx(sum(graded) / len(graded))
    assert rows["U07"]["normalised"] in graded


def test_without_census_reason_given(tmp_path):
    pbf = shared_data("osm", "beijing-haidian-bupt.osm.pbf")
    out = run_check(pbf, out_dir=tmp_path / "r", population=3000)
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert "--census" in doc["not_computed"]["U07"]


def test_bad_city_table_named(tmp_path):
    pbf = shared_data("osm", "beijing-haidian-bupt.osm.pbf")
    bad = tmp_path / "city.csv"
    bad.write_text("city,city_code\n北京市,110100\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"city\.csv") as err:
        run_check(
            pbf,
            out_dir=tmp_path / "r",
            adcode="110108",
            census=shared_data(*COUNTY_CSV),
            city_census=bad,
        )
    assert "popu_2020" in str(err.value)
    assert not (tmp_path / "r").exists()
