"""Warm-up of the local workers' fork server: what each worker would otherwise do on its first city.

A worker forked from the server (:mod:`citycheck.batch.forkserver`) starts with the server's
modules in memory, but until now each worker still paid, at once with the other on the two cores,
for importing numba and the walking-network engine (its preload, 0.2 s) and, in its first city,
for numba's target initialisation and loading the compiled kernels from numba's on-disk cache
(about 0.27 s).  The command line starts the server first thing, and the server used to be
ready 0.37 s before the command asked it for the workers, so most of this work costs no wall
time there (from a client that has imported everything it costs what it saves: docs/batch.md).

The server must stay fork-safe: it never starts a thread.  So :func:`load_cached_kernels` only
loads what numba's cache already holds and only for kernels that are not ``parallel=True``
(loading a parallel kernel from the cache starts numba's threading layer); it never compiles.  At
the end :func:`warm_up` freezes the garbage collector's view of the server's heap
(:func:`gc.freeze`, as the Python documentation recommends before ``fork()`` without ``exec()``):
the workers' collections then skip the ~200,000 objects of the imported modules instead of
traversing them (and copying every page that holds one) at each full collection.  The in-process
sequential run freezes its heap too (:func:`citycheck.batch.runner.run_batch`), so both sides
collect the same objects.

The fork server can only import modules, so this module is the server's whole preload list and
does the work when it is imported with :data:`WARMUP_ENV` in the environment, naming the modules
to import (:data:`citycheck.batch.forkserver.SERVER_MODULES`, comma-separated).  The server is
started with it; the variable is removed from the server's environment at once, so the workers
and anything they start do not see it.  Importing the module anywhere else does nothing.  The
collector is off while the server imports (as the Python documentation also recommends for a
parent that forks): each full collection would traverse the growing heap of modules that live as
long as the process (measured: the server's imports in 1.09-1.13 s instead of 1.25-1.34 s).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["KERNEL_MODULES", "REPORT", "WARMUP_ENV", "WarmUp", "load_cached_kernels", "warm_up"]

#: Environment variable naming the modules (comma-separated) that the import of this module
#: imports before it runs :func:`warm_up`.
WARMUP_ENV = "CITYCHECK_FORKSERVER_WARMUP"

#: Modules whose numba kernels the health check calls (their cached overloads are loaded).
KERNEL_MODULES: tuple[str, ...] = (
    "citycheck.access._kernels",
    "citycheck.access._search",
)


@dataclass(frozen=True)
class WarmUp:
    """What the warm-up did.

    Attributes
    ----------
    seconds : float
        Wall time of the warm-up (the imports included).
    kernels : int
        Overloads loaded from numba's cache (-1: numba's cache internals, which this reads,
        were not as expected; nothing was loaded and the workers load the kernels themselves).
    frozen : int
        Objects moved to the collector's permanent generation (:func:`gc.get_freeze_count`).
    threads : int
        Threads of the process afterwards (1: still safe to fork).
    """

    seconds: float
    kernels: int
    frozen: int
    threads: int


def _dispatchers(modules: Iterable[str]) -> list:
    from numba.core.dispatcher import Dispatcher

    found = []
    for name in modules:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher) and obj.__module__ == name:
                found.append(obj)
    return found


def load_cached_kernels(modules: Iterable[str] = KERNEL_MODULES) -> int:
    """Load every overload of the modules' numba kernels that numba's on-disk cache holds.

    Kernels compiled with ``parallel=True`` are skipped (loading one starts numba's threading
    layer), and so are ``inline="always"`` helpers (only used inside other kernels).  An entry is
    loaded only when its key matches this interpreter, machine and source (the key numba itself
    checks), so nothing is ever compiled here; a kernel without a cache entry is compiled later
    by the worker that calls it, as without the warm-up.

    Returns
    -------
    int
        Overloads loaded.
    """
    loaded = 0
    for disp in _dispatchers(modules):
        options = disp.targetoptions
        cache = getattr(disp, "_cache", None)
        cache_file = getattr(cache, "_cache_file", None)
        if options.get("parallel") or options.get("inline") == "always":
            continue
        if cache is None or cache_file is None:  # not cached (cache=False)
            continue
        codegen = disp.targetctx.codegen()
        for key in cache_file._load_index():
            sig = key[0]
            if key != cache._index_key(sig, codegen) or tuple(sig) in disp.overloads:
                continue
            disp.compile(sig)  # a cache hit: the key matched
            loaded += 1
    return loaded


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # not Linux
        import threading

        return threading.active_count()


def warm_up(imports: Iterable[str] = (), kernels: Iterable[str] = KERNEL_MODULES) -> WarmUp:
    """Import ``imports`` with the collector off, load the cached numba kernels of ``kernels``,
    then collect, freeze the heap and turn the collector back on.

    Meant for the fork server (this module is its preload list).  A module that cannot be
    imported is skipped, as the fork server's own preload does (the job then reports it).

    Returns
    -------
    WarmUp
    """
    t0 = time.perf_counter()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name in imports:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        try:
            loaded = load_cached_kernels(kernels)
        except ImportError:  # no numba or no engine: the job reports it itself
            loaded = 0
        except Exception:  # numba's cache internals changed: the workers load
            loaded = -1  # the kernels themselves, as without the warm-up; never stop the server
        gc.collect()
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
    return WarmUp(time.perf_counter() - t0, loaded, gc.get_freeze_count(), _threads())


#: The warm-up done by this process on import (None where it was not asked for).
REPORT: WarmUp | None = None

_requested = os.environ.pop(WARMUP_ENV, None)
if _requested is not None:
    REPORT = warm_up([name for name in _requested.split(",") if name])
