"""Dask worker preload: import the health check before the first city arrives.

A worker started with ``dask worker tcp://scheduler:8786 --preload citycheck.batch.preload``
imports :mod:`citycheck.pipeline` and the walking-network engine (numba kernels are compiled
once and cached on disk, ``cache=True``) while it starts, so a batch submitted later does not pay
for it.  The local cluster of :func:`citycheck.batch.runner.run_batch` preloads it when the job
is the health check.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__all__ = ["MODULES", "dask_setup"]

logger = logging.getLogger(__name__)

#: Modules imported by the preload.
MODULES = ("citycheck.pipeline", "citycheck.access", "citycheck.batch.jobs")


def dask_setup(worker: Any = None) -> None:
    """Dask's preload hook: import :data:`MODULES` (a failure is logged, not fatal)."""
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # the job reports a missing module itself
            logger.warning("preload: cannot import %s (%s)", name, exc)
