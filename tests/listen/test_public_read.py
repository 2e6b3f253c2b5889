"""The public GET's read (prepared SELECT of the public columns) against the ORM row as oracle."""

from __future__ import annotations

import asyncio
import gc

import pytest
from sqlalchemy import create_engine, text

from citycheck.listen.domain import EventKind
from citycheck.listen.models import Order
from citycheck.listen.public_read import PUBLIC_COLUMNS, PublicOrder
from citycheck.listen.store import Intake, Staff
from citycheck.web.hotline.public_view import request_view
from citycheck.web.hotline.server import freeze_startup_heap

from .conftest import PG_URL, drop_db_url, fresh_db_url

NE = Staff("ne", "unit", "jd_ne")
LAT, LON = 39.97, 116.36  # inside the demo north-east street office


def _orders(hotline) -> list[int]:
    """Orders that cover the public view's branches: plain, confidential with personal data,
    with a media URL, a duplicate and its master, one signed for by its unit."""
    plain = hotline.submit(Intake("路灯不亮", service_code="urban", lat=LAT, lon=LON))
    secret = hotline.submit(
        Intake(
            "我叫王小明，电话13912345678，幸福路88号漏水",
            service_code="labour",
            name="王小明",
            phone="13912345678",
            address="幸福路88号",
            confidential=True,
            lat=LAT,
            lon=LON,
        )
    )
    media = hotline.submit(
        Intake("井盖丢失", service_code="urban", media_url="https://example.org/a.jpg")
    )
    master = hotline.submit(Intake("小区门口路面塌陷", service_code="urban", lat=LAT, lon=LON))
    dup = hotline.submit(Intake("小区门口路面塌陷了", service_code="urban", lat=LAT, lon=LON))
    hotline.act(plain.id, EventKind.SIGN, NE)
    return [plain.id, secret.id, media.id, master.id, dup.id]


def test_public_read_equals_the_orm_row(hotline):
    ids = _orders(hotline)
    linked = hotline.get(ids[-1])
    assert linked.duplicate_of == ids[-2], "the fixture should contain a linked duplicate"
    for oid in ids:
        orm = hotline.get(oid)
        rec = hotline.public_order(oid)
        assert isinstance(rec, PublicOrder)
        for name in PUBLIC_COLUMNS:
            assert getattr(rec, name) == getattr(orm, name), (oid, name)
            assert type(getattr(rec, name)) is type(getattr(orm, name)), (oid, name)
        for locale in ("zh", "en"):
            for ext in (False, True):
                assert request_view(rec, hotline, locale=locale, extensions=ext) == request_view(
                    orm, hotline, locale=locale, extensions=ext
                )
    assert hotline.public_order(max(ids) + 1000) is None


def test_async_read_equals_sync_read_on_each_new_loop(hotline):
    ids = _orders(hotline)

    async def read_all() -> list[PublicOrder | None]:
        # concurrent reads on one loop share its pool
        return await asyncio.gather(*[hotline.public_order_async(i) for i in [*ids, 10**9]])

    expected = [hotline.public_order(i) for i in ids] + [None]
    assert asyncio.run(read_all()) == expected
    hotline.act(ids[3], EventKind.SIGN, NE)  # changes the row
    expected[3] = hotline.public_order(ids[3])
    assert expected[3].status == "signed"
    assert asyncio.run(read_all()) == expected  # a second loop: its own connections, fresh data


def test_async_read_on_one_loop_sees_each_commit(hotline):
    """The loop keeps its connection between reads: it must not keep a snapshot too."""
    o = hotline.submit(Intake("小区门口路面塌陷", service_code="urban", lat=LAT, lon=LON))

    async def read_change_read() -> tuple[str, str]:
        before = (await hotline.public_order_async(o.id)).status
        await asyncio.to_thread(hotline.act, o.id, EventKind.SIGN, NE)  # another connection
        return before, (await hotline.public_order_async(o.id)).status

    assert asyncio.run(read_change_read()) == ("dispatched", "signed")


def test_public_read_selects_no_personal_column(hotline):
    personal = {
        "token",
        "description_enc",
        "name_enc",
        "phone_enc",
        "email_enc",
        "address_enc",
        "device_id",
        "account_id",
        "attributes",
        "external_id",
        "assisting_units",
    }
    assert set(PUBLIC_COLUMNS) <= {c.key for c in Order.__table__.columns}
    assert not personal & set(PUBLIC_COLUMNS)
    sql = hotline._public.sql.lower()
    assert not [c for c in personal if c in sql]


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL connection handling")
def test_async_read_replaces_a_connection_the_server_dropped(tmp_path):
    import psycopg

    from citycheck.listen.settings import HotlineSettings
    from citycheck.listen.store import Hotline

    url = fresh_db_url("postgresql", tmp_path)
    h = Hotline(HotlineSettings(db_url=url, secret="s", pg_pool_size=1))
    try:
        oid = h.submit(Intake("路灯不亮", service_code="urban")).id
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")

        async def scenario() -> list[str]:
            out = []
            assert (await h.public_order_async(oid)).id == oid
            (pid,) = [c.info.backend_pid for c in h._public._async_pool._open]
            with admin.connect() as c:
                c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            await asyncio.sleep(0.2)
            try:
                await h.public_order_async(oid)
                out.append("no error")
            except psycopg.OperationalError as exc:  # the request on the dropped one fails
                out.append(type(exc).__name__)
            # the next gets a new connection: the pool of 1 was not lost
            out.append(str((await asyncio.wait_for(h.public_order_async(oid), 10)).id))
            return out

        first, second = asyncio.run(scenario())
        admin.dispose()
        assert first == "AdminShutdown"  # terminated by pg_terminate_backend
        assert second == str(oid)
    finally:
        h.close()
        drop_db_url(url)


def test_freeze_startup_heap_moves_objects_out_of_collections():
    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > before
        assert gc.get_freeze_count() > 10_000  # the test process's imports
    finally:
        gc.unfreeze()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL databases")
def test_test_databases_are_dropped_even_with_connections_open(tmp_path):
    url = fresh_db_url("postgresql", tmp_path)
    name = url.rsplit("/", 1)[1]
    left_open = create_engine(url).connect()  # e.g. of a server a test killed
    drop_db_url(url)
    admin = create_engine(PG_URL)
    with admin.connect() as c:
        n = c.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name})
        assert n.scalar() == 0
    admin.dispose()
    left_open.invalidate()
