"""The demo patient's course: selection → plan → cycles (SPECT/CT, dosimetry, labs, decision) → response.

Each cycle:

1. a synthetic 4-time-point SPECT/CT (:func:`prrt.imaging.phantoms.make_synthetic_patient`,
   10 mm FWHM blur, Poisson noise) after the activity the previous decision allowed;
2. voxel dosimetry (hybrid TIA with GTM partial-volume correction, dose-voxel-kernel
   convolution, density correction) → the RTDOSE of the cycle;
3. organ-level MIRD dosimetry of the GTM-corrected region TACs (kidneys, liver,
   spleen), the tumours (sphere model) and the red marrow (blood method) with BED;
4. release and close-contact restrictions after the dose;
5. labs (nadir and pre-dose draws) and the next-cycle decision from the course
   record (the label's dose modification and the cumulative dose limits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from prrt.adapters.reports.synthetic_course import (
    BASELINE_LABS,
    DemoPatient,
    blood_points,
    lab_panel_text,
    labs_for_interval,
    response_section,
    selection_case,
)
from prrt.clinical.case import case_from_dict
from prrt.clinical.evaluate import CaseReport, evaluate_case
from prrt.dosimetry.course import CycleDosimetry
from prrt.dosimetry.study import StudyResult, run_study
from prrt.dosimetry.study_input import parse_study
from prrt.dosimetry.voxel.pipeline import VoxelDoseResult, voxel_dosimetry
from prrt.dosimetry.voxel.recovery import geometric_transfer_matrix, partition
from prrt.imaging.phantoms import SyntheticPatient, make_synthetic_patient
from prrt.planning import (
    Action,
    CoursePlan,
    DoseRateClearance,
    NextCycleDecision,
    PatientFactors,
    ReleaseAssessment,
    Restriction,
    assess_release,
    contact_restrictions,
    get_regimen,
    plan_course,
)
from prrt.planning.course_record import CourseRecord

__all__ = ["CycleOutcome", "DemoCourse", "run_demo_course"]

Progress = Callable[[str], None]
#: Camera/reconstruction resolution of the synthetic SPECT (FWHM, mm).
PSF_FWHM_MM = 10.0
_ORGANS = ("kidneys", "liver", "spleen")
_TUMOURS = ("tumour_1", "tumour_2")
_LESION_IDS = {"tumour_1": "T1", "tumour_2": "T2"}
#: Organ TAC model: bi-exponential, as the voxel pipeline's chain.  With 4 points from
#: 4 h on, the AICc rule (≤ 2 parameters for N ≤ 4) would pick a mono-exponential
#: and miss the fast renal component before the first scan (−12 % kidney TIA on
#: the phantom, whose kidney curve is bi-exponential with 3 h and 50 h).
ORGAN_FIT_MODEL = "bi_exponential"
#: Release is assessed when the patient would leave: 4.5 h after the start of the infusion.
_RELEASE_AFTER_H = 4.5


@dataclass(frozen=True)
class CycleOutcome:
    """Everything that happened in one cycle."""

    number: int
    administered_at: datetime
    activity_bq: float
    phantom: SyntheticPatient
    voxel: VoxelDoseResult
    region_tacs_bq: dict[str, list[float]]
    times_h: tuple[float, ...]
    release: ReleaseAssessment
    restrictions: tuple[Restriction, ...]
    clearance: DoseRateClearance
    decision: NextCycleDecision
    lab_draws: list[dict[str, Any]]


@dataclass
class DemoCourse:
    """The whole course of the demo patient."""

    patient: DemoPatient
    selection: CaseReport
    selection_case: dict[str, Any]
    plan: CoursePlan
    cycles: list[CycleOutcome] = field(default_factory=list)
    organ_study: dict[str, Any] = field(default_factory=dict)
    organ_result: StudyResult | None = None
    course_record: dict[str, Any] = field(default_factory=dict)
    follow_up: CaseReport | None = None
    follow_up_case: dict[str, Any] = field(default_factory=dict)
    cumulative_dose_map_gy: np.ndarray[Any, Any] | None = None


def _region_tacs(phantom: SyntheticPatient) -> dict[str, list[float]]:
    """Region totals at each time, corrected for partial volume by the GTM (Bq)."""
    names = list(phantom.masks)
    regions = partition(
        [(n, phantom.masks[n].array.astype(bool)) for n in names], phantom.ct_hu.shape
    )
    observed = np.array(
        [[float(a.array[mask].sum()) for a in phantom.activity_maps_bq] for _, mask in regions]
    )
    gtm = geometric_transfer_matrix(
        regions, spacing_mm=phantom.ct_hu.spacing_mm, psf_fwhm_mm=PSF_FWHM_MM
    )
    corrected = gtm.correct_checked(observed).corrected
    return {name: [float(v) for v in corrected[i]] for i, (name, _) in enumerate(regions)}


def _tac(times_h: tuple[float, ...], values_bq: list[float]) -> dict[str, Any]:
    return {
        "points": [
            {"time": f"{t:g} h", "activity": f"{v / 1e6:.5g} MBq"}
            for t, v in zip(times_h, values_bq, strict=True)
        ]
    }


def _organ_cycle(
    number: int,
    at: datetime,
    activity_bq: float,
    phantom: SyntheticPatient,
    tacs: Mapping[str, list[float]],
    times_h: tuple[float, ...],
) -> dict[str, Any]:
    masses = phantom.region_masses_kg
    return {
        "cycle": number,
        "administered_activity": f"{activity_bq / 1e9:.4g} GBq",
        "administered_at": at.isoformat(),
        "regions": [
            {
                "region": r,
                "mass": f"{masses[r] * 1000:.1f} g",
                "tac": _tac(times_h, tacs[r]),
                "fit_model": ORGAN_FIT_MODEL,
            }
            for r in _ORGANS
        ],
        "lesions": [
            {
                "name": t,
                "mass": f"{masses[t] * 1000:.2f} g",
                "tac": _tac(times_h, tacs[t]),
                "fit_model": "mono_exponential_uptake",
            }
            for t in _TUMOURS
        ],
        "blood": {"points": blood_points(activity_bq), "rmblr": 1},
    }


def _organ_doses_entry(cycle: CycleDosimetry) -> dict[str, Any]:
    regions: dict[str, Any] = {}
    for name, organ in cycle.organs.items():
        if organ.g_factor is not None and organ.alpha_beta_gy is not None:
            regions[name] = {
                "absorbed_dose": f"{organ.absorbed_dose_gy:.6g} Gy",
                "g_factor": organ.g_factor,
                "alpha_beta": f"{organ.alpha_beta_gy:g} Gy",
            }
        else:
            regions[name] = f"{organ.absorbed_dose_gy:.6g} Gy"
    return {"cycle": cycle.cycle_number, "regions": regions}


def _lab_draws(cycle: int, at: datetime, next_due: date) -> list[dict[str, Any]]:
    """Nadir draw (+5 weeks) and pre-dose draw (7 days before the next due date)."""
    nadir_on = at.date() + timedelta(weeks=5)
    pre_on = max(next_due - timedelta(days=7), nadir_on + timedelta(days=7))
    return [
        {
            "date": nadir_on.isoformat(),
            "for_cycle": cycle + 1,
            "labs": lab_panel_text(labs_for_interval(cycle, "nadir")),
        },
        {
            "date": pre_on.isoformat(),
            "for_cycle": cycle + 1,
            "labs": lab_panel_text(labs_for_interval(cycle, "recovered")),
        },
    ]


def _baseline_diameters_mm(phantom: SyntheticPatient) -> dict[str, float]:
    """Diameter of a sphere of each tumour's volume (mass / 1.04 g/mL), mm."""
    out = {}
    for t in _TUMOURS:
        volume_ml = phantom.region_masses_kg[t] * 1000.0 / 1.04
        out[_LESION_IDS[t]] = (6.0 * volume_ml / np.pi) ** (1.0 / 3.0) * 10.0
    return out


