"""One writer at a time across the server's worker processes, for a SQLite store.

SQLite lets one connection write at a time.  When two uvicorn workers write at once, the loser
gets SQLITE_BUSY and SQLite's busy handler retries after sleeping 1, 2, 5, 10 … up to 100 ms
(``sqliteDefaultBusyCallback`` in SQLite's main.c), so a write that lost by a microsecond may
wait 100 ms; and a WAL read transaction that tries to become a write transaction after another
process committed fails at once with SQLITE_BUSY_SNAPSHOT (https://www.sqlite.org/wal.html,
https://www.sqlite.org/rescode.html#busy_snapshot).  Taking an exclusive ``flock`` on a file
beside the database before each write transaction queues the writers in the kernel instead:
the next one wakes as soon as the lock is released, and never meets a busy database.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ModuleNotFoundError:  # pragma: no cover - not POSIX: the busy handler alone serialises
    fcntl = None  # type: ignore[assignment]


def sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite:///PATH`` URL, or None (in-memory, or not SQLite)."""
    if not url.startswith("sqlite") or ":memory:" in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    return Path(path) if path else None


class WriteLock:
    """An exclusive lock on ``PATH-writelock`` (between processes) plus a thread lock (within).

    ``flock`` locks belong to an open file, which the threads of one process share, hence the
    second lock.  Without a path (PostgreSQL, in-memory SQLite) it does nothing: PostgreSQL
    has row locks and no busy handler.
    """

    def __init__(self, path: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if path is not None and fcntl is not None:
            self._fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block (a write transaction, commit included)."""
        if self._fd is None:
            yield
            return
        with self._thread_lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
