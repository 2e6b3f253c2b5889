"""Three rates and on-time closure: NYC 311 against an independent pandas computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from tests.conftest import shared_data

from citycheck.io.errors import InputError
from citycheck.listen.analytics.frames import normalise_orders, order_facts
from citycheck.listen.analytics.rates import (
    load_rate_config,
    rank_table,
    three_rates,
    wilson_interval,
)
from citycheck.listen.analytics.sources import from_nyc311, read_orders

FMT = "%m/%d/%Y %I:%M:%S %p"


@pytest.fixture(scope="module")
def nyc_raw() -> pd.DataFrame:
    return pd.read_csv(shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str)


def _oracle(raw: pd.DataFrame, key: str) -> pd.DataFrame:
    """On-time closure and closure time written directly on the raw export (no library code)."""
    created = pd.to_datetime(raw["Created Date"], format=FMT)
    closed = pd.to_datetime(raw["Closed Date"], format=FMT)
    due = pd.to_datetime(raw["Due Date"], format=FMT)
    as_of = max(created.max(), closed.max())
    late_open = closed.isna() & (due < as_of)
    decided = due.notna() & (closed.notna() | late_open)
    on_time = due.notna() & closed.notna() & (closed <= due)
    hours = (closed - created).dt.total_seconds() / 3600
    hours = hours.where(hours >= 0)
    df = pd.DataFrame(
        {"k": raw[key], "decided": decided, "on_time": on_time & decided, "hours": hours}
    )
    g = df.groupby("k")
    out = pd.DataFrame(
        {
            "n": g["decided"].sum(),
            "on_time": g["on_time"].sum() / g["decided"].sum(),
            "median_h": g["hours"].median(),
            "mean_h": g["hours"].mean(),
            "orders": g.size(),
        }
    )
    return out


@pytest.mark.parametrize(("field", "column"), [("Agency", "unit"), ("Complaint Type", "category")])
@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_nyc_on_time_and_closure_time_match_pandas(nyc_raw, field, column, engine):
    orders = from_nyc311(nyc_raw)
    got = three_rates(orders, by=[column], engine=engine).set_index(column)
    want = _oracle(nyc_raw, field)
    assert sorted(got.index) == sorted(want.index)
    got = got.loc[want.index]
    assert (got["orders"].to_numpy() == want["orders"].to_numpy()).all()
    assert (got["on_time_n"].to_numpy() == want["n"].to_numpy()).all()
    np.testing.assert_allclose(got["on_time"], want["on_time"], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(
        got["closure_hours_median"], want["median_h"], rtol=1e-9, equal_nan=True
    )
    np.testing.assert_allclose(got["closure_hours_mean"], want["mean_h"], rtol=1e-9, equal_nan=True)


def test_nyc_whole_city_numbers(nyc_raw):
    orders = read_orders(shared_data("hotline", "nyc311_2011_sample.csv"))
    city = three_rates(orders, by=[])
    assert int(city["orders"].iloc[0]) == len(nyc_raw) == 2000
    # the export carries no response times: no response rate rather than a false zero
    assert city["response_n"].iloc[0] == 0 and np.isnan(city["response"].iloc[0])
    # NYPD closes fastest of the large agencies in the sample (a fact of the data, re-derived)
    by = three_rates(orders, by=["unit"]).set_index("unit")
    big = by[by["orders"] >= 100]
    assert (
        big["closure_hours_median"].idxmin()
        == _oracle(nyc_raw, "Agency").loc[big.index, "median_h"].idxmin()
    )


@pytest.mark.parametrize(("s", "n"), [(1, 1), (95, 100), (0, 7), (37, 60), (500, 501)])
def test_wilson_matches_scipy(s, n):
    lo, hi = wilson_interval(s, n, 0.95)
    ci = binomtest(s, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert lo == pytest.approx(ci.low, abs=1e-12)
    assert hi == pytest.approx(ci.high, abs=1e-12)


def test_one_of_one_does_not_outrank_95_of_100():
    t0 = pd.Timestamp("2025-03-03 09:00")
    rows = []
    for unit, n, good in (("tiny", 1, 1), ("big", 100, 95)):
        for i in range(n):
            ok = i < good
            rows.append(
                {
                    "order_id": f"{unit}{i}",
                    "requested_at": t0,
                    "category": "road",
                    "unit": unit,
                    "responded_at": t0 + pd.Timedelta(hours=2 if ok else 40),
                    "closed_at": t0 + pd.Timedelta(days=2),
                    "resolution": "resolved" if ok else "unresolved",
                    "score": 5 if ok else 1,
                }
            )
    rates = three_rates(pd.DataFrame(rows), by=["unit"]).set_index("unit")
    # the point estimate puts tiny first; the lower bound does not
    assert rates.loc["tiny", "resolution"] > rates.loc["big", "resolution"]
    for on in ("response", "resolution", "satisfaction", "composite"):
        ranked = rank_table(rates.reset_index(), on=on)
        assert ranked["unit"].tolist() == ["big", "tiny"], on
    assert "Wilson" in ranked.attrs["note"] and "威尔逊" in ranked.attrs["note_zh"]


def test_city_formulas_change_the_rates():
    t0 = pd.Timestamp("2025-03-03 09:00")
    orders = pd.DataFrame(
        {
            "order_id": ["a", "b", "c", "d"],
            "requested_at": [t0] * 4,
            "category": ["x"] * 4,
            "request_type": ["complaint", "complaint", "complaint", "consult"],
            "closed_at": [t0 + pd.Timedelta(days=1)] * 3 + [pd.NaT],
            "resolution": ["resolved", "partly", "unresolved", ""],
            "score": [5, 3, 1, np.nan],
        }
    )
    d = three_rates(orders, by=[], config=load_rate_config("default")).iloc[0]
    j = three_rates(orders, by=[], config=load_rate_config("jungar")).iloc[0]
    # default: 1 of 3 assessed resolved; scores 3..5 satisfied -> 2 of 3
    assert d["resolution"] == pytest.approx(1 / 3) and d["resolution_n"] == 3
    assert d["satisfaction"] == pytest.approx(2 / 3)
    # jungar: consult excluded, partly counts half, score 3 counts half
    assert j["resolution"] == pytest.approx(1.5 / 3) and j["resolution_n"] == 3
    assert j["satisfaction"] == pytest.approx(1.5 / 3)
    cfg = load_rate_config("jungar")
    assert cfg.weights == {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35}


def test_bad_inputs_name_the_field(tmp_path):
    with pytest.raises(InputError, match=r"cities.*nowhere"):
        load_rate_config("nowhere")
    bad = tmp_path / "r.toml"
    bad.write_text('[cities.x]\nresolution_basis = "vibes"\n', encoding="utf-8")
    with pytest.raises(InputError, match="resolution_basis"):
        load_rate_config("x", bad)
    with pytest.raises(InputError, match="score"):
        normalise_orders(
            pd.DataFrame(
                {"order_id": ["1"], "requested_at": ["2025-01-01"], "category": ["x"], "score": [7]}
            )
        )
    with pytest.raises(InputError, match="requested_at"):
        normalise_orders(
            pd.DataFrame({"order_id": ["1"], "requested_at": ["soon"], "category": ["x"]})
        )
    with pytest.raises(InputError, match="category"):
        normalise_orders(pd.DataFrame({"order_id": ["1"], "requested_at": ["2025-01-01"]}))


def test_order_facts_fold_reopen_and_rating():
    t = pd.Timestamp("2025-05-06 08:00")
    h = pd.Timedelta(hours=1)
    ev = pd.DataFrame(
        [
            ("1", "accept", t, "", np.nan, ""),
            ("1", "dispatch", t + h, "u1", np.nan, ""),
            ("1", "sign", t + 2 * h, "u1", np.nan, ""),
            ("1", "close", t + 5 * h, "", np.nan, ""),
            ("1", "callback", t + 6 * h, "", np.nan, "unresolved"),
            ("1", "rate", t + 6 * h, "", 1.0, ""),
            ("1", "reopen", t + 7 * h, "", np.nan, ""),
            ("1", "close", t + 30 * h, "", np.nan, ""),
            ("1", "callback", t + 31 * h, "", np.nan, "resolved"),
            ("1", "rate", t + 31 * h, "", 4.0, ""),
            ("2", "accept", t, "", np.nan, ""),
            ("2", "dispatch", t + h, "u2", np.nan, ""),
            ("2", "contact", t + 3 * h, "u2", np.nan, ""),
            ("2", "close", t + 4 * h, "", np.nan, ""),
            ("2", "reopen", t + 9 * h, "", np.nan, ""),
        ],
        columns=["order_id", "kind", "at", "unit", "score", "resolution"],
    )
    f = order_facts(ev).set_index("order_id")
    assert f.loc["1", "closed_at"] == t + 30 * h and f.loc["1", "score"] == 4
    assert f.loc["1", "resolution"] == "resolved" and f.loc["1", "reopen_count"] == 1
    assert f.loc["1", "responded_at"] == t + 2 * h and f.loc["1", "unit"] == "u1"
    assert pd.isna(f.loc["2", "closed_at"]) and np.isnan(f.loc["2", "score"])
    assert f.loc["2", "responded_at"] == t + 3 * h


@pytest.mark.parametrize("city", ["default", "jungar"])
@pytest.mark.parametrize(
    ("by", "period"), [(["unit"], None), (["category", "area"], "M"), ([], None)]
)
def test_duckdb_sql_engine_equals_pandas_flags(city, by, period):
    """The DuckDB engine computes the per-order flags in SQL; the pandas engine sums
    :func:`order_flags`. Both on a generated log with reopenings, open orders and exclusions."""
    from citycheck.listen.analytics.synthetic import generate_orders

    orders = generate_orders(60_000, n_units=30, seed=3)
    # some orders without a response deadline (the city's default hours apply) and a few
    # closures stamped before the request (data errors)
    orders.loc[orders.index[::7], "respond_due_at"] = pd.NaT
    bad = orders.index[::997]
    orders.loc[bad, "closed_at"] = orders.loc[bad, "requested_at"] - pd.Timedelta(hours=1)
    cfg = load_rate_config(city)
    for as_of in (None, pd.Timestamp("2025-12-30")):
        a = three_rates(orders, by=by, period=period, config=cfg, as_of=as_of, engine="duckdb")
        b = three_rates(orders, by=by, period=period, config=cfg, as_of=as_of, engine="pandas")
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-12)
        assert a["closed_before_requested"].sum() == len(bad)
