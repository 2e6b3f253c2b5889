"""Per-city jobs for the batch runner: the city health check, or any importable callable."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from citycheck.batch.manifest import CityEntry

__all__ = ["load_job", "run_check_job"]


def run_check_job(entry: CityEntry, out_dir: Path) -> Path:
    """Run the city health check (:func:`citycheck.pipeline.run_check`) for one manifest entry.

    Returns
    -------
    pathlib.Path
        The run folder (holding ``results.json`` and, last, ``COMPLETE``).
    """
    from citycheck.pipeline import run_check

    if len(entry.inputs) > 1 and "template" not in entry.inputs:
        raise ValueError(
            f"city {entry.id}: field 'inputs' value {sorted(entry.inputs)}: the health check takes "
            "one filled-in template; name it 'template'"
        )
    template = entry.inputs.get("template") or next(iter(entry.inputs.values()), None)
    return Path(
        run_check(
            entry.pbf,
            out_dir=out_dir,
            boundary=entry.boundary,
            adcode=entry.adcode,
            census=entry.census,
            population=entry.population,
            inputs=template,
            lang=entry.lang,
            name=entry.name,
        )
    )


def load_job(spec: str) -> Callable[[CityEntry, Path], Path]:
    """Import a per-city job given as ``"package.module:function"``.

    Raises
    ------
    ValueError
        When the spec is malformed, the module cannot be imported or the attribute is missing.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--job value {spec!r}: expected 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"--job value {spec!r}: cannot import {module_name!r} ({exc})") from exc
    job = getattr(module, attr, None)
    if not callable(job):
        raise ValueError(f"--job value {spec!r}: {module_name} has no callable {attr!r}")
    return job
