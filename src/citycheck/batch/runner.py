"""Many-city runs on Dask distributed: one task per city, results written as each city finishes.

The runner is generic: it fans out any per-city *job*, a picklable callable
``job(entry: CityEntry, out_dir: pathlib.Path) -> pathlib.Path`` that writes one run folder (ending
with a ``COMPLETE`` marker, see docs/architecture.md) and returns it.  The city health check itself
is :func:`citycheck.batch.jobs.run_check_job`.

Layout of the output folder ``OUT``::

    OUT/<id>/                  one folder per city, moved into place atomically when it is done
    OUT/<id>/batch-city.json   input checksums, run folder, seconds, worker, attempts
    OUT/batch.json, batch.csv  status of every city, rewritten as each city finishes
    OUT/_errors/<id>.txt       traceback of a city that failed (after its retries)
    OUT/_attempts/<id>.log     one line per attempt (retries happen on the worker side of Dask)
    OUT/_superseded/           earlier folders replaced by a rerun (nothing stored is lost)

Cities are submitted largest first (:mod:`citycheck.batch.ordering`).  A failing city is retried
alone (Dask ``retries``), then reported; the other cities go on.  With
``resume=True`` a city whose folder is complete and whose input checksums are unchanged is skipped.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from citycheck.batch.manifest import CityEntry, input_fingerprint
from citycheck.batch.ordering import estimated_work
from citycheck.labels import labels_under

__all__ = [
    "QUIET_LOOPS",
    "STATUS_LABELS",
    "BatchReport",
    "CityOutcome",
    "is_complete",
    "run_batch",
    "run_city",
    "start_client",
]

logger = logging.getLogger(__name__)

Job = Callable[[CityEntry, Path], Path]

#: Status of a city in a batch, in Chinese and English.
STATUS_LABELS: dict[str, tuple[str, str]] = labels_under("batch.status")

CITY_RECORD = "batch-city.json"


@dataclass
class CityOutcome:
    """What happened to one city of a batch.

    ``attempts`` counts every attempt recorded in the output folder, earlier batches included.
    """

    id: str
    status: str
    run_dir: str | None = None
    seconds: float | None = None
    attempts: int = 0
    worker: str | None = None
    error: str | None = None


@dataclass
class BatchReport:
    """Outcome of a batch run.

    Attributes
    ----------
    out_dir : pathlib.Path
        The batch output folder.
    outcomes : list of CityOutcome
        One per manifest entry, in manifest order.
    wall_s : float
        Wall-clock seconds of the whole batch (cluster start included).
    scheduler : str
        ``"sequential"``, ``"local"`` or the scheduler address.
    """

    out_dir: Path
    outcomes: list[CityOutcome] = field(default_factory=list)
    wall_s: float = 0.0
    scheduler: str = "local"

    def by_status(self, status: str) -> list[str]:
        """Ids of the cities with the given status."""
        return [o.id for o in self.outcomes if o.status == status]

    def to_frame(self) -> pd.DataFrame:
        """One row per city, indexed by id, with bilingual status labels."""
        df = pd.DataFrame([asdict(o) for o in self.outcomes]).set_index("id")
        df["status_zh"] = df["status"].map(lambda s: STATUS_LABELS[s][0])
        df["status_en"] = df["status"].map(lambda s: STATUS_LABELS[s][1])
        return df


# --------------------------------------------------------------------------------------------------
# The task run on a worker
# --------------------------------------------------------------------------------------------------
def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _job_name(job: Job) -> str:
    return f"{getattr(job, '__module__', '?')}.{getattr(job, '__qualname__', repr(job))}"


def is_complete(out_dir: Path, entry: CityEntry, fingerprint: dict[str, Any]) -> bool:
    """Whether ``OUT/<id>`` holds a complete run made from the same inputs (``--resume``)."""
    record_path = Path(out_dir) / entry.id / CITY_RECORD
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    run_dir = Path(out_dir) / entry.id / record.get("run_dir", ".")
    return record.get("fingerprint") == fingerprint and (run_dir / "COMPLETE").is_file()


def run_city(entry: CityEntry, job: Job, out_dir: Path, fingerprint: dict[str, Any]) -> dict:
    """Run one city's job in a private staging folder and move it into ``OUT/<id>`` when done.

    This is the Dask task.  On failure the staging folder is removed and the exception re-raised
    so that Dask retries the city alone; an existing ``OUT/<id>`` is never touched by a failure.

    Returns
    -------
    dict
        ``run_dir`` (relative to ``OUT/<id>``), ``seconds``, ``worker``.
    """
    out_dir = Path(out_dir)
    worker = _worker_name()
    attempts_dir = out_dir / "_attempts"
    attempts_dir.mkdir(parents=True, exist_ok=True)
    with (attempts_dir / f"{entry.id}.log").open("a", encoding="utf-8") as fh:
        fh.write(f"{datetime.now(UTC).isoformat()} {worker}\n")
    staging_root = out_dir / "_staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    staging = staging_root / f"{entry.id}-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    try:
        run_dir = Path(job(entry, staging)).resolve()
        if not (run_dir / "COMPLETE").is_file():
            raise RuntimeError(f"{entry.id}: the job returned {run_dir} without a COMPLETE marker")
        rel = run_dir.relative_to(staging.resolve())
        seconds = time.perf_counter() - t0
        record = {
            "id": entry.id,
            "run_dir": str(rel),
            "fingerprint": fingerprint,
            "seconds": seconds,
            "worker": worker,
            "finished": datetime.now(UTC).isoformat(),
        }
        (staging / CITY_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
        final = out_dir / entry.id
        if final.exists():
            keep = out_dir / "_superseded" / f"{entry.id}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
            keep.parent.mkdir(parents=True, exist_ok=True)
            os.replace(final, keep)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"run_dir": str(rel), "seconds": seconds, "worker": worker}


# --------------------------------------------------------------------------------------------------
# The client side
# --------------------------------------------------------------------------------------------------
def _write_status(out_dir: Path, report: BatchReport, started: str, *, csv: bool = False) -> None:
    """Rewrite ``batch.json`` atomically (cheap: called as each city finishes); ``batch.csv`` too
    when ``csv`` (at the start and the end of the batch)."""
    doc = {
        "started": started,
        "scheduler": report.scheduler,
        "wall_s": report.wall_s,
        "cities": [dict(vars(o)) for o in report.outcomes],
    }
    tmp = out_dir / "batch.json.tmp"
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out_dir / "batch.json")
    if csv:
        report.to_frame().to_csv(out_dir / "batch.csv.tmp")
        os.replace(out_dir / "batch.csv.tmp", out_dir / "batch.csv")


def _attempts(out_dir: Path, city_id: str) -> int:
    log = out_dir / "_attempts" / f"{city_id}.log"
    try:
        return sum(1 for _ in log.open(encoding="utf-8"))
    except OSError:
        return 0


class _Progress:
    """A rich progress bar of done / running / failed cities, or nothing."""

    def __init__(self, total: int, enabled: bool):
        self.bar = None
        if enabled and total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            self.task = self.bar.add_task("cities", total=total)
            self.bar.start()

    def update(self, done: int, running: int, failed: int, skipped: int) -> None:
        if self.bar is not None:
            text = f"done {done} · running {running} · failed {failed} · skipped {skipped}"
            self.bar.update(self.task, completed=done + failed + skipped, description=text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


#: Dask settings of the local cluster that keep the event loops of the scheduler, the nannies and
#: the workers from taking CPU and the GIL from the cities.  A worker runs its city in an executor
#: thread while its event-loop thread wakes for periodic callbacks; each wake-up takes the GIL
#: from the city (and, with as many workers as cores, a core from a city).  Dask's defaults suit
#: interactive, dashboard-watched work: a statistical profile of the running task every 10 ms, an
#: event-loop health "tick" every 20 ms, a system monitor (psutil) every 500 ms and a memory
#: check every 100 ms.  A batch of long per-city tasks needs none of that at that rate (the local
#: cluster has no dashboard).  Measured (24 study areas, started 2-worker cluster, 2 cores,
#: alternating runs): the workers' event-loop threads used 0.31-0.43 s of CPU per batch with the
#: defaults and 0.05-0.08 s with these; the batch took 9.69-9.86 s vs 8.97-9.28 s.
#: The unresponsive-event-loop warning (``distributed.admin.tick.limit``, 3 s) still works.
QUIET_LOOPS: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def start_client(
    scheduler: str | None, n_workers: int, threads_per_worker: int, preload: Sequence[str] = ()
):
    """A Dask client on ``scheduler``, or on a new local cluster set up for per-city jobs.

    Returns
    -------
    (distributed.Client, distributed.LocalCluster or None)
        The cluster is None for a scheduler address; close both when done.
    """
    import dask
    from distributed import Client, LocalCluster

    from citycheck.batch.forkserver import start_forkserver, worker_numba_threads

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    # one city per worker thread: numba kernels of the job share the machine's cores between the
    # workers instead of each worker starting one thread per core
    numba_threads = worker_numba_threads(n_workers, threads_per_worker)
    # workers are forked from a server that has imported and warmed the health check once,
    # instead of each spawning an interpreter that imports it (citycheck.batch.forkserver)
    start_forkserver(numba_threads=numba_threads)
    # OMP/MKL/OpenBLAS threads are already 1 per worker (distributed.nanny.pre-spawn-environ).
    # worker-saturation 1.0: a worker holds only the cities it is running, so a crash of one city
    # does not take queued cities down with it
    # (a worker restarted later by its nanny is spawned: the config is only set while starting;
    # QUIET_LOOPS is kept by each nanny for the workers it starts)
    config = {
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.worker.multiprocessing-method": "forkserver",
        **QUIET_LOOPS,
    }
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env={"NUMBA_NUM_THREADS": str(numba_threads)},
            preload=list(preload),
        )
    return Client(cluster), cluster


def run_batch(
    entries: Sequence[CityEntry],
    job: Job,
    *,
    out_dir: str | Path,
    scheduler: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    retries: int = 1,
    resume: bool = False,
    progress: bool = True,
    client: Any = None,
) -> BatchReport:
    """Evaluate many cities, one Dask task per city.

    Parameters
    ----------
    entries : sequence of CityEntry
        The cities (:func:`citycheck.batch.manifest.read_manifest`).
    job : callable
        ``job(entry, out_dir) -> run folder``; must be importable on the workers.
    out_dir : path-like
        Batch output folder (created).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); default: a local cluster of
        ``n_workers`` worker processes.
    n_workers : int
        Workers of the local cluster; ``0`` runs the cities one after another in this process
        (no Dask; for debugging and as the sequential baseline).
    threads_per_worker : int
        Threads per local worker (1: the per-city job is CPU bound Python).
    retries : int
        Extra attempts for a failing city (each city is retried alone).
    resume : bool
        Skip cities whose folder is complete and whose inputs are unchanged (sha256).
    progress : bool
        Show a rich progress bar of done / running / failed cities.
    client : distributed.Client, optional
        Use this client instead of starting one.

    Returns
    -------
    BatchReport
        ``batch.json`` / ``batch.csv`` in ``out_dir`` hold the same, rewritten as cities finish.
    """
    out_dir = Path(out_dir).resolve()  # workers may run elsewhere, with another cwd
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    started = datetime.now(UTC).isoformat()
    job_name = _job_name(job)
    sched_name = scheduler or ("sequential" if n_workers == 0 and client is None else "local")
    report = BatchReport(out_dir=out_dir, scheduler=sched_name)
    if n_workers > 0 and scheduler is None and client is None:
        # the local workers' fork server imports the health check while the inputs are hashed
        from citycheck.batch.forkserver import start_forkserver, worker_numba_threads

        start_forkserver(numba_threads=worker_numba_threads(n_workers, threads_per_worker))
    outcomes: dict[str, CityOutcome] = {}
    todo: list[tuple[CityEntry, dict[str, Any]]] = []
    for entry in entries:
        fp = input_fingerprint(entry, job=job_name)
        if resume and is_complete(out_dir, entry, fp):
            record = json.loads((out_dir / entry.id / CITY_RECORD).read_text(encoding="utf-8"))
            outcomes[entry.id] = CityOutcome(
                entry.id, "skipped", run_dir=str(out_dir / entry.id / record["run_dir"]),
                seconds=record.get("seconds"), worker=record.get("worker"),
            )  # fmt: skip
        else:
            outcomes[entry.id] = CityOutcome(entry.id, "queued")
            todo.append((entry, fp))
    report.outcomes = [outcomes[e.id] for e in entries]
    _write_status(out_dir, report, started, csv=True)
    bar = _Progress(len(entries), progress)
    counts = {"done": 0, "failed": 0, "skipped": len(entries) - len(todo)}

    def finish(entry: CityEntry, result: dict | None, exc: BaseException | None, tb: str) -> None:
        o = outcomes[entry.id]
        o.attempts = _attempts(out_dir, entry.id)
        if exc is None and result is not None:
            o.status, o.seconds, o.worker = "done", result["seconds"], result["worker"]
            o.run_dir = str(out_dir / entry.id / result["run_dir"])
            counts["done"] += 1
        else:
            o.status, o.error = "failed", f"{type(exc).__name__}: {exc}"
            errors = out_dir / "_errors"
            errors.mkdir(exist_ok=True)
            (errors / f"{entry.id}.txt").write_text(tb or o.error, encoding="utf-8")
            counts["failed"] += 1
            logger.warning("city %s failed after %d attempt(s): %s", entry.id, o.attempts, o.error)
        report.wall_s = time.perf_counter() - t0
        _write_status(out_dir, report, started)

    try:
        if n_workers == 0 and scheduler is None and client is None:
            with _frozen_heap():
                _run_in_process(todo, job, out_dir, retries, finish, bar, counts, outcomes)
        elif todo:
            _run_on_dask(todo, job, out_dir, scheduler, n_workers, threads_per_worker, retries,
                         client, finish, bar, counts)  # fmt: skip
    finally:
        bar.update(counts["done"], 0, counts["failed"], counts["skipped"])
        bar.close()
    report.wall_s = time.perf_counter() - t0
    _write_status(out_dir, report, started, csv=True)
    return report


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the collector off the objects alive now (the imported modules) while cities run.

    Each full collection otherwise traverses the ~190,000 objects of the imported modules (0.6 s
    of a 19 s run of the 24 study areas); the local workers skip them too, their fork server
    freezes its heap before forking (:mod:`citycheck.batch.warmup`).  Undone afterwards, unless
    the heap was frozen already.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run_in_process(todo, job, out_dir, retries, finish, bar, counts, outcomes) -> None:
    """The cities one after another in this process (``n_workers=0``), each retried alone."""
    for entry, fp in todo:
        outcomes[entry.id].status = "running"
        bar.update(counts["done"], 1, counts["failed"], counts["skipped"])
        result, exc, tb = None, None, ""
        for _ in range(retries + 1):
            try:
                result, exc = run_city(entry, job, out_dir, fp), None
                break
            except Exception as err:
                exc, tb = err, traceback.format_exc()
        finish(entry, result, exc, tb)


def _run_on_dask(todo, job, out_dir, scheduler, n_workers, threads_per_worker, retries, client,
                 finish, bar, counts) -> None:  # fmt: skip
    """Submit one task per city; report each as it finishes.

    A city whose worker died (``KilledWorker``: a crash or an out-of-memory kill; or a task lost
    with it without an exception) may be an innocent bystander queued on the same worker, so such
    cities are run again one at a time after the others, and only then reported.
    """
    from distributed import KilledWorker, wait

    own_client, cluster = (client, None) if client is not None else (None, None)
    if own_client is None:
        from citycheck.batch.jobs import run_check_job

        preload = ["citycheck.batch.preload"] if job is run_check_job else []
        own_client, cluster = start_client(scheduler, n_workers, threads_per_worker, preload)
    token = uuid.uuid4().hex[:6]

    def submit(entry: CityEntry, fp: dict, suffix: str, n_retries: int, priority: int = 0):
        # keys "city-<n>-<id>-<token>" form one task group ("city"), so that the scheduler
        # queues the cities (worker-saturation) and hands the next one, in priority order, to
        # whichever worker is free; a group per city would be assigned to workers up front
        return own_client.submit(
            run_city, entry, job, out_dir, fp,
            key=f"city-{priority}-{entry.id}-{token}{suffix}", retries=n_retries, pure=False,
            priority=priority,
        )  # fmt: skip

    def drain(futures: dict, killed: list | None) -> None:
        pending = set(futures)
        while pending:
            try:
                done, pending = wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
                pending = set(pending)
            except TimeoutError:
                done = set()
            for fut in done:
                entry, fp = futures[fut]
                if fut.status == "finished":
                    finish(entry, fut.result(), None, "")
                else:
                    try:
                        exc = fut.exception()
                    except Exception as err:  # a cancelled future raises instead
                        exc = err
                    lost = exc is None or fut.status == "cancelled"
                    if exc is None:  # lost with its worker without an exception of its own
                        exc = RuntimeError(f"the task ended with status {fut.status!r}")
                    if killed is not None and (lost or isinstance(exc, KilledWorker)):
                        killed.append((entry, fp))
                    else:
                        finish(entry, None, exc, "".join(traceback.format_exception(exc)))
                fut.release()
            try:
                keys = {k for ks in own_client.processing().values() for k in ks}
                running = sum(1 for f in pending if f.key in keys)
            except Exception:  # progress is best effort
                running = 0
            bar.update(counts["done"], running, counts["failed"], counts["skipped"])

    try:
        killed: list[tuple[CityEntry, dict]] = []
        # largest cities first (higher priority runs first), so no long city ends the batch alone
        work = estimated_work([e for e, _ in todo])
        ordered = sorted(todo, key=lambda item: -work[item[0].id])
        n = len(ordered)
        drain({submit(e, fp, "", retries, n - i): (e, fp) for i, (e, fp) in enumerate(ordered)},
              killed)  # fmt: skip
        for entry, fp in killed:
            logger.info("city %s: its worker died; running it again alone", entry.id)
            drain({submit(entry, fp, "-alone", 0): (entry, fp)}, None)
    finally:
        if client is None:
            own_client.close()
            if cluster is not None:
                cluster.close()
