"""The Dask batch runner on 25 real study areas (6 OSM extracts x 4 boundaries + 1 corrupt file).

Oracles: the same job run sequentially in this process (no Dask); node counts of the west and east
halves adding up to the whole extract; a separately started ``dask scheduler`` + ``dask worker``
on 127.0.0.1 giving the same results as the local cluster.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from batch_jobs import count_job, crash_job, flaky_job
from loopback import loopback_cluster
from study_areas import repair_corrupt, write_areas

from citycheck.batch import read_manifest, run_batch

ROOT = Path(__file__).resolve().parents[2]


def _results(report) -> dict[str, dict]:
    out = {}
    for o in report.outcomes:
        if o.status in ("done", "skipped"):
            doc = json.loads((Path(o.run_dir) / "results.json").read_text("utf-8"))
            out[o.id] = {i["id"]: i["value"] for i in doc["indicators"]}
    return out


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    return write_areas(tmp_path_factory.mktemp("areas"))


@pytest.fixture(scope="module")
def local_run(manifest, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch-local")
    entries = read_manifest(manifest)
    report = run_batch(entries, count_job, out_dir=out, n_workers=2, retries=1, progress=False)
    return entries, out, report


@pytest.fixture(scope="module")
def sequential_results(manifest, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch-seq")
    report = run_batch(read_manifest(manifest), count_job, out_dir=out, n_workers=0, retries=0,
                       progress=False)  # fmt: skip
    return _results(report), report


def test_corrupt_reported_others_finish(local_run):
    entries, out, report = local_run
    assert len(entries) == 25
    assert report.by_status("failed") == ["corrupt"]
    assert len(report.by_status("done")) == 24
    bad = report.outcomes[-1]
    assert bad.attempts == 2  # retried once, alone
    assert bad.error and (out / "_errors" / "corrupt.txt").is_file()
    assert not (out / "corrupt").exists()
    assert all(o.attempts == 1 for o in report.outcomes if o.status == "done")
    status = json.loads((out / "batch.json").read_text("utf-8"))
    assert {c["id"]: c["status"] for c in status["cities"]}["corrupt"] == "failed"
    for o in report.outcomes[:-1]:
        assert (Path(o.run_dir) / "COMPLETE").is_file()
    assert not any((out / "_staging").iterdir())


def test_same_results_as_sequential(local_run, sequential_results):
    _, _, report = local_run
    seq, seq_report = sequential_results
    assert seq_report.by_status("failed") == ["corrupt"]
    assert _results(report) == seq
    assert len(seq) == 24


def test_halves_add_up_to_whole(sequential_results):
    seq, _ = sequential_results
    # extracts whose header box holds every node (the README boxes of the Beijing files do not)
    for stem in ("hsinchu-nctu", "helsinki", "test"):
        whole = seq[f"{stem}-full"]["nodes"]
        assert whole > 1000
        assert seq[f"{stem}-west"]["nodes"] + seq[f"{stem}-east"]["nodes"] == whole
        assert 0 < seq[f"{stem}-centre"]["nodes"] < whole


def test_resume_reruns_only_the_failed_then_the_repaired(manifest, local_run):
    entries, out, first = local_run
    stamps = {o.id: os.stat(Path(out) / o.id / "batch-city.json").st_mtime_ns
              for o in first.outcomes if o.status == "done"}  # fmt: skip
    again = run_batch(entries, count_job, out_dir=out, n_workers=2, retries=1, resume=True,
                      progress=False)  # fmt: skip
    assert again.by_status("failed") == ["corrupt"]
    assert len(again.by_status("skipped")) == 24
    assert again.outcomes[-1].attempts == 4  # two more attempts, only for the corrupt city
    for cid, stamp in stamps.items():
        assert os.stat(Path(out) / cid / "batch-city.json").st_mtime_ns == stamp
    repair_corrupt(manifest)
    fixed = run_batch(entries, count_job, out_dir=out, n_workers=0, resume=True, progress=False)
    assert fixed.by_status("done") == ["corrupt"]
    assert len(fixed.by_status("skipped")) == 24


def test_changed_input_is_rerun_and_old_folder_kept(manifest, tmp_path):
    entries = [e for e in read_manifest(manifest) if e.id.startswith("beijing-haidian-bupt")]
    out = tmp_path / "out"
    run_batch(entries, count_job, out_dir=out, n_workers=0, progress=False)
    geo = manifest.parent / "beijing-haidian-bupt-centre.geojson"
    backup = geo.read_bytes()
    try:
        doc = json.loads(backup)
        doc["coordinates"][0] = [[x + 1e-4, y] for x, y in doc["coordinates"][0]]
        geo.write_text(json.dumps(doc), "utf-8")
        again = run_batch(entries, count_job, out_dir=out, n_workers=0, resume=True,
                          progress=False)  # fmt: skip
    finally:
        geo.write_bytes(backup)
    assert again.by_status("done") == ["beijing-haidian-bupt-centre"]
    assert len(again.by_status("skipped")) == 3
    kept = list((out / "_superseded").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("beijing-haidian-bupt-centre")


def test_failed_city_retried_alone(manifest, tmp_path):
    entries = [e for e in read_manifest(manifest) if e.id.startswith("test-")]
    from dataclasses import replace

    entries[1] = replace(entries[1], id="test-flaky")
    report = run_batch(entries, flaky_job, out_dir=tmp_path / "out", n_workers=2, retries=1,
                       progress=False)  # fmt: skip
    assert report.by_status("done") == [e.id for e in entries]
    attempts = {o.id: o.attempts for o in report.outcomes}
    assert attempts.pop("test-flaky") == 2
    assert set(attempts.values()) == {1}


def test_worker_crash_reported_others_finish(manifest, tmp_path):
    import dask

    entries = [e for e in read_manifest(manifest) if e.id.startswith("beijing-haidian-bupt")]
    from dataclasses import replace

    entries[0] = replace(entries[0], id="bupt-crash")
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        report = run_batch(entries, crash_job, out_dir=tmp_path / "out", n_workers=2, retries=0,
                           progress=False)  # fmt: skip
    assert report.by_status("failed") == ["bupt-crash"]
    assert len(report.by_status("done")) == 3
    assert "KilledWorker" in report.outcomes[0].error
    # ran once with the others (1 + allowed-failures attempts), then once alone
    assert report.outcomes[0].attempts >= 2


def test_separate_scheduler_and_workers_on_loopback(manifest, local_run, tmp_path):
    entries = read_manifest(manifest)
    with loopback_cluster(tmp_path) as address:
        assert address.startswith("tcp://127.0.0.1:")
        report = run_batch(entries, count_job, out_dir=tmp_path / "out", scheduler=address,
                           retries=1, progress=False)  # fmt: skip
    assert report.scheduler == address
    _, _, local = local_run
    remote = _results(report)
    # the corrupt file may have been repaired by the resume test; compare the 24 real areas
    remote.pop("corrupt", None)
    assert remote == _results(local)
    workers = {o.worker for o in report.outcomes if o.status == "done"}
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)


def test_sequential_run_freezes_the_heap_only_while_it_runs(manifest, tmp_path):
    # the in-process run keeps the collector off the objects alive before it (the imported
    # modules), as the local workers' fork server does (citycheck.batch.warmup); afterwards
    # the collector sees them again, unless they were frozen before the run
    import gc

    seen: list[int] = []

    def job(entry, out_dir: Path) -> Path:
        seen.append(gc.get_freeze_count())
        return count_job(entry, out_dir)

    entries = [e for e in read_manifest(manifest) if e.id != "corrupt"][:2]
    assert gc.get_freeze_count() == 0
    report = run_batch(entries, job, out_dir=tmp_path / "a", n_workers=0, progress=False)
    assert report.by_status("done") == [e.id for e in entries]
    assert len(seen) == 2 and min(seen) > 10_000
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        run_batch(entries, job, out_dir=tmp_path / "b", n_workers=0, progress=False)
        # the caller's freeze is kept (not undone: that would read 0); a frozen object whose
        # last reference goes is still freed, so the count may drop by a few
        assert gc.get_freeze_count() > 0.99 * frozen
    finally:
        gc.unfreeze()
