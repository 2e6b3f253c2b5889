"""GET services.{format} and GET services/{service_code}.{format}."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request

from citycheck.listen.store import Hotline
from citycheck.web.hotline.deps import get_hotline
from citycheck.web.hotline.open311_params import blank
from citycheck.web.hotline.public_view import catalogue_services, definition_view
from citycheck.web.hotline.render import Open311Error, check_format, respond

router = APIRouter(tags=["open311"])


def check_jurisdiction(jurisdiction_id: str | None, hotline: Hotline) -> None:
    """Optional for a single-jurisdiction endpoint; a wrong one is 404."""
    j = blank(jurisdiction_id)
    if j is not None and j != hotline.settings.jurisdiction_id:
        raise Open311Error(404, f"jurisdiction_id {j!r} not found")


def locale_of(request: Request, locale: str | None) -> str:
    """Extension: ``locale`` parameter or Accept-Language; Chinese by default."""
    loc = blank(locale) or request.headers.get("accept-language", "zh")
    return loc.split(",")[0].strip().lower()


@router.get("/services.{fmt}", summary="GET Service List")
def services(
    request: Request,
    fmt: str = Path(..., description="xml or json"),
    jurisdiction_id: str | None = Query(None),
    locale: str | None = Query(None, description="extension: zh or en"),
    hotline: Hotline = Depends(get_hotline),
):
    """The service request types of this city."""
    check_format(fmt)
    check_jurisdiction(jurisdiction_id, hotline)
    return respond(
        fmt, "services", catalogue_services(hotline.catalogue, locale_of(request, locale))
    )


@router.get("/services/{service_code}.{fmt}", summary="GET Service Definition")
def service_definition(
    service_code: str,
    fmt: str = Path(..., description="xml or json"),
    jurisdiction_id: str | None = Query(None),
    hotline: Hotline = Depends(get_hotline),
):
    """The attributes of one service."""
    check_format(fmt)
    check_jurisdiction(jurisdiction_id, hotline)
    service = hotline.catalogue.services.get(service_code)
    if service is None:
        raise Open311Error(404, f"service_code {service_code!r} not found")
    return respond(fmt, "service_definition", definition_view(service))
