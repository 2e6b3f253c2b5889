"""The alarm policy of `lifeline monitor` on small hand-made cases (no store, no CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citycheck.lifeline.monitoring import policy
from citycheck.lifeline.monitoring.alarms import AlarmManager, ListSink

T0 = int(pd.Timestamp("2026-07-01", tz="Asia/Shanghai").timestamp())


def _readings(sensor: str, quantity: str, values, step_s: int = 900, t0: int = T0):
    ts = t0 + step_s * np.arange(len(values))
    return pd.DataFrame({"sensor_id": sensor, "quantity": quantity, "ts": ts, "value": values})


def test_threshold_alarms_dedup_escalate_and_close():
    # gas at 0, 30 (level 1), 60 (level 2), 60, then quiet for an hour: one alarm, escalated
    gas = _readings("G1", "gas", [0.0, 30.0, 60.0, 60.0, 0.0, 0.0, 0.0, 0.0])
    water = _readings("W1", "water_level", [-1.0, -1.0, 0.2, -1.0])  # 0.2 m: level 2
    readings = pd.concat([gas, water], ignore_index=True)
    found = policy.sensor_detections(readings)
    assert found.simple == []  # no pressure or flow
    levels = {(o[0], o[2]): o[3] for o in found.observations}
    assert levels[("G1", T0 + 900)] == 1
    assert levels[("G1", T0 + 1800)] == 2
    assert levels[("W1", T0 + 1800)] == 2

    sink = ListSink(start=4)  # four work orders already numbered by earlier runs
    mgr = policy.feed_alarms(AlarmManager(sink), reversed(found.observations))  # any order in
    assert [(a.sensor_id, a.kind, a.level) for a in mgr.history] == [
        ("G1", "gas", 2),
        ("W1", "water_level", 2),
    ]
    assert sink.events == [
        ("open", "WO-5", 1),  # G1 opens at level 1 ...
        ("update", "WO-5", 2),  # ... escalates (one alarm, not a second one) ...
        ("open", "WO-6", 2),  # ... W1 at the same time (time, then sensor order)
        ("close", "WO-5", 2),  # 30 min of normal readings close it
    ]
    assert mgr.open.keys() == {("W1", "water_level")}  # W1 has not been quiet 30 min


def test_flow_burst_by_daily_pattern_and_model_sensors_skipped():
    rng = np.random.default_rng(4)
    n = 96 * 9  # nine days of 15-min readings: seven teach, two are judged
    t = np.arange(n)
    daily = 10 + 5 * np.sin(2 * np.pi * (t % 96) / 96)
    flow = daily + rng.normal(0, 0.2, n)
    flow[96 * 8 :] += 3.0  # a burst on day nine
    pressure = 40 - daily / 5 + rng.normal(0, 0.05, n)
    readings = pd.concat(
        [_readings("F1", "flow", flow), _readings("J1", "pressure", pressure)], ignore_index=True
    )
    found = policy.sensor_detections(readings, model_sensors={"J1"})
    assert found.simple == ["F1 (flow)"]  # J1 is left to the matched-signature detector
    fired = [o for o in found.observations if o[3] > 0]
    assert fired and {o[1] for o in fired} == {"leak"}
    assert min(o[2] for o in fired) >= T0 + 96 * 8 * 900  # nothing before the burst
    # too little training: not watched
    short = policy.sensor_detections(_readings("F2", "flow", flow[:50]))
    assert short.simple == [] and short.observations == []

    # the city's zone relabels the slots of the daily pattern: a constant offset changes
    # nothing in what is detected
    ny = policy.sensor_detections(
        readings, policy.MonitorSettings(tz="America/New_York"), model_sensors={"J1"}
    )
    assert ny.observations == found.observations


def test_time_zone_is_a_setting():
    assert policy.MonitorSettings().tz == policy.DEFAULT_TZ == "Asia/Shanghai"
    assert policy.utc_offset_s("Asia/Shanghai", T0) == 8 * 3600
    summer = int(pd.Timestamp("2026-07-01T12:00Z").timestamp())
    winter = int(pd.Timestamp("2026-01-15T12:00Z").timestamp())
    assert policy.utc_offset_s("Europe/Berlin", summer) == 2 * 3600
    assert policy.utc_offset_s("Europe/Berlin", winter) == 3600

    # naive calibration times are local in the zone set; explicit zones are kept
    start, end = policy.parse_period("2026-07-01/2026-07-02")
    assert start == T0 and end == T0 + 86400
    b_start, b_end = policy.parse_period("2026-07-01/2026-07-02", "Europe/Berlin")
    assert b_start == int(pd.Timestamp("2026-06-30T22:00Z").timestamp())
    assert b_end - b_start == 86400
    z_start, _ = policy.parse_period("2026-07-01T00:00+08:00/2026-07-02", "Europe/Berlin")
    assert z_start == T0
    with pytest.raises(ValueError, match="END must come after START"):
        policy.parse_period("2026-07-02/2026-07-01", "Europe/Berlin")
    with pytest.raises(ValueError, match="expected START/END"):
        policy.parse_period("2026-07-01", "Europe/Berlin")

    assert f"{policy.local_time(T0):%Y-%m-%d %H:%M}" == "2026-07-01 00:00"
    assert f"{policy.local_time(T0, 'Europe/Berlin'):%Y-%m-%d %H:%M}" == "2026-06-30 18:00"

    berlin = policy.MonitorSettings(tz="Europe/Berlin")
    assert policy.model_detector(berlin, summer).tz_offset_s == 2 * 3600
    assert policy.model_detector(policy.MonitorSettings(), summer).tz_offset_s == 8 * 3600


def test_alarm_sink_without_hotline_numbers_after_stored():
    sink = policy.alarm_sink(3)
    assert isinstance(sink, ListSink)
    mgr = policy.feed_alarms(AlarmManager(sink), [("P1", "gas", T0, 1, 30.0)])
    assert mgr.history[0].work_order == "WO-4"
    assert policy.model_observations([("J1", T0, 2, 9.5)]) == [("J1", "leak", T0, 2, 9.5)]


def test_monitor_command_takes_the_zone(tmp_path):
    from typer.testing import CliRunner

    from citycheck.cli import app

    feed = tmp_path / "gas.csv"
    feed.write_text(
        "timestamp,sensor_id,quantity,value,unit\n"
        "2026-07-01 00:00,G1,gas,10,%LEL\n2026-07-01 00:15,G1,gas,30,%LEL\n"
    )
    runner = CliRunner()
    r = runner.invoke(app, ["lifeline", "monitor", str(tmp_path / "x.db"), "--tz", "Mars/Base"])
    assert r.exit_code == 2 and "Mars/Base" in r.output
    db = tmp_path / "s.db"
    run = tmp_path / "run"
    r = runner.invoke(
        app,
        ["lifeline", "monitor", str(db), str(feed), "--tz", "Europe/Berlin", "--run", str(run)],
    )
    assert r.exit_code == 0, r.output
    assert "1 alarms" in r.output
    # naive sensor times are read in the zone given: 00:15 in Berlin (summer) is 22:15 UTC
    opened = int(pd.read_csv(run / "lifeline" / "alarms.csv")["opened_ts"].iloc[0])
    assert opened == int(pd.Timestamp("2026-06-30T22:15Z").timestamp())
