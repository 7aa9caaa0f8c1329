"""Tests of prrt.clinical.retreatment (clinical-rules.md §8 RETX-1 to RETX-4)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from prrt.clinical.eligibility import PriorTherapy, TherapyKind, assess_eligibility
from prrt.clinical.imaging_scores import FdgStatus, ImagingLesion
from prrt.clinical.outcome import Status, Verdict
from prrt.clinical.profiles import get_profile
from prrt.clinical.retreatment import (
    RetreatmentInput,
    add_months,
    assess_retreatment,
    interval_rule,
    whole_months_between,
)
from prrt.errors import InvalidInputError

from .test_eligibility import BASE

LAST = date(2023, 3, 15)
GOOD = RetreatmentInput(
    first_cycle_date=date(2022, 9, 20),
    last_cycle_date=LAST,
    progression_date=date(2024, 6, 1),
    persistent_grade3_toxicity=False,
    mds_aml=False,
    sstr_imaging_date=date(2024, 7, 1),
)
PRIOR = dataclasses.replace(BASE, prior_therapies=(PriorTherapy(TherapyKind.PRRT, LAST),))


def _retx1(progression: date, profile: str = "PRRT-DEFAULT-1") -> Status:
    out, _ = interval_rule(
        dataclasses.replace(GOOD, progression_date=progression), get_profile(profile)
    )
    return out.status


def test_retx1_interval_12_months() -> None:
    at = add_months(LAST, 12)
    assert at == date(2024, 3, 15)
    got = tuple(_retx1(d) for d in (at - timedelta(days=1), at, at + timedelta(days=1)))
    assert got == (Status.FAIL, Status.PASS, Status.PASS)


def test_retx1_interval_lt18m_erasmus() -> None:
    at = add_months(LAST, 18)
    got = tuple(
        _retx1(d, "ERASMUS_18M") for d in (at - timedelta(days=1), at, at + timedelta(days=1))
    )
    assert got == (Status.FAIL, Status.PASS, Status.PASS)
    out, months = interval_rule(
        dataclasses.replace(GOOD, progression_date=at), get_profile("ERASMUS_18M")
    )
    assert out.rule_id == "RETX-1-INTERVAL-LT18M"
    assert months == 18
    assert out.threshold == 18.0


def test_retx1_clock_from_first_cycle() -> None:
    profile = get_profile().with_settings(retreatment_clock="first_cycle")
    # 2022-09-20 -> 2023-09-19 is 11 whole months; from the last cycle it would be 6.
    out, months = interval_rule(
        dataclasses.replace(GOOD, progression_date=date(2023, 9, 19)), profile
    )
    assert (out.status, months) == (Status.FAIL, 11)
    out, months = interval_rule(
        dataclasses.replace(GOOD, progression_date=date(2023, 9, 20)), profile
    )
    assert (out.status, months) == (Status.PASS, 12)


def test_retx1_missing_dates_are_indeterminate() -> None:
    out, months = interval_rule(dataclasses.replace(GOOD, progression_date=None), get_profile())
    assert out.status is Status.INDETERMINATE
    assert months is None


def test_retx1_progression_before_last_cycle_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"prior_prrt\.progression_date"):
        interval_rule(dataclasses.replace(GOOD, progression_date=date(2023, 1, 1)), get_profile())


def test_month_arithmetic_clamps_to_month_end() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert whole_months_between(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert whole_months_between(date(2024, 1, 31), date(2024, 2, 28)) == 0


def test_retreatment_never_eligible_only_mdt() -> None:
    res = assess_retreatment(assess_eligibility(PRIOR), GOOD)
    assert res.outcome("RETX-1-INTERVAL-LT12M").status is Status.PASS
    assert res.outcome("RETX-2-SSTR-INSUFFICIENT").status is Status.PASS
    assert res.outcome("RETX-3-SAFETY").status is Status.PASS
    assert res.outcome("RETX-4-OFF-LABEL-MDT").status is Status.FAIL
    assert res.verdict is Verdict.NEEDS_REVIEW


def test_retx2_sstr_insufficient() -> None:
    inp = dataclasses.replace(
        PRIOR, lesions=(ImagingLesion("T1", True, 30.0, 1, FdgStatus.NEGATIVE),)
    )
    res = assess_retreatment(assess_eligibility(inp), GOOD)
    assert res.outcome("RETX-2-SSTR-INSUFFICIENT").status is Status.FAIL
    assert res.verdict is Verdict.NOT_ELIGIBLE


def test_retx2_old_imaging_is_indeterminate() -> None:
    res = assess_retreatment(
        assess_eligibility(PRIOR), dataclasses.replace(GOOD, sstr_imaging_date=date(2023, 1, 1))
    )
    assert res.outcome("RETX-2-SSTR-INSUFFICIENT").status is Status.INDETERMINATE
    assert "repeat" in res.outcome("RETX-2-SSTR-INSUFFICIENT").message


@pytest.mark.parametrize(
    ("changes", "labs"),
    [
        ({"persistent_grade3_toxicity": True}, {}),
        ({"mds_aml": True}, {}),
        ({}, {"platelets_1e9_per_l": 74.0}),
        ({}, {"weight_kg": 25.0}),  # CrCl 25 mL/min: X-CRCL-LT30
    ],
)
def test_retx3_safety_fails(changes: dict[str, object], labs: dict[str, object]) -> None:
    res = assess_retreatment(
        assess_eligibility(dataclasses.replace(PRIOR, **labs)), dataclasses.replace(GOOD, **changes)
    )
    assert res.outcome("RETX-3-SAFETY").status is Status.FAIL
    assert res.verdict is Verdict.NOT_ELIGIBLE


def test_retx3_missing_mds_status_is_indeterminate() -> None:
    res = assess_retreatment(assess_eligibility(PRIOR), dataclasses.replace(GOOD, mds_aml=None))
    assert res.outcome("RETX-3-SAFETY").status is Status.INDETERMINATE


def test_retx3_laboratory_caution_asks_for_review_not_exclusion() -> None:
    res = assess_retreatment(assess_eligibility(dataclasses.replace(PRIOR, weight_kg=45.0)), GOOD)
    assert res.outcome("RETX-3-SAFETY").status is Status.PASS
    assert res.outcome("C-CRCL-30-49").status is Status.FAIL
    assert res.verdict is Verdict.NEEDS_REVIEW
