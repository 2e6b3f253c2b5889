"""The dashboard's what-if panel: place, remove and move facilities on the real BUPT sample.

The numbers the page shows are checked against a direct computation: the run's City rebuilt
from its inputs, :class:`WhatIf` applied with the same action, and the residents that switch to
covered summed here with pandas from the distances before and after; indicator values from
``indicator_values`` of the engine. Browser: Debian's chromium driven by Playwright.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from playwright.sync_api import Page, sync_playwright
from pyproj import Transformer
from tests.conftest import system_chromium
from tests.web.test_dashboard_browser import CHROMIUM, Server

from citycheck.access import analyse_city, dist_column, indicator_values
from citycheck.categories import categories
from citycheck.plan.runinputs import city_from_run
from citycheck.plan.whatif import WhatIf
from citycheck.web.dashboard import create_app


@pytest.fixture(scope="module")
def direct(bupt_run):
    """The run's City and access result, computed here (not through the dashboard)."""
    city, _ = city_from_run(bupt_run)
    return city, analyse_city(city)


def expected_change(city, before, apply) -> tuple[dict[str, tuple[int, float, int, float]], dict]:
    """Per category: (buildings gained, residents gained, buildings lost, residents lost), and
    the district indicator values that changed (value after); by a direct WhatIf run and a
    pandas count."""
    wi = WhatIf(city, before)
    apply(wi)
    after = wi.result()
    b = city.buildings
    out = {}
    for cat, spec in categories().items():
        col = dist_column(cat)
        if spec.walk_limit_m is None or col not in after.buildings:
            continue
        d0 = (
            before.buildings[col].astype(float).fillna(np.inf)
            if col in before.buildings
            else np.inf
        )
        d1 = after.buildings[col].astype(float).fillna(np.inf)
        c0, c1 = d0 <= spec.walk_limit_m, d1 <= spec.walk_limit_m
        gain = b["residential"] & c1 & ~c0
        loss = b["residential"] & c0 & ~c1
        if gain.any() or loss.any():
            out[cat] = (
                int(gain.sum()),
                float(b.loc[gain, "residents"].sum()),
                int(loss.sum()),
                float(b.loc[loss, "residents"].sum()),
            )

    def district(result):
        vals, _ = indicator_values(result, city)
        return vals[vals["level"] == "district"].set_index("indicator")["value"].to_dict()

    d0, d1 = district(before), district(after)
    moved = {
        k: v
        for k, v in d1.items()
        if not (v is None and d0.get(k) is None)
        and (v is None or d0.get(k) is None or abs(v - d0[k]) > 1e-9)
    }
    return out, moved


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
def base_url(bupt_run):
    with Server(create_app([bupt_run])) as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(base_url)
    pg.wait_for_selector("#whatif[data-state='ready']", timeout=60_000)
    yield pg
    ctx.close()


def _wait_result(page: Page, version_before: str) -> None:
    page.wait_for_function(
        f"(() => {{ const s = document.getElementById('whatif'); return s.dataset.version !== "
        f"'{version_before}' && s.dataset.state !== 'computing'; }})()",
        timeout=60_000,
    )
    assert page.get_attribute("#whatif", "data-state") == "ready", page.inner_text("#wi-status")


def _coverage_shown(page: Page) -> dict[str, tuple[int, int, int, int]]:
    rows = page.locator("#wi-coverage tr[data-category]")
    out = {}
    for k in range(rows.count()):
        cells = rows.nth(k).locator("td").all_inner_texts()
        out[rows.nth(k).get_attribute("data-category")] = tuple(
            int(cells[i].replace(",", "")) for i in (2, 3, 4, 5)
        )
    return out


def _check_numbers(page: Page, expected, district) -> None:
    shown = _coverage_shown(page)
    assert set(shown) == set(expected)
    for cat, (bg, rg, bl, rl) in expected.items():
        assert shown[cat] == (round(rg), bg, round(rl), bl), cat
    rows = page.locator("#wi-indicators tr[data-indicator]")
    assert rows.count() == len(district)
    for k in range(rows.count()):
        iid = rows.nth(k).get_attribute("data-indicator")
        after_text = rows.nth(k).locator("td").nth(2).inner_text().split(" ")[0]
        assert float(after_text.replace(",", "")) == pytest.approx(district[iid], rel=1e-3)


