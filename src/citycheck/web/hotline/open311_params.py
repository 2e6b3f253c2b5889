"""Parsing of GeoReport v2 query and form parameters (empty behaves like absent)."""

from __future__ import annotations

from datetime import datetime

from citycheck.web.hotline.render import Open311Error


def blank(value: str | None) -> str | None:
    """None for absent or empty parameters (the spec: an empty parameter is not declared)."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_w3c(value: str | None, name: str) -> datetime | None:
    """A W3C/ISO-8601 datetime with a timezone; 400 otherwise."""
    value = blank(value)
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise Open311Error(400, f"{name}: {value!r} is not a W3C datetime") from exc
    if dt.tzinfo is None:
        raise Open311Error(400, f"{name}: {value!r} lacks a timezone (Z or ±HH:MM)")
    return dt


def parse_float(value: str | None, name: str, low: float, high: float) -> float | None:
    """A finite number within [low, high]; 400 otherwise."""
    value = blank(value)
    if value is None:
        return None
    try:
        x = float(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name}: {value!r} is not a number") from exc
    if not low <= x <= high:  # also rejects nan
        raise Open311Error(400, f"{name}: {value!r} is outside [{low}, {high}]")
    return x


def parse_list(value: str | None) -> list[str] | None:
    """A comma-separated list (empty items dropped)."""
    value = blank(value)
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items or None


def parse_int(value: str | None, name: str, low: int, high: int) -> int | None:
    """An integer within [low, high]; 400 otherwise."""
    value = blank(value)
    if value is None:
        return None
    try:
        x = int(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name}: {value!r} is not an integer") from exc
    if not low <= x <= high:
        raise Open311Error(400, f"{name}: {x} is outside [{low}, {high}]")
    return x
