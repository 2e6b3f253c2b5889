"""The system services some tests need: said once, here, when they are absent.

The hotline and sensor-store tests run on SQLite always and on PostgreSQL as well when
``CITYCHECK_TEST_PG_URL`` names a server (``.ci/run`` starts one); without it their PostgreSQL
variants are not collected, and this test skips saying so. The browser tests skip one by one.
"""

from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("CITYCHECK_TEST_PG_URL")


def test_postgresql_server_for_the_database_variants() -> None:
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL (CITYCHECK_TEST_PG_URL; see .ci/run)")
        pytest.skip(
            "no PostgreSQL server: the PostgreSQL variants of the hotline and sensor-store tests "
            "are not run; set CITYCHECK_TEST_PG_URL=postgresql+psycopg://USER@HOST:PORT/DB "
            "(.ci/run starts one)"
        )
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.connect() as conn:
        assert conn.execute(text("select 1")).scalar() == 1
    engine.dispose()
