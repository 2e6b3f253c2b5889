"""Writers in several processes take turns on a SQLite store (no busy database, nothing lost)."""

from __future__ import annotations

import multiprocessing as mp
import time

from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake
from citycheck.listen.write_lock import WriteLock, sqlite_file


def _hold(db: str, log: str, held) -> None:  # type: ignore[no-untyped-def]
    lock = WriteLock(sqlite_file(db))
    with lock.held():
        held.set()
        time.sleep(0.3)  # give the other process every chance to barge in
        with open(log, "a") as f:
            f.write("child releases\n")
    lock.close()


def test_second_process_waits_for_the_first(tmp_path):
    db, log = f"sqlite:///{tmp_path}/h.db", tmp_path / "order.txt"
    ctx = mp.get_context("spawn")
    held = ctx.Event()
    child = ctx.Process(target=_hold, args=(db, str(log), held))
    child.start()
    assert held.wait(60)
    lock = WriteLock(sqlite_file(db))
    with lock.held(), open(log, "a") as f:
        f.write("parent acquires\n")
    lock.close()
    child.join(60)
    assert log.read_text().splitlines() == ["child releases", "parent acquires"]


def _submit(db: str, k: int, n: int) -> None:
    h = Hotline(HotlineSettings(db_url=db, secret="s", sqlite_busy_timeout_ms=0))
    for i in range(n):
        # the same spot and text: later orders link to earlier ones, across processes
        h.submit(Intake(f"路灯不亮 {k}-{i}", service_code="urban", lat=39.97, lon=116.36))
    h.close()


def test_two_processes_write_without_busy_errors(tmp_path):
    """With SQLite's busy wait switched off, any overlap of two writers would raise."""
    db = f"sqlite:///{tmp_path}/h.db"
    Hotline(HotlineSettings(db_url=db, secret="s")).close()  # migrate first
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_submit, args=(db, k, 40)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0, 0]
    h = Hotline(HotlineSettings(db_url=db, secret="s"))
    try:
        assert h.count() == 80
        assert h.verify_log() == []
        masters = {o.duplicate_of for o in h.search(limit=1000) if o.duplicate_of}
        assert len(masters) == 1  # one case, 79 callers linked to it
    finally:
        h.close()
