"""Embedded time-series store for sensor readings and alarms (SQLite, WAL).

One table of readings keyed by (sensor, quantity, time) — a reading once stored is never
overwritten or deleted by an ingest: a conflicting re-delivery is reported, not applied — and one
table of alarms. PostgreSQL serves production with the same interface
(:class:`~.store_pg.PgSensorStore`; :func:`~.store_pg.open_store` picks one by URL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

__all__ = ["SensorStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    sensor_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    ts INTEGER NOT NULL,            -- seconds since 1970-01-01 UTC
    value REAL NOT NULL,            -- canonical unit of the quantity (see units.py)
    source TEXT,
    PRIMARY KEY (sensor_id, quantity, ts)
);
CREATE TABLE IF NOT EXISTS alarms (
    alarm_id INTEGER PRIMARY KEY AUTOINCREMENT,
    sensor_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    level INTEGER NOT NULL,
    opened_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    closed_ts INTEGER,
    peak_value REAL,
    triggers INTEGER NOT NULL,
    flapping INTEGER NOT NULL DEFAULT 0,
    work_order TEXT,
    order_status TEXT               -- status of the work order, as last read from the hotline
);
"""


class SensorStore:
    """Readings and alarms in one SQLite file (``":memory:"`` for tests).

    Parameters
    ----------
    path : str or Path
        Database file; created with its tables when absent.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        # one connection, usable from a web server's worker threads (callers serialise writes)
        self.conn = sqlite3.connect(self.path, check_same_thread=False)
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(_SCHEMA)
        cols = {r[1] for r in self.conn.execute("PRAGMA table_info(alarms)")}
        if "order_status" not in cols:  # a store written before work orders were followed
            with self.conn:
                self.conn.execute("ALTER TABLE alarms ADD COLUMN order_status TEXT")

    def close(self) -> None:
        """Close the database."""
        self.conn.close()

    def __enter__(self) -> SensorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def existing(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], float]:
        """Stored values for the given (sensor, quantity, ts) keys that exist."""
        out = {}
        cur = self.conn.cursor()
        for k in keys:
            row = cur.execute(
                "SELECT value FROM readings WHERE sensor_id=? AND quantity=? AND ts=?", k
            ).fetchone()
            if row is not None:
                out[k] = row[0]
        return out

    def insert_readings(self, frame: pd.DataFrame, *, source: str = "") -> int:
        """Insert new readings in one transaction; keys already stored are left untouched.

        Parameters
        ----------
        frame : DataFrame
            ``sensor_id``, ``quantity``, ``ts`` (int seconds UTC), ``value`` (canonical unit).

        Returns
        -------
        int
            Rows inserted.
        """
        rows = [
            (str(r.sensor_id), str(r.quantity), int(r.ts), float(r.value), source)
            for r in frame.itertuples(index=False)
        ]
        with self.conn:
            before = self.conn.total_changes
            self.conn.executemany(
                "INSERT OR IGNORE INTO readings (sensor_id, quantity, ts, value, source) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            return self.conn.total_changes - before

    def readings(
        self,
        *,
        sensor_id: str | None = None,
        quantity: str | None = None,
        start_ts: int | None = None,
        end_ts: int | None = None,
    ) -> pd.DataFrame:
        """Readings as a DataFrame (``sensor_id``, ``quantity``, ``ts``, ``value``), time-sorted."""
        q = "SELECT sensor_id, quantity, ts, value FROM readings WHERE 1=1"
        args: list = []
        for col, val, op in (
            ("sensor_id", sensor_id, "="),
            ("quantity", quantity, "="),
            ("ts", start_ts, ">="),
            ("ts", end_ts, "<"),
        ):
            if val is not None:
                q += f" AND {col} {op} ?"
                args.append(val)
        q += " ORDER BY sensor_id, quantity, ts"
        return pd.read_sql_query(q, self.conn, params=args)

    def count(self) -> int:
        """Number of stored readings."""
        return int(self.conn.execute("SELECT COUNT(*) FROM readings").fetchone()[0])

    def save_alarm(self, alarm) -> int:
        """Insert or update an alarm (see :class:`citycheck.lifeline.monitoring.alarms.Alarm`)."""
        with self.conn:
            if alarm.alarm_id is None:
                cur = self.conn.execute(
                    "INSERT INTO alarms (sensor_id, kind, level, opened_ts, last_ts, closed_ts, "
                    "peak_value, triggers, flapping, work_order, order_status) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        alarm.sensor_id,
                        alarm.kind,
                        alarm.level,
                        alarm.opened_ts,
                        alarm.last_ts,
                        alarm.closed_ts,
                        alarm.peak_value,
                        alarm.triggers,
                        int(alarm.flapping),
                        alarm.work_order,
                        alarm.order_status,
                    ),
                )
                assert cur.lastrowid is not None  # set by the INSERT just run
                return int(cur.lastrowid)
            self.conn.execute(
                "UPDATE alarms SET level=?, last_ts=?, closed_ts=?, peak_value=?, triggers=?, "
                "flapping=?, work_order=?, order_status=? WHERE alarm_id=?",
                (
                    alarm.level,
                    alarm.last_ts,
                    alarm.closed_ts,
                    alarm.peak_value,
                    alarm.triggers,
                    int(alarm.flapping),
                    alarm.work_order,
                    alarm.order_status,
                    alarm.alarm_id,
                ),
            )
            return int(alarm.alarm_id)

    def set_order_status(self, alarm_id: int, status: str) -> None:
        """Record the status of an alarm's work order as read from the hotline."""
        with self.conn:
            self.conn.execute(
                "UPDATE alarms SET order_status=? WHERE alarm_id=?", (status, int(alarm_id))
            )

    def alarms(self) -> pd.DataFrame:
        """All alarms."""
        return pd.read_sql_query("SELECT * FROM alarms ORDER BY alarm_id", self.conn)