def test_place_facility_shows_direct_whatif_numbers(page, direct, artifacts):
    city, before = direct
    # the most populous residential building: an elderly-care site there (BUPT has none)
    b = city.buildings[city.buildings["residential"]]
    target = b.geometry.loc[b["residents"].idxmax()].centroid
    lon, lat = Transformer.from_crs(city.crs, "EPSG:4326", always_xy=True).transform(
        target.x, target.y
    )
    page.select_option("#wi-category", "elderly_care")
    page.click("#wi-place")
    assert page.get_attribute("#whatif", "data-mode") == "add"
    xy = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); "
                       f"return [p.x, p.y]; }})()")  # fmt: skip
    box = page.locator("#map").bounding_box()
    version = page.get_attribute("#whatif", "data-version")
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    _wait_result(page, version)
    item = page.locator("#wi-actions li[data-op='add']")
    assert item.count() == 1 and item.get_attribute("data-category") == "elderly_care"
    # the site the click gave (a pixel away from the target at most), as the server got it
    lon_c, lat_c = float(item.get_attribute("data-lon")), float(item.get_attribute("data-lat"))
    x, y = Transformer.from_crs("EPSG:4326", city.crs, always_xy=True).transform(lon_c, lat_c)
    assert shapely.Point(x, y).distance(target) < 10
    expected, district = expected_change(
        city, before, lambda w: w.add("elderly_care", shapely.Point(x, y))
    )
    assert expected["elderly_care"][0] > 0  # the site serves someone
    _check_numbers(page, expected, district)
    # the buildings that switched are highlighted on the map
    n_new = sum(v[0] for v in expected.values())
    assert page.locator("#map path.wi-newly_served").count() == n_new
    assert "L05" in district  # elderly-care coverage moves
    page.screenshot(path=str(artifacts / "dashboard-whatif-add.png"))
    # the same numbers in Chinese
    page.click("#lang-zh")
    page.wait_for_function(
        "document.querySelector('#whatif h2').textContent.startsWith('情景推演')", timeout=30_000
    )
    page.wait_for_selector("#whatif[data-state='ready'] #wi-coverage", timeout=60_000)
    assert "新增覆盖居民" in page.inner_text("#wi-coverage")
    _check_numbers(page, expected, district)
    page.screenshot(path=str(artifacts / "dashboard-whatif-zh.png"))
    assert page.errors == []


def test_remove_and_move_existing_facility(page, direct, artifacts):
    city, before = direct
    page.check("#wi-existing")
    markers = page.locator("#map path.wi-facility")
    assert markers.count() > 0
    # remove the only facility of a category (clicked on the map, removed from its popup)
    setup = page.evaluate("wi.setup.facilities.features.map(f => f.properties)")
    counts = {}
    for p in setup:
        counts[p["category"]] = counts.get(p["category"], 0) + 1
    idx = min(range(len(setup)), key=lambda i: (counts[setup[i]["category"]], i))
    fid = setup[idx]["facility_id"]
    markers.nth(idx).click(force=True)
    page.wait_for_selector(f".wi-popup[data-facility='{fid}']")
    version = page.get_attribute("#whatif", "data-version")
    page.click(".wi-popup .wi-remove")
    _wait_result(page, version)
    expected, district = expected_change(city, before, lambda w: w.remove(str(fid)))
    assert expected, "removing the only facility of its kind changes someone's coverage"
    _check_numbers(page, expected, district)
    assert page.locator("#map path.wi-no_longer_served").count() == sum(
        v[2] for v in expected.values()
    )
    page.screenshot(path=str(artifacts / "dashboard-whatif-remove.png"))
    # undo, then move the same facility to the most populous residential building
    version = page.get_attribute("#whatif", "data-version")
    page.click("#wi-actions button.wi-undo")
    _wait_result(page, version)
    assert page.locator("#wi-coverage").count() == 0
    b = city.buildings[city.buildings["residential"]]
    target = b.geometry.loc[b["residents"].idxmax()].centroid
    lon, lat = Transformer.from_crs(city.crs, "EPSG:4326", always_xy=True).transform(
        target.x, target.y
    )
    page.locator("#map path.wi-facility").nth(idx).click(force=True)
    page.click(".wi-popup .wi-move")
    assert page.get_attribute("#whatif", "data-mode") == "move"
    xy = page.evaluate(f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); "
                       f"return [p.x, p.y]; }})()")  # fmt: skip
    box = page.locator("#map").bounding_box()
    version = page.get_attribute("#whatif", "data-version")
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    _wait_result(page, version)
    item = page.locator("#wi-actions li[data-op='move']")
    lon_c, lat_c = float(item.get_attribute("data-lon")), float(item.get_attribute("data-lat"))
    x, y = Transformer.from_crs("EPSG:4326", city.crs, always_xy=True).transform(lon_c, lat_c)
    expected, district = expected_change(
        city, before, lambda w: w.move(str(fid), shapely.Point(x, y))
    )
    _check_numbers(page, expected, district)
    page.screenshot(path=str(artifacts / "dashboard-whatif-move.png"))
    assert page.errors == []


