"""Lifeline results in the report and the dashboard (RUN/lifeline/ written by the CLI)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import system_chromium
from typer.testing import CliRunner

from citycheck.cli import app

GAS_CSV = """timestamp,sensor_id,quantity,value,unit
2026-07-01 00:00,G-7,gas,5,%LEL
2026-07-01 00:15,G-7,gas,30,%LEL
2026-07-01 00:30,G-7,gas,60,%LEL
2026-07-01 00:45,G-7,gas,62,%LEL
2026-07-01 00:00,W-2,water_level,-1.0,m
2026-07-01 00:15,W-2,water_level,0.2,m
2026-07-01 00:30,W-2,water_level,-1.0,m
2026-07-01 00:45,W-2,water_level,-1.0,m
2026-07-01 01:15,W-2,water_level,-1.0,m
"""


def _net3() -> Path:
    import wntr

    return Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"


def _cli(*args: str) -> None:
    res = CliRunner().invoke(app, ["lifeline", *args])
    assert res.exit_code == 0, res.output


@pytest.fixture(scope="module")
def lifeline_run(demo_run, tmp_path_factory) -> Path:
    """The demo run plus lifeline results for WNTR's Net3, written by the lifeline commands."""
    tmp = tmp_path_factory.mktemp("lifeline")
    run = tmp / "run"
    shutil.copytree(demo_run, run)
    for f in run.glob("report.*"):
        f.unlink()
    net = str(_net3())
    _cli(
        "risk", net, "--out", str(tmp / "risk.csv"), "--unknown-age-years", "40", "--run", str(run)
    )
    _cli("renew", net, "--out", str(tmp / "renew.csv"), "--budget-cny", "2e7",
         "--unknown-age-years", "40", "--run", str(run))  # fmt: skip
    _cli("criticality", net, "--out", str(tmp / "crit.csv"), "--duration-h", "0",
         "--workers", "1", "--quiet", "--run", str(run))  # fmt: skip
    gas = tmp / "gas.csv"
    gas.write_text(GAS_CSV)
    _cli("monitor", str(tmp / "sensors.db"), str(gas), "--run", str(run))
    return run


