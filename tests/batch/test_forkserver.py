"""Local workers forked from the fork server: what makes the fork safe, checked on the real thing.

The fork of a server is only safe if the server never started a thread (a lock held by another
thread at ``fork()`` stays locked in the child; GNU OpenMP, numba's threading layer here, aborts
a forked child that enters a parallel kernel).  These tests check the preconditions: the server's
modules import no numba and leave the interpreter single-threaded, the running server has one
thread, and the workers are its children with the numba thread count the runner gave them (and
the quiet event loop of ``runner.QUIET_LOOPS``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from citycheck.batch.forkserver import SERVER_MODULES, server_environment
from citycheck.batch.runner import start_client

ROOT = Path(__file__).resolve().parents[2]


def _threads(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_server_modules_import_no_numba_and_start_no_thread():
    code = (
        "import os, sys\n"
        f"for m in {list(SERVER_MODULES)!r}: __import__(m)\n"
        "print('numba' in sys.modules, len(os.listdir('/proc/self/task')))\n"
    )
    env = {**os.environ, **server_environment()}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    numba_imported, threads = done.stdout.split()
    assert numba_imported == "False"
    assert int(threads) == 1


def _worker_facts(dask_worker) -> dict:
    import sys

    import numba

    callbacks = dask_worker.periodic_callbacks
    return {
        "callbacks": {name: pc.callback_time for name, pc in callbacks.items()},
        "ppid": os.getppid(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "preloaded": "citycheck.access" in sys.modules,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    }


def test_local_workers_are_forks_of_a_single_threaded_server():
    import multiprocessing.forkserver

    client, cluster = start_client(None, 2, 1, ["citycheck.batch.preload"])
    try:
        client.wait_for_workers(2, timeout=120)
        facts = list(client.run(_worker_facts).values())
        server = multiprocessing.forkserver._forkserver._forkserver_pid
        assert server is not None and server != os.getpid()
        assert _threads(server) == 1
        expected = str(max(1, (os.cpu_count() or 1) // 2))
        expected = os.environ.get("NUMBA_NUM_THREADS", expected)
        assert len(facts) == 2
        for f in facts:
            assert f["ppid"] == server
            assert f["numba_threads"] == int(expected)
            assert f["preloaded"]
            assert f["blas_threads"] == "1"
            # the quiet event loop of runner.QUIET_LOOPS: no statistical profiler, a tick
            # every second instead of every 20 ms, a system monitor every 5 s
            assert "profile" not in f["callbacks"]
            assert f["callbacks"]["tick"] == 1000
            assert f["callbacks"]["monitor"] == 5000
    finally:
        client.close()
        cluster.close()
