"""Monitoring: ingest with bad input, detection rules, alarm logic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citycheck.lifeline.monitoring.alarms import AlarmManager, AlarmSink, ListSink
from citycheck.lifeline.monitoring.detect import (
    GAS_LEVELS_PCT_LEL,
    cusum,
    learn_daily_pattern,
    pattern_zscores,
    threshold_levels,
)
from citycheck.lifeline.monitoring.ingest import IngestError, ingest_csv
from citycheck.lifeline.monitoring.store import SensorStore

CSV = """timestamp,sensor_id,quantity,value,unit
2026-07-01 00:00,P1,pressure,35.2,m
2026-07-01 00:15,P1,pressure,345.0,kPa
2026-07-01 00:30,P1,pressure,352.0,m
2026-07-01 00:45,P1,pressure,35.0,m
2026-07-01 00:45,P1,pressure,35.0,m
2026-07-01 01:00,P1,pressure,34.8,m
2026-07-01 01:00,P1,pressure,30.1,m
2026-07-01 01:15,P1,pressure,abc,m
2026-07-01 01:30,P1,pressure,34.9,bar
2026-07-01 02:30,P1,pressure,35.1,m
not-a-time,P1,pressure,35.1,m
2026-07-01 02:45,G1,gas,0.8,%vol
2026-07-01 02:45,G1,temperature,20,C
2026-07-01 03:00,P1,pressure,35.3,
"""


def test_ingest_names_every_bad_row_and_converts(tmp_path, sensor_store):
    path = tmp_path / "feed.csv"
    path.write_text(CSV)
    with sensor_store as store:
        rep = ingest_csv(store, path)
        rej = rep.rejected.set_index("line")
        # line numbers are CSV lines (header = 1)
        assert "kPa" in rej.at[4, "problem"]  # 352 "m" of head: probably kPa
        assert "35.9" in rej.at[4, "problem"]  # 352 / 9.80665
        assert set(rej.loc[[7, 8], "field"]) == {"timestamp"}  # 01:00 given twice, differently
        assert rej.at[9, "field"] == "value"  # abc
        assert rej.at[10, "field"] == "value"  # 34.9 bar = 356 m: implausible
        assert rej.at[12, "field"] == "timestamp"
        assert rej.at[14, "field"] == "quantity"
        assert len(rej) == 7
        assert rep.duplicates_identical == 1
        stored = store.readings(sensor_id="P1")
        assert len(stored) == 5  # 00:00, 00:15 (kPa), 00:45, 02:30, 03:00
        v = dict(zip(stored["ts"], stored["value"], strict=True))
        t0 = int(pd.Timestamp("2026-07-01 00:00", tz="Asia/Shanghai").timestamp())
        assert v[t0 + 900] == pytest.approx(345.0 / 9.80665)
        gas = store.readings(sensor_id="G1")
        assert gas["value"].iloc[0] == pytest.approx(16.0)  # 0.8 %vol methane = 16 %LEL
        # gap: nothing stored between 00:45 and 02:30 besides rejected rows
        gaps = rep.gaps[rep.gaps["sensor_id"] == "P1"]
        assert len(gaps) == 1 and gaps.iloc[0]["end_ts"] - gaps.iloc[0]["start_ts"] == 6300
        assert rep.inserted == 6

        # a re-delivery with a changed value is a conflict: the stored reading is kept
        again = tmp_path / "again.csv"
        again.write_text(
            "timestamp,sensor_id,quantity,value,unit\n"
            "2026-07-01 00:00,P1,pressure,99.0,m\n"
            "2026-07-01 00:00+08:00,P1,pressure,35.2,m\n"
            "2026-07-01 04:00,P1,pressure,35.0,m\n"
        )
        rep2 = ingest_csv(store, again)
        assert len(rep2.rejected) == 2  # same key twice in one feed with different values
        assert rep2.inserted == 1
        assert store.readings(sensor_id="P1")["value"].iloc[0] == pytest.approx(35.2)
        rep3 = ingest_csv(store, tmp_path / "again.csv")
        assert rep3.inserted == 0


def test_ingest_conflict_with_stored(tmp_path, sensor_store):
    a = tmp_path / "a.csv"
    a.write_text("timestamp,sensor_id,quantity,value\n2026-07-01 00:00,P1,pressure,35.2\n")
    b = tmp_path / "b.csv"
    b.write_text("timestamp,sensor_id,quantity,value\n2026-07-01 00:00,P1,pressure,31.0\n")
    store = sensor_store
    ingest_csv(store, a)
    rep = ingest_csv(store, b)
    assert len(rep.conflicts) == 1 and rep.conflicts.iloc[0]["stored"] == pytest.approx(35.2)
    assert store.readings()["value"].tolist() == [pytest.approx(35.2)]
    with pytest.raises(IngestError, match="missing column"):
        c = tmp_path / "c.csv"
        c.write_text("time,sensor,value\n1,2,3\n")
        ingest_csv(store, c)
    with pytest.raises(IngestError, match="no such file"):
        ingest_csv(store, tmp_path / "nope.csv")
    assert store.count() == 1


def test_thresholds_by_standard():
    # GB/T 50493-2019: first level at 25 %LEL, second at 50 %LEL
    lv = threshold_levels(np.array([0, 24.9, 25, 49, 50, 120, np.nan]), GAS_LEVELS_PCT_LEL)
    assert lv.tolist() == [0, 0, 1, 1, 2, 3, 0]
    with pytest.raises(ValueError):
        threshold_levels(np.array([1.0]), (2.0, 1.0))


def test_cusum_by_hand():
    z = np.array([-1.0, -1.0, -1.0, 3.0, -2.0, np.nan, -2.0])
    # S: 0.5, 1.0, 1.5, 0 (max(0, 1.5-3-0.5)), 1.5, 1.5, 3.0
    assert cusum(z, k=0.5, h=1.2).tolist() == [False, False, True, False, True, True, True]


def test_daily_pattern_learns_shape():
    rng = np.random.default_rng(0)
    ts = np.arange(0, 14 * 86400, 900)
    shape = 40 + 5 * np.sin(2 * np.pi * ts / 86400)
    values = shape + rng.normal(0, 0.2, len(ts))
    pat = learn_daily_pattern(ts, values, slot_s=900)
    assert np.max(np.abs(pat.median - shape[:96])) < 0.3
    assert np.median(pat.scale) == pytest.approx(0.2, rel=0.25)
    z = pattern_zscores(ts[:96], shape[:96] - 2.0, pat)
    assert np.all(z < -5)


def test_alarm_dedup_escalation_hysteresis_flapping():
    sink = ListSink()
    assert isinstance(sink, AlarmSink)
    m = AlarmManager(sink, clear_after_s=1800, flap_window_s=6 * 3600, flap_max=3)
    t = 0
    for lvl in (1, 1, 2, 2):  # one alarm, escalated once
        m.observe("G1", "gas", t, lvl, value=30.0)
        t += 900
    for _ in range(2):  # 900 s clear: not yet closed
        m.observe("G1", "gas", t, 0)
        t += 900
    m.observe("G1", "gas", t, 0)  # 1800 s clear: closed
    assert sink.events == [("open", "WO-1", 1), ("update", "WO-1", 2), ("close", "WO-1", 2)]
    assert len(m.history) == 1 and m.history[0].triggers == 4
    # flapping: a second and third opening within six hours; the third is suppressed
    for _ in range(2):
        t += 900
        m.observe("G1", "gas", t, 1)
        for _ in range(3):
            t += 900
            m.observe("G1", "gas", t, 0)
    opens = [e for e in sink.events if e[0] == "open"]
    assert len(opens) == 2
    assert m.history[-1].flapping and m.history[-1].work_order is None
    assert len(m.history) == 3


def test_alarms_saved_in_store(sensor_store):
    store = sensor_store
    m = AlarmManager(ListSink(), store=store, clear_after_s=0)
    m.observe("W1", "water_level", 0, 2, value=0.2)
    m.observe("W1", "water_level", 60, 0)
    a = store.alarms()
    assert len(a) == 1 and a.iloc[0]["closed_ts"] == 60 and a.iloc[0]["work_order"] == "WO-1"
    assert a.iloc[0]["peak_value"] == pytest.approx(0.2) and a.iloc[0]["level"] == 2
    alarm = m.history[0]
    alarm.order_status = "closed"
    store.save_alarm(alarm)
    assert store.alarms()["order_status"].tolist() == ["closed"]


def test_sqlite_store_opened_by_an_older_version_gains_order_status(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE alarms (alarm_id INTEGER PRIMARY KEY AUTOINCREMENT, sensor_id TEXT NOT NULL,"
        " kind TEXT NOT NULL, level INTEGER NOT NULL, opened_ts INTEGER NOT NULL,"
        " last_ts INTEGER NOT NULL, closed_ts INTEGER, peak_value REAL, triggers INTEGER NOT NULL,"
        " flapping INTEGER NOT NULL DEFAULT 0, work_order TEXT);"
        "INSERT INTO alarms (sensor_id, kind, level, opened_ts, last_ts, triggers)"
        " VALUES ('G1', 'gas', 1, 0, 0, 1);"
    )
    con.commit()
    con.close()
    with SensorStore(path) as store:
        a = store.alarms()
    assert a["sensor_id"].tolist() == ["G1"] and a["order_status"].isna().all()
