"""GeoReport v2 output in XML and JSON, and the spec's error format."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

FORMATS = ("xml", "json")

#: Element name of a list's items in XML, by the list's own element name.
_ITEM = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "assisting_units": "unit",
}


class Open311Error(Exception):
    """An error answered in GeoReport's format: HTTP status and ``[{code, description}]``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, key: str, value: Any) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, dict):
        for k, v in value.items():
            _fill(el, k, v)
    elif isinstance(value, list):
        item = _ITEM.get(key, "item")
        for v in value:
            _fill(el, item, v)
    else:
        el.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """Serialise a dict or list to XML, lists as ``<root><item/>...</root>`` (UTF-8)."""
    el = ET.Element(root)
    if isinstance(value, list):
        item = _ITEM[root]
        for v in value:
            _fill(el, item, v)
    else:
        for k, v in value.items():
            _fill(el, k, v)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(el, encoding="unicode").encode()
    )


def respond(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """A response in ``fmt`` (``xml`` or ``json``); ``root`` names the XML document element."""
    if fmt == "xml":
        return Response(
            to_xml(root, value), status_code=status, media_type="text/xml; charset=utf-8"
        )
    return Response(
        orjson.dumps(value), status_code=status, media_type="application/json; charset=utf-8"
    )


def error_response(fmt: str, status: int, description: str) -> Response:
    """GeoReport's error document: an array of ``{code, description}``."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status)


def format_of(request: Request) -> str:
    """The output format named by the path's suffix (JSON when there is none)."""
    return "xml" if request.url.path.endswith(".xml") else "json"


def check_format(fmt: str) -> str:
    """Validate the ``{format}`` path parameter."""
    if fmt not in FORMATS:
        raise Open311Error(404, f"format {fmt!r} not supported; use .xml or .json")
    return fmt
