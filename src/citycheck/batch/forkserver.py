"""Local workers forked from a server that has already imported the health check.

Dask starts each local worker with ``spawn`` by default: a fresh interpreter that imports
pandas, geopandas, shapely, pyogrio and citycheck itself (about 1.3 s per worker, both workers
at once on the same cores) before it can take a city.  With the ``forkserver`` start method the
imports happen once, in a single-threaded server process started by :func:`start_forkserver`;
each worker is then a ``fork()`` of that server and starts with the modules in memory.

Why not plain ``fork`` of the client: the client process runs Dask's event loop thread and,
after an in-process run, numba's GNU OpenMP thread pool, which is not fork-safe (a forked child
that enters a parallel kernel is terminated).  The server is a fresh interpreter that never
starts a thread: its environment pins OpenMP / OpenBLAS / MKL to one thread (Dask's
``distributed.nanny.pre-spawn-environ``, read before numpy is imported) and sets the workers'
``NUMBA_NUM_THREADS`` (numba reads it when it is imported, here in the server), and its preload,
:mod:`citycheck.batch.warmup`, imports the modules with the collector off, loads the non-parallel
numba kernels from numba's cache (never numba's threading layer) and freezes the collector's view
of the heap.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import multiprocessing.forkserver
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "SERVER_MODULES",
    "server_environment",
    "start_for_command",
    "start_forkserver",
    "worker_numba_threads",
]

#: Imported by the fork server (:mod:`citycheck.batch.warmup`, its preload, imports them with the
#: collector off, then loads the numba kernels from the cache and freezes the heap): the health
#: check, what its first city imports lazily, numba and the walking-network engine.  None of them
#: may start a thread; a test checks it.
SERVER_MODULES: tuple[str, ...] = (
    "distributed",
    "citycheck.pipeline",
    "citycheck.batch.runner",
    "citycheck.batch.jobs",
    "citycheck.evaluate.inputs",
    "citycheck.evaluate.document",
    "citycheck.io.boundary",
    "citycheck.io.census",
    "citycheck.io.osm",
    "citycheck.io.runfolder",
    "citycheck.report.summary",
    "pyogrio",
    "jsonschema",
    "jinja2",
    "numba",
    "citycheck.access",
    "citycheck.batch.preload",
)

#: ``NUMBA_NUM_THREADS`` of the running server's workers (numba reads it once, in the server).
_server_numba_threads: list[int] = []

#: Whether :func:`start_for_command` has run in this process (it acts once per process).
_command_started: list[bool] = []


def worker_numba_threads(n_workers: int, threads_per_worker: int = 1) -> int:
    """Numba threads of each local worker: ``NUMBA_NUM_THREADS`` if set, else the cores shared
    out between the workers' threads (so that the kernels of two cities do not fight for a
    core)."""
    given = os.environ.get("NUMBA_NUM_THREADS")
    if given and given.strip().isdigit() and int(given) > 0:
        return int(given)
    return max(1, (os.cpu_count() or 1) // max(1, n_workers * threads_per_worker))


def _distributed_defaults(key: str) -> dict:
    """A mapping of distributed's default configuration (``distributed.yaml``), read without
    importing distributed (whose import registers these defaults with dask.config)."""
    import yaml

    spec = importlib.util.find_spec("distributed")
    if spec is None or spec.origin is None:
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster, same result
    text = (Path(spec.origin).parent / "distributed.yaml").read_text("utf-8")
    doc = yaml.load(text, Loader=loader)  # a safe loader (libyaml or Python)
    for part in key.split("."):
        doc = (doc or {}).get(part, {})
    return dict(doc or {})


def server_environment() -> dict[str, str]:
    """Variables the fork server must start with: Dask's ``pre-spawn-environ`` (one OpenMP /
    BLAS thread per worker, ``MALLOC_TRIM_THRESHOLD_``), which only act at interpreter start.

    Before distributed is imported (:func:`start_for_command`), its defaults are read from its
    ``distributed.yaml`` and the user's dask configuration is applied over them.
    """
    import dask.config

    key = "distributed.nanny.pre-spawn-environ"
    user = dask.config.get(key, default={}) or {}
    env = user if "distributed" in sys.modules else {**_distributed_defaults(key), **user}
    return {str(k): str(v) for k, v in env.items() if v is not None}


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start_forkserver(modules: Sequence[str] = SERVER_MODULES, numba_threads: int = 1) -> None:
    """Start this process's multiprocessing fork server with ``modules`` preloaded.

    Returns at once; the server imports the modules in the background (through
    :mod:`citycheck.batch.warmup`) and serves the first fork when they are in and warmed.  The
    server lives as long as this process, so a second local cluster reuses it (its preload and
    environment are those of the first call) unless it needs another ``numba_threads``: numba
    reads its thread count once, when the server imports it, so the server is then restarted.
    A module that cannot be imported is skipped by the server (the job then reports the missing
    module itself).

    Parameters
    ----------
    modules : sequence of str
        Modules the server imports before it forks (:data:`SERVER_MODULES`).
    numba_threads : int
        ``NUMBA_NUM_THREADS`` of the workers (:func:`worker_numba_threads`).
    """
    from citycheck.batch.warmup import WARMUP_ENV

    server = multiprocessing.forkserver._forkserver
    if _server_numba_threads and _server_numba_threads[-1] != numba_threads:
        # private API of CPython's multiprocessing (used by its own tests); the running workers
        # are not the server's concern once forked
        stop = getattr(server, "_stop", None)
        if stop is not None and getattr(server, "_forkserver_pid", None) is not None:
            stop()
    if "distributed" in sys.modules:
        import dask
        from distributed.utils import get_mp_context

        # distributed sets its own preload list the first time it makes a forkserver context;
        # set ours after it (the server imports distributed and the scientific stack with it).
        # Before distributed is imported, a running server keeps ours: the list only acts when
        # a server starts
        with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
            get_mp_context()
    # the warm-up module is the whole preload list; it imports ``modules`` itself
    multiprocessing.get_context("forkserver").set_forkserver_preload(["citycheck.batch.warmup"])
    env = {
        **server_environment(),
        "NUMBA_NUM_THREADS": str(numba_threads),
        WARMUP_ENV: ",".join(modules),
    }
    with _environment(env):
        multiprocessing.forkserver.ensure_running()
    _server_numba_threads[:] = [numba_threads]


def _workers_option(args: Sequence[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == "--workers" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--workers="):
            return arg.partition("=")[2]
    return None


def _is_main_process() -> bool:
    """Whether this is the process the user started: not a multiprocessing child, not even one
    still re-importing its parent's main module (the check that multiprocessing itself makes before
    it lets a process start another)."""
    current = multiprocessing.current_process()
    return multiprocessing.parent_process() is None and not getattr(current, "_inheriting", False)


def start_for_command(argv: Sequence[str]) -> bool:
    """Start the fork server first thing when ``argv`` is a ``citycheck batch`` command line
    that will start local workers (no ``--scheduler``, ``--workers`` not 0, no ``--help``).

    Called by the console entry point (:func:`citycheck.__main__.main`) before it imports the
    command line (about 0.7 s, scipy included), so that the server imports the health check on the
    other core meanwhile; it imports neither distributed nor pandas itself.  ``argv[0]`` must be
    the ``citycheck`` program (the console script or ``python -m citycheck``).  It starts nothing
    in a worker or other child process (a worker re-imports the main module of its parent) and
    acts once per process: a second call returns False.

    Parameters
    ----------
    argv : sequence of str
        The command line, ``sys.argv``.

    Returns
    -------
    bool
        Whether the server was started.
    """
    if len(argv) < 2 or argv[1] != "batch":
        return False
    program = Path(argv[0])
    if program.name != "citycheck" and program.parts[-2:] != ("citycheck", "__main__.py"):
        return False
    if _command_started or not _is_main_process():
        return False
    args = list(argv[2:])
    if any(a in ("--help", "-h") or a.startswith("--scheduler") for a in args):
        return False
    workers = _workers_option(args)
    if workers is not None and workers.strip() in ("0", "+0", "-0"):
        return False
    try:
        n_workers = int(workers) if workers is not None else 2  # the command's default
    except ValueError:
        return False  # the command reports the bad value itself
    _command_started.append(True)
    start_forkserver(numba_threads=worker_numba_threads(n_workers))
    return True
