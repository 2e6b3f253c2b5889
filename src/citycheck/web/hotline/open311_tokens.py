"""GET tokens/{token}.{format}: the service_request_id behind a token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from citycheck.listen.models import Order
from citycheck.listen.store import Hotline
from citycheck.web.hotline.deps import get_hotline
from citycheck.web.hotline.open311_services import check_jurisdiction
from citycheck.web.hotline.render import Open311Error, check_format, respond

router = APIRouter(tags=["open311"])


@router.get("/tokens/{token}.{fmt}", summary="GET service_request_id from a token")
def token(
    token: str,
    fmt: str = Path(..., description="xml or json"),
    jurisdiction_id: str | None = Query(None),
    hotline: Hotline = Depends(get_hotline),
):
    """One-element array with ``service_request_id`` and ``token``."""
    check_format(fmt)
    check_jurisdiction(jurisdiction_id, hotline)
    with hotline.Session() as s:
        order_id = s.scalar(select(Order.id).where(Order.token == token))
    if order_id is None:
        raise Open311Error(404, f"token {token!r} not found")
    return respond(fmt, "service_requests", [{"service_request_id": str(order_id), "token": token}])
