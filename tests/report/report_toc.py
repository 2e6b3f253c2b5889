"""The report's table of contents, read back from the HTML (shared by the section tests)."""

from __future__ import annotations

from bs4 import BeautifulSoup

#: The optional sections and the anchor each is listed under.
OPTIONAL_ANCHORS = ("#hotline", "#planning-projects", "#lifeline")


def toc_entries(html: str) -> dict[str, str]:
    """Anchor -> label of every entry of the table of contents (nested ones included)."""
    soup = BeautifulSoup(html, "html.parser")
    return {a["href"]: a.get_text(strip=True) for a in soup.select("nav.toc a")}


def heading_text(html: str, anchor: str) -> str:
    """Text of the heading of the section an anchor points at (its own h2/h3, or the h2 inside)."""
    soup = BeautifulSoup(html, "html.parser")
    target = soup.find(id=anchor.lstrip("#"))
    assert target is not None, f"{anchor} is listed but not in the page"
    head = target if target.name in ("h2", "h3") else target.find(["h2", "h3"])
    return head.get_text(strip=True)


def assert_toc_lists(html: str, anchor: str, label: str) -> None:
    """The TOC lists ``anchor`` with a label starting with ``label``, and the section's heading
    starts with the TOC's label (the heading may add a count)."""
    toc = toc_entries(html)
    assert toc.get(anchor, "").startswith(label), (anchor, toc)
    assert heading_text(html, anchor).startswith(toc[anchor])
