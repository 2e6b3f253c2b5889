"""Time-series store for sensor readings and alarms: SQLite (WAL) or PostgreSQL, one code path.

One table of readings keyed by (sensor, quantity, time) — a reading once stored is never
overwritten or deleted by an ingest: a conflicting re-delivery is reported, not applied
(``INSERT … ON CONFLICT DO NOTHING`` on both databases) — and one table of alarms.

The statements are SQLAlchemy Core, the schema is made by the Alembic migrations in
:mod:`citycheck.lifeline.monitoring.migrations` (as the hotline's are, in
:mod:`citycheck.listen.migrations`).  The store keeps its own version table,
``lifeline_alembic_version``, so that it and the hotline can share one database:

- SQLite: a file (``":memory:"`` for tests); the tables beside the hotline's if the file is
  shared;
- PostgreSQL: the tables and the version table live in a schema of their own (default
  ``lifeline``; ``postgresql://…#schema`` picks another), created when absent.  The readings
  table is a plain B-tree-indexed table ordered by its key, which serves per-sensor time-range
  queries; a city with TimescaleDB can turn it into a hypertable without any change here.

A store written by an earlier version (hand-written DDL, no version table) is taken over by the
first migration: missing tables and columns are added, nothing stored is touched.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateSchema, DropSchema
from sqlalchemy.types import ARRAY

__all__ = ["VERSION_TABLE", "SensorStore", "open_store", "upgrade"]

#: Alembic's version table of the sensor store (the hotline's is ``alembic_version``).
VERSION_TABLE = "lifeline_alembic_version"

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PG_URL = re.compile(r"^postgres(?:ql)?(\+\w+)?://")
#: SQLite: times per lookup statement (one bound value each).
_LOOKUP_CHUNK = 5000

metadata = MetaData()

#: Readings in the canonical unit of their quantity (see units.py); ``ts`` in seconds UTC.
readings_table = Table(
    "readings",
    metadata,
    Column("sensor_id", Text, nullable=False),
    Column("quantity", Text, nullable=False),
    Column("ts", BigInteger, nullable=False),
    Column("value", Double, nullable=False),
    Column("source", Text),
    PrimaryKeyConstraint("sensor_id", "quantity", "ts"),
)

#: Alarms (see :class:`citycheck.lifeline.monitoring.alarms.Alarm`); ``order_status`` is the
#: status of the work order as last read from the hotline.
alarms_table = Table(
    "alarms",
    metadata,
    Column(
        "alarm_id",
        BigInteger().with_variant(Integer, "sqlite"),  # SQLite: INTEGER PRIMARY KEY is the rowid
        primary_key=True,
        autoincrement=True,
    ),
    Column("sensor_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("opened_ts", BigInteger, nullable=False),
    Column("last_ts", BigInteger, nullable=False),
    Column("closed_ts", BigInteger),
    Column("peak_value", Double),
    Column("triggers", Integer, nullable=False),
    Column("flapping", Integer, nullable=False, server_default=text("0")),
    Column("work_order", Text),
    Column("order_status", Text),
    sqlite_autoincrement=True,  # alarm ids are never reused
)

_R = readings_table.c
_A = alarms_table.c
ALARM_COLUMNS = [c.key for c in alarms_table.columns]
_READING_COLUMNS = ["sensor_id", "quantity", "ts", "value"]

# The bulk statements of an ingest: the one place where the two databases get different SQL,
# each the fastest of the forms measured (bench/bench_lifeline_ingest.py, docs/benchmarks.md).
# PostgreSQL: the whole batch as four arrays in ONE statement (INSERT … SELECT FROM unnest;
# lookup by a join with unnest): executemany took twice as long, a row-value IN list or one
# ``ts IN (…)`` per sensor four times as long.  SQLite (in-process, no round trips): executemany
# of the INSERT, and one ``ts IN (…)`` per sensor and quantity for the lookup (a row-value IN
# list was six times slower).

#: PostgreSQL: the readings of a batch, as parallel arrays.
_PG_BATCH = (
    func.unnest(
        bindparam("sensor_ids", type_=ARRAY(Text)),
        bindparam("quantities", type_=ARRAY(Text)),
        bindparam("tss", type_=ARRAY(BigInteger)),
        bindparam("values", type_=ARRAY(Double)),
    )
    .table_valued("sensor_id", "quantity", "ts", "value")
    .render_derived()
)
_PG_INSERT = (
    postgresql.insert(readings_table)
    .from_select(
        ["sensor_id", "quantity", "ts", "value", "source"],
        select(
            _PG_BATCH.c.sensor_id,
            _PG_BATCH.c.quantity,
            _PG_BATCH.c.ts,
            _PG_BATCH.c.value,
            bindparam("source", type_=Text),
        ),
    )
    .on_conflict_do_nothing()
)
_PG_KEYS = (
    func.unnest(
        bindparam("sensor_ids", type_=ARRAY(Text)),
        bindparam("quantities", type_=ARRAY(Text)),
        bindparam("tss", type_=ARRAY(BigInteger)),
    )
    .table_valued("sensor_id", "quantity", "ts")
    .render_derived()
)
_PG_LOOKUP = select(_R.sensor_id, _R.quantity, _R.ts, _R.value).join(
    _PG_KEYS,
    and_(
        _R.sensor_id == _PG_KEYS.c.sensor_id,
        _R.quantity == _PG_KEYS.c.quantity,
        _R.ts == _PG_KEYS.c.ts,
    ),
)
#: SQLite: one row per parameter set (executemany), and the stored times of one sensor.
_SQLITE_INSERT = sqlite.insert(readings_table).on_conflict_do_nothing()
_SQLITE_INSERT_COMPILED = _SQLITE_INSERT.compile(dialect=sqlite.dialect())
assert _SQLITE_INSERT_COMPILED.positiontup == ["sensor_id", "quantity", "ts", "value", "source"]
_SQLITE_INSERT_SQL = str(_SQLITE_INSERT_COMPILED)
_SQLITE_LOOKUP = select(_R.ts, _R.value).where(
    _R.sensor_id == bindparam("sensor_id"),
    _R.quantity == bindparam("quantity"),
    _R.ts.in_(bindparam("tss", expanding=True)),
)


def migrations_dir() -> Path:
    """Folder of the sensor store's Alembic migrations shipped inside the package."""
    return Path(str(resources.files("citycheck.lifeline.monitoring").joinpath("migrations")))


