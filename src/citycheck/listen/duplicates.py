"""Duplicate detection: same category, close in space and time, similar text."""

from __future__ import annotations

import math
from datetime import datetime


def char_bigrams(text: str) -> set[str]:
    """Set of character bigrams of the text without whitespace (works for Chinese and English)."""
    t = "".join(text.lower().split())
    return {t[i : i + 2] for i in range(len(t) - 1)}


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character-bigram sets (0..1)."""
    sa, sb = char_bigrams(a), char_bigrams(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (mean Earth radius 6,371,008.8 m)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def is_duplicate(
    new: tuple[str | None, float | None, float | None, datetime, str],
    old: tuple[str | None, float | None, float | None, datetime, str],
    *,
    radius_m: float = 150.0,
    days: float = 7.0,
    min_similarity: float = 0.25,
) -> bool:
    """Whether ``new`` duplicates ``old``; each is (service_code, lat, lon, requested_at, text).

    Both need the same category and a location; then within ``radius_m`` metres, within ``days``
    days, and a text similarity of at least ``min_similarity``.
    """
    code_a, lat_a, lon_a, at_a, text_a = new
    code_b, lat_b, lon_b, at_b, text_b = old
    if code_a is None or code_a != code_b:
        return False
    if None in (lat_a, lon_a, lat_b, lon_b):
        return False
    if abs((at_a - at_b).total_seconds()) > days * 86400:
        return False
    if haversine_m(lat_a, lon_a, lat_b, lon_b) > radius_m:  # type: ignore[arg-type]
        return False
    return text_similarity(text_a, text_b) >= min_similarity