def run_demo_course(
    patient: DemoPatient,
    *,
    seed: int,
    progress: Progress | None = None,
    shape: tuple[int, int, int] = (64, 64, 64),
) -> DemoCourse:
    """Run the demo patient's whole course (see the module docstring)."""
    report = progress or (lambda _s: None)
    first = patient.first_administration
    report("selection: eligibility of the synthetic case")
    case_doc = selection_case(patient, assessment=first.date() - timedelta(days=7))
    selection = evaluate_case(case_from_dict(case_doc))
    regimen = get_regimen("LUTATHERA_STANDARD")
    factors = PatientFactors(
        weight_kg=patient.weight_kg,
        height_cm=patient.height_cm,
        peritoneal_or_mesenteric_disease=False,
        last_long_acting_ssa=first.date() - timedelta(days=35),
    )
    plan = plan_course(regimen, first, factors)
    course = DemoCourse(patient, selection, case_doc, plan)
    record: dict[str, Any] = {
        "regimen": regimen.id,
        "patient": {
            "sex": patient.sex,
            "age_years": patient.age_years,
            "weight": f"{patient.weight_kg:g} kg",
        },
        "baseline_labs": lab_panel_text(BASELINE_LABS),
        "administrations": [],
        "lab_draws": [],
        "organ_doses": [],
        "renal_risk_factors": False,
        "pregnant": False,
        "mds_or_aml": False,
    }
    study: dict[str, Any] = {
        "schema_version": "1.0",
        "patient": {
            "id": patient.patient_id,
            "sex": patient.sex,
            "body_mass": f"{patient.weight_kg:g} kg",
            "renal_risk_factors": False,
        },
        "settings": {"nuclide": "Lu-177"},
        "cycles": [],
        "plan": {"activity_per_cycle": "7.4 GBq", "region": "kidneys"},
    }
    at, activity = (
        first,
        regimen.components[0].activity_bq(weight_kg=patient.weight_kg, bsa_m2=None),
    )
    cumulative: np.ndarray[Any, Any] | None = None
    for number in range(1, regimen.cycle_limit + 1):
        report(f"cycle {number}: synthetic SPECT/CT after {activity / 1e9:.3g} GBq")
        phantom = make_synthetic_patient(
            shape=shape,
            injected_activity_bq=activity,
            injection_time=at,
            fwhm_mm=PSF_FWHM_MM,
            rng=np.random.default_rng(seed + number),
        )
        report(f"cycle {number}: voxel dosimetry")
        voxel = voxel_dosimetry(
            phantom.activity_maps_bq,
            injection_time=at,
            nuclide="Lu-177",
            masks=phantom.masks,
            density=phantom.density_g_per_ml,
            approach="hybrid",
            psf_fwhm_mm=PSF_FWHM_MM,
        )
        dose = voxel.dose.array.astype(np.float64)
        cumulative = dose if cumulative is None else cumulative + dose
        report(f"cycle {number}: organ dosimetry (MIRD), release and restrictions")
        times_h = tuple(float(t) / 3600.0 for t in phantom.times_s)
        tacs = _region_tacs(phantom)
        study["cycles"].append(_organ_cycle(number, at, activity, phantom, tacs, times_h))
        organ = run_study(parse_study(study))
        record["administrations"].append(
            {"cycle": number, "time": at.isoformat(), "activity": f"{activity / 1e9:.6g} GBq"}
        )
        record["organ_doses"].append(_organ_doses_entry(organ.cycles[-1].dosimetry))
        clearance = DoseRateClearance.from_activity(activity)
        release = assess_release(clearance, at, at + timedelta(hours=_RELEASE_AFTER_H))
        restrictions = contact_restrictions(clearance, at, treatments_per_year=4)
        report(f"cycle {number}: labs and next-cycle decision")
        next_due = at.date() + timedelta(weeks=8)
        draws = _lab_draws(number, at, next_due) if number < regimen.cycle_limit else []
        record["lab_draws"].extend(draws)
        if not draws:  # after the last cycle: labs for the course-complete check
            draws = _lab_draws(number, at, next_due)
            record["lab_draws"].extend(draws)
        on = date.fromisoformat(draws[-1]["date"])
        decision = CourseRecord.from_dict(record).decide(assessment_date=on)
        course.cycles.append(
            CycleOutcome(
                number,
                at,
                activity,
                phantom,
                voxel,
                tacs,
                times_h,
                release,
                restrictions,
                clearance,
                decision,
                draws,
            )
        )
        course.organ_result = organ
        if decision.action not in (Action.GIVE_FULL, Action.GIVE_REDUCED):
            break
        earliest = decision.earliest_date or next_due
        day = max(next_due, earliest)
        at = at + timedelta(days=(day - at.date()).days)
        activity = float(decision.activity_bq or activity)
    course.organ_study = study
    course.course_record = record
    course.cumulative_dose_map_gy = cumulative
    report("response: RECIST 1.1 at follow-up")
    course.follow_up_case, course.follow_up = _follow_up(course)
    return course


def _follow_up(course: DemoCourse) -> tuple[dict[str, Any], CaseReport]:
    organ = course.organ_result
    assert organ is not None
    first = course.cycles[0]
    diameters = _baseline_diameters_mm(first.phantom)
    per_cycle = [
        {_LESION_IDS[t]: c.lesion_doses[t].absorbed_dose_gy for t in _TUMOURS} for c in organ.cycles
    ]
    last = course.cycles[-1].administered_at.date()
    # scans: after cycle 2 (before cycle 3) and 12 weeks after the last cycle
    mid = course.cycles[min(2, len(course.cycles)) - 1].administered_at.date() + timedelta(weeks=7)
    scans = [mid, last + timedelta(weeks=12)]
    doses = [
        {k: sum(p[k] for p in per_cycle[: min(2, len(per_cycle))]) for k in diameters},
        {k: sum(p[k] for p in per_cycle) for k in diameters},
    ]
    case = dict(course.selection_case)
    case["assessment_date"] = scans[-1].isoformat()
    case["response"] = response_section(
        diameters, doses, treatment_start=first.administered_at.date(), scan_dates=scans
    )
    return case, evaluate_case(case_from_dict(case))
