"""The local map dashboard: ``citycheck serve RUN_DIR…`` (FastAPI + Leaflet, no network)."""

from citycheck.web.dashboard.app import create_app
from citycheck.web.dashboard.runs import RunStore

__all__ = ["RunStore", "create_app"]
