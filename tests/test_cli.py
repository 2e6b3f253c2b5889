"""The command line, run as a user would (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
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
    """The README's first command: a Chinese study area, census residents, both reports."""
    import gzip
    import io
    import json

    import pandas as pd

    res = _run("demo", "--out", str(tmp_path / "demo"), "--quiet")
    assert res.returncode == 0, res.stderr
    run = tmp_path / "demo"
    assert (run / "COMPLETE").exists()
    assert "Problem list" in res.stdout
    for lang in ("zh", "en"):
        html = (run / f"report.{lang}.html").read_text(encoding="utf-8")
        assert ("城市体检报告" if lang == "zh" else "City health check report") in html
        assert "北京市海淀区五道口" in html
    doc = json.loads((run / "results.json").read_text(encoding="utf-8"))
    census = doc["study_area"]["census"]
    # residents from the census: Haidian's 2020 total (the tests' copy of the table, read here
    # independently of the package) times the study area's share of the district
    table = pd.read_csv(shared_data("census", "china_county_census_2020.csv"), dtype=str)
    haidian = table[table["区划代码"] == "110108"].iloc[0]
    assert haidian["区县"] == "海淀区" and census["county"] == "海淀区"
    assert census["population"] == int(haidian["人口数_合计"]) == 3_133_469
    assert 0.005 < census["area_share"] < 0.02  # Wudaokou: 5.2 km² of Haidian: 431 km²
    assert census["residents_total"] == census["population"] * census["area_share"]
    total = doc["study_area"]["residents_total"]
    assert total == pytest.approx(census["residents_total"], rel=1e-9)
    # the bundled table is the same file as the tests' copy
    from citycheck.io.samples import DEMO, sample_file

    packed = gzip.decompress(sample_file(DEMO.county_census).read_bytes())
    assert pd.read_csv(io.BytesIO(packed), dtype=str).equals(table)


def test_demo_second_sample_and_bad_sample(tmp_path):
    res = _run("demo", "--sample", "nowhere", "--out", str(tmp_path / "x"), "--quiet")
    assert res.returncode == 2
    assert "--sample" in res.stderr and "nowhere" in res.stderr and "Traceback" not in res.stderr


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
    # the run's warnings too (CAU maps no nursery, health station or elderly care)
    assert "以下生活圈设施类别在体检范围及周边均未测绘" in res.stderr, res.stderr
    assert "no facility mapped within reach" not in res.stderr, res.stderr


def test_template(tmp_path):
    res = _run("template", str(tmp_path / "t.csv"))
    assert res.returncode == 0
    head = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "指标编号" in head and "indicator_id" in head


def test_help_lists_every_command():
    """The command set of the redesign (issue 17) is the one users had: same names."""
    res = _run("--help")
    assert res.returncode == 0, res.stderr
    listed = set()
    for line in res.stdout.splitlines():
        parts = line.strip("│ ").split()
        if parts and parts[0].replace("-", "").isalpha() and parts[0].islower():
            listed.add(parts[0])
    expected = {
        "evaluate", "demo", "indicators", "template", "report", "serve", "version", "batch",
        "urban-system", "land-consumption", "plan", "whatif", "hotline", "lifeline",
    }  # fmt: skip
    assert expected <= listed, sorted(expected - listed)


def test_indicators_in_chinese():
    """Issue 16: `citycheck indicators --lang zh` shows Chinese units and thresholds."""
    res = _run("indicators", "--lang", "zh")
    assert res.returncode == 0, res.stderr
    assert "平方米/人" in res.stdout and "预警" in res.stdout and "单位" in res.stdout
    assert "m²/person" not in res.stdout and "(warning" not in res.stdout
    assert "Built-up land per capita" not in res.stdout


def test_demo_never_replaces_a_folder_that_is_not_a_run(tmp_path):
    """`citycheck demo` overwrites its run folder; a user's other folder, or a file, is refused
    before any work and left as it was."""
    mine = tmp_path / "my-documents"
    mine.mkdir()
    (mine / "thesis.docx").write_text("years of work")
    res = _run("demo", "--out", str(mine), "--quiet")
    assert res.returncode == 2
    assert "not a citycheck run folder" in res.stderr and str(mine) in res.stderr
    assert (mine / "thesis.docx").read_text() == "years of work"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    res = _run("evaluate", str(shared_data("osm", "beijing-haidian-bupt.osm.pbf")),
               "--out", str(a_file), "--population", "1000", "--overwrite", "-q")  # fmt: skip
    assert res.returncode == 2 and a_file.read_text() == "keep"
    assert "Traceback" not in res.stderr
