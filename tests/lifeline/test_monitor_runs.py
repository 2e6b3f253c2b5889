"""``citycheck lifeline monitor`` run again and again on one store: alarms deduplicated across
runs (an open episode is updated, not opened again; a new episode after closure is new), flapping
counted across runs. On SQLite and on PostgreSQL."""

from __future__ import annotations

from typer.testing import CliRunner

from citycheck.cli import app
from citycheck.lifeline.monitoring.store_pg import open_store

runner = CliRunner()
HEADER = "timestamp,sensor_id,quantity,value,unit\n"


def _feed(tmp_path, name: str, rows: list[tuple[str, float]]):
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"2026-07-01 {t},G1,gas,{v},%LEL\n" for t, v in rows))
    return path


def _monitor(store_target: str, *feeds) -> str:
    r = runner.invoke(app, ["lifeline", "monitor", store_target, *map(str, feeds)])
    assert r.exit_code == 0, r.output
    return r.output


def _alarms(store_target: str):
    with open_store(store_target) as store:
        return store.alarms()


def test_rerun_extend_close_reopen_and_flap(store_target, tmp_path):
    # GB/T 50493 levels: 25 %LEL = level 1, 50 %LEL = level 2; clear after 30 min of normal
    a = _feed(tmp_path, "a.csv", [("00:00", 5), ("00:15", 30), ("00:30", 35)])
    _monitor(store_target, a)
    first = _alarms(store_target)
    assert len(first) == 1 and first["closed_ts"].isna().all()
    assert first.loc[0, "triggers"] == 2 and first.loc[0, "work_order"] == "WO-1"

    # the same data again: nothing new, nothing changed
    out = _monitor(store_target, a)
    assert "0 alarms opened" in out and "1 taken up" in out
    again = _alarms(store_target)
    assert again.equals(first)

    # new data extends the open episode: the same alarm is updated (level, triggers, last time)
    b = _feed(tmp_path, "b.csv", [("00:45", 60), ("01:00", 30)])
    _monitor(store_target, b)
    ext = _alarms(store_target)
    assert len(ext) == 1 and ext.loc[0, "alarm_id"] == first.loc[0, "alarm_id"]
    assert ext.loc[0, "level"] == 2 and ext.loc[0, "triggers"] == 4
    assert ext.loc[0, "last_ts"] - first.loc[0, "last_ts"] == 1800
    assert ext.loc[0, "work_order"] == "WO-1" and ext.loc[0, "peak_value"] == 60

    # normal readings close it (after 30 min), in a later run
    c = _feed(tmp_path, "c.csv", [("01:15", 0), ("01:30", 0), ("01:45", 0)])
    _monitor(store_target, c)
    closed = _alarms(store_target)
    assert len(closed) == 1 and closed.loc[0, "closed_ts"] - closed.loc[0, "last_ts"] == 2700

    # a new episode after closure opens a new alarm with its own work order
    d = _feed(tmp_path, "d.csv", [("03:00", 40)])
    _monitor(store_target, d)
    two = _alarms(store_target)
    assert len(two) == 2 and list(two["work_order"]) == ["WO-1", "WO-2"]

    # a third opening within 6 h (00:15, 03:00, 04:00), in yet another run: flapping, no order
    e = _feed(tmp_path, "e.csv", [("03:15", 0), ("03:30", 0), ("03:45", 0), ("04:00", 45)])
    _monitor(store_target, e)
    three = _alarms(store_target)
    assert len(three) == 3
    assert list(three["flapping"].astype(bool)) == [False, False, True]
    assert three["work_order"].isna().tolist() == [False, False, True]

    # everything again, all feeds: the store does not change
    _monitor(store_target, a, b, c, d, e)
    assert _alarms(store_target).equals(three)


def test_without_a_store_history_the_same_data_gives_the_same_alarms(tmp_path):
    """Oracle for the resumed runs: one run over all the data, on a fresh store."""
    rows = [("00:00", 5), ("00:15", 30), ("00:30", 35), ("00:45", 60), ("01:00", 30)]
    rows += [("01:15", 0), ("01:30", 0), ("01:45", 0), ("03:00", 40)]
    one = str(tmp_path / "one.db")
    _monitor(one, _feed(tmp_path, "all.csv", rows))
    split = str(tmp_path / "split.db")
    for i, chunk in enumerate((rows[:3], rows[3:5], rows[5:8], rows[8:])):
        _monitor(split, _feed(tmp_path, f"part{i}.csv", chunk))
    cols = ["sensor_id", "kind", "level", "opened_ts", "last_ts", "closed_ts", "triggers"]
    assert _alarms(one)[cols].equals(_alarms(split)[cols])
