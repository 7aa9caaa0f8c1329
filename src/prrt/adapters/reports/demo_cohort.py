"""A small synthetic cohort for the demo: selection for each case, then dosimetry-guided courses.

Each cohort member is a variation of the demo case (:data:`COHORT_VARIANTS`).
Eligible members get a dosimetry-guided course (cycles of 7.4 GBq while the
cumulative kidney dose / BED and marrow dose stay under the limit profile, with
a final partial activity): organ-level MIRD dosimetry of region TACs sampled at
1, 4, 24, 96 and 168 h from the phantom's true kinetics (bi-exponential fits), with the kidney uptake and
the blood (marrow) activity scaled by a per-patient factor and 5 % measurement
noise.  The factors are drawn from a log-normal distribution (σ = 0.3, seeded;
illustrative, of the order of the inter-patient spread of kidney absorbed dose
per GBq in dosimetry-reference §7) so that the members reach the kidney limit
after different numbers of cycles.  Members who are not eligible, or who need an
MDT review, are listed with their reasons and not treated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from prrt.adapters.reports.synthetic_course import (
    BASELINE_LABS,
    COHORT_VARIANTS,
    blood_points,
    cohort_case,
    lab_panel_text,
)
from prrt.clinical.case import case_from_dict
from prrt.clinical.evaluate import evaluate_case
from prrt.clinical.outcome import Verdict
from prrt.dosimetry.study import run_study
from prrt.dosimetry.study_input import parse_study
from prrt.imaging.phantoms import SyntheticPatient, make_synthetic_patient
from prrt.planning import Action, NextCycleDecision, get_regimen
from prrt.planning.course_record import CourseRecord

__all__ = ["CohortMember", "run_demo_cohort"]

#: Sampling times (h): one early point more than the demo patient's SPECT, so that the
#: bi-exponential kidney curve keeps a residual degree of freedom.
_TIMES_H = (1.0, 4.0, 24.0, 96.0, 168.0)
_NOISE_FRACTION = 0.05
_SPREAD_SIGMA = 0.3
_LOW_KIDNEY_FACTOR = 0.6


@dataclass(frozen=True)
class CohortMember:
    """One cohort member: selection and (when treated) the dosimetry-guided course."""

    case_id: str
    description: str
    verdict: Verdict
    reasons: tuple[str, ...]
    kidney_factor: float
    marrow_factor: float
    activities_bq: tuple[float, ...]
    kidney_dose_gy: tuple[float, ...]
    kidney_bed_gy: float | None
    marrow_dose_gy: float | None
    tumour_dose_gy: float | None
    final: NextCycleDecision | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary (units in the keys)."""
        return {
            "case_id": self.case_id,
            "description": self.description,
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "kidney_uptake_factor": self.kidney_factor,
            "marrow_factor": self.marrow_factor,
            "cycles_given": len(self.activities_bq),
            "activities_gbq": [a / 1e9 for a in self.activities_bq],
            "total_activity_gbq": sum(self.activities_bq) / 1e9,
            "cumulative_kidney_dose_gy": sum(self.kidney_dose_gy),
            "kidney_dose_per_cycle_gy": list(self.kidney_dose_gy),
            "cumulative_kidney_bed_gy": self.kidney_bed_gy,
            "cumulative_marrow_dose_gy": self.marrow_dose_gy,
            "cumulative_tumour_1_dose_gy": self.tumour_dose_gy,
            "final_decision": None if self.final is None else self.final.to_dict(),
        }


