"""The evaluation document: what results.json holds, built from an evaluation, as a typed model.

:func:`build_document` turns a :class:`citycheck.pipeline.Evaluation` into the JSON-ready dict
written as results.json (schema ``citycheck/evaluate/results.schema.json``, version
:data:`citycheck.io.runfolder.SCHEMA_VERSION`); :func:`unit_layers` gives the map layers of the
run folder's ``units.gpkg``. :class:`ResultsDocument` is the same document as dataclasses, one per
top-level section (:class:`StudyArea`, :class:`IndicatorRow`, :class:`ProblemRow`,
:class:`ScoresSection`...), read from and written back to the JSON dict without loss:
``ResultsDocument.from_json_dict(d).to_json_dict() == d`` with the same key order, for documents
of every 1.x version (a field absent from the dict stays absent; a field the model does not name is
kept, after the named ones).

The run folder itself (files, atomic rename, reading back with the version checked) is
:mod:`citycheck.io.runfolder`; it is handed the document built here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from os import PathLike
from typing import TYPE_CHECKING, Any, ClassVar, Self

import geopandas as gpd
import numpy as np
import pandas as pd

from citycheck import __version__
from citycheck.evaluate.catalogue import catalogue
from citycheck.io.runfolder import SCHEMA_VERSION, column_name, read_results
from citycheck.labels import Message, reason_in_language

if TYPE_CHECKING:
    from citycheck.pipeline import Evaluation

__all__ = [
    "Counts",
    "IndicatorRow",
    "InputRecord",
    "ProblemRow",
    "ResultsDocument",
    "ScoresSection",
    "Software",
    "StudyArea",
    "as_document",
    "build_document",
    "json_ready",
    "load_results",
    "unit_layers",
]

SCHEMA_NAME = "citycheck.results"


def json_ready(value: Any) -> Any:
    """``value`` with numpy scalars made Python ones, NaN and ±inf made None, keys made str."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _en(value: Any) -> Any:
    """English text of a message (or of each message in a list or dict); text as given."""
    if isinstance(value, Message):
        return value.en
    if isinstance(value, dict):
        return {k: _en(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_en(v) for v in value]
    return value


def _zh(value: Any) -> Any:
    """Chinese text of a message (or of each message in a list or dict); text as given."""
    if isinstance(value, Message):
        return value.zh
    if isinstance(value, dict):
        return {k: _zh(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_zh(v) for v in value]
    return value


def build_document(ev: Evaluation) -> dict[str, Any]:
    """The results.json document of an evaluation (a JSON-ready dict).

    Messages shown to people (not-computed reasons, warnings, the residents method, scoring
    notes) are stored in English under their 1.0 keys and in Chinese under ``<key>_zh``.
    """
    city = ev.city
    cat = catalogue()
    bbox = gpd.GeoSeries([city.boundary], crs=city.crs).to_crs("EPSG:4326").total_bounds
    fac_counts = city.facilities[city.facilities["in_area"]]["category"].value_counts()
    indicators = []
    for rec in ev.values.to_dict("records"):
        ind = cat[rec["indicator"]]
        indicators.append(
            {
                "id": ind.id,
                "zh": ind.zh,
                "en": ind.en,
                "dimension": ind.dimension,
                "level": rec["level"],
                "unit_id": str(rec["unit_id"]),
                "value": rec["value"],
                "unit": ind.unit,
                "grade": rec["grade"],
                "normalised": rec["normalised"],
                "threshold": rec["threshold"],
                "gap": rec["gap"],
                "source": ind.source,
                "red_line": ind.red_line,
                "data": ind.data,
                "compute": ind.compute,
            }
        )
    problems = ev.problems.to_dict("records") if len(ev.problems) else []
    doc: dict[str, Any] = {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "software": {"name": "citycheck", "version": __version__},
        "created": ev.created,
        "study_area": {
            "name": city.name,
            "crs": city.crs.to_string(),
            "area_km2": city.area_km2,
            "bbox_wgs84": [float(v) for v in bbox],
            "residents_total": city.meta.get("residents_total"),
            "residents_method": _en(city.meta.get("residents_method", "")),
            "residents_method_zh": _zh(city.meta.get("residents_method", "")),
            "census": city.meta.get("census"),
        },
        "inputs": ev.inputs,
        "parameters": {
            **ev.parameters,
            **{
                k: city.meta[k]
                for k in ("default_levels", "metres_per_level", "grid_size_m", "buffer_m")
                if k in city.meta
            },
        },
        "counts": {
            "buildings": len(city.buildings),
            "residential_buildings": int(city.buildings["residential"].sum()),
            "facilities": {str(k): int(v) for k, v in fac_counts.items()},
            "units": {k: len(v) for k, v in city.units.items()},
        },
        "indicators": indicators,
        "scores": {
            "method": ev.scores.method,
            "dimension_weights": ev.scores.dimension_weights,
            "dimensions": ev.scores.dimensions.to_dict("records"),
            "overall": ev.scores.overall.to_dict("records"),
            "sensitivity": ev.sensitivity,
            "notes": _en(ev.scores.notes),
            "notes_zh": _zh(ev.scores.notes),
        },
        "problems": problems,
        "not_computed": _en(ev.not_computed),
        "not_computed_zh": _zh(ev.not_computed),
        "warnings": _en(list(city.meta.get("warnings", []))),
        "warnings_zh": _zh(list(city.meta.get("warnings", []))),
    }
    return json_ready(doc)


def unit_layers(ev: Evaluation) -> dict[str, gpd.GeoDataFrame]:
    """The map layers of an evaluation's ``units.gpkg``, by layer name.

    One layer per unit level (the units with each indicator's value and grade as columns named
    by :func:`citycheck.io.runfolder.column_name`), ``dwelling`` (the buildings, with the walking
    access columns when computed) and ``facilities`` (the point facilities).
    """
    city = ev.city
    layers: dict[str, gpd.GeoDataFrame] = {}
    vals = ev.values
    for level, units in city.units.items():
        layer = units.copy()
        sub = vals[(vals["level"] == level) & vals["value"].notna()]
        if len(sub):
            wide = sub.pivot_table(
                index="unit_id", columns="indicator", values="value", aggfunc="first"
            )
            grades = sub.pivot_table(
                index="unit_id", columns="indicator", values="grade", aggfunc="first"
            )
            wide.columns = [column_name(c) for c in wide.columns]
            grades.columns = [column_name(c, "grade") for c in grades.columns]
            layer = layer.merge(wide, left_on="unit_id", right_index=True, how="left")
            layer = layer.merge(grades, left_on="unit_id", right_index=True, how="left")
        layers[level] = layer
    b = city.buildings
    keep = [
        "osm_id",
        "building",
        "levels",
        "height_m",
        "start_date",
        "residential",
        "residential_source",
        "levels_est",
        "levels_source",
        "height_est_m",
        "footprint_m2",
        "floor_area_m2",
        "residents",
        "geometry",
    ]
    bl = b[[c for c in keep if c in b.columns]].copy()
    access = getattr(ev.access, "buildings", None)
    if isinstance(access, pd.DataFrame) and len(access) == len(bl):
        extra = access.drop(
            columns=[c for c in access.columns if c in bl.columns or c == "geometry"]
        )
        bl = pd.concat([bl, extra.set_index(bl.index)], axis=1)
    layers["dwelling"] = gpd.GeoDataFrame(bl, geometry="geometry", crs=city.crs)
    fac = city.facilities.copy()
    layers["facilities"] = fac[fac.geom_type == "Point"] if len(fac) else fac
    return layers


# --------------------------------------------------------------------------- the typed model


@dataclass
class _Section:
    """A JSON object of the document: named fields in order, then any keys the model lacks.

    ``absent`` names the optional fields the dict did not hold (they are not written back);
    ``extra`` holds the keys of the dict the model does not name (written back after the named
    fields, in their order).
    """

    #: Named fields holding another section (or a list of them): field name -> section class.
    _SECTIONS: ClassVar[dict[str, type[_Section]]] = {}

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False)
    absent: frozenset[str] = field(default=frozenset(), kw_only=True, repr=False, compare=False)

    @classmethod
    def _named(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in ("extra", "absent")]

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Self:
        """The section of a JSON object (as read from results.json, or built by this module).

        Raises
        ------
        KeyError
            When a field the schema requires is missing.
        """
        named = cls._named()
        required = {
            f.name
            for f in fields(cls)
            if f.name in named and f.default is MISSING and f.default_factory is MISSING
        }
        kwargs: dict[str, Any] = {}
        absent = []
        for name in named:
            if name not in data:
                if name in required:
                    raise KeyError(f"{cls.__name__}: missing {name!r}")
                absent.append(name)
                continue
            value = data[name]
            sub = cls._SECTIONS.get(name)
            if sub is not None and isinstance(value, list):
                value = [sub.from_json_dict(v) for v in value]
            elif sub is not None and isinstance(value, Mapping):
                value = sub.from_json_dict(value)
            kwargs[name] = value
        extra = {k: v for k, v in data.items() if k not in named}
        return cls(**kwargs, extra=extra, absent=frozenset(absent))

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON object of the section: named fields in order (absent ones left out), extras."""
        out: dict[str, Any] = {}
        for name in self._named():
            if name in self.absent:
                continue
            value = getattr(self, name)
            if isinstance(value, _Section):
                value = value.to_json_dict()
            elif isinstance(value, list) and name in self._SECTIONS:
                value = [v.to_json_dict() if isinstance(v, _Section) else v for v in value]
            out[name] = value
        out.update(self.extra)
        return out

    def value_of(self, name: str, default: Any = None) -> Any:
        """A field's value as the JSON dict holds it: a named field, absent ones ``default``;
        else the key among ``extra``."""
        if name in self._named():
            return default if name in self.absent else getattr(self, name)
        return self.extra.get(name, default)

    def in_language(self, key: str, lang: str, default: Any = None) -> Any:
        """A message field in ``lang``: ``<key>_zh`` for Chinese where it holds one, else ``key``.

        As :func:`citycheck.labels.in_language` on the section's JSON object (a 1.0 document,
        without the Chinese fields, gives the English one).
        """
        if lang == "zh" and self.value_of(f"{key}_zh") is not None:
            return self.value_of(f"{key}_zh")
        return self.value_of(key, default)


@dataclass
class Software(_Section):
    """``software``: the program that wrote the document."""

    name: str
    version: str


@dataclass
class StudyArea(_Section):
    """``study_area``: the area checked, its residents and how they were counted."""

    name: str
    crs: str
    area_km2: float
    bbox_wgs84: list[float]
    residents_total: float | None
    residents_method: str
    residents_method_zh: str | None = None
    census: dict[str, Any] | None = None


@dataclass
class InputRecord(_Section):
    """One of ``inputs``: a file read (:func:`citycheck.io.runfolder.file_record`)."""

    role: str
    path: str
    sha256: str
    bytes: int


@dataclass
class Counts(_Section):
    """``counts``: buildings, facilities in the area by category, units by level."""

    buildings: int
    residential_buildings: int
    facilities: dict[str, int]
    units: dict[str, int] | None = None


@dataclass
class IndicatorRow(_Section):
    """One of ``indicators``: an indicator's value, grade and threshold in one unit."""

    id: str
    zh: str
    en: str
    dimension: str
    level: str
    unit_id: str
    value: float | None
    unit: str
    grade: str
    threshold: str
    source: str
    normalised: float | None = None
    gap: float | None = None
    red_line: bool | None = None
    data: str | None = None
    compute: str | None = None

    @classmethod
    def _named(cls) -> list[str]:
        # results.json order (the dataclass puts the optional fields last)
        return [
            "id",
            "zh",
            "en",
            "dimension",
            "level",
            "unit_id",
            "value",
            "unit",
            "grade",
            "normalised",
            "threshold",
            "gap",
            "source",
            "red_line",
            "data",
            "compute",
        ]


