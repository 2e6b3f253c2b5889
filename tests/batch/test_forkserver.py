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

from citycheck.batch.forkserver import (
    SERVER_MODULES,
    server_environment,
    start_for_command,
    worker_numba_threads,
)
from citycheck.batch.runner import start_client
from citycheck.batch.warmup import WARMUP_ENV

ROOT = Path(__file__).resolve().parents[2]


def _threads(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _python(code: str, env: dict[str, str] | None = None) -> str:
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout.strip()


#: A small real city (pyrosm's sample) in a fresh process.
_CITY = """
import pathlib, tempfile
import pyrosm
from citycheck.pipeline import run_check
pbf = pathlib.Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
run_check(pbf, out_dir=pathlib.Path(tempfile.mkdtemp()) / "run")
"""

#: What the fork server does (its environment, its preload list in order), then a real city in
#: the same process, printing which kernel overloads the city still had to load or compile.
_SERVER_THEN_CITY = """
import gc, json, os, sys
import citycheck.batch.warmup  # the server's preload list
import numba.np.ufunc.parallel as par
from citycheck.batch.warmup import KERNEL_MODULES, REPORT, WARMUP_ENV, _dispatchers
kernels = [d for d in _dispatchers(KERNEL_MODULES) if not d.targetoptions.get("parallel")]
before = {{d.py_func.__qualname__: set(d.overloads) for d in kernels}}
print(len(os.listdir("/proc/self/task")), par._is_initialized, REPORT.threads, REPORT.kernels,
      gc.get_freeze_count(), WARMUP_ENV in os.environ, gc.isenabled(),
      all(m in sys.modules for m in {modules!r}))
{city}
names = {{d: d.py_func.__qualname__ for d in kernels}}
later = {{names[d]: sorted(map(str, set(d.overloads) - before[names[d]])) for d in kernels}}
print(json.dumps({{k: v for k, v in later.items() if v}}))
"""


def test_server_warms_up_without_a_thread_and_covers_a_city():
    _python(_CITY, {"NUMBA_NUM_THREADS": "1"})  # numba's cache holds the city's kernels now
    code = _SERVER_THEN_CITY.format(modules=list(SERVER_MODULES), city=_CITY)
    env = {**server_environment(), "NUMBA_NUM_THREADS": "1", WARMUP_ENV: ",".join(SERVER_MODULES)}
    first, compiled_later = _python(code, env).splitlines()[-2:]
    threads, launched, report_threads, kernels, frozen, env_left, gc_on, imported = first.split()
    assert imported == "True"  # every module of the server's list
    assert gc_on == "True"  # the collector is back on for the workers
    assert int(threads) == 1 and int(report_threads) == 1  # nothing to trip a fork
    assert launched == "False"  # numba's threading layer not started
    assert int(kernels) >= 5  # the access engine's kernels, loaded from numba's cache
    assert int(frozen) > 100_000  # the imported modules' objects
    assert env_left == "False"  # the workers do not inherit the request
    # the city needed no non-parallel kernel overload that the warm-up had not loaded
    assert compiled_later == "{}"


def test_warm_up_only_on_request():
    out = _python(
        "import gc\n"
        "import citycheck.batch.warmup as w\n"
        "print(w.REPORT is None, gc.get_freeze_count())\n"
    )
    assert out.split() == ["True", "0"]


def test_warm_up_survives_other_numba_cache_internals():
    """The warm-up reads numba's cache through its private internals; if they change, it loads
    nothing (kernels -1) but still freezes the heap and never stops the server."""
    out = _python(
        "import gc\n"
        "import numba.core.dispatcher as d\n"
        "import citycheck.batch.warmup as w\n"
        "d.Dispatcher.targetoptions = property(lambda self: 1 / 0)\n"
        "r = w.warm_up(['json'])\n"
        "print(r.kernels, r.frozen > 0, gc.isenabled())\n"
    )
    assert out.split() == ["-1", "True", "True"]


def test_server_restarts_for_another_numba_thread_count():
    # numba reads NUMBA_NUM_THREADS once, when the server imports it
    out = _python(
        "import multiprocessing.forkserver as f\n"
        "from citycheck.batch.forkserver import start_forkserver\n"
        "start_forkserver(['os'], numba_threads=1); a = f._forkserver._forkserver_pid\n"
        "start_forkserver(['os'], numba_threads=1); b = f._forkserver._forkserver_pid\n"
        "start_forkserver(['os'], numba_threads=2); c = f._forkserver._forkserver_pid\n"
        "print(a == b, b != c and c is not None)\n"
    )
    assert out.split() == ["True", "True"]


@pytest.mark.parametrize(("workers", "cpus"), [(1, 2), (2, 2), (3, 2), (2, 8)])
def test_worker_numba_threads_share_the_cores(monkeypatch, workers, cpus):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    assert worker_numba_threads(workers) == max(1, cpus // workers)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    assert worker_numba_threads(workers) == 3


def _worker_facts(dask_worker) -> dict:
    import gc
    import sys

    import numba
    import numba.np.ufunc.parallel as par

    from citycheck.batch import warmup

    callbacks = dask_worker.periodic_callbacks
    return {
        "warmup": warmup.REPORT,
        "frozen": gc.get_freeze_count(),
        "numba_layer_started": par._is_initialized,
        "numba_pool_size": par.NUM_THREADS,
        "warmup_env": os.environ.get(WARMUP_ENV),
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
            # warmed in the server, which stayed single-threaded; its heap frozen before the fork
            assert f["warmup"] is not None and f["warmup"].threads == 1
            assert f["frozen"] > 100_000
            assert f["warmup_env"] is None
            # numba's pool, once a worker starts it, has the worker's thread count
            assert f["numba_pool_size"] == int(expected)
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
    # the console entry point imports this module first thing; the server must start before the
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
        ["/venv/bin/citycheck", "batch", "m.toml", "--workers", "two"],
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


def test_early_start_once_and_only_in_the_main_process():
    # a worker (here a pool process) never starts a server of its own, nor does a second call
    code = (
        "import multiprocessing as mp\n"
        "from citycheck.batch.forkserver import start_for_command\n"
        "argv = ['/venv/bin/citycheck', 'batch', 'm.toml', '--workers', '2']\n"
        "with mp.get_context('spawn').Pool(1) as pool:\n"
        "    in_child = pool.apply(start_for_command, (argv,))\n"
        "print(in_child, start_for_command(argv), start_for_command(argv))\n"
    )
    assert _run_python(code).split() == ["False", "True", "False"]


def test_importing_the_command_line_starts_nothing():
    code = (
        "import multiprocessing.forkserver as f, sys\n"
        "sys.argv = ['/venv/bin/citycheck', 'batch', 'm.toml', '--workers', '2']\n"
        "import citycheck.__main__, citycheck.cli\n"
        "print(f._forkserver._forkserver_pid is None)\n"
    )
    assert _run_python(code) == "True"
