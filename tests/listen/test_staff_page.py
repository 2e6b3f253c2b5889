"""The staff web page in a real browser: Debian's chromium driven by Playwright (headless)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect, sync_playwright
from tests.conftest import system_chromium

from citycheck.listen.domain import EventKind
from citycheck.listen.settings import HotlineSettings
from citycheck.listen.store import Hotline, Intake, Staff

from .conftest import fresh_db_url
from .live_server import LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    db_url = fresh_db_url("sqlite", tmp_path_factory.mktemp("page"))
    h = Hotline(HotlineSettings(db_url=db_url, secret="test-secret"))
    tokens = {
        "disp": h.create_staff("disp", "dispatcher"),
        "ne": h.create_staff("ne", "unit", "jd_ne"),
        "sw": h.create_staff("sw", "unit", "jd_sw"),
    }
    old = datetime.now(UTC) - timedelta(days=30)
    late = h.submit(
        Intake(
            "我叫李雷，电话13700000000，小区路灯全坏了",
            service_code="urban",
            lat=39.97,
            lon=116.36,
            requested_at=old,
        )
    )
    h.act(late.id, EventKind.SIGN, Staff("ne", "unit", "jd_ne"), at=old + timedelta(hours=1))
    other = h.submit(Intake("西南片区道路塌陷", service_code="urban", lat=39.95, lon=116.34))
    h.close()
    srv = LiveServer(db_url).start()
    yield {"url": srv.url, "tokens": tokens, "late": late.id, "other": other.id}
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    system_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()


def sign_in(browser, site, who):
    page = browser.new_page()
    page.goto(site["url"] + "/staff/")
    page.fill("#token", site["tokens"][who])
    page.click("#login")
    return page


def test_unit_sees_its_queue_timeline_and_overdue_orders(browser, site):
    page = sign_in(browser, site, "ne")
    expect(page.locator("#who")).to_contain_text("ne · unit · jd_ne")
    rows = page.locator("#orders tbody tr")
    expect(rows).to_have_count(1)  # only its own order, not the south-west one
    expect(rows.first).to_contain_text("已签收")
    expect(rows.first).to_contain_text("东北街道办事处")
    expect(rows.first).not_to_contain_text("13700000000")  # redacted in staff lists too
    expect(rows.first).not_to_contain_text("李雷")
    rows.first.click()
    steps = page.locator("#timeline tbody tr")
    expect(steps).to_have_count(4)
    expect(steps.nth(1)).to_contain_text("分类 classify")
    expect(steps.nth(3)).to_contain_text("签收 sign")
    overdue = page.locator("#overdue tbody tr")
    expect(overdue).to_have_count(1)
    expect(overdue.first).to_contain_text("通报 public notice")  # 30 days: the last rung
    expect(overdue.first).to_contain_text("close, contact")
    page.close()


def test_dispatcher_sees_all_and_a_bad_token_is_refused(browser, site):
    page = sign_in(browser, site, "disp")
    expect(page.locator("#orders tbody tr")).to_have_count(2)
    page.select_option("#queue", "closed")
    expect(page.locator("#orders tbody tr")).to_have_count(0)
    page.close()
    bad = browser.new_page()
    bad.goto(site["url"] + "/staff/")
    bad.fill("#token", "not-a-token")
    bad.click("#login")
    expect(bad.locator("#error")).to_contain_text("401")
    expect(bad.locator("#orders tbody tr")).to_have_count(0)
    bad.close()
