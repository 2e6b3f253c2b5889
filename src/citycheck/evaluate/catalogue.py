"""The indicator catalogue: ``catalogue.toml`` loaded and validated once.

Every indicator is data (ids, names in Chinese and English, dimension, levels, unit, direction,
thresholds with their source, data class, formula). Every text a person reads exists in both
languages: the names, and beside the English ``formula``, ``source``, ``inputs`` and a worded
``unit`` their Chinese ``formula_zh``, ``source_zh``, ``inputs_zh`` and ``unit_zh``. Validation
collects every problem of the file into one error.
"""

from __future__ import annotations

import math
import re
import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "DIMENSIONS",
    "Indicator",
    "catalogue",
    "dimensions",
    "indicator",
    "indicator_text",
    "load_catalogue",
]

Direction = Literal["up", "down", "target"]
Grade = Literal["pass", "warning", "fail", "info", "no data"]
DIMENSIONS = ("system", "vibrant", "livable", "green", "safe", "civilized", "smart")
#: A unit holding a word ("count", "persons/household") needs its Chinese; symbols (%, km²) do not.
_WORDED_UNIT = re.compile(r"[A-Za-z]{3,}")
#: Three English words in a row: a Chinese text that holds them was left untranslated.
_ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ \t,;:()/&+]+[A-Za-z][A-Za-z'’-]*){2,}")


class Indicator(BaseModel):
    """One indicator of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    dimension: Literal["system", "vibrant", "livable", "green", "safe", "civilized", "smart"]
    levels: tuple[Literal["dwelling", "compound", "neighbourhood", "district"], ...]
    unit: str
    unit_zh: str | None = None
    direction: Direction
    pass_: float | tuple[float, float] | None = Field(default=None, alias="pass")
    warning: float | tuple[float, float] | None = None
    goalposts: tuple[float, ...]
    data: Literal["O", "O+P", "X"]
    inputs: str | None = None
    inputs_zh: str | None = None
    compute: Literal["builtin", "access", "input", "hotline", "census"]
    red_line: bool = False
    formula: str = Field(min_length=1)
    formula_zh: str = Field(min_length=1)
    source: str = Field(min_length=3)
    source_zh: str = Field(min_length=3)

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        problems: list[str] = []
        if not self.levels:
            problems.append("needs at least one level")
        if self.direction == "target":
            for name, band in (("pass", self.pass_), ("warning", self.warning)):
                if band is not None and (not isinstance(band, tuple) or band[0] > band[1]):
                    problems.append(f"{name} must be an ordered [low, high] band")
            if (
                isinstance(self.pass_, tuple)
                and isinstance(self.warning, tuple)
                and not (self.warning[0] <= self.pass_[0] <= self.pass_[1] <= self.warning[1])
            ):
                problems.append("the warning band must contain the pass band")
            if len(self.goalposts) != 4 or list(self.goalposts) != sorted(self.goalposts):
                problems.append("target goalposts are [low_worst, low_best, high_best, high_worst]")
        else:
            for name, value in (("pass", self.pass_), ("warning", self.warning)):
                if isinstance(value, tuple):
                    problems.append(f"{name} must be a number for direction {self.direction}")
            if self.warning is not None and self.pass_ is None:
                problems.append("a warning threshold needs a pass threshold")
            if isinstance(self.pass_, float | int) and isinstance(self.warning, float | int):
                if self.direction == "up" and self.warning > self.pass_:
                    problems.append("for 'up' the warning threshold must be ≤ pass")
                if self.direction == "down" and self.warning < self.pass_:
                    problems.append("for 'down' the warning threshold must be ≥ pass")
            if len(self.goalposts) != 2 or self.goalposts[0] == self.goalposts[1]:
                problems.append("goalposts are [worst, best], two different numbers")
            elif (self.direction == "up") != (self.goalposts[1] > self.goalposts[0]):
                problems.append("goalposts [worst, best] contradict the direction")
        if self.data == "X" and not self.inputs:
            problems.append("data class X must name its inputs")
        if self.compute in ("builtin", "access") and self.data == "X":
            problems.append("an X indicator is computed from inputs, not built in")
        if _WORDED_UNIT.search(self.unit) and not self.unit_zh:
            problems.append(f"unit_zh: the unit {self.unit!r} is a word and needs its Chinese")
        if self.inputs and not self.inputs_zh:
            problems.append("inputs_zh: the inputs need their Chinese")
        if self.inputs_zh and not self.inputs:
            problems.append("inputs_zh without inputs")
        for name in ("formula_zh", "source_zh", "inputs_zh", "unit_zh"):
            text = getattr(self, name)
            if text and (run := _ENGLISH_RUN.search(text)):
                problems.append(f"{name}: holds English words {run.group(0)!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def name(self, lang: str = "en") -> str:
        """The indicator's name in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def formula_text(self, lang: str = "en") -> str:
        """How the value is computed, in ``lang`` ("zh" or "en")."""
        return self.formula_zh if lang == "zh" else self.formula

    def source_text(self, lang: str = "en") -> str:
        """The threshold's source (the citation), in ``lang``."""
        return self.source_zh if lang == "zh" else self.source

    def inputs_text(self, lang: str = "en") -> str | None:
        """The data beyond OpenStreetMap the indicator needs, in ``lang`` (None: none needed)."""
        return self.inputs_zh if lang == "zh" else self.inputs

    def unit_text(self, lang: str = "en") -> str:
        """The unit of the value in ``lang``; a unit of symbols only is the same in both.

        Examples
        --------
        >>> indicator("U02").unit_text("zh"), indicator("L01").unit_text("zh")
        ('平方米/人', '%')
        """
        return self.unit_zh or self.unit if lang == "zh" else self.unit

    @property
    def graded(self) -> bool:
        """Whether the indicator has thresholds (otherwise it is reported as "info")."""
        return self.pass_ is not None

    def threshold_text(self, lang: str = "en") -> str:
        """Human-readable thresholds, e.g. "≥ 8 (warning ≥ 6)"; in Chinese "≥ 8（预警 ≥ 6）".

        Examples
        --------
        >>> indicator("L12").threshold_text(), indicator("L12").threshold_text("zh")
        ('≥ 8 (warning ≥ 6)', '≥ 8（预警 ≥ 6）')
        """
        if self.pass_ is None:
            return "—"
        if self.direction == "target":
            p = self.pass_
            w = self.warning
            text = f"{p[0]:g}–{p[1]:g}"  # type: ignore[index]
            band = f"{w[0]:g}–{w[1]:g}" if w else None  # type: ignore[index]
        else:
            op = "≥" if self.direction == "up" else "≤"
            text = f"{op} {self.pass_:g}"
            band = f"{op} {self.warning:g}" if self.warning is not None else None
        if band is None:
            return text
        return text + (f"（预警 {band}）" if lang == "zh" else f" (warning {band})")

    def grade(self, value: float | None) -> Grade:
        """Judge a value against the thresholds: pass / warning / fail, or info / no data.

        Examples
        --------
        >>> indicator("L12").grade(9.0), indicator("L12").grade(7.0), indicator("L12").grade(2)
        ('pass', 'warning', 'fail')
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "no data"
        if self.pass_ is None:
            return "info"
        if self.direction == "target":
            lo, hi = self.pass_  # type: ignore[misc]
            if lo <= value <= hi:
                return "pass"
            if self.warning is not None:
                wlo, whi = self.warning  # type: ignore[misc]
                if wlo <= value <= whi:
                    return "warning"
            return "fail"
        sign = 1.0 if self.direction == "up" else -1.0
        if sign * value >= sign * self.pass_:  # type: ignore[operator]
            return "pass"
        # up/down thresholds are numbers (the validator ties their shape to the direction)
        if self.warning is not None and sign * value >= sign * self.warning:  # type: ignore[operator]
            return "warning"
        return "fail"

    def gap(self, value: float) -> float:
        """Distance from the pass threshold in the indicator's unit (0 when passing)."""
        if self.pass_ is None or value is None or math.isnan(value):
            return math.nan
        if self.direction == "target":
            lo, hi = self.pass_  # type: ignore[misc]
            return max(lo - value, value - hi, 0.0)
        if self.direction == "up":
            return max(self.pass_ - value, 0.0)  # type: ignore[operator]
        return max(value - self.pass_, 0.0)  # type: ignore[operator]

    def normalise(self, value: float | None) -> float:
        """Score 0–100 against the fixed goalposts (NaN when there is no value).

        Fixed goalposts, not the sample's min and max, so scores compare across years and
        cities (OECD/JRC Handbook on Constructing Composite Indicators, 2008, §5).
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return math.nan
        g = self.goalposts
        if self.direction == "target":
            lw, lb, hb, hw = g
            if lb <= value <= hb:
                return 100.0
            if value < lb:
                return 100.0 * min(max((value - lw) / (lb - lw), 0.0), 1.0) if lb > lw else 0.0
            return 100.0 * min(max((hw - value) / (hw - hb), 0.0), 1.0) if hw > hb else 0.0
        worst, best = g
        return 100.0 * min(max((value - worst) / (best - worst), 0.0), 1.0)


def _read_raw() -> dict:
    text = resources.files("citycheck.evaluate").joinpath("catalogue.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_catalogue(raw: dict | None = None) -> dict[str, Indicator]:
    """Validate a catalogue (default: the packaged ``catalogue.toml``).

    Raises
    ------
    ValueError
        Listing every invalid entry with its field and reason.
    """
    raw = _read_raw() if raw is None else raw
    out: dict[str, Indicator] = {}
    problems: list[str] = []
    for iid, entry in raw.get("indicators", {}).items():
        try:
            data = dict(entry)
            for key in ("pass", "warning"):
                if isinstance(data.get(key), list):
                    data[key] = tuple(data[key])
            out[iid] = Indicator(id=iid, **data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "entry"
                problems.append(f"catalogue.toml: indicators.{iid}.{loc}: {err['msg']}")
    if problems:
        raise ValueError("invalid indicator catalogue:\n  " + "\n  ".join(problems))
    return out


@cache
def catalogue() -> dict[str, Indicator]:
    """The packaged catalogue, keyed by indicator id, in file order."""
    return load_catalogue()


@cache
def dimensions() -> dict[str, tuple[str, str]]:
    """The seven dimensions: id -> (Chinese name, English name)."""
    raw = _read_raw()["dimensions"]
    return {k: (v["zh"], v["en"]) for k, v in raw.items()}


def indicator(iid: str) -> Indicator:
    """One indicator by id, with a helpful error for unknown ids."""
    cat = catalogue()
    if iid not in cat:
        raise KeyError(f"unknown indicator id {iid!r}; see `citycheck indicators`")
    return cat[iid]


def indicator_text(iid: str, field: str, lang: str, stored: str | None = None) -> str:
    """Text ``field`` ("unit", "source", "formula" or "inputs") of indicator ``iid`` in ``lang``.

    ``stored`` is the text a results.json record holds (written in English from the catalogue):
    English pages show it as stored; Chinese pages the catalogue's Chinese. An id outside the
    catalogue gives ``stored`` as it is.

    Examples
    --------
    >>> indicator_text("U02", "unit", "zh", "m²/person"), indicator_text("U02", "unit", "en")
    ('平方米/人', 'm²/person')
    >>> indicator_text("system.size_class", "unit", "zh", "class")
    'class'
    """
    if field not in ("unit", "source", "formula", "inputs"):
        raise ValueError(f"field: expected unit, source, formula or inputs, got {field!r}")
    ind = catalogue().get(iid)
    if ind is None:
        return stored or ""
    if lang != "zh" and stored is not None:
        return stored
    return getattr(ind, f"{field}_text")(lang) or ""
