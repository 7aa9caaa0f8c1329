"""Frozen input records of an organ-dosimetry study, in canonical units.

:func:`prrt.dosimetry.study_input.parse_study` builds an :class:`OrganStudy`
(settings, and per cycle the regions, lesions, blood curve and reported doses)
from a study document; :func:`prrt.dosimetry.study.run_study` computes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prrt.dosimetry.course import (
    DEFAULT_DOSE_UNCERTAINTY_FRACTION,
    LimitProfile,
    Predictor,
    load_limit_profile,
)
from prrt.dosimetry.organ import DEFAULT_RBE_ALPHA, KidneyConvention
from prrt.dosimetry.svalues import MassScaling, Phantom, Sex
from prrt.kinetics import TimeActivityCurve

__all__ = [
    "BloodInput",
    "CycleInput",
    "LesionInput",
    "OrganStudy",
    "RegionInput",
    "ReportedDose",
    "StudySettings",
]


@dataclass(frozen=True, slots=True)
class RegionInput:
    """One source/target region of one cycle."""

    name: str
    path: str
    mass_kg: float | None
    tac: TimeActivityCurve | None
    tia_bq_s: float | None
    effective_half_life_s: float | None
    fit_model: str


@dataclass(frozen=True, slots=True)
class LesionInput:
    """One lesion of one cycle (sphere model)."""

    name: str
    path: str
    mass_kg: float
    composition: str
    tac: TimeActivityCurve | None
    tia_bq_s: float | None
    effective_half_life_s: float | None
    fit_model: str


@dataclass(frozen=True, slots=True)
class BloodInput:
    """Blood activity concentrations (Bq/mL) of one cycle and the marrow-to-blood ratio."""

    path: str
    curve: TimeActivityCurve
    rmblr: float
    fit_model: str


@dataclass(frozen=True, slots=True)
class ReportedDose:
    """An organ dose reported from elsewhere (e.g. an earlier cycle)."""

    region: str
    path: str
    absorbed_dose_gy: float
    effective_half_life_s: float | None
    uncertainty_fraction: float | None


@dataclass(frozen=True, slots=True)
class CycleInput:
    """Inputs of one treatment cycle."""

    number: int
    path: str
    administered_activity_bq: float
    administered_at: datetime | None
    regions: tuple[RegionInput, ...]
    lesions: tuple[LesionInput, ...]
    blood: BloodInput | None
    reported: tuple[ReportedDose, ...]


@dataclass(frozen=True, slots=True)
class StudySettings:
    """Settings of a study (all with documented defaults)."""

    nuclide: str = "Lu-177"
    kidney_convention: KidneyConvention = KidneyConvention.COMBINED
    mass_scaling: MassScaling = MassScaling.LINEAR
    rbe_alpha: float = DEFAULT_RBE_ALPHA
    limit_profile: LimitProfile = field(default_factory=load_limit_profile)
    predictor: Predictor = Predictor.LAST_CYCLE
    dose_uncertainty_fraction: float = DEFAULT_DOSE_UNCERTAINTY_FRACTION
    coverage_factor: float = 2.0


@dataclass(frozen=True, slots=True)
class OrganStudy:
    """A parsed organ-level dosimetry study, in canonical units."""

    patient_id: str
    sex: Sex
    phantom: Phantom
    body_mass_kg: float | None
    renal_risk_factors: bool | None
    settings: StudySettings
    cycles: tuple[CycleInput, ...]
    plan_activity_bq: float | None = None
    plan_region: str = "kidneys"
    notes: tuple[str, ...] = ()
