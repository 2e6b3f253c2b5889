"""The public GET's database read: one prepared SELECT of exactly the columns Open311 may show.

The public GET by id is the hotline's most frequent request, and on 2 cores its CPU bounds the
rate.  Measured on one order row (PostgreSQL 15, psycopg 3, 5,000 reads in one thread, CPU time):
the former Core ``select(Order.__table__)`` on an engine switched to autocommit per checkout cost
145 us per read; the switch to autocommit and back accounted for 37 us, the columns the public
view never shows (encrypted personal fields, attributes) for 26 us, SQLAlchemy's statement
execution and result machinery for 43 us.  This module's read costs 38 us (13 us on SQLite):

- the statement is compiled once by SQLAlchemy for the engine's dialect (so the SQL and the
  parameter style are the dialect's own), and executed on the pooled driver connection;
- PostgreSQL: the reads use their own autocommit connections (a single SELECT needs no
  transaction; a BEGIN and a ROLLBACK would be two more round trips), and ``prepare=True``
  makes psycopg prepare the statement once per connection;
- on the event loop (:meth:`PublicOrderReader.get_async`) there is no hop to a worker thread:
  PostgreSQL reads on async connections, SQLite in place.  Under wrk, with 16 requests per
  worker handing their reads to threads and back, p99 was 72-294 ms; without the hop (and with
  the start-up heap frozen) 8-16 ms (docs/hotline.md);
- SQLite: the sqlite3 module caches the compiled statement per connection;
- the values pass through the column types' own result processors (SQLite stores date-times as
  text and booleans as integers), so a row equals what the ORM would give;
- only :data:`PUBLIC_COLUMNS` are read: no personal field (encrypted or not) leaves the database
  on the public path.
"""

from __future__ import annotations

import asyncio
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


class _AsyncPool:
    """Autocommit ``psycopg.AsyncConnection`` s of ONE event loop, opened on demand, at most
    ``size``: a LIFO queue holds the idle connections and a ``None`` token per one not yet open
    (or closed after an error), so a waiting request gets the next one back."""

    def __init__(self, conninfo: str, size: int) -> None:
        self.conninfo = conninfo
        self.loop = asyncio.get_running_loop()
        self._queue: asyncio.LifoQueue[Any] = asyncio.LifoQueue()
        for _ in range(size):
            self._queue.put_nowait(None)
        self._open: set[Any] = set()

    async def acquire(self) -> Any:
        """An open connection (waits while ``size`` are in use)."""
        conn = await self._queue.get()
        if conn is None:
            import psycopg  # the PostgreSQL extra; only PostgreSQL stores get here

            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
            except BaseException:
                self._queue.put_nowait(None)
                raise
            self._open.add(conn)
        return conn

    def release(self, conn: Any, *, broken: bool = False) -> None:
        """Return ``conn``; a ``broken`` one is closed and its place freed for a new one."""
        if broken or conn.closed:
            self._open.discard(conn)
            conn.pgconn.finish()
            self._queue.put_nowait(None)
        else:
            self._queue.put_nowait(conn)

    def close(self) -> None:
        """Close every connection at the socket (works from any thread or loop)."""
        for conn in self._open:
            conn.pgconn.finish()
        self._open.clear()


