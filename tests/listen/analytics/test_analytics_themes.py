"""Recurring themes on the real Chinese messages: by month and category, with evidence."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import shared_data

from citycheck.listen.analytics.sources import from_cn_messages
from citycheck.listen.analytics.themes import find_themes


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)


@pytest.fixture(scope="module")
def found(raw):
    return find_themes(from_cn_messages(raw))


def test_recurring_themes_across_months_places_and_categories(found, raw):
    t = found.themes
    rec = t[t["recurring"]]
    assert len(rec) >= 8
    assert rec["category"].nunique() >= 5
    assert (rec["months"] >= 2).all() and (rec["places"] >= 2).all()
    # every theme sits in one category of the source's own labels
    label = raw.set_index("留言编号")["一级分类"]
    for _, r in t.iterrows():
        assert set(label.loc[r["order_ids"]]) == {r["category"]}


def test_evidence_is_true_of_the_orders(found, raw):
    text = raw.set_index("留言编号")
    text = text["留言主题"].fillna("") + "。" + text["留言详情"].fillna("")
    when = pd.to_datetime(raw.set_index("留言编号")["留言时间"]).dt.to_period("M")
    for _, r in found.themes.iterrows():
        ids = r["order_ids"]
        # the leading term is written in most of the theme's messages
        share = text.loc[ids].str.contains(r["terms"][0], regex=False).mean()
        assert share >= 0.6, (r["terms"], share)
        # the trend by month is the theme's orders counted by their own dates
        trend = found.by_month[found.by_month["theme"] == r["theme"]].set_index("month")["orders"]
        assert trend.to_dict() == when.loc[ids].value_counts().to_dict()
        assert r["months"] == len(trend) and trend.sum() == r["orders"]
        assert len(r["examples"]) == min(3, r["orders"])


def test_property_management_is_a_recurring_theme(found):
    t = found.themes
    prop = t[
        t["terms"].map(lambda ts: any("物业" in x for x in ts)) & (t["category"] == "城乡建设")
    ]
    assert len(prop) == 1 and bool(prop["recurring"].iloc[0])


def test_text_alone_recovers_the_categories(raw):
    """Clustering without the category agrees with the source's labels (cluster purity)."""
    orders = from_cn_messages(raw)
    themes = find_themes(orders, category=None)
    a = themes.assignment
    m = a >= 0
    table = pd.crosstab(a[m], orders.loc[m, "category"])
    purity = table.max(axis=1).sum() / m.sum()
    assert purity >= 0.75
    assert len(table) >= 10
