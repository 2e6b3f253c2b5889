"""The dashboard in a real browser: Debian's chromium driven by Playwright (headless, background
networking off). Screenshots are kept under test-artifacts/."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright
from tests.conftest import system_chromium

from citycheck.io.runfolder import read_results
from citycheck.web.dashboard import create_app

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn in a thread on 127.0.0.1 and a free port."""

    def __init__(self, app) -> None:
        self.port = _free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(200):  # bounded wait for start-up
            if self.server.started:
                break
            time.sleep(0.05)
        assert self.server.started, "dashboard server did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    system_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--disable-background-networking"]
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def base_url(bupt_run, demo_run, tmp_path_factory):
    bad = tmp_path_factory.mktemp("badb") / "broken"
    shutil.copytree(demo_run, bad)
    (bad / "COMPLETE").unlink()
    with Server(create_app([bupt_run, demo_run, bad])) as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.requests = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.goto(base_url)
    pg.wait_for_selector("body[data-ready]", timeout=30_000)
    assert pg.evaluate("document.body.dataset.ready") == "1", pg.inner_text("#error")
    yield pg
    ctx.close()


def _ready(page: Page) -> None:
    page.wait_for_function("document.body.dataset.ready === '1'", timeout=30_000)
    page.wait_for_timeout(200)


def _fills(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#map path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))"
    )


def test_page_loads_with_features_and_no_errors(page, base_url, bupt_run, artifacts):
    paths = page.locator("#map path.leaflet-interactive")
    assert paths.count() > 0
    n = int(page.get_attribute("#map", "data-features"))
    assert n > 0 and paths.count() >= n
    assert page.locator("#table tr").count() >= 2
    assert page.locator("#problems li").count() == len(read_results(bupt_run)["problems"])
    page.screenshot(path=str(artifacts / "dashboard-en.png"))
    assert page.errors == []
    assert all(u.startswith(base_url) or u.startswith("data:") for u in page.requests)


def test_bad_run_shows_clear_error(page):
    error = page.locator("#error")
    assert error.is_visible()
    assert "incomplete" in error.inner_text()
    assert page.locator("#run option[disabled]").count() == 1
    assert page.errors == []


def test_language_switch_changes_labels(page, bupt_run, artifacts):
    assert page.inner_text("#title") == "City health check map"
    en_options = page.locator("#indicator option").all_inner_texts()
    page.click("#lang-zh")
    page.wait_for_function("document.getElementById('title').textContent === '城市体检地图'")
    _ready(page)
    zh_options = page.locator("#indicator option").all_inner_texts()
    assert zh_options != en_options
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in zh_options)
    assert "问题清单" in page.inner_text("aside")
    page.screenshot(path=str(artifacts / "dashboard-zh.png"))
    assert page.errors == []


def test_switching_indicator_changes_map_and_table(page, bupt_run):
    doc = read_results(bupt_run)
    current = page.get_attribute("#map", "data-indicator")
    level = page.get_attribute("#map", "data-level")
    before = _fills(page)
    options = page.eval_on_selector_all("#indicator option", "els => els.map(e => e.value)")
    other = next(o for o in options if o != current)
    page.select_option("#indicator", other)
    page.wait_for_function(f"document.getElementById('map').dataset.indicator === '{other}'")
    _ready(page)
    assert page.get_attribute("#table", "data-indicator") == other
    level = page.get_attribute("#map", "data-level")
    expected = {
        i["unit_id"]: i["value"]
        for i in doc["indicators"]
        if i["id"] == other and i["level"] == level
    }
    rows = page.locator("#table tr[data-unit]")
    assert rows.count() == len(expected)
    for k in range(rows.count()):
        unit = rows.nth(k).get_attribute("data-unit")
        shown = rows.nth(k).locator("td").nth(1).inner_text()
        value = expected[unit]
        assert (
            shown == "—"
            if value is None
            else float(shown.replace(",", "")) == pytest.approx(value, rel=1e-3, abs=1e-9)
        )
    # the dimension menu also changes what is offered
    dims = page.eval_on_selector_all("#dimension option", "els => els.map(e => e.value)")
    if len(dims) > 1:
        page.select_option("#dimension", dims[-1])
        _ready(page)
    assert _fills(page) != before or page.get_attribute("#map", "data-indicator") != current
    assert page.errors == []


