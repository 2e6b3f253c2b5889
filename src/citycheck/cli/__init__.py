"""Every ``citycheck`` command: one module per group, mounted on one app by :mod:`.main`.

``citycheck.cli.app`` is the typer application; the console script enters through
:func:`citycheck.__main__.main`, which starts the batch fork server before importing this package.
"""

from citycheck.cli.main import app, main

__all__ = ["app", "main"]
