"""PostgreSQL time-series store for sensor readings and alarms (production).

Same interface and same rules as the embedded :class:`~.store.SensorStore`: readings keyed by
(sensor, quantity, time), a stored reading is never overwritten or deleted by an ingest
(``INSERT ... ON CONFLICT DO NOTHING``), one table of alarms. The readings table is a plain
B-tree-indexed table ordered by its key, which serves per-sensor time-range queries; a city with
TimescaleDB can turn it into a hypertable without any change here.

The tables live in a schema of their own (default ``lifeline``), created when absent, so the
store shares a database with the hotline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

__all__ = ["PgSensorStore", "open_store"]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.readings (
    sensor_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    ts BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    source TEXT,
    PRIMARY KEY (sensor_id, quantity, ts)
);
CREATE TABLE IF NOT EXISTS {s}.alarms (
    alarm_id BIGSERIAL PRIMARY KEY,
    sensor_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    level INTEGER NOT NULL,
    opened_ts BIGINT NOT NULL,
    last_ts BIGINT NOT NULL,
    closed_ts BIGINT,
    peak_value DOUBLE PRECISION,
    triggers INTEGER NOT NULL,
    flapping INTEGER NOT NULL DEFAULT 0,
    work_order TEXT,
    order_status TEXT
);
ALTER TABLE {s}.alarms ADD COLUMN IF NOT EXISTS order_status TEXT;
"""

_ALARM_COLUMNS = [
    "alarm_id",
    "sensor_id",
    "kind",
    "level",
    "opened_ts",
    "last_ts",
    "closed_ts",
    "peak_value",
    "triggers",
    "flapping",
    "work_order",
    "order_status",
]


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg://`` (SQLAlchemy style) to the ``postgresql://`` libpq accepts."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


