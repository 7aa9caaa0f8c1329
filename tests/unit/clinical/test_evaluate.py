"""Tests of prrt.clinical.evaluate: case -> canonical inputs -> report, on the shipped examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from prrt.clinical.case import case_from_dict, load_case
from prrt.clinical.dose_modification import (
    HypersensitivityAction,
    RecurrentReading,
    SixteenWeekReading,
)
from prrt.clinical.evaluate import dose_modification_settings, eligibility_input, evaluate_case
from prrt.clinical.outcome import Status, Verdict
from prrt.clinical.profiles import get_profile, list_profiles
from prrt.errors import InvalidInputError, UnitError

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "cases"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


EX01 = "01_eligible_midgut_net_g2.json"


def status_of(data: dict[str, Any], rule_id: str, profile: str = "PRRT-DEFAULT-1") -> Status:
    report = evaluate_case(case_from_dict(data), get_profile(profile))
    return next(o.status for o in report.outcomes if o.rule_id == rule_id)


# Expected verdicts follow from the rules of clinical-rules.md §3.2 / §8 (reason in the comment).
@pytest.mark.parametrize(
    ("name", "profile", "verdict"),
    [
        (EX01, "PRRT-DEFAULT-1", Verdict.ELIGIBLE),  # all rules pass
        ("02_net_g3_conditional.json", "PRRT-DEFAULT-1", Verdict.NEEDS_REVIEW),  # C-G3-KI67-LT55
        (
            "03_not_eligible_mismatch_thrombocytopenia.json",
            "PRRT-DEFAULT-1",
            Verdict.NOT_ELIGIBLE,
        ),  # P5, PLT 62
        (
            "04_pet_score2_target_profile_dependent.json",
            "PRRT-DEFAULT-1",
            Verdict.ELIGIBLE,
        ),  # PET score 2 >= 2
        (
            "04_pet_score2_target_profile_dependent.json",
            "PET_STRICT",
            Verdict.NOT_ELIGIBLE,
        ),  # needs >= 3 (SSTR-4)
        (
            "05_retreatment_candidate.json",
            "PRRT-DEFAULT-1",
            Verdict.NEEDS_REVIEW,
        ),  # RETX-4 off-label, MDT
        (
            "07_incomplete_data.json",
            "PRRT-DEFAULT-1",
            Verdict.NEEDS_REVIEW,
        ),  # missing data: indeterminate
    ],
)
def test_example_verdicts(name: str, profile: str, verdict: Verdict) -> None:
    assert (
        evaluate_case(load_case((EXAMPLES / name).read_text()), get_profile(profile)).verdict
        is verdict
    )


def test_example_03_reports_mismatch_and_ctcae_grade() -> None:
    report = evaluate_case(
        case_from_dict(example("03_not_eligible_mismatch_thrombocytopenia.json"))
    )
    assert report.eligibility.mismatch_lesions == ("H2",)
    assert report.eligibility.netpet.label == "P5"
    platelets = next(g for g in report.lab_grades if g.term.value == "platelet_count_decreased")
    assert platelets.grade == 2  # 62 x10^9/L: CTCAE v5.0 G2 = < 75 - 50


def test_example_05_retreatment_interval() -> None:
    data = example("05_retreatment_candidate.json")
    report = evaluate_case(case_from_dict(data))
    assert report.pathway == "retreatment"
    assert report.retreatment is not None
    # last cycle 2023-06-12 -> progression 2025-07-21: 25 whole months.
    assert report.retreatment.interval_months == 25
    # Progression 15 months after the last cycle: >= 12 passes, < 18 fails under ERASMUS_18M.
    data["history"]["prior_prrt"]["progression_date"] = "2024-09-12"
    assert status_of(data, "RETX-1-INTERVAL-LT12M") is Status.PASS
    assert status_of(data, "RETX-1-INTERVAL-LT18M", "ERASMUS_18M") is Status.FAIL


def test_example_06_next_cycle_and_recist() -> None:
    report = evaluate_case(
        case_from_dict(example("06_course_cycle3_thrombocytopenia_with_recist.json"))
    )
    assert report.next_cycle is not None
    # Platelet nadir 68 < 75 since the last dose, now 82: CYC-3 reduce to 3.7 GBq.
    assert report.next_cycle.decision.value == "REDUCE_3.7_GBQ"
    assert report.next_cycle.activity_bq == pytest.approx(3.7e9)
    assert report.recist_time_points is not None
    # Baseline sum 52 + 33 = 85 mm; 35 + 22 = 57 mm is -32.9 % (<= -30 %: PR).
    assert [r.overall.value for r in report.recist_time_points] == ["SD", "PR"]
    assert report.best_response is not None
    assert report.best_response.response.value == "PR"


def test_unit_conversion_at_the_x_hb_lt8_threshold() -> None:
    data = example(EX01)
    data["labs"]["haemoglobin"] = {"value": 8.0, "unit": "g/dL"}  # = 80 g/L: allowed
    assert status_of(data, "X-HB-LT8") is Status.PASS
    data["labs"]["haemoglobin"] = {"value": 4.9, "unit": "mmol/L"}  # x 16.11 = 78.9 g/L: below 80
    assert status_of(data, "X-HB-LT8") is Status.FAIL


def test_unit_conversion_at_the_x_plt_lt75_threshold() -> None:
    data = example(EX01)
    data["labs"]["platelets"] = {"value": 75000, "unit": "/mm3"}  # = 75 x10^9/L: allowed
    assert status_of(data, "X-PLT-LT75") is Status.PASS
    data["labs"]["platelets"] = {"value": 74900, "unit": "/mm3"}
    assert status_of(data, "X-PLT-LT75") is Status.FAIL


def test_bilirubin_exactly_3_uln_in_mg_per_dl() -> None:
    data = example(EX01)
    data["labs"]["bilirubin"] = {"value": 3.6, "unit": "mg/dL", "uln": 1.2}
    assert status_of(data, "X-BILI-GT3ULN") is Status.PASS
    data["labs"]["bilirubin"] = {"value": 3.61, "unit": "mg/dL", "uln": 1.2}
    assert status_of(data, "X-BILI-GT3ULN") is Status.FAIL


def test_creatinine_1_7_mg_per_dl_is_above_150_umol_per_l() -> None:
    # 1.7 mg/dL x 88.4 = 150.28 µmol/L > 150: the rule compares in µmol/L (§0.2).
    data = example(EX01)
    data["labs"]["creatinine"] = {"value": 1.7, "unit": "mg/dL"}
    assert status_of(data, "C-SCR-GT150") is Status.FAIL


@pytest.mark.parametrize(
    ("key", "entry", "field"),
    [
        ("platelets", {"value": 5000, "unit": "10^9/L"}, "labs.platelets.value"),  # implausible
        (
            "platelets",
            {"value": 200, "unit": "mg/dL"},
            "labs.platelets.value",
        ),  # not a unit of counts
        ("creatinine", {"value": -80, "unit": "µmol/L"}, "labs.creatinine.value"),  # negative
        (
            "haemoglobin",
            {"value": 12, "unit": "furlongs"},
            "labs.haemoglobin.value",
        ),  # unknown unit
        (
            "bilirubin",
            {"value": 10, "unit": "µmol/L", "uln": 5000},
            "labs.bilirubin.uln",
        ),  # implausible ULN
    ],
)
def test_bad_lab_values_are_refused_with_their_path(
    key: str, entry: dict[str, Any], field: str
) -> None:
    data = example(EX01)
    data["labs"][key] = entry
    with pytest.raises(InvalidInputError) as info:
        evaluate_case(case_from_dict(data))
    assert info.value.field == field


@pytest.mark.parametrize(
    ("weight", "exc"), [("70", UnitError), ("70 stone", UnitError), ("-70 kg", InvalidInputError)]
)
def test_bad_weight_is_refused(weight: str, exc: type[Exception]) -> None:
    data = example(EX01)
    data["patient"]["weight"] = weight
    with pytest.raises(exc, match=r"patient\.weight"):
        eligibility_input(case_from_dict(data))


def test_bad_lesion_size_is_refused() -> None:
    data = example(EX01)
    data["imaging"]["lesions"][0]["size"] = "34 Gy"
    with pytest.raises(UnitError, match=r"imaging\.lesions\[0\]\.size"):
        eligibility_input(case_from_dict(data))


def test_removing_an_optional_section_never_makes_a_case_eligible() -> None:
    data = example("02_net_g3_conditional.json")
    for section in ("tumour", "imaging", "labs", "history"):
        reduced = copy.deepcopy(data)
        del reduced[section]
        assert evaluate_case(case_from_dict(reduced)).verdict is not Verdict.ELIGIBLE, section


def test_lesion_table_marks_threshold_and_mismatch() -> None:
    report = evaluate_case(
        case_from_dict(example("04_pet_score2_target_profile_dependent.json")),
        get_profile("PET_STRICT"),
    )
    rows = {row["id"]: row for row in report.lesion_table}
    assert rows["H1"]["meets_threshold"] is False  # score 2 < 3 under PET_STRICT
    assert rows["H2"]["meets_threshold"] is True


@pytest.mark.parametrize("name", list_profiles())
def test_profile_maps_onto_dose_modification_settings(name: str) -> None:
    profile = get_profile(name)
    settings = dose_modification_settings(profile)
    assert settings.profile == name
    assert settings.recurrent_reading is RecurrentReading(profile.dmt_recurrent_reading)
    assert settings.sixteen_week_reading is SixteenWeekReading(profile.dmt_sixteen_week_reading)
    assert settings.any_haematological_grade3 is profile.dmt_eu_any_haematological_grade3
    assert settings.hypersensitivity_grade3_action is HypersensitivityAction(
        profile.hypersensitivity_grade3_action
    )
    assert settings.inr_limit == 1.5


def test_report_dict_is_json_serialisable_and_starts_with_the_verdict() -> None:
    report = evaluate_case(
        case_from_dict(example("06_course_cycle3_thrombocytopenia_with_recist.json"))
    ).to_dict()
    text = json.dumps(report, allow_nan=False)
    assert json.loads(text)["verdict"] == "eligible"
    assert list(report)[:5] == ["case_id", "assessment_date", "profile", "verdict", "pathway"]
    assert (
        report["renal"]["crcl_ml_per_min"] == 69.4
    )  # (140-61) x 64 x 0.85 x 88.4 / (72 x 76) = 69.36


def test_errors_of_the_response_and_course_modules_carry_the_json_path() -> None:
    data = example("06_course_cycle3_thrombocytopenia_with_recist.json")
    del data["response"]["baseline_lesions"][0]["longest_diameter"]
    with pytest.raises(InvalidInputError) as info:
        evaluate_case(case_from_dict(data))
    assert info.value.field == "response.baseline_lesions[0]"
    assert info.value.hint is not None
    assert "longest_diameter" in info.value.hint
    data = example("06_course_cycle3_thrombocytopenia_with_recist.json")
    data["course"]["administrations"][1]["date"] = "2025-01-01"  # before cycle 1
    with pytest.raises(InvalidInputError) as info:
        evaluate_case(case_from_dict(data))
    assert info.value.field.startswith("course.administrations")


def test_report_lists_fired_and_undecided_rules() -> None:
    report = evaluate_case(
        case_from_dict(example("03_not_eligible_mismatch_thrombocytopenia.json"))
    ).to_dict()
    assert {"X-NETPET-P5", "X-PLT-LT75", "X-SSTR-TARGET-BELOW-THRESHOLD"} <= set(report["fired"])
    assert report["undecided"] == []


def test_paediatric_case_notes_the_renal_equations() -> None:
    data = example(EX01)
    data["patient"]["age_years"] = 15
    report = evaluate_case(case_from_dict(data))
    assert any("validated for adults" in note for note in report.notes)
    assert report.eligibility.outcome("C-AGE-12-17").status is Status.FAIL
    assert report.verdict is Verdict.NEEDS_REVIEW


def test_eu_smpc_2017_profile_counts_isolated_grade3_leukopenia() -> None:
    # WBC nadir 1.8 x10^9/L (< 2.0, CTCAE G3) with platelets, Hb and ANC above their limits:
    # not dose-modifying under the US table, dose-modifying under the older EU wording (§4.3).
    data = example("06_course_cycle3_thrombocytopenia_with_recist.json")
    data["course"]["worst_since_last_dose"]["platelets"] = {"value": 90, "unit": "10^9/L"}
    data["course"]["worst_since_last_dose"]["white_cells"] = {"value": 1.8, "unit": "10^9/L"}
    default = evaluate_case(case_from_dict(data)).next_cycle
    eu = evaluate_case(case_from_dict(data), get_profile("EU_SMPC_2017")).next_cycle
    assert default is not None
    assert eu is not None
    assert default.decision.value == "FULL_7.4_GBQ"
    assert eu.reason_codes == ("CYC-3-REDUCE-ANAEMIA_NEUTROPENIA",)


def test_uspi_delay_reading_profile_allows_more_than_16_weeks() -> None:
    # Platelets 60 still < 75 at 17 weeks after the last dose (2025-03-10 -> 2025-07-07):
    # STOP when 16 weeks is the maximum interval, WITHHOLD when it is a delay beyond the 8-week schedule.
    data = example("06_course_cycle3_thrombocytopenia_with_recist.json")
    data["assessment_date"] = "2025-07-07"
    data["labs"]["platelets"] = {"value": 60, "unit": "10^9/L"}
    default = evaluate_case(case_from_dict(data)).next_cycle
    delay = evaluate_case(case_from_dict(data), get_profile("USPI_DELAY_READING")).next_cycle
    assert default is not None
    assert delay is not None
    assert default.weeks_since_last_dose == 17.0
    assert default.decision.value == "STOP"
    assert delay.decision.value == "WITHHOLD"


def test_eligibility_input_refuses_therapy_ending_after_assessment() -> None:
    """The core input refuses it too (not only the case format): no negative 'weeks since'."""
    from datetime import date

    from prrt.clinical.eligibility_input import EligibilityInput, PriorTherapy, TherapyKind

    with pytest.raises(InvalidInputError) as info:
        EligibilityInput(
            assessment_date=date(2025, 3, 3),
            prior_therapies=(
                PriorTherapy(kind=TherapyKind.SSA_LONG_ACTING, end_date=date(2025, 1, 1)),
                PriorTherapy(kind=TherapyKind.SSA_LONG_ACTING, end_date=date(2026, 1, 28)),
            ),
        )
    assert info.value.field == "prior_therapies[1].end_date"
    assert info.value.value == "2026-01-28"


def test_creatinine_within_uln_without_baseline_says_grade_0_by_uln() -> None:
    """CTCAE v5 creatinine (§5.1): 80 ≤ ULN 110 µmol/L rules out G1 (> ULN) and the ULN bands,
    but G2 '> 1.5 × baseline' could still fire for a baseline below 53 µmol/L: indeterminate,
    and the band says why instead of 'undetermined'."""
    data = {
        "schema_version": "1.0",
        "case_id": "CREAT-1",
        "assessment_date": "2025-03-03",
        "patient": {"age_years": 60, "sex": "male"},
        "labs": {"creatinine": {"value": 80, "unit": "µmol/L", "uln": 110}},
    }
    report = evaluate_case(case_from_dict(data), get_profile()).to_dict()
    creat = next(g for g in report["lab_grades"] if g["term"] == "creatinine_increased")
    assert creat["grade"] is None
    assert creat["grade_at_least"] == 0
    assert creat["missing"] == ["baseline"]
    assert creat["band"] == "grade 0 by ULN; baseline needed for the baseline-relative bands"
    data["labs"]["creatinine"]["value"] = 130  # > ULN: G1 proven, G2 by baseline still possible
    report = evaluate_case(case_from_dict(data), get_profile()).to_dict()
    creat = next(g for g in report["lab_grades"] if g["term"] == "creatinine_increased")
    assert (creat["grade"], creat["grade_at_least"]) == (None, 1)
    assert creat["band"] == (
        "G1: > 1 x ULN (110 µmol/L); baseline needed for the baseline-relative bands"
    )
