"""The catalogue contract: every entry is complete, consistent and computable or enterable."""

from __future__ import annotations

import copy
import re

import pytest

from citycheck.city import LEVELS
from citycheck.evaluate.catalogue import (
    DIMENSIONS,
    _read_raw,
    catalogue,
    dimensions,
    load_catalogue,
)
from citycheck.evaluate.indicators import REGISTRY

CAT = catalogue()


def test_seven_dimensions_four_levels():
    assert set(dimensions()) == set(DIMENSIONS)
    assert {i.dimension for i in CAT.values()} == set(DIMENSIONS)
    assert {lv for i in CAT.values() for lv in i.levels} == set(LEVELS)


def test_starting_catalogue_covered():
    """Every id of shared/indicators.md is declared."""
    ids = ["U01", "U02", "U03", "U04", "U05", "U06", "V01", "V02", "V03"]
    ids += [f"L{n:02d}" for n in range(1, 20)] + [f"G{n:02d}" for n in range(1, 10)]
    ids += [f"S{n:02d}" for n in range(1, 8)] + [f"C{n:02d}" for n in range(1, 6)]
    ids += [f"Z{n:02d}" for n in range(1, 6)]
    assert not set(ids) - set(CAT)


@pytest.mark.parametrize("iid", list(CAT))
def test_entry_contract(iid):
    ind = CAT[iid]
    assert ind.zh and ind.en and ind.zh != ind.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in ind.zh), "Chinese name needs Chinese"
    assert ind.unit and ind.formula and len(ind.source) > 3
    if ind.compute == "builtin":
        assert iid in REGISTRY, f"{iid} is declared builtin but has no function"
        assert REGISTRY[iid].per_unit is not None
    elif ind.compute == "input":
        assert iid not in REGISTRY
    else:  # walking-network, census and hotline indicators: registered computations too
        assert iid in REGISTRY and REGISTRY[iid].per_unit is None
    # grading is monotone in the declared direction
    if ind.graded and ind.direction != "target":
        lo, hi = sorted(ind.goalposts)
        g_lo, g_hi = ind.grade(lo - 1e6), ind.grade(hi + 1e6)
        assert (g_hi, g_lo) == (("pass", "fail") if ind.direction == "up" else ("fail", "pass"))
    if ind.direction == "target" and ind.graded:
        lo, hi = ind.pass_
        assert ind.grade((lo + hi) / 2) == "pass"
        assert ind.grade(ind.goalposts[0] - 1) == "fail"
    # normalisation lies in 0–100 and rewards the better direction
    w, b = ind.goalposts[0], ind.goalposts[1]
    assert ind.normalise(w) == pytest.approx(0.0)
    assert ind.normalise(b) == pytest.approx(100.0)
    assert ind.grade(float("nan")) == "no data"


def test_validation_collects_every_problem():
    raw = copy.deepcopy(_read_raw())
    raw["indicators"]["L12"]["warning"] = 20  # warning above pass for 'up'
    raw["indicators"]["U02"]["pass"] = [115, 65]  # unordered band
    raw["indicators"]["G06"].pop("inputs")  # X without inputs
    with pytest.raises(ValueError) as err:
        load_catalogue(raw)
    text = str(err.value)
    assert "indicators.L12" in text and "indicators.U02" in text and "indicators.G06" in text


def test_red_lines_declared():
    assert {i.id for i in CAT.values() if i.red_line} >= {"U04", "S01"}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("iid", list(CAT))
def test_every_text_in_both_languages(iid):
    """Issue 16: formula, source, inputs and a worded unit have their Chinese, and it is Chinese."""
    ind = CAT[iid]
    assert ind.formula_text("en") == ind.formula and ind.source_text("en") == ind.source
    assert _has_chinese(ind.formula_text("zh")), ind.formula_zh
    assert ind.source_text("zh") != ind.source or _has_chinese(ind.source)
    assert len(ind.source_text("zh")) > 3
    if ind.inputs:
        assert _has_chinese(ind.inputs_text("zh") or ""), ind.inputs_zh
    else:
        assert ind.inputs_text("zh") is None
    unit_zh = ind.unit_text("zh")
    assert not any(len(w) >= 3 for w in re.findall(r"[A-Za-z]+", unit_zh)), unit_zh
    assert ind.unit_text("en") == ind.unit
    assert "warning" not in ind.threshold_text("zh")


def test_a_missing_chinese_text_names_the_indicator_and_field():
    raw = copy.deepcopy(_read_raw())
    raw["indicators"]["L12"].pop("formula_zh")
    raw["indicators"]["U02"].pop("source_zh")
    raw["indicators"]["G06"].pop("inputs_zh")
    raw["indicators"]["V02"].pop("unit_zh")
    raw["indicators"]["L01"]["formula_zh"] = "residential buildings with every facility"
    with pytest.raises(ValueError) as err:
        load_catalogue(raw)
    lines = str(err.value).splitlines()[1:]
    assert len(lines) == 5, lines

    def line(iid: str) -> str:
        return next(x for x in lines if f"indicators.{iid}." in x)

    assert "indicators.L12.formula_zh" in line("L12")
    assert "indicators.U02.source_zh" in line("U02")
    assert "inputs_zh" in line("G06")
    assert "unit_zh" in line("V02") and "'count'" in line("V02")
    assert "formula_zh" in line("L01") and "English" in line("L01")


def test_facility_categories_cite_in_both_languages():
    """Issue 16: categories.toml's citations (walking limits) have their Chinese too."""
    from citycheck.categories import categories

    english_run = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t,;:()/&+]+[A-Za-z][A-Za-z'’-]*){2,}")
    for cat in categories().values():
        assert cat.source_text("en") == cat.source
        assert _has_chinese(cat.source_text("zh")), cat.id
        assert not english_run.search(cat.source_zh), (cat.id, cat.source_zh)
