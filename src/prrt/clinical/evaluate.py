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

import dataclasses
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from prrt.clinical import ctcae
from prrt.clinical.case import Case, Course, Labs, LabValue
from prrt.clinical.dose_modification import (
    Administration,
    CourseBaseline,
    CourseHistory,
    CycleAssessment,
    CycleDecision,
    DoseModificationSettings,
    Episode,
    HypersensitivityAction,
    LabPanel,
    RecurrentReading,
    RenalResolution,
    SixteenWeekReading,
    Toxicity,
    next_cycle_decision,
)
from prrt.clinical.eligibility import (
    EligibilityAssessment,
    EligibilityInput,
    PregnancyStatus,
    PriorTherapy,
    assess_eligibility,
)
from prrt.clinical.imaging_scores import ImagingLesion, sstr_positive
from prrt.clinical.labs import Analyte, to_canonical_lab
from prrt.clinical.outcome import Status, Verdict
from prrt.clinical.profiles import Profile, get_profile
from prrt.clinical.renal import Sex
from prrt.clinical.response import (
    BaselineLesion,
    BestOverallResponse,
    NonTargetObservation,
    TargetMeasurement,
    TimePoint,
    TimePointResponse,
    assess_time_points,
    best_overall_response,
    select_baseline,
)
from prrt.clinical.retreatment import RetreatmentAssessment, RetreatmentInput, assess_retreatment
from prrt.errors import InvalidInputError, NonConformingInputWarning
from prrt.units import Dimension, parse_quantity

__all__ = [
    "LAB_ANALYTES",
    "CaseReport",
    "dose_modification_settings",
    "eligibility_input",
    "evaluate_case",
]

#: Case lab key -> analyte (canonical units of prrt.clinical.labs).
LAB_ANALYTES: dict[str, Analyte] = {
    "haemoglobin": Analyte.HAEMOGLOBIN,
    "platelets": Analyte.PLATELETS,
    "white_cells": Analyte.WHITE_CELLS,
    "neutrophils": Analyte.NEUTROPHILS,
    "lymphocytes": Analyte.LYMPHOCYTES,
    "creatinine": Analyte.CREATININE,
    "bilirubin": Analyte.BILIRUBIN,
    "albumin": Analyte.ALBUMIN,
    "ast": Analyte.AST,
    "alt": Analyte.ALT,
    "inr": Analyte.INR,
    "prothrombin_percent": Analyte.PROTHROMBIN_PERCENT,
}

_PANEL_FIELD = {
    "haemoglobin": "haemoglobin_g_per_l",
    "platelets": "platelets_10e9_per_l",
    "white_cells": "white_cells_10e9_per_l",
    "neutrophils": "neutrophils_10e9_per_l",
    "lymphocytes": "lymphocytes_10e9_per_l",
    "creatinine": "creatinine_umol_per_l",
    "bilirubin": "bilirubin_umol_per_l",
    "albumin": "albumin_g_per_l",
    "ast": "ast_u_per_l",
    "alt": "alt_u_per_l",
    "inr": "inr",
    "prothrombin_percent": "prothrombin_percent",
}
_PANEL_ULN_FIELD = {
    "bilirubin": "bilirubin_uln_umol_per_l",
    "ast": "ast_uln_u_per_l",
    "alt": "alt_uln_u_per_l",
}


_JSON_ROOTS = (
    "patient",
    "tumour",
    "imaging",
    "labs",
    "history",
    "biomarkers",
    "course",
    "response",
)


@contextmanager
def _at(path: str) -> Iterator[None]:
    """Re-raise an input error of a rule module with the JSON path of the case field.

    Errors that already name a path of this section (or of ``patient``/``labs``, whose
    values the section reuses) are left alone; others (named after the
    rule module's own argument, e.g. ``lesion[H1].longest_diameter_mm``) are given
    ``path`` as field and keep their own name in the hint.
    """
    try:
        yield
    except InvalidInputError as err:
        section = path.split(".")[0].split("[")[0]
        if err.field.split(".")[0].split("[")[0] in (section, "patient", "labs"):
            raise
        hint = err.field + (f"; {err.hint}" if err.hint else "")
        raise type(err)(path, err.value, err.expected, hint=hint) from err


def _clean(value: float) -> float:
    """Drop float noise of unit conversions (12 significant digits; see eligibility._clean)."""
    return float(f"{value:.12g}")


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


# --- edge-unit conversion ----------------------------------------------------------------------


def _quantity(text: str | None, dimension: Dimension, field: str) -> float | None:
    if text is None:
        return None
    return parse_quantity(text, dimension, field=field, positive=True)


