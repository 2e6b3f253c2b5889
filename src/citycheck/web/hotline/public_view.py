"""The public view of orders and services: what Open311 and exports may show, nothing personal."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from citycheck.listen.catalogue import Catalogue, Service
from citycheck.listen.domain import EVENT_NAMES, OPEN311_STATUS, EventKind, Status
from citycheck.listen.models import Order
from citycheck.listen.privacy import redact
from citycheck.listen.public_read import PublicOrder
from citycheck.listen.store import Hotline, utc

#: Coordinates published with 4 decimals (about 11 m): enough to find the problem.
COORD_DECIMALS = 4

#: Event kinds shown in the public notes history (extension), without actors or reasons.
PUBLIC_NOTE_KINDS = (
    EventKind.ACCEPT,
    EventKind.DISPATCH,
    EventKind.SIGN,
    EventKind.REPLY,
    EventKind.CLOSE,
    EventKind.REOPEN,
    EventKind.LINK,
)


def iso(dt: datetime | None, tz: ZoneInfo) -> str | None:
    """ISO-8601 with the city's UTC offset, seconds precision (e.g. 2025-03-03T09:00:00+08:00)."""
    if dt is None:
        return None
    return utc(dt).astimezone(tz).isoformat(timespec="seconds")


def service_name(service: Service | None, locale: str) -> str | None:
    """Chinese name by default, English for ``locale`` starting with ``en``."""
    if service is None:
        return None
    return service.name_en if locale.startswith("en") else service.name_zh


def service_view(s: Service, locale: str) -> dict[str, Any]:
    """One entry of GET services."""
    return {
        "service_code": s.code,
        "service_name": service_name(s, locale),
        "description": f"{s.name_zh} / {s.name_en}",
        "metadata": s.metadata,
        "type": "realtime",
        "keywords": s.keywords,
        "group": s.group,
    }


def definition_view(s: Service) -> dict[str, Any]:
    """GET services/{code}: the service definition with its attributes."""
    return {
        "service_code": s.code,
        "attributes": [
            {
                "variable": True,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": None,
                "order": a.order,
                "description": a.description,
                **({"values": [{"key": k, "name": n} for k, n in a.values]} if a.values else {}),
            }
            for a in s.attributes
        ],
    }


def agency_name(unit: str | None, hotline: Hotline, locale: str) -> str | None:
    """Display name of a unit code (street office or department)."""
    if unit is None:
        return None
    en = locale.startswith("en")
    if unit.startswith("dept:"):
        names = hotline.catalogue.departments.get(unit[5:])
    else:
        names = hotline.jurisdiction.names.get(unit)
    if not names:
        return unit
    return names[1] if en else names[0]


def request_view(
    order: Order | PublicOrder, hotline: Hotline, *, locale: str = "zh", extensions: bool = False
) -> dict[str, Any]:
    """One service request as Open311 shows it: no name, phone, e-mail or address ever; text
    redacted; description and location withheld for confidential orders."""
    tz = hotline.tz
    service = hotline.catalogue.services.get(order.service_code or "")
    status = Status(order.status)
    confidential = bool(order.confidential)
    lat = None if confidential or order.lat is None else round(order.lat, COORD_DECIMALS)
    lon = None if confidential or order.lon is None else round(order.lon, COORD_DECIMALS)
    out: dict[str, Any] = {
        "service_request_id": str(order.id),
        "status": OPEN311_STATUS[status],
        "status_notes": None if confidential else order.status_notes,
        "service_name": service_name(service, locale),
        "service_code": order.service_code,
        "description": None if confidential else redact(order.description_public),
        "agency_responsible": agency_name(order.lead_unit, hotline, locale),
        "service_notice": None,
        "requested_datetime": iso(order.requested_at, tz),
        "updated_datetime": iso(order.updated_at, tz),
        "expected_datetime": iso(order.close_due, tz),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None if confidential else order.media_url,
    }
    if extensions:
        notes = [
            {
                "datetime": iso(e.at, tz),
                "type": e.kind.value,
                "summary": EVENT_NAMES[e.kind][1 if locale.startswith("en") else 0],
            }
            for e in hotline.events(order.id)
            if e.kind in PUBLIC_NOTE_KINDS
        ]
        out["extended_attributes"] = {
            "internal_status": status.value,
            "duplicate_of": str(order.duplicate_of) if order.duplicate_of else None,
            "duplicates": order.duplicates,
            "escalation": order.escalation,
        }
        out["notes"] = notes
    return out


def catalogue_services(catalogue: Catalogue, locale: str) -> list[dict[str, Any]]:
    """GET services: every service of the catalogue."""
    return [service_view(s, locale) for s in catalogue.services.values()]
