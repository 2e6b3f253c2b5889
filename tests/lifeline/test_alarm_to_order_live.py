"""Alarm -> work order -> closure against the RUNNING hotline service (uvicorn, staff HTTP API)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

from citycheck.lifeline.monitoring.alarms import AlarmManager
from citycheck.lifeline.monitoring.detect import GAS_LEVELS_PCT_LEL, threshold_levels
from citycheck.lifeline.monitoring.hotline_http import (
    HotlineHttpError,
    HttpHotlineSink,
    follow_work_orders,
)
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline

# the hotline tests' own launcher: the real server on a free loopback port
_spec = importlib.util.spec_from_file_location(
    "hotline_live_server", Path(__file__).parents[1] / "listen" / "live_server.py"
)
_live = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_live)

# inside the hotline demo's north-east street office (see tests/listen)
LAT, LON = 39.97, 116.36


@pytest.fixture
def hotline_service(tmp_path):
    db_url = f"sqlite:///{tmp_path}/hotline.db"
    h = Hotline(HotlineSettings(db_url=db_url, secret="test-secret"))
    tokens = {
        "monitor": h.create_staff("lifeline-monitor", "dispatcher"),
        "disp": h.create_staff("d1", "dispatcher"),
        "sup": h.create_staff("s1", "supervisor"),
        "ne": h.create_staff("ne", "unit", "jd_ne"),
    }
    h.close()
    srv = _live.LiveServer(db_url, secret="test-secret").start()
    yield srv.url, tokens
    srv.stop()


def _act(url: str, token: str, order: str, kind: str, **body) -> dict:
    r = httpx.post(
        f"{url}/staff/orders/{order}/events",
        json={"kind": kind, **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_gas_alarm_order_handled_and_closed_over_http(hotline_service, sensor_store):
    url, tok = hotline_service
    sink = HttpHotlineSink(url, tok["monitor"], locate=lambda s: (LAT, LON))
    mgr = AlarmManager(sink, clear_after_s=1800, store=sensor_store)
    # a manhole gas sensor: 10, 30, 30, 60 %LEL (levels 0, 1, 1, 2 of GB/T 50493), then clear
    readings = [10, 30, 30, 60, 5, 0, 0, 0]
    for i, (v, lv) in enumerate(
        zip(readings, threshold_levels(readings, GAS_LEVELS_PCT_LEL), strict=True)
    ):
        mgr.observe("G-7", "gas", 1_780_000_000 + 900 * i, int(lv), value=float(v))
    assert len(mgr.history) == 1
    alarm = mgr.history[0]
    order = alarm.work_order
    assert order is not None and alarm.closed_ts is not None

    detail = httpx.get(
        f"{url}/staff/orders/{order}", headers={"Authorization": f"Bearer {tok['disp']}"}
    ).json()
    assert detail["order"]["lead_unit"] == "jd_ne"  # dispatched by place
    assert detail["order"]["status"] == "dispatched"
    assert "燃气泄漏" in detail["order"]["description"]
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds[:3] == ["accept", "classify", "dispatch"]
    notes = [e["reason"] for e in detail["timeline"] if e["actor"] == "lifeline-monitor"]
    assert notes[-2:] == [
        "告警升级为较重 / alarm raised to major",
        "传感器读数恢复正常 / sensor back to normal",
    ]
    saved = sensor_store.alarms().iloc[0]
    assert saved["work_order"] == order and saved["order_status"] == "dispatched"

    # people handle it through the staff API; the alarm's order status follows each step
    steps = [
        ("ne", "sign", {}, "signed"),
        ("ne", "contact", {}, "signed"),  # first contact is logged; the status stays
        ("ne", "handle", {}, "in_progress"),
        (
            "ne",
            "reply",
            {"data": {"reply": "已更换阀门并复测 / valve replaced, re-tested"}},
            "replied",
        ),
        ("sup", "supervise", {"data": {"approved": True}}, "reviewed"),
        ("disp", "close", {}, "closed"),
    ]
    before = "dispatched"
    for who, kind, body, expect in steps:
        status = _act(url, tok[who], order, kind, **body)["status"]
        assert status == expect
        changed = follow_work_orders(sensor_store, sink)
        assert changed == ({} if expect == before else {int(saved["alarm_id"]): expect})
        assert sensor_store.alarms().iloc[0]["order_status"] == expect
        before = expect
    # a closed order is final: not asked again
    assert follow_work_orders(sensor_store, sink) == {}


def test_sink_with_a_bad_token_is_refused_clearly(hotline_service, sensor_store):
    url, _ = hotline_service
    mgr = AlarmManager(HttpHotlineSink(url, "not-a-token"), store=sensor_store)
    with pytest.raises(HotlineHttpError, match="intake of alarm W-1/water_level: HTTP 401"):
        mgr.observe("W-1", "water_level", 1_780_000_000, 2, value=0.2)


def test_monitor_cli_files_orders_in_the_running_hotline(hotline_service, tmp_path):
    from typer.testing import CliRunner

    from citycheck.cli import app
    from citycheck.lifeline.monitoring.store import SensorStore

    url, tok = hotline_service
    feed = tmp_path / "gas.csv"
    feed.write_text(
        "timestamp,sensor_id,quantity,value,unit\n"
        "2026-07-01 00:00,G-9,gas,5,%LEL\n"
        "2026-07-01 00:15,G-9,gas,55,%LEL\n"
        "2026-07-01 00:30,G-9,gas,58,%LEL\n"
    )
    db = str(tmp_path / "s.db")
    args = ["lifeline", "monitor", db, str(feed), "--hotline-url", url]
    res = CliRunner().invoke(app, [*args, "--hotline-token", tok["monitor"]])
    assert res.exit_code == 0, res.output
    with SensorStore(db) as store:
        alarm = store.alarms().iloc[0]
    assert alarm["sensor_id"] == "G-9" and alarm["order_status"] == "dispatched"
    detail = httpx.get(
        f"{url}/staff/orders/{alarm['work_order']}",
        headers={"Authorization": f"Bearer {tok['disp']}"},
    ).json()
    assert "G-9" in detail["order"]["description"] and detail["order"]["urgency"] == "urgent"
    # no token, and a hotline that is not there: clear messages, exit code 2
    res = CliRunner().invoke(app, args, env={"CITYCHECK_LIFELINE_HOTLINE_TOKEN": ""})
    assert res.exit_code == 2 and "--hotline-token" in res.output
    gone = ["lifeline", "monitor", str(tmp_path / "t.db"), str(feed)]
    res = CliRunner().invoke(
        app, [*gone, "--hotline-url", "http://127.0.0.1:9", "--hotline-token", "x"]
    )
    assert res.exit_code == 2 and "intake of alarm G-9/gas" in res.output


def test_monitor_reruns_do_not_file_orders_twice(hotline_service, tmp_path):
    """Monitor twice on the same data, then on data that extends the episode: one work order in
    the running hotline; a new episode after the alarm closed files a second one."""
    from typer.testing import CliRunner

    from citycheck.cli import app
    from citycheck.lifeline.monitoring.store import SensorStore

    url, tok = hotline_service
    db = str(tmp_path / "s.db")

    def monitor(name: str, rows: str) -> None:
        feed = tmp_path / name
        feed.write_text("timestamp,sensor_id,quantity,value,unit\n" + rows)
        args = ["lifeline", "monitor", db, str(feed), "--hotline-url", url]
        res = CliRunner().invoke(app, [*args, "--hotline-token", tok["monitor"]])
        assert res.exit_code == 0, res.output

    def orders_in_hotline() -> int:
        h = Hotline(
            HotlineSettings(db_url=f"sqlite:///{tmp_path}/hotline.db", secret="test-secret")
        )
        try:
            return h.count()
        finally:
            h.close()

    first = "2026-07-01 00:00,G-9,gas,5,%LEL\n2026-07-01 00:15,G-9,gas,30,%LEL\n"
    monitor("a.csv", first)
    monitor("a.csv", first)
    assert orders_in_hotline() == 1
    monitor("b.csv", "2026-07-01 00:30,G-9,gas,55,%LEL\n")  # the episode goes on, and rises
    assert orders_in_hotline() == 1
    with SensorStore(db) as store:
        alarms = store.alarms()
    assert len(alarms) == 1 and alarms.loc[0, "level"] == 2 and alarms.loc[0, "triggers"] == 2
    order = alarms.loc[0, "work_order"]
    detail = httpx.get(
        f"{url}/staff/orders/{order}", headers={"Authorization": f"Bearer {tok['disp']}"}
    ).json()
    notes = [e["reason"] for e in detail["timeline"] if e["kind"] == "note"]
    assert notes == ["告警升级为较重 / alarm raised to major"]  # escalated once, in the same order
    clear = "".join(f"2026-07-01 {t},G-9,gas,0,%LEL\n" for t in ("00:45", "01:00", "01:15"))
    monitor("c.csv", clear + "2026-07-01 02:00,G-9,gas,40,%LEL\n")
    assert orders_in_hotline() == 2
    with SensorStore(db) as store:
        alarms = store.alarms()
    assert alarms["closed_ts"].notna().tolist() == [True, False]
    assert alarms["work_order"].nunique() == 2
