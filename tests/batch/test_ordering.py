"""Largest cities first: the work estimate against an independent count, and the Dask order.

Oracle for the estimate: the OSM nodes inside each study area, counted by pyosmium with the
boundary polygon (tests/batch/batch_jobs.count_osm), which the estimate never reads.
"""

from __future__ import annotations

import numpy as np
from batch_jobs import boundary_polygon, count_job, count_osm
from study_areas import write_areas

from citycheck.batch import read_manifest, run_batch
from citycheck.batch.ordering import estimated_work, largest_first


def _spearman(a, b) -> float:
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def test_estimate_orders_like_the_node_count(tmp_path):
    entries = [e for e in read_manifest(write_areas(tmp_path / "a")) if e.id != "corrupt"]
    work = estimated_work(entries)
    nodes = [count_osm(e.pbf, boundary_polygon(e))["nodes"] for e in entries]
    assert _spearman([work[e.id] for e in entries], nodes) > 0.8
    # the largest study area by node count is the first one submitted
    assert largest_first(entries)[0].id == entries[int(np.argmax(nodes))].id


def test_dask_starts_the_largest_cities_first(tmp_path):
    entries = [e for e in read_manifest(write_areas(tmp_path / "a")) if e.id != "corrupt"]
    entries = entries[::-1]  # the smallest extracts listed first
    out = tmp_path / "out"
    report = run_batch(entries, count_job, out_dir=out, n_workers=2, retries=0, progress=False)
    assert not report.by_status("failed")
    started = {}
    for e in entries:
        stamp = (out / "_attempts" / f"{e.id}.log").read_text("utf-8").split()[0]
        started[e.id] = stamp
    first_two = sorted(started, key=started.get)[:2]
    work = estimated_work(entries)
    top_two = sorted(work, key=work.get, reverse=True)[:2]
    assert set(first_two) == set(top_two)
