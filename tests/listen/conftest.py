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


def fresh_db_url(backend: str, tmp_path) -> str:
    """A new empty database for one test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/hotline.db"
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    return fresh_db_url(request.param, tmp_path)


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
