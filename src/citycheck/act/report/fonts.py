"""The CJK font used by the report's charts, maps and PDF.

The project's set-up installs Debian's ``fonts-noto-cjk`` (see ``.ci/run``); nothing is fetched at
run time. Matplotlib learns the font file once; WeasyPrint finds it through fontconfig by family.
"""

from __future__ import annotations

import glob
import logging
from functools import cache
from pathlib import Path

__all__ = ["CJK_FAMILY", "FontMissing", "cjk_font_path", "register_cjk_font"]

logger = logging.getLogger(__name__)

#: The family name (Simplified Chinese face of Noto Sans CJK).
CJK_FAMILY = "Noto Sans CJK SC"

_SEARCH = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*Regular*.tt[cf]",
    "/usr/share/fonts/**/NotoSansSC*.[ot]tf",
    "/usr/local/share/fonts/**/NotoSansCJK*.tt[cf]",
)


class FontMissing(RuntimeError):
    """No font that renders Chinese is installed."""


@cache
def cjk_font_path() -> Path:
    """The installed Noto Sans CJK file.

    Raises
    ------
    FontMissing
        If none is installed (install Debian's ``fonts-noto-cjk``).
    """
    for pattern in _SEARCH:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            return Path(hits[0])
    raise FontMissing(
        "no Chinese font found (looked for Noto Sans CJK under /usr/share/fonts); "
        "install it with `apt-get install fonts-noto-cjk`"
    )


@cache
def register_cjk_font() -> str:
    """Make the CJK font known to matplotlib; returns the family name to use."""
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    names = {f.name for f in font_manager.fontManager.ttflist if f.fname == str(path)}
    family = CJK_FAMILY if CJK_FAMILY in names else sorted(names)[0]
    logger.debug("matplotlib CJK font %s from %s", family, path)
    return family