def upgrade(engine: Engine, schema: str | None = None, revision: str = "head") -> None:
    """Bring the sensor store's tables in ``schema`` (PostgreSQL) up to ``revision``.

    Idempotent; on PostgreSQL the schema is created when absent and concurrent upgrades (several
    server workers starting at once) wait for each other on an advisory lock.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        if schema is not None:
            conn.execute(select(func.pg_advisory_xact_lock(_lock_key(schema))))
            conn.execute(CreateSchema(schema, if_not_exists=True))
        cfg.attributes["connection"] = conn
        cfg.attributes["schema"] = schema
        command.upgrade(cfg, revision)


def _lock_key(schema: str) -> int:
    """A stable 63-bit advisory-lock key for one schema's migrations."""
    digest = hashlib.sha256(f"citycheck.lifeline:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _engine(url: str, schema: str | None) -> Engine:
    """An engine for the store: SQLite in WAL mode, or PostgreSQL with the schema mapped."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:") or ":memory:" in url
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # in memory: one connection shared by every thread, or each would see its own database
            poolclass=StaticPool if memory else None,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=4, max_overflow=4, pool_recycle=1800)
    return engine.execution_options(schema_translate_map={None: schema})


def _split_target(target: str | Path, schema: str | None) -> tuple[str, str | None]:
    """(SQLAlchemy URL, schema or None) of a path, an SQLite URL or a PostgreSQL URL."""
    target = str(target)
    m = _PG_URL.match(target)
    if m:
        url, _, fragment = target.partition("#")
        schema = fragment or schema or "lifeline"
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"schema {schema!r}: use lower-case letters, digits and _")
        driver = m.group(1) or "+psycopg"
        return _PG_URL.sub(f"postgresql{driver}://", url, count=1), schema
    if target.startswith("sqlite:"):
        return target, None
    return ("sqlite://" if target == ":memory:" else f"sqlite:///{target}"), None


class SensorStore:
    """Readings and alarms in SQLite or PostgreSQL.

    Parameters
    ----------
    target : str or Path
        An SQLite file (created with its tables when absent), ``":memory:"`` (tests),
        ``sqlite:///path``, or a ``postgresql://`` / ``postgresql+psycopg://`` URL, optionally
        ending in ``#schema``.
    schema : str, optional
        PostgreSQL: schema of the tables (lower-case letters, digits, underscore; default
        ``lifeline``); a ``#schema`` in the URL wins.  Ignored for SQLite.
    """

    def __init__(self, target: str | Path = ":memory:", *, schema: str | None = None) -> None:
        self.url, self.schema = _split_target(target, schema)
        self.path = None if self.schema is not None else str(target).removeprefix("sqlite:///")
        self.engine = _engine(self.url, self.schema)
        self._pg = self.engine.dialect.name == "postgresql"
        try:
            upgrade(self.engine, self.schema)
        except Exception:
            self.engine.dispose()
            raise

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    def __enter__(self) -> SensorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- readings
    def existing(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], float]:
        """Stored values for the given (sensor, quantity, ts) keys that exist."""
        ks = [(str(s), str(q), int(t)) for s, q, t in keys]
        out: dict[tuple[str, str, int], float] = {}
        if not ks:
            return out
        with self.engine.connect() as conn:
            if self._pg:
                sids, qtys, tss = (list(x) for x in zip(*ks, strict=True))
                params = {"sensor_ids": sids, "quantities": qtys, "tss": tss}
                for s, q, t, v in conn.execute(_PG_LOOKUP, params):
                    out[(s, q, int(t))] = float(v)
                return out
            by_sensor: dict[tuple[str, str], list[int]] = {}
            for s, q, t in ks:
                by_sensor.setdefault((s, q), []).append(t)
            for (s, q), times in by_sensor.items():
                for chunk in _chunks(times, _LOOKUP_CHUNK):
                    one = {"sensor_id": s, "quantity": q, "tss": chunk}
                    for t, v in conn.execute(_SQLITE_LOOKUP, one):
                        out[(s, q, int(t))] = float(v)
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
        if frame.empty:
            return 0
        sids = frame["sensor_id"].astype(str).tolist()
        qtys = frame["quantity"].astype(str).tolist()
        tss = frame["ts"].astype("int64").tolist()
        values = frame["value"].astype("float64").tolist()
        with self.engine.begin() as conn:
            conn = conn.execution_options(preserve_rowcount=True)
            if self._pg:
                params = {
                    "sensor_ids": sids,
                    "quantities": qtys,
                    "tss": tss,
                    "values": values,
                    "source": source,
                }
                return int(conn.execute(_PG_INSERT, params).rowcount)
            rows = list(zip(sids, qtys, tss, values, itertools.repeat(source), strict=False))
            # the compiled INSERT with positional rows, straight to sqlite3's executemany (which
            # sums the rows changed): SQLAlchemy's processing of one dict per row took 2.5 times
            # as long
            return int(conn.exec_driver_sql(_SQLITE_INSERT_SQL, rows).rowcount)

    def readings(
        self,
        *,
        sensor_id: str | None = None,
        quantity: str | None = None,
        start_ts: int | None = None,
        end_ts: int | None = None,
    ) -> pd.DataFrame:
        """Readings as a DataFrame (``sensor_id``, ``quantity``, ``ts``, ``value``), time-sorted."""
        q = select(_R.sensor_id, _R.quantity, _R.ts, _R.value)
        if sensor_id is not None:
            q = q.where(_R.sensor_id == sensor_id)
        if quantity is not None:
            q = q.where(_R.quantity == quantity)
        if start_ts is not None:
            q = q.where(_R.ts >= int(start_ts))
        if end_ts is not None:
            q = q.where(_R.ts < int(end_ts))
        q = q.order_by(_R.sensor_id, _R.quantity, _R.ts)
        with self.engine.connect() as conn:
            # the driver's own tuples (text, integers and floats need no conversion on either
            # database): a frame from SQLAlchemy's Row objects took 1.5 s for 100,000 readings,
            # from Rows made into tuples 0.3 s, from the driver's rows 0.2 s
            rows = conn.execute(q).cursor.fetchall()
        out = pd.DataFrame(rows, columns=_READING_COLUMNS)
        return out.astype({"ts": "int64", "value": "float64"})

    def count(self) -> int:
        """Number of stored readings."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(readings_table)).scalar_one())

    # ---------------------------------------------------------------- alarms
    def save_alarm(self, alarm: Any) -> int:
        """Insert or update an alarm (see :class:`citycheck.lifeline.monitoring.alarms.Alarm`)."""
        values = {
            "level": alarm.level,
            "last_ts": alarm.last_ts,
            "closed_ts": alarm.closed_ts,
            "peak_value": alarm.peak_value,
            "triggers": alarm.triggers,
            "flapping": int(alarm.flapping),
            "work_order": alarm.work_order,
            "order_status": getattr(alarm, "order_status", None),
        }
        with self.engine.begin() as conn:
            if alarm.alarm_id is None:
                new = {
                    "sensor_id": alarm.sensor_id,
                    "kind": alarm.kind,
                    "opened_ts": alarm.opened_ts,
                    **values,
                }
                stmt = insert(alarms_table).values(new).returning(_A.alarm_id)
                return int(conn.execute(stmt).scalar_one())
            conn.execute(update(alarms_table).where(_A.alarm_id == alarm.alarm_id).values(values))
            return int(alarm.alarm_id)

    def set_order_status(self, alarm_id: int, status: str) -> None:
        """Record the status of an alarm's work order as read from the hotline."""
        with self.engine.begin() as conn:
            conn.execute(
                update(alarms_table).where(_A.alarm_id == int(alarm_id)).values(order_status=status)
            )

    def alarms(self) -> pd.DataFrame:
        """All alarms, in the order they were opened."""
        with self.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(select(alarms_table).order_by(_A.alarm_id))]
        return pd.DataFrame(rows, columns=ALARM_COLUMNS)

    # ---------------------------------------------------------------- tests
    def drop(self) -> None:
        """Remove the store's tables (PostgreSQL: its schema) and version table (tests; never
        called by the library)."""
        with self.engine.begin() as conn:
            if self.schema is not None:
                conn.execute(DropSchema(self.schema, cascade=True, if_exists=True))
                return
            metadata.drop_all(conn)
            conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


def _chunks(items: list[Any], n: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def open_store(target: str | Path, **kwargs: Any) -> SensorStore:
    """A store for a database URL (``postgresql://...``) or an SQLite file path.

    Parameters
    ----------
    target : str
        PostgreSQL URL (``#schema`` at its end picks the schema), ``sqlite:///path`` or a plain
        path.
    **kwargs
        Passed to :class:`SensorStore` (``schema``).
    """
    return SensorStore(target, **kwargs)