class PublicOrderReader:
    """Reads :class:`PublicOrder` records by id with one prepared statement.

    Parameters
    ----------
    engine
        The store's engine.  On PostgreSQL the reads use their own connections to the same
        database, in autocommit: :meth:`get_async` a pool of ``psycopg.AsyncConnection`` s of
        the running event loop, :meth:`get` a second SQLAlchemy engine (both opened on first
        use); on SQLite the reads share ``engine``'s pool.
    pool_size, max_overflow
        PostgreSQL: the read pools' size, and the sync pool's overflow (see
        :func:`citycheck.listen.db.make_engine`).
    """

    def __init__(self, engine: Engine, *, pool_size: int = 16, max_overflow: int = 8) -> None:
        dialect = engine.dialect
        self._is_pg = dialect.name == "postgresql"
        self._pool_size = pool_size
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
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._async_pool: _AsyncPool | None = None
        self._loop_conn: tuple[asyncio.AbstractEventLoop, Any] | None = None
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

    def _params(self, order_id: int) -> Any:
        return (order_id,) if self._positional else {"id": order_id}

    def _sqlite_read(self, conn: Any, order_id: int) -> tuple[Any, Any]:
        """The row and cursor description of the read on a DB-API (sqlite3) connection."""
        cur = conn.cursor()
        try:
            cur.execute(self.sql, self._params(order_id))
            return cur.fetchone(), cur.description
        finally:
            cur.close()

    def get(self, order_id: int) -> PublicOrder | None:
        """The public columns of order ``order_id``, or None when there is no such order."""
        conn = self.engine.raw_connection()
        try:
            if self._is_pg:
                assert conn.driver_connection is not None  # a checked-out connection has one
                cur = conn.driver_connection.execute(self.sql, self._params(order_id), prepare=True)
                row, description = cur.fetchone(), cur.description
                cur.close()
            else:
                row, description = self._sqlite_read(conn, order_id)
        except self.engine.dialect.loaded_dbapi.Error:
            conn.invalidate()  # a broken connection is not handed to the next request
            raise
        finally:
            conn.close()  # back to the pool
        return self._record(row, description)

    async def get_async(self, order_id: int) -> PublicOrder | None:
        """:meth:`get` for the event loop, without a hop to a worker thread.

        PostgreSQL: on an async connection of this loop's pool, so the loop serves other
        requests during the round trip.  SQLite: in place, on a connection that this loop keeps
        for itself (so it never waits for the engine's pool, which threads share); a
        primary-key read of a WAL database (about 15 us) does not wait for writers
        (https://www.sqlite.org/wal.html: "readers do not block writers and a writer does not
        block readers"), so it is cheaper than handing it to a thread.
        """
        if not self._is_pg:
            conn = self._sqlite_of_loop()
            try:
                row, description = self._sqlite_read(conn, order_id)
            except self.engine.dialect.loaded_dbapi.Error:
                self._drop_sqlite_connection(invalidate=True)
                raise
            return self._record(row, description)
        pool = self._pool_of_loop()
        conn = await pool.acquire()
        try:
            cur = await conn.execute(self.sql, self._params(order_id), prepare=True)
            row = await cur.fetchone()
            description = cur.description
        except BaseException:
            pool.release(conn, broken=True)
            raise
        pool.release(conn)
        return self._record(row, description)

    def _pool_of_loop(self) -> _AsyncPool:
        """The async pool of the running loop (a new loop, e.g. a test client's, gets its own;
        the old loop's connections are closed)."""
        loop = asyncio.get_running_loop()
        pool = self._async_pool
        if pool is None or pool.loop is not loop:
            if pool is not None:
                pool.close()
            pool = self._async_pool = _AsyncPool(self._conninfo, self._pool_size)
        return pool

    def _sqlite_of_loop(self) -> Any:
        """The pooled SQLite connection kept by the running loop (checked out once)."""
        loop = asyncio.get_running_loop()
        if self._loop_conn is not None and self._loop_conn[0] is not loop:
            self._drop_sqlite_connection()
        if self._loop_conn is None:
            self._loop_conn = (loop, self.engine.raw_connection())
        return self._loop_conn[1]

    def _drop_sqlite_connection(self, *, invalidate: bool = False) -> None:
        if self._loop_conn is not None:
            conn = self._loop_conn[1]
            self._loop_conn = None
            if invalidate:
                conn.invalidate()
            conn.close()

    def _record(self, row: Any, description: Any) -> PublicOrder | None:
        if self._processors is None:
            self._processors = self._result_processors(description)
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
        out: list[tuple[int, Callable[[Any], Any]]] = []
        for i, (impl, col) in enumerate(zip(self._types, description, strict=True)):
            process = impl.result_processor(self._dialect, col[1])
            if process is not None:
                out.append((i, process))
        return out

    def close(self) -> None:
        """Close the read connections (SQLite: hand the loop's one back to the engine's pool)."""
        self._drop_sqlite_connection()
        if self._is_pg:
            if self._async_pool is not None:
                self._async_pool.close()
                self._async_pool = None
            self.engine.dispose()
