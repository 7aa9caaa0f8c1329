"""Results of an organ-dosimetry study: per cycle and for the whole course.

:class:`StudyResult` (returned by :func:`prrt.dosimetry.study.run_study`) holds
one :class:`CycleResult` per cycle, the cumulative course doses, the limit
checks and the cycle plan; :meth:`StudyResult.to_dict` gives the JSON payload
documented in ``docs/dosimetry-organ.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prrt.dosimetry.course import CumulativeOrganDose, CycleDosimetry, CyclePlan, LimitCheck
from prrt.dosimetry.marrow import RED_MARROW, MarrowDose
from prrt.dosimetry.organ import OrganDose
from prrt.dosimetry.radiobiology import BedResult
from prrt.dosimetry.study_input import STUDY_SCHEMA_VERSION, OrganStudy, ReportedDose
from prrt.physics import get_nuclide

__all__ = ["CycleResult", "StudyResult"]


@dataclass(frozen=True, slots=True)
class CycleResult:
    """Everything computed for one cycle."""

    number: int
    administered_activity_bq: float
    kinetics: tuple[dict[str, Any], ...]
    organ_doses: Mapping[str, OrganDose]
    organ_beds: Mapping[str, BedResult | None]
    lesion_doses: Mapping[str, OrganDose]
    lesion_beds: Mapping[str, BedResult | None]
    marrow: MarrowDose | None
    reported: tuple[ReportedDose, ...]
    dosimetry: CycleDosimetry
    dose_sd_from_tia_gy: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""

        def with_bed(dose: OrganDose, bed: BedResult | None) -> dict[str, Any]:
            return {
                **dose.to_dict(),
                "absorbed_dose_sd_from_tia_gy": self.dose_sd_from_tia_gy.get(dose.region),
                "bed": None if bed is None else bed.to_dict(),
            }

        return {
            "cycle": self.number,
            "administered_activity_bq": self.administered_activity_bq,
            "kinetics": list(self.kinetics),
            "organ_doses": [
                with_bed(d, self.organ_beds.get(r)) for r, d in self.organ_doses.items()
            ],
            "lesion_doses": [
                with_bed(d, self.lesion_beds.get(r)) for r, d in self.lesion_doses.items()
            ],
            "red_marrow": None
            if self.marrow is None
            else {**self.marrow.to_dict(), "bed": _opt(self.organ_beds.get(RED_MARROW))},
            "reported_doses": [
                {
                    "region": r.region,
                    "absorbed_dose_gy": r.absorbed_dose_gy,
                    "effective_half_life_s": r.effective_half_life_s,
                    "bed": _opt(self.organ_beds.get(r.region)),
                }
                for r in self.reported
            ],
        }


def _opt(bed: BedResult | None) -> dict[str, Any] | None:
    return None if bed is None else bed.to_dict()


@dataclass(frozen=True, slots=True)
class StudyResult:
    """Result of :func:`run_study`."""

    study: OrganStudy
    cycles: tuple[CycleResult, ...]
    cumulative: Mapping[str, CumulativeOrganDose]
    limit_checks: tuple[LimitCheck, ...]
    plan: CyclePlan | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON payload documented in ``docs/dosimetry-organ.md``."""
        s = self.study
        return {
            "schema_version": STUDY_SCHEMA_VERSION,
            "study": {
                "patient_id": s.patient_id,
                "sex": s.sex.value,
                "phantom": s.phantom.value,
                "nuclide": s.settings.nuclide,
                "kidney_convention": s.settings.kidney_convention.value,
                "mass_scaling": s.settings.mass_scaling.value,
                "rbe_alpha": s.settings.rbe_alpha,
                "limit_profile": s.settings.limit_profile.name,
                "renal_risk_factors": s.renal_risk_factors,
                "course_dose_quantity": _course_quantity(s),
            },
            "cycles": [c.to_dict() for c in self.cycles],
            "course": {
                "cumulative": [c.to_dict() for c in self.cumulative.values()],
                "limit_checks": [c.to_dict() for c in self.limit_checks],
                "plan": None if self.plan is None else self.plan.to_dict(),
            },
            "notes": list(self.notes),
        }


def _course_quantity(study: OrganStudy) -> str:
    alpha = get_nuclide(study.settings.nuclide).chain_emissions.alpha_mev > 0.0
    return "rbe_weighted_dose" if alpha else "absorbed_dose"