@dataclass(frozen=True, slots=True)
class _Lab:
    value: float
    uln: float | None
    lln: float | None


def _labs(labs: Labs | None, prefix: str) -> dict[str, _Lab]:
    """Convert every lab of a panel to its canonical unit (B's explicit conversion, §0.2)."""
    out: dict[str, _Lab] = {}
    if labs is None:
        return out
    for key, analyte in LAB_ANALYTES.items():
        entry: LabValue | None = getattr(labs, key)
        if entry is None:
            continue
        field = f"{prefix}.{key}"
        value = _clean(to_canonical_lab(analyte, entry.value, entry.unit, field=f"{field}.value"))
        uln = (
            None
            if entry.uln is None
            else _clean(to_canonical_lab(analyte, entry.uln, entry.unit, field=f"{field}.uln"))
        )
        lln = (
            None
            if entry.lln is None
            else _clean(to_canonical_lab(analyte, entry.lln, entry.unit, field=f"{field}.lln"))
        )
        out[key] = _Lab(value, uln, lln)
    return out


def _panel(values: dict[str, _Lab]) -> LabPanel:
    kwargs: dict[str, float] = {}
    for key, lab in values.items():
        kwargs[_PANEL_FIELD[key]] = lab.value
        if key in _PANEL_ULN_FIELD and lab.uln is not None:
            kwargs[_PANEL_ULN_FIELD[key]] = lab.uln
    return LabPanel(**kwargs)


def _get(values: dict[str, _Lab], key: str) -> float | None:
    lab = values.get(key)
    return None if lab is None else lab.value


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


def _recist(case: Case) -> tuple[tuple[TimePointResponse, ...], BestOverallResponse | None] | None:
    resp = case.response
    if resp is None:
        return None
    lesions = []
    for i, les in enumerate(resp.baseline_lesions):
        where = f"response.baseline_lesions[{i}]"
        with _at(where):
            lesions.append(
                BaselineLesion(
                    lesion_id=les.id,
                    organ=les.organ,
                    longest_diameter_mm=_quantity(
                        les.longest_diameter, Dimension.LENGTH, f"{where}.longest_diameter"
                    ),
                    short_axis_mm=_quantity(
                        les.short_axis, Dimension.LENGTH, f"{where}.short_axis"
                    ),
                    is_lymph_node=les.lymph_node,
                    modality=les.modality,
                    slice_thickness_mm=_quantity(
                        les.slice_thickness, Dimension.LENGTH, f"{where}.slice_thickness"
                    ),
                    non_measurable_reason=les.non_measurable_reason,
                )
            )
    with _at("response.target_ids" if resp.target_ids is not None else "response.baseline_lesions"):
        baseline = select_baseline(lesions, target_ids=resp.target_ids)
    time_points = []
    for i, tp in enumerate(resp.time_points):
        where = f"response.time_points[{i}]"
        targets = []
        for j, t in enumerate(tp.targets):
            with _at(f"{where}.targets[{j}]"):
                size = _quantity(t.size, Dimension.LENGTH, f"{where}.targets[{j}].size")
                targets.append(TargetMeasurement(t.id, t.state, size))
        non_targets = []
        for j, n in enumerate(tp.non_targets):
            with _at(f"{where}.non_targets[{j}]"):
                axis = _quantity(
                    n.short_axis, Dimension.LENGTH, f"{where}.non_targets[{j}].short_axis"
                )
                non_targets.append(NonTargetObservation(n.id, n.state, axis))
        with _at(where):
            time_points.append(
                TimePoint(
                    assessment_date=tp.date,
                    targets=tuple(targets),
                    non_targets=tuple(non_targets),
                    new_lesions=tp.new_lesions,
                    tumour_markers_normal=tp.tumour_markers_normal,
                    new_lesion_first_seen=tp.new_lesion_first_seen,
                    non_target_response=tp.non_target_response,
                )
            )
    with _at("response.time_points"):
        responses = assess_time_points(baseline, time_points)
    if not responses:
        return responses, None
    last_cycle = resp.last_cycle_date
    if last_cycle is None and case.course is not None and case.course.administrations:
        last_cycle = case.course.administrations[-1].date
    with _at("response"):
        best = best_overall_response(
            responses,
            treatment_start=resp.treatment_start,
            confirmation_required=resp.confirmation_required,
            last_cycle_date=last_cycle,
        )
    return responses, best


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(v) for v in value]
    return value


