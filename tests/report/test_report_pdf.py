"""The PDF: Chinese text is set in the CJK font (not tofu), maps are embedded, tables fit the
page. Pages are rendered to PNG with poppler's pdftoppm and kept under test-artifacts/."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTCollection
from PIL import Image

from citycheck.io.runfolder import read_results
from citycheck.report.fonts import cjk_font_path

POPPLER = shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdffonts")


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pages(bupt_run, artifacts) -> dict[str, list[Path]]:
    """PNG pages of both PDFs (50 dpi), kept as artefacts."""
    assert POPPLER, "poppler-utils missing (apt-get install poppler-utils; see .ci/run)"
    out = {}
    for lang in ("zh", "en"):
        folder = artifacts / f"report-pages-{lang}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        _run(
            "pdftoppm", "-r", "50", "-png", str(bupt_run / f"report.{lang}.pdf"), str(folder / "p")
        )
        out[lang] = sorted(folder.glob("p-*.png"))
    return out


def _is_cjk(ch: str) -> bool:
    return "CJK" in unicodedata.name(ch, "")


def test_chinese_text_is_in_the_cjk_font(bupt_run):
    pdf = bupt_run / "report.zh.pdf"
    fonts = _run("pdffonts", str(pdf))
    assert re.search(r"Noto-Sans-CJK-SC\s", fonts), fonts
    assert "Type 3" not in fonts  # no bitmap fallback glyphs
    text = _run("pdftotext", "-layout", str(pdf), "-")
    doc = read_results(bupt_run)
    for heading in ("城市体检报告", "体检指标表", "问题清单", "项目清单", "未计算指标"):
        assert heading in text
    for p in doc["problems"]:  # every problem's Chinese name survives into the PDF text
        assert p["zh"].replace(" ", "") in text.replace(" ", "").replace("\n", "")
    # every Chinese character set in the PDF has a glyph in the embedded font (no .notdef boxes)
    cjk = {ch for ch in text if _is_cjk(ch)}
    assert len(cjk) > 100
    coll = TTCollection(str(cjk_font_path()))
    face = next(f for f in coll.fonts if "CJK SC" in f["name"].getDebugName(1))
    cmap = face.getBestCmap()
    missing = sorted(ch for ch in cjk if ord(ch) not in cmap)
    assert not missing, missing[:20]


def test_pdf_embeds_the_maps_and_charts(bupt_run):
    listing = _run("pdfimages", "-list", str(bupt_run / "report.en.pdf"))
    n_pdf = len([ln for ln in listing.splitlines()[2:] if " image " in ln])
    html = (bupt_run / "report.en.html").read_text(encoding="utf-8")
    assert n_pdf >= html.count('<img src="data:image/png;base64,') >= 4


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_render_and_tables_fit(pages, lang):
    files = pages[lang]
    assert len(files) >= 8
    dark_pages = 0
    for f in files:
        img = np.asarray(Image.open(f).convert("L"))
        _h, w = img.shape
        ink = img < 200
        # nothing in the right margin (14 mm of 210 mm): tables wrap instead of running off
        margin = int(w * 10 / 210)
        assert not ink[:, w - margin :].any(), f"{f.name}: content in the right margin"
        assert not ink[:, :margin].any(), f"{f.name}: content in the left margin"
        if ink.mean() > 0.04:
            dark_pages += 1
    assert dark_pages >= 3  # pages with maps/charts/tables, not blank


def test_map_page_has_colour(pages):
    """A page with a map: many distinct colours (streets, buildings, water, facilities)."""
    best = 0
    for f in pages["zh"][:4]:
        img = np.asarray(Image.open(f).convert("RGB"))
        best = max(best, len(np.unique(img.reshape(-1, 3) // 8, axis=0)))
    assert best > 150