@dataclass
class ScoresSection(_Section):
    """``scores``: dimension and overall scores per unit, weights, sensitivity and notes."""

    method: str
    dimension_weights: dict[str, float]
    dimensions: list[dict[str, Any]]
    overall: list[dict[str, Any]]
    sensitivity: dict[str, Any] | None = None
    notes: list[str] | None = None
    notes_zh: list[str] | None = None

    def overall_at(self, level: str = "district") -> dict[str, Any] | None:
        """The first overall score row of ``level`` (None if there is none)."""
        return next((o for o in self.overall if o.get("level") == level), None)

    def dimensions_at(self, level: str = "district") -> list[dict[str, Any]]:
        """The dimension score rows of ``level``."""
        return [d for d in self.dimensions if d.get("level") == level]


@dataclass
class ProblemRow(_Section):
    """One of ``problems``: an indicator that fails or warns, with its worst units."""

    indicator: str
    zh: str
    en: str
    scope: str
    value: float | None
    threshold: str
    source: str
    worst_units: list[dict[str, Any]]
    dimension: str | None = None
    grade: str | None = None
    gap: float | None = None
    normalised: float | None = None
    unit: str | None = None
    red_line: bool | None = None
    units_failing: int | None = None
    units_total: int | None = None
    worst_level: str | None = None

    @classmethod
    def _named(cls) -> list[str]:
        # results.json order (the dataclass puts the optional fields last)
        from citycheck.evaluate.diagnosis import PROBLEM_COLUMNS

        return list(PROBLEM_COLUMNS)


