"""Course records read from JSON (prrt.planning.course_record): refusals naming the field, decisions.

The decisions follow the label's algorithm of clinical-rules.md §4.4 (CYC-0..CYC-5): full 7.4 GBq
when nothing happened, 3.7 GBq after a dose-modifying toxicity that has resolved (even a platelet
nadir that recovered by the scheduled date), stop when the same category recurs, re-escalate to
7.4 GBq after a reduced dose with no toxicity since, course complete after four doses.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from prrt.clinical.dose_modification import LabPanel
from prrt.errors import InvalidInputError, UnitError
from prrt.planning import Action
from prrt.planning.course_record import CourseRecord, worst_of

GBQ = 1e9

# Normal pre-dose labs (all inside the reference ranges; none meets a DMT category of §4.4).
LABS: dict[str, str] = {
    "haemoglobin": "130 g/L",
    "platelets": "210 10^9/L",
    "neutrophils": "3.5 10^9/L",
    "creatinine": "75 umol/L",
    "bilirubin": "9 umol/L",
    "bilirubin_uln": "21 umol/L",
    "albumin": "41 g/L",
    "prothrombin_percent": "95 %",
    "ast": "25 U/L",
    "ast_uln": "40 U/L",
    "alt": "22 U/L",
    "alt_uln": "40 U/L",
}
# THROMBOCYTOPENIA of §4.4: platelets < 75 × 10^9/L.
LOW_PLATELETS = {**LABS, "platelets": "68 10^9/L"}

# A standard course: 7.4 GBq every 8 weeks (the second dose reduced to 3.7 GBq after a nadir).
ADMINISTRATIONS: list[dict[str, Any]] = [
    {"cycle": 1, "time": "2026-01-05T09:00Z", "activity": "7.4 GBq"},
    {"cycle": 2, "time": "2026-03-02T09:00Z", "activity": "3.7 GBq"},
    {"cycle": 3, "time": "2026-04-27T09:00Z", "activity": "7.4 GBq"},
    {"cycle": 4, "time": "2026-06-22T09:00Z", "activity": "7.4 GBq"},
]
PRE_CYCLE_1 = {"date": "2025-12-29", "for_cycle": 1, "labs": LABS}


def course(n_given: int = 1, lab_draws: list[dict[str, Any]] | None = None, **top: Any) -> dict:
    """A course record dict with ``n_given`` administrations (fresh copy each call)."""
    doc: dict[str, Any] = {
        "regimen": "LUTATHERA_STANDARD",
        "patient": {"sex": "female", "age_years": 64, "weight": "68 kg"},
        "baseline_labs": LABS,
        "administrations": ADMINISTRATIONS[:n_given],
        "lab_draws": [PRE_CYCLE_1] if lab_draws is None else lab_draws,
        "pregnant": False,
        "mds_or_aml": False,
    }
    doc.update(top)
    return json.loads(json.dumps(doc))  # no shared sub-objects: each can be edited alone


def refused(doc: Any, field: str) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        CourseRecord.from_dict(doc)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    return info.value


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "second_time",
    ["2026-01-05T09:00Z", "2026-01-04T09:00Z", "2026-01-05T10:00+02:00"],
    ids=["same-instant", "day-before", "earlier-instant-written-in-another-zone"],
)
def test_administration_on_or_before_the_previous_one_is_refused(second_time: str) -> None:
    doc = course(1, lab_draws=[])
    doc["administrations"].append({"cycle": 2, "time": second_time, "activity": "7.4 GBq"})
    err = refused(doc, "administrations[1].time")
    assert "after cycle 1" in err.expected


def test_administrations_going_backwards_in_a_four_cycle_course_name_the_first_offender() -> None:
    doc = course(4, lab_draws=[])
    doc["administrations"][2]["time"] = "2026-02-20T09:00Z"  # before cycle 2 (2026-03-02)
    refused(doc, "administrations[2].time")


def test_administrations_out_of_cycle_order_are_refused() -> None:
    doc = course(2, lab_draws=[])
    doc["administrations"][1]["cycle"] = 3
    refused(doc, "administrations[1].cycle")


@pytest.mark.parametrize(
    ("index", "activity"),
    [(0, "8.2 GBq"), (0, "7400 GBq"), (1, "9 GBq"), (1, "8140.1 MBq")],
    ids=["cycle1-8.2GBq", "cycle1-7400GBq", "cycle2-9GBq", "cycle2-just-over-8.14GBq"],
)
def test_activity_above_the_regimen_maximum_is_refused(index: int, activity: str) -> None:
    # LUTATHERA_STANDARD: 7.4 GBq + 10 % dispensing tolerance = 8.14 GBq per cycle at most.
    doc = course(2, lab_draws=[])
    doc["administrations"][index]["activity"] = activity
    err = refused(doc, f"administrations[{index}].activity")
    assert "8.14 GBq" in err.expected


def test_activity_at_the_regimen_maximum_is_accepted() -> None:
    doc = course(1, lab_draws=[])
    doc["administrations"][0]["activity"] = "8140 MBq"
    assert CourseRecord.from_dict(doc).given[0].activity_bq == pytest.approx(8.14 * GBQ)


def test_a_fifth_administration_is_refused() -> None:
    doc = course(4, lab_draws=[])
    doc["administrations"].append({"cycle": 5, "time": "2026-08-17T09:00Z", "activity": "7.4 GBq"})
    refused(doc, "administrations[4]")


@pytest.mark.parametrize(
    ("draw", "field"),
    [
        # meant for cycle 1 (given 2026-01-05) but drawn the day after
        ({"date": "2026-01-06", "for_cycle": 1, "labs": LABS}, "lab_draws[1].date"),
        # meant for cycle 2 (given 2026-03-02) but drawn a week after
        ({"date": "2026-03-09", "for_cycle": 2, "labs": LABS}, "lab_draws[1].date"),
        # meant for cycle 2 but drawn before cycle 1 was given
        ({"date": "2026-01-02", "for_cycle": 2, "labs": LABS}, "lab_draws[1].date"),
    ],
    ids=["cycle1-after-its-dose", "cycle2-after-its-dose", "cycle2-before-cycle1"],
)
def test_lab_draw_outside_its_interval_is_refused(draw: dict[str, Any], field: str) -> None:
    refused(course(2, lab_draws=[PRE_CYCLE_1, draw]), field)


def test_lab_draw_on_the_day_of_its_administration_is_accepted() -> None:
    draws = [PRE_CYCLE_1, {"date": "2026-03-02", "for_cycle": 2, "labs": LABS}]
    assert len(CourseRecord.from_dict(course(2, lab_draws=draws)).lab_draws) == 2


def test_lab_draw_for_a_cycle_beyond_the_next_is_refused() -> None:
    draw = {"date": "2026-02-27", "for_cycle": 3, "labs": LABS}
    refused(course(1, lab_draws=[PRE_CYCLE_1, draw]), "lab_draws[1].for_cycle")


def test_lab_draw_with_a_malformed_date_is_refused() -> None:
    draw = {"date": "02/27/2026", "for_cycle": 2, "labs": LABS}
    refused(course(1, lab_draws=[PRE_CYCLE_1, draw]), "lab_draws[1].date")


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("patient", "weight"), "68 stone", "patient.weight"),
        (("patient", "weight"), "68", "patient.weight"),  # a bare number: the unit is required
        (("administrations", 0, "activity"), "7.4 GCi", "administrations[0].activity"),
        (("administrations", 0, "activity"), "7.4 Gy", "administrations[0].activity"),
        (("baseline_labs", "creatinine"), "75 furlongs", "baseline_labs.creatinine"),
        (("lab_draws", 0, "labs", "platelets"), "210 bananas", "lab_draws[0].labs.platelets"),
    ],
    ids=[
        "weight-stone",
        "weight-no-unit",
        "activity-GCi",
        "activity-Gy",
        "creatinine-furlongs",
        "platelets-bananas",
    ],
)
def test_unknown_or_missing_unit_is_refused(path: tuple, value: str, field: str) -> None:
    doc = course(1)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidInputError) as info:
        CourseRecord.from_dict(doc)
    assert info.value.field == field
    if field in ("patient.weight", "administrations[0].activity"):
        assert isinstance(info.value, UnitError)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("regimen",), "regimen"),
        (("patient",), "patient"),
        (("patient", "sex"), "patient.sex"),
        (("patient", "age_years"), "patient.age_years"),
        (("patient", "weight"), "patient.weight"),
        (("baseline_labs",), "baseline_labs"),
        (("administrations", 0, "time"), "administrations[0].time"),
        (("administrations", 0, "activity"), "administrations[0].activity"),
        (("lab_draws", 0, "date"), "lab_draws[0].date"),
        (("lab_draws", 0, "labs"), "lab_draws[0].labs"),
    ],
    ids=lambda p: ".".join(map(str, p)) if isinstance(p, tuple) else None,
)
def test_missing_required_field_is_refused(path: tuple, field: str) -> None:
    doc = course(1)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    err = refused(doc, field)
    assert err.value is None
    if field != "patient.sex":  # sex says what it expects ('female' or 'male') instead
        assert "required" in err.expected


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("patient", "age_years"), 164, "patient.age_years"),
        (("patient", "age_years"), -1, "patient.age_years"),
        (("patient", "age_years"), "64", "patient.age_years"),  # a string, not a number
        (("patient", "weight"), "680 kg", "patient.weight"),
        (("patient", "weight"), "68 g", "patient.weight"),  # grams for kilograms
        (("patient", "sex"), "F", "patient.sex"),
        (("administrations", 0, "activity"), "-7.4 GBq", "administrations[0].activity"),
        (("administrations", 0, "time"), "2026-01-05T09:00", "administrations[0].time"),
        (("lab_draws", 0, "labs", "platelets"), "9000 10^9/L", "lab_draws[0].labs.platelets"),
        (("baseline_labs", "haemoglobin"), "130 g/dL", "baseline_labs.haemoglobin"),
        (("renal_risk_factors",), "yes", "renal_risk_factors"),
    ],
    ids=[
        "age-164",
        "age-negative",
        "age-string",
        "weight-680kg",
        "weight-68g",
        "sex-F",
        "activity-negative",
        "time-without-zone",
        "platelets-9000",
        "haemoglobin-130g-per-dL",
        "renal-risk-yes",
    ],
)
def test_implausible_value_is_refused(path: tuple, value: Any, field: str) -> None:
    doc = course(1)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    refused(doc, field)


def test_unknown_regimen_and_non_object_course_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        CourseRecord.from_dict(course(1, regimen="LUTATHERA_DOUBLE"))
    refused(["not", "an", "object"], "course")


# --- parsing and decisions ---------------------------------------------------------------


def test_valid_record_is_parsed_into_canonical_units() -> None:
    doc = course(4, lab_draws=[PRE_CYCLE_1])
    doc["patient"]["weight"] = "68000 g"
    doc["administrations"][0]["activity"] = "200 mCi"  # 7.4 GBq
    rec = CourseRecord.from_dict(doc)
    assert rec.weight_kg == pytest.approx(68.0)
    assert rec.given[0].activity_bq == pytest.approx(7.4 * GBQ)
    assert [g.cycle_number for g in rec.given] == [1, 2, 3, 4]
    assert [g.activity_bq for g in rec.given[1:]] == [3.7 * GBQ, 7.4 * GBQ, 7.4 * GBQ]
    assert rec.given[1].time.isoformat() == "2026-03-02T09:00:00+00:00"
    assert rec.baseline.creatinine_umol_per_l == 75.0


def test_after_one_cycle_with_normal_labs_gives_full_7_4_gbq() -> None:
    draws = [PRE_CYCLE_1, {"date": "2026-03-02", "for_cycle": 2, "labs": LABS}]
    d = CourseRecord.from_dict(course(1, lab_draws=draws)).decide()
    assert (d.action, d.activity_bq) == (Action.GIVE_FULL, 7.4 * GBQ)
    assert "CYC-5-FULL" in d.reason_codes
    assert d.earliest_date == date(2026, 2, 23)  # 7 weeks after 2026-01-05 (8 ± 1 weeks)


def test_recovered_platelet_nadir_reduces_to_3_7_gbq() -> None:
    # CYC-3: the nadir of the interval (68 < 75 × 10^9/L) recovered by the scheduled date.
    draws = [
        PRE_CYCLE_1,
        {"date": "2026-02-02", "for_cycle": 2, "labs": LOW_PLATELETS},
        {"date": "2026-03-02", "for_cycle": 2, "labs": LABS},
    ]
    rec = CourseRecord.from_dict(course(1, lab_draws=draws))
    d = rec.decide()
    assert (d.action, d.activity_bq) == (Action.GIVE_REDUCED, 3.7 * GBQ)
    assert "CYC-3-REDUCE-THROMBOCYTOPENIA" in d.reason_codes
    # on the date of the nadir draw the toxicity is active: withhold (CYC-2)
    early = rec.decide(date(2026, 2, 10))
    assert early.action is Action.WITHHOLD
    assert "CYC-2-WITHHOLD-THROMBOCYTOPENIA" in early.reason_codes


def test_recurrent_thrombocytopenia_stops_and_no_recurrence_reescalates() -> None:
    interval_1 = [
        PRE_CYCLE_1,
        {"date": "2026-02-02", "for_cycle": 2, "labs": LOW_PLATELETS},
        {"date": "2026-02-27", "for_cycle": 2, "labs": LABS},
    ]
    recurrent = [
        *interval_1,
        {"date": "2026-03-30", "for_cycle": 3, "labs": LOW_PLATELETS},
        {"date": "2026-04-27", "for_cycle": 3, "labs": LABS},
    ]
    rec = CourseRecord.from_dict(course(2, lab_draws=recurrent))
    assert [(e.category.value, e.after_dose) for e in rec.history().episodes] == [
        ("THROMBOCYTOPENIA", 1)
    ]
    d = rec.decide()
    assert d.action is Action.STOP
    assert "CYC-1-RECURRENT-THROMBOCYTOPENIA" in d.reason_codes

    clean = [*interval_1, {"date": "2026-04-27", "for_cycle": 3, "labs": LABS}]
    d = CourseRecord.from_dict(course(2, lab_draws=clean)).decide()
    assert (d.action, d.activity_bq) == (Action.GIVE_FULL, 7.4 * GBQ)
    assert "CYC-4-REESCALATE" in d.reason_codes


def test_four_cycles_given_completes_the_course() -> None:
    draws = [
        PRE_CYCLE_1,
        {"date": "2026-02-27", "for_cycle": 2, "labs": LABS},
        {"date": "2026-04-24", "for_cycle": 3, "labs": LABS},
        {"date": "2026-06-19", "for_cycle": 4, "labs": LABS},
        {"date": "2026-08-17", "for_cycle": 5, "labs": LABS},
    ]
    rec = CourseRecord.from_dict(course(4, lab_draws=draws))
    d = rec.decide()
    assert d.action is Action.COURSE_COMPLETE
    assert "CYC-0-FOUR-DOSES" in d.reason_codes
    assert d.activity_bq is None


def test_lab_draws_are_sorted_by_date_and_decide_needs_one_for_the_next_cycle() -> None:
    draws = [
        {"date": "2026-03-02", "for_cycle": 2, "labs": LABS},
        PRE_CYCLE_1,
        {"date": "2026-02-02", "for_cycle": 2, "labs": LOW_PLATELETS},
    ]
    rec = CourseRecord.from_dict(course(1, lab_draws=draws))
    assert [d.drawn_on.isoformat() for d in rec.lab_draws] == [
        "2025-12-29",
        "2026-02-02",
        "2026-03-02",
    ]
    with pytest.raises(InvalidInputError) as info:
        CourseRecord.from_dict(course(1, lab_draws=[PRE_CYCLE_1])).decide()
    assert info.value.field == "lab_draws"


def test_record_json_round_trip_gives_the_same_record() -> None:
    # CourseRecord has no to_dict: the JSON text of the input is the serialised form.
    draws = [PRE_CYCLE_1, {"date": "2026-03-02", "for_cycle": 2, "labs": LABS}]
    doc = course(1, lab_draws=draws)
    assert CourseRecord.from_dict(json.loads(json.dumps(doc))) == CourseRecord.from_dict(doc)


# --- worst_of -----------------------------------------------------------------------------


def test_worst_of_takes_lowest_counts_and_highest_chemistry() -> None:
    a = LabPanel(
        haemoglobin_g_per_l=120.0,
        platelets_10e9_per_l=150.0,
        neutrophils_10e9_per_l=1.2,
        lymphocytes_10e9_per_l=0.9,
        white_cells_10e9_per_l=4.0,
        creatinine_umol_per_l=80.0,
        bilirubin_umol_per_l=30.0,
        albumin_g_per_l=38.0,
        prothrombin_percent=90.0,
        inr=1.1,
        ast_u_per_l=50.0,
        alt_u_per_l=20.0,
    )
    b = LabPanel(
        haemoglobin_g_per_l=95.0,
        platelets_10e9_per_l=180.0,
        neutrophils_10e9_per_l=2.5,
        lymphocytes_10e9_per_l=0.5,
        white_cells_10e9_per_l=3.1,
        creatinine_umol_per_l=112.0,
        bilirubin_umol_per_l=12.0,
        albumin_g_per_l=29.0,
        prothrombin_percent=95.0,
        inr=1.4,
        ast_u_per_l=30.0,
        alt_u_per_l=60.0,
    )
    c = LabPanel(platelets_10e9_per_l=68.0)  # a panel with only a platelet count
    w = worst_of([a, b, c])
    assert w is not None
    assert w.haemoglobin_g_per_l == 95.0
    assert w.platelets_10e9_per_l == 68.0
    assert w.neutrophils_10e9_per_l == 1.2
    assert w.lymphocytes_10e9_per_l == 0.5
    assert w.white_cells_10e9_per_l == 3.1
    assert w.albumin_g_per_l == 29.0
    assert w.prothrombin_percent == 90.0
    assert w.creatinine_umol_per_l == 112.0
    assert w.bilirubin_umol_per_l == 30.0
    assert w.inr == 1.4
    assert w.ast_u_per_l == 50.0
    assert w.alt_u_per_l == 60.0
    assert w.bilirubin_uln_umol_per_l is None  # absent from every panel stays absent


def test_worst_of_is_order_free_identity_on_one_panel_and_none_on_none() -> None:
    a = LabPanel(platelets_10e9_per_l=150.0, creatinine_umol_per_l=80.0)
    b = LabPanel(platelets_10e9_per_l=90.0, creatinine_umol_per_l=70.0)
    assert (
        worst_of([a, b])
        == worst_of([b, a])
        == LabPanel(platelets_10e9_per_l=90.0, creatinine_umol_per_l=80.0)
    )
    assert worst_of([a]) == a
    assert worst_of([]) is None


def test_same_morning_draw_east_of_utc_is_accepted() -> None:
    # 09:00 in Sydney (UTC+11 in March) is 22:00 UTC the day before.
    doc = course(1, lab_draws=[{"date": "2026-03-02", "for_cycle": 1, "labs": LABS}])
    doc["administrations"][0]["time"] = "2026-03-02T09:00+11:00"
    assert len(CourseRecord.from_dict(doc).lab_draws) == 1


def test_boolean_cycle_number_is_refused() -> None:
    doc = course(1)
    doc["administrations"][0]["cycle"] = True
    with pytest.raises(InvalidInputError, match=r"administrations\[0\]\.cycle"):
        CourseRecord.from_dict(doc)


def test_missing_sex_says_required() -> None:
    doc = course(1)
    del doc["patient"]["sex"]
    with pytest.raises(InvalidInputError, match=r"patient\.sex.*required"):
        CourseRecord.from_dict(doc)


def test_unrecorded_pregnancy_status_is_indeterminate_never_a_dose() -> None:
    doc = course(1, lab_draws=[PRE_CYCLE_1, {"date": "2026-02-23", "for_cycle": 2, "labs": LABS}])
    del doc["pregnant"]
    decision = CourseRecord.from_dict(doc).decide()
    assert decision.action is Action.INDETERMINATE
    assert decision.activity_bq is None
    doc["pregnant"] = True
    assert CourseRecord.from_dict(doc).decide().action is Action.STOP
    doc["pregnant"] = "false"
    refused(doc, "pregnant")


def test_toxicity_related_must_be_a_boolean() -> None:
    doc = course(
        1, toxicities=[{"for_cycle": 2, "term": "nausea", "worst_grade": 1, "related": "false"}]
    )
    refused(doc, "toxicities[0].related")
