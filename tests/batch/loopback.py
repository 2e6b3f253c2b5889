"""Start a real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 for a test."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"dask scheduler did not start (rc={proc.poll()})")
        time.sleep(0.2)


@contextlib.contextmanager
def loopback_cluster(folder: Path, n_workers: int = 2) -> Iterator[str]:
    """Yield the address of a scheduler with ``n_workers`` single-thread workers, then stop them."""
    from distributed import Client

    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(ROOT / "tests" / "batch"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    sched_file = folder / "scheduler.json"
    # `dask scheduler` / `dask worker`, run with this interpreter (the `dask` on PATH may belong
    # to another Python)
    sched = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    work = [sys.executable, "-m", "distributed.cli.dask_worker"]
    procs: list[subprocess.Popen] = []
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        procs.append(subprocess.Popen([*sched, "--host", "127.0.0.1", "--port", "0",
                                       "--no-dashboard", "--scheduler-file", str(sched_file)],
                                      **quiet))  # fmt: skip
        _wait_for(sched_file, procs[0])
        address = json.loads(sched_file.read_text("utf-8"))["address"]
        procs.append(subprocess.Popen([*work, "--scheduler-file", str(sched_file), "--nworkers",
                                       str(n_workers), "--nthreads", "1", "--no-dashboard",
                                       "--host", "127.0.0.1"], **quiet))  # fmt: skip
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(n_workers, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
