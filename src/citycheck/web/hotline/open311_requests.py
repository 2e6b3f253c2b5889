"""POST requests.{format}, GET requests.{format}, GET requests/{id}.{format}."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from citycheck.listen.catalogue import Service
from citycheck.listen.domain import Channel
from citycheck.listen.duplicates import haversine_m
from citycheck.listen.store import Hotline, Intake
from citycheck.web.hotline.deps import get_hotline
from citycheck.web.hotline.open311_params import (
    blank,
    parse_float,
    parse_int,
    parse_list,
    parse_w3c,
)
from citycheck.web.hotline.open311_services import check_jurisdiction, locale_of
from citycheck.web.hotline.public_view import request_view
from citycheck.web.hotline.render import Open311Error, check_format, respond

router = APIRouter(tags=["open311"])

MAX_DESCRIPTION = 4000  # GeoReport v2: description up to 4,000 characters
MAX_RESULTS = 1000  # GeoReport v2: GET requests returns at most 1,000 requests
MAX_SPAN = timedelta(days=90)  # GeoReport v2: start_date..end_date at most 90 days
_ATTR = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
_ID = re.compile(r"^[0-9]{1,17}$")
_URL = re.compile(r"^https?://[^\s]+$")


def _attributes(form: Any, service: Service) -> dict[str, Any]:
    """attribute[code]=value (and attribute[code][]=v for multivaluelist), validated."""
    raw: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        m = _ATTR.match(key)
        if m and isinstance(value, str) and value.strip():
            raw.setdefault(m.group(1), []).append(value.strip())
    known = {a.code: a for a in service.attributes}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise Open311Error(400, f"attribute(s) {unknown} are not defined for {service.code!r}")
    out: dict[str, Any] = {}
    for a in service.attributes:
        values = raw.get(a.code)
        if not values:
            if a.required:
                raise Open311Error(400, f"attribute[{a.code}] is required for {service.code!r}")
            continue
        keys = {k for k, _ in a.values}
        if a.datatype == "multivaluelist":
            bad = [v for v in values if v not in keys]
            if bad:
                raise Open311Error(400, f"attribute[{a.code}]: {bad} not among {sorted(keys)}")
            out[a.code] = values
            continue
        if len(values) > 1:
            raise Open311Error(400, f"attribute[{a.code}] takes one value")
        v = values[0]
        if a.datatype == "singlevaluelist" and v not in keys:
            raise Open311Error(400, f"attribute[{a.code}]: {v!r} not among {sorted(keys)}")
        if a.datatype == "number":
            parse_float(v, f"attribute[{a.code}]", -1e15, 1e15)
        if a.datatype == "datetime":
            parse_w3c(v, f"attribute[{a.code}]")
        if len(v) > MAX_DESCRIPTION:
            raise Open311Error(400, f"attribute[{a.code}] is longer than {MAX_DESCRIPTION}")
        out[a.code] = v
    return out


@router.post("/requests.{fmt}", summary="POST Service Request")
async def create_request(
    request: Request,
    fmt: str = Path(..., description="xml or json"),
    api_key: str | None = Form(None),
    jurisdiction_id: str | None = Form(None),
    service_code: str | None = Form(None),
    lat: str | None = Form(None),
    long: str | None = Form(None),
    address_string: str | None = Form(None),
    address_id: str | None = Form(None),
    email: str | None = Form(None),
    device_id: str | None = Form(None),
    account_id: str | None = Form(None),
    first_name: str | None = Form(None),
    last_name: str | None = Form(None),
    phone: str | None = Form(None),
    description: str | None = Form(None),
    media_url: str | None = Form(None),
    confidential: str | None = Form(None, description="extension: true keeps the order private"),
    hotline: Hotline = Depends(get_hotline),
):
    """Create a service request; answered only after the order is committed to the store."""
    check_format(fmt)
    limiter = request.app.state.rate_limiter
    client = request.client.host if request.client else "?"
    if not limiter.allow(f"{blank(api_key) or ''}@{client}"):
        raise Open311Error(429, "too many requests; slow down")
    key = blank(api_key)
    ok = hotline.api_key_known_valid(key) or await run_in_threadpool(hotline.check_api_key, key)
    if not ok:
        raise Open311Error(403, "invalid or missing api_key")
    check_jurisdiction(jurisdiction_id, hotline)
    code = blank(service_code)
    if code is None:
        raise Open311Error(400, "service_code is required")
    service = hotline.catalogue.services.get(code)
    if service is None:
        raise Open311Error(400, f"service_code {code!r} not found")
    y = parse_float(lat, "lat", -90.0, 90.0)
    x = parse_float(long, "long", -180.0, 180.0)
    if (y is None) != (x is None):
        raise Open311Error(400, "lat and long must be given together")
    addr = blank(address_string)
    if y is None and addr is None and blank(address_id) is None:
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id"
        )
    text = description or ""
    if len(text) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    murl = blank(media_url)
    if murl is not None and (len(murl) > 2048 or not _URL.match(murl)):
        raise Open311Error(400, "media_url must be an http(s) URL")
    form = await request.form()
    attributes = _attributes(form, service)
    name = " ".join(p for p in (blank(first_name), blank(last_name)) if p) or None
    conf = (blank(confidential) or "").lower()
    if conf not in ("", "true", "false"):
        raise Open311Error(400, "confidential must be true or false")
    intake = Intake(
        description=text,
        service_code=code,
        channel=Channel.OPEN311,
        lat=y,
        lon=x,
        address=addr or blank(address_id),
        name=name,
        phone=blank(phone),
        email=blank(email),
        device_id=blank(device_id),
        account_id=blank(account_id),
        attributes=attributes,
        media_url=murl,
        confidential=conf == "true",
        actor="open311",
    )
    order = await hotline.submit_async(intake)
    body = [
        {
            "service_request_id": str(order.id),
            "token": order.token,
            "service_notice": None,
            "account_id": blank(account_id),
        }
    ]
    return respond(fmt, "service_requests", body)


@router.get("/requests.{fmt}", summary="GET Service Requests")
def list_requests(
    request: Request,
    fmt: str = Path(..., description="xml or json"),
    jurisdiction_id: str | None = Query(None),
    service_request_id: str | None = Query(None, description="comma-separated ids"),
    service_code: str | None = Query(None, description="comma-separated codes"),
    start_date: str | None = Query(None),
    end_date: str | None = Query(None),
    status: str | None = Query(None, description="open, closed or both comma-separated"),
    page: str | None = Query(None, description="extension: page number from 1"),
    page_size: str | None = Query(None, description="extension: up to 1000"),
    updated_after: str | None = Query(None, description="extension"),
    bbox: str | None = Query(None, description="extension: left,bottom,right,top"),
    lat: str | None = Query(None, description="extension: with long and radius"),
    long: str | None = Query(None, description="extension"),
    radius: str | None = Query(None, description="extension: metres"),
    extensions: str | None = Query(None, description="extension: true adds notes"),
    locale: str | None = Query(None, description="extension: zh or en"),
    hotline: Hotline = Depends(get_hotline),
):
    """Service requests by the spec's filters (default: the last 90 days, at most 1,000)."""
    check_format(fmt)
    check_jurisdiction(jurisdiction_id, hotline)
    loc = locale_of(request, locale)
    ext = (blank(extensions) or "").lower() == "true"
    ids_raw = parse_list(service_request_id)
    if ids_raw is not None:  # overrides all other filters
        ids = [int(i) for i in ids_raw if _ID.match(i)]
        orders = hotline.search(ids=ids, limit=MAX_RESULTS) if ids else []
        body = [request_view(o, hotline, locale=loc, extensions=ext) for o in orders]
        return respond(fmt, "service_requests", body)
    start = parse_w3c(start_date, "start_date")
    end = parse_w3c(end_date, "end_date")
    if start is not None and end is not None:
        if end < start:
            raise Open311Error(400, "end_date is before start_date")
        if end - start > MAX_SPAN:
            raise Open311Error(400, "start_date and end_date may be at most 90 days apart")
    elif start is None and end is None:
        end = datetime.now(UTC)
        start = end - MAX_SPAN
    elif start is None:
        assert end is not None  # both None is the branch above
        start = end - MAX_SPAN
    else:
        end = start + MAX_SPAN
    statuses = parse_list(status)
    st_filter = None
    if statuses is not None:
        bad = sorted(set(statuses) - {"open", "closed"})
        if bad:
            raise Open311Error(400, f"status must be open or closed, not {bad}")
        st_filter = statuses[0] if len(set(statuses)) == 1 else None
    p = parse_int(page, "page", 1, 1_000_000)
    ps = parse_int(page_size, "page_size", 1, MAX_RESULTS)
    limit = ps or MAX_RESULTS
    offset = ((p or 1) - 1) * limit
    box = None
    if blank(bbox) is not None:
        parts = parse_list(bbox) or []
        if len(parts) != 4:
            raise Open311Error(400, "bbox must be left,bottom,right,top")
        left = parse_float(parts[0], "bbox left", -180, 180)
        bottom = parse_float(parts[1], "bbox bottom", -90, 90)
        right = parse_float(parts[2], "bbox right", -180, 180)
        top = parse_float(parts[3], "bbox top", -90, 90)
        # parse_list drops empty items, so each part parses to a number
        assert left is not None and bottom is not None and right is not None and top is not None
        if left > right or bottom > top:
            raise Open311Error(400, "bbox must be left,bottom,right,top with left<=right")
        box = (left, bottom, right, top)
    cy = parse_float(lat, "lat", -90, 90)
    cx = parse_float(long, "long", -180, 180)
    r = parse_float(radius, "radius", 0, 100_000)
    if (cy is None) != (cx is None) or (r is not None and cy is None):
        raise Open311Error(400, "lat, long (and radius) must be given together")
    if cy is not None:
        assert cx is not None  # lat and long come together (checked above)
        r = r if r is not None else 1000.0
        dlat = r / 111_000
        dlon = dlat / max(0.01, abs(math.cos(math.radians(cy))))
        box = (cx - dlon, cy - dlat, cx + dlon, cy + dlat)
    orders = hotline.search(
        service_codes=parse_list(service_code),
        start=start,
        end=end,
        status=st_filter,
        updated_after=parse_w3c(updated_after, "updated_after"),
        bbox=box,
        limit=limit,
        offset=offset,
    )
    if cy is not None:
        assert cx is not None and r is not None  # set together with cy above
        orders = [
            o
            for o in orders
            if o.lat is not None and haversine_m(cy, cx, o.lat, o.lon) <= r  # type: ignore[arg-type]
        ]
    body = [request_view(o, hotline, locale=loc, extensions=ext) for o in orders]
    return respond(fmt, "service_requests", body)


@router.get("/requests/{service_request_id}.{fmt}", summary="GET Service Request")
async def get_request(
    request: Request,
    service_request_id: str,
    fmt: str = Path(..., description="xml or json"),
    jurisdiction_id: str | None = Query(None),
    extensions: str | None = Query(None, description="extension: true adds notes"),
    locale: str | None = Query(None, description="extension: zh or en"),
    hotline: Hotline = Depends(get_hotline),
):
    """One service request, as a one-element array."""
    check_format(fmt)
    check_jurisdiction(jurisdiction_id, hotline)
    if not _ID.match(service_request_id):
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found")
    order = await hotline.public_order_async(int(service_request_id))
    if order is None:
        raise Open311Error(404, f"service_request_id {service_request_id!r} not found")
    ext = (blank(extensions) or "").lower() == "true"
    loc = locale_of(request, locale)
    if ext:  # the notes come from the event log: another read, off the event loop
        view = await run_in_threadpool(request_view, order, hotline, locale=loc, extensions=True)
    else:
        view = request_view(order, hotline, locale=loc)
    return respond(fmt, "service_requests", [view])
