"""Many-city runs: manifests, a Dask runner with retries and resume, and cross-city comparison.

The names below are imported on first use, so that ``citycheck.batch.forkserver`` can be
imported (by the command line, first thing) without pandas and the runner.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from citycheck.batch.manifest import CityEntry, ManifestError, read_manifest
    from citycheck.batch.runner import BatchReport, CityOutcome, run_batch

__all__ = ["BatchReport", "CityEntry", "CityOutcome", "ManifestError", "read_manifest", "run_batch"]

_HOME = {
    "CityEntry": "citycheck.batch.manifest",
    "ManifestError": "citycheck.batch.manifest",
    "read_manifest": "citycheck.batch.manifest",
    "BatchReport": "citycheck.batch.runner",
    "CityOutcome": "citycheck.batch.runner",
    "run_batch": "citycheck.batch.runner",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'citycheck.batch' has no attribute {name!r}")
