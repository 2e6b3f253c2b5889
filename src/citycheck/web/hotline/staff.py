"""The staff API (JSON, bearer tokens): intake, work queue, timeline, actions, overdue queue."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from citycheck.listen.domain import (
    EVENT_NAMES,
    STATUS_NAMES,
    Channel,
    EventKind,
    RequestType,
    Status,
    TransitionError,
    Urgency,
)
from citycheck.listen.models import Order
from citycheck.listen.store import Hotline, Intake, OrderNotFoundError, Staff
from citycheck.web.hotline.deps import get_hotline, get_staff, require_role
from citycheck.web.hotline.public_view import agency_name, iso

router = APIRouter(prefix="/staff", tags=["staff"])

#: Order ids are 64-bit integers in both databases.
OrderId = Path(..., ge=1, le=2**63 - 1)

_DISPATCH_ROLES = require_role("dispatcher", "admin")
_SUPERVISE_ROLES = require_role("supervisor", "admin")


class IntakeIn(BaseModel):
    """A request taken by an operator (phone transcript, web, app, SMS)."""

    description: str = Field(..., min_length=1, max_length=4000)
    channel: Literal["phone", "web", "app", "sms"] = "phone"
    service_code: str | None = Field(None, max_length=64)
    request_type: RequestType | None = None
    urgency: Urgency = Urgency.NORMAL
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=500)
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=40)
    confidential: bool = False


class ActionIn(BaseModel):
    """One action on an order (becomes an event in its log)."""

    kind: EventKind
    reason: str | None = Field(None, max_length=2000)
    unit: str | None = Field(None, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict)


class OrderOut(BaseModel):
    """An order as staff see it (text redacted; personal fields only via /personal)."""

    id: int
    status: str
    status_zh: str
    service_code: str | None
    request_type: str
    urgency: str
    channel: str
    description: str
    lead_unit: str | None
    lead_unit_name: str | None
    assisting_units: list[str]
    confidence: float | None
    duplicates: int
    duplicate_of: int | None
    escalation: int
    confidential: bool
    requested_at: str | None
    close_due: str | None


class EventOut(BaseModel):
    """One entry of an order's timeline."""

    seq: int
    kind: str
    kind_zh: str
    at: str | None
    actor: str
    role: str
    unit: str | None
    reason: str | None
    data: dict[str, Any]


class OrderDetail(BaseModel):
    """An order with its timeline."""

    order: OrderOut
    timeline: list[EventOut]


def order_out(o: Order, hotline: Hotline) -> OrderOut:
    """Staff view of one order."""
    return OrderOut(
        id=o.id,
        status=o.status,
        status_zh=STATUS_NAMES[Status(o.status)][0],
        service_code=o.service_code,
        request_type=o.request_type,
        urgency=o.urgency,
        channel=o.channel,
        description=o.description_public,
        lead_unit=o.lead_unit,
        lead_unit_name=agency_name(o.lead_unit, hotline, "zh"),
        assisting_units=list(o.assisting_units or []),
        confidence=o.confidence,
        duplicates=o.duplicates,
        duplicate_of=o.duplicate_of,
        escalation=o.escalation,
        confidential=o.confidential,
        requested_at=iso(o.requested_at, hotline.tz),
        close_due=iso(o.close_due, hotline.tz),
    )


def _visible_or_404(hotline: Hotline, order_id: int, staff: Staff) -> Order:
    o = hotline.get(order_id)
    if o is None or not hotline.visible(o, staff):
        raise HTTPException(404, f"order {order_id} not found")
    return o


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def staff_page() -> HTMLResponse:
    """The staff web page (work queue, timeline, overdue orders)."""
    html = resources.files("citycheck.listen").joinpath("data/staff.html").read_text()
    return HTMLResponse(html)


@router.get("/me")
def me(staff: Staff = Depends(get_staff)) -> dict[str, str | None]:
    """Who the token belongs to."""
    return {"username": staff.username, "role": staff.role, "unit": staff.unit}


