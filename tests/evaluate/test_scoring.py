"""Grades, normalisation, vetoes, sensitivity and the problem list."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from citycheck.evaluate.catalogue import indicator
from citycheck.evaluate.diagnosis import problem_list
from citycheck.evaluate.scoring import grade_values, score, sensitivity


def _values(rows):
    return pd.DataFrame(rows, columns=["indicator", "level", "unit_id", "value"])


def test_grades_and_goalposts_fixed():
    ind = indicator("L12")  # ≥ 8 pass, ≥ 6 warning, goalposts 0–10
    assert [ind.grade(v) for v in (8, 7.9, 6, 5.9)] == ["pass", "warning", "warning", "fail"]
    assert ind.normalise(5) == 50 and ind.normalise(20) == 100 and ind.normalise(-3) == 0
    down = indicator("S07")  # ≤ 0 pass, ≤ 2 warning
    assert [down.grade(v) for v in (0, 1, 3)] == ["pass", "warning", "fail"]
    band = indicator("U02")  # 65–115, warning 55–130
    assert [band.grade(v) for v in (90, 60, 125, 140)] == ["pass", "warning", "warning", "fail"]
    assert band.gap(140) == 25 and band.gap(50) == 15 and band.gap(100) == 0


def test_no_data_is_not_zero():
    g = grade_values(
        _values([("G06", "district", "district", math.nan), ("L12", "district", "district", 9.0)])
    )
    assert g.set_index("indicator").loc["G06", "grade"] == "no data"
    s = score(g)
    # the green dimension has no data: it is absent, not a zero pulling the score down
    dims = s.dimensions.set_index("dimension")
    assert "green" not in dims.index
    assert s.overall.iloc[0]["score"] == pytest.approx(90.0)


def test_red_line_vetoes():
    rows = [
        ("U04", "district", "district", 3.0),  # red line, fails
        ("L12", "district", "district", 10.0),
        ("G05", "district", "district", 60.0),
    ]
    s = score(grade_values(_values(rows)))
    overall = s.overall.iloc[0]
    assert overall["score"] == pytest.approx(100.0)  # vetoes are not averaged in …
    assert overall["grade"] == "fail" and overall["vetoed_by"] == "U04"  # … they veto


def test_dimension_weights_change_score():
    rows = [("L12", "district", "district", 10.0), ("G05", "district", "district", 0.0)]
    g = grade_values(_values(rows))
    eq = score(g).overall.iloc[0]["score"]
    w = {d: 0.0 for d in ("system", "vibrant", "safe", "civilized", "smart")}
    w.update({"livable": 0.8, "green": 0.2})
    weighted = score(g, dimension_weights=w).overall.iloc[0]["score"]
    assert eq == pytest.approx(50.0) and weighted == pytest.approx(80.0)
    with pytest.raises(ValueError, match="sum to 1"):
        score(g, dimension_weights={"livable": 0.5})


def test_sensitivity_reports_stability():
    rows = []
    for uid, (l12, g05) in {"a": (10.0, 60.0), "b": (5.0, 30.0), "c": (10.0, 20.0)}.items():
        rows += [("L12", "neighbourhood", uid, l12), ("G05", "neighbourhood", uid, g05)]
    s = score(grade_values(_values(rows)))
    res = sensitivity(s, level="neighbourhood", draws=500)
    units = res["units"]
    assert units["a"]["share_same_rank"] == 1.0  # best on both: always first
    assert units["a"]["share_same_grade"] == 1.0
    assert 0 < units["c"]["share_same_grade"] < 1  # c (100 vs 33: 66.7) flips with the weights
    assert units["c"]["score_p05"] < units["c"]["score_p95"]


def test_problem_list_worst_units():
    rows = [("L12", "district", "district", 7.0)]
    rows += [("L12", "neighbourhood", f"b{i}", v) for i, v in enumerate([9, 2, 4, 12, 1])]
    rows += [("G05", "district", "district", 50.0), ("G05", "neighbourhood", "b0", 10.0)]
    rows += [("S07", "district", "district", 0.0)]
    probs = problem_list(grade_values(_values(rows)), worst_n=2).set_index("indicator")
    assert set(probs.index) == {"L12", "G05"}
    assert probs.loc["L12", "scope"] == "local"  # district only warns, some blocks fail
    assert [u["unit_id"] for u in probs.loc["L12", "worst_units"]] == ["b4", "b1"]
    assert probs.loc["L12", "units_failing"] == 3
    assert probs.loc["G05", "worst_units"] == [{"unit_id": "b0", "value": 10.0}]
