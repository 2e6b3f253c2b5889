"""The report: every indicator in the table and every failing one in the problem list, with the
values of results.json; self-contained HTML; bad run folders get clear errors."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from citycheck.cli import app
from citycheck.evaluate.catalogue import catalogue
from citycheck.io.errors import InputError
from citycheck.io.runfolder import read_results


class Rows(HTMLParser):
    """Table rows of an HTML page: (section id, data-* attributes, cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, dict[str, str], list[str]]] = []
        self.section = ""
        self.images: list[str] = []
        self.image_sections: list[str] = []
        self._row: tuple[str, dict[str, str], list[str]] | None = None
        self._cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id", "")
        elif tag == "tr":
            self._row = (self.section, {k: v for k, v in a.items() if k.startswith("data-")}, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(a.get("src", ""))
            self.image_sections.append(self.section)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row[2].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> Rows:
    p = Rows()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def shown_equals(text: str, value: float | None) -> bool:
    """Whether a displayed number is the value rounded for display (independent of the code)."""
    if value is None:
        return text == "—"
    shown = float(text.replace(",", ""))
    if abs(value) >= 1000:
        return abs(shown - value) <= 0.5 + 1e-9
    if value == 0:
        return shown == 0
    return math.isclose(shown, value, rel_tol=6e-4, abs_tol=0)


GRADE_NAMES = {
    "en": {
        "pass": "pass",
        "warning": "warning",
        "fail": "fail",
        "info": "info",
        "no data": "no data",
    },
    "zh": {
        "pass": "达标",
        "warning": "预警",
        "fail": "不达标",
        "info": "仅报告",
        "no data": "无数据",
    },
}


def test_demo_writes_four_reports(demo_run):
    for lang in ("zh", "en"):
        html = demo_run / f"report.{lang}.html"
        pdf = demo_run / f"report.{lang}.pdf"
        assert html.stat().st_size > 50_000
        assert pdf.read_bytes()[:5] == b"%PDF-"
    assert (demo_run / "summary.html").exists()
    read_results(demo_run)  # the run folder is still complete and valid


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["demo_run", "bupt_run"])
def test_every_indicator_in_table_with_its_value(which, lang, request):
    run = request.getfixturevalue(which)
    doc = json.loads((run / "results.json").read_text(encoding="utf-8"))
    page = parse(run / f"report.{lang}.html")
    rows = {}
    for section, attrs, cells in page.rows:
        if section in ("indicator-table", "appendix") and "data-indicator" in attrs:
            key = (attrs["data-indicator"], attrs["data-level"], attrs["data-unit"])
            assert key not in rows, f"{key} shown twice"
            rows[key] = (section, attrs, cells)
    expected = {(i["id"], i["level"], i["unit_id"]): i for i in doc["indicators"]}
    assert set(rows) == set(expected)
    names = GRADE_NAMES[lang]
    table_ids = set()
    for key, ind in expected.items():
        section, attrs, cells = rows[key]
        value_cell = cells[3] if section == "indicator-table" else cells[4]
        assert shown_equals(value_cell, ind["value"]), (key, value_cell, ind["value"])
        assert attrs["data-grade"] == ind["grade"]
        assert names[ind["grade"]] in cells, (key, cells)
        if section == "indicator-table":
            table_ids.add(ind["id"])
            assert (ind["zh"] if lang == "zh" else ind["en"]) in cells[1]
            # the unit in the page's language (issue 16): the catalogue's unit_zh on Chinese pages
            unit_zh = catalogue()[ind["id"]].unit_zh if ind["id"] in catalogue() else None
            assert cells[4] == (unit_zh or ind["unit"] if lang == "zh" else ind["unit"])
    assert table_ids == {i["id"] for i in doc["indicators"]}  # every indicator in the table


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", ["demo_run", "bupt_run"])
def test_every_failing_indicator_in_problem_list(which, lang, request):
    run = request.getfixturevalue(which)
    doc = json.loads((run / "results.json").read_text(encoding="utf-8"))
    page = parse(run / f"report.{lang}.html")
    shown = {
        attrs["data-indicator"]: cells
        for section, attrs, cells in page.rows
        if section == "problem-list" and "data-indicator" in attrs
    }
    failing_district = {
        i["id"] for i in doc["indicators"] if i["level"] == "district" and i["grade"] == "fail"
    }
    assert failing_district <= set(shown)
    assert set(shown) == {p["indicator"] for p in doc["problems"]}
    for p in doc["problems"]:
        cells = shown[p["indicator"]]
        assert shown_equals(cells[3], p["value"])
        assert shown_equals(cells[5], p["gap"])
        for u in p["worst_units"]:
            m = re.search(re.escape(str(u["unit_id"])) + r" = ([-0-9.,]+)", cells[7])
            assert m and shown_equals(m.group(1), u["value"]), (u, cells[7])
    projects = [a for s, a, _c in page.rows if s == "project-list" and "data-indicator" in a]
    assert sorted(a["data-indicator"] for a in projects) == sorted(shown)


