"""A generated log with a planted surge and intervention: the analytics find what was put in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citycheck.listen.analytics.frames import order_facts
from citycheck.listen.analytics.rates import rank_table, three_rates
from citycheck.listen.analytics.synthetic import Plant, events_from_orders, generate_orders
from citycheck.listen.analytics.trends import before_after, repeat_callers, surges

PLANT = Plant()


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return generate_orders(120_000, plant=PLANT, seed=7)


def test_planted_surge_is_the_strongest(log):
    found = surges(log, by="category", freq="W", extra_keys=["area"])
    top = found.iloc[0]
    assert (top["category"], top["area"]) == (PLANT.surge_category, PLANT.surge_area)
    assert top["period"] == pd.Timestamp(PLANT.surge_start)  # a Monday: the planted week
    # the ratio is near the planted factor (x8 on a seasonal baseline)
    assert 4 < top["ratio"] < 16
    assert top["z"] > 1.5 * found["z"].iloc[1]
    # waterlogging peaks in July: a seasonal-baseline method must not call every July a surge
    july = found[(found["category"] == "waterlogging") & (found["period"].dt.month == 7)]
    assert len(july) <= 2


def test_no_surge_without_a_plant():
    quiet = generate_orders(120_000, plant=Plant(surge_factor=1.0, intervention_factor=1.0), seed=7)
    found = surges(quiet, by="category", freq="W")
    assert found.empty or found["z"].max() < 6


def test_fall_after_intervention_is_measured(log):
    res = before_after(log, PLANT.intervention_date, mask=log["category"] == "parking", weeks=8)
    assert res["fell"]
    assert res["adjusted_lo"] < PLANT.intervention_factor < res["adjusted_hi"]
    assert res["adjusted_hi"] < 0.7
    control = before_after(log, PLANT.intervention_date, mask=log["category"] == "property")
    assert not control["fell"]
    assert control["adjusted_lo"] < 1 < control["adjusted_hi"]


def _unit_orders(unit: str, n: int, good: int, t0: pd.Timestamp) -> pd.DataFrame:
    ok = np.arange(n) < good
    return pd.DataFrame(
        {
            "order_id": [f"{unit}-{i}" for i in range(n)],
            "requested_at": t0 + pd.to_timedelta(np.arange(n), unit="h"),
            "category": "road",
            "unit": unit,
            "area": "D0",
            "responded_at": t0 + pd.to_timedelta(np.arange(n) + 1, unit="h"),
            "closed_at": t0 + pd.to_timedelta(np.arange(n) + 30, unit="h"),
            "due_at": t0 + pd.Timedelta(days=9),
            "resolution": np.where(ok, "resolved", "unresolved"),
            "score": np.where(ok, 5.0, 1.0),
        }
    )


def test_small_sample_does_not_top_the_ranking(log):
    t0 = pd.Timestamp("2025-04-01 09:00")
    orders = pd.concat(
        [log, _unit_orders("TINY", 1, 1, t0), _unit_orders("BIG", 100, 95, t0)],
        ignore_index=True,
    )
    rates = three_rates(orders, by=["unit"])
    by = rates.set_index("unit")
    assert by.loc["TINY", "resolution"] == 1.0 == by["resolution"].max()
    ranked = rank_table(rates, on="resolution").set_index("unit")
    assert ranked.loc["BIG", "rank"] < ranked.loc["TINY", "rank"]
    assert by.loc["TINY", "resolution_lo"] < 0.25 < 0.85 < by.loc["BIG", "resolution_lo"]


def test_rates_from_the_event_log_equal_rates_from_orders(log):
    sample = log.sample(20_000, random_state=3)
    events = events_from_orders(sample)
    facts = order_facts(events)
    deadlines = sample[["order_id", "category", "area", "respond_due_at", "due_at"]]
    from_log = facts.merge(deadlines, on="order_id")
    a = three_rates(from_log, by=["unit", "category"]).sort_values(["unit", "category"])
    b = three_rates(sample, by=["unit", "category"]).sort_values(["unit", "category"])
    cols = ["orders", "response", "resolution", "satisfaction", "on_time", "closure_hours_mean"]
    np.testing.assert_allclose(
        a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-9, equal_nan=True
    )
    # reopened orders are folded: a first dissatisfied rating does not count
    assert (facts["reopen_count"] > 0).any()
    assert (facts.loc[facts["reopen_count"] > 0, "score"].dropna() >= 1).all()


def test_by_period_sums_to_the_whole(log):
    monthly = three_rates(log, by=["area"], period="M")
    whole = three_rates(log, by=["area"]).set_index("area")
    back = monthly.groupby("area")[["orders", "satisfaction_n"]].sum()
    assert (back["orders"] == whole["orders"]).all()
    assert (back["satisfaction_n"] == whole["satisfaction_n"]).all()


def test_repeat_callers_have_evidence(log):
    rep = repeat_callers(log, min_orders=3)
    assert len(rep)
    row = rep.iloc[0]
    ids = set(row["order_ids"])
    mine = log[(log["requester"] == row["requester"]) & (log["category"] == row["category"])]
    assert ids == set(mine["order_id"]) and row["orders"] == len(mine)


def test_period_counts_equal_crosstab_on_nyc():
    """Counting on integer codes gives pandas' crosstab of the raw export's weeks and months."""
    from tests.conftest import shared_data

    from citycheck.listen.analytics.sources import from_nyc311
    from citycheck.listen.analytics.trends import period_counts

    raw = pd.read_csv(shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str)
    orders = from_nyc311(raw)
    created = pd.to_datetime(raw["Created Date"], format="%m/%d/%Y %I:%M:%S %p")
    for freq, rule, start in (("W", "W-MON", "W-SUN"), ("M", "MS", "M")):
        got = period_counts(orders, "unit", freq)
        key = created.dt.to_period(start).dt.start_time
        want = pd.crosstab(key, raw["Agency"])
        want = want.reindex(pd.date_range(want.index.min(), want.index.max(), freq=rule),
                            fill_value=0)  # fmt: skip
        assert list(got.columns) == sorted(want.columns)
        assert (got.index == want.index).all()
        assert (got.to_numpy() == want[sorted(want.columns)].to_numpy()).all()


def test_surges_without_a_surge_keep_the_key_columns():
    quiet = generate_orders(20_000, plant=Plant(surge_factor=1.0, intervention_factor=1.0), seed=2)
    found = surges(quiet, by="category", freq="W", extra_keys=["area"], alpha=1e-12)
    assert found.empty
    assert list(found.columns[:2]) == ["category", "area"]
