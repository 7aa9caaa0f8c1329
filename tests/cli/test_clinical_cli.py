"""CLI tests of ``prrt evaluate`` (typer CliRunner on the real application)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prrt.adapters.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.json"))
runner = CliRunner()


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["evaluate", *args], env={"COLUMNS": "200"})


def test_evaluate_runs_on_every_shipped_example_json() -> None:
    result = _invoke(*map(str, EXAMPLES), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["profile"] == "PRRT-DEFAULT-1"
    assert [c["case_id"] for c in payload["cases"]] == [
        f"EX-0{i}" for i in range(1, len(EXAMPLES) + 1)
    ]
    verdicts = {c["case_id"]: c["verdict"] for c in payload["cases"]}
    assert verdicts["EX-01"] == "eligible"
    assert verdicts["EX-03"] == "not_eligible"
    for case in payload["cases"]:
        assert {
            "grade",
            "scores",
            "renal",
            "outcomes",
            "lab_grades",
            "next_cycle",
            "recist",
        } <= set(case)
        for outcome in case["outcomes"]:
            assert {"rule_id", "status", "observed", "threshold", "unit", "source"} <= set(outcome)


def test_evaluate_runs_on_every_shipped_example_text() -> None:
    result = _invoke(*map(str, EXAMPLES))
    assert result.exit_code == 0, result.output
    assert result.stdout.count("VERDICT:") == len(EXAMPLES)


def test_text_output_puts_the_verdict_first_then_open_rules() -> None:
    result = _invoke(str(ROOT / "examples/cases/03_not_eligible_mismatch_thrombocytopenia.json"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    verdict = out.index("VERDICT: NOT ELIGIBLE")
    open_rules = out.index("Rules that fired or could not be decided")
    plt = out.index("X-PLT-LT75")
    warning = out.index("W-PERITONEAL-MESENTERIC")
    other = out.index("Other rules:")
    assert verdict < open_rules < plt < warning < other  # exclusions before warnings, passes last


def test_profile_option_changes_the_verdict() -> None:
    case = str(ROOT / "examples/cases/04_pet_score2_target_profile_dependent.json")
    default = json.loads(_invoke(case, "--format", "json").stdout)
    strict = json.loads(_invoke(case, "--profile", "PET_STRICT", "--format", "json").stdout)
    assert default["cases"][0]["verdict"] == "eligible"
    assert strict["cases"][0]["verdict"] == "not_eligible"
    assert strict["profile"] == "PET_STRICT"


def test_next_cycle_and_recist_are_reported() -> None:
    case = str(ROOT / "examples/cases/06_course_cycle3_thrombocytopenia_with_recist.json")
    result = _invoke(case)
    assert "NEXT CYCLE: REDUCE_3.7_GBQ (3.7 GBq)" in result.stdout
    assert "BEST RESPONSE (RECIST 1.1): PR" in result.stdout


def test_unknown_profile_exits_2() -> None:
    result = _invoke(str(EXAMPLES[0]), "--profile", "STRICTEST")
    assert result.exit_code == 2
    assert "profile: got 'STRICTEST'" in result.stderr


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["tumour"].update(ki67_percent=140), "tumour.ki67_percent"),
        (
            lambda d: d["labs"].update(platelets={"value": 5000, "unit": "10^9/L"}),
            "labs.platelets.value",
        ),
        (
            lambda d: d["labs"].update(creatinine={"value": -1, "unit": "mg/dL"}),
            "labs.creatinine.value",
        ),
        (
            lambda d: d["labs"].update(haemoglobin={"value": 12, "unit": "g/dl/h"}),
            "labs.haemoglobin.value",
        ),
        (lambda d: d["patient"].pop("age_years"), "patient.age_years"),
        (lambda d: d["patient"].update(age_years="64"), "patient.age_years"),
    ],
)
def test_bad_input_exits_2_naming_the_field(tmp_path: Path, mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = _invoke(str(path), "--format", "json")
    assert result.exit_code == 2
    problem = json.loads(result.stderr)
    assert problem["field"] == field
    assert str(path) in problem["message"]


def test_missing_file_and_invalid_json_exit_2(tmp_path: Path) -> None:
    assert _invoke(str(tmp_path / "nope.json")).exit_code == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = _invoke(str(broken))
    assert result.exit_code == 2
    assert "expected valid JSON" in result.stderr
