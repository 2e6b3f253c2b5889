"""The evaluation document: built from a real evaluation, typed, and back to the same JSON."""

from __future__ import annotations

import copy
import json

import pytest

from citycheck.evaluate.document import (
    IndicatorRow,
    ResultsDocument,
    StudyArea,
    build_document,
    unit_layers,
)
from citycheck.io.runfolder import SCHEMA_VERSION, column_name, validate_results
from citycheck.pipeline import evaluate_city


@pytest.fixture(scope="module")
def bupt_evaluation(city_of):
    return evaluate_city(city_of("beijing-haidian-bupt.osm.pbf"))


@pytest.fixture(scope="module")
def bupt_doc(bupt_evaluation):
    return build_document(bupt_evaluation)


def _dumps(doc):
    return json.dumps(doc, ensure_ascii=False, indent=1)


def test_document_of_a_real_evaluation_is_valid_json(bupt_doc, bupt_evaluation):
    validate_results(bupt_doc)
    assert bupt_doc["schema_version"] == SCHEMA_VERSION
    assert bupt_doc["created"] == bupt_evaluation.created
    assert len(bupt_doc["indicators"]) == len(bupt_evaluation.values)
    json.dumps(bupt_doc, allow_nan=False)  # NaN made null, numpy made Python


def test_typed_model_round_trips_byte_for_byte(bupt_doc, bupt_evaluation):
    typed = ResultsDocument.from_evaluation(bupt_evaluation)
    assert isinstance(typed.study_area, StudyArea)
    assert all(isinstance(r, IndicatorRow) for r in typed.indicators)
    again = typed.to_json_dict()
    expected = dict(bupt_doc, created=bupt_evaluation.created)
    assert _dumps(again) == _dumps(expected)  # same keys, same order, same values
    assert _dumps(ResultsDocument.from_json_dict(again).to_json_dict()) == _dumps(again)


def test_typed_accessors(bupt_doc):
    typed = ResultsDocument.from_json_dict(bupt_doc)
    district = typed.rows("district")
    assert [r.id for r in district] == [
        i["id"] for i in bupt_doc["indicators"] if i["level"] == "district"
    ]
    overall = typed.scores.overall_at("district")
    assert overall == next(o for o in bupt_doc["scores"]["overall"] if o["level"] == "district")
    assert typed.scores.dimensions_at("district") == [
        d for d in bupt_doc["scores"]["dimensions"] if d["level"] == "district"
    ]
    first = district[0]
    assert next(typed.iter_values(first.id, "district")) is first
    assert [p.indicator for p in typed.problems] == [p["indicator"] for p in bupt_doc["problems"]]


def test_a_1_0_document_keeps_its_shape(bupt_doc):
    """Optional fields a document lacks stay absent; fields the model does not name are kept."""
    old = copy.deepcopy(bupt_doc)
    old["schema_version"] = "1.0"
    for key in ("not_computed_zh", "warnings_zh", "warnings"):
        del old[key]
    del old["study_area"]["residents_method_zh"]
    del old["study_area"]["census"]
    del old["scores"]["notes_zh"]
    del old["counts"]["units"]
    for row in old["indicators"]:
        del row["data"], row["compute"]
    old["indicators"][0]["later_field"] = 1
    old["future_section"] = {"a": [1, 2]}
    validate_results(old)
    typed = ResultsDocument.from_json_dict(old)
    assert typed.warnings is None and typed.study_area.census is None
    assert typed.extra == {"future_section": {"a": [1, 2]}}
    assert _dumps(typed.to_json_dict()) == _dumps(old)


def test_missing_required_field_named(bupt_doc):
    bad = copy.deepcopy(bupt_doc)
    del bad["indicators"][0]["grade"]
    with pytest.raises(KeyError, match="grade"):
        ResultsDocument.from_json_dict(bad)


def test_unit_layers(bupt_evaluation):
    layers = unit_layers(bupt_evaluation)
    assert {"district", "grid", "dwelling", "facilities"} <= set(layers)
    district = layers["district"]
    vals = bupt_evaluation.values
    with_value = vals[(vals["level"] == "district") & vals["value"].notna()]
    for iid in with_value["indicator"].unique():
        assert column_name(iid) in district.columns
        assert column_name(iid, "grade") in district.columns
    assert len(layers["dwelling"]) == len(bupt_evaluation.city.buildings)
