"""Unit tests of prrt.clinical.dose_modification (clinical-rules.md §4.3-§4.4, §10, §11).

Every DMT threshold is tested just below, at and just above it (test names carry the rule id);
every edge case listed in §4.4 has its own test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from prrt.clinical.dose_modification import (
    DEFAULT_SETTINGS,
    Administration,
    CourseBaseline,
    CourseHistory,
    CycleAssessment,
    Decision,
    DmtCategory,
    DoseModificationSettings,
    Episode,
    HypersensitivityAction,
    LabPanel,
    RecurrentReading,
    RenalResolution,
    SixteenWeekReading,
    Toxicity,
    next_cycle_decision,
    replay_course,
)
from prrt.clinical.outcome import Status
from prrt.clinical.renal import Sex
from prrt.errors import InvalidInputError

DAY0 = date(2026, 1, 5)
FULL_BQ = 7.4e9
REDUCED_BQ = 3.7e9

# Normal panel; male 60 y, 72 kg, creatinine 88.4 µmol/L -> Cockcroft-Gault CrCl = 80.0 mL/min exactly.
NORMAL = LabPanel(
    haemoglobin_g_per_l=130.0,
    platelets_10e9_per_l=200.0,
    neutrophils_10e9_per_l=3.0,
    lymphocytes_10e9_per_l=1.5,
    white_cells_10e9_per_l=6.0,
    creatinine_umol_per_l=88.4,
    bilirubin_umol_per_l=10.0,
    bilirubin_uln_umol_per_l=20.0,
    albumin_g_per_l=40.0,
    prothrombin_percent=95.0,
    inr=1.0,
    ast_u_per_l=25.0,
    ast_uln_u_per_l=40.0,
    alt_u_per_l=25.0,
    alt_uln_u_per_l=40.0,
)
BASELINE = CourseBaseline(Sex.MALE, NORMAL, weight_kg=72.0, age_years=60.0)


def history(*activities_bq, days=None, baseline=BASELINE, episodes=()):
    days = days or [56 * i for i in range(len(activities_bq))]
    admins = tuple(
        Administration(i + 1, DAY0 + timedelta(days=d), a)
        for i, (d, a) in enumerate(zip(days, activities_bq, strict=True))
    )
    return CourseHistory(baseline, admins, tuple(episodes))


def assess(day, *, labs=None, worst=None, weight=72.0, tox=(), pregnant=False, mds=False, **kw):
    labs = labs or NORMAL
    return CycleAssessment(
        DAY0 + timedelta(days=day),
        labs,
        worst_since_last_dose=labs if worst is None else worst,
        weight_kg=weight,
        age_years=60.0,
        toxicities=tox,
        pregnant=pregnant,
        mds_or_aml=mds,
        **kw,
    )


def decide(current, hist=None, settings=DEFAULT_SETTINGS):
    return next_cycle_decision(hist or history(FULL_BQ), current, settings)


def lab(**changes):
    return replace(NORMAL, **changes)


# ------------------------------------------------------------------ CYC-5 / CYC-0 / cycle 1


def test_cyc_5_full_dose_without_toxicity():
    d = decide(assess(56))
    assert d.decision is Decision.FULL
    assert d.activity_bq == FULL_BQ
    assert d.reason_codes == ("CYC-5-FULL",)
    assert d.cycle_number == 2
    assert d.weeks_since_last_dose == 8.0
    assert d.crcl_ml_per_min == 80.0
    assert all(o.status is Status.PASS for o in d.outcomes)


def test_cyc_0_four_doses_complete_the_course():
    d = decide(assess(230), history(FULL_BQ, FULL_BQ, FULL_BQ, FULL_BQ))
    assert d.decision is Decision.COURSE_COMPLETE
    assert d.reason_codes == ("CYC-0-FOUR-DOSES",)
    assert d.activity_bq is None


def test_cycle_1_uses_current_values_and_withholds_when_a_dmt_is_present():
    base_hist = CourseHistory(BASELINE)
    assert next_cycle_decision(base_hist, assess(0, worst=None)).decision is Decision.FULL
    d = next_cycle_decision(base_hist, assess(0, labs=lab(platelets_10e9_per_l=60.0)))
    assert d.decision is Decision.WITHHOLD
    assert d.reason_codes == ("CYC-2-WITHHOLD-THROMBOCYTOPENIA",)
    assert d.weeks_left is None


# ------------------------------------------------------------------ thresholds of each category

ACTIVE_CASES = [
    # (rule id, changes to current labs, DMT expected)
    ("DMT-PLT-LT75", {"platelets_10e9_per_l": 74.9}, True),
    ("DMT-PLT-LT75", {"platelets_10e9_per_l": 75.0}, False),
    ("DMT-PLT-LT75", {"platelets_10e9_per_l": 75.1}, False),
    ("DMT-HB-LT80", {"haemoglobin_g_per_l": 79.9}, True),
    ("DMT-HB-LT80", {"haemoglobin_g_per_l": 80.0}, False),
    ("DMT-HB-LT80", {"haemoglobin_g_per_l": 80.1}, False),
    ("DMT-ANC-LT1", {"neutrophils_10e9_per_l": 0.99}, True),
    ("DMT-ANC-LT1", {"neutrophils_10e9_per_l": 1.0}, False),
    ("DMT-ANC-LT1", {"neutrophils_10e9_per_l": 1.01}, False),
    # bilirubin ULN 20 -> 3 x ULN = 60
    ("DMT-BILI-GT3ULN", {"bilirubin_umol_per_l": 59.9}, False),
    ("DMT-BILI-GT3ULN", {"bilirubin_umol_per_l": 60.0}, False),
    ("DMT-BILI-GT3ULN", {"bilirubin_umol_per_l": 60.1}, True),
    # albumin < 30 g/L together with PT activity < 70 %
    ("DMT-ALB-LT30", {"albumin_g_per_l": 29.9, "prothrombin_percent": 60.0}, True),
    ("DMT-ALB-LT30", {"albumin_g_per_l": 30.0, "prothrombin_percent": 60.0}, False),
    ("DMT-ALB-LT30", {"albumin_g_per_l": 30.1, "prothrombin_percent": 60.0}, False),
    ("DMT-PT-LT70", {"albumin_g_per_l": 25.0, "prothrombin_percent": 69.9}, True),
    ("DMT-PT-LT70", {"albumin_g_per_l": 25.0, "prothrombin_percent": 70.0}, False),
    ("DMT-PT-LT70", {"albumin_g_per_l": 25.0, "prothrombin_percent": 70.1}, False),
    # INR fallback (PT % not given): INR > 1.5
    ("DMT-INR-GT", {"albumin_g_per_l": 25.0, "prothrombin_percent": None, "inr": 1.49}, False),
    ("DMT-INR-GT", {"albumin_g_per_l": 25.0, "prothrombin_percent": None, "inr": 1.5}, False),
    ("DMT-INR-GT", {"albumin_g_per_l": 25.0, "prothrombin_percent": None, "inr": 1.51}, True),
    # AST/ALT grade 3 (> 5 x ULN 40 = 200 U/L) -> OTHER_NONHAEMATOLOGICAL
    ("DMT-AST-G3", {"ast_u_per_l": 199.9}, False),
    ("DMT-AST-G3", {"ast_u_per_l": 200.0}, False),
    ("DMT-AST-G3", {"ast_u_per_l": 200.1}, True),
    ("DMT-ALT-G3", {"alt_u_per_l": 199.9}, False),
    ("DMT-ALT-G3", {"alt_u_per_l": 200.0}, False),
    ("DMT-ALT-G3", {"alt_u_per_l": 200.1}, True),
]


@pytest.mark.parametrize(
    ("rule_id", "changes", "dmt"),
    ACTIVE_CASES,
    ids=[
        f"{r}-{'-'.join(f'{v:g}' for v in c.values() if v is not None)}" for r, c, _ in ACTIVE_CASES
    ],
)
def test_dmt_thresholds_below_at_above(rule_id, changes, dmt):
    d = decide(assess(56, labs=lab(**changes)))
    outcome = next(o for o in d.outcomes if o.rule_id == rule_id and "labs" in o.message)
    assert outcome.status is (Status.FAIL if dmt else Status.PASS)
    assert d.decision is (Decision.WITHHOLD if dmt else Decision.FULL)
    if dmt:
        assert d.reason_codes[0].startswith("CYC-2-WITHHOLD-")


def test_dmt_albumin_exactly_30_ignores_a_high_inr():
    # §3.4 / §4.4: albumin rule is "< 30"; INR 3.0 alone is no hepatic DMT
    d = decide(assess(56, labs=lab(albumin_g_per_l=30.0, prothrombin_percent=None, inr=3.0)))
    assert d.decision is Decision.FULL


def test_dmt_hepatic_category_name_in_reason_code():
    d = decide(assess(56, labs=lab(bilirubin_umol_per_l=61.0)))
    assert d.reason_codes == ("CYC-2-WITHHOLD-HEPATIC",)
    assert "3 x ULN 20" in d.reasons[0]


# Renal. Male, 60 y, 72 kg: CrCl = 80 x 72 x 88.4 / (72 x Scr) = 7072 / Scr (µmol/L).
RENAL_BASE_130 = CourseBaseline(Sex.MALE, lab(creatinine_umol_per_l=130.0), 72.0, 60.0)  # CrCl 54.4


@pytest.mark.parametrize(
    ("creatinine", "dmt"),
    [(177.3, True), (176.8, False), (176.3, False)],  # CrCl 39.9 / 40.0 / 40.1
)
def test_dmt_crcl_lt40_below_at_above(creatinine, dmt):
    d = decide(
        assess(56, labs=lab(creatinine_umol_per_l=creatinine)),
        history(FULL_BQ, baseline=RENAL_BASE_130),
    )
    crcl = next(o for o in d.outcomes if o.rule_id == "DMT-CRCL-LT40" and "labs" in o.message)
    assert crcl.observed == {177.3: 39.9, 176.8: 40.0, 176.3: 40.1}[creatinine]
    ratio = next(
        o for o in d.outcomes if o.rule_id == "DMT-SCR-RISE-GE40PCT" and "labs" in o.message
    )
    assert ratio.status is Status.PASS  # isolates the CrCl rule (ratio < 1.4)
    assert d.decision is (Decision.WITHHOLD if dmt else Decision.FULL)


@pytest.mark.parametrize(("creatinine", "dmt"), [(139.9, False), (140.0, True), (140.1, True)])
def test_dmt_scr_rise_ge40pct_below_at_above(creatinine, dmt):
    # baseline 100 µmol/L: ratio >= 1.40 is a DMT ("40 % increase" implemented as ratio >= 1.40)
    base = CourseBaseline(Sex.MALE, lab(creatinine_umol_per_l=100.0), 72.0, 60.0)
    d = decide(
        assess(56, labs=lab(creatinine_umol_per_l=creatinine)), history(FULL_BQ, baseline=base)
    )
    assert d.decision is (Decision.WITHHOLD if dmt else Decision.FULL)
    assert (d.reason_codes == ("CYC-2-WITHHOLD-RENAL",)) is dmt


@pytest.mark.parametrize(("weight", "dmt"), [(43.11, True), (43.2, True), (43.29, False)])
def test_dmt_crcl_fall_ge40pct_below_at_above(weight, dmt):
    # baseline CrCl 80.0 -> limit 0.60 x 80 = 48.0 mL/min; weight 43.2 kg gives 48.0 exactly
    d = decide(assess(56, weight=weight))
    fall = next(
        o for o in d.outcomes if o.rule_id == "DMT-CRCL-FALL-GE40PCT" and "labs" in o.message
    )
    assert fall.threshold == 48.0
    assert fall.observed == {43.11: 47.9, 43.2: 48.0, 43.29: 48.1}[weight]
    assert d.decision is (Decision.WITHHOLD if dmt else Decision.FULL)


def test_renal_3_unrounded_crcl_39_95_rounds_to_40_and_is_no_dmt():
    # Scr such that 7072 / Scr = 39.95 -> displayed 40.0 -> not < 40 (thresholds on the rounded value)
    d = decide(
        assess(56, labs=lab(creatinine_umol_per_l=7072 / 39.95)),
        history(FULL_BQ, baseline=RENAL_BASE_130),
    )
    assert d.crcl_ml_per_min == 40.0
    assert d.decision is Decision.FULL


# ------------------------------------------------------------------ CYC-3 / CYC-4


def test_cyc_3_nadir_only_dmt_recovered_by_the_scheduled_date_reduces():
    d = decide(assess(56, worst=lab(platelets_10e9_per_l=60.0)))
    assert d.decision is Decision.REDUCE
    assert d.activity_bq == REDUCED_BQ
    assert d.reason_codes == ("CYC-3-REDUCE-THROMBOCYTOPENIA",)
    assert d.occurred == {DmtCategory.THROMBOCYTOPENIA}
    assert d.active == frozenset()


def test_cyc_4_reescalate_after_reduced_dose_without_dmt():
    d = decide(assess(126), history(FULL_BQ, REDUCED_BQ, days=[0, 70]))
    assert d.decision is Decision.FULL
    assert d.reason_codes == ("CYC-4-REESCALATE",)
    assert d.activity_bq == FULL_BQ


def test_cyc_2_withhold_reports_weeks_left_to_16():
    d = decide(assess(70, labs=lab(platelets_10e9_per_l=60.0)))
    assert d.decision is Decision.WITHHOLD
    assert d.weeks_left == 6.0
    assert d.activity_bq is None


def test_lymphopenia_grade_4_alone_is_not_dose_modifying():
    labs = lab(lymphocytes_10e9_per_l=0.1)
    tox = (Toxicity("Lymphocyte count decreased", worst_grade=4, current_grade=4),)
    d = decide(assess(56, labs=labs, tox=tox))
    assert d.decision is Decision.FULL


# ------------------------------------------------------------------ CYC-1 stop rules


def test_cyc_1_recurrent_same_category_stops():
    hist = history(
        FULL_BQ, REDUCED_BQ, days=[0, 70], episodes=[Episode(DmtCategory.THROMBOCYTOPENIA, 1)]
    )
    d = decide(assess(126, worst=lab(platelets_10e9_per_l=70.0)), hist)
    assert d.decision is Decision.STOP
    assert d.reason_codes == ("CYC-1-RECURRENT-THROMBOCYTOPENIA",)


def test_cyc_1_different_categories_are_independent():
    hist = history(
        FULL_BQ, REDUCED_BQ, days=[0, 70], episodes=[Episode(DmtCategory.THROMBOCYTOPENIA, 1)]
    )
    d = decide(
        assess(126, worst=lab(creatinine_umol_per_l=130.0)), hist
    )  # ratio 1.47: first renal episode
    assert d.decision is Decision.REDUCE
    assert d.reason_codes == ("CYC-3-REDUCE-RENAL",)


def test_same_interval_recheck_is_not_a_recurrence():
    # an episode recorded in the current interval (after dose 1) is the same episode
    hist = history(FULL_BQ, episodes=[Episode(DmtCategory.THROMBOCYTOPENIA, 1)])
    d = decide(assess(70, worst=lab(platelets_10e9_per_l=60.0)), hist)
    assert d.decision is Decision.REDUCE
    # and it still forces the reduction when the re-check panel no longer shows the nadir
    assert decide(assess(77), hist).decision is Decision.REDUCE


@pytest.mark.parametrize(
    ("day", "expected", "code"),
    [
        (111, Decision.WITHHOLD, "CYC-2-WITHHOLD-THROMBOCYTOPENIA"),  # 15.86 weeks
        (
            112,
            Decision.STOP,
            "CYC-1-UNRESOLVED-AT-16W-THROMBOCYTOPENIA",
        ),  # exactly 16 weeks (>= 16)
        (113, Decision.STOP, "CYC-1-UNRESOLVED-AT-16W-THROMBOCYTOPENIA"),
    ],
)
def test_cyc_1_unresolved_at_16w_below_at_above(day, expected, code):
    d = decide(assess(day, labs=lab(platelets_10e9_per_l=60.0)))
    assert d.decision is expected
    assert d.reason_codes[0] == code


@pytest.mark.parametrize(
    ("day", "expected", "code"),
    [
        (111, Decision.REDUCE, "CYC-3-REDUCE-THROMBOCYTOPENIA"),
        (
            112,
            Decision.REDUCE,
            "CYC-3-REDUCE-THROMBOCYTOPENIA",
        ),  # resolved at exactly 16 weeks: not > 16
        (113, Decision.STOP, "CYC-1-INTERVAL-GT16W"),  # 16.14 weeks after a DMT
    ],
)
def test_cyc_1_interval_gt16w_below_at_above(day, expected, code):
    d = decide(assess(day, worst=lab(platelets_10e9_per_l=60.0)))
    assert d.decision is expected
    assert d.reason_codes == (code,)


def test_interval_beyond_16_weeks_without_any_dmt_is_a_full_dose():
    assert decide(assess(130)).decision is Decision.FULL


@pytest.mark.parametrize(
    ("field", "code"), [("pregnant", "CYC-1-PREGNANCY"), ("mds", "CYC-1-MDS-AML-POLICY")]
)
def test_cyc_1_policy_stops(field, code):
    d = decide(assess(56, **{field: True}))
    assert d.decision is Decision.STOP
    assert d.reason_codes == (code,)


@pytest.mark.parametrize("term", ["Anaphylaxis", "allergic reaction", "Hypersensitivity"])
def test_cyc_1_hypersensitivity_grade_3_stops_by_default(term):
    d = decide(assess(56, tox=(Toxicity(term, worst_grade=3, current_grade=0),)))
    assert d.decision is Decision.STOP
    assert d.reason_codes == ("CYC-1-HYPERSENSITIVITY-G3",)


def test_hypersensitivity_grade_2_is_no_dmt_and_grade_3_withhold_reduce_setting():
    assert decide(assess(56, tox=(Toxicity("anaphylaxis", 2, 0),))).decision is Decision.FULL
    settings = DoseModificationSettings(
        hypersensitivity_grade3_action=HypersensitivityAction.WITHHOLD_REDUCE
    )
    d = decide(assess(56, tox=(Toxicity("anaphylaxis", 3, 0),)), settings=settings)
    assert d.decision is Decision.REDUCE
    assert d.reason_codes == ("CYC-3-REDUCE-OTHER_NONHAEMATOLOGICAL",)


@pytest.mark.parametrize(
    ("worst", "current", "related", "expected"),
    [
        (2, 0, True, Decision.FULL),
        (3, 0, True, Decision.REDUCE),
        (3, 2, True, Decision.REDUCE),  # resolution to grade 0-2
        (3, 3, True, Decision.WITHHOLD),
        (4, 4, False, Decision.FULL),  # not related
        (3, None, True, Decision.INDETERMINATE),  # still active? unknown
    ],
)
def test_other_nonhaematological_grade_3_vomiting(worst, current, related, expected):
    d = decide(assess(56, tox=(Toxicity("Vomiting", worst, current, related),)))
    assert d.decision is expected


# ------------------------------------------------------------------ settings of §11


def test_eu_smpc_2017_counts_isolated_leukopenia_grade_3():
    eu = DoseModificationSettings(profile="EU_SMPC_2017", any_haematological_grade3=True)
    labs = lab(white_cells_10e9_per_l=1.9)
    assert decide(assess(56, labs=labs)).decision is Decision.FULL
    d = decide(assess(56, labs=labs), settings=eu)
    assert d.decision is Decision.WITHHOLD
    assert d.reason_codes == ("CYC-2-WITHHOLD-ANAEMIA_NEUTROPENIA",)
    assert d.profile == "EU_SMPC_2017"
    assert (
        decide(assess(56, labs=lab(white_cells_10e9_per_l=2.0)), settings=eu).decision
        is Decision.FULL
    )


def test_uspi_delay_reading_allows_up_to_24_weeks():
    delay = DoseModificationSettings(
        profile="USPI_DELAY_READING", sixteen_week_reading=SixteenWeekReading.DELAY_BEYOND_SCHEDULE
    )
    worst = lab(platelets_10e9_per_l=60.0)
    assert decide(assess(140, worst=worst)).decision is Decision.STOP  # 20 weeks, default
    assert decide(assess(140, worst=worst), settings=delay).decision is Decision.REDUCE
    active = lab(platelets_10e9_per_l=60.0)
    d = decide(assess(140, labs=active), settings=delay)
    assert (d.decision, d.weeks_left) == (Decision.WITHHOLD, 4.0)
    assert decide(assess(168, labs=active), settings=delay).decision is Decision.STOP  # delay 16 w
    assert decide(assess(169, worst=worst), settings=delay).reason_codes == (
        "CYC-1-INTERVAL-GT16W",
    )


def test_recurrent_reading_on_reduced_dose():
    # dose 1 full -> thrombocytopenia -> dose 2 reduced -> dose 3 re-escalated full -> thrombocytopenia again
    hist = history(
        FULL_BQ,
        REDUCED_BQ,
        FULL_BQ,
        days=[0, 70, 126],
        episodes=[Episode(DmtCategory.THROMBOCYTOPENIA, 1)],
    )
    worst = lab(platelets_10e9_per_l=60.0)
    assert decide(assess(182, worst=worst), hist).decision is Decision.STOP
    reading = DoseModificationSettings(recurrent_reading=RecurrentReading.ON_REDUCED_DOSE)
    assert decide(assess(182, worst=worst), hist, reading).decision is Decision.REDUCE
    # recurrence right after the reduced dose stops under both readings
    hist2 = history(
        FULL_BQ, REDUCED_BQ, days=[0, 70], episodes=[Episode(DmtCategory.THROMBOCYTOPENIA, 1)]
    )
    assert decide(assess(126, worst=worst), hist2, reading).decision is Decision.STOP


def test_renal_resolution_creatinine_to_baseline_is_stricter():
    base = CourseBaseline(Sex.MALE, lab(creatinine_umol_per_l=100.0), 72.0, 60.0)
    hist = history(FULL_BQ, baseline=base)
    worst = lab(creatinine_umol_per_l=145.0)  # ratio 1.45: renal DMT occurred
    strict = DoseModificationSettings(renal_resolution=RenalResolution.CREATININE_TO_BASELINE)
    assert (
        decide(assess(56, labs=lab(creatinine_umol_per_l=120.0), worst=worst), hist).decision
        is Decision.REDUCE
    )
    d = decide(assess(56, labs=lab(creatinine_umol_per_l=120.0), worst=worst), hist, strict)
    assert d.decision is Decision.WITHHOLD
    assert d.reason_codes == ("CYC-2-WITHHOLD-RENAL",)
    # 1.1 x baseline = 110: at -> resolved; just above -> not yet
    assert (
        decide(
            assess(56, labs=lab(creatinine_umol_per_l=110.0), worst=worst), hist, strict
        ).decision
        is Decision.REDUCE
    )
    assert (
        decide(
            assess(56, labs=lab(creatinine_umol_per_l=110.1), worst=worst), hist, strict
        ).decision
        is Decision.WITHHOLD
    )


def test_inr_fallback_off_leaves_hepatic_rule_indeterminate():
    labs = lab(albumin_g_per_l=25.0, prothrombin_percent=None, inr=1.2)
    d = decide(assess(56, labs=labs), settings=DoseModificationSettings(inr_fallback=False))
    assert d.decision is Decision.INDETERMINATE
    assert "labs.prothrombin_percent" in d.missing
    assert DmtCategory.HEPATIC in d.undetermined


def test_timing_earliest_next_dose_at_7_weeks():
    d = decide(assess(48))  # 6.86 weeks
    assert d.decision is Decision.WITHHOLD
    assert d.reason_codes == ("CYC-TIMING-TOO-EARLY",)
    assert decide(assess(49)).decision is Decision.FULL  # exactly 7 weeks


# ------------------------------------------------------------------ missing data


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"labs": replace(NORMAL, platelets_10e9_per_l=None)}, "labs.platelets_10e9_per_l"),
        ({"worst": None, "no_worst": True}, "worst_since_last_dose"),
        ({"tox": None}, "toxicities"),
        ({"pregnant": None}, "pregnant"),
        ({"mds": None}, "mds_or_aml"),
        ({"weight": None}, "weight_kg"),
        ({"labs": replace(NORMAL, bilirubin_uln_umol_per_l=None)}, "labs.bilirubin_uln_umol_per_l"),
        ({"labs": replace(NORMAL, ast_u_per_l=None)}, "labs.ast_u_per_l"),
    ],
)
def test_missing_input_gives_indeterminate_never_full(kwargs, missing):
    no_worst = kwargs.pop("no_worst", False)
    current = assess(56, **kwargs)
    if no_worst:
        current = replace(current, worst_since_last_dose=None)
    d = decide(current)
    assert d.decision is Decision.INDETERMINATE
    assert d.reason_codes == ("CYC-DATA-MISSING",)
    assert missing in d.missing
    assert d.activity_bq is None


def test_missing_data_does_not_hide_a_certain_stop_or_withhold():
    partial = replace(NORMAL, platelets_10e9_per_l=None)
    assert decide(assess(56, labs=partial, pregnant=True)).decision is Decision.STOP
    d = decide(assess(56, labs=replace(partial, haemoglobin_g_per_l=70.0)))
    assert d.decision is Decision.WITHHOLD
    assert d.reason_codes == ("CYC-2-WITHHOLD-ANAEMIA_NEUTROPENIA",)


def test_worst_values_can_be_waived_by_setting():
    current = replace(assess(56), worst_since_last_dose=None)
    lax = DoseModificationSettings(require_worst_since_last_dose=False)
    assert decide(current, settings=lax).decision is Decision.FULL


# ------------------------------------------------------------------ course replay


def _visit(day, labs=NORMAL, worst=None):
    return assess(day, labs=labs, worst=worst)


def test_replay_course_withhold_reduce_reescalate_complete():
    visits = [
        _visit(0),
        _visit(56, labs=lab(platelets_10e9_per_l=60.0)),  # withhold
        _visit(70, worst=lab(platelets_10e9_per_l=60.0)),  # recovered: reduce
        _visit(126),  # clean interval after 3.7 GBq: re-escalate
        _visit(182),
        _visit(238),
    ]
    r = replay_course(BASELINE, visits)
    assert [d.decision for d in r.decisions] == [
        Decision.FULL,
        Decision.WITHHOLD,
        Decision.REDUCE,
        Decision.FULL,
        Decision.FULL,
        Decision.COURSE_COMPLETE,
    ]
    assert r.decisions[3].reason_codes == ("CYC-4-REESCALATE",)
    assert [a.activity_bq for a in r.administrations] == [FULL_BQ, REDUCED_BQ, FULL_BQ, FULL_BQ]
    assert r.cumulative_activity_bq == pytest.approx(3 * FULL_BQ + REDUCED_BQ)
    assert r.episodes == (Episode(DmtCategory.THROMBOCYTOPENIA, 1),)


def test_replay_course_recurrence_stops_and_ignores_later_visits():
    visits = [
        _visit(0),
        _visit(56, worst=lab(platelets_10e9_per_l=60.0)),  # reduce
        _visit(112, worst=lab(platelets_10e9_per_l=70.0)),  # recurrent -> stop
        _visit(168),
    ]
    r = replay_course(BASELINE, visits)
    assert r.final is not None
    assert r.final.decision is Decision.STOP
    assert r.final.reason_codes == ("CYC-1-RECURRENT-THROMBOCYTOPENIA",)
    assert r.not_evaluated == 1
    assert len(r.administrations) == 2


def test_replay_refuses_unordered_assessments():
    with pytest.raises(InvalidInputError, match=r"assessments\[1\]"):
        replay_course(BASELINE, [_visit(56), _visit(0)])


# ------------------------------------------------------------------ bad input


def test_lab_panel_refuses_implausible_and_wrong_types():
    with pytest.raises(InvalidInputError) as info:
        LabPanel(platelets_10e9_per_l=5000.0)
    assert info.value.field == "platelets_10e9_per_l"
    with pytest.raises(InvalidInputError, match="creatinine_umol_per_l"):
        LabPanel(creatinine_umol_per_l=-1.0)
    with pytest.raises(InvalidInputError, match="haemoglobin_g_per_l"):
        LabPanel(haemoglobin_g_per_l=900.0)
    with pytest.raises(InvalidInputError, match="haemoglobin_g_per_l"):
        LabPanel(haemoglobin_g_per_l="98")  # type: ignore[arg-type]


def test_lab_panel_parse_requires_explicit_units():
    panel = LabPanel.parse({"platelets": "75000 /mm3", "creatinine": "1.0 mg/dL", "inr": "1.2"})
    assert panel.platelets_10e9_per_l == 75.0
    assert panel.creatinine_umol_per_l == pytest.approx(88.4)
    with pytest.raises(InvalidInputError, match=r"labs\.platelets"):
        LabPanel.parse({"platelets": "75"})
    with pytest.raises(InvalidInputError, match=r"labs\.sodium"):
        LabPanel.parse({"sodium": "140 mmol/L"})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ctcae_version": "6.0"}, "settings.ctcae_version"),
        ({"recurrent_reading": "sometimes"}, "settings.recurrent_reading"),
        ({"max_interval_weeks": -1.0}, "settings.max_interval_weeks"),
        ({"reduced_activity_bq": 8e9}, "settings.reduced_activity_bq"),
        ({"doses_per_course": 0}, "settings.doses_per_course"),
        ({"inr_fallback": "yes"}, "settings.inr_fallback"),
    ],
)
def test_settings_refuse_bad_values(kwargs, field):
    with pytest.raises(InvalidInputError) as info:
        DoseModificationSettings(**kwargs)
    assert info.value.field == field


def test_settings_accept_string_values_of_their_enums():
    s = DoseModificationSettings(sixteen_week_reading="delay_beyond_schedule")  # type: ignore[arg-type]
    assert s.sixteen_week_reading is SixteenWeekReading.DELAY_BEYOND_SCHEDULE


def test_dates_naive_datetime_refused_aware_converted_to_utc():
    with pytest.raises(InvalidInputError, match="assessment_date"):
        CycleAssessment(datetime(2026, 3, 2, 9, 0), NORMAL)  # type: ignore[arg-type]
    late = datetime(2026, 3, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert CycleAssessment(late, NORMAL).assessment_date == date(2026, 3, 3)
    assert CycleAssessment(datetime(2026, 3, 2, tzinfo=UTC), NORMAL).assessment_date == date(
        2026, 3, 2
    )


def test_assessment_before_last_dose_and_wrong_cycle_number_refused():
    with pytest.raises(InvalidInputError, match="assessment_date"):
        decide(assess(0))
    with pytest.raises(InvalidInputError, match="cycle_number"):
        decide(assess(56, cycle_number=3))
    assert decide(assess(56, cycle_number=2)).cycle_number == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"term": "", "worst_grade": 3}, "toxicity.term"),
        ({"term": "vomiting", "worst_grade": 6}, "toxicity.worst_grade"),
        ({"term": "vomiting", "worst_grade": 2.5}, "toxicity.worst_grade"),
        ({"term": "vomiting", "worst_grade": 2, "current_grade": 3}, "toxicity.current_grade"),
    ],
)
def test_toxicity_refuses_bad_grades(kwargs, field):
    with pytest.raises(InvalidInputError) as info:
        Toxicity(**kwargs)
    assert info.value.field == field


def test_history_refuses_inconsistent_administrations():
    a1 = Administration(1, DAY0, FULL_BQ)
    with pytest.raises(InvalidInputError, match=r"administrations\[1\]"):
        CourseHistory(BASELINE, (a1, Administration(3, DAY0 + timedelta(days=56), FULL_BQ)))
    with pytest.raises(InvalidInputError, match="administration_date"):
        CourseHistory(BASELINE, (a1, Administration(2, DAY0, FULL_BQ)))
    with pytest.raises(InvalidInputError, match="episodes"):
        CourseHistory(BASELINE, (a1,), (Episode(DmtCategory.RENAL, 2),))


def test_decision_to_dict_is_json_ready():
    import json

    d = decide(assess(56, worst=lab(platelets_10e9_per_l=60.0)))
    payload = json.loads(json.dumps(d.to_dict()))
    assert payload["decision"] == "REDUCE_3.7_GBQ"
    assert payload["activity_bq"] == REDUCED_BQ
    assert payload["occurred"] == ["THROMBOCYTOPENIA"]


def test_dmt_limits_come_from_the_criteria_table_with_sources():
    from prrt.clinical.dose_modification import DMT_LIMITS

    assert DMT_LIMITS.platelets_lt_10e9_per_l == 75.0
    assert DMT_LIMITS.crcl_ratio_le == 0.60
    assert DMT_LIMITS.other_grade_ge == 3
    assert DEFAULT_SETTINGS.inr_limit == DMT_LIMITS.inr_gt_default
    d = decide(assess(56, labs=lab(platelets_10e9_per_l=60.0)))
    plt = next(o for o in d.outcomes if o.rule_id == "DMT-PLT-LT75" and "labs" in o.message)
    assert plt.source == DMT_LIMITS.sources["DMT-PLT-LT75"]
    assert "US PI" in plt.source


def test_toxicities_not_assessed_leave_only_clinician_graded_categories_open():
    d = decide(assess(56, tox=None, labs=lab(platelets_10e9_per_l=60.0)))
    # hypersensitivity grade >= 3 cannot be excluded: no decision, but thrombocytopenia is known
    assert d.decision is Decision.INDETERMINATE
    assert d.undetermined == {DmtCategory.OTHER_NONHAEMATOLOGICAL}
    assert d.active == {DmtCategory.THROMBOCYTOPENIA}
    assert any("CYC-1-HYPERSENSITIVITY-G3" in r for r in d.reasons)
