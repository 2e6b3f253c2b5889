"""Chinese pages speak Chinese, English pages English: the report and the summary of real runs.

Two runs of the Beijing Haidian Wudaokou extract: one without census (so the not-computed reasons
of the census, residents and input indicators appear) and one with the 7th-census tables of
Haidian (110108). Their Chinese pages (report.zh.html, summary.html in Chinese) must hold no run of
three English words outside names and file paths, the indicator catalogue's texts (formula, source,
inputs, unit) included; their English pages no Chinese outside names (study area, census county,
facility categories, Chinese standards and terms the catalogue's English texts quote).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest
from tests.report.page_language import chinese_text, english_sentences, visible_lines
from tests.runs import shared_data

from citycheck.categories import categories
from citycheck.evaluate.catalogue import catalogue

WUDAOKOU = "beijing-haidian-wudaokou.osm.pbf"


def _write(out: Path, **census: str) -> Path:
    from citycheck.io.runfolder import read_results
    from citycheck.pipeline import run_check
    from citycheck.report import write_reports
    from citycheck.report.summary import render_summary

    run_check(shared_data("osm", WUDAOKOU), out_dir=out, lang="zh", **census)
    write_reports(out, formats=("html",), parallel=False)
    doc = read_results(out)
    (out / "summary.en.html").write_text(render_summary(doc, lang="en"), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def wudaokou(tmp_path_factory) -> dict[str, Path]:
    """The two runs: "plain" (no residents, no census) and "census" (--adcode 110108 --census)."""
    base = tmp_path_factory.mktemp("languages")
    county = shared_data("census", "china_county_census_2020.csv")
    return {
        "plain": _write(base / "plain"),
        "census": _write(base / "census", adcode="110108", census=str(county)),
    }


def _english_catalogue_texts() -> list[str]:
    """The catalogue's English texts (formula, source, inputs, unit): on the English pages they
    may quote Chinese titles of standards and Chinese terms (城区人口, 超大/特大 …)."""
    texts = set()
    for ind in catalogue().values():
        texts.update(t for t in (ind.formula, ind.source, ind.inputs, ind.unit) if t)
    return sorted(texts)


def _names(run: Path) -> list[str]:
    """Proper names a page in either language may show: the study area, the census county and
    city, and facility categories (the English warnings name them in both languages)."""
    doc = json.loads((run / "results.json").read_text(encoding="utf-8"))
    names = [doc["study_area"]["name"]]
    census = doc["study_area"].get("census") or {}
    names += [str(census[k]) for k in ("county", "city", "province") if k in census]
    system = census.get("urban_system") or {}
    names += [str(v) for v in system.values() if isinstance(v, str)]
    for cat in categories().values():
        names += [cat.zh, *cat.zh.split("/")]
    return names


def _pages(run: Path, lang: str) -> dict[str, list[str]]:
    summary = "summary.html" if lang == "zh" else "summary.en.html"
    return {
        name: visible_lines((run / name).read_text(encoding="utf-8"))
        for name in (f"report.{lang}.html", summary)
    }


@pytest.mark.parametrize("which", ["plain", "census"])
def test_zh_pages_carry_no_english_sentence(wudaokou, which):
    """Every message of the computation (not-computed reasons, warnings, residents method,
    scoring notes, census line, base-map note) and every text of the indicator catalogue
    (formula, source, inputs, unit) reaches the Chinese pages in Chinese."""
    run = wudaokou[which]
    found = {
        page: english_sentences(lines, _names(run)) for page, lines in _pages(run, "zh").items()
    }
    assert not any(found.values()), json.dumps(found, ensure_ascii=False, indent=1)


def test_zh_pages_show_the_catalogue_texts(wudaokou):
    """The Chinese report's method table carries each evaluated indicator's Chinese formula and
    source, and its tables the Chinese units: the texts the test above checks are there."""
    report = (wudaokou["census"] / "report.zh.html").read_text(encoding="utf-8")
    doc = json.loads((wudaokou["census"] / "results.json").read_text(encoding="utf-8"))
    cat = catalogue()
    evaluated = {r["id"] for r in doc["indicators"]} & set(cat)
    assert len(evaluated) > 20
    for iid in evaluated:
        ind = cat[iid]
        for text in (ind.formula_text("zh"), ind.source_text("zh")):
            assert escape(text, quote=False) in report, (iid, text)
        if len(ind.formula.split()) >= 3 and ind.formula not in ind.formula_zh:
            assert escape(ind.formula, quote=False) not in report, (iid, ind.formula)
    assert "平方米/人" in report and "百分点" in report


@pytest.mark.parametrize("which", ["plain", "census"])
def test_en_pages_carry_no_chinese_beyond_names(wudaokou, which):
    run = wudaokou[which]
    names = _names(run) + _english_catalogue_texts()
    found = {page: chinese_text(lines, names) for page, lines in _pages(run, "en").items()}
    assert not any(found.values()), json.dumps(found, ensure_ascii=False, indent=1)


def test_the_run_stores_both_languages(wudaokou):
    """results.json 1.1 holds each message in English (the 1.0 keys) and Chinese (``_zh``)."""
    doc = json.loads((wudaokou["plain"] / "results.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == "1.1"
    assert set(doc["not_computed_zh"]) == set(doc["not_computed"])
    assert len(doc["warnings_zh"]) == len(doc["warnings"]) >= 1
    assert len(doc["scores"]["notes_zh"]) == len(doc["scores"]["notes"])
    assert doc["study_area"]["residents_method"] == "none (no population given)"
    assert doc["study_area"]["residents_method_zh"] == "无（未给出人口）"
    assert doc["not_computed"]["U07"].startswith("needs the census tables: give --adcode")
    assert doc["not_computed_zh"]["U07"].startswith("需要人口普查表")