def _rows(html: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table class="data {table}">(.*?)</table>', html, re.S)
    assert body, f"no {table} table"
    rows = re.findall(r"<tr data-[a-z]+=[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows]  # fmt: skip


def test_report_shows_the_lifeline_numbers_in_both_languages(lifeline_run):
    from citycheck.io.runfolder import read_results
    from citycheck.report import write_reports

    read_results(lifeline_run)  # results.json still validates against its schema
    write_reports(lifeline_run, formats=("html",))
    folder = lifeline_run / "lifeline"
    risk = pd.read_csv(folder / "risk.csv", dtype={"pipe_id": str})
    ren = pd.read_csv(folder / "renewal.csv")
    crit = pd.read_csv(folder / "criticality.csv", dtype={"scenario": str})
    top_risk = risk.sort_values("risk_residents_yr", ascending=False).iloc[0]
    top_crit = crit.sort_values("unmet_m3_per_day", ascending=False).iloc[0]
    for lang, words in (
        ("zh", ["城市生命线安全", "管段风险图", "管网更新项目", "关键性排名", "燃气泄漏", "较重"]),
        ("en", ["Lifeline safety", "Pipe risk map", "Renewal projects", "Criticality ranking",
                "gas leak", "major"]),
    ):  # fmt: skip
        html = (lifeline_run / f"report.{lang}.html").read_text(encoding="utf-8")
        assert 'id="lifeline"' in html and "data:image/png;base64," in html
        for w in words:
            assert w in html, (lang, w)
        r = _rows(html, "lifeline-risk")
        assert r[0][0] == top_risk.pipe_id
        assert r[0][3] == f"{top_risk.risk_residents_yr:,.1f}"
        assert len(r) == 10
        n = _rows(html, "lifeline-renewal")
        assert n[0][0].startswith(ren.iloc[0]["project_id"])
        assert n[0][2] == f"{ren.iloc[0]['cost_cny'] / 1e4:,.1f}"
        c = _rows(html, "lifeline-criticality")
        assert c[0][0] == top_crit.scenario
        assert c[0][1] == f"{top_crit.unmet_m3_per_day:,.1f}"
        a = _rows(html, "lifeline-alarms")
        # the gas alarm is still open; the water-level one cleared after 30 min of normal levels
        assert [x[0] for x in a] == ["G-7"]
        assert a[0][2] == ("较重" if lang == "zh" else "major")


def test_no_lifeline_section_without_lifeline_results(demo_run):
    html = (demo_run / "report.en.html").read_text(encoding="utf-8")
    assert 'id="lifeline"' not in html


def test_toc_lists_the_lifeline_section_only_when_present(lifeline_run, demo_run):
    from tests.report.report_toc import OPTIONAL_ANCHORS, assert_toc_lists, toc_entries

    from citycheck.report import write_reports

    write_reports(lifeline_run, formats=("html",))
    for lang, label in (("zh", "城市生命线安全"), ("en", "Lifeline safety")):
        html = (lifeline_run / f"report.{lang}.html").read_text(encoding="utf-8")
        assert_toc_lists(html, "#lifeline", label)
        # the demo run has none of the optional sections: none of them is listed
        plain = toc_entries((demo_run / f"report.{lang}.html").read_text(encoding="utf-8"))
        assert "#project-list" in plain and not set(OPTIONAL_ANCHORS) & set(plain)


def test_dashboard_api_answers_the_lifeline_data(lifeline_run, demo_run, tmp_path_factory):
    from fastapi.testclient import TestClient

    from citycheck.web.dashboard import create_app

    plain = tmp_path_factory.mktemp("plain") / "plain"
    shutil.copytree(demo_run, plain)
    client = TestClient(create_app([lifeline_run, plain]))
    rid = lifeline_run.name
    body = client.get(f"/api/runs/{rid}/lifeline", params={"lang": "zh"}).json()
    feats = body["pipes"]["features"]
    risk = pd.read_csv(lifeline_run / "lifeline" / "risk.csv", dtype={"pipe_id": str})
    assert len(feats) == len(risk) == 117  # every pipe of Net3
    by_pipe = {f["properties"]["pipe_id"]: f["properties"] for f in feats}
    top = risk.sort_values("risk_residents_yr", ascending=False).iloc[0]
    assert by_pipe[top.pipe_id]["risk_class"] == 4
    assert by_pipe[top.pipe_id]["risk"] == pytest.approx(top.risk_residents_yr)
    low = risk.sort_values("risk_residents_yr").iloc[0]
    assert by_pipe[low.pipe_id]["risk_class"] == 0
    assert body["title"] == "城市生命线安全（供水管网）" and body["map"] is None
    assert body["alarms"][0]["kind"] == "燃气泄漏"
    assert body["available"] is True
    assert client.get("/api/runs/plain/lifeline").json() == {"available": False}
    assert client.get("/api/runs/nope/lifeline").status_code == 404
    assert client.get(f"/api/runs/{rid}/lifeline", params={"lang": "fr"}).status_code == 422


def test_dashboard_lifeline_panel_in_the_browser(lifeline_run, demo_run, tmp_path_factory):
    import importlib.util

    from playwright.sync_api import sync_playwright

    from citycheck.web.dashboard import create_app

    spec = importlib.util.spec_from_file_location(
        "dashboard_browser", Path(__file__).parent / "test_dashboard_browser.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # its uvicorn-in-a-thread Server
    other = tmp_path_factory.mktemp("plain") / "plain"
    shutil.copytree(demo_run, other)
    risk = pd.read_csv(lifeline_run / "lifeline" / "risk.csv", dtype={"pipe_id": str})
    top = risk.sort_values("risk_residents_yr", ascending=False).iloc[0]
    system_chromium()
    with mod.Server(create_app([lifeline_run, other])) as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=mod.CHROMIUM, headless=True, args=["--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(url)
        page.wait_for_selector("#lifeline-section:not([hidden])", timeout=30_000)
        assert page.locator("#lifeline-map path").count() == 117
        first = page.locator("table.lifeline-risk tbody tr").first
        assert first.get_attribute("data-key") == top.pipe_id
        assert first.locator("td").nth(3).inner_text() == f"{top.risk_residents_yr:,.1f}"
        assert "Lifeline safety" in page.inner_text("#lifeline-section h2")
        page.click("#lang-zh")
        page.wait_for_function(
            "document.querySelector('#lifeline-section h2').textContent.includes('城市生命线')",
            timeout=30_000,
        )
        assert "燃气泄漏" in page.inner_text("table.lifeline-alarms")
        page.select_option("#run", "plain")
        page.wait_for_selector("#lifeline-section", state="hidden", timeout=30_000)
        assert errors == []
        browser.close()
