"""Render a run's report to one self-contained HTML file or a PDF (WeasyPrint)."""

from __future__ import annotations

import logging
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from citycheck.categories import categories
from citycheck.evaluate.catalogue import catalogue
from citycheck.evaluate.document import load_results
from citycheck.labels import label
from citycheck.report import figures
from citycheck.report.fonts import CJK_FAMILY, use_cjk_font_in_fontconfig
from citycheck.report.hotline_section import attach_hotline
from citycheck.report.layers import MapLayers, distance_columns, load_layers
from citycheck.report.lifeline_section import lifeline_section
from citycheck.report.model import Report, build_report
from citycheck.report.planning_section import planning_section

__all__ = ["add_figures", "render_html", "render_pdf", "write_report", "write_reports"]

logger = logging.getLogger(__name__)

_ENV = Environment(
    loader=PackageLoader("citycheck.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)

#: At most this many maps per section (a report, not an atlas).
MAX_MAPS = 6


def add_figures(report: Report, layers: MapLayers) -> Report:
    """Draw the report's maps and charts into ``report.figures`` (by section)."""
    lang = report.lang
    figs: dict[str, list[dict[str, str]]] = {
        "overview": [], "results": [], "problems": [], "life_circle": [],
    }  # fmt: skip
    figs["overview"].append(
        {"title": label("map_facilities", lang), "src": figures.facilities_map(layers, lang)}
    )
    figs["results"].append(
        {"title": label("chart_dimensions", lang),
         "src": figures.dimension_bars(report.dimension_rows, lang)}
    )  # fmt: skip
    figs["results"].append(
        {"title": label("chart_radar", lang),
         "src": figures.dimension_radar(report.dimension_rows, lang)}
    )  # fmt: skip
    if report.compare_dimensions:
        figs["results"].append(
            {
                "title": label("chart_before_after", lang),
                "src": figures.before_after_chart(
                    report.compare_dimensions,
                    report.dimension_rows,
                    (report.compare_name, label("this_run", lang)),
                    lang,
                ),
            }
        )
    for level in ("neighbourhood", "compound"):
        dist = figures.distribution_chart(report.unit_rows, report.indicator_rows, level, lang)
        if dist:
            figs["results"].append({"title": label("chart_distribution", lang), "src": dist})
    drawn = set()
    for p in report.problems:
        if len(figs["problems"]) >= MAX_MAPS or not p["worst_level"]:
            continue
        uri = figures.unit_map(
            layers, p["worst_level"], p["id"], f"{p['id']} {p['name']}", p["unit"], lang
        )
        if uri:
            drawn.add(p["id"])
            figs["problems"].append({"title": f"{p['id']} {p['name']}", "src": uri})
    cat = catalogue()
    for row in report.indicator_rows:  # coverage shares by unit for network indicators
        if len(figs["problems"]) >= MAX_MAPS:
            break
        iid = row["id"]
        if iid in drawn or iid not in cat or cat[iid].compute != "access":
            continue
        uri = figures.unit_map(layers, "neighbourhood", iid, f"{iid} {row['name']}",
                               row["unit"], lang)  # fmt: skip
        if uri:
            figs["problems"].append({"title": f"{iid} {row['name']}", "src": uri})
    cols = distance_columns(layers.buildings)
    if cols:
        uri = figures.life_circle_gap_map(layers, cols, lang)
        if uri:
            figs["life_circle"].append({"title": label("map_life_circle", lang), "src": uri})
        wanted = [c for proj in report.projects for c in _project_cats(proj)]
        order = list(dict.fromkeys([*wanted, *cols]))
        for cid in order:
            if cid in cols and len(figs["life_circle"]) < MAX_MAPS:
                figs["life_circle"].append(
                    {"title": categories()[cid].name(lang),
                     "src": figures.gap_map(layers, cid, cols[cid], lang)}
                )  # fmt: skip
    report.figures = figs
    report.base_note = layers.base_note.text(report.lang)
    report.has_access = bool(cols)
    return report


def _project_cats(project: dict[str, Any]) -> list[str]:
    names = set(project["categories"])
    return [cid for cid, c in categories().items() if c.zh in names or c.en in names]


def render_html(report: Report, *, for_pdf: bool = False) -> str:
    """The report as one HTML document (images inlined as data URIs)."""
    lang = report.lang
    return _ENV.get_template("report.html.j2").render(
        r=report,
        lang=lang,
        L=lambda k: label(k, lang),
        for_pdf=for_pdf,
        font_family=CJK_FAMILY,
        colours=figures.GRADE_COLOURS,
    )


def render_pdf(report: Report, out: str | Path) -> Path:
    """Write the report as a PDF with WeasyPrint (the CJK font found through fontconfig)."""
    use_cjk_font_in_fontconfig()  # before WeasyPrint loads fontconfig; fails early if missing
    from weasyprint import HTML

    out = Path(out)
    HTML(string=render_html(report, for_pdf=True)).write_pdf(out)
    return out


def write_reports(
    run_dir: str | Path,
    *,
    langs: tuple[str, ...] = ("zh", "en"),
    formats: tuple[str, ...] = ("html", "pdf"),
    out_dir: str | Path | None = None,
    compare: str | Path | None = None,
    parallel: bool = True,
) -> list[Path]:
    """Read a run folder once and write its report in several languages and formats.

    Files are named ``report.<lang>.<format>`` in ``out_dir`` (default: the run folder).
    ``compare`` names an earlier run (or another scenario) shown as "before" beside this one.
    With ``parallel`` (the default) and more than one language on a machine with more than one
    CPU, the languages after the first are written by child processes while this one writes the
    first (figures and PDF layout take tens of seconds per language).

    Raises
    ------
    InputError
        If the run folder is incomplete, from an incompatible version, or lacks units.gpkg.
    ValueError
        For an unknown language or format.
    """
    for fmt in formats:
        if fmt not in ("html", "pdf"):
            raise ValueError(f"format: expected 'html' or 'pdf', got {fmt!r}")
    for lang in langs:
        if lang not in ("zh", "en"):
            raise ValueError(f"lang: expected 'zh' or 'en', got {lang!r}")
    run = Path(run_dir)
    if parallel and len(langs) > 1 and (os.cpu_count() or 1) > 1:
        return _write_languages_in_parallel(run, langs, formats, out_dir, compare)
    doc = load_results(run)
    baseline = load_results(compare) if compare is not None else None
    layers = load_layers(run, doc)
    target = Path(out_dir) if out_dir is not None else run
    written = []
    for lang in langs:
        report = build_report(
            doc,
            lang=lang,
            buildings=layers.buildings,
            facilities=layers.facilities,
            units=layers.units,
            baseline=baseline,
        )
        add_figures(report, layers)
        report.planning = planning_section(run, lang)
        report.lifeline = lifeline_section(run, lang)
        attach_hotline(report, run)
        for fmt in formats:
            out = target / f"report.{lang}.{fmt}"
            if fmt == "pdf":
                render_pdf(report, out)
            else:
                out.write_text(render_html(report), encoding="utf-8")
            logger.info("wrote %s", out)
            written.append(out)
    return written


def _write_languages_in_parallel(
    run: Path,
    langs: tuple[str, ...],
    formats: tuple[str, ...],
    out_dir: str | Path | None,
    compare: str | Path | None,
) -> list[Path]:
    """Write ``langs[1:]`` in spawned processes while this process writes ``langs[0]``."""
    kwargs: dict[str, Any] = {
        "formats": formats,
        "out_dir": out_dir,
        "compare": compare,
        "parallel": False,
    }
    workers = min(len(langs) - 1, max((os.cpu_count() or 2) - 1, 1))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        others = [pool.submit(write_reports, run, langs=(lang,), **kwargs) for lang in langs[1:]]
        written = write_reports(run, langs=langs[:1], **kwargs)
        for future in others:
            written += future.result()
    return written


def write_report(
    run_dir: str | Path,
    *,
    lang: str = "en",
    fmt: str = "html",
    out: str | Path | None = None,
    compare: str | Path | None = None,
) -> Path:
    """Read a run folder and write its report in one language and format.

    Parameters
    ----------
    run_dir : path
        A complete run folder.
    lang : {"zh", "en"}
    fmt : {"html", "pdf"}
    out : path, optional
        Output file (default ``RUN_DIR/report.<lang>.<fmt>``).
    compare : path, optional
        An earlier run folder (or another scenario) shown as "before".

    Raises
    ------
    InputError
        If a run folder is incomplete, from an incompatible version, or lacks units.gpkg.
    ValueError
        For an unknown language or format.
    """
    if out is None:
        return write_reports(run_dir, langs=(lang,), formats=(fmt,), compare=compare)[0]
    out = Path(out)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".report-") as tmp_dir:
        tmp = write_reports(
            run_dir, langs=(lang,), formats=(fmt,), out_dir=tmp_dir, compare=compare
        )[0]
        tmp.replace(out)
    return out
