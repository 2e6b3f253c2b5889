"""The plain HTML summary of a run (the full report is :mod:`citycheck.report`)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from citycheck.categories import categories
from citycheck.evaluate.catalogue import dimensions, indicator_text
from citycheck.labels import in_language, label, not_computed_reason, translate_threshold

__all__ = ["render_summary"]

_ENV = Environment(
    loader=PackageLoader("citycheck.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def render_summary(doc: dict[str, Any], *, lang: str = "en") -> str:
    """Render results.json (as a dict) to a self-contained HTML page in ``lang``."""
    zh = lang == "zh"
    dims = dimensions()
    cats = categories()
    district = [i for i in doc["indicators"] if i["level"] == "district"]
    overall = next((o for o in doc["scores"]["overall"] if o["level"] == "district"), None)
    dim_scores = [d for d in doc["scores"]["dimensions"] if d["level"] == "district"]
    return _ENV.get_template("summary.html.j2").render(
        doc=doc,
        lang=lang,
        L=lambda k: label(k, lang),
        fmt=_fmt,
        name=lambda item: item["zh"] if zh else item["en"],
        dim_name=lambda d: dims[d][0] if zh else dims[d][1],
        cat_name=lambda c: cats[c].name(lang) if c in cats else c,
        district=district,
        overall=overall,
        dim_scores=dim_scores,
        msg=lambda section, key: in_language(section, key, lang),
        reason=lambda iid: not_computed_reason(doc, iid, lang),
        threshold=lambda text: translate_threshold(text, lang),
        text=lambda iid, field, stored: indicator_text(iid, field, lang, stored),
    )
