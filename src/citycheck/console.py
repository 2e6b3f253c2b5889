"""The rich consoles of the command line: one place that decides how its output is laid out.

Every command-line module prints through a console from :func:`make_console`.  Its messages
(errors, notes, "wrote ..." lines) are printed with rich's ``soft_wrap``: rich never breaks a
message into lines, so a message stays whole on one line whatever the width rich assumes
(``COLUMNS``, else 80 columns when the output is not a terminal): in a pipe, a log file, a CI log
or a test's captured output.  On a terminal the terminal itself wraps a line longer than the
window, as it does for any program.  Tables and panels are not messages: they still lay out to the
console's width (their cells wrap inside the table).

Log records and progress steps are laid out by rich in columns (time, level, message) that wrap
the message inside its column; when the output is not a terminal, :func:`log_handler` and
:func:`log_message` write them as plain whole lines instead.
"""

from __future__ import annotations

import logging

from rich.console import Console

__all__ = ["log_handler", "log_message", "make_console"]


def make_console(*, stderr: bool = False) -> Console:
    """A console for the command line's messages and tables.

    Parameters
    ----------
    stderr : bool
        Write to standard error (errors, progress, logs) instead of standard output.

    Returns
    -------
    rich.console.Console
        A console whose messages never wrap (``soft_wrap=True``); it writes to the stream that
        is ``sys.stdout`` / ``sys.stderr`` when it prints.
    """
    return Console(stderr=stderr, soft_wrap=True)


def log_handler(console: Console) -> logging.Handler:
    """A logging handler writing to ``console``: rich's columns on a terminal, else one plain
    line per record (``LEVEL message``).

    Parameters
    ----------
    console : rich.console.Console
        The console (from :func:`make_console`) whose stream the records go to.

    Returns
    -------
    logging.Handler
    """
    if console.is_terminal:
        from rich.logging import RichHandler

        return RichHandler(console=console, show_path=False)
    handler = _LineHandler(console)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    return handler


class _LineHandler(logging.Handler):
    """One plain line per record, written through the console (so to the stream it writes to
    when the record comes, and above a live progress display)."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.out(self.format(record), highlight=False)
        except Exception:
            self.handleError(record)


def log_message(console: Console, message: str) -> None:
    """Print a progress step: a timestamped log line on a terminal, else the message whole.

    Parameters
    ----------
    console : rich.console.Console
        The console to print on (a progress display's own console when one is live).
    message : str
        The step, rich markup allowed.
    """
    if console.is_terminal:
        console.log(message)
    else:
        console.print(message)
