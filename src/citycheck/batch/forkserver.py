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
``distributed.nanny.pre-spawn-environ``, read before numpy is imported) and it imports no numba
(:data:`SERVER_MODULES`); the workers import numba themselves, after the nanny has set their
``NUMBA_NUM_THREADS`` (:mod:`citycheck.batch.preload`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

__all__ = ["SERVER_MODULES", "server_environment", "start_forkserver"]

#: Imported by the fork server: the health check and what its first city imports lazily.  None
#: of them may import numba (see the module docstring); a test checks it.
SERVER_MODULES: tuple[str, ...] = (
    "distributed",
    "citycheck.pipeline",
    "citycheck.batch.runner",
    "citycheck.batch.jobs",
    "citycheck.evaluate.inputs",
    "citycheck.io.boundary",
    "citycheck.io.census",
    "citycheck.io.osm",
    "citycheck.io.runfolder",
    "citycheck.act.summary",
    "pyogrio",
    "jsonschema",
    "jinja2",
)


def server_environment() -> dict[str, str]:
    """Variables the fork server must start with: Dask's ``pre-spawn-environ`` (one OpenMP /
    BLAS thread per worker, ``MALLOC_TRIM_THRESHOLD_``), which only act at interpreter start."""
    import dask
    import distributed  # noqa: F401  (registers distributed's configuration defaults)

    env = dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}
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


def start_forkserver(modules: Sequence[str] = SERVER_MODULES) -> None:
    """Start this process's multiprocessing fork server with ``modules`` preloaded.

    Returns at once; the server imports the modules in the background and serves the first
    fork when they are in.  The server lives as long as this process, so a second local cluster
    reuses it (its preload and environment are those of the first call).  A module that cannot
    be imported is skipped by the server (the job then reports the missing module itself).
    """
    import dask
    from distributed.utils import get_mp_context

    # distributed sets its own preload list the first time it makes a forkserver context; set
    # ours after it (the server imports distributed and the scientific stack with it)
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        get_mp_context()
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(modules))
    with _environment(server_environment()):
        multiprocessing.forkserver.ensure_running()
