"""Messages of the command line stay whole on one line whatever the terminal width.

Output that is not a terminal (a pipe, a CI log, a test) used to be wrapped by rich at the
assumed width (``COLUMNS``, else 80), breaking an error mid-sentence, so that a phrase looked for
in it could be split across two lines.  Each command below fails (or reports) with a message
longer than the widths tried; every command-line module that prints messages is covered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyrosm
import pytest
from tests.conftest import ROOT

WIDTHS = ("20", "40")


def _run(*args: str, columns: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": columns}
    env.pop("CITYCHECK_HOTLINE_SECRET", None)
    return subprocess.run(
        [sys.executable, "-m", "citycheck", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=600,
    )  # fmt: skip


def _assert_one_line(output: str, *parts: str) -> None:
    lines = [line for line in output.splitlines() if parts[0] in line]
    assert lines, output
    assert all(part in lines[0] for part in parts), output


@pytest.fixture(scope="module")
def changed_run(tmp_path_factory):
    """A real run folder of ``citycheck evaluate`` (at 20 columns, its standard error) whose OSM
    extract changed after the check."""
    tmp = tmp_path_factory.mktemp("changed")
    pbf = tmp / "kouvola-sample-with-a-long-name.osm.pbf"
    shutil.copy(Path(pyrosm.__file__).parent / "data" / "test.osm.pbf", pbf)
    res = _run("evaluate", str(pbf), "--out", str(tmp / "run"), "--population", "12000",
               columns="20", cwd=tmp)  # fmt: skip
    assert res.returncode == 0, res.stderr
    pbf.write_bytes(pbf.read_bytes() + b"\0")
    return tmp / "run", pbf, res.stderr


def test_log_records_and_steps_on_one_line(changed_run):
    # citycheck.cli's logging handler and progress steps
    *_, stderr = changed_run
    _assert_one_line(stderr, "computing walking-network indicators")
    _assert_one_line(stderr, "WARNING kouvola-sample-with-a-long-name: ",
                     " buildings are not within 100 m of a walkable way")  # fmt: skip


def test_changed_input_is_refused_on_one_line(changed_run, tmp_path):
    run, pbf, _ = changed_run
    for columns in WIDTHS:
        res = _run("plan", str(run), "--category", "elderly_care", "-q", columns=columns,
                   cwd=tmp_path)  # fmt: skip
        assert res.returncode == 2, res.stderr
        _assert_one_line(res.stderr, "error:", f"{pbf} changed since the check (sha256 now",
                         "); re-run the check first")  # fmt: skip


CASES = {
    # citycheck.cli
    "evaluate": (
        ["evaluate", "{tmp}/not-an-extract.osm.pbf", "--out", "{tmp}/r", "-q"],
        2, ["error: {tmp}/not-an-extract.osm.pbf", "not a readable OSM file"],
    ),
    # citycheck.cli.report
    "report": (
        ["report", "{tmp}"],
        2, ["error: {tmp}", "the run folder is incomplete (the run failed or is still writing)"],
    ),
    # citycheck.cli.batch
    "batch": (
        ["batch", "{tmp}/no-such-manifest.toml", "--workers", "0"],
        2, ["error: {tmp}/no-such-manifest.toml: cannot read manifest", "No such file"],
    ),
    # citycheck.cli.hotline_stats
    "hotline stats": (
        ["hotline", "stats", "{tmp}/no-such-table.csv"],
        2, ["error: {tmp}/no-such-table.csv", "no such file"],
    ),
    # citycheck.cli.hotline
    "hotline escalate": (
        ["hotline", "escalate", "--db", "sqlite:///{tmp}/h.db"],
        2, ["set CITYCHECK_HOTLINE_SECRET (key for encryption at rest)"],
    ),
    # citycheck.cli.lifeline
    "lifeline import": (
        ["lifeline", "import", "{tmp}/not-an-extract.osm.pbf", "--out", "{tmp}/r.gpkg"],
        2, ["error: {tmp}/not-an-extract.osm.pbf", "not recognized as being in a supported"],
    ),
    # an info message on standard output
    "template": (
        ["template", "{tmp}/inputs-to-fill-in.csv"],
        0, ["wrote ", " rows to {tmp}/inputs-to-fill-in.csv; fill in the value column (blank"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_message_on_one_line(case, tmp_path):
    args, code, parts = CASES[case]
    (tmp_path / "not-an-extract.osm.pbf").write_text("hello", "utf-8")
    for columns in WIDTHS:
        res = _run(*(a.format(tmp=tmp_path) for a in args), columns=columns, cwd=tmp_path)
        assert res.returncode == code, res.stdout + res.stderr
        _assert_one_line(res.stdout + res.stderr, *(p.format(tmp=tmp_path) for p in parts))