@router.post("/intake", response_model=OrderOut)
async def intake(
    body: IntakeIn,
    staff: Staff = Depends(_DISPATCH_ROLES),
    hotline: Hotline = Depends(get_hotline),
) -> OrderOut:
    """Accept a request from any channel; classified by the model when no service_code.

    Answered only after the order is committed: it goes through the same group commit as an
    Open311 POST (:meth:`~citycheck.listen.store.Hotline.submit_async`), and the request waits
    on the event loop, not in a thread.
    """
    if body.service_code is not None and body.service_code not in hotline.catalogue.services:
        raise HTTPException(422, f"service_code {body.service_code!r} not in the catalogue")
    order = await hotline.submit_async(
        Intake(
            description=body.description,
            service_code=body.service_code,
            request_type=body.request_type,
            urgency=body.urgency,
            channel=Channel(body.channel),
            lat=body.lat,
            lon=body.lon,
            address=body.address,
            name=body.name,
            phone=body.phone,
            confidential=body.confidential,
            actor=staff.username,
        )
    )
    return order_out(order, hotline)


@router.get("/orders", response_model=list[OrderOut])
def orders(
    queue: Literal["all", "review", "returned", "open", "closed"] = "all",
    limit: int = Query(200, ge=1, le=1000),
    staff: Staff = Depends(get_staff),
    hotline: Hotline = Depends(get_hotline),
) -> list[OrderOut]:
    """The work queue; a handling unit sees only its own orders."""
    internal = {
        "review": [Status.NEEDS_REVIEW.value, Status.ACCEPTED.value],
        "returned": [Status.RETURNED.value],
    }.get(queue)
    status = queue if queue in ("open", "closed") else None
    rows = hotline.search(staff=staff, internal_status=internal, status=status, limit=limit)
    return [order_out(o, hotline) for o in rows]


@router.get("/orders/{order_id}", response_model=OrderDetail)
def order_detail(
    order_id: int = OrderId,
    staff: Staff = Depends(get_staff),
    hotline: Hotline = Depends(get_hotline),
) -> OrderDetail:
    """One order and its full timeline."""
    o = _visible_or_404(hotline, order_id, staff)
    timeline = [
        EventOut(
            seq=i + 1,
            kind=e.kind.value,
            kind_zh=EVENT_NAMES[e.kind][0],
            at=iso(e.at, hotline.tz),
            actor=e.actor,
            role=e.role,
            unit=e.unit,
            reason=e.reason,
            data=e.data,
        )
        for i, e in enumerate(hotline.events(order_id))
    ]
    return OrderDetail(order=order_out(o, hotline), timeline=timeline)


@router.get("/orders/{order_id}/personal")
def personal(
    order_id: int = OrderId,
    staff: Staff = Depends(get_staff),
    hotline: Hotline = Depends(get_hotline),
) -> dict[str, str | None]:
    """Decrypted personal fields (for calling the requester back)."""
    try:
        return hotline.personal(order_id, staff)
    except KeyError as exc:
        raise HTTPException(404, f"order {order_id} not found") from exc


@router.post("/orders/{order_id}/events", response_model=OrderOut)
def add_event(
    body: ActionIn,
    order_id: int = OrderId,
    staff: Staff = Depends(get_staff),
    hotline: Hotline = Depends(get_hotline),
) -> OrderOut:
    """Take an action; 403 if the role may not, 409 if the order's state does not allow it."""
    if body.kind is EventKind.ACCEPT:
        raise HTTPException(409, "accept only happens at intake")
    try:
        hotline.act(order_id, body.kind, staff, reason=body.reason, data=body.data, unit=body.unit)
    except OrderNotFoundError as exc:
        raise HTTPException(404, f"order {order_id} not found") from exc
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from exc
    except TransitionError as exc:
        raise HTTPException(409, str(exc)) from exc
    o = hotline.get(order_id)
    assert o is not None
    return order_out(o, hotline)


@router.get("/overdue")
def overdue(
    at: datetime | None = None,
    staff: Staff = Depends(get_staff),
    hotline: Hotline = Depends(get_hotline),
) -> list[dict[str, Any]]:
    """Orders whose sign, first-contact or close clock has run out, with their escalation rung."""
    rows = hotline.overdue(at, staff=staff)
    return [{**r, "close_due": iso(r["close_due"], hotline.tz)} for r in rows]


@router.post("/escalate")
def escalate(
    at: datetime | None = None,
    staff: Staff = Depends(_SUPERVISE_ROLES),
    hotline: Hotline = Depends(get_hotline),
) -> dict[str, int]:
    """Escalate every overdue order to its rung (催办 → 督办 → 通报)."""
    return {"escalations": hotline.escalate_overdue(at)}
