"""Sensor-store ingest: readings per second through ``ingest_frame``, on SQLite and PostgreSQL.

A feed of ``--sensors`` pressure sensors x ``--per-sensor`` 15-minute readings goes through the
whole ingest path (units, checks, the lookup of keys already stored, the insert) into a fresh
store; then the same feed again (every key already stored: the lookup alone, nothing inserted);
then everything is read back with ``readings()``.  Medians of ``--repeat`` runs, wall time.
Then the store's own operations without the ingest's checks (the fastest of ``--repeat``): the
bulk insert into an empty store, the same insert again (every key stored), the lookup of every
key (``existing``), the read back.

    python bench/bench_lifeline_ingest.py --sensors 50 --per-sensor 2000 --repeat 3

``--src`` picks the source tree (to time another checkout, e.g. the one before a change);
PostgreSQL with --pg-url or $CITYCHECK_TEST_PG_URL (a fresh schema per run, dropped after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd


def feed(sensors: int, per_sensor: int) -> pd.DataFrame:
    """Readings as a CSV feed gives them: text timestamps, metres of head."""
    rng = np.random.default_rng(7)
    t0 = pd.Timestamp("2026-07-01 00:00")
    times = (t0 + pd.to_timedelta(np.arange(per_sensor) * 15, unit="min")).strftime(
        "%Y-%m-%d %H:%M"
    )
    frames = [
        pd.DataFrame(
            {
                "timestamp": times,
                "sensor_id": f"P{s:03d}",
                "quantity": "pressure",
                "value": (35 + rng.normal(0, 0.5, per_sensor)).round(3).astype(str),
                "unit": "m",
            }
        )
        for s in range(sensors)
    ]
    return pd.concat(frames, ignore_index=True)


def fresh(backend: str, tmp: str, pg_url: str | None) -> str:
    """A new store's target: an SQLite file, or a new schema in PostgreSQL."""
    if backend == "sqlite":
        return f"{tmp}/{uuid.uuid4().hex}.db"
    return f"{pg_url}#b_{uuid.uuid4().hex[:10]}"


def drop(target: str) -> None:
    """Remove a PostgreSQL run's schema (SQLite files go with the temporary folder)."""
    if "#" not in target:
        return
    from sqlalchemy import create_engine, text

    url, _, schema = target.partition("#")
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    eng.dispose()


def one_run(target: str, frame: pd.DataFrame) -> dict[str, float]:
    from citycheck.lifeline.monitoring.ingest import ingest_frame
    from citycheck.lifeline.monitoring.store_pg import open_store

    out = {}
    with open_store(target) as store:
        t = time.perf_counter()
        rep = ingest_frame(store, frame, source="bench")
        out["first"] = time.perf_counter() - t
        assert rep.inserted == len(frame), rep.summary()
        t = time.perf_counter()
        rep = ingest_frame(store, frame, source="bench")
        out["again"] = time.perf_counter() - t
        assert rep.inserted == 0 and rep.duplicates_identical == len(frame), rep.summary()
        t = time.perf_counter()
        back = store.readings()
        out["read"] = time.perf_counter() - t
        assert len(back) == len(frame)
    return out


def store_ops(target: str, frame: pd.DataFrame) -> dict[str, float]:
    from citycheck.lifeline.monitoring.store_pg import open_store

    canon = pd.DataFrame(
        {
            "sensor_id": frame["sensor_id"],
            "quantity": frame["quantity"],
            "ts": pd.to_datetime(frame["timestamp"]).astype("int64") // 10**9,
            "value": frame["value"].astype(float),
        }
    )
    keys = list(canon[["sensor_id", "quantity", "ts"]].itertuples(index=False, name=None))
    out = {}
    with open_store(target) as store:
        for name, op in (
            ("insert", lambda: store.insert_readings(canon, source="bench")),
            ("insert again", lambda: store.insert_readings(canon, source="bench")),
            ("lookup", lambda: store.existing(keys)),
            ("read", store.readings),
        ):
            t = time.perf_counter()
            op()
            out[name] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sensors", type=int, default=50)
    ap.add_argument("--per-sensor", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--pg-url", default=os.environ.get("CITYCHECK_TEST_PG_URL"))
    ap.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"))
    args = ap.parse_args()
    sys.path.insert(0, args.src)
    frame = feed(args.sensors, args.per_sensor)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not args.pg_url:
        backends.remove("postgresql")
        print("no PostgreSQL URL (--pg-url or $CITYCHECK_TEST_PG_URL): SQLite only")
    print(f"source {args.src}; {len(frame)} readings ({args.sensors} sensors)")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            runs = []
            for _ in range(args.repeat):
                target = fresh(backend, tmp, args.pg_url)
                try:
                    runs.append(one_run(target, frame))
                finally:
                    drop(target)
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            n = len(frame)
            print(
                f"{backend:10s} first ingest {med['first']:.3f} s ({n / med['first']:,.0f}/s), "
                f"again {med['again']:.3f} s ({n / med['again']:,.0f}/s), "
                f"read back {med['read']:.3f} s"
            )
            ops = []
            for _ in range(args.repeat):
                target = fresh(backend, tmp, args.pg_url)
                try:
                    ops.append(store_ops(target, frame))
                finally:
                    drop(target)
            best = {k: min(r[k] for r in ops) for k in ops[0]}
            print(
                f"{backend:10s} store only: " + ", ".join(f"{k} {v:.3f} s" for k, v in best.items())
            )


if __name__ == "__main__":
    main()
