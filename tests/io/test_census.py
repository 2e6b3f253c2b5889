"""The 7th-census county table."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import shared_data

from citycheck.io.census import county_record, read_county_census
from citycheck.io.errors import InputError, InputProblems


@pytest.fixture(scope="module")
def county_table():
    return read_county_census(shared_data("census", "china_county_census_2020.csv"))


def test_haidian(county_table):
    rec = county_record(county_table, "110108")
    assert rec["county"] == "海淀区"
    assert rec["population"] == 3_133_469  # shared/data/README.md
    assert rec["share_65plus_pct"] == pytest.approx(13.06)


def test_every_code_six_digits(county_table):
    assert county_table["adcode"].str.fullmatch(r"\d{6}").all()
    assert county_table.index.is_unique
    assert len(county_table) > 3000


def test_unknown_code(county_table):
    with pytest.raises(InputError, match="999999"):
        county_record(county_table, "999999")


def test_text_in_number_column(tmp_path):
    src = pd.read_csv(shared_data("census", "china_county_census_2020.csv"), dtype=str, nrows=5)
    src.loc[2, "人口数_合计"] = "about 3 million"
    bad = tmp_path / "bad.csv"
    src.to_csv(bad, index=False)
    with pytest.raises(InputProblems) as err:
        read_county_census(bad)
    text = str(err.value)
    assert "bad.csv" in text and "row 4" in text and "population" in text
    assert "about 3 million" in text


def test_missing_column(tmp_path):
    src = pd.read_csv(shared_data("census", "china_county_census_2020.csv"), nrows=3)
    src = src.drop(columns=["人口数_合计"])
    bad = tmp_path / "nocol.csv"
    src.to_csv(bad, index=False)
    with pytest.raises(InputProblems, match="人口数_合计"):
        read_county_census(bad)
