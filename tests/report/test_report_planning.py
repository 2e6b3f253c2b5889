"""The report's sited project list: the HTML shows the numbers of planning/projects.json,
written by `citycheck plan` on a copy of the real BUPT run, in Chinese and English."""

from __future__ import annotations

import json
import shutil

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from citycheck.cli import app
from citycheck.io.errors import InputError
from citycheck.report import write_reports
from citycheck.report.planning_section import planning_section


@pytest.fixture(scope="module")
def planned_run(bupt_run, tmp_path_factory):
    run = tmp_path_factory.mktemp("planned") / "bupt"
    shutil.copytree(bupt_run, run)
    for f in run.glob("report.*"):
        f.unlink()
    res = CliRunner().invoke(app, ["plan", str(run), "--new", "2", "-q"])
    assert res.exit_code == 0, res.output
    write_reports(run, formats=("html",))
    return run


def _number(text: str) -> float:
    return float(text.replace(",", "").split()[0])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_toc_lists_the_project_list_under_section_6(planned_run, bupt_run, lang):
    from tests.report.report_toc import assert_toc_lists, toc_entries

    html = (planned_run / f"report.{lang}.html").read_text(encoding="utf-8")
    assert_toc_lists(
        html, "#planning-projects", "更新项目清单" if lang == "zh" else "Renewal project list"
    )
    soup = BeautifulSoup(html, "html.parser")
    sub = soup.select_one('nav.toc a[href="#planning-projects"]')
    assert sub.find_parent("li").find_parent("li").a["href"] == "#project-list"  # nested
    unplanned = (bupt_run / f"report.{lang}.html").read_text(encoding="utf-8")
    assert "#planning-projects" not in toc_entries(unplanned)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_shows_the_project_list_numbers(planned_run, lang):
    doc = json.loads((planned_run / "planning" / "projects.json").read_text(encoding="utf-8"))
    assert len(doc["projects"]) >= 2
    html = (planned_run / f"report.{lang}.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    title = soup.find(id="planning-projects").get_text()
    assert title.startswith("更新项目清单" if lang == "zh" else "Renewal project list")
    rows = soup.select("table.planned-projects tbody tr")
    assert [int(r["data-rank"]) for r in rows] == [p["rank"] for p in doc["projects"]]
    for row, p in zip(rows, doc["projects"], strict=True):
        cells = row.find_all("td")
        assert int(cells[0].get_text()) == p["rank"]
        problem = p["problem"]
        assert problem["indicator"] in cells[1].get_text()
        assert problem["zh" if lang == "zh" else "en"] in cells[1].get_text()
        assert p["category_zh" if lang == "zh" else "category_en"] in cells[2].get_text()
        assert int(row.select_one(".n-sites").get_text()) == p["n_sites"] == len(p["sites"])
        for s in p["sites"]:  # every site with its coordinates and residents
            assert f"{s['lat']:.5f}, {s['lon']:.5f}" in cells[3].get_text()
        served = _number(row.select_one(".residents").get_text())
        assert served == pytest.approx(p["residents_newly_served"], abs=0.5)
        assert int(row.select_one(".buildings").get_text()) == p["buildings_newly_served"]
        assert row.select_one(".cost").get_text() == (
            "—" if p["cost"] is None else f"{p['cost']:,.0f}"
        )
        shown = row.select_one(".indicators").get_text("\n").split("\n")
        district = [m for m in p["indicators_moved"] if m["level"] == "district"]
        assert len(shown) == max(1, len(district))
        for m, text in zip(district, shown, strict=False):
            assert text.startswith(m["indicator"])
            after = text.split("→")[1].strip()
            assert _number(after) == pytest.approx(m["after"], abs=0.05)
        gap = p["solver"]["gap"]
        assert f"{gap:.2%}" in row.select_one(".model").get_text()
        assert p["model_zh" if lang == "zh" else "model_en"] in row.select_one(".model").get_text()


def test_section_absent_without_project_list(bupt_run):
    html = (bupt_run / "report.en.html").read_text(encoding="utf-8")
    assert "planned-projects" not in html
    assert planning_section(bupt_run, "en") is None


def test_bad_project_list_is_named(planned_run, tmp_path):
    run = tmp_path / "run"
    (run / "planning").mkdir(parents=True)
    path = run / "planning" / "projects.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError) as err:
        planning_section(run, "en")
    assert "projects.json" in str(err.value) and "file" in str(err.value)
    path.write_text(json.dumps({"schema": "citycheck.results", "projects": []}), "utf-8")
    with pytest.raises(InputError, match=r"schema='citycheck.results'"):
        planning_section(run, "en")
    good = json.loads((planned_run / "planning" / "projects.json").read_text(encoding="utf-8"))
    good["projects"][1]["category_en"] = 5
    path.write_text(json.dumps(good), "utf-8")
    with pytest.raises(InputError, match=r"projects\[1\]\.category_en=5"):
        planning_section(run, "en")
