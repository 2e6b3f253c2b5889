"""The CJK font used by the report's charts, maps and PDF.

A system Noto Sans CJK (Debian's ``fonts-noto-cjk``) is used when one is installed; otherwise the
copy in the ``noto-cjk-sans-otc`` wheel, a dependency of citycheck (Noto Sans CJK Regular, the
same OpenType collection Debian ships, SIL Open Font License 1.1). Nothing is fetched at run time.
Matplotlib learns the font file once; WeasyPrint finds it through fontconfig by family, so when
the font comes from the wheel, :func:`use_cjk_font_in_fontconfig` points fontconfig at a small
configuration that adds the wheel's folder to the system's own.
"""

from __future__ import annotations

import glob
import logging
import os
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = [
    "CJK_FAMILY",
    "FontMissing",
    "cjk_font_path",
    "register_cjk_font",
    "use_cjk_font_in_fontconfig",
]

logger = logging.getLogger(__name__)

#: The family name (Simplified Chinese face of Noto Sans CJK).
CJK_FAMILY = "Noto Sans CJK SC"

_SYSTEM = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*Regular*.tt[cf]",
    "/usr/share/fonts/**/NotoSansSC*.[ot]tf",
    "/usr/local/share/fonts/**/NotoSansCJK*.tt[cf]",
)
#: The wheel that carries the font, and the file inside it.
_WHEEL_PACKAGE = "noto_cjk_sans_otc"
_WHEEL_FILE = "NotoSansCJK-Regular.ttc"


class FontMissing(RuntimeError):
    """No font that renders Chinese is installed."""


def _system_font() -> Path | None:
    for pattern in _SYSTEM:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            return Path(hits[0])
    return None


def _wheel_font() -> Path | None:
    try:
        path = Path(str(resources.files(_WHEEL_PACKAGE) / _WHEEL_FILE))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


@cache
def cjk_font_path() -> Path:
    """The Noto Sans CJK file to use: the system's if installed, else the wheel's.

    Raises
    ------
    FontMissing
        If neither is there (the ``noto-cjk-sans-otc`` wheel was removed and no system font is
        installed); the message says how to add one.
    """
    found = _system_font() or _wheel_font()
    if found is None:
        raise FontMissing(
            "no Chinese font found: the noto-cjk-sans-otc package is not installed and there is "
            "no Noto Sans CJK under /usr/share/fonts; run `pip install noto-cjk-sans-otc` "
            "(or, on Debian, `apt-get install fonts-noto-cjk`)"
        )
    return found


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


@cache
def use_cjk_font_in_fontconfig() -> Path:
    """Make fontconfig (and so WeasyPrint) find the CJK font; returns the font file.

    A system font needs nothing. For the wheel's font, a fontconfig file that includes the
    system's configuration and adds the wheel's folder is written to a temporary folder and
    named in ``FONTCONFIG_FILE`` (read by fontconfig each time WeasyPrint loads a font
    configuration), unless the user already set that variable.
    """
    path = cjk_font_path()
    if _system_font() == path or os.environ.get("FONTCONFIG_FILE"):
        return path
    folder = Path(tempfile.mkdtemp(prefix="citycheck-fontconfig-"))
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        "<fontconfig>\n"
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{path.parent.as_posix()}</dir>\n"
        f"  <cachedir>{(folder / 'cache').as_posix()}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    os.environ["FONTCONFIG_FILE"] = str(conf)
    logger.debug("fontconfig: %s adds %s", conf, path.parent)
    return path
