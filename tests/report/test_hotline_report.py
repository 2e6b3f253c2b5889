"""Hotline analytics in the report and the dashboard API (RUN/hotline/ from `hotline stats --run`).

Real records: NYC 311 (three rates and density by borough checked against pandas on the raw
export) and the Chinese message board (themes checked against the raw file). A generated log
placed in the BUPT run's area checks what real records cannot: a planted surge flagged in the
trend, a planted intervention measured, and hotspots matched with the run's units.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from scipy.stats import binomtest
from tests.conftest import system_chromium
from tests.report.report_toc import assert_toc_lists, toc_entries
from tests.report.test_report import parse
from tests.runs import shared_data
from typer.testing import CliRunner

from citycheck.cli import app
from citycheck.io.runfolder import read_results
from citycheck.listen.privacy import redact
from citycheck.report import write_reports
from citycheck.web.dashboard import create_app

FMT = "%m/%d/%Y %I:%M:%S %p"
#: New York City boroughs, 2010 census (US Census Bureau, 2010 Census Summary File 1).
NYC_2010 = {
    "Bronx": 1_385_108,
    "Brooklyn": 2_504_700,
    "Manhattan": 1_585_873,
    "Queens": 2_230_722,
    "Staten Island": 468_730,
}
BUPT_BBOX = (116.3489, 39.9567, 116.3552, 39.9638)


def _stats(records: Path, run: Path, *extra: str) -> None:
    result = CliRunner().invoke(
        app, ["hotline", "stats", str(records), "--run", str(run), "--quiet", *extra]
    )
    assert result.exit_code == 0, result.output
    assert (run / "hotline" / "hotline.json").exists()


def _copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for f in dst.glob("report.*"):
        f.unlink()
    return dst


@pytest.fixture(scope="module")
def nyc_run(bupt_run, tmp_path_factory) -> Path:
    """The BUPT run with the NYC 311 sample's analytics (boroughs' 2010 census residents)."""
    base = tmp_path_factory.mktemp("hl-nyc")
    run = _copy_run(bupt_run, base / "run")
    res = base / "boroughs.csv"
    pd.DataFrame({"area": list(NYC_2010), "residents": list(NYC_2010.values())}).to_csv(
        res, index=False
    )
    _stats(shared_data("hotline", "nyc311_2011_sample.csv"), run, "--by", "unit",
           "--residents", str(res))  # fmt: skip
    write_reports(run, formats=("html",))
    return run


@pytest.fixture(scope="module")
def cn_run(bupt_run, tmp_path_factory) -> Path:
    """The BUPT run with the Chinese message board's analytics, ranked by category."""
    run = _copy_run(bupt_run, tmp_path_factory.mktemp("hl-cn") / "run")
    _stats(shared_data("hotline", "cn_messages_labelled.csv"), run, "--by", "category")
    write_reports(run, formats=("html",))
    return run


#: The planted effects: waterlogging ×30 for one week around one building, parking halved
#: from 2025-06-01.
PLANT_SPOT_SD = 6e-4  # degrees (about 60 m): the planted reports come from one block


