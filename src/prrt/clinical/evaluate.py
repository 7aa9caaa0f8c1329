"""Evaluate a JSON case: grade, imaging scores, eligibility, renal function, lab grades,
next-cycle decision and RECIST response, under one decision profile.

This module translates a validated :class:`~prrt.clinical.case.Case` (edge units:
``"68 kg"``, ``{"value": 12.4, "unit": "g/dL"}``, ``"7.4 GBq"``) into the canonical
inputs of the rule modules and collects their results in a :class:`CaseReport`:

* WHO grade (:mod:`prrt.clinical.grading`), Krenning/NETPET/heterogeneity/mismatch
  (:mod:`prrt.clinical.imaging_scores`);
* eligibility (:mod:`prrt.clinical.eligibility`) or, after a prior PRRT course,
  re-treatment (:mod:`prrt.clinical.retreatment`);
* Cockcroft–Gault CrCl and CKD-EPI 2021 eGFR (:mod:`prrt.clinical.renal`) and the
  CTCAE v5.0 grade of every laboratory value (:mod:`prrt.clinical.ctcae`);
* the next-cycle decision when a course is given (:mod:`prrt.clinical.dose_modification`,
  with the profile's dose-modification settings, :func:`dose_modification_settings`);
* RECIST 1.1 per time point and the best overall response (:mod:`prrt.clinical.response`).
"""

from __future__ import annotations

import warnings

from prrt.clinical import ctcae
from prrt.clinical.case import Case, Course
from prrt.clinical.dose_modification import (
    Administration,
    CourseBaseline,
    CourseHistory,
    CycleAssessment,
    CycleDecision,
    DoseModificationSettings,
    Episode,
    HypersensitivityAction,
    RecurrentReading,
    RenalResolution,
    SixteenWeekReading,
    Toxicity,
    next_cycle_decision,
)
from prrt.clinical.eligibility import (
    EligibilityInput,
    PregnancyStatus,
    PriorTherapy,
    assess_eligibility,
)
from prrt.clinical.evaluate_inputs import (
    LAB_ANALYTES,
    _at,
    _clean,
    _get,
    _Lab,
    _labs,
    _panel,
    _quantity,
)
from prrt.clinical.evaluate_recist import _recist
from prrt.clinical.evaluate_report import CaseReport, _lesion_table
from prrt.clinical.imaging_scores import ImagingLesion
from prrt.clinical.profiles import Profile, get_profile
from prrt.clinical.renal import Sex
from prrt.clinical.retreatment import RetreatmentInput, assess_retreatment
from prrt.errors import NonConformingInputWarning
from prrt.units import Dimension, parse_quantity

__all__ = [
    "LAB_ANALYTES",
    "CaseReport",
    "dose_modification_settings",
    "eligibility_input",
    "evaluate_case",
]


def dose_modification_settings(profile: Profile) -> DoseModificationSettings:
    """Map a decision profile onto the settings of the next-cycle decision.

    Examples
    --------
    >>> dose_modification_settings(get_profile("USPI_DELAY_READING")).sixteen_week_reading.value
    'delay_beyond_schedule'
    >>> dose_modification_settings(get_profile("EU_SMPC_2017")).any_haematological_grade3
    True
    """
    return DoseModificationSettings(
        profile=profile.name,
        ctcae_version=profile.ctcae_version,
        recurrent_reading=RecurrentReading(profile.dmt_recurrent_reading),
        sixteen_week_reading=SixteenWeekReading(profile.dmt_sixteen_week_reading),
        renal_resolution=RenalResolution(profile.dmt_renal_resolution),
        inr_fallback=profile.inr_fallback,
        inr_limit=profile.threshold("PT-ABNORMAL-INR").value,
        hypersensitivity_grade3_action=HypersensitivityAction(
            profile.hypersensitivity_grade3_action
        ),
        any_haematological_grade3=profile.dmt_eu_any_haematological_grade3,
    )