def _tac(
    phantom: SyntheticPatient,
    region: str,
    activity_bq: float,
    factor: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    scale = activity_bq / phantom.injected_activity_bq * factor
    points = []
    for t in _TIMES_H:
        a = phantom.true_activity_bq(region, t * 3600.0) * scale
        a *= max(0.5, 1.0 + _NOISE_FRACTION * float(rng.standard_normal()))
        points.append({"time": f"{t:g} h", "activity": f"{a / 1e6:.5g} MBq"})
    return {"points": points}


def _cycle(
    number: int,
    at: datetime,
    activity_bq: float,
    phantom: SyntheticPatient,
    kidney_factor: float,
    marrow_factor: float,
    rng: np.random.Generator,
) -> dict[str, Any]:
    masses = phantom.region_masses_kg
    regions = []
    for r in ("kidneys", "liver", "spleen"):
        factor = kidney_factor if r == "kidneys" else 1.0
        regions.append(
            {
                "region": r,
                "mass": f"{masses[r] * 1000:.1f} g",
                "tac": _tac(phantom, r, activity_bq, factor, rng),
                "fit_model": "bi_exponential",
            }
        )
    blood = blood_points(activity_bq * marrow_factor)
    return {
        "cycle": number,
        "administered_activity": f"{activity_bq / 1e9:.6g} GBq",
        "administered_at": at.isoformat(),
        "regions": regions,
        "lesions": [
            {
                "name": "tumour_1",
                "mass": f"{masses['tumour_1'] * 1000:.2f} g",
                "tac": _tac(phantom, "tumour_1", activity_bq, 1.0, rng),
                "fit_model": "mono_exponential_uptake",
            }
        ],
        "blood": {"points": blood, "rmblr": 1},
    }


def _treat(
    case_id: str,
    first: datetime,
    phantom: SyntheticPatient,
    kidney_factor: float,
    marrow_factor: float,
    rng: np.random.Generator,
) -> tuple[list[float], list[float], float | None, float | None, float | None, NextCycleDecision]:
    regimen = get_regimen("DOSIMETRY_GUIDED")
    labs = lab_panel_text(BASELINE_LABS)
    record: dict[str, Any] = {
        "regimen": regimen.id,
        "patient": {"sex": "female", "age_years": 64, "weight": "68 kg"},
        "baseline_labs": labs,
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
            "id": case_id,
            "sex": "female",
            "body_mass": "68 kg",
            "renal_risk_factors": False,
        },
        "cycles": [],
    }
    at, activity = first, 7.4e9
    activities: list[float] = []
    while True:
        number = len(activities) + 1
        study["cycles"].append(
            _cycle(number, at, activity, phantom, kidney_factor, marrow_factor, rng)
        )
        result = run_study(parse_study(study))
        dosimetry = result.cycles[-1].dosimetry
        record["administrations"].append(
            {"cycle": number, "time": at.isoformat(), "activity": f"{activity / 1e9:.6g} GBq"}
        )
        record["organ_doses"].append(
            {
                "cycle": number,
                "regions": {
                    name: (
                        {
                            "absorbed_dose": f"{o.absorbed_dose_gy:.6g} Gy",
                            "g_factor": o.g_factor,
                            "alpha_beta": f"{o.alpha_beta_gy:g} Gy",
                        }
                        if o.g_factor is not None and o.alpha_beta_gy is not None
                        else f"{o.absorbed_dose_gy:.6g} Gy"
                    )
                    for name, o in dosimetry.organs.items()
                    if not name.startswith("lesion:")
                },
            }
        )
        activities.append(activity)
        draw_on = at.date() + timedelta(weeks=7)
        record["lab_draws"].append(
            {"date": draw_on.isoformat(), "for_cycle": number + 1, "labs": labs}
        )
        decision = CourseRecord.from_dict(record).decide(assessment_date=draw_on)
        if decision.action not in (Action.GIVE_FULL, Action.GIVE_REDUCED):
            break
        at = at + timedelta(weeks=8)
        activity = float(decision.activity_bq or activity)
    cum = result.cumulative
    kidneys = [c.dosimetry.organs["kidneys"].absorbed_dose_gy for c in result.cycles]
    marrow = cum["red_marrow"].absorbed_dose_gy if "red_marrow" in cum else None
    tumour = cum["lesion:tumour_1"].absorbed_dose_gy if "lesion:tumour_1" in cum else None
    return activities, kidneys, cum["kidneys"].bed_gy, marrow, tumour, decision


def run_demo_cohort(
    base_case: dict[str, Any],
    first: datetime,
    *,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> list[CohortMember]:
    """Select and (when eligible) treat every member of :data:`COHORT_VARIANTS`."""
    report = progress or (lambda _s: None)
    phantom = make_synthetic_patient(fwhm_mm=None, poisson_noise=False, injection_time=first)
    rng = np.random.default_rng(seed)
    members = []
    for case_id, description, changes in COHORT_VARIANTS:
        report(f"cohort: {case_id} ({description})")
        kidney_factor = float(math.exp(_SPREAD_SIGMA * rng.standard_normal()))
        marrow_factor = float(math.exp(_SPREAD_SIGMA * rng.standard_normal()))
        if "low kidney uptake" in description:
            kidney_factor = _LOW_KIDNEY_FACTOR
        report_ = evaluate_case(case_from_dict(cohort_case(base_case, case_id, changes)))
        d = report_.to_dict()
        reasons = tuple(d["fired"]) + tuple(f"{r} (undecided)" for r in d["undecided"])
        if report_.verdict is not Verdict.ELIGIBLE:
            members.append(
                CohortMember(
                    case_id,
                    description,
                    report_.verdict,
                    reasons,
                    kidney_factor,
                    marrow_factor,
                    (),
                    (),
                    None,
                    None,
                    None,
                    None,
                )
            )
            continue
        acts, kidneys, bed, marrow, tumour, final = _treat(
            case_id, first, phantom, kidney_factor, marrow_factor, rng
        )
        members.append(
            CohortMember(
                case_id,
                description,
                report_.verdict,
                reasons,
                kidney_factor,
                marrow_factor,
                tuple(acts),
                tuple(kidneys),
                bed,
                marrow,
                tumour,
                final,
            )
        )
    return members