def _dataclass_dict(obj: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


@dataclass(frozen=True, slots=True)
class CaseReport:
    """Everything ``prrt evaluate`` reports for one case.

    Attributes
    ----------
    case_id, assessment_date
        Identity of the case.
    profile
        The decision profile in force.
    pathway
        ``"first_course"`` or ``"retreatment"`` (prior PRRT, §8).
    verdict
        Eligibility verdict of the pathway.
    eligibility
        First-course eligibility assessment (always computed).
    retreatment
        Re-treatment assessment when a prior PRRT course is reported.
    lesion_table
        Per-lesion scores: SSTR score, threshold met, FDG, mismatch.
    lab_grades
        CTCAE grade of every laboratory value (and CKD from eGFR).
    next_cycle
        Next-cycle decision when a course is given.
    recist_time_points, best_response
        RECIST 1.1 per time point and best overall response when measurements are given.
    notes
        Remarks on the evaluation (e.g. renal equations outside their validated age range).
    """

    case_id: str
    assessment_date: date
    profile: Profile
    pathway: str
    verdict: Verdict
    eligibility: EligibilityAssessment
    retreatment: RetreatmentAssessment | None
    lesion_table: tuple[dict[str, Any], ...]
    lab_grades: tuple[ctcae.CtcaeGrade, ...]
    next_cycle: CycleDecision | None
    recist_time_points: tuple[TimePointResponse, ...] | None
    best_response: BestOverallResponse | None
    notes: tuple[str, ...] = ()

    @property
    def outcomes(self) -> tuple[Any, ...]:
        """The rule outcomes that decide the verdict (re-treatment outcomes include eligibility)."""
        return (
            self.retreatment.outcomes if self.retreatment is not None else self.eligibility.outcomes
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report (documented in ``docs/clinical.md``)."""
        elig = self.eligibility
        return {
            "case_id": self.case_id,
            "assessment_date": self.assessment_date.isoformat(),
            "profile": {"name": self.profile.name, "version": self.profile.version},
            "verdict": self.verdict.value,
            "pathway": self.pathway,
            "fired": [o.rule_id for o in self.outcomes if o.status is Status.FAIL],
            "undecided": [o.rule_id for o in self.outcomes if o.status is Status.INDETERMINATE],
            "notes": list(self.notes),
            "grade": elig.grade.to_dict(),
            "scores": {
                "sstr_min_score": elig.sstr_min_score,
                "netpet": elig.netpet.to_dict(),
                "sstr_expression": elig.expression.to_dict()
                if elig.expression is not None
                else None,
                "mismatch_lesions": list(elig.mismatch_lesions),
                "lesions": list(self.lesion_table),
            },
            "renal": {
                "crcl_ml_per_min": elig.crcl_ml_per_min,
                "crcl_method": "Cockcroft-Gault, actual body weight, rounded once to 0.1 (RENAL-2/3); drives the rules",
                "egfr_ml_per_min_1_73m2": elig.egfr_ml_per_min_1_73m2,
                "egfr_method": "CKD-EPI 2021 creatinine, race-free (RENAL-1); CTCAE CKD grade only",
            },
            "outcomes": [o.to_dict() for o in self.outcomes],
            "retreatment": self.retreatment.to_dict() if self.retreatment is not None else None,
            "lab_grades": [g.to_dict() for g in self.lab_grades],
            "next_cycle": self.next_cycle.to_dict() if self.next_cycle is not None else None,
            "recist": None
            if self.recist_time_points is None
            else {
                "time_points": [_dataclass_dict(r) for r in self.recist_time_points],
                "best_overall_response": _dataclass_dict(self.best_response)
                if self.best_response
                else None,
            },
        }


def _lesion_table(elig: EligibilityAssessment, inp: EligibilityInput) -> tuple[dict[str, Any], ...]:
    mismatch = set(elig.mismatch_lesions)
    rows = []
    for les in inp.lesions or ():
        meets = None
        if les.sstr_score is not None and elig.sstr_min_score is not None:
            meets = les.sstr_score >= elig.sstr_min_score
        rows.append(
            {
                "id": les.lesion_id,
                "target": les.target,
                "size_mm": les.size_mm,
                "sstr_score": les.sstr_score,
                "sstr_positive": None if les.sstr_score is None else sstr_positive(les.sstr_score),
                "meets_threshold": meets,
                "fdg": les.fdg.value if les.fdg else None,
                "fdg_vs_sstr": les.fdg_vs_sstr.value if les.fdg_vs_sstr else None,
                "mismatch": les.lesion_id in mismatch,
            }
        )
    return tuple(rows)


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
