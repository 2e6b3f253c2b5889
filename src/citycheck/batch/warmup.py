"""Warm-up of the local workers' fork server: what each worker would otherwise do on its first city.

A worker forked from the server (:mod:`citycheck.batch.forkserver`) starts with the server's
modules in memory, but until now each worker still paid, at once with the other on the two cores,
for importing numba and the walking-network engine (its preload, 0.2 s) and, in its first city,
for numba's target initialisation and loading the compiled kernels from numba's on-disk cache
(about 0.27 s).  The command line starts the server first thing, and the server is ready 0.3 s
before the command asks it for the workers, so doing this work once in the server costs no wall
time there.

The server must stay fork-safe: it never starts a thread.  So :func:`load_cached_kernels` only
loads what numba's cache already holds and only for kernels that are not ``parallel=True``
(loading a parallel kernel from the cache starts numba's threading layer); it never compiles.  At
the end :func:`warm_up` freezes the garbage collector's view of the server's heap
(:func:`gc.freeze`, as the Python documentation recommends before ``fork()`` without ``exec()``):
the workers' collections then skip the ~190,000 objects of the imported modules instead of
traversing them (and copying every page that holds one) at each full collection.  The in-process
sequential run freezes its heap too (:func:`citycheck.batch.runner.run_batch`), so both sides
collect the same objects.

The fork server can only import modules, so the warm-up runs when this module is imported with
:data:`WARMUP_ENV` set to ``"1"`` in the environment (the server is started with it; the variable
is removed from the server's environment at once, so the workers and anything they start do not
see it).  Importing the module anywhere else does nothing.
"""

from __future__ import annotations

import gc
import importlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["KERNEL_MODULES", "REPORT", "WARMUP_ENV", "WarmUp", "load_cached_kernels", "warm_up"]

#: Environment variable that makes the import of this module run :func:`warm_up`.
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
        Wall time of the warm-up.
    kernels : int
        Overloads loaded from numba's cache.
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
        if options.get("parallel") or options.get("inline") == "always" or cache_file is None:
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


def warm_up(modules: Iterable[str] = KERNEL_MODULES) -> WarmUp:
    """Load the cached numba kernels of ``modules``, then collect and freeze the heap.

    Meant for the fork server, after it has imported the health check (the server's preload
    list ends with this module).

    Returns
    -------
    WarmUp
    """
    t0 = time.perf_counter()
    try:
        kernels = load_cached_kernels(modules)
    except ImportError:  # no numba or no engine: the job reports it itself
        kernels = 0
    gc.collect()
    gc.freeze()
    return WarmUp(time.perf_counter() - t0, kernels, gc.get_freeze_count(), _threads())


#: The warm-up done by this process on import (None where it was not asked for).
REPORT: WarmUp | None = None

if os.environ.pop(WARMUP_ENV, None) == "1":
    REPORT = warm_up()
