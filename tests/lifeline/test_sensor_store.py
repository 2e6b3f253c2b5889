"""The sensor store on SQLite and PostgreSQL: migrations from empty to head, a store written by an
earlier version taken over, readings and alarms round trips, and a database shared with the
hotline (each with its own version table)."""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from citycheck.lifeline.monitoring.alarms import Alarm
from citycheck.lifeline.monitoring.store import VERSION_TABLE, SensorStore, open_store

#: as in conftest.py (tests/lifeline is not a package, so its conftest is not importable here)
PG_URL = os.environ.get("CITYCHECK_TEST_PG_URL")
STORE_BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

HEAD = "0001"


def _version(store: SensorStore) -> list[str]:
    table = f"{store.schema}.{VERSION_TABLE}" if store.schema else VERSION_TABLE
    with store.engine.connect() as c:
        return [r[0] for r in c.execute(text(f"SELECT version_num FROM {table}"))]


def test_migrations_from_empty_to_head_and_idempotent(store_target):
    with open_store(store_target) as store:
        assert _version(store) == [HEAD]
        tables = set(inspect(store.engine).get_table_names(schema=store.schema))
        assert {"readings", "alarms", VERSION_TABLE} <= tables
        assert "alembic_version" not in tables  # the hotline's version table is not ours
        cols = {c["name"] for c in inspect(store.engine).get_columns("alarms", schema=store.schema)}
        assert "order_status" in cols
        store.insert_readings(_frame([("P1", "pressure", 0, 30.0)]))
    with open_store(store_target) as again:  # opening again migrates nothing, keeps the data
        assert _version(again) == [HEAD] and again.count() == 1


def _frame(rows):
    return pd.DataFrame(rows, columns=["sensor_id", "quantity", "ts", "value"])


def test_readings_round_trip(sensor_store):
    store = sensor_store
    assert store.count() == 0 and store.existing([]) == {}
    empty = store.readings()
    assert list(empty.columns) == ["sensor_id", "quantity", "ts", "value"] and empty.empty
    rows = [("P2", "pressure", t, 30.0 + t / 1000) for t in (900, 0, 1800)]
    rows += [("P1", "pressure", 0, 31.5), ("P1", "flow", 0, 2.25), ("G1", "gas", 60, 16.0)]
    assert store.insert_readings(_frame(rows), source="feed.csv") == 6
    # a re-delivery: stored keys are left as they are, only the new one goes in
    again = [("P1", "pressure", 0, 99.0), ("P1", "pressure", 900, 31.0)]
    assert store.insert_readings(_frame(again)) == 1
    assert store.insert_readings(_frame([])) == 0
    assert store.count() == 7
    got = store.readings()
    assert got["ts"].dtype == "int64" and got["value"].dtype == "float64"
    assert list(got.itertuples(index=False, name=None)) == [
        ("G1", "gas", 60, 16.0),
        ("P1", "flow", 0, 2.25),
        ("P1", "pressure", 0, 31.5),
        ("P1", "pressure", 900, 31.0),
        ("P2", "pressure", 0, 30.0),
        ("P2", "pressure", 900, 30.9),
        ("P2", "pressure", 1800, 31.8),
    ]
    p2 = store.readings(sensor_id="P2", quantity="pressure", start_ts=900, end_ts=1800)
    assert p2["ts"].tolist() == [900]  # start inclusive, end exclusive
    assert store.readings(quantity="flow")["sensor_id"].tolist() == ["P1"]
    keys = [("P1", "pressure", 0), ("P1", "pressure", 1), ("X", "gas", 60), ("G1", "gas", 60)]
    assert store.existing(iter(keys)) == {("P1", "pressure", 0): 31.5, ("G1", "gas", 60): 16.0}


