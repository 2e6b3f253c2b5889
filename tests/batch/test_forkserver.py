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

import pytest

from citycheck.batch.forkserver import SERVER_MODULES, server_environment, start_for_command
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


def _run_python(code: str) -> str:
    path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout.strip()


def test_early_start_imports_neither_pandas_nor_distributed():
    # the command line imports this module first thing; the server must start before the
    # client's own heavy imports, with the environment distributed itself would give it
    out = _run_python(
        "import sys\n"
        "from citycheck.batch.forkserver import server_environment\n"
        "early = server_environment()\n"
        "print('pandas' in sys.modules, 'distributed' in sys.modules)\n"
        "import distributed\n"
        "print(early == server_environment() and early['OMP_NUM_THREADS'] == '1')\n"
    )
    assert out.split() == ["False", "False", "True"]


@pytest.mark.parametrize(
    "argv",
    [
        ["/venv/bin/citycheck", "evaluate", "x.osm.pbf"],
        ["/venv/bin/citycheck", "batch", "m.toml", "--workers", "0"],
        ["/venv/bin/citycheck", "batch", "m.toml", "--workers=0"],
        ["/venv/bin/citycheck", "batch", "m.toml", "--scheduler", "tcp://10.0.0.1:8786"],
        ["/venv/bin/citycheck", "batch", "--help"],
        ["/venv/bin/pytest", "batch", "m.toml"],
        ["/venv/bin/citycheck"],
    ],
)
def test_early_start_only_for_a_local_batch_command(argv):
    assert start_for_command(argv) is False


def test_early_start_for_a_local_batch_command():
    code = (
        "import multiprocessing.forkserver as f, sys\n"
        "from citycheck.batch.forkserver import start_for_command\n"
        "argv = ['/x/src/citycheck/__main__.py', 'batch', 'm.toml', '--workers', '2']\n"
        "started = start_for_command(argv)\n"
        "print(started, f._forkserver._forkserver_pid is not None, 'pandas' in sys.modules)\n"
    )
    assert _run_python(code).split() == ["True", "True", "False"]