@dataclass
class ResultsDocument(_Section):
    """results.json as a typed model (schema ``citycheck/evaluate/results.schema.json``).

    Examples
    --------
    >>> doc = ResultsDocument.from_json_dict(read_results(run))  # doctest: +SKIP
    >>> doc.study_area.name, [r.value for r in doc.rows("district")]  # doctest: +SKIP
    """

    _SECTIONS: ClassVar[dict[str, type[_Section]]] = {
        "software": Software,
        "study_area": StudyArea,
        "inputs": InputRecord,
        "counts": Counts,
        "indicators": IndicatorRow,
        "scores": ScoresSection,
        "problems": ProblemRow,
    }

    schema: str
    schema_version: str
    software: Software
    created: str
    study_area: StudyArea
    inputs: list[InputRecord]
    parameters: dict[str, Any]
    counts: Counts
    indicators: list[IndicatorRow]
    scores: ScoresSection
    problems: list[ProblemRow]
    not_computed: dict[str, str]
    not_computed_zh: dict[str, str] | None = None
    warnings: list[str] | None = None
    warnings_zh: list[str] | None = None

    @classmethod
    def from_evaluation(cls, ev: Evaluation) -> ResultsDocument:
        """The document of an evaluation (:func:`build_document`, typed)."""
        return cls.from_json_dict(build_document(ev))

    def rows(self, level: str | None = None) -> list[IndicatorRow]:
        """The indicator rows, of one level or (None) all."""
        return [r for r in self.indicators if level is None or r.level == level]

    def iter_values(self, indicator_id: str, level: str) -> Iterator[IndicatorRow]:
        """The rows of one indicator at one level, in document order."""
        return (r for r in self.indicators if r.id == indicator_id and r.level == level)

    def unit_rows(self, level: str, unit_id: str) -> list[IndicatorRow]:
        """The indicator rows of one unit (``unit_id`` compared as text), in document order."""
        uid = str(unit_id)
        return [r for r in self.indicators if r.level == level and str(r.unit_id) == uid]

    def by_indicator(self) -> dict[str, list[IndicatorRow]]:
        """The indicator rows grouped by indicator id (ids in order of first appearance)."""
        out: dict[str, list[IndicatorRow]] = {}
        for r in self.indicators:
            out.setdefault(r.id, []).append(r)
        return out

    def not_computed_reason(self, indicator_id: str, lang: str) -> str:
        """Why an indicator has no value, in ``lang`` ("" if it has one).

        As :func:`citycheck.labels.not_computed_reason`: the Chinese reason where there is one,
        else the English one.
        """
        return reason_in_language(self.not_computed, self.not_computed_zh, indicator_id, lang)


def as_document(doc: ResultsDocument | Mapping[str, Any]) -> ResultsDocument:
    """``doc`` as a :class:`ResultsDocument` (a results.json dict is read; a model is kept).

    Raises
    ------
    KeyError
        When the dict lacks a field the schema requires.
    """
    if isinstance(doc, ResultsDocument):
        return doc
    return ResultsDocument.from_json_dict(doc)


def load_results(run_dir: str | PathLike[str]) -> ResultsDocument:
    """A run folder's results.json, checked (:func:`citycheck.io.runfolder.read_results`), typed.

    Raises
    ------
    InputError
        As :func:`citycheck.io.runfolder.read_results`.
    """
    return ResultsDocument.from_json_dict(read_results(run_dir))
