"""The plain HTML summary of a run (the full report is :mod:`citycheck.report`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from citycheck.categories import categories
from citycheck.evaluate.catalogue import dimensions, indicator_text
from citycheck.evaluate.document import IndicatorRow, ProblemRow, ResultsDocument, as_document
from citycheck.labels import label, translate_threshold

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


def render_summary(doc: ResultsDocument | Mapping[str, Any], *, lang: str = "en") -> str:
    """Render results.json (the typed model, or the dict) to a self-contained HTML page."""
    zh = lang == "zh"
    dims = dimensions()
    cats = categories()
    doc = as_document(doc)
    district = doc.rows("district")
    overall = doc.scores.overall_at("district")
    dim_scores = doc.scores.dimensions_at("district")

    def name(item: IndicatorRow | ProblemRow) -> str:
        return item.zh if zh else item.en

    return _ENV.get_template("summary.html.j2").render(
        doc=doc,
        lang=lang,
        L=lambda k: label(k, lang),
        fmt=_fmt,
        name=name,
        dim_name=lambda d: dims[d][0] if zh else dims[d][1],
        cat_name=lambda c: cats[c].name(lang) if c in cats else c,
        district=district,
        overall=overall,
        dim_scores=dim_scores,
        msg=lambda section, key: section.in_language(key, lang),
        reason=lambda iid: doc.not_computed_reason(iid, lang),
        threshold=lambda text: translate_threshold(text, lang),
        text=lambda iid, field, stored: indicator_text(iid, field, lang, stored),
    )