def eligibility_input(case: Case) -> EligibilityInput:
    """Build the canonical eligibility input of a case (parses every edge unit).

    Raises
    ------
    InvalidInputError
        Unknown or missing unit, implausible value (field named by its JSON path).
    """
    p, t, img, hist, bio = case.patient, case.tumour, case.imaging, case.history, case.biomarkers
    labs = _labs(case.labs, "labs")
    lesions: tuple[ImagingLesion, ...] | None = None
    if img is not None and img.lesions is not None:
        lesions = tuple(
            ImagingLesion(
                lesion_id=les.id,
                target=les.target,
                size_mm=_quantity(les.size, Dimension.LENGTH, f"imaging.lesions[{i}].size"),
                sstr_score=les.sstr_score,
                fdg=les.fdg,
                fdg_vs_sstr=les.fdg_vs_sstr,
            )
            for i, les in enumerate(img.lesions)
        )
    glucose = None
    if case.labs is not None and case.labs.fasting_glucose is not None:
        glucose = _clean(case.labs.fasting_glucose.value / case.labs.fasting_glucose.uln)
    therapies: tuple[PriorTherapy, ...] | None = None
    if hist is not None and hist.prior_therapies is not None:
        therapies = tuple(
            PriorTherapy(th.kind, th.end_date, th.myelotoxic, th.marrow_irradiated_percent)
            for th in hist.prior_therapies
        )
    bili = labs.get("bilirubin")
    return EligibilityInput(
        assessment_date=case.assessment_date,
        age_years=p.age_years,
        sex=p.sex,
        weight_kg=_quantity(p.weight, Dimension.MASS, "patient.weight"),
        karnofsky_percent=None if p.karnofsky_percent is None else float(p.karnofsky_percent),
        ecog=p.ecog,
        life_expectancy_months=p.life_expectancy_months,
        pregnancy=p.pregnancy,
        breastfeeding=p.breastfeeding,
        willing_to_stop_breastfeeding=p.willing_to_stop_breastfeeding,
        urinary_incontinence=p.urinary_incontinence,
        heart_failure_uncontrolled=p.heart_failure_uncontrolled,
        brain_metastases=p.brain_metastases,
        primary_site=t.primary_site if t else None,
        differentiation=t.differentiation if t else None,
        ki67_percent=t.ki67_percent if t else None,
        mitoses_per_2mm2=t.mitoses_per_2mm2 if t else None,
        necrosis=t.necrosis if t else None,
        resectable=t.resectable if t else None,
        peritoneal_carcinomatosis=t.peritoneal_carcinomatosis if t else None,
        mesenteric_mass=t.mesenteric_mass if t else None,
        liver_tumour_burden_percent=t.liver_tumour_burden_percent if t else None,
        diffuse_bone_marrow_involvement=t.diffuse_bone_marrow_involvement if t else None,
        sstr_modality=img.sstr.modality if img is not None and img.sstr is not None else None,
        lesions=lesions,
        fdg_pet_done=img.fdg_pet.done if img is not None and img.fdg_pet is not None else None,
        haemoglobin_g_per_l=_get(labs, "haemoglobin"),
        white_cells_1e9_per_l=_get(labs, "white_cells"),
        platelets_1e9_per_l=_get(labs, "platelets"),
        neutrophils_1e9_per_l=_get(labs, "neutrophils"),
        creatinine_umol_per_l=_get(labs, "creatinine"),
        bilirubin_umol_per_l=None if bili is None else bili.value,
        bilirubin_uln_umol_per_l=None if bili is None else bili.uln,
        albumin_g_per_l=_get(labs, "albumin"),
        prothrombin_percent=_get(labs, "prothrombin_percent"),
        inr=_get(labs, "inr"),
        fasting_glucose_x_uln=glucose,
        prior_therapies=therapies,
        ppq=bio.ppq if bio else None,
        netest_percent=bio.netest_percent if bio else None,
    )


def _retreatment_input(case: Case) -> RetreatmentInput:
    prior = case.history.prior_prrt if case.history is not None else None
    sstr_date = (
        case.imaging.sstr.date
        if case.imaging is not None and case.imaging.sstr is not None
        else None
    )
    if prior is None:
        return RetreatmentInput(sstr_imaging_date=sstr_date)
    return RetreatmentInput(
        first_cycle_date=prior.first_cycle_date,
        last_cycle_date=prior.last_cycle_date,
        progression_date=prior.progression_date,
        persistent_grade3_toxicity=prior.persistent_grade3_toxicity,
        mds_aml=prior.mds_aml,
        sstr_imaging_date=sstr_date,
    )


def _pregnant(case: Case) -> bool | None:
    if case.patient.sex is Sex.MALE:
        return False
    status = case.patient.pregnancy
    if status in (PregnancyStatus.PREGNANT, PregnancyStatus.SUSPECTED):
        return True
    if status in (PregnancyStatus.NOT_PREGNANT, PregnancyStatus.NOT_APPLICABLE):
        return False
    return None


def _next_cycle(
    case: Case, current_labs: dict[str, _Lab], profile: Profile
) -> CycleDecision | None:
    if case.course is None:
        return None
    with _at("course"):
        return _next_cycle_of(case, case.course, current_labs, profile)


