"""GET discovery.{format}: service discovery (the endpoint, its formats and the spec)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from citycheck.listen.store import Hotline
from citycheck.web.hotline.deps import get_hotline
from citycheck.web.hotline.render import check_format, respond

router = APIRouter(tags=["open311"])

#: The date this implementation of the endpoint last changed.
CHANGESET = "2026-11-28T00:00:00Z"


@router.get("/discovery.{fmt}", summary="Service discovery")
def discovery(
    fmt: str = Path(..., description="xml or json"), hotline: Hotline = Depends(get_hotline)
):
    """Where the GeoReport v2 endpoint is and what it speaks."""
    check_format(fmt)
    base = hotline.settings.public_base_url.rstrip("/") + "/open311/v2"
    doc = {
        "changeset": CHANGESET,
        "contact": "12345 citizen service hotline (citycheck demo)",
        "key_service": "POST requests need an api_key issued by the hotline centre",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", doc)
