"""The hotline store feeds the same analytics: frames from a live store, rates by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from citycheck.listen.analytics.rates import three_rates
from citycheck.listen.analytics.store_adapter import frames_from_store
from citycheck.listen.domain import EventKind
from citycheck.listen.store import Intake, Staff

DISPATCHER = Staff("d1", "dispatcher", None)
SUPERVISOR = Staff("s1", "supervisor", None)
NE = Staff("ne", "unit", "jd_ne")
LAT, LON = 39.97, 116.36  # inside the demo jd_ne square


def _close(h, oid, at, score=None, unit=NE):
    h.act(oid, EventKind.SIGN, unit, at=at)
    h.act(oid, EventKind.REPLY, unit, data={"reply": "已处理"}, at=at + timedelta(hours=1))
    h.act(oid, EventKind.SUPERVISE, SUPERVISOR, data={"approved": True}, at=at + timedelta(hours=2))
    h.act(oid, EventKind.CLOSE, DISPATCHER, at=at + timedelta(hours=3))
    if score is not None:
        h.act(
            oid, EventKind.CALLBACK, DISPATCHER, data={"reached": True}, at=at + timedelta(hours=4)
        )
        h.act(oid, EventKind.RATE, DISPATCHER, data={"score": score}, at=at + timedelta(hours=5))


def test_store_frames_give_the_rates_by_hand(hotline):
    t0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday
    ids = []
    texts = ["路灯坏了不亮", "井盖丢失危险", "路面塌陷一个大坑", "违章建筑占道", "小区围墙倒塌"]
    for i, text in enumerate(texts):
        o = hotline.submit(
            Intake(
                text,
                service_code="urban",
                lat=39.978 - 0.004 * i,
                lon=116.352 + 0.004 * i,
                requested_at=t0 + timedelta(minutes=i),
                account_id=f"acct{i % 2}",
            )
        )
        assert o.lead_unit == "jd_ne"  # dispatched, not linked as a duplicate
        ids.append(o.id)
    # 0: signed at once, closed, rated 5; 1: signed at once, rated 2 then reopened and left open
    _close(hotline, ids[0], t0 + timedelta(hours=1), score=5)
    _close(hotline, ids[1], t0 + timedelta(hours=1), score=2)
    hotline.act(
        ids[1], EventKind.REOPEN, DISPATCHER, reason="灯还是不亮", at=t0 + timedelta(days=1)
    )
    # 2: signed and closed three weeks later (past both deadlines), rated 4; 3 and 4: never signed
    _close(hotline, ids[2], t0 + timedelta(days=20), score=4)
    orders, events = frames_from_store(hotline)
    assert len(orders) == 5 and set(events["order_id"]) == {str(i) for i in ids}
    assert "phone" not in orders.columns and "name" not in orders.columns
    by = orders.set_index("order_id")
    assert by.loc[str(ids[1]), "reopen_count"] == 1 and np.isnan(by.loc[str(ids[1]), "score"])
    assert by.loc[str(ids[0]), "unit"] == "jd_ne" and by.loc[str(ids[0]), "score"] == 5
    # local time (Asia/Shanghai, UTC+8), naive
    assert by.loc[str(ids[0]), "requested_at"].hour == 17
    as_of = by["requested_at"].max() + timedelta(days=30)
    r = three_rates(orders, by=[], as_of=as_of).iloc[0]
    # response: 0 and 1 signed within the sign deadline; 2 late; 3 and 4 past due unsigned
    assert r["response_n"] == 5 and r["response"] == pytest.approx(2 / 5)
    # resolution (closure counts as resolved, default formulas): 0 and 2 of the 2 closed
    assert r["resolution_n"] == 2 and r["resolution"] == 1.0
    # satisfaction: 5 and 4 are satisfied; 1's rating was voided by the reopen
    assert r["satisfaction_n"] == 2 and r["satisfaction"] == 1.0
    # on time: 0 closed within its deadline, 2 too late; 1, 3, 4 open past due at as_of
    assert r["on_time_n"] == 5 and r["on_time"] == pytest.approx(1 / 5)


def test_stats_command_reads_the_store(hotline, tmp_path):
    from typer.testing import CliRunner

    from citycheck.cli.hotline_stats import stats_app

    t0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    for i, text in enumerate(["路灯坏了不亮", "井盖丢失危险", "路面塌陷一个大坑"]):
        o = hotline.submit(
            Intake(
                text,
                service_code="urban",
                lat=39.978 - 0.004 * i,
                lon=116.352 + 0.004 * i,
                requested_at=t0 + timedelta(minutes=i),
            )
        )
        _close(hotline, o.id, t0 + timedelta(hours=1), score=5)
    url = hotline.settings.db_url
    res = CliRunner().invoke(
        stats_app, ["--db", url, "--by", "unit", "--quiet"], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    assert "3 orders" in res.output and "jd_ne" in res.output
    res = CliRunner().invoke(stats_app, ["--db", f"sqlite:///{tmp_path}/none.db", "--quiet"])
    assert res.exit_code == 2 and not (tmp_path / "none.db").exists()
