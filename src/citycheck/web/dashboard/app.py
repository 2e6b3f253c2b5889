"""The dashboard web app (FastAPI): run folders as JSON/GeoJSON, and one page with a Leaflet map.

:func:`create_app` only assembles: the state (``app.state.runs``, the run store;
``app.state.whatif``, the what-if sessions), the routers (one module per resource, sharing the
dependencies of :mod:`~citycheck.web.dashboard.deps`), the static files and the error format
(``{"error": detail}`` for the endpoints' HTTP errors).

Routers: :mod:`.hotline` (hotline view), :mod:`.lifeline` (lifeline view), :mod:`.page` (the
page, favicon, labels), :mod:`.run_views` (runs, metadata, layers, tables, problems, units,
compare), :mod:`.planning` (what-if).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from citycheck.web.dashboard import hotline, lifeline, page, planning, run_views
from citycheck.web.dashboard.runs import RunStore

__all__ = ["create_app"]


def create_app(store: RunStore | Sequence[str | Path]) -> FastAPI:
    """The dashboard app for a set of run folders.

    Parameters
    ----------
    store : RunStore or list of paths
        Run folders; those that cannot be read are listed with their error.
    """
    if not isinstance(store, RunStore):
        store = RunStore(list(store))
    app = FastAPI(title="citycheck dashboard", docs_url=None, redoc_url=None)
    app.state.runs = store
    app.state.whatif = planning.WhatIfSessions()
    app.mount("/static", StaticFiles(directory=page.static_dir()), name="static")
    for module in (hotline, lifeline, page, run_views, planning):
        app.include_router(module.router)

    @app.exception_handler(HTTPException)
    def http_error(_request: Any, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    return app