def test_whatif_endpoint_rejects_bad_input(bupt_run):
    client = TestClient(create_app([bupt_run]))
    url = "/api/runs/bupt/whatif"
    cases = [
        ({"actions": []}, "actions"),
        ({"actions": [{"op": "add", "category": "fire_station", "lon": 116.35, "lat": 39.96}]},
         "actions[0].category='fire_station'"),
        ({"actions": [{"op": "add", "category": "kindergarten", "lon": 500, "lat": 39.96}]},
         "actions[0].lon/lat"),
        ({"actions": [{"op": "remove", "facility_id": "no-such-id"}]}, "no-such-id"),
        ({"actions": [{"op": "explode"}]}, "actions[0].op='explode'"),
        ({"actions": [{"op": "add", "category": "kindergarten", "lon": 117.5, "lat": 39.96}]},
         "farther than"),
        ({"actions": [{"op": "remove", "facility_id": "x"}] * 101}, "at most 100"),
    ]  # fmt: skip
    for body, needle in cases:
        res = client.post(url, json=body)
        assert res.status_code == 422, (body, res.text)
        assert needle in res.json()["error"], (needle, res.json())
        assert res.json()["error"].startswith("POST /api/runs/bupt/whatif")
    assert client.post("/api/runs/nope/whatif", json={"actions": []}).status_code == 404
    # a valid request still works after the refused ones (nothing stored between requests)
    add = {"op": "add", "category": "kindergarten", "lon": 116.352, "lat": 39.960}
    res = client.post(url, json={"actions": [add]})
    assert res.status_code == 200, res.text
    assert res.json()["log"][0]["op"] == "add"


def test_whatif_refuses_a_run_whose_input_changed(tmp_path):
    """The what-if rebuilds the City from the run's recorded inputs; an OSM file changed since
    the check is refused with the file's field and recorded value, and nothing is computed."""
    import shutil

    from tests.runs import shared_data

    from citycheck.pipeline import run_check

    pbf = tmp_path / "bupt.osm.pbf"
    shutil.copy(shared_data("osm", "beijing-haidian-bupt.osm.pbf"), pbf)
    run = run_check(pbf, out_dir=tmp_path / "run", population=5_000.0)
    with pbf.open("ab") as f:
        f.write(b"\0")
    client = TestClient(create_app([run]))
    res = client.get("/api/runs/run/whatif/setup")
    assert res.status_code == 409, res.text
    err = res.json()["error"]
    assert "inputs[osm].sha256" in err and "changed since the check" in err
    add = {"op": "add", "category": "kindergarten", "lon": 116.352, "lat": 39.960}
    assert client.post("/api/runs/run/whatif", json={"actions": [add]}).status_code == 409
