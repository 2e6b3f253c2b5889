"""Ranking and weight sensitivity against hand computations and the Beta distribution."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from citycheck.batch.compare import (
    dimension_profiles,
    profiles_from_runs,
    rank_cities,
    weight_sensitivity,
    write_comparison,
)

PROFILES = pd.DataFrame(
    {"livable": [80.0, 90.0, 50.0], "green": [80.0, 64.0, 50.0]}, index=["A", "B", "C"]
)


def test_rank_by_hand():
    table = rank_cities(PROFILES, {"livable": 0.5, "green": 0.5})
    assert table["score"].to_dict() == {"A": 80.0, "B": 77.0, "C": 50.0}
    assert table["rank"].to_dict() == {"A": 1.0, "B": 2.0, "C": 3.0}
    # weight 0.75 on livable: B = 0.75*90 + 0.25*64 = 83.5 > A = 80
    assert rank_cities(PROFILES, {"livable": 3, "green": 1})["rank"]["B"] == 1.0


def test_missing_dimension_renormalises():
    p = PROFILES.copy()
    p.loc["C", "green"] = np.nan
    assert rank_cities(p)["score"]["C"] == 50.0
    p.loc["C", "livable"] = np.nan
    assert np.isnan(rank_cities(p)["score"]["C"])


def test_sensitivity_matches_beta_cdf():
    # with two dimensions the livable weight is Beta(c/2, c/2); A keeps rank 1 iff
    # 80 > 64 + 26 w  <=>  w < 16/26
    c = 10.0
    table = weight_sensitivity(PROFILES, n_draws=20000, concentration=c, seed=3)
    expected = stats.beta.cdf(16 / 26, c / 2, c / 2)
    assert table.loc["A", "keep_rank_share"] == pytest.approx(expected, abs=0.01)
    assert table.loc["B", "keep_rank_share"] == pytest.approx(expected, abs=0.01)
    assert table.loc["C", "keep_rank_share"] == 1.0  # dominated on every dimension
    assert table.loc["C", "rank_p05"] == table.loc["C", "rank_p95"] == 3.0
    again = weight_sensitivity(PROFILES, n_draws=20000, concentration=c, seed=3)
    pd.testing.assert_frame_equal(table, again)


def test_bad_weights():
    with pytest.raises(ValueError, match="unknown dimension"):
        rank_cities(PROFILES, {"livabel": 1.0})
    # a catalogue dimension without scores is unused, not an error
    assert rank_cities(PROFILES, {"livable": 1, "green": 1, "safe": 5})["score"]["B"] == 77.0
    with pytest.raises(ValueError, match="non-negative"):
        rank_cities(PROFILES, {"livable": -1.0, "green": 2.0})


def test_profiles_from_runs_and_write(tmp_path):
    runs = {}
    for city, (liv, grn) in zip(PROFILES.index, PROFILES.to_numpy(), strict=True):
        d = tmp_path / city
        d.mkdir()
        doc = {
            "indicators": [],
            "scores": {"dimensions": {"livable": liv, "green": {"score": grn}}},
        }
        (d / "results.json").write_text(json.dumps(doc), "utf-8")
        runs[city] = d
    profiles = profiles_from_runs(runs)
    pd.testing.assert_frame_equal(profiles, PROFILES[["green", "livable"]], check_names=False)
    table = write_comparison(tmp_path / "cmp", profiles, n_draws=200)
    assert list(table.index) == ["A", "B", "C"]
    written = pd.read_csv(tmp_path / "cmp" / "comparison.csv", index_col="city")
    assert written.loc["B", "rank"] == 2
    long = dimension_profiles(profiles)
    assert long.set_index(["city", "dimension"]).loc[("B", "livable"), "rank_in_dimension"] == 1
    meta = json.loads((tmp_path / "cmp" / "comparison.json").read_text("utf-8"))
    assert meta["columns"]["rank"] == {"zh": "排名", "en": "rank"}
    (tmp_path / "A" / "results.json").write_text("{oops", "utf-8")
    with pytest.raises(ValueError, match=r"A/results\.json"):
        profiles_from_runs(runs)
