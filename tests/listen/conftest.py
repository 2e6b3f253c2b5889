"""Fixtures for the hotline tests: a store on a temporary SQLite file (or PostgreSQL via env)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline

PG_URL = os.environ.get("CITYCHECK_TEST_PG_URL")  # e.g. postgresql+psycopg://postgres@/citycheck
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI must provide PostgreSQL for the hotline tests (see .ci/run)")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


#: PostgreSQL databases made by :func:`fresh_db_url` and not dropped yet (name -> URL).
_CREATED: dict[str, str] = {}


def fresh_db_url(backend: str, tmp_path) -> str:
    """A new empty database for one test (PostgreSQL ones are dropped by :func:`drop_db_url`
    at the fixture's teardown, or at the end of the session at the latest)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/hotline.db"
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    _CREATED[name] = url
    return url


def drop_db_url(url: str) -> None:
    """Drop a PostgreSQL database made by :func:`fresh_db_url` (nothing for SQLite files).

    Call it after the test's engines are disposed; ``WITH (FORCE)`` (PostgreSQL 13+) ends
    connections still left open, e.g. by a server process that a test killed.
    """
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    _CREATED.pop(name, None)


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_databases():
    """Databases made outside the ``db_url`` fixture (module fixtures) go at the session end."""
    yield
    for url in list(_CREATED.values()):
        drop_db_url(url)


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    url = fresh_db_url(request.param, tmp_path)
    yield url  # fixtures that use it (``hotline``) are torn down first: engines disposed
    drop_db_url(url)


@pytest.fixture
def settings(db_url) -> HotlineSettings:
    return HotlineSettings(db_url=db_url, secret="test-secret", confidence_threshold=0.5)


@pytest.fixture
def hotline(settings):
    h = Hotline(settings)
    yield h
    h.close()


@pytest.fixture(autouse=True)
def _hotline_environment_restored():
    """`hotline serve` hands its options to the server's worker processes through
    CITYCHECK_HOTLINE_* variables; undo what a test's CLI call set so that no later test
    inherits another test's database, model or jurisdiction file."""
    before = {k: v for k, v in os.environ.items() if k.startswith("CITYCHECK_HOTLINE_")}
    yield
    for key in [k for k in os.environ if k.startswith("CITYCHECK_HOTLINE_")]:
        if key not in before:
            del os.environ[key]
    os.environ.update(before)
