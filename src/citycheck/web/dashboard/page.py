"""The dashboard page: ``/`` (``static/index.html``), ``/favicon.ico`` and the page's labels.

Leaflet is served from this package (``static/vendor/leaflet``, from the npm registry); the page
loads nothing from the network.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from citycheck.web.dashboard.deps import Lang
from citycheck.web.dashboard.runs import ui_labels

__all__ = ["router", "static_dir"]

router = APIRouter()


def static_dir() -> Path:
    """The folder of the page's files (mounted at ``/static``)."""
    return Path(str(resources.files("citycheck.web.dashboard") / "static"))


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(static_dir() / "index.html", media_type="text/html")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)


@router.get("/api/labels")
def labels(lang: str = Lang) -> dict[str, str]:
    return ui_labels(lang)
