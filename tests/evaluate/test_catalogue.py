"""The catalogue contract: every entry is complete, consistent and computable or enterable."""

from __future__ import annotations

import copy

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