def _next_cycle_of(
    case: Case, course: Course, current_labs: dict[str, _Lab], profile: Profile
) -> CycleDecision:
    base_labs = _labs(course.baseline.labs, "course.baseline.labs")
    with _at("course.baseline"):
        baseline = CourseBaseline(
            sex=case.patient.sex,
            labs=_panel(base_labs),
            weight_kg=_quantity(course.baseline.weight, Dimension.MASS, "course.baseline.weight"),
            age_years=course.baseline.age_years
            if course.baseline.age_years is not None
            else case.patient.age_years,
        )
    administrations = []
    for i, a in enumerate(course.administrations):
        where = f"course.administrations[{i}]"
        with _at(where):
            activity = parse_quantity(
                a.activity, Dimension.ACTIVITY, field=f"{where}.activity", positive=True
            )
            administrations.append(
                Administration(
                    cycle_number=a.cycle, administration_date=a.date, activity_bq=activity
                )
            )
    episodes = []
    for i, e in enumerate(course.episodes):
        with _at(f"course.episodes[{i}]"):
            episodes.append(Episode(e.category, e.after_dose))
    with _at("course.administrations"):
        history = CourseHistory(
            baseline=baseline, administrations=tuple(administrations), episodes=tuple(episodes)
        )
    worst = None
    if course.worst_since_last_dose is not None:
        worst = _panel(_labs(course.worst_since_last_dose, "course.worst_since_last_dose"))
    toxicities = None
    if course.toxicities is not None:
        items = []
        for i, x in enumerate(course.toxicities):
            with _at(f"course.toxicities[{i}]"):
                items.append(Toxicity(x.term, x.worst_grade, x.current_grade, x.related))
        toxicities = tuple(items)
    current = CycleAssessment(
        assessment_date=case.assessment_date,
        labs=_panel(current_labs),
        worst_since_last_dose=worst,
        weight_kg=_quantity(case.patient.weight, Dimension.MASS, "patient.weight"),
        age_years=case.patient.age_years,
        toxicities=toxicities,
        pregnant=_pregnant(case),
        mds_or_aml=course.mds_or_aml,
    )
    return next_cycle_decision(history, current, dose_modification_settings(profile))


def _lab_grades(
    case: Case, labs: dict[str, _Lab], egfr: float | None, profile: Profile
) -> tuple[ctcae.CtcaeGrade, ...]:
    baseline: dict[str, _Lab] = {}
    if case.course is not None:
        baseline = _labs(case.course.baseline.labs, "course.baseline.labs")
    grades: list[ctcae.CtcaeGrade] = []
    for key, lab in labs.items():
        analyte = LAB_ANALYTES[key]
        if analyte not in ctcae.TERM_FOR_ANALYTE:
            continue
        base = baseline.get(key)
        grades.append(
            ctcae.grade_analyte(
                analyte,
                lab.value,
                uln=lab.uln,
                lln=lab.lln,
                baseline=None if base is None else base.value,
                version=profile.ctcae_version,
            )
        )
    if egfr is not None:
        grades.append(
            ctcae.grade(ctcae.CtcaeTerm.CHRONIC_KIDNEY_DISEASE, egfr, version=profile.ctcae_version)
        )
    return tuple(grades)


def evaluate_case(case: Case, profile: Profile | None = None) -> CaseReport:
    """Evaluate one case under a decision profile.

    Parameters
    ----------
    case
        A validated case (:func:`prrt.clinical.case.load_case`).
    profile
        Decision profile; ``PRRT-DEFAULT-1`` when omitted.

    Returns
    -------
    CaseReport

    Raises
    ------
    InvalidInputError
        A unit is unknown or missing, a value implausible, or the course/response
        data inconsistent (field named by its JSON path).

    Examples
    --------
    >>> from prrt.clinical.case import case_from_dict
    >>> case = case_from_dict({"schema_version": "1.0", "case_id": "minimal", "assessment_date": "2025-03-03",
    ...                        "patient": {"age_years": 64, "sex": "female"}})
    >>> evaluate_case(case).verdict.value
    'needs_multidisciplinary_review'
    """
    profile = profile or get_profile()
    inp = eligibility_input(case)
    notes: list[str] = []
    if inp.age_years is not None and inp.age_years < 18.0:
        notes.append(
            "age < 18 years: CKD-EPI 2021 and Cockcroft-Gault are validated for adults only (RENAL-1)"
        )
    elig = assess_eligibility(inp, profile)
    retreat = None
    prior = case.history is not None and case.history.prior_prrt is not None
    if prior or elig.prior_prrt:
        retreat = assess_retreatment(elig, _retreatment_input(case), profile)
    labs = _labs(case.labs, "labs")
    with warnings.catch_warnings():
        # The adult-only warning of the renal equations is reported once, as a note.
        warnings.simplefilter("ignore", NonConformingInputWarning)
        next_cycle = _next_cycle(case, labs, profile)
    recist = _recist(case)
    return CaseReport(
        case_id=case.case_id,
        assessment_date=case.assessment_date,
        profile=profile,
        pathway="retreatment" if retreat is not None else "first_course",
        verdict=retreat.verdict if retreat is not None else elig.verdict,
        eligibility=elig,
        retreatment=retreat,
        lesion_table=_lesion_table(elig, inp),
        lab_grades=_lab_grades(case, labs, elig.egfr_ml_per_min_1_73m2, profile),
        next_cycle=next_cycle,
        recist_time_points=None if recist is None else recist[0],
        best_response=None if recist is None else recist[1],
        notes=tuple(notes),
    )
