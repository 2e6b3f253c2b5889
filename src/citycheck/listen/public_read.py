"""The public GET's database read: one prepared SELECT of exactly the columns Open311 may show.

The public GET by id is the hotline's most frequent request, and on 2 cores its CPU bounds the
rate.  Measured on one order row (PostgreSQL 15, psycopg 3, 5,000 reads in one thread): a Core
``select(Order.__table__)`` through SQLAlchemy cost 145 us of CPU per read, of which the
statement's execution machinery and result processing about 60 us, the per-checkout switch to
autocommit and back about 40 us, and the encrypted personal columns that the public view never
shows about 25 us; the same SELECT of the public columns sent by the driver as a server-side
prepared statement cost 20 us.  This module does the latter:

- the statement is compiled once by SQLAlchemy for the engine's dialect (so the SQL and the
  parameter style are the dialect's own), and executed on the pooled driver connection;
- PostgreSQL: the reads use their own small pool of autocommit connections (a single SELECT
  needs no transaction; a BEGIN and a ROLLBACK would be two more round trips), and
  ``prepare=True`` makes psycopg prepare the statement once per connection;
- SQLite: the engine's pool; the sqlite3 module caches the compiled statement per connection;
- the values pass through the column types' own result processors (SQLite stores date-times as
  text and booleans as integers), so a row equals what the ORM would give;
- only :data:`PUBLIC_COLUMNS` are read: no personal field (encrypted or not) leaves the database
  on the public path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, bindparam, create_engine, select

from citycheck.listen.models import Order


class PublicOrder(NamedTuple):
    """The columns of an order that the public view (Open311 GET) may use."""

    id: int
    status: str
    status_notes: str | None
    service_code: str | None
    description_public: str
    lead_unit: str | None
    requested_at: datetime
    updated_at: datetime
    close_due: datetime | None
    lat: float | None
    lon: float | None
    media_url: str | None
    confidential: bool
    duplicate_of: int | None
    duplicates: int
    escalation: int


#: The order columns read for the public view, in :class:`PublicOrder`'s order.
PUBLIC_COLUMNS: tuple[str, ...] = PublicOrder._fields


class PublicOrderReader:
    """Reads :class:`PublicOrder` records by id with one prepared statement.

    Parameters
    ----------
    engine
        The store's engine.  On PostgreSQL a second engine to the same database is made for
        the reads, in autocommit, with ``pool_size`` connections kept open (opened on first
        use); on SQLite the reads share ``engine``'s pool.
    pool_size, max_overflow
        PostgreSQL: the read pool's size and overflow (see :func:`citycheck.listen.db.make_engine`).
    """

    def __init__(self, engine: Engine, *, pool_size: int = 16, max_overflow: int = 8) -> None:
        dialect = engine.dialect
        self._is_pg = dialect.name == "postgresql"
        self._owned = self._is_pg
        self.engine = (
            create_engine(
                engine.url,
                isolation_level="AUTOCOMMIT",
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_recycle=1800,
            )
            if self._is_pg
            else engine
        )
        table = Order.__table__
        cols = [table.c[name] for name in PUBLIC_COLUMNS]
        compiled = select(*cols).where(table.c.id == bindparam("id")).compile(dialect=dialect)
        self.sql: str = compiled.string
        self._positional = bool(compiled.positiontup)
        self._types = [c.type.dialect_impl(dialect) for c in cols]
        self._dialect = dialect
        # (column index, converter), from the first result's driver type codes, as SQLAlchemy
        # does for its own results
        self._processors: list[tuple[int, Callable[[Any], Any]]] | None = None

    def get(self, order_id: int) -> PublicOrder | None:
        """The public columns of order ``order_id``, or None when there is no such order."""
        params: Any = (order_id,) if self._positional else {"id": order_id}
        conn = self.engine.raw_connection()
        try:
            if self._is_pg:
                cur = conn.driver_connection.execute(self.sql, params, prepare=True)
            else:
                cur = conn.cursor()
                cur.execute(self.sql, params)
            row = cur.fetchone()
            if self._processors is None:
                self._processors = self._result_processors(cur.description)
            cur.close()
        except self.engine.dialect.loaded_dbapi.Error:
            conn.invalidate()  # a broken connection is not handed to the next request
            raise
        finally:
            conn.close()  # back to the pool
        if row is None:
            return None
        if self._processors:
            values = list(row)
            for i, process in self._processors:
                values[i] = process(values[i])
            return PublicOrder._make(values)
        return PublicOrder._make(row)

    def _result_processors(self, description: Any) -> list[tuple[int, Callable[[Any], Any]]]:
        """The column types' result processors for the driver's type codes (None: as is)."""
        out = []
        for i, (impl, col) in enumerate(zip(self._types, description, strict=True)):
            process = impl.result_processor(self._dialect, col[1])
            if process is not None:
                out.append((i, process))
        return out

    def close(self) -> None:
        """Close the read pool's connections (PostgreSQL; SQLite's belong to the store)."""
        if self._owned:
            self.engine.dispose()
