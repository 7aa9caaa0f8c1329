"""Schedules of each regimen against their published timing (clinical-rules.md §4.1, §4.5–4.7, §8)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from prrt.errors import InvalidInputError
from prrt.planning import EventKind, PatientFactors, get_regimen, plan_course

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PATIENT = PatientFactors(weight_kg=70.0, height_cm=175.0, peritoneal_or_mesenteric_disease=False)


def events(plan, kind, cycle=1):
    return [e for e in plan.cycles[cycle - 1].events if e.kind is kind]


def test_standard_course_is_four_by_7_4_gbq_every_8_weeks():
    plan = plan_course(get_regimen("LUTATHERA_STANDARD"), T0, PATIENT)
    assert len(plan.cycles) == 4  # DOSE-1
    gaps = [(b - a).days for a, b in zip(plan.prrt_dates, plan.prrt_dates[1:], strict=False)]
    assert gaps == [56, 56, 56]
    assert sum(c.activities_bq["Lu-177"] for c in plan.cycles) == pytest.approx(29.6e9)


def test_premedication_timing_eu():
    plan = plan_course(get_regimen("LUTATHERA_STANDARD"), T0, PATIENT)
    (aa,) = events(plan, EventKind.AMINO_ACIDS)
    (ae,) = events(plan, EventKind.ANTIEMETIC)
    (prrt,) = events(plan, EventKind.PRRT)
    assert aa.start == T0 - timedelta(minutes=30)  # AA-2: 30 min before
    assert aa.end - aa.start == timedelta(hours=4)  # EU: 4 h at 250 mL/h
    assert "250 mL/h" in aa.details
    assert ae.start < aa.start  # AE-1: antiemetic before the amino acids
    assert prrt.end - prrt.start == timedelta(minutes=30)  # DOSE-4
    (obs,) = events(plan, EventKind.OBSERVATION)
    assert obs.end - prrt.end >= timedelta(hours=2)  # DOSE-5


def test_amino_acids_us_continue_three_hours_after_infusion():
    plan = plan_course(get_regimen("LUTATHERA_STANDARD"), T0, PATIENT, amino_acid_protocol="US")
    (aa,) = events(plan, EventKind.AMINO_ACIDS)
    assert aa.end - (T0 + timedelta(minutes=30)) >= timedelta(hours=3)  # AA-2 US


def test_ssa_timing():
    plan = plan_course(get_regimen("LUTATHERA_STANDARD"), T0, PATIENT)
    (washout,) = events(plan, EventKind.SSA_WASHOUT)
    assert washout.end - washout.start == timedelta(weeks=4)  # SSA-1
    (short,) = events(plan, EventKind.SSA_SHORT_ACTING_STOP)
    assert T0 - short.start == timedelta(hours=24)
    (lar,) = events(plan, EventKind.SSA_LONG_ACTING)
    assert (lar.start - T0, lar.end - T0) == (timedelta(hours=4), timedelta(hours=24))  # SSA-2
    assert not events(plan, EventKind.SSA_WASHOUT, cycle=2)
    maintenance = [e for e in plan.course_events if e.kind is EventKind.SSA_LONG_ACTING]
    assert maintenance[-1].start <= T0 + timedelta(days=18 * 30.4375)  # SSA-3: up to 18 months
    gaps = {(b.start - a.start) for a, b in itertools.pairwise(maintenance)}
    assert gaps == {timedelta(weeks=4)}


def test_first_dose_respects_ssa_washout():
    with pytest.raises(InvalidInputError, match=r"first_administration.*2026-03-10"):
        plan_course(
            get_regimen("LUTATHERA_STANDARD"),
            T0,
            PatientFactors(last_long_acting_ssa=date(2026, 2, 10)),
        )
    with pytest.raises(InvalidInputError, match="24 h"):
        plan_course(
            get_regimen("LUTATHERA_STANDARD"),
            T0,
            PatientFactors(last_short_acting_ssa=T0 - timedelta(hours=12)),
        )


def test_labs_window_and_nadir():
    plan = plan_course(get_regimen("LUTATHERA_STANDARD"), T0, PATIENT)
    labs = events(plan, EventKind.LABS)
    window = labs[0]
    assert (T0 - window.start, T0 - window.end) == (timedelta(days=28), timedelta(days=14))  # MON-1
    nadir = [e for e in labs if "nadir" in e.title]
    assert nadir[0].start - T0 == timedelta(weeks=5)


def test_steroids_only_with_peritoneal_disease():
    plain = plan_course(get_regimen("LUTATHERA_STANDARD"), T0, PATIENT)
    assert not events(plain, EventKind.STEROIDS)
    peritoneal = plan_course(
        get_regimen("LUTATHERA_STANDARD"), T0, PatientFactors(peritoneal_or_mesenteric_disease=True)
    )
    (st,) = events(peritoneal, EventKind.STEROIDS)
    assert st.start == T0
    assert st.end - st.start == timedelta(weeks=2)
    unknown = plan_course(get_regimen("LUTATHERA_STANDARD"), T0)
    assert any("not assessed" in w for w in unknown.warnings)


def test_imaging_time_points():
    plan = plan_course(get_regimen("LUTATHERA_STANDARD"), T0, PATIENT)
    hours = [(e.start - T0) / timedelta(hours=1) for e in events(plan, EventKind.IMAGING)]
    assert hours == [4.0, 24.0, 96.0, 168.0]


def test_dosimetry_guided_allows_up_to_eight_cycles():
    reg = get_regimen("DOSIMETRY_GUIDED")
    assert len(plan_course(reg, T0, PATIENT, cycles=8).cycles) == 8
    with pytest.raises(InvalidInputError, match="cycles"):
        plan_course(reg, T0, PATIENT, cycles=9)


def test_retreatment_two_cycles_8_to_12_weeks():
    reg = get_regimen("RETREATMENT")
    plan = plan_course(reg, T0, PATIENT)
    assert len(plan.cycles) == 2
    assert plan.intent.value == "retreatment"
    assert len(plan_course(reg, T0, PATIENT, interval_days=84).cycles) == 2
    with pytest.raises(InvalidInputError, match="interval_days"):
        plan_course(reg, T0, PATIENT, interval_days=91)


def test_tandem_is_1_to_1_at_3_7_gbq_per_m2():
    plan = plan_course(get_regimen("TANDEM_Y90_LU177"), T0, PATIENT)
    bsa = PATIENT.bsa_m2
    acts = plan.cycles[0].activities_bq
    assert acts["Y-90"] == pytest.approx(acts["Lu-177"])  # COMBO-1 1:1
    assert acts["Y-90"] + acts["Lu-177"] == pytest.approx(3.7e9 * bsa)
    with pytest.raises(InvalidInputError, match=r"patient\.height"):
        plan_course(get_regimen("TANDEM_Y90_LU177"), T0, PatientFactors(weight_kg=70.0))


def test_captem_prrt_claringbold_days():
    plan = plan_course(get_regimen("CAPTEM_PRRT"), T0, PATIENT)
    cape, tmz = events(plan, EventKind.CHEMOTHERAPY)
    day1 = T0.date() - timedelta(days=9)  # PRRT on day 10
    assert cape.start.date() == day1
    assert (cape.end.date() - cape.start.date()).days == 14
    assert tmz.start.date() == day1 + timedelta(days=9)  # days 10-14
    assert (tmz.end.date() - tmz.start.date()).days == 5
    assert plan.cycles[0].activities_bq["Lu-177"] == pytest.approx(7.8e9)
    assert "mg/day" in cape.details
    assert "1500 mg/m²/day" in cape.details


def test_capecitabine_prrt_and_sandwich():
    cap = plan_course(get_regimen("CAPECITABINE_PRRT"), T0, PATIENT)
    (c,) = events(cap, EventKind.CHEMOTHERAPY)
    assert c.start.date() == T0.date()
    assert (c.end.date() - c.start.date()).days == 14
    sandwich = plan_course(get_regimen("SANDWICH_CAPTEM"), T0, PATIENT)
    cape, tmz = events(sandwich, EventKind.CHEMOTHERAPY)
    nxt = sandwich.cycles[1].prrt_start
    assert T0 < cape.start < nxt
    assert tmz.end < nxt


def test_alpha_emitters_per_kg():
    pb = plan_course(get_regimen("PB212_DOTAMTATE"), T0, PATIENT)
    assert pb.cycles[0].activities_bq["Pb-212"] == pytest.approx(2.5e6 * 70)  # 2.50 MBq/kg
    ac = plan_course(get_regimen("AC225_DOTATATE"), T0, PATIENT)
    assert ac.cycles[0].activities_bq["Ac-225"] == pytest.approx(100e3 * 70)
    with pytest.raises(InvalidInputError, match=r"patient\.weight"):
        plan_course(get_regimen("PB212_DOTAMTATE"), T0)


def test_bad_input():
    with pytest.raises(InvalidInputError, match="UTC offset"):
        plan_course(get_regimen("LUTATHERA_STANDARD"), datetime(2026, 3, 2, 9))
    with pytest.raises(InvalidInputError, match="intent"):
        plan_course(get_regimen("LUTATHERA_STANDARD"), T0, intent="curative")
    with pytest.raises(InvalidInputError, match="prior_hypersensitivity_grade"):
        plan_course(
            get_regimen("LUTATHERA_STANDARD"), T0, PatientFactors(prior_hypersensitivity_grade=3)
        )
    with pytest.raises(InvalidInputError, match="regimen"):
        get_regimen("lutathera-6x")


def test_neoadjuvant_intent_recorded_and_premedication_after_grade_2_reaction():
    plan = plan_course(
        get_regimen("LUTATHERA_STANDARD"),
        T0,
        PatientFactors(prior_hypersensitivity_grade=2),
        intent="neoadjuvant",
    )
    assert plan.to_dict()["intent"] == "neoadjuvant"
    assert events(plan, EventKind.PREMEDICATION)


def test_hour_based_events_are_elapsed_time_across_daylight_saving():
    from zoneinfo import ZoneInfo

    # 2026-03-26 09:00 CET; the clocks go forward on 2026-03-29: 96 h later is 10:00 CEST
    t0 = datetime(2026, 3, 26, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    plan = plan_course(get_regimen("LUTATHERA_STANDARD"), t0, PATIENT, cycles=1)
    imaging = [e for e in plan.cycles[0].events if e.kind is EventKind.IMAGING]
    # same tzinfo: Python subtracts wall clocks, so compare in UTC
    elapsed_h = [
        (e.start.astimezone(UTC) - t0.astimezone(UTC)).total_seconds() / 3600 for e in imaging
    ]
    assert elapsed_h == [4.0, 24.0, 96.0, 168.0]
    assert imaging[2].start.hour == 10
    assert imaging[2].start.utcoffset() == timedelta(hours=2)
