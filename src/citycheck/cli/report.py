"""Command-line commands of the act part: ``citycheck report`` and ``citycheck serve``.

Registered in :mod:`citycheck.cli`; kept here so the report and dashboard own their options.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Annotated

import typer

from citycheck.console import make_console
from citycheck.io.errors import InputError

__all__ = ["report_command", "serve_command", "write_demo_reports"]

console = make_console()
err_console = make_console(stderr=True)

log = logging.getLogger(__name__)


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="run folder written by `citycheck evaluate`")],
    lang: Annotated[str, typer.Option(help="zh or en")] = "en",
    format: Annotated[str, typer.Option("--format", "-f", help="html or pdf")] = "html",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="file to write (default RUN_DIR/report.LANG.FORMAT)"),
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(help="an earlier run (or another scenario) shown as before")
    ] = None,
) -> None:
    """Write the health-check report (indicator table, problem and project lists, maps)."""
    from citycheck.report import write_report

    if lang not in ("zh", "en"):
        err_console.print(f"[bold red]error:[/] --lang: expected zh or en, got {lang!r}")
        raise typer.Exit(code=2)
    if format not in ("html", "pdf"):
        err_console.print(f"[bold red]error:[/] --format: expected html or pdf, got {format!r}")
        raise typer.Exit(code=2)
    from citycheck.report.fonts import FontMissing

    if format == "pdf":
        try:
            import weasyprint  # noqa: F401  (loads Pango from the system at import time)
        except OSError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            err_console.print(
                f"[bold red]error:[/] a PDF needs WeasyPrint's system libraries ({first}); "
                "install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
                "or write --format html",
                soft_wrap=True,
            )
            raise typer.Exit(code=2) from None
    try:
        path = write_report(run_dir, lang=lang, fmt=format, out=out, compare=compare)
    except (InputError, FontMissing) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(code=2) from None
    console.print(f"wrote {path}")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="one or more run folders")],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0 = any free port)")] = 8765,
) -> None:
    """Start the local map dashboard for one or more run folders."""
    import uvicorn

    from citycheck.web.dashboard import create_app
    from citycheck.web.dashboard.runs import RunStore

    store = RunStore(run_dirs)
    for run in store.runs.values():
        if run.error:
            err_console.print(f"[bold yellow]skipped:[/] {run.error}")
    if not store.ok_runs():
        err_console.print("[bold red]error:[/] none of the run folders can be shown")
        raise typer.Exit(code=2)
    if port == 0:
        port = _free_port(host)
    console.print(f"citycheck dashboard on http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")


def write_demo_reports(run_dir: Path) -> list[Path]:
    """The demo's reports: HTML and PDF in Chinese and English, beside its run folder files.

    The figures are drawn once per language and serve both formats; when WeasyPrint cannot load
    its system libraries the HTML reports are still written and the PDFs skipped with a one-line
    note (the demo still succeeds).
    """
    from citycheck.report import write_reports

    formats: tuple[str, ...] = ("html", "pdf")
    try:
        import weasyprint  # noqa: F401  (loads Pango from the system at import time)
    except OSError as exc:
        formats = ("html",)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        err_console.print(
            f"note: PDF reports skipped, WeasyPrint could not load its system libraries "
            f"({first}); install Pango (Debian: apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0) and run `citycheck report {run_dir} --format pdf`",
            soft_wrap=True,
        )
    return write_reports(run_dir, langs=("zh", "en"), formats=formats)
