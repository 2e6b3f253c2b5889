"""Facility categories: one table (``categories.toml``) maps OpenStreetMap tags to categories.

A category has Chinese and English names, the tag patterns that select it, and where it has one,
a walking limit along the network with its source. Matching is pure: tags in, category ids out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

__all__ = ["Category", "categories", "match_categories", "osm_keys"]

_SPECIAL = {"name_contains", "access_not"}


@dataclass(frozen=True)
class Category:
    """One facility category.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"kindergarten"``.
    zh, en : str
        Chinese and English names.
    tags : tuple of dict
        Tag patterns; a feature matching any of them belongs to the category.
    walk_limit_m : float or None
        Walking limit along the network, metres, or None where walking is not the measure.
    life_circle : int or None
        5, 10 or 15 (minutes) when GB 50180-2018 requires the facility in that life circle.
    geometry : {"point", "area"}
        Whether polygons are kept (entered from their edge) or reduced to a point.
    unless : tuple of str
        Categories that, when matched, exclude this one (a school of unknown level).
    source : str
        Citation of the walking limit or of the category's definition.
    source_zh : str
        The same citation in Chinese.
    """

    id: str
    zh: str
    en: str
    tags: tuple[Mapping[str, object], ...]
    walk_limit_m: float | None
    life_circle: int | None
    geometry: Literal["point", "area"]
    unless: tuple[str, ...]
    source: str
    source_zh: str

    def name(self, lang: str = "en") -> str:
        """The category's name in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def source_text(self, lang: str = "en") -> str:
        """The citation in ``lang`` ("zh" or "en")."""
        return self.source_zh if lang == "zh" else self.source


@cache
def categories() -> dict[str, Category]:
    """All categories, in table order, keyed by id."""
    raw = tomllib.loads(
        resources.files("citycheck").joinpath("categories.toml").read_text(encoding="utf-8")
    )
    out: dict[str, Category] = {}
    missing = [
        f"categories.toml: categories.{cid}.{key}: missing"
        for cid, c in raw["categories"].items()
        for key in ("zh", "en", "source", "source_zh")
        if not c.get(key)
    ]
    if missing:
        raise ValueError("invalid facility categories:\n  " + "\n  ".join(missing))
    for cid, c in raw["categories"].items():
        out[cid] = Category(
            id=cid,
            zh=c["zh"],
            en=c["en"],
            tags=tuple(c["tags"]),
            walk_limit_m=float(c["walk_limit_m"]) if "walk_limit_m" in c else None,
            life_circle=c.get("life_circle"),
            geometry=c.get("geometry", "point"),
            unless=tuple(c.get("unless", ())),
            source=c["source"],
            source_zh=c["source_zh"],
        )
    return out


@cache
def osm_keys() -> frozenset[str]:
    """Every OSM key that any category pattern looks at (what a reader must keep)."""
    keys = {"name", "access"}
    for cat in categories().values():
        for pattern in cat.tags:
            keys.update(k for k in pattern if k not in _SPECIAL)
    return frozenset(keys)


def _matches(pattern: Mapping[str, object], tags: Mapping[str, str]) -> bool:
    for key, want in pattern.items():
        if key == "name_contains":
            name = " ".join(v for k, v in tags.items() if k == "name" or k.startswith("name:"))
            name = name.lower()
            if not any(str(s).lower() in name for s in want):  # type: ignore[attr-defined]
                return False
        elif key == "access_not":
            if tags.get("access") in want:  # type: ignore[operator]
                return False
        else:
            value = tags.get(key)
            if value is None or (want != "*" and value != want):
                return False
    return True


def match_categories(tags: Mapping[str, str]) -> list[str]:
    """Category ids whose patterns match ``tags``.

    Parameters
    ----------
    tags : mapping
        OSM tags of one feature.

    Returns
    -------
    list of str
        Matching category ids in table order (possibly empty).

    Examples
    --------
    >>> match_categories({"amenity": "school", "name": "海淀实验小学"})
    ['primary_school']
    >>> match_categories({"leisure": "park"})
    ['park', 'open_space']
    """
    hits = [cid for cid, cat in categories().items() if any(_matches(p, tags) for p in cat.tags)]
    hit_set = set(hits)
    return [cid for cid in hits if not (set(categories()[cid].unless) & hit_set)]
