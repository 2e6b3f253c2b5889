"""The local map dashboard: ``citycheck serve RUN_DIR…`` (FastAPI + Leaflet, no network)."""

from citycheck.act.dashboard.app import create_app
from citycheck.act.dashboard.runs import RunStore

__all__ = ["RunStore", "create_app"]
