"""`citycheck hotline stats`: terminal tables and a CSV/Excel export of every table."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import shared_data
from typer.testing import CliRunner

from citycheck.cli.hotline_stats import stats_app
from citycheck.listen.analytics.export import export_tables
from citycheck.listen.analytics.rates import three_rates
from citycheck.listen.analytics.sources import read_orders


def test_stats_on_nyc_prints_and_exports_excel(tmp_path):
    src = shared_data("hotline", "nyc311_2011_sample.csv")
    out = tmp_path / "nyc.xlsx"
    res = CliRunner().invoke(
        stats_app, [str(src), "--by", "unit", "--out", str(out), "--quiet"], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    assert "2,000 orders" in res.output and "NYPD" in res.output and "威尔逊" in res.output
    book = pd.read_excel(out, sheet_name=None)
    assert {"rates", "hotspots", "themes"} <= set(book)
    rates = book["rates"].set_index("承办单位 unit")
    want = three_rates(read_orders(src), by=["unit"]).set_index("unit")
    for unit in want.index:
        assert rates.loc[unit, "工单数 orders"] == want.loc[unit, "orders"]
        got = rates.loc[unit, "按期办结率 on-time closure rate"]
        assert (pd.isna(got) and pd.isna(want.loc[unit, "on_time"])) or got == pytest.approx(
            want.loc[unit, "on_time"]
        )
    # the export is ranked on the lower bound, best first
    lo = rates["按期办结率下限 on-time closure rate lower"].dropna()
    assert lo.is_monotonic_decreasing


def test_stats_on_messages_exports_csv_folder(tmp_path):
    src = shared_data("hotline", "cn_messages_labelled.csv")
    res = CliRunner().invoke(
        stats_app, [str(src), "--by", "category", "--out", str(tmp_path / "t"), "--quiet"]
    )
    assert res.exit_code == 0, res.output
    themes = pd.read_csv(tmp_path / "t" / "themes.csv", encoding="utf-8-sig")
    assert themes["反复出现 recurring"].sum() >= 8
    months = pd.read_csv(tmp_path / "t" / "theme_months.csv", encoding="utf-8-sig")
    assert months["工单数 orders"].sum() == themes["工单数 orders"].sum()


def test_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(stats_app, [str(bad), "--quiet"])
    assert res.exit_code == 2 and "x.csv" in res.output and "header" in res.output


def test_export_refuses_other_suffixes(tmp_path):
    with pytest.raises(ValueError, match="xlsx"):
        export_tables({"a": pd.DataFrame({"x": [1]})}, tmp_path / "a.json")
