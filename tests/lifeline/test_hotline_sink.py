"""Alarm -> work order -> closure, end to end through the hotline engine (SQLite file)."""

from __future__ import annotations

from citycheck.lifeline.monitoring.alarms import AlarmManager
from citycheck.lifeline.monitoring.detect import GAS_LEVELS_PCT_LEL, threshold_levels
from citycheck.lifeline.monitoring.hotline_sink import HotlineSink
from citycheck.lifeline.monitoring.store import SensorStore
from citycheck.listen.domain import EventKind, Status
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Staff

# inside the hotline demo's north-east street office (see tests/listen)
LAT, LON = 39.97, 116.36
DISPATCHER = Staff("d1", "dispatcher", None)
SUPERVISOR = Staff("s1", "supervisor", None)
NE = Staff("ne", "unit", "jd_ne")


def test_gas_alarm_becomes_order_and_closes(tmp_path):
    hotline = Hotline(HotlineSettings(db_url=f"sqlite:///{tmp_path}/h.db", secret="s"))
    try:
        sink = HotlineSink(hotline, locate=lambda s: (LAT, LON))
        store = SensorStore(tmp_path / "s.db")
        mgr = AlarmManager(sink, clear_after_s=1800, store=store)
        # a gas sensor in a manhole: 10, 30, 60 %LEL (levels 0, 1, 2 of GB/T 50493), then 0
        readings = [10, 30, 30, 60, 5, 0, 0, 0]
        levels = threshold_levels(readings, GAS_LEVELS_PCT_LEL)
        for i, (v, lv) in enumerate(zip(readings, levels, strict=True)):
            mgr.observe("G-7", "gas", 1_780_000_000 + 900 * i, int(lv), value=float(v))
        alarm = mgr.history[0]
        assert len(mgr.history) == 1 and alarm.closed_ts is not None
        order = hotline.get(int(alarm.work_order))
        assert order.status == Status.DISPATCHED.value and order.lead_unit == "jd_ne"
        assert order.urgency == "normal"  # opened at level 1
        kinds = [e.kind for e in hotline.events(order.id)]
        assert kinds[:3] == [EventKind.ACCEPT, EventKind.CLASSIFY, EventKind.DISPATCH]
        notes = [
            e.reason
            for e in hotline.events(order.id)
            if e.kind is EventKind.NOTE and e.actor == "lifeline-monitor" and e.reason
        ]
        sources = [e.data.get("source") for e in hotline.events(order.id) if "source" in e.data]
        assert sources[0]["sensor_id"] == "G-7" and sources[0]["kind_zh"] == "燃气泄漏"
        assert notes == [
            "告警升级为较重 / alarm raised to major",
            "传感器读数恢复正常 / sensor back to normal",
        ]
        # people close the order: the unit repairs and replies, a supervisor approves
        hotline.act(order.id, EventKind.SIGN, NE)
        hotline.act(order.id, EventKind.CONTACT, NE)
        hotline.act(order.id, EventKind.REPLY, NE, data={"reply": "已更换阀门并复测"})
        hotline.act(order.id, EventKind.SUPERVISE, SUPERVISOR, data={"approved": True})
        hotline.act(order.id, EventKind.CLOSE, DISPATCHER)
        assert hotline.get(order.id).status == Status.CLOSED.value
        assert hotline.verify_log() == []
        saved = store.alarms()
        assert saved.iloc[0]["work_order"] == alarm.work_order and saved.iloc[0]["level"] == 2
        store.close()
    finally:
        hotline.close()
