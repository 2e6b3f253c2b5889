"""A PostgreSQL URL without its driver installed gets a one-line error, not a traceback."""

from __future__ import annotations

import sys

import pytest

from citycheck.io.errors import InputError
from citycheck.listen.db import make_engine


def test_missing_driver_is_named_without_the_password(monkeypatch):
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith("psycopg.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    with pytest.raises(InputError) as err:
        make_engine("postgresql+psycopg://clerk:s3cret@127.0.0.1:5432/hotline")
    text = str(err.value)
    assert "psycopg" in text and "citycheck[pg]" in text
    assert "s3cret" not in text and "clerk" in text


def test_sqlite_url_still_opens(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/h.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select 1").scalar() == 1
    engine.dispose()
