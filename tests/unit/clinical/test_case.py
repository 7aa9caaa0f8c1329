"""Tests of prrt.clinical.case: the JSON case format, its shipped JSON Schema and input refusal."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from prrt.clinical.case import case_from_dict, case_json_schema, load_case
from prrt.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = ROOT / "src" / "prrt" / "clinical" / "schemas" / "case.schema.json"
EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.json"))

MINIMAL: dict[str, Any] = {
    "schema_version": "1.0",
    "case_id": "T-1",
    "assessment_date": "2025-03-03",
    "patient": {"age_years": 60, "sex": "male"},
}


def test_shipped_schema_equals_generated_schema() -> None:
    # Regenerate with: python -c "from prrt.clinical.case import case_json_schema; ..." (docs/clinical.md).
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == case_json_schema()


def test_shipped_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(case_json_schema())


def test_there_are_shipped_examples() -> None:
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_validates_against_schema_and_models(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        case_json_schema(), format_checker=jsonschema.FormatChecker()
    )
    assert [e.message for e in validator.iter_errors(data)] == []
    assert load_case(path.read_text(encoding="utf-8")).case_id == data["case_id"]


def _with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data.setdefault("tumour", {})
    data.setdefault("labs", {})
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field", "expected"),
    [
        ("tumour.ki67_percent", 140, "tumour.ki67_percent", "less than or equal to 100"),
        ("tumour.ki67_percent", "12 %", "tumour.ki67_percent", "a valid number"),
        ("patient.age_years", "sixty", "patient.age_years", "a valid number"),
        ("patient.karnofsky_percent", 75, "patient.karnofsky_percent", "multiple of 10"),
        ("patient.karnofsky_percent", True, "patient.karnofsky_percent", "a valid integer"),
        ("patient.weigth", "70 kg", "patient.weigth", "no such field"),
        ("patient.sex", "unknown", "patient.sex", "'female' or 'male'"),
        (
            "imaging.lesions",
            [{"id": "L1", "target": True, "sstr_score": 5}],
            "imaging.lesions[0].sstr_score",
            "less than or equal to 4",
        ),
        (
            "imaging.lesions",
            [{"id": "L1", "sstr_score": 3}],
            "imaging.lesions[0].target",
            "required field",
        ),
        ("labs.platelets", {"value": 200}, "labs.platelets.unit", "required field"),
        (
            "labs.platelets",
            {"value": "200", "unit": "10^9/L"},
            "labs.platelets.value",
            "a valid number",
        ),
        ("schema_version", "2.0", "schema_version", "'1.0'"),
        (
            "imaging.lesions",
            [{"id": "L1", "target": True}, {"id": "L1", "target": False}],
            "imaging.lesions",
            "unique lesion ids (repeated: L1)",
        ),
    ],
)
def test_bad_input_names_the_json_path_value_and_expectation(
    path: str, value: Any, field: str, expected: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        case_from_dict(_with(path, value))
    assert info.value.field == field
    assert expected in info.value.expected


def test_missing_required_field_is_named() -> None:
    data = copy.deepcopy(MINIMAL)
    del data["patient"]["sex"]
    with pytest.raises(
        InvalidInputError, match=r"patient\.sex: got None; expected a value \(required field\)"
    ):
        case_from_dict(data)


def test_several_problems_are_counted_in_the_hint() -> None:
    data = _with("tumour.ki67_percent", 140)
    data["patient"]["age_years"] = -3
    with pytest.raises(InvalidInputError) as info:
        case_from_dict(data)
    assert info.value.hint == "1 more problem(s) in the case"


def test_invalid_json_text_is_refused() -> None:
    with pytest.raises(
        InvalidInputError, match=r"case\.json: got 'line 1 column 2'; expected valid JSON"
    ):
        load_case("{,}", source="case.json")


def test_minimal_case_is_accepted() -> None:
    case = case_from_dict(MINIMAL)
    assert case.tumour is None
    assert case.patient.age_years == 60.0


@pytest.mark.parametrize(
    ("addition", "field", "value"),
    [
        (
            {
                "history": {
                    "prior_therapies": [{"kind": "ssa_long_acting", "end_date": "2026-01-28"}]
                }
            },
            "history.prior_therapies[0].end_date",
            "2026-01-28",
        ),
        (
            {"history": {"prior_prrt": {"last_cycle_date": "2025-03-04"}}},
            "history.prior_prrt.last_cycle_date",
            "2025-03-04",
        ),
        (
            {"imaging": {"sstr": {"modality": "pet", "date": "2025-04-01"}}},
            "imaging.sstr.date",
            "2025-04-01",
        ),
    ],
)
def test_dates_after_the_assessment_are_refused(
    addition: dict[str, Any], field: str, value: str
) -> None:
    """An SSA ending 2026-01-28 for an assessment on 2025-03-03 gave '−47.1 weeks since SSA'."""
    data = {**copy.deepcopy(MINIMAL), **addition}
    with pytest.raises(InvalidInputError) as info:
        case_from_dict(data)
    assert info.value.field == field
    assert info.value.value == value
    assert "2025-03-03" in info.value.expected


def test_dates_on_the_assessment_day_are_accepted() -> None:
    data = {
        **copy.deepcopy(MINIMAL),
        "history": {"prior_therapies": [{"kind": "ssa_long_acting", "end_date": "2025-03-03"}]},
    }
    therapy = case_from_dict(data).history.prior_therapies[0]  # type: ignore[union-attr,index]
    assert therapy.end_date is not None
    assert therapy.end_date.isoformat() == "2025-03-03"