@pytest.fixture(scope="module")
def planted_run(bupt_run, tmp_path_factory) -> Path:
    """The BUPT run with a generated log placed on its own buildings (positions drawn in
    proportion to the buildings' residents, so the rate per resident is even), with a surge of
    waterlogging reports around one building and a halving of parking reports planted."""
    import geopandas as gpd
    import numpy as np

    from citycheck.listen.analytics.synthetic import Plant, generate_orders

    base = tmp_path_factory.mktemp("hl-planted")
    run = _copy_run(bupt_run, base / "run")
    b = gpd.read_file(run / "units.gpkg", layer="dwelling", columns=["residents"])
    b = b[b["residents"].fillna(0) > 0]
    pts = b.geometry.representative_point().to_crs(4326)
    plant = Plant(surge_area="", surge_factor=30.0)
    orders = generate_orders(20_000, bbox=tuple(pts.total_bounds), plant=plant, seed=1)
    t0 = pd.Timestamp(plant.surge_start)
    planted = (orders["category"] == plant.surge_category) & orders["requested_at"].between(
        t0, t0 + pd.Timedelta(days=plant.surge_days)
    )
    rng = np.random.default_rng(5)
    w = b["residents"].to_numpy(float)
    w = w / w.sum()
    pick = rng.choice(len(pts), size=int((~planted).sum()), p=w)
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    orders.loc[~planted, "lon"] = x[pick] + rng.normal(0, 1e-4, len(pick))
    orders.loc[~planted, "lat"] = y[pick] + rng.normal(0, 1e-4, len(pick))
    spot = int(np.argsort(w)[len(w) // 2])  # a building of median size
    n = int(planted.sum())
    orders.loc[planted, "lon"] = x[spot] + rng.normal(0, PLANT_SPOT_SD, n)
    orders.loc[planted, "lat"] = y[spot] + rng.normal(0, PLANT_SPOT_SD, n)
    orders.to_csv(base / "orders.csv", index=False)
    _stats(base / "orders.csv", run, "--intervention", "2025-06-01",
           "--intervention-category", "parking", "--hex-resolution", "10")  # fmt: skip
    write_reports(run, formats=("html",))
    return run


def _bundle(run: Path) -> dict:
    return json.loads((run / "hotline" / "hotline.json").read_text(encoding="utf-8"))


def _rate(text: str) -> tuple[float, float, float]:
    m = re.fullmatch(r"([\d.]+) % \[([\d.]+)–([\d.]+)\]", text)
    assert m, text
    return float(m[1]), float(m[2]), float(m[3])


def _nyc_oracle() -> pd.DataFrame:
    """On-time closure by agency written directly on the raw export (no library code)."""
    raw = pd.read_csv(shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str)
    created = pd.to_datetime(raw["Created Date"], format=FMT)
    closed = pd.to_datetime(raw["Closed Date"], format=FMT)
    due = pd.to_datetime(raw["Due Date"], format=FMT)
    as_of = max(created.max(), closed.max())
    decided = due.notna() & (closed.notna() | (closed.isna() & (due < as_of)))
    on_time = decided & closed.notna() & (closed <= due)
    g = pd.DataFrame({"k": raw["Agency"], "d": decided, "o": on_time}).groupby("k")
    return pd.DataFrame({"n": g["d"].sum(), "k": g["o"].sum(), "orders": g.size()})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_nyc_rates_in_report_equal_pandas_and_wilson(nyc_run, lang):
    page = parse(nyc_run / f"report.{lang}.html")
    rows = {a["data-group"]: cells for sec, a, cells in page.rows
            if sec == "hotline" and "data-group" in a}  # fmt: skip
    oracle = _nyc_oracle()
    assert set(rows) == set(oracle.index)
    header = next(c for s, a, c in page.rows if s == "hotline" and "data-group" not in a
                  and len(c) > 5)  # fmt: skip
    col = header.index("On-time closure rate" if lang == "en" else "按期办结率")
    checked = 0
    for agency, o in oracle.iterrows():
        cells = rows[agency]
        assert int(cells[2].replace(",", "")) == o["orders"]
        if o["n"] == 0:
            assert cells[col] == "—"
            continue
        v, lo, hi = _rate(cells[col])
        ci = binomtest(int(o["k"]), int(o["n"])).proportion_ci(0.95, method="wilson")
        assert v == round(100 * o["k"] / o["n"], 1)
        assert (lo, hi) == (round(100 * ci.low, 1), round(100 * ci.high, 1))
        checked += 1
    assert checked >= 10
    # the ranking is on the Wilson lower bound: shown ranks follow the lower bounds
    ranked = sorted(
        (int(c[0]), _rate(c[col])[1]) for c in rows.values() if c[0] != "—" and c[col] != "—"
    )
    lows = [lo for _, lo in ranked]
    assert lows == sorted(lows, reverse=True)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_nyc_report_numbers_equal_the_exported_tables(nyc_run, lang):
    page = parse(nyc_run / f"report.{lang}.html")
    table = pd.read_csv(nyc_run / "hotline" / "tables" / "rates.csv", encoding="utf-8-sig")
    unit = table.columns[table.columns.str.endswith(" unit")][0]
    on_time = table.columns[table.columns == "按期办结率 on-time closure rate"][0]
    rows = {a["data-group"]: cells for sec, a, cells in page.rows if "data-group" in a}
    for _, t in table.iterrows():
        shown = [c for c in rows[t[unit]] if "[" in c]
        if pd.notna(t[on_time]):
            assert any(c.startswith(f"{100 * t[on_time]:.1f} %") for c in shown)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_nyc_density_by_borough_equals_census_rate(nyc_run, lang):
    raw = pd.read_csv(shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str)
    counts = raw["Borough"].value_counts()
    page = parse(nyc_run / f"report.{lang}.html")
    rows = {a["data-unit"]: c for s, a, c in page.rows if s == "hotline" and "data-unit" in a}
    for borough, res in NYC_2010.items():
        want = counts[borough.upper()] / res * 1e4
        cells = rows[borough]
        assert int(cells[1].replace(",", "")) == counts[borough.upper()]
        assert math.isclose(float(cells[3]), want, rel_tol=6e-4)


def test_nyc_hex_grid_and_hotspots_match_the_geojson(nyc_run):
    import geopandas as gpd

    hexes = gpd.read_file(nyc_run / "hotline" / "hexes.geojson")
    raw = pd.read_csv(shared_data("hotline", "nyc311_2011_sample.csv"), dtype=str)
    located = pd.to_numeric(raw["Latitude"], errors="coerce").notna()
    assert hexes["orders"].sum() == located.sum()
    text = (nyc_run / "report.en.html").read_text(encoding="utf-8")
    assert f"{len(hexes)} cells, {int(hexes['hot'].sum())} hotspots" in text
    zh = (nyc_run / "report.zh.html").read_text(encoding="utf-8")
    assert f"{len(hexes)} 个网格单元，{int(hexes['hot'].sum())} 个热点" in zh
    doc = read_results(nyc_run)  # results.json untouched and still valid
    assert doc["schema"] == "citycheck.results"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chinese_themes_cards_match_the_raw_messages(cn_run, lang):
    raw = pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)
    raw = raw.set_index("留言编号")
    month = pd.to_datetime(raw["留言时间"], format="%Y/%m/%d %H:%M:%S").dt.to_period("M")
    doc = _bundle(cn_run)
    assert len(doc["themes"]) >= 5 and any(t["recurring"] for t in doc["themes"])
    html = (cn_run / f"report.{lang}.html").read_text(encoding="utf-8")
    for t in doc["themes"]:
        ids = t["order_ids"]
        assert len(ids) == t["orders"] or len(ids) == 50
        if len(ids) == t["orders"]:
            assert raw.loc[ids, "一级分类"].eq(t["category"]).all()
            assert month.loc[ids].nunique() == t["months"]
            assert sum(t["by_month"].values()) == t["orders"]
        card = re.search(
            rf'<div class="theme-card[^"]*" data-theme="{t["theme"]}">(.*?)</ul>', html, re.S
        )
        assert card, t["theme"]
        body = card[1]
        assert f'<td class="num theme-orders">{t["orders"]:,}</td>' in body
        assert f'<td class="num theme-months">{t["months"]}</td>' in body
        assert f'<td class="num theme-places">{t["places"]}</td>' in body
        assert t["terms"][0] in body
        titles = {redact(str(x)[:80]) for x in raw.loc[ids, "留言主题"]}
        for e in t["examples"]:
            assert e in titles  # evidence: the (redacted) titles of the theme's own orders
        listed = re.search(r'<td class="small theme-by-month">(.*?)</td>', body)[1]
        by_raw = month.loc[ids].astype(str).value_counts().sort_index()
        if len(ids) == t["orders"] and len(by_raw) <= 12:
            assert listed == ", ".join(f"{m} ({n})" for m, n in by_raw.items())
        spark = re.search(r'data-counts="([\d,]+)"', body)
        assert sum(map(int, spark[1].split(","))) == t["orders"]
    label = "反复出现的问题" if lang == "zh" else "Recurring problems"
    assert label in html


def test_no_personal_data_in_reports(cn_run):
    raw = pd.read_csv(shared_data("hotline", "cn_messages_labelled.csv"), dtype=str)
    users = set(raw["留言用户"].dropna())
    phone = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
    for lang in ("en", "zh"):
        html = (cn_run / f"report.{lang}.html").read_text(encoding="utf-8")
        section = html[html.index('<section id="hotline">') :]
        section = section[: section.index("</section>")]
        assert not any(u in section for u in users)
        assert not phone.search(section)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_planted_surge_and_intervention_in_report(planted_run, lang):
    doc = _bundle(planted_run)
    top = doc["surges"][0]
    assert top["category"] == "waterlogging"
    assert pd.Timestamp("2025-03-03") <= pd.Timestamp(top["period"]) <= pd.Timestamp("2025-03-17")
    inter = doc["intervention"]
    assert inter["fell"] and 0.35 < inter["ratio"] < 0.65
    page = parse(planted_run / f"report.{lang}.html")
    text = "".join(page.text)
    assert f"{inter['change_pct']:+.1f} %" in text
    assert f"[{inter['ratio_lo']:.3f}, {inter['ratio_hi']:.3f}]" in text
    surge_rows = [c for s, a, c in page.rows if s == "hotline" and c and c[0] == "waterlogging"]
    assert surge_rows and surge_rows[0][1] == str(top["period"])[:10]
    assert int(surge_rows[0][2].replace(",", "")) == top["count"]
    assert any(s == "hotline" for s in page.image_sections)  # trend chart and maps drawn


def test_planted_hotspots_join_problem_list_with_units(planted_run):
    doc = _bundle(planted_run)
    assert doc["hex_per_10k"]  # the grid is rated per 10,000 residents of the run's buildings
    themes = [p["theme"] for p in doc["hotspot_problems"]]
    assert themes[:1] == ["waterlogging"], themes  # the planted block is found, first
    units = {u for p in doc["hotspot_problems"] for u in p["units"]}
    assert units  # hot cells lie in the run's units
    page = parse(planted_run / "report.en.html")
    rows = [(a, c) for s, a, c in page.rows if s == "problem-list" and a.get("data-scope")]
    hot = [c for a, c in rows if a["data-scope"] == "hotspot"]
    assert len(hot) == len(doc["hotspot_problems"])
    assert len(rows) == len(read_results(planted_run)["problems"]) + len(hot)
    assert any(u in " ".join(c[-1] for c in hot) for u in units)
    # unit density: orders in the run's units, per 10,000 of their residents
    dens = doc["unit_density"]
    assert sum(d["orders"] for d in dens) > 0
    for d in dens:
        if d["residents"]:
            assert math.isclose(d["per_10k"], d["orders"] / d["residents"] * 1e4)


def test_no_hotline_section_without_the_folder(bupt_run):
    for lang in ("en", "zh"):
        html = (bupt_run / f"report.{lang}.html").read_text(encoding="utf-8")
        assert 'id="hotline"' not in html
        assert "#hotline" not in toc_entries(html)


def test_toc_lists_the_hotline_section(cn_run):
    for lang, label in (("zh", "热线诉求分析"), ("en", "Hotline analytics")):
        html = (cn_run / f"report.{lang}.html").read_text(encoding="utf-8")
        assert_toc_lists(html, "#hotline", label)


def test_stats_run_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(
        app,
        ["hotline", "stats", str(shared_data("hotline", "nyc311_2011_sample.csv")),
         "--run", str(tmp_path), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 2
    flat = "".join(result.output.split())
    assert "notarunfolder" in flat and "".join(str(tmp_path).split()) in flat
    assert not (tmp_path / "hotline").exists()


def test_dashboard_hotline_api(nyc_run, bupt_run):
    client = TestClient(create_app([nyc_run, bupt_run]))
    runs = {r["path"]: r["id"] for r in client.get("/api/runs").json()}
    doc = _bundle(nyc_run)
    for lang, title in (("en", "Hotline analytics"), ("zh", "热线诉求分析")):
        v = client.get(f"/api/runs/{runs[str(nyc_run)]}/hotline", params={"lang": lang}).json()
        assert v["available"] and v["labels"]["sec_hotline"] == title
        assert len(v["themes"]) == len(doc["themes"])
        assert v["trend"]["months"] == doc["trend"]["months"]
        assert v["hex_cells"] == doc["hex_cells"]
    g = client.get(f"/api/runs/{runs[str(nyc_run)]}/hotline/hexes").json()
    assert len(g["features"]) == doc["hex_cells"]
    none = client.get(f"/api/runs/{runs[str(bupt_run)]}/hotline").json()
    assert none["available"] is False
    assert client.get(f"/api/runs/{runs[str(bupt_run)]}/hotline/hexes").status_code == 404


# ---------------------------------------------------------------- the dashboard in a browser


@pytest.fixture(scope="module")
def hotline_page_url(nyc_run, planted_run):
    from tests.web.test_dashboard_browser import Server

    with Server(create_app([nyc_run, planted_run])) as url:
        yield url


@pytest.fixture
def hl_page(hotline_page_url):
    from playwright.sync_api import sync_playwright
    from tests.web.test_dashboard_browser import CHROMIUM

    system_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--disable-background-networking"]
        )
        pg = b.new_page(viewport={"width": 1400, "height": 900})
        pg.errors = []  # type: ignore[attr-defined]
        pg.requests = []  # type: ignore[attr-defined]
        pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        pg.on("request", lambda r: pg.requests.append(r.url))
        pg.goto(hotline_page_url)
        pg.wait_for_selector("body[data-hotline]", timeout=60_000)
        assert pg.evaluate("document.body.dataset.hotline") == "1", pg.inner_text("#error")
        yield pg
        b.close()


def test_dashboard_shows_trend_hotspot_layer_and_theme_cards(hl_page, nyc_run, artifacts):
    pg = hl_page
    doc = _bundle(nyc_run)
    assert pg.locator("#hotline-section").is_visible()
    lines = pg.locator("#hotline-trend polyline.trend-line")
    assert lines.count() == len(doc["trend"]["categories"])
    assert pg.get_attribute("#hotline-trend", "data-months") == str(len(doc["trend"]["months"]))
    hexes = pg.locator("#map path.hotline-hex")
    assert hexes.count() == doc["hex_cells"]
    assert pg.locator("#map path.hotline-hex.hot").count() == doc["hot_cells"]
    cards = pg.locator("#hotline-section .theme-card")
    assert cards.count() == len(doc["themes"])
    first = doc["themes"][0]
    card = pg.locator(f'#hotline-section .theme-card[data-theme="{first["theme"]}"]')
    assert card.locator(".theme-orders").inner_text() == f"{first['orders']:,}"
    assert card.locator("svg.sparkline").count() == 1
    assert pg.locator("#hotline-rates tr[data-group]").count() == min(15, len(doc["rates"]["rows"]))
    assert pg.locator("#problems li.hotspot").count() == len(doc["hotspot_problems"])
    shown = {r: pg.inner_text(f'#hotline-density tr[data-unit="{r}"] td:nth-child(2)')
             for r in NYC_2010}  # fmt: skip
    want = {d["unit_id"]: f"{d['orders']:,}" for d in doc["density"]}
    assert shown == {r: want[r] for r in NYC_2010}
    pg.click("#hotline-zoom")
    pg.wait_for_timeout(400)
    pg.screenshot(path=str(artifacts / "dashboard-hotline-en.png"))
    pg.click("#lang-zh")
    pg.wait_for_function(
        "document.getElementById('hotline-title').textContent === '热线诉求分析'", timeout=30_000
    )
    assert "反复出现的问题" in pg.inner_text("#hotline-section")
    assert pg.locator("#hotline-section .theme-card").count() == len(doc["themes"])
    assert pg.errors == []
    assert all(u.startswith(hotline_url_prefix(pg)) or u.startswith("data:") for u in pg.requests)


def hotline_url_prefix(pg) -> str:
    return pg.url.split("/", 3)[0] + "//" + pg.url.split("/", 3)[2]


def test_dashboard_marks_planted_surge_and_intervention(hl_page, planted_run, artifacts):
    pg = hl_page
    doc = _bundle(planted_run)
    rid = next(
        o
        for o in pg.eval_on_selector_all("#run option", "els => els.map(e => e.value)")
        if o != pg.eval_on_selector("#run", "e => e.value")
    )
    pg.select_option("#run", rid)
    pg.wait_for_function(
        "document.querySelectorAll('#hotline-trend circle.surge-mark').length > 0",
        timeout=60_000,
    )
    marks = pg.eval_on_selector_all(
        "#hotline-trend circle.surge-mark",
        "els => els.map(e => [e.dataset.category, e.dataset.month])",
    )
    assert ["waterlogging", "2025-03"] in marks
    assert pg.locator("#hotline-trend line.intervention-line").count() == 1
    assert "parking" in pg.inner_text("#hotline-intervention")
    n = pg.locator("#map path.hotline-hex").count()
    assert n == doc["hex_cells"]
    assert pg.locator("#problems li.hotspot").count() == len(doc["hotspot_problems"])
    pg.screenshot(path=str(artifacts / "dashboard-hotline-planted.png"))
    assert pg.errors == []


def test_evaluate_scores_hotline_indicators_with_the_rest(planted_run, tmp_path):
    """`citycheck evaluate --hotline`: the hotline indicators are graded and scored in the run."""
    import shapely

    orders_csv = planted_run.parent / "orders.csv"
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["evaluate", str(shared_data("osm", "beijing-haidian-bupt.osm.pbf")), "--out", str(out),
         "--population", "30000", "--hotline", str(orders_csv), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = read_results(out)  # validates against results.schema.json
    assert any(i["role"] == "hotline" for i in doc["inputs"])
    got = {(r["id"], r["level"]): r for r in doc["indicators"] if r["id"].startswith("Z0")}
    for iid in ("Z01", "Z01b", "Z01c", "Z02"):
        r = got[(iid, "district")]
        assert r["value"] is not None and r["grade"] in ("pass", "warning", "fail", "info")
        assert iid not in doc["not_computed"]
    # Z02 by hand: orders inside the study area per 10,000 residents per year
    import geopandas as gpd

    area = gpd.read_file(out / "units.gpkg", layer="district").to_crs(4326).union_all()
    raw = pd.read_csv(orders_csv, parse_dates=["requested_at"])
    inside = shapely.contains_xy(area, raw["lon"], raw["lat"])
    t = raw.loc[inside, "requested_at"]
    years = (t.max() - t.min()).total_seconds() / (365.25 * 86400)
    residents = doc["study_area"]["residents_total"]
    want = inside.sum() / residents * 1e4 / years
    assert math.isclose(got[("Z02", "district")]["value"], want, rel_tol=0.01)

    # scored with the rest: the smart dimension of the district now counts the hotline values
    def smart(d: dict) -> dict | None:
        return next((x for x in d["scores"]["dimensions"] if x["level"] == "district"
                     and x["dimension"] == "smart"), None)  # fmt: skip

    with_hotline = smart(doc)
    without = smart(read_results(planted_run))
    assert with_hotline is not None and with_hotline["score"] is not None
    n_without = without["n_indicators"] if without else 0
    assert with_hotline["n_indicators"] >= n_without + 3  # Z01, Z01b, Z01c graded
