"""Tests of prrt.clinical.eligibility (clinical-rules.md §3.2-3.4).

Every numeric threshold is tested just below, at and just above its value, in a
test named after the rule id; every edge case of §3.4 has its own test.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest

from prrt.clinical.eligibility import (
    BrainMetastases,
    EligibilityInput,
    PregnancyStatus,
    PriorTherapy,
    TherapyKind,
    assess_eligibility,
)
from prrt.clinical.grading import Differentiation, PrimarySite
from prrt.clinical.imaging_scores import FdgIntensity, FdgStatus, ImagingLesion, SstrModality
from prrt.clinical.outcome import Status, Verdict
from prrt.clinical.profiles import get_profile
from prrt.clinical.renal import Sex
from prrt.errors import InvalidInputError

DAY0 = date(2025, 3, 3)
FAIL, PASS, NA, INDET = Status.FAIL, Status.PASS, Status.NOT_APPLICABLE, Status.INDETERMINATE

# Male, 68 y, creatinine 88.4 µmol/L (1 mg/dL): Cockcroft-Gault CrCl = (140-68) x weight / 72 = weight,
# so the weight sets CrCl exactly (RENAL-2).
BASE = EligibilityInput(
    assessment_date=DAY0,
    age_years=68,
    sex=Sex.MALE,
    weight_kg=80.0,
    karnofsky_percent=90,
    life_expectancy_months=48,
    pregnancy=PregnancyStatus.NOT_APPLICABLE,
    breastfeeding=False,
    urinary_incontinence=False,
    heart_failure_uncontrolled=False,
    brain_metastases=BrainMetastases.NONE,
    primary_site=PrimarySite.SMALL_INTESTINE,
    differentiation=Differentiation.WELL,
    ki67_percent=5.0,
    mitoses_per_2mm2=1.0,
    resectable=False,
    peritoneal_carcinomatosis=False,
    mesenteric_mass=False,
    liver_tumour_burden_percent=15.0,
    diffuse_bone_marrow_involvement=False,
    sstr_modality=SstrModality.PET,
    lesions=(
        ImagingLesion("T1", True, 30.0, 3, FdgStatus.NEGATIVE),
        ImagingLesion("T2", True, 22.0, 4, FdgStatus.NEGATIVE),
        ImagingLesion("N1", False, 12.0, 3, FdgStatus.NEGATIVE),
    ),
    fdg_pet_done=True,
    haemoglobin_g_per_l=130.0,
    white_cells_1e9_per_l=6.0,
    platelets_1e9_per_l=220.0,
    neutrophils_1e9_per_l=3.5,
    creatinine_umol_per_l=88.4,
    bilirubin_umol_per_l=10.0,
    bilirubin_uln_umol_per_l=20.0,
    albumin_g_per_l=40.0,
    prothrombin_percent=95.0,
    inr=1.0,
    fasting_glucose_x_uln=0.9,
    prior_therapies=(),
)

G3 = {"ki67_percent": 30.0, "mitoses_per_2mm2": 8.0}


def run(profile: str = "PRRT-DEFAULT-1", **changes: Any):  # type: ignore[no-untyped-def]
    return assess_eligibility(dataclasses.replace(BASE, **changes), get_profile(profile))


def status(rule_id: str, profile: str = "PRRT-DEFAULT-1", **changes: Any) -> Status:
    return run(profile, **changes).outcome(rule_id).status


def test_base_case_is_eligible() -> None:
    res = run()
    assert res.verdict is Verdict.ELIGIBLE
    assert res.fired == ()
    assert res.crcl_ml_per_min == 80.0


def test_every_outcome_names_its_source_and_profile() -> None:
    for outcome in run().outcomes:
        assert outcome.source, outcome.rule_id
        assert outcome.profile == "PRRT-DEFAULT-1", outcome.rule_id


# --- numeric thresholds: just below, at, just above -------------------------------------------


def _three(
    rule_id: str,
    field: str,
    values: tuple[float, float, float],
    expected: tuple[Status, ...],
    **extra: Any,
) -> None:
    got = tuple(status(rule_id, **{field: v}, **extra) for v in values)
    assert got == expected, (rule_id, values, got)


def test_x_age_lt12() -> None:
    _three("X-AGE-LT12", "age_years", (11.9, 12.0, 12.1), (FAIL, PASS, PASS), weight_kg=None)


def test_c_age_12_17() -> None:
    _three("C-AGE-12-17", "age_years", (17.9, 18.0, 18.1), (FAIL, PASS, PASS))
    assert status("C-AGE-12-17", age_years=11.0) is NA  # below the band: X-AGE-LT12


def test_x_hb_lt8() -> None:
    _three("X-HB-LT8", "haemoglobin_g_per_l", (79.9, 80.0, 80.1), (FAIL, PASS, PASS))


def test_x_wbc_lt2() -> None:
    _three("X-WBC-LT2", "white_cells_1e9_per_l", (1.9, 2.0, 2.1), (FAIL, PASS, PASS))


def test_x_plt_lt75() -> None:
    _three("X-PLT-LT75", "platelets_1e9_per_l", (74.9, 75.0, 75.1), (FAIL, PASS, PASS))


def test_w_anc_lt1() -> None:
    _three("W-ANC-LT1", "neutrophils_1e9_per_l", (0.9, 1.0, 1.1), (FAIL, PASS, PASS))
    assert run(neutrophils_1e9_per_l=0.9).verdict is Verdict.ELIGIBLE  # a warning never gates


def test_x_crcl_lt30() -> None:
    _three("X-CRCL-LT30", "weight_kg", (29.9, 30.0, 30.1), (FAIL, PASS, PASS))


def test_c_crcl_30_49() -> None:
    _three("C-CRCL-30-49", "weight_kg", (49.9, 50.0, 50.1), (FAIL, PASS, PASS))
    assert status("C-CRCL-30-49", weight_kg=30.0) is FAIL
    assert status("C-CRCL-30-49", weight_kg=29.9) is NA  # below the band: X-CRCL-LT30


def test_c_crcl_30_49_names_the_eu_subband() -> None:
    assert "not recommended below 40" in run(weight_kg=39.9).outcome("C-CRCL-30-49").message
    assert "from 40 mL/min" in run(weight_kg=40.0).outcome("C-CRCL-30-49").message


def test_c_scr_gt150() -> None:
    _three("C-SCR-GT150", "creatinine_umol_per_l", (149.9, 150.0, 150.1), (PASS, PASS, FAIL))


def test_x_bili_gt3uln() -> None:
    _three("X-BILI-GT3ULN", "bilirubin_umol_per_l", (59.9, 60.0, 60.1), (PASS, PASS, FAIL))


def test_x_bili_gt3uln_exact_after_mg_per_dl_conversion() -> None:
    # 3.6 mg/dL against ULN 1.2 mg/dL, both x 17.1: float gives 3.0000000000000004 x ULN; still "at" 3 x ULN.
    res = run(bilirubin_umol_per_l=3.6 * 17.1, bilirubin_uln_umol_per_l=1.2 * 17.1)
    assert res.outcome("X-BILI-GT3ULN").status is PASS
    assert res.outcome("X-BILI-GT3ULN").observed == 3.0


def test_x_bili_gt3uln_without_uln_is_indeterminate() -> None:
    res = run(bilirubin_uln_umol_per_l=None)
    assert res.outcome("X-BILI-GT3ULN").status is INDET
    assert res.verdict is Verdict.NEEDS_REVIEW


def test_x_alb_lt30_pt_abnormal() -> None:
    # PT activity: abnormal < 70 %.
    _three(
        "X-ALB-LT30-PT-ABNORMAL",
        "albumin_g_per_l",
        (29.9, 30.0, 30.1),
        (FAIL, PASS, PASS),
        prothrombin_percent=60.0,
    )
    _three(
        "X-ALB-LT30-PT-ABNORMAL",
        "prothrombin_percent",
        (69.9, 70.0, 70.1),
        (FAIL, NA, NA),
        albumin_g_per_l=29.0,
    )


def test_x_alb_lt30_inr_fallback() -> None:
    _three(
        "X-ALB-LT30-PT-ABNORMAL",
        "inr",
        (1.49, 1.5, 1.51),
        (NA, NA, FAIL),
        albumin_g_per_l=29.0,
        prothrombin_percent=None,
    )


def test_x_alb_lt30_without_prothrombin_is_indeterminate() -> None:
    assert (
        status("X-ALB-LT30-PT-ABNORMAL", albumin_g_per_l=29.0, prothrombin_percent=None, inr=None)
        is INDET
    )
    no_fallback = get_profile().with_settings(inr_fallback=False)
    res = assess_eligibility(
        dataclasses.replace(BASE, albumin_g_per_l=29.0, prothrombin_percent=None, inr=2.0),
        no_fallback,
    )
    assert res.outcome("X-ALB-LT30-PT-ABNORMAL").status is INDET


def test_w_alb_lt30_pt_normal() -> None:
    _three(
        "W-ALB-LT30-PT-NORMAL",
        "albumin_g_per_l",
        (29.9, 30.0, 30.1),
        (FAIL, PASS, PASS),
        prothrombin_percent=80.0,
    )
    assert run(albumin_g_per_l=29.9, prothrombin_percent=80.0).verdict is Verdict.ELIGIBLE


def test_x_kps_lt50() -> None:
    _three("X-KPS-LT50", "karnofsky_percent", (49.0, 50.0, 51.0), (FAIL, PASS, PASS))


def test_x_g3_kps_le50() -> None:
    _three("X-G3-KPS-LE50", "karnofsky_percent", (49.0, 50.0, 51.0), (FAIL, FAIL, PASS), **G3)
    assert status("X-G3-KPS-LE50", karnofsky_percent=50.0) is NA  # G1/G2


def test_c_kps_50() -> None:
    _three("C-KPS-50", "karnofsky_percent", (59.0, 60.0, 61.0), (FAIL, PASS, PASS))
    assert status("C-KPS-50", karnofsky_percent=50.0) is FAIL
    assert status("C-KPS-50", karnofsky_percent=49.0) is NA


def test_ecog_maps_to_a_karnofsky_band() -> None:
    # ECOG 2 = Karnofsky 50-60: X-KPS-LT50 passes, C-KPS-50 cannot be decided.
    res = run(karnofsky_percent=None, ecog=2)
    assert res.outcome("X-KPS-LT50").status is PASS
    assert res.outcome("C-KPS-50").status is INDET
    assert res.outcome("C-KPS-50").observed == "ECOG 2 (Karnofsky 50-60 %)"
    assert status("X-KPS-LT50", karnofsky_percent=None, ecog=3) is FAIL
    assert status("C-KPS-50", karnofsky_percent=None, ecog=1) is PASS


def test_x_life_exp_lt3m() -> None:
    _three("X-LIFE-EXP-LT3M", "life_expectancy_months", (2.9, 3.0, 3.1), (FAIL, PASS, PASS))


def test_c_life_exp_3_6m() -> None:
    _three("C-LIFE-EXP-3-6M", "life_expectancy_months", (5.9, 6.0, 6.1), (FAIL, PASS, PASS))


def test_x_highgrade_ki67_ge55() -> None:
    _three(
        "X-HIGHGRADE-KI67-GE55",
        "ki67_percent",
        (54.9, 55.0, 55.1),
        (PASS, FAIL, FAIL),
        mitoses_per_2mm2=8.0,
    )


def test_x_highgrade_ki67_ge55_netter2_inclusive() -> None:
    got = tuple(
        status(
            "X-HIGHGRADE-KI67-GE55", "NETTER2_INCLUSIVE_55", ki67_percent=k, mitoses_per_2mm2=8.0
        )
        for k in (54.9, 55.0, 55.1)
    )
    assert got == (PASS, PASS, FAIL)


def test_c_g3_ki67_lt55() -> None:
    _three(
        "C-G3-KI67-LT55", "ki67_percent", (54.9, 55.0, 55.1), (FAIL, NA, NA), mitoses_per_2mm2=8.0
    )
    assert (
        status("C-G3-KI67-LT55", ki67_percent=None, mitoses_per_2mm2=25.0) is FAIL
    )  # Ki-67 missing
    assert status("C-G3-KI67-LT55") is NA  # G1


def test_c_g3_ki67_lt55_nec() -> None:
    res = run(differentiation=Differentiation.POOR, ki67_percent=40.0)
    assert res.outcome("C-G3-KI67-LT55").status is FAIL
    assert res.verdict is Verdict.NEEDS_REVIEW


def test_nec_not_like_g3_profile_setting() -> None:
    profile = get_profile().with_settings(nec_treated_like_net_g3=False)
    res = assess_eligibility(
        dataclasses.replace(BASE, differentiation=Differentiation.POOR, ki67_percent=40.0), profile
    )
    assert res.outcome("X-NEC-NOT-TREATED-LIKE-G3").status is FAIL
    assert res.verdict is Verdict.NOT_ELIGIBLE


def test_single_index_grade_makes_g3_rules_indeterminate_by_default() -> None:
    res = run(mitoses_per_2mm2=None)
    assert res.outcome("W-GRADE-SINGLE-INDEX").status is FAIL
    assert res.outcome("C-G3-KI67-LT55").status is INDET
    assert res.verdict is Verdict.NEEDS_REVIEW
    trusting = get_profile().with_settings(single_index_high_grade="use_available_index")
    res = assess_eligibility(dataclasses.replace(BASE, mitoses_per_2mm2=None), trusting)
    assert res.outcome("C-G3-KI67-LT55").status is NA
    assert res.verdict is Verdict.ELIGIBLE


def test_c_recent_therapy_lt12w() -> None:
    def therapies(days: int) -> tuple[PriorTherapy, ...]:
        return (PriorTherapy(TherapyKind.EVEROLIMUS, DAY0 - timedelta(days=days)),)

    got = tuple(
        status("C-RECENT-THERAPY-LT12W", prior_therapies=therapies(d)) for d in (83, 84, 85)
    )
    assert got == (FAIL, PASS, PASS)


def test_c_recent_therapy_undated_is_indeterminate() -> None:
    assert (
        status("C-RECENT-THERAPY-LT12W", prior_therapies=(PriorTherapy(TherapyKind.SURGERY),))
        is INDET
    )
    assert status("C-RECENT-THERAPY-LT12W", prior_therapies=None) is INDET


def test_c_ebrt_marrow_gt25() -> None:
    def ebrt(pct: float) -> tuple[PriorTherapy, ...]:
        return (
            PriorTherapy(
                TherapyKind.EXTERNAL_BEAM_RADIOTHERAPY,
                date(2020, 1, 1),
                marrow_irradiated_percent=pct,
            ),
        )

    got = tuple(status("C-EBRT-MARROW-GT25", prior_therapies=ebrt(p)) for p in (24.9, 25.0, 25.1))
    assert got == (PASS, PASS, FAIL)


def test_c_diabetes_uncontrolled() -> None:
    _three("C-DIABETES-UNCONTROLLED", "fasting_glucose_x_uln", (1.9, 2.0, 2.1), (PASS, PASS, FAIL))


def test_w_ssa_lar_washout() -> None:
    def lar(days: int) -> tuple[PriorTherapy, ...]:
        return (PriorTherapy(TherapyKind.SSA_LONG_ACTING, DAY0 - timedelta(days=days)),)

    got = tuple(status("W-SSA-LAR-WASHOUT", prior_therapies=lar(d)) for d in (27, 28, 29))
    assert got == (FAIL, PASS, PASS)


def test_w_ssa_short_washout() -> None:
    def short(days: int) -> tuple[PriorTherapy, ...]:
        return (PriorTherapy(TherapyKind.SSA_SHORT_ACTING, DAY0 - timedelta(days=days)),)

    got = tuple(status("W-SSA-SHORT-WASHOUT", prior_therapies=short(d)) for d in (0, 1, 2))
    assert got == (FAIL, PASS, PASS)
    assert "check the time" in run(prior_therapies=short(1)).outcome("W-SSA-SHORT-WASHOUT").message


def test_w_liver_burden_gt50() -> None:
    _three(
        "W-LIVER-BURDEN-GT50", "liver_tumour_burden_percent", (49.9, 50.0, 50.1), (PASS, PASS, FAIL)
    )


def test_w_fdg_pet_recommended() -> None:
    _three(
        "W-FDG-PET-RECOMMENDED",
        "ki67_percent",
        (9.9, 10.0, 10.1),
        (PASS, PASS, FAIL),
        fdg_pet_done=False,
    )
    assert status("W-FDG-PET-RECOMMENDED", fdg_pet_done=False, **G3) is FAIL
    assert status("W-FDG-PET-RECOMMENDED", **G3) is PASS  # FDG PET done


def test_w_fdg_pet_recommended_site_threshold() -> None:
    site = get_profile().with_threshold("W-FDG-PET-RECOMMENDED", 15.0, source="site protocol")
    got = tuple(
        assess_eligibility(dataclasses.replace(BASE, ki67_percent=k, fdg_pet_done=False), site)
        .outcome("W-FDG-PET-RECOMMENDED")
        .status
        for k in (14.9, 15.0, 15.1)
    )
    assert got == (PASS, PASS, FAIL)


def _with_target_score(score: int, modality: SstrModality = SstrModality.PET) -> dict[str, Any]:
    return {
        "lesions": (ImagingLesion("T1", True, 30.0, score, FdgStatus.NEGATIVE),),
        "sstr_modality": modality,
    }


def test_x_sstr_target_below_threshold() -> None:
    got = tuple(status("X-SSTR-TARGET-BELOW-THRESHOLD", **_with_target_score(s)) for s in (1, 2, 3))
    assert got == (FAIL, PASS, PASS)


def test_x_sstr_target_below_threshold_pet_strict() -> None:
    got = tuple(
        status("X-SSTR-TARGET-BELOW-THRESHOLD", "PET_STRICT", **_with_target_score(s))
        for s in (1, 2, 3)
    )
    assert got == (FAIL, FAIL, PASS)
    # PET_STRICT changes only PET: planar scintigraphy keeps score >= 2.
    planar = _with_target_score(2, SstrModality.PLANAR)
    assert status("X-SSTR-TARGET-BELOW-THRESHOLD", "PET_STRICT", **planar) is PASS


def test_x_sstr_target_unknown_modality_under_pet_strict_is_indeterminate() -> None:
    args = _with_target_score(2)
    args["sstr_modality"] = None
    assert status("X-SSTR-TARGET-BELOW-THRESHOLD", "PET_STRICT", **args) is INDET
    assert status("X-SSTR-TARGET-BELOW-THRESHOLD", **args) is PASS  # default: 2 on every modality


def test_x_sstr_target_without_targets_is_indeterminate() -> None:
    lesions = (ImagingLesion("N1", False, 30.0, 3, FdgStatus.NEGATIVE),)
    assert status("X-SSTR-TARGET-BELOW-THRESHOLD", lesions=lesions) is INDET


def _nontarget(
    size_mm: float, score: int = 1, fdg: FdgStatus | None = FdgStatus.NEGATIVE
) -> dict[str, Any]:
    return {
        "lesions": (
            ImagingLesion("T1", True, 30.0, 3, FdgStatus.NEGATIVE),
            ImagingLesion("N1", False, size_mm, score, fdg),
        )
    }


def test_c_sstr_heterogeneous() -> None:
    got = tuple(status("C-SSTR-HETEROGENEOUS", **_nontarget(s)) for s in (9.9, 10.0, 10.1))
    assert got == (PASS, FAIL, FAIL)
    assert run(**_nontarget(15.0)).verdict is Verdict.NEEDS_REVIEW


def test_w_small_lesion_below_threshold() -> None:
    got = tuple(
        status("W-SMALL-LESION-BELOW-THRESHOLD", **_nontarget(s)) for s in (9.9, 10.0, 10.1)
    )
    assert got == (FAIL, PASS, PASS)
    assert run(**_nontarget(9.9)).verdict is Verdict.ELIGIBLE


def test_x_netpet_p5_and_mismatch() -> None:
    res = run(**_nontarget(6.0, score=1, fdg=FdgStatus.POSITIVE))
    assert res.outcome("X-NETPET-P5").status is FAIL
    assert res.mismatch_lesions == ("N1",)
    assert res.verdict is Verdict.NOT_ELIGIBLE


def test_x_netpet_p0() -> None:
    lesions = (ImagingLesion("T1", True, 30.0, 1, FdgStatus.NEGATIVE),)
    res = run(lesions=lesions)
    assert res.outcome("X-NETPET-P0").status is FAIL


def test_c_netpet_p4() -> None:
    lesions = (ImagingLesion("T1", True, 30.0, 3, FdgStatus.POSITIVE, FdgIntensity.GREATER),)
    res = run(lesions=lesions)
    assert res.outcome("C-NETPET-P4").status is FAIL
    assert res.verdict is Verdict.NEEDS_REVIEW


def test_netpet_rules_without_fdg_pet() -> None:
    assert status("X-NETPET-P5", fdg_pet_done=False) is NA
    assert status("X-NETPET-P5", fdg_pet_done=None) is INDET


@pytest.mark.parametrize(
    ("rule_id", "changes", "expected"),
    [
        ("X-PREGNANT", {"sex": Sex.FEMALE, "pregnancy": PregnancyStatus.PREGNANT}, FAIL),
        ("X-PREGNANT", {"sex": Sex.FEMALE, "pregnancy": PregnancyStatus.NOT_EXCLUDED}, FAIL),
        ("X-PREGNANT", {"sex": Sex.FEMALE, "pregnancy": PregnancyStatus.NOT_PREGNANT}, PASS),
        ("X-PREGNANT", {"sex": Sex.FEMALE, "pregnancy": None}, INDET),
        (
            "X-BREASTFEEDING",
            {"sex": Sex.FEMALE, "breastfeeding": True, "willing_to_stop_breastfeeding": False},
            FAIL,
        ),
        (
            "X-BREASTFEEDING",
            {"sex": Sex.FEMALE, "breastfeeding": True, "willing_to_stop_breastfeeding": True},
            PASS,
        ),
        ("X-BREASTFEEDING", {"sex": Sex.FEMALE, "breastfeeding": True}, INDET),
        ("C-PRIMARY-OFF-LABEL", {"primary_site": PrimarySite.LUNG}, FAIL),
        ("C-PRIMARY-OFF-LABEL", {"primary_site": PrimarySite.PANCREAS}, PASS),
        ("C-RESECTABLE-DISEASE", {"resectable": True}, FAIL),
        (
            "C-BRAIN-METS-UNSTABLE",
            {"brain_metastases": BrainMetastases.UNTREATED_OR_UNSTABLE},
            FAIL,
        ),
        ("C-BRAIN-METS-UNSTABLE", {"brain_metastases": BrainMetastases.TREATED_STABLE}, PASS),
        ("C-CHF-UNCONTROLLED", {"heart_failure_uncontrolled": True}, FAIL),
        ("W-PERITONEAL-MESENTERIC", {"peritoneal_carcinomatosis": True}, FAIL),
        ("W-PERITONEAL-MESENTERIC", {"mesenteric_mass": True}, FAIL),
        ("W-DIFFUSE-BONE-MARROW", {"diffuse_bone_marrow_involvement": True}, FAIL),
        ("W-URINARY-INCONTINENCE", {"urinary_incontinence": True}, FAIL),
        (
            "W-PRIOR-RADIOEMBOLISATION",
            {"prior_therapies": (PriorTherapy(TherapyKind.RADIOEMBOLISATION, date(2020, 1, 1)),)},
            FAIL,
        ),
        (
            "W-PRIOR-MYELOTOXIC-CHEMO",
            {
                "prior_therapies": (
                    PriorTherapy(TherapyKind.CHEMOTHERAPY, date(2020, 1, 1), myelotoxic=True),
                )
            },
            FAIL,
        ),
        (
            "W-PRIOR-MYELOTOXIC-CHEMO",
            {"prior_therapies": (PriorTherapy(TherapyKind.CHEMOTHERAPY, date(2020, 1, 1)),)},
            INDET,
        ),
        (
            "RT-PRIOR-PRRT",
            {"prior_therapies": (PriorTherapy(TherapyKind.PRRT, date(2021, 1, 1)),)},
            FAIL,
        ),
    ],
)
def test_yes_no_rules(rule_id: str, changes: dict[str, Any], expected: Status) -> None:
    assert status(rule_id, **changes) is expected


def test_peritoneal_disease_and_diffuse_bone_are_shown_but_do_not_gate() -> None:
    res = run(
        peritoneal_carcinomatosis=True,
        diffuse_bone_marrow_involvement=True,
        liver_tumour_burden_percent=80.0,
    )
    assert {"W-PERITONEAL-MESENTERIC", "W-DIFFUSE-BONE-MARROW", "W-LIVER-BURDEN-GT50"} <= set(
        res.fired
    )
    assert res.verdict is Verdict.ELIGIBLE


def test_disease_extent_as_caution_setting() -> None:
    profile = get_profile().with_settings(disease_extent_severity="caution")
    for changes in (
        {"peritoneal_carcinomatosis": True},
        {"diffuse_bone_marrow_involvement": True},
        {"liver_tumour_burden_percent": 50.1},
    ):
        res = assess_eligibility(dataclasses.replace(BASE, **changes), profile)
        assert res.verdict is Verdict.NEEDS_REVIEW, changes
    assert assess_eligibility(BASE, profile).verdict is Verdict.ELIGIBLE


def test_ppq_and_netest_are_information_only() -> None:
    res = run(ppq="negative", netest_percent=80.0)
    assert res.outcome("I-PPQ").observed == "negative"
    assert res.outcome("I-NETEST").observed == 80.0
    assert res.verdict is Verdict.ELIGIBLE


def test_missing_everything_is_never_eligible() -> None:
    res = assess_eligibility(EligibilityInput(assessment_date=DAY0))
    assert res.verdict is Verdict.NEEDS_REVIEW
    assert all(o.status is not PASS for o in res.outcomes if o.rule_id.startswith("X-"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platelets_1e9_per_l", 5000.0),
        ("creatinine_umol_per_l", -80.0),
        ("haemoglobin_g_per_l", 900.0),
        ("karnofsky_percent", 120.0),
        ("life_expectancy_months", -1.0),
        ("ecog", 7),
        ("ppq", "maybe"),
        ("netest_percent", 140.0),
    ],
)
def test_implausible_inputs_are_refused(field: str, value: Any) -> None:
    with pytest.raises(InvalidInputError, match=f"{field}: got"):
        dataclasses.replace(BASE, **{field: value})


# --- §3.4 edge cases (one test each) -----------------------------------------------------------


def test_edge_platelets_75_hb_8_wbc_2_allowed() -> None:
    res = run(platelets_1e9_per_l=75.0, haemoglobin_g_per_l=80.0, white_cells_1e9_per_l=2.0)
    assert res.verdict is Verdict.ELIGIBLE


def test_edge_crcl_50_allowed() -> None:
    assert run(weight_kg=50.0).verdict is Verdict.ELIGIBLE


def test_edge_crcl_49_2_conditional() -> None:
    res = run(weight_kg=49.2)
    assert res.crcl_ml_per_min == 49.2
    assert res.verdict is Verdict.NEEDS_REVIEW
    assert "C-CRCL-30-49" in res.fired


def test_edge_crcl_unrounded_49_97_displays_50_allowed() -> None:
    res = run(weight_kg=49.97)
    assert res.crcl_ml_per_min == 50.0
    assert res.verdict is Verdict.ELIGIBLE


def test_edge_creatinine_150_no_flag() -> None:
    assert status("C-SCR-GT150", creatinine_umol_per_l=150.0) is PASS


def test_edge_bilirubin_3_uln_allowed() -> None:
    assert run(bilirubin_umol_per_l=60.0, bilirubin_uln_umol_per_l=20.0).verdict is Verdict.ELIGIBLE


def test_edge_albumin_30_no_rule_even_with_high_inr() -> None:
    res = run(albumin_g_per_l=30.0, prothrombin_percent=None, inr=3.0)
    assert res.outcome("X-ALB-LT30-PT-ABNORMAL").status is PASS
    assert res.outcome("W-ALB-LT30-PT-NORMAL").status is PASS


def test_edge_ki67_55_ineligible_by_default_conditional_under_netter2() -> None:
    assert run(ki67_percent=55.0, mitoses_per_2mm2=8.0).verdict is Verdict.NOT_ELIGIBLE
    assert (
        run("NETTER2_INCLUSIVE_55", ki67_percent=55.0, mitoses_per_2mm2=8.0).verdict
        is Verdict.NEEDS_REVIEW
    )


def test_edge_ki67_54_9_conditional() -> None:
    assert run(ki67_percent=54.9, mitoses_per_2mm2=8.0).verdict is Verdict.NEEDS_REVIEW


def test_edge_karnofsky_50_g3_ineligible_g1g2_conditional() -> None:
    assert run(karnofsky_percent=50.0, **G3).verdict is Verdict.NOT_ELIGIBLE
    assert (
        run(karnofsky_percent=50.0, differentiation=Differentiation.POOR).verdict
        is Verdict.NOT_ELIGIBLE
    )
    assert run(karnofsky_percent=50.0).verdict is Verdict.NEEDS_REVIEW


def test_edge_karnofsky_40_ineligible() -> None:
    assert run(karnofsky_percent=40.0).verdict is Verdict.NOT_ELIGIBLE


def test_edge_life_expectancy_3_conditional_2_ineligible() -> None:
    assert run(life_expectancy_months=3.0).verdict is Verdict.NEEDS_REVIEW
    assert run(life_expectancy_months=2.0).verdict is Verdict.NOT_ELIGIBLE


def test_edge_pet_target_score_2_eligible_default_ineligible_pet_strict() -> None:
    assert run(**_with_target_score(2)).verdict is Verdict.ELIGIBLE
    assert run("PET_STRICT", **_with_target_score(2)).verdict is Verdict.NOT_ELIGIBLE


def test_edge_egfr_and_crcl_disagree_crcl_drives_the_rule() -> None:
    # 88-year-old woman, 42 kg, creatinine 80 µmol/L: CrCl (Cockcroft-Gault) 27.6 mL/min while
    # CKD-EPI 2021 eGFR is 60.3 mL/min/1.73 m²; only CrCl is used for X-CRCL-LT30 (§3.4, RENAL-4).
    res = run(
        age_years=88,
        sex=Sex.FEMALE,
        weight_kg=42.0,
        creatinine_umol_per_l=80.0,
        pregnancy=PregnancyStatus.NOT_APPLICABLE,
    )
    # CrCl = (140-88) x 42 x 0.85 / (72 x 80/88.4) = 28.4764... -> 28.5
    assert res.crcl_ml_per_min == pytest.approx(28.5, abs=1e-9)
    assert res.egfr_ml_per_min_1_73m2 is not None
    assert res.egfr_ml_per_min_1_73m2 > 55.0
    assert res.outcome("X-CRCL-LT30").status is FAIL
    assert res.verdict is Verdict.NOT_ELIGIBLE
