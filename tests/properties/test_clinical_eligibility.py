"""Property: removing an input never turns a fail or indeterminate into a pass.

Hypothesis draws clinically consistent patients (ECOG in the band of the Karnofsky
score, INR abnormal exactly when PT activity is abnormal, pregnancy not applicable
for men), removes one input (a patient-level field or one reading of one lesion)
and checks, for every profile:

* no rule goes from FAIL or INDETERMINATE to PASS;
* the verdict never becomes "eligible" when it was not (missing data is never a pass).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

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
from prrt.clinical.profiles import get_profile, list_profiles
from prrt.clinical.renal import Sex

DAY0 = date(2025, 3, 3)

_KPS_TO_ECOG = {100: 0, 90: 0, 80: 1, 70: 1, 60: 2, 50: 2, 40: 3, 30: 3, 20: 4, 10: 4}

_OPTIONAL_FIELDS = [
    f.name for f in dataclasses.fields(EligibilityInput) if f.name != "assessment_date"
]


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


lesion_strategy = st.builds(
    ImagingLesion,
    lesion_id=st.sampled_from(["A", "B", "C", "D"]),
    target=st.booleans(),
    size_mm=_maybe(st.sampled_from([5.0, 9.9, 10.0, 25.0])),
    sstr_score=_maybe(st.integers(0, 4)),
    fdg=_maybe(st.sampled_from(FdgStatus)),
    fdg_vs_sstr=_maybe(st.sampled_from(FdgIntensity)),
)

therapy_strategy = st.builds(
    PriorTherapy,
    kind=st.sampled_from(TherapyKind),
    end_date=_maybe(st.integers(0, 200).map(lambda d: DAY0 - timedelta(days=d))),
    myelotoxic=_maybe(st.booleans()),
    marrow_irradiated_percent=_maybe(st.sampled_from([10.0, 25.0, 30.0])),
)


@st.composite
def patients(draw: st.DrawFn) -> EligibilityInput:
    sex = draw(st.sampled_from(Sex))
    kps = draw(st.sampled_from(sorted(_KPS_TO_ECOG)))
    pt_abnormal = draw(st.booleans())
    pregnancy = (
        PregnancyStatus.NOT_APPLICABLE
        if sex is Sex.MALE
        else draw(st.sampled_from(PregnancyStatus))
    )
    return EligibilityInput(
        assessment_date=DAY0,
        age_years=draw(st.sampled_from([11.0, 12.0, 17.0, 18.0, 45.0, 70.0, 88.0])),
        sex=sex,
        weight_kg=draw(st.sampled_from([40.0, 49.97, 50.0, 70.0, 95.0])),
        karnofsky_percent=float(kps),
        ecog=_KPS_TO_ECOG[kps],
        life_expectancy_months=draw(st.sampled_from([2.0, 3.0, 5.9, 6.0, 24.0])),
        pregnancy=pregnancy,
        breastfeeding=False if sex is Sex.MALE else draw(st.booleans()),
        willing_to_stop_breastfeeding=draw(st.booleans()),
        urinary_incontinence=draw(st.booleans()),
        heart_failure_uncontrolled=draw(st.booleans()),
        brain_metastases=draw(st.sampled_from(BrainMetastases)),
        primary_site=draw(st.sampled_from(PrimarySite)),
        differentiation=draw(st.sampled_from(Differentiation)),
        ki67_percent=draw(
            st.sampled_from([1.0, 2.9, 3.0, 10.0, 10.1, 20.0, 20.1, 54.9, 55.0, 80.0])
        ),
        mitoses_per_2mm2=draw(st.sampled_from([0.0, 1.0, 2.0, 20.0, 21.0])),
        necrosis=draw(st.booleans()),
        resectable=draw(st.booleans()),
        peritoneal_carcinomatosis=draw(st.booleans()),
        mesenteric_mass=draw(st.booleans()),
        liver_tumour_burden_percent=draw(st.sampled_from([10.0, 50.0, 50.1])),
        diffuse_bone_marrow_involvement=draw(st.booleans()),
        sstr_modality=draw(st.sampled_from(SstrModality)),
        lesions=tuple(
            dataclasses.replace(lesion, lesion_id=f"L{i}")
            for i, lesion in enumerate(draw(st.lists(lesion_strategy, min_size=1, max_size=4)))
        ),
        fdg_pet_done=draw(st.booleans()),
        haemoglobin_g_per_l=draw(st.sampled_from([79.9, 80.0, 120.0])),
        white_cells_1e9_per_l=draw(st.sampled_from([1.9, 2.0, 6.0])),
        platelets_1e9_per_l=draw(st.sampled_from([74.9, 75.0, 200.0])),
        neutrophils_1e9_per_l=draw(st.sampled_from([0.9, 1.0, 3.0])),
        creatinine_umol_per_l=draw(st.sampled_from([60.0, 88.4, 150.0, 150.1, 300.0])),
        bilirubin_umol_per_l=draw(st.sampled_from([10.0, 60.0, 60.1])),
        bilirubin_uln_umol_per_l=20.0,
        albumin_g_per_l=draw(st.sampled_from([25.0, 30.0, 40.0])),
        prothrombin_percent=60.0 if pt_abnormal else 90.0,
        inr=1.8 if pt_abnormal else 1.1,
        fasting_glucose_x_uln=draw(st.sampled_from([1.0, 2.0, 2.1])),
        prior_therapies=tuple(draw(st.lists(therapy_strategy, max_size=3))),
        ppq=draw(_maybe(st.sampled_from(["positive", "negative"]))),
        netest_percent=draw(_maybe(st.sampled_from([20.0, 80.0]))),
    )


@st.composite
def removals(draw: st.DrawFn) -> tuple[EligibilityInput, EligibilityInput, str]:
    full = draw(patients())
    if draw(st.booleans()) and full.lesions:
        index = draw(st.integers(0, len(full.lesions) - 1))
        attr = draw(st.sampled_from(["size_mm", "sstr_score", "fdg", "fdg_vs_sstr"]))
        lesions = list(full.lesions)
        lesions[index] = dataclasses.replace(lesions[index], **{attr: None})
        return full, dataclasses.replace(full, lesions=tuple(lesions)), f"lesions[{index}].{attr}"
    name = draw(st.sampled_from(_OPTIONAL_FIELDS))
    return full, full.without(name), name


@given(removals(), st.sampled_from(list_profiles()))
def test_removing_an_input_never_turns_fail_or_indeterminate_into_pass(
    case: tuple[EligibilityInput, EligibilityInput, str], profile_name: str
) -> None:
    full, reduced, removed = case
    profile = get_profile(profile_name)
    before = assess_eligibility(full, profile)
    after = assess_eligibility(reduced, profile)
    after_status = {o.rule_id: o.status for o in after.outcomes}
    for outcome in before.outcomes:
        if (
            outcome.status in (Status.FAIL, Status.INDETERMINATE)
            and outcome.rule_id in after_status
        ):
            assert after_status[outcome.rule_id] is not Status.PASS, (removed, outcome.rule_id)
    if before.verdict is not Verdict.ELIGIBLE:
        assert after.verdict is not Verdict.ELIGIBLE, removed


@given(patients())
def test_missing_every_optional_input_is_never_eligible(full: EligibilityInput) -> None:
    empty = EligibilityInput(assessment_date=full.assessment_date)
    assert assess_eligibility(empty).verdict is Verdict.NEEDS_REVIEW