def test_many_readings_in_one_ingest(sensor_store):
    """More keys than one lookup statement takes, over several sensors."""
    n = 12_000
    frame = pd.DataFrame(
        {
            "sensor_id": [f"S{i % 3}" for i in range(n)],
            "quantity": "pressure",
            "ts": [900 * (i // 3) for i in range(n)],
            "value": [float(i) for i in range(n)],
        }
    )
    assert sensor_store.insert_readings(frame) == n
    found = sensor_store.existing(frame[["sensor_id", "quantity", "ts"]].itertuples(index=False))
    assert len(found) == n and found[("S2", "pressure", 900 * 3999)] == float(n - 1)
    assert sensor_store.insert_readings(frame) == 0


def test_alarms_round_trip(sensor_store):
    store = sensor_store
    a = Alarm("G1", "gas", 1, opened_ts=0, last_ts=60, peak_value=30.0, triggers=2)
    a.alarm_id = store.save_alarm(a)
    b = Alarm("W1", "water_level", 2, opened_ts=120, last_ts=120, work_order="WO-7")
    b.alarm_id = store.save_alarm(b)
    assert b.alarm_id > a.alarm_id
    a.level, a.last_ts, a.closed_ts, a.flapping, a.work_order = 2, 900, 1800, True, "WO-6"
    assert store.save_alarm(a) == a.alarm_id
    store.set_order_status(b.alarm_id, "dispatched")
    got = store.alarms()
    assert list(got.columns) == [
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
    first, second = got.to_dict("records")
    assert first["alarm_id"] == a.alarm_id and first["level"] == 2 and first["closed_ts"] == 1800
    assert first["flapping"] == 1 and first["work_order"] == "WO-6"
    assert first["peak_value"] == pytest.approx(30.0) and pd.isna(first["order_status"])
    assert second["sensor_id"] == "W1" and second["order_status"] == "dispatched"
    assert pd.isna(second["closed_ts"]) and pd.isna(second["peak_value"])


def test_in_memory_store_is_one_database_for_every_thread():
    with SensorStore(":memory:") as store:
        t = threading.Thread(target=store.insert_readings, args=(_frame([("P1", "flow", 0, 1)]),))
        t.start()
        t.join()
        assert store.count() == 1 and store.path == ":memory:"


def test_sqlite_store_of_an_older_version_keeps_its_readings(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE readings (sensor_id TEXT NOT NULL, quantity TEXT NOT NULL,"
        " ts INTEGER NOT NULL, value REAL NOT NULL, source TEXT,"
        " PRIMARY KEY (sensor_id, quantity, ts));"
        "INSERT INTO readings VALUES ('P1', 'pressure', 0, 35.0, 'old.csv');"
    )
    con.commit()
    con.close()
    with SensorStore(f"sqlite:///{path}") as store:
        assert _version(store) == [HEAD]
        assert store.existing([("P1", "pressure", 0)]) == {("P1", "pressure", 0): 35.0}
        assert store.insert_readings(_frame([("P1", "pressure", 0, 1.0)])) == 0
        assert store.alarms().empty  # the missing table was made


@pytest.mark.skipif(not PG_URL, reason="needs CITYCHECK_TEST_PG_URL")
def test_postgresql_store_of_an_older_version_is_taken_over():
    """A schema made by the former hand-written DDL (before work orders were followed)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    eng = create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
        c.execute(
            text(
                f"CREATE TABLE {schema}.readings (sensor_id TEXT NOT NULL, quantity TEXT NOT NULL,"
                " ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, source TEXT,"
                " PRIMARY KEY (sensor_id, quantity, ts))"
            )
        )
        c.execute(
            text(
                f"CREATE TABLE {schema}.alarms (alarm_id BIGSERIAL PRIMARY KEY,"
                " sensor_id TEXT NOT NULL, kind TEXT NOT NULL, level INTEGER NOT NULL,"
                " opened_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL, closed_ts BIGINT,"
                " peak_value DOUBLE PRECISION, triggers INTEGER NOT NULL,"
                " flapping INTEGER NOT NULL DEFAULT 0, work_order TEXT)"
            )
        )
        c.execute(text(f"INSERT INTO {schema}.readings VALUES ('P1', 'pressure', 0, 35, NULL)"))
        c.execute(
            text(
                f"INSERT INTO {schema}.alarms (sensor_id, kind, level, opened_ts, last_ts,"
                " triggers) VALUES ('G1', 'gas', 1, 0, 0, 1)"
            )
        )
    eng.dispose()
    store = open_store(f"{PG_URL}#{schema}")
    try:
        assert _version(store) == [HEAD] and store.count() == 1
        a = store.alarms()
        assert a["sensor_id"].tolist() == ["G1"] and a["order_status"].isna().all()
        new = Alarm("G2", "gas", 1, opened_ts=5, last_ts=5)
        assert store.save_alarm(new) == int(a["alarm_id"].iloc[0]) + 1
    finally:
        store.drop()
        store.close()


@pytest.fixture(params=STORE_BACKENDS)
def shared_db_url(request, tmp_path):
    """A new empty database: an SQLite file, or a PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/shared.db"
        return
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_store_shares_a_database_with_the_hotline(shared_db_url):
    """The hotline's migrations and the store's in one database, in either order: each keeps
    its own version table at its own head, and neither touches the other's tables."""
    from alembic.script import ScriptDirectory

    from citycheck.listen.db import alembic_config, make_engine, upgrade

    hotline_head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    target = shared_db_url if shared_db_url.startswith("sqlite") else shared_db_url + "#lifeline"
    hot = make_engine(shared_db_url)
    try:
        with open_store(target) as store:
            store.insert_readings(_frame([("P1", "pressure", 0, 30.0)]))
        upgrade(hot)  # the hotline's tables after the store's
        with open_store(target) as store:  # and the store opened again after the hotline's
            assert _version(store) == [HEAD] and store.count() == 1
            names = set(inspect(store.engine).get_table_names(schema=store.schema))
        with hot.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
                hotline_head
            )
            public = set(inspect(c).get_table_names())
        assert {"orders", "order_events", "alembic_version"} <= public
        assert {"readings", "alarms", VERSION_TABLE} <= names
        if store.schema is not None:  # PostgreSQL: the store keeps to its own schema
            assert not {"readings", "alarms", VERSION_TABLE} & public
            assert not {"orders", "alembic_version"} & names
    finally:
        hot.dispose()


def test_pg_store_name_kept_for_old_imports():
    from citycheck.lifeline.monitoring import store_pg

    assert store_pg.open_store is open_store
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        store_pg.PgSensorStore("sensors.db")
    with pytest.raises(ValueError, match="schema"):
        open_store("postgresql://localhost/x#Bad-Name")
