"""Group commit vs one transaction per order: orders accepted per second, in one process.

8 threads submit orders concurrently (as the API's thread pool does); each order is acknowledged
only after its transaction committed in both modes.  SQLite (WAL, synchronous=FULL) and, with
--pg-url or $CITYCHECK_TEST_PG_URL, PostgreSQL.  Prints the ratio of the two modes per run.

    python bench/bench_hotline_group_commit.py --threads 8 --per-thread 40
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake


def fresh(backend: str, pg_url: str | None, tmp: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp}/{uuid.uuid4().hex}.db"
    name = "gc_" + uuid.uuid4().hex[:8]
    eng = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    eng.dispose()
    return pg_url.rsplit("/", 1)[0] + "/" + name


def rate(url: str, group_commit: bool, threads: int, per_thread: int) -> float:
    h = Hotline(HotlineSettings(db_url=url, secret="bench", group_commit=group_commit))
    rnd = random.Random(0)
    points = [
        (39.95 + rnd.random() * 0.03, 116.34 + rnd.random() * 0.03)
        for _ in range(threads * per_thread)
    ]

    def work(k: int) -> None:
        for i in range(per_thread):
            lat, lon = points[k * per_thread + i]
            h.submit(Intake(f"路灯不亮 {k}-{i}", service_code="urban", lat=lat, lon=lon))

    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    t = time.perf_counter()
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    dt = time.perf_counter() - t
    assert h.count() == threads * per_thread and h.verify_log() == []
    h.close()
    return threads * per_thread / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--per-thread", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--pg-url", default=os.environ.get("CITYCHECK_TEST_PG_URL"))
    args = ap.parse_args()
    backends = ["sqlite"] + (["postgresql"] if args.pg_url else [])
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} threads={args.threads}")
    with tempfile.TemporaryDirectory() as tmp:
        for b in backends:
            for r in range(args.repeats):
                one = rate(fresh(b, args.pg_url, tmp), False, args.threads, args.per_thread)
                grp = rate(fresh(b, args.pg_url, tmp), True, args.threads, args.per_thread)
                print(
                    f"{b:<11} run {r + 1}: one txn/order {one:7.0f}/s   group commit "
                    f"{grp:7.0f}/s   ratio {grp / one:.2f}x"
                )


if __name__ == "__main__":
    main()
