"""The typed document's readers match the string-key reads they replace (labels, dict access)."""

from __future__ import annotations

import copy

import pytest

from citycheck.evaluate.document import ResultsDocument, as_document
from citycheck.labels import in_language, not_computed_reason


def _row(iid: str, level: str, unit_id: str, value: float | None, grade: str) -> dict:
    return {
        "id": iid, "zh": f"{iid} 中", "en": f"{iid} en", "dimension": "liveable",
        "level": level, "unit_id": unit_id, "value": value, "unit": "%", "grade": grade,
        "threshold": "≥ 8", "source": "GB", "gap": None,
    }  # fmt: skip


@pytest.fixture
def doc() -> dict:
    return {
        "schema": "citycheck.results",
        "schema_version": "1.1",
        "software": {"name": "citycheck", "version": "0"},
        "created": "2026-01-01T00:00:00",
        "study_area": {
            "name": "x",
            "crs": "EPSG:32650",
            "area_km2": 1.0,
            "bbox_wgs84": [0, 0, 1, 1],
            "residents_total": 100.0,
            "residents_method": "even",
            "residents_method_zh": "均分",
        },
        "inputs": [{"role": "osm", "path": "a.pbf", "sha256": "0" * 64, "bytes": 1}],
        "parameters": {},
        "counts": {"buildings": 1, "residential_buildings": 1, "facilities": {}},
        "indicators": [
            _row("L01", "district", "x", 5.0, "fail"),
            _row("L02", "neighbourhood", "7", 1.0, "pass"),
            _row("L01", "neighbourhood", "7", None, "not_computed"),
            _row("L01", "neighbourhood", "8", 2.0, "fail"),
        ],
        "scores": {"method": "m", "dimension_weights": {}, "dimensions": [], "overall": []},
        "problems": [],
        "not_computed": {"L03": "no data", "L04": "no parks"},
        "not_computed_zh": {"L03": "无数据"},
        "warnings": ["w"],
    }


def test_as_document_reads_a_dict_and_keeps_a_model(doc):
    typed = as_document(doc)
    assert isinstance(typed, ResultsDocument)
    assert as_document(typed) is typed
    assert typed.to_json_dict() == doc


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_in_language_matches_the_dict_reader(doc, lang):
    typed = as_document(doc)
    sa = typed.study_area
    assert sa.in_language("residents_method", lang) == in_language(
        doc["study_area"], "residents_method", lang
    )
    # warnings_zh absent (a 1.0 document): the English list in both languages
    assert typed.in_language("warnings", lang, []) == in_language(doc, "warnings", lang, [])
    assert typed.scores.in_language("notes", lang, []) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("iid", ["L01", "L03", "L04"])
def test_not_computed_reason_matches_the_dict_reader(doc, lang, iid):
    typed = as_document(doc)
    assert typed.not_computed_reason(iid, lang) == not_computed_reason(doc, iid, lang)
    assert not_computed_reason(typed, iid, lang) == not_computed_reason(doc, iid, lang)


def test_row_accessors(doc):
    typed = as_document(doc)
    assert [r.id for r in typed.unit_rows("neighbourhood", "7")] == ["L02", "L01"]
    assert typed.unit_rows("neighbourhood", "9") == []
    groups = typed.by_indicator()
    assert list(groups) == ["L01", "L02"]
    assert [r.unit_id for r in groups["L01"]] == ["x", "7", "8"]


def test_value_of_follows_the_json_dict(doc):
    d = copy.deepcopy(doc)
    d["study_area"]["extra_key"] = 3
    typed = as_document(d)
    assert typed.counts.value_of("units", {}) == {}  # absent: the default
    assert typed.study_area.value_of("census", "none") == "none"
    assert typed.study_area.value_of("extra_key") == 3  # a key the model does not name
    assert typed.value_of("warnings") == ["w"]