class PgSensorStore:
    """Readings and alarms in PostgreSQL.

    Parameters
    ----------
    url : str
        ``postgresql://`` or ``postgresql+psycopg://`` URL.
    schema : str
        Schema of the tables (lower-case letters, digits, underscore).
    """

    def __init__(self, url: str, *, schema: str = "lifeline") -> None:
        import psycopg

        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"schema {schema!r}: use lower-case letters, digits and _")
        self.url = url
        self.schema = schema
        self.conn = psycopg.connect(_libpq_url(url), autocommit=False)
        with self.conn.transaction():
            self.conn.execute(_DDL.format(s=schema))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> PgSensorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def existing(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], float]:
        """Stored values for the given (sensor, quantity, ts) keys that exist."""
        ks = list(keys)
        if not ks:
            return {}
        sid, qty, ts = (list(x) for x in zip(*ks, strict=True))
        rows = self.conn.execute(
            f"SELECT r.sensor_id, r.quantity, r.ts, r.value FROM {self.schema}.readings r "
            "JOIN unnest(%s::text[], %s::text[], %s::bigint[]) AS k(sensor_id, quantity, ts) "
            "USING (sensor_id, quantity, ts)",
            (sid, qty, [int(t) for t in ts]),
        ).fetchall()
        self.conn.commit()
        return {(r[0], r[1], int(r[2])): float(r[3]) for r in rows}

    def insert_readings(self, frame: pd.DataFrame, *, source: str = "") -> int:
        """Insert new readings in one transaction; keys already stored are left untouched.

        Returns
        -------
        int
            Rows inserted.
        """
        if frame.empty:
            return 0
        with self.conn.transaction():
            cur = self.conn.execute(
                f"INSERT INTO {self.schema}.readings (sensor_id, quantity, ts, value, source) "
                "SELECT sensor_id, quantity, ts, value, %s FROM "
                "unnest(%s::text[], %s::text[], %s::bigint[], %s::float8[]) "
                "AS k(sensor_id, quantity, ts, value) ON CONFLICT DO NOTHING",
                (
                    source,
                    frame["sensor_id"].astype(str).tolist(),
                    frame["quantity"].astype(str).tolist(),
                    [int(x) for x in frame["ts"]],
                    [float(x) for x in frame["value"]],
                ),
            )
            return int(cur.rowcount)

    def readings(
        self,
        *,
        sensor_id: str | None = None,
        quantity: str | None = None,
        start_ts: int | None = None,
        end_ts: int | None = None,
    ) -> pd.DataFrame:
        """Readings as a DataFrame (``sensor_id``, ``quantity``, ``ts``, ``value``), time-sorted."""
        q = f"SELECT sensor_id, quantity, ts, value FROM {self.schema}.readings WHERE TRUE"
        args: list = []
        for col, val, op in (
            ("sensor_id", sensor_id, "="),
            ("quantity", quantity, "="),
            ("ts", start_ts, ">="),
            ("ts", end_ts, "<"),
        ):
            if val is not None:
                q += f" AND {col} {op} %s"
                args.append(val)
        q += " ORDER BY sensor_id, quantity, ts"
        rows = self.conn.execute(q, args).fetchall()
        self.conn.commit()
        out = pd.DataFrame(rows, columns=["sensor_id", "quantity", "ts", "value"])
        return out.astype({"ts": "int64", "value": "float64"})

    def count(self) -> int:
        """Number of stored readings."""
        row = self.conn.execute(f"SELECT COUNT(*) FROM {self.schema}.readings").fetchone()
        assert row is not None  # COUNT(*) always returns one row
        n = row[0]
        self.conn.commit()
        return int(n)

    def save_alarm(self, alarm) -> int:
        """Insert or update an alarm (see :class:`citycheck.lifeline.monitoring.alarms.Alarm`)."""
        vals = (
            alarm.level,
            alarm.last_ts,
            alarm.closed_ts,
            alarm.peak_value,
            alarm.triggers,
            int(alarm.flapping),
            alarm.work_order,
            getattr(alarm, "order_status", None),
        )
        with self.conn.transaction():
            if alarm.alarm_id is None:
                row = self.conn.execute(
                    f"INSERT INTO {self.schema}.alarms (level, last_ts, closed_ts, peak_value, "
                    "triggers, flapping, work_order, order_status, sensor_id, kind, opened_ts) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) RETURNING alarm_id",
                    (*vals, alarm.sensor_id, alarm.kind, alarm.opened_ts),
                ).fetchone()
                assert row is not None  # RETURNING gives the inserted row
                return int(row[0])
            self.conn.execute(
                f"UPDATE {self.schema}.alarms SET level=%s, last_ts=%s, closed_ts=%s, "
                "peak_value=%s, triggers=%s, flapping=%s, work_order=%s, order_status=%s "
                "WHERE alarm_id=%s",
                (*vals, alarm.alarm_id),
            )
            return int(alarm.alarm_id)

    def set_order_status(self, alarm_id: int, status: str) -> None:
        """Record the status of an alarm's work order as read from the hotline."""
        with self.conn.transaction():
            self.conn.execute(
                f"UPDATE {self.schema}.alarms SET order_status=%s WHERE alarm_id=%s",
                (status, int(alarm_id)),
            )

    def alarms(self) -> pd.DataFrame:
        """All alarms."""
        rows = self.conn.execute(
            f"SELECT {', '.join(_ALARM_COLUMNS)} FROM {self.schema}.alarms ORDER BY alarm_id"
        ).fetchall()
        self.conn.commit()
        return pd.DataFrame(rows, columns=_ALARM_COLUMNS)

    def drop(self) -> None:
        """Remove the schema and everything in it (tests; never called by the library)."""
        with self.conn.transaction():
            self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")


def open_store(target: str, **kwargs):
    """A store for a database URL (``postgresql://...``) or an SQLite file path.

    Parameters
    ----------
    target : str
        PostgreSQL URL (``#schema`` at its end picks the schema), ``sqlite:///path`` or a plain
        path.
    **kwargs
        Passed to :class:`PgSensorStore` (``schema``).
    """
    from citycheck.lifeline.monitoring.store import SensorStore

    if re.match(r"^postgres(ql)?(\+\w+)?://", target):
        url, _, schema = target.partition("#")
        if schema:
            kwargs["schema"] = schema
        return PgSensorStore(url, **kwargs)
    return SensorStore(target.removeprefix("sqlite:///"))