def test_not_computed_listed_with_reason(demo_run):
    doc = read_results(demo_run)
    page = parse(demo_run / "report.en.html")
    listed = {
        a["data-indicator"]: c for s, a, c in page.rows if s == "overview" and "data-indicator" in a
    }
    assert set(listed) == set(doc["not_computed"])
    for iid, reason in doc["not_computed"].items():
        assert listed[iid][2] == " ".join(reason.split())


def test_html_is_self_contained_and_maps_have_content(bupt_run):
    text = (bupt_run / "report.zh.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "url(http" not in text
    page = parse(bupt_run / "report.zh.html")
    assert len(page.images) >= 4
    maps = 0
    for src, section in zip(page.images, page.image_sections, strict=True):
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.split(",", 1)[1])
        img = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
        non_white = (img < 245).any(axis=2).mean()
        packed = (img[..., 0].astype(np.uint32) << 16) | (img[..., 1].astype(np.uint32) << 8)
        colours = len(np.unique(packed | img[..., 2]))
        assert non_white > 0.01 and colours > 20, (section, non_white, colours)
        if section in ("overview", "problem-list"):  # maps: streets, buildings, units drawn
            maps += 1
            assert non_white > 0.15, (section, non_white)
    assert maps >= 2


def test_overview_attribution_and_completeness(bupt_run):
    doc = read_results(bupt_run)
    page = parse(bupt_run / "report.zh.html")
    text = "".join(page.text)
    assert "© OpenStreetMap" in text and "ODbL" in text
    assert "城市体检报告" in text and "问题清单" in text and "项目清单" in text
    counts = {a["data-category"]: c[1] for s, a, c in page.rows if "data-category" in a}
    for cat, n in doc["counts"]["facilities"].items():
        assert counts[cat] == str(n)


def test_life_circle_section_in_both_states(bupt_run, no_access_run):
    from citycheck.report import write_report

    computed = parse(bupt_run / "report.en.html")
    assert "Walking life circles were not computed" not in "".join(computed.text)
    life = [s for s in computed.image_sections if s == "life-circle"]
    assert len(life) >= 2  # the overall gap map and per-category maps
    out = write_report(no_access_run, lang="en", fmt="html")
    page = parse(out)
    text = "".join(page.text)
    assert "Walking life circles were not computed" in text
    assert "the walking-network engine (citycheck.access) is not available" in text
    assert "life-circle" not in page.image_sections


def test_gap_map_counts_match_the_engine_flags(bupt_run):
    """The report's count of missing life-circle categories per building equals the access
    engine's own lc5/lc10/lc15 flags written in the run folder."""
    from citycheck.report.layers import distance_columns, life_circle_missing

    b = gpd.read_file(bupt_run / "units.gpkg", layer="dwelling")
    mine = life_circle_missing(b, distance_columns(b))
    engine = (b["lc5_missing"] + b["lc10_missing"] + b["lc15_missing"]).to_numpy()
    assert (mine == engine).all()
    assert engine.max() > 0


@pytest.mark.parametrize(
    ("indicator", "cats", "alternatives"),
    [("L06b", ["food_market"], False), ("L09", ["bus_stop", "rail_station"], True)],
)
def test_residents_affected_by_walking_gap(bupt_run, indicator, cats, alternatives):
    """Residents beyond the walking limit, counted by a plain loop over buildings."""
    from citycheck.categories import categories
    from citycheck.report.layers import load_layers
    from citycheck.report.model import build_report

    doc = read_results(bupt_run)
    lay = load_layers(bupt_run, doc, base=False)
    fake = dict(doc)
    fake["problems"] = [
        {**doc["problems"][0], "indicator": indicator, "worst_level": None, "units_failing": 0,
         "units_total": 0, "worst_units": [], "red_line": False}
    ]  # fmt: skip
    rep = build_report(fake, lang="en", buildings=lay.buildings, units=lay.units)
    expected = 0.0
    for _, b in lay.buildings.iterrows():
        ok = [
            b[f"dist_m_{c}"] == b[f"dist_m_{c}"]
            and b[f"dist_m_{c}"] <= categories()[c].walk_limit_m
            for c in cats
        ]
        lacks = not any(ok) if alternatives else not all(ok)
        if bool(b["residential"]) and lacks:
            expected += b["residents"] or 0.0
    assert 0 < expected < doc["study_area"]["residents_total"]
    assert rep.projects[0]["residents"] == pytest.approx(expected)
    assert rep.projects[0]["basis"] == "residents beyond the walking limit"


def test_residents_of_failing_units(bupt_run):
    """Residents of failing units = residents of buildings whose centroid lies in those units."""
    from citycheck.report.layers import load_layers
    from citycheck.report.model import build_report

    doc = read_results(bupt_run)
    lay = load_layers(bupt_run, doc, base=False)
    rep = build_report(doc, lang="en", buildings=lay.buildings, units=lay.units)
    checked = 0
    for proj in rep.projects:
        if not proj["failing_units"] or proj["basis"] != "residents of failing units":
            continue
        units = lay.units[proj["level"]]
        shapes = units[units["unit_id"].isin(proj["failing_units"])].geometry
        total = 0.0
        for geom, res in zip(lay.buildings.geometry, lay.buildings["residents"], strict=True):
            p = geom.representative_point()
            if any(s.contains(p) for s in shapes):
                total += res or 0.0
        assert proj["residents"] == pytest.approx(total)
        checked += 1
    assert checked >= 1


def _copy(run: Path, dst: Path) -> Path:
    shutil.copytree(run, dst)
    for f in dst.glob("report.*"):
        f.unlink()
    return dst


def test_bad_run_folders_give_clear_errors(demo_run, tmp_path):
    runner = CliRunner()
    incomplete = _copy(demo_run, tmp_path / "incomplete")
    (incomplete / "COMPLETE").unlink()
    res = runner.invoke(app, ["report", str(incomplete)])
    assert res.exit_code == 2
    assert "incomplete" in res.output and "incomplete" in str(incomplete)
    old = _copy(demo_run, tmp_path / "old")
    doc = json.loads((old / "results.json").read_text(encoding="utf-8"))
    doc["schema_version"] = "2.0"
    (old / "results.json").write_text(json.dumps(doc), encoding="utf-8")
    res = runner.invoke(app, ["report", str(old), "--format", "pdf"])
    assert res.exit_code == 2 and "incompatible" in res.output and "schema_version" in res.output
    nogpkg = _copy(demo_run, tmp_path / "nogpkg")
    (nogpkg / "units.gpkg").unlink()
    with pytest.raises(InputError, match=r"units\.gpkg"):
        from citycheck.report import write_report

        write_report(nogpkg)
    res = runner.invoke(app, ["report", str(demo_run), "--lang", "fr"])
    assert res.exit_code == 2 and "fr" in res.output
    assert not list(tmp_path.glob("*/report.*"))  # nothing half-written


def test_report_command_writes_requested_file(demo_run, tmp_path):
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", str(demo_run), "--lang", "zh", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "体检指标表" in out.read_text(encoding="utf-8")


def test_chinese_chart_labels_have_glyphs(bupt_run, recwarn):
    """matplotlib warns "Glyph … missing from font(s)" when a label would be tofu."""
    from citycheck.report.layers import load_layers
    from citycheck.report.model import build_report
    from citycheck.report.render import add_figures

    doc = read_results(bupt_run)
    lay = load_layers(bupt_run, doc)
    add_figures(build_report(doc, lang="zh", buildings=lay.buildings, units=lay.units), lay)
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert not missing, missing[:3]


_ = gpd


def test_before_after_comparison(bupt_run, no_access_run, tmp_path):
    out = tmp_path / "cmp.html"
    res = CliRunner().invoke(
        app, ["report", str(bupt_run), "--compare", str(no_access_run), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    before = {
        i["id"]: i for i in read_results(no_access_run)["indicators"] if i["level"] == "district"
    }
    after = {i["id"]: i for i in read_results(bupt_run)["indicators"] if i["level"] == "district"}
    page = parse(out)
    rows = {
        a["data-indicator"]: c for s, a, c in page.rows if s == "results" and "data-indicator" in a
    }
    shown = {i for i in set(before) | set(after)
             if (before.get(i) or {}).get("value") is not None
             or (after.get(i) or {}).get("value") is not None}  # fmt: skip
    assert set(rows) == shown
    for iid, cells in rows.items():
        for doc, cell in ((before, cells[2]), (after, cells[3])):
            value = doc[iid]["value"] if iid in doc else None
            assert shown_equals(cell.split(" ")[0], value), (iid, cell, value)
    assert "Before / after" in "".join(page.text)
    assert page.image_sections.count("results") >= 3


def test_languages_in_parallel_equal_one_after_another(bupt_run, tmp_path):
    """The fixture wrote its reports with the languages in parallel processes; writing them one
    after another in this process gives the same pages (up to the run's timestamps)."""
    from citycheck.report import write_reports

    written = write_reports(bupt_run, formats=("html",), out_dir=tmp_path, parallel=False)
    assert [p.name for p in written] == ["report.zh.html", "report.en.html"]
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.\d]*(?:[+-]\d\d:\d\d|Z)?")
    for path in written:
        here = stamp.sub("", path.read_text(encoding="utf-8"))
        there = stamp.sub("", (bupt_run / path.name).read_text(encoding="utf-8"))
        assert len(here) > 10_000
        assert here == there, path.name
