"""The health-check report: one indicator table and two lists (一表两清单), maps and charts.

``write_report(run_dir, lang=..., fmt=...)`` reads a run folder and writes a self-contained HTML
file or a PDF; :func:`build_report` gives the content as rows for other front ends.
"""

from citycheck.report.model import Report, build_report, fmt_value
from citycheck.report.render import render_html, render_pdf, write_report, write_reports

__all__ = [
    "Report",
    "build_report",
    "fmt_value",
    "render_html",
    "render_pdf",
    "write_report",
    "write_reports",
]
