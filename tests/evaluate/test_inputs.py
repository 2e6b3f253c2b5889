"""The input template and the validation of filled-in tables."""

from __future__ import annotations

import pandas as pd
import pytest

from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.inputs import TEMPLATE_COLUMNS, read_inputs, template_frame
from citycheck.io.errors import InputProblems


def test_template_lists_every_x_indicator_bilingual():
    t = template_frame()
    assert list(t.columns) == list(TEMPLATE_COLUMNS.values())
    ids = set(t[TEMPLATE_COLUMNS["indicator"]])
    want = {i.id for i in catalogue().values() if i.compute in ("input", "hotline")}
    assert ids == want
    assert t[TEMPLATE_COLUMNS["value"]].isna().all()
    assert "indicator_id 指标编号" in t.columns and "value 数值" in t.columns


def test_round_trip_csv_and_excel(tmp_path):
    t = template_frame()
    vcol, icol = TEMPLATE_COLUMNS["value"], TEMPLATE_COLUMNS["indicator"]
    t.loc[t[icol] == "G06", vcol] = "88.2"
    t.loc[t[icol] == "Z01", vcol] = "97%"
    csv = tmp_path / "in.csv"
    t.to_csv(csv, index=False, encoding="utf-8-sig")
    got = read_inputs(csv).set_index("indicator")["value"]
    assert got.to_dict() == {"G06": 88.2, "Z01": 97.0}  # blanks are no data, not zero
    xlsx = tmp_path / "in.xlsx"
    t.to_excel(xlsx, index=False)
    assert read_inputs(xlsx).set_index("indicator")["value"].to_dict() == got.to_dict()


def test_every_problem_reported_with_row(tmp_path):
    rows = pd.DataFrame(
        {
            "indicator_id 指标编号": ["G06", "NOPE", "G06b", "L12", "G08", "G06", "G09"],
            "level 层级": ["district"] * 7,
            "value 数值": ["88", "1", "lots", "9", "120", "87", ""],
            "unit 单位": ["%", "%", "µg/m³", "km/km²", "%", "%", "%"],
        }
    )
    rows.loc[4, "unit 单位"] = "%"
    path = tmp_path / "bad.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(InputProblems) as err:
        read_inputs(path)
    text = str(err.value)
    assert "bad.csv" in text
    assert "row 3" in text and "NOPE" in text  # unknown id
    assert "row 4" in text and "lots" in text  # text in a number column
    assert "row 5" in text and "computed from OSM" in text  # L12 cannot be entered
    assert "row 6" in text and "0–100" in text  # 120 %
    assert "row 7" in text and "duplicate of row 2" in text
    assert len(err.value.problems) == 5


def test_wrong_unit(tmp_path):
    path = tmp_path / "unit.csv"
    pd.DataFrame({"indicator_id": ["G06b"], "value": ["0.035"], "unit": ["mg/m³"]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputProblems, match="µg/m³"):
        read_inputs(path)


def test_template_names_units_and_data_in_both_languages():
    """Issue 16: the template shows each indicator's unit and the data it needs in Chinese too."""
    t = template_frame().set_index(TEMPLATE_COLUMNS["indicator"])
    cat = catalogue()
    for iid, row in t.iterrows():
        assert row[TEMPLATE_COLUMNS["unit_zh"]] == cat[iid].unit_text("zh")
        assert row[TEMPLATE_COLUMNS["inputs_zh"]] == cat[iid].inputs_zh
        assert row[TEMPLATE_COLUMNS["inputs"]] == cat[iid].inputs
    assert "比值" in set(t[TEMPLATE_COLUMNS["unit_zh"]])
