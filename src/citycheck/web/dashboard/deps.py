"""Shared dependencies of the dashboard routers: the run store, finding a run, ``lang``.

The store lives on ``app.state.runs`` (set by :func:`~citycheck.web.dashboard.app.create_app`);
endpoints take it with ``store: Store`` and look their run up with :func:`get_run` in their
body. The lookup is deliberately not a ``Depends``: FastAPI solves dependencies before it
validates the endpoint's own query and body parameters, so a run dependency would turn
``GET /api/runs/nope/meta?lang=fr`` from 422 (bad parameter) into 404, and would build a
what-if session before a bad ``lang`` is refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request

from citycheck.web.dashboard.runs import Run, RunStore

__all__ = ["Lang", "Store", "get_run", "get_store"]

#: The ``lang`` query parameter of every endpoint that answers in a language.
Lang = Query("en", pattern="^(zh|en)$")


async def get_store(request: Request) -> RunStore:
    """The app's :class:`RunStore` (``app.state.runs``).

    ``async`` so that FastAPI calls it on the event loop, not through the thread pool.
    """
    return request.app.state.runs


#: An endpoint parameter that receives the app's run store.
Store = Annotated[RunStore, Depends(get_store)]


def get_run(store: RunStore, rid: str) -> Run:
    """The run ``rid`` of ``store``; 404 when there is none, 409 when it cannot be shown."""
    run = store.runs.get(rid)
    if run is None:
        raise HTTPException(404, f"no run {rid!r}; runs: {sorted(store.runs)}")
    if run.error:
        raise HTTPException(409, f"run {rid!r} cannot be shown: {run.error}")
    return run
