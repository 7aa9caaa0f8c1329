"""Patient release and the instruction sheet (prrt.planning.release), checked by hand computation.

NRC point-source method (NUREG-1556 Vol. 9 Appendix U = RG 8.39 eq. 1; clinical-rules.md REL-2):

    D(∞) [µSv] = 24 h/d × 1.44 × T½ [d] × E × Ḋ(1 m) [µSv/h]

with E = 0.25 for T½ > 1 day and 1.0 otherwise; releasable when D(∞) ≤ 5 mSv (10 CFR 35.75(a)),
written instructions when D(∞) > 1 mSv (35.75(b)).  For 177Lu, T½ = 6.647 d (clinical-rules.md
DOSE-6): 24 × 1.44 × 6.647 × 0.25 = 57.43 h, so 87 µSv/h and 17.4 µSv/h at 1 m are the two
thresholds printed in REL-2.  The dose-rate limit (REL-6) is 25 µSv/h at 1 m (dorn / ARPANSA RPS 4).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from prrt.errors import InvalidInputError
from prrt.planning import (
    ARPANSA_DISCHARGE_LIMIT,
    DoseRateClearance,
    DoseRateLimit,
    InstructionSheet,
    assess_release,
    contact_restrictions,
    instruction_sheet,
)

T_HALF_LU177_D = 6.647  # clinical-rules.md DOSE-6 / REL-2
T_HALF_LU177_H = T_HALF_LU177_D * 24.0
T_HALF_GA68_D = 67.71 / 1440.0  # 67.71 min: a nuclide with T½ ≤ 1 day (E = 1)
OCCUPANCY = 0.25  # E at 1 m for T½ > 1 day
HOURS_FACTOR_LU177 = 24.0 * 1.44 * T_HALF_LU177_D * OCCUPANCY  # 57.43 h
RATE_AT_5_MSV = 5000.0 / HOURS_FACTOR_LU177  # µSv/h at 1 m: 87.06
RATE_AT_1_MSV = 1000.0 / HOURS_FACTOR_LU177  # µSv/h at 1 m: 17.41

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def mono(rate_usv_per_h: float, half_life_h: float = T_HALF_LU177_H) -> DoseRateClearance:
    return DoseRateClearance(rate_usv_per_h, (1.0,), (half_life_h,), "test curve")


def test_hand_factors_match_the_printed_thresholds_of_rel_2() -> None:
    assert abs(HOURS_FACTOR_LU177 - 57.5) <= 0.1
    assert abs(RATE_AT_5_MSV - 87.0) <= 0.1
    assert abs(RATE_AT_1_MSV - 17.4) <= 0.02


# --- NRC criterion ------------------------------------------------------------------------


def test_7_4_gbq_at_3_7_usv_per_h_per_gbq_gives_1_57_msv() -> None:
    # Ḋ(1 m) = 7.4 GBq × 3.7 µSv/h/GBq = 27.38 µSv/h; D = 57.43 h × 27.38 µSv/h = 1572 µSv.
    rate = 7.4 * 3.7
    expected_msv = 24.0 * 1.44 * 6.647 * 0.25 * rate / 1000.0
    assert expected_msv == pytest.approx(1.5724, abs=1e-4)
    r = assess_release(DoseRateClearance.from_activity(7.4e9), T0, T0)
    assert r.dose_rate_1m_usv_per_h == pytest.approx(rate, rel=1e-12)
    assert r.nrc_dose_msv == pytest.approx(expected_msv, rel=1e-9)
    assert r.occupancy == OCCUPANCY
    assert r.releasable_nrc is True
    assert r.instructions_required is True


def test_patient_specific_dose_integrates_the_clearance() -> None:
    # Mono-exponential with the physical half-life: E × Ḋ0 × T½ / ln 2 (= NRC × (1/ln 2)/1.44).
    r = assess_release(DoseRateClearance.from_activity(7.4e9), T0, T0)
    by_hand = OCCUPANCY * 27.38 * T_HALF_LU177_H / math.log(2) / 1000.0
    assert r.patient_specific_dose_msv == pytest.approx(by_hand, rel=1e-9)
    assert r.patient_specific_dose_msv / r.nrc_dose_msv == pytest.approx(
        1 / (math.log(2) * 1.44), rel=1e-9
    )
    # Bi-exponential measured at 24 h: E × Σ Ḋ0 fᵢ Tᵢ/ln 2 × 2^(−24/Tᵢ).
    bi = DoseRateClearance(25.0, (0.6, 0.4), (5.0, 70.0), "test")
    r = assess_release(bi, T0, T0 + timedelta(hours=24))
    tail = sum(25.0 * f * t / math.log(2) * 2 ** (-24 / t) for f, t in ((0.6, 5.0), (0.4, 70.0)))
    rate_24h = sum(25.0 * f * 2 ** (-24 / t) for f, t in ((0.6, 5.0), (0.4, 70.0)))
    assert r.dose_rate_1m_usv_per_h == pytest.approx(rate_24h, rel=1e-12)
    assert r.patient_specific_dose_msv == pytest.approx(OCCUPANCY * tail / 1000.0, rel=1e-9)
    assert r.nrc_dose_msv == pytest.approx(HOURS_FACTOR_LU177 * rate_24h / 1000.0, rel=1e-9)


def test_nrc_dose_uses_the_rate_at_the_time_of_measurement() -> None:
    # 50 µSv/h at administration, T½ 100 h: 50 × 2^(−48/100) µSv/h when measured at 48 h.
    r = assess_release(mono(50.0, 100.0), T0, T0 + timedelta(hours=48))
    assert r.dose_rate_1m_usv_per_h == pytest.approx(50.0 * 2 ** (-0.48), rel=1e-12)
    assert r.nrc_dose_msv == pytest.approx(HOURS_FACTOR_LU177 * 50.0 * 2 ** (-0.48) / 1e3)
    assert r.measured_at == T0 + timedelta(hours=48)


@pytest.mark.parametrize(
    ("factor", "releasable"),
    [(1 - 1e-6, True), (1.0, True), (1 + 1e-6, False)],
    ids=["just-below-5mSv", "at-5mSv", "just-above-5mSv"],
)
def test_release_limit_5_msv_flips_at_87_usv_per_h(factor: float, releasable: bool) -> None:
    r = assess_release(mono(RATE_AT_5_MSV * factor), T0, T0)
    assert r.nrc_dose_msv == pytest.approx(5.0 * factor, rel=1e-12)
    assert r.releasable_nrc is releasable
    assert r.instructions_required is True


@pytest.mark.parametrize(
    ("factor", "instructions"),
    [(1 - 1e-6, False), (1.0, False), (1 + 1e-6, True)],
    ids=["just-below-1mSv", "at-1mSv", "just-above-1mSv"],
)
def test_instruction_threshold_1_msv_flips_at_17_4_usv_per_h(
    factor: float, instructions: bool
) -> None:
    r = assess_release(mono(RATE_AT_1_MSV * factor), T0, T0)
    assert r.nrc_dose_msv == pytest.approx(1.0 * factor, rel=1e-12)
    assert r.instructions_required is instructions
    assert r.releasable_nrc is True


def test_occupancy_is_one_for_a_half_life_under_a_day() -> None:
    r = assess_release(mono(10.0, 67.71 / 60.0), T0, T0, nuclide="Ga-68")
    assert r.occupancy == 1.0
    assert r.nrc_dose_msv == pytest.approx(24 * 1.44 * T_HALF_GA68_D * 1.0 * 10.0 / 1e3, rel=1e-3)


# --- dose-rate limit ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "ok"),
    [(24.99, True), (25.0, True), (25.01, False)],
    ids=["24.99uSv/h", "25uSv/h", "25.01uSv/h"],
)
def test_default_dose_rate_limit_25_usv_per_h_at_1_m(rate: float, ok: bool) -> None:
    assert ARPANSA_DISCHARGE_LIMIT.limit_usv_per_h == 25.0
    assert ARPANSA_DISCHARGE_LIMIT.distance_m == 1.0
    r = assess_release(mono(rate), T0, T0)
    assert r.releasable_dose_rate is ok
    assert r.releasable is ok  # NRC criterion met at these rates (≈ 1.4 mSv)
    if ok:
        assert r.release_time == T0
    else:
        assert r.release_time > T0


def test_release_time_is_when_the_curve_meets_the_limit() -> None:
    # 50 µSv/h halving every 100 h meets 25 µSv/h exactly 100 h after administration.
    r = assess_release(mono(50.0, 100.0), T0, T0 + timedelta(hours=2))
    assert r.releasable_dose_rate is False
    assert r.release_time.timestamp() == pytest.approx(
        (T0 + timedelta(hours=100)).timestamp(), abs=1
    )
    # measured after that time: release at the measurement
    later = T0 + timedelta(hours=120)
    assert assess_release(mono(50.0, 100.0), T0, later).release_time == later


def test_configurable_limit_at_another_distance() -> None:
    # 10 µSv/h at 2 m ⇔ 10 × 2^1.5 = 28.28 µSv/h at 1 m (inverse 1.5 power of distance, REL-6).
    site = DoseRateLimit("site rule", 10.0, 2.0, "test")
    assert site.at_1m_usv_per_h == pytest.approx(10.0 * 2.0**1.5, rel=1e-12)
    assert assess_release(mono(28.2), T0, T0, dose_rate_limit=site).releasable_dose_rate is True
    assert assess_release(mono(28.4), T0, T0, dose_rate_limit=site).releasable_dose_rate is False
    # a stricter limit at 1 m: 20 µSv/h; 50 µSv/h halving every 100 h meets it at 100 log2(2.5) h
    strict = DoseRateLimit("strict", 20.0, 1.0, "test")
    r = assess_release(mono(50.0, 100.0), T0, T0, dose_rate_limit=strict)
    hours = (r.release_time - T0).total_seconds() / 3600
    assert hours == pytest.approx(100 * math.log2(50 / 20), abs=1e-3)
    assert r.dose_rate_limit is strict


def test_releasable_needs_both_criteria() -> None:
    # 60 µSv/h: NRC ≈ 3.4 mSv (releasable) but above 25 µSv/h.
    r = assess_release(mono(60.0), T0, T0)
    assert (r.releasable_nrc, r.releasable_dose_rate, r.releasable) == (True, False, False)
    # 90 µSv/h: NRC > 5 mSv, and under a lenient 100 µSv/h limit
    lenient = DoseRateLimit("lenient", 100.0, 1.0, "test")
    r = assess_release(mono(90.0), T0, T0, dose_rate_limit=lenient)
    assert (r.releasable_nrc, r.releasable_dose_rate, r.releasable) == (False, True, False)


# --- refusals -----------------------------------------------------------------------------


def test_times_without_a_utc_offset_or_out_of_order_are_refused() -> None:
    c = mono(20.0)
    naive = datetime(2026, 3, 2, 9, 0)
    with pytest.raises(InvalidInputError) as info:
        assess_release(c, naive, T0)
    assert info.value.field == "administered_at"
    with pytest.raises(InvalidInputError) as info:
        assess_release(c, T0, naive)
    assert info.value.field == "measured_at"
    with pytest.raises(InvalidInputError) as info:
        assess_release(c, T0, T0 - timedelta(minutes=1))
    assert info.value.field == "measured_at"


@pytest.mark.parametrize(
    ("limit", "distance", "field"),
    [
        (0.0, 1.0, "release_limit.limit_usv_per_h"),
        (-25.0, 1.0, "release_limit.limit_usv_per_h"),
        (math.nan, 1.0, "release_limit.limit_usv_per_h"),
        (25.0, 100.0, "release_limit.distance_m"),  # centimetres for metres
        (25.0, 0.1, "release_limit.distance_m"),
    ],
    ids=["zero", "negative", "nan", "distance-100-(cm?)", "distance-0.1m"],
)
def test_dose_rate_limit_refuses_wrong_units(limit: float, distance: float, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        DoseRateLimit("bad", limit, distance, "test")
    assert info.value.field == field


def test_clearance_refuses_text_with_units_and_unknown_nuclide() -> None:
    with pytest.raises(InvalidInputError) as info:
        DoseRateClearance.from_activity("7.4 GBq")  # type: ignore[arg-type]
    assert info.value.field == "activity_bq"
    with pytest.raises(InvalidInputError) as info:
        DoseRateClearance("27 uSv/h", (1.0,), (159.5,))  # type: ignore[arg-type]
    assert info.value.field == "initial_dose_rate_usv_per_h"
    with pytest.raises(InvalidInputError) as info:
        DoseRateClearance.from_activity(7.4e9, dose_rate_usv_per_h_per_gbq=-3.7)
    assert info.value.field == "dose_rate_usv_per_h_per_gbq"
    with pytest.raises(InvalidInputError) as info:
        assess_release(mono(20.0), T0, T0, nuclide="Xx-999")
    assert info.value.field == "nuclide"


def test_release_to_dict_is_json_serialisable() -> None:
    r = assess_release(DoseRateClearance.from_activity(7.4e9), T0, T0)
    doc = json.loads(json.dumps(r.to_dict()))
    assert doc["nrc_dose_msv"] == pytest.approx(1.5724, abs=1e-4)
    assert doc["releasable_nrc"] is True
    assert doc["releasable_dose_rate"] is False  # 27.38 µSv/h > 25 µSv/h at administration
    assert doc["releasable"] is False
    assert doc["instructions_required"] is True
    assert doc["measured_at"] == "2026-03-02T09:00:00+00:00"
    assert datetime.fromisoformat(doc["release_time"]) == r.release_time
    assert doc["dose_rate_limit"]["limit_usv_per_h"] == 25.0
    assert "10 CFR 35.75" in doc["source"]


# --- instruction sheet --------------------------------------------------------------------

HEADINGS = [
    "Release from hospital",
    "Close contact: when each contact can resume",
    "At home",
    "Pregnancy, contraception and breastfeeding",
]


def sheet_for(activity_bq: float = 7.4e9, **kwargs: object) -> tuple[InstructionSheet, tuple]:
    c = DoseRateClearance.from_activity(activity_bq)
    restrictions = contact_restrictions(c, T0, treatments_per_year=4)
    sheet = instruction_sheet(assess_release(c, T0, T0), restrictions, administered_at=T0, **kwargs)
    return sheet, restrictions


def test_sheet_lists_each_group_with_its_longest_restriction_and_end_date() -> None:
    sheet, restrictions = sheet_for()
    assert [h for h, _ in sheet.sections] == HEADINGS
    contact = dict(sheet.sections)[HEADINGS[1]]
    groups = {r.pattern.group for r in restrictions}
    assert len(contact) == len(groups)
    for group in groups:
        worst = max((r for r in restrictions if r.pattern.group == group), key=lambda r: r.period_h)
        assert worst.period_h > 0  # 7.4 GBq, physical decay only: every group is restricted
        assert worst.ends_at == T0 + timedelta(hours=worst.period_h)
        until = f"avoid until {worst.ends_at:%a %d %b %Y, %H:%M} ({worst.period_days:.1f} days;"
        assert sum(until in item for item in contact) >= 1, until
    text = sheet.to_text()
    partner = max(
        (r for r in restrictions if r.pattern.group == "partner"), key=lambda r: r.period_h
    )
    assert f"{partner.period_days:.1f} days" in text


def test_sheet_says_no_restriction_for_a_negligible_dose_rate() -> None:
    c = DoseRateClearance(0.05, (1.0,), (10.0,), "test")
    restrictions = contact_restrictions(c, T0)
    sheet = instruction_sheet(assess_release(c, T0, T0), restrictions, administered_at=T0)
    contact = dict(sheet.sections)[HEADINGS[1]]
    assert contact
    assert all(item.endswith("no restriction needed.") for item in contact)
    release = " ".join(dict(sheet.sections)[HEADINGS[0]])
    assert "written instructions not required" in release


def test_sheet_release_section_carries_the_nrc_result() -> None:
    sheet, _ = sheet_for()
    release = " ".join(dict(sheet.sections)[HEADINGS[0]])
    assert "27.4 µSv/h" in release
    assert "1.57 mSv" in release
    assert "releasable under 10 CFR 35.75" in release
    assert "written instructions required" in release
    assert "25 µSv/h at 1 m, met from Tue 03 Mar 2026" in release  # 159.5 h × log2(27.38/25) ≈ 21 h


def test_sheet_dates_contraception_and_breastfeeding_from_the_last_dose() -> None:
    sheet, _ = sheet_for(last_dose=True)
    family = " ".join(dict(sheet.sections)[HEADINGS[3]])
    assert f"{T0 + timedelta(days=213):%d %b %Y}" in family  # 7 months (women, RP-4)
    assert f"{T0 + timedelta(days=122):%d %b %Y}" in family  # 4 months (men, RP-4)
    assert f"{T0 + timedelta(days=76):%d %b %Y}" in family  # 2.5 months (RP-5)
    end = datetime(2026, 6, 22, tzinfo=UTC).date()
    sheet, _ = sheet_for(course_last_dose_date=end)
    family = " ".join(dict(sheet.sections)[HEADINGS[3]])
    assert f"{end + timedelta(days=213):%d %b %Y}" in family
    sheet, _ = sheet_for()
    family = " ".join(dict(sheet.sections)[HEADINGS[3]])
    assert "7 months after the last dose" in family
    assert "2026" not in family


def test_sheet_home_rules_run_7_and_15_days_from_administration() -> None:
    sheet, _ = sheet_for()
    home = " ".join(dict(sheet.sections)[HEADINGS[2]])
    assert "Until Mon 09 Mar 2026, 09:00" in home  # 7 days (RP-3)
    assert "separate bedroom until Tue 17 Mar 2026, 09:00" in home  # 15 days (RP-3)


def test_sheet_to_text_has_title_headings_and_bullets() -> None:
    sheet, _ = sheet_for()
    lines = sheet.to_text().splitlines()
    assert lines[0] == "Radiation safety instructions after your treatment on 02 Mar 2026"
    assert lines[1] == "=" * len(lines[0])
    for heading in HEADINGS:
        i = lines.index(heading)
        assert lines[i - 1] == ""
        assert lines[i + 1] == "-" * len(heading)
        assert lines[i + 2].startswith("* ")
    n_items = sum(len(items) for _, items in sheet.sections)
    assert sum(line.startswith("* ") for line in lines) == n_items
    assert sheet.to_text().endswith("\n")


def test_sheet_to_dict_is_json_serialisable_and_matches_the_sections() -> None:
    sheet, _ = sheet_for(last_dose=True)
    doc = json.loads(json.dumps(sheet.to_dict(), ensure_ascii=False))
    assert doc["title"] == sheet.title
    assert [s["heading"] for s in doc["sections"]] == HEADINGS
    rebuilt = InstructionSheet(
        doc["title"], tuple((s["heading"], tuple(s["items"])) for s in doc["sections"])
    )
    assert rebuilt == sheet


def test_sheet_refuses_a_naive_administration_time() -> None:
    c = DoseRateClearance.from_activity(7.4e9)
    with pytest.raises(InvalidInputError) as info:
        instruction_sheet(assess_release(c, T0, T0), (), administered_at=datetime(2026, 3, 2, 9))
    assert info.value.field == "administered_at"


@pytest.mark.parametrize("activity", [7.4, 7.4e13])
def test_activity_in_the_wrong_unit_is_refused(activity: float) -> None:
    # 7.4 typed for 7.4 GBq (it would be 7.4 Bq), or 7.4e13 Bq (74 TBq)
    with pytest.raises(InvalidInputError, match="activity_bq"):
        DoseRateClearance.from_activity(activity)
