"""Many-city runs: manifests, a Dask runner with retries and resume, and cross-city comparison."""

from citycheck.batch.manifest import CityEntry, ManifestError, read_manifest
from citycheck.batch.runner import BatchReport, CityOutcome, run_batch

__all__ = ["BatchReport", "CityEntry", "CityOutcome", "ManifestError", "read_manifest", "run_batch"]
