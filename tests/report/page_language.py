"""Which language a page speaks: its visible text, English sentences in it, Chinese in it.

Used by test_report_languages.py on the pages a real run writes (report.<lang>.html and
summary.html). Independent of the code under test: it reads the HTML and the data catalogues only.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Tags whose content is not shown as text.
_HIDDEN = {"script", "style", "template", "noscript"}
#: Tags that end a line of text (cell, paragraph, heading, item …).
_BLOCKS = {
    "br", "caption", "dd", "div", "dt", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "li",
    "option", "p", "section", "summary", "td", "th", "title", "tr",
}  # fmt: skip

#: Tokens that stay as they are in either language: sources, licences, software, standards.
ALLOWED_NAMES = (
    "OpenStreetMap",
    "ODbL",
    "citycheck",
    "leiii/census",
    "MIT",
    "Noto Sans CJK SC",
    "GB/T",
    "GB",
    "EPSG",
    "UTM",
    "WGS 84",
    "PM2.5",
)

_URL = re.compile(r"\b(?:https?|file)://\S+")
_PATH = re.compile(r"(?:[\w.~-]*/)+[\w.-]+|\b[\w-]+\.(?:csv|pbf|gpkg|json|html|pdf|geojson|xlsx)\b")
_CODE = re.compile(r"`[^`]*`")
_FLAG = re.compile(r"(?<!\w)--[a-z][a-z-]*")
#: Three or more English words in a row, with spaces or ASCII punctuation between them.
_ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t,;:()/&+]+[A-Za-z][A-Za-z'’-]*){2,}")
_CJK = re.compile(r"[\u3400-\u9fff]+")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "img":
            self.parts.append("\n" + (dict(attrs).get("alt") or "") + "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_lines(html: str) -> list[str]:
    """The text a reader sees (scripts and styles left out), one line per block element."""
    parser = _Text()
    parser.feed(html)
    text = "".join(parser.parts)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _without(line: str, phrases: list[str]) -> str:
    for phrase in phrases:
        line = line.replace(phrase, " ")
    return line


def english_sentences(lines: list[str], allowed: list[str]) -> list[str]:
    """Lines holding three or more consecutive English words once URLs, paths, file names,
    command-line flags, code, the names of ``ALLOWED_NAMES`` and the phrases of ``allowed`` are
    taken out (each as "line → run")."""
    phrases = sorted({*ALLOWED_NAMES, *allowed}, key=len, reverse=True)
    found = []
    for line in lines:
        rest = _without(line, phrases)
        rest = _CODE.sub(" ", _URL.sub(" ", rest))
        rest = _FLAG.sub(" ", _PATH.sub(" ", rest))
        for m in _ENGLISH_RUN.finditer(rest):
            found.append(f"{line[:160]} → {m.group(0)!r}")
    return found


def chinese_text(lines: list[str], names: list[str]) -> list[str]:
    """Lines holding Chinese characters once the proper names of ``names`` are taken out."""
    phrases = sorted(set(names), key=len, reverse=True)
    found = []
    for line in lines:
        rest = _without(line, phrases)
        for m in _CJK.finditer(rest):
            found.append(f"{line[:160]} → {m.group(0)!r}")
    return found
