"""The command line, run as a user would (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, shared_data

from citycheck.city import LEVELS
from citycheck.evaluate.catalogue import dimensions


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "1000"}
    return subprocess.run(
        [sys.executable, "-m", "citycheck", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def test_indicators_both_languages():
    res = _run("indicators")
    assert res.returncode == 0, res.stderr
    for zh, en in dimensions().values():
        assert zh in res.stdout and en in res.stdout
    for zh, en in LEVELS.values():
        assert zh in res.stdout and en in res.stdout


def test_demo(tmp_path):
    res = _run("demo", "--out", str(tmp_path / "demo"), "--quiet")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "demo" / "COMPLETE").exists()
    assert "Problem list" in res.stdout


def test_evaluate_bad_file_clear_error(tmp_path):
    bad = tmp_path / "x.osm.pbf"
    bad.write_text("hello")
    res = _run("evaluate", str(bad), "--out", str(tmp_path / "r"), "-q")
    assert res.returncode == 2
    assert "x.osm.pbf" in res.stderr and "not a readable OSM file" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "r").exists()


def test_evaluate_zh(tmp_path):
    pbf = shared_data("osm", "beijing-haidian-cau.osm.pbf")
    res = _run(
        "evaluate",
        str(pbf),
        "--out",
        str(tmp_path / "r"),
        "--population",
        "30000",
        "--lang",
        "zh",
    )
    assert res.returncode == 0, res.stderr
    assert "道路网密度" in res.stdout and "问题清单" in res.stdout
    # issue 16: the progress lines speak the run's language
    for line in ("读取 beijing-haidian-cau.osm.pbf", "构建体检范围", "分级评价与综合评分", "写入 "):
        assert line in res.stderr, res.stderr
    for line in ("reading ", "building the study area", "grading and scoring", "writing "):
        assert line not in res.stderr, res.stderr


def test_template(tmp_path):
    res = _run("template", str(tmp_path / "t.csv"))
    assert res.returncode == 0
    head = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "指标编号" in head and "indicator_id" in head


def test_indicators_in_chinese():
    """Issue 16: `citycheck indicators --lang zh` shows Chinese units and thresholds."""
    res = _run("indicators", "--lang", "zh")
    assert res.returncode == 0, res.stderr
    assert "平方米/人" in res.stdout and "预警" in res.stdout and "单位" in res.stdout
    assert "m²/person" not in res.stdout and "(warning" not in res.stdout
    assert "Built-up land per capita" not in res.stdout
