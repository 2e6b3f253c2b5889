"""The console entry point: ``citycheck`` (the console script) and ``python -m citycheck``.

:func:`main` starts the local workers' fork server of a ``citycheck batch`` command line first
thing, so that the server imports the health check on another core while this process imports the
command line (:mod:`citycheck.batch.forkserver`), then runs :data:`citycheck.cli.app`.

This module stays light and free of side effects when imported: each worker process that
multiprocessing starts re-imports the main script's module (the console script imports this one)
before it runs anything, and must neither import the whole command line nor start a server.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run the ``citycheck`` command line on ``sys.argv``.

    The fork server is only started from the main process, and once
    (:func:`citycheck.batch.forkserver.start_for_command`).
    """
    from citycheck.batch.forkserver import start_for_command

    start_for_command(sys.argv)
    from citycheck.cli import app

    app()


if __name__ == "__main__":
    main()