def test_clicking_a_unit_shows_its_values(page, bupt_run, artifacts):
    doc = read_results(bupt_run)
    page.select_option("#level", "neighbourhood")
    _ready(page)
    paths = page.locator("#map path.leaflet-interactive")
    # click the largest unit near its centre
    areas = paths.evaluate_all(
        "els => els.map(e => { const b = e.getBBox(); return b.width * b.height; })"
    )
    target = paths.nth(max(range(len(areas)), key=areas.__getitem__))
    target.click(force=True)
    page.wait_for_function("document.getElementById('info').dataset.unit", timeout=10_000)
    page.wait_for_selector("#info table.unit-values tr[data-indicator]")
    unit = page.get_attribute("#info", "data-unit")
    expected = {
        i["id"]: i
        for i in doc["indicators"]
        if i["level"] == "neighbourhood" and i["unit_id"] == unit
    }
    rows = page.locator("#info tr[data-indicator]")
    assert rows.count() == len(expected) > 0
    for k in range(rows.count()):
        iid = rows.nth(k).get_attribute("data-indicator")
        cells = rows.nth(k).locator("td")
        value_text = cells.nth(1).inner_text().split(" ")[0]
        ind = expected[iid]
        if ind["value"] is None:
            assert value_text == "—"
        else:
            assert float(value_text.replace(",", "")) == pytest.approx(ind["value"], rel=1e-3)
        if ind["grade"] == "fail":
            assert "short by" in cells.nth(2).inner_text()
    page.screenshot(path=str(artifacts / "dashboard-unit.png"))
    assert page.errors == []


def test_buildings_level_and_compare(page, demo_run, artifacts):
    page.select_option("#level", "dwelling")
    _ready(page)
    assert page.get_attribute("#map", "data-level") == "dwelling"
    assert page.locator("#map path.leaflet-interactive").count() > 50
    page.select_option("#compare", "run")
    page.wait_for_selector("#compare-section:not([hidden]) tr[data-indicator]")
    demo = {i["id"]: i["value"] for i in read_results(demo_run)["indicators"]
            if i["level"] == "district"}  # fmt: skip
    rows = page.locator("#compare-table tr[data-indicator]")
    assert rows.count() > 5
    for k in range(rows.count()):
        iid = rows.nth(k).get_attribute("data-indicator")
        b_text = rows.nth(k).locator("td").nth(2).inner_text().split(" ")[0]
        value = demo.get(iid)
        if value is None:
            assert b_text == "—"
        else:
            assert float(b_text.replace(",", "")) == pytest.approx(value, rel=1e-3, abs=0.5)
    page.screenshot(path=str(artifacts / "dashboard-compare.png"), full_page=True)
    assert page.errors == []


def test_clicking_a_building_shows_its_walking_gaps(page, bupt_run, artifacts):
    import geopandas as gpd

    page.select_option("#level", "dwelling")
    _ready(page)
    # residential buildings coloured by life-circle gaps (the run has walking distances)
    assert "Life-circle gaps" in page.inner_text(".lc-legend")
    paths = page.locator("#map path.leaflet-interactive")
    areas = paths.evaluate_all(
        "els => els.map(e => { const b = e.getBBox(); return b.width * b.height; })"
    )
    paths.nth(max(range(len(areas)), key=areas.__getitem__)).click(force=True)
    page.wait_for_selector("#info table.gaps tr td")
    osm_id = page.get_attribute("#info", "data-unit")
    b = gpd.read_file(bupt_run / "units.gpkg", layer="dwelling").set_index("osm_id").loc[osm_id]
    rows = page.locator("#info table.gaps tr:has(td)")
    assert rows.count() >= 10
    from citycheck.categories import categories

    by_name = {c.en: cid for cid, c in categories().items()}
    for k in range(rows.count()):
        cells = rows.nth(k).locator("td")
        cid = by_name[cells.nth(0).inner_text()]
        d = b[f"dist_m_{cid}"]
        text = cells.nth(1).inner_text()
        if d == d and d != float("inf"):
            assert float(text.replace(",", "").removesuffix(" m")) == pytest.approx(d, abs=0.5)
        verdict = cells.nth(2).inner_text()
        assert ("pass" in verdict) == bool(d <= categories()[cid].walk_limit_m)
    page.screenshot(path=str(artifacts / "dashboard-building.png"))
    assert page.errors == []
