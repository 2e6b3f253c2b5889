"""The CJK font comes from the noto-cjk-sans-otc wheel when the system has none."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from citycheck.report import fonts


@pytest.fixture
def no_system_font(monkeypatch):
    monkeypatch.setattr(fonts, "_system_font", lambda: None)
    fonts.cjk_font_path.cache_clear()
    yield
    fonts.cjk_font_path.cache_clear()


def test_wheel_font_is_used_without_a_system_font(no_system_font):
    import noto_cjk_sans_otc

    path = fonts.cjk_font_path()
    assert path == Path(str(noto_cjk_sans_otc.FONT_PATH))
    from fontTools.ttLib import TTCollection

    names = {f["name"].getDebugName(1) for f in TTCollection(str(path)).fonts}
    assert fonts.CJK_FAMILY in names


def test_missing_font_says_how_to_add_one(no_system_font, monkeypatch):
    monkeypatch.setattr(fonts, "_wheel_font", lambda: None)
    with pytest.raises(fonts.FontMissing, match="pip install noto-cjk-sans-otc"):
        fonts.cjk_font_path()


def test_weasyprint_embeds_the_wheel_font_through_fontconfig(tmp_path):
    """In a child process whose fontconfig knows only the wheel's folder (no system font at
    all), a PDF of Chinese text embeds Noto Sans CJK SC: the route the reports take."""
    pytest.importorskip("weasyprint")
    script = textwrap.dedent(
        f"""
        import os
        from citycheck.report import fonts
        fonts._system_font = lambda: None
        path = fonts.use_cjk_font_in_fontconfig()
        conf = os.environ["FONTCONFIG_FILE"]
        text = open(conf, encoding="utf-8").read()
        assert path.parent.as_posix() in text, text
        # drop the system configuration: only the wheel's font is left to fontconfig
        only = text.replace('<include ignore_missing="yes">/etc/fonts/fonts.conf</include>', "")
        open(conf, "w", encoding="utf-8").write(only)
        from weasyprint import HTML
        HTML(string='<p style="font-family: \\'Noto Sans CJK SC\\'">城市体检报告</p>').write_pdf(
            {str(tmp_path / "zh.pdf")!r})
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "FONTCONFIG_FILE"}
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    if "cannot load library" in res.stderr or "OSError" in res.stderr:
        pytest.skip(f"WeasyPrint's system libraries (Pango) are missing: {res.stderr[-300:]}")
    assert res.returncode == 0, res.stderr
    pdffonts = shutil.which("pdffonts")
    if pdffonts is None:
        pytest.skip("needs poppler's pdffonts (apt-get install poppler-utils)")
    listed = subprocess.run(
        [pdffonts, str(tmp_path / "zh.pdf")], capture_output=True, text=True, check=True
    ).stdout
    embedded = [line.split()[0] for line in listed.splitlines()[2:]]
    assert embedded and all(name.endswith("+Noto-Sans-CJK-SC") for name in embedded), listed
