"""The hotline store's seams: the migrations from an empty database to head (and back), and the
:class:`Hotline` front over its intake, queries and accounts parts (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from citycheck.listen.db import alembic_config, downgrade, make_engine, upgrade
from citycheck.listen.domain import EventKind, Status
from citycheck.listen.models import Base
from citycheck.listen.store import Hotline, Intake, Staff
from citycheck.listen.store import intake as intake_module
from citycheck.listen.store.accounts import Accounts
from citycheck.listen.store.core import StoreCore
from citycheck.listen.store.intake import OrderIntake
from citycheck.listen.store.queries import OrderQueries


def test_migrations_from_empty_to_head_match_the_models_and_go_back(db_url):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = make_engine(db_url)
    try:
        assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
        upgrade(engine)
        upgrade(engine)  # idempotent
        with engine.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head
        insp = inspect(engine)
        for name, table in Base.metadata.tables.items():  # the migrations make what is mapped
            cols = {c["name"] for c in insp.get_columns(name)}
            assert cols == {c.name for c in table.columns}, name
        indexes = {i["name"] for i in insp.get_indexes("orders")}
        assert {"ix_orders_dup_lookup", "ix_orders_dup_place"} <= indexes
        downgrade(engine)
        assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_hotline_is_a_front_over_its_parts(hotline):
    core = hotline.core
    assert hotline.intake.core is core and hotline.queries.core is core
    assert hotline.accounts.core is core and hotline.engine is core.engine
    assert hotline._committer is hotline.intake.committer
    assert hotline._public is hotline.queries.public
    # written through one part, read through another and through the front
    order = hotline.intake.submit(Intake("路灯不亮", service_code="urban"))
    assert hotline.queries.get(order.id).status == order.status
    assert [e.kind for e in hotline.events(order.id)] == [
        e.kind for e in hotline.queries.events(order.id)
    ]
    token = hotline.accounts.create_staff("sup", "supervisor")
    staff = hotline.staff_for_token(token)
    assert staff == Staff("sup", "supervisor", None)
    state = hotline.act(order.id, EventKind.NOTE, staff, reason="checked")
    assert hotline.queries.state(order.id) == state
    key = hotline.create_api_key("app")
    assert hotline.accounts.check_api_key(key) and hotline.api_key_known_valid(key)
    assert hotline.count() == hotline.queries.count() == 1
    assert hotline.verify_log() == []


def test_parts_work_without_the_front(settings):
    """A reader needs no writer: queries and accounts over a core start no group committer."""
    before = {t.name for t in threading.enumerate()}
    core = StoreCore(settings)
    queries, accounts = OrderQueries(core), Accounts(core)
    try:
        token = accounts.create_staff("disp", "dispatcher")
        assert accounts.staff_for_token(token) == Staff("disp", "dispatcher", None)
        assert queries.count() == 0 and queries.search() == []
        started = {t.name for t in threading.enumerate()} - before
        assert not [n for n in started if n.startswith("hotline-group-commit")]
        writer = OrderIntake(core)
        try:
            order = writer.submit(Intake("楼道灯坏了", service_code="urban"))
        finally:
            writer.close()
        assert queries.get(order.id).status != Status.ACCEPTED.value  # classified, dispatched
        assert queries.verify_log() == []
    finally:
        queries.close()
        core.close()


def test_group_commit_warnings_stay_under_the_store_logger():
    """tests/listen/test_store.py listens to ``citycheck.listen.store`` for group-commit
    failures: the intake part logs below it."""
    assert intake_module.log.name.startswith("citycheck.listen.store.")
    assert Hotline.__module__ == "citycheck.listen.store"
