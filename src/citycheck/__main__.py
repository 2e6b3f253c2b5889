"""``python -m citycheck`` runs the command-line interface."""

from citycheck.cli import app

app()
