"""Absorbed dose: organ-level MIRD, red marrow, radiobiology (BED/EQD2), courses and voxel dosimetry.

Organ level (:mod:`prrt.dosimetry.organ`, :mod:`~prrt.dosimetry.svalues`,
:mod:`~prrt.dosimetry.spheres`): the MIRD schema with ICRP-89 177Lu S values,
mass scaling, per-kidney or both-kidney conventions, remainder-of-body
correction, unit-density spheres for lesions and local deposition for 90Y and
alpha emitters.  Red marrow by the EANM 2010 blood method
(:mod:`~prrt.dosimetry.marrow`).  Linear-quadratic radiobiology
(:mod:`~prrt.dosimetry.radiobiology`), cumulative courses, limit checks and the
dosimetry-guided planner (:mod:`~prrt.dosimetry.course`), the organ-study
runner (:mod:`~prrt.dosimetry.study`).  Voxel dosimetry lives in
:mod:`prrt.dosimetry.voxel`.  See ``docs/dosimetry-organ.md`` and
``docs/dosimetry-voxel.md``.
"""

from __future__ import annotations

from prrt.dosimetry.course import (
    CycleDosimetry,
    CycleOrganDose,
    check_limits,
    cumulative_doses,
    load_limit_profile,
    plan_cycles,
)
from prrt.dosimetry.marrow import MarrowDose, red_marrow_dose_blood_method, rmblr_from_hematocrit
from prrt.dosimetry.organ import (
    KidneyConvention,
    OrganDose,
    lesion_dose,
    local_deposition_dose,
    mird_organ_doses,
)
from prrt.dosimetry.radiobiology import (
    ExponentialDoseRate,
    bed_for_dose_rate,
    bed_gy,
    eqd2_gy,
    g_factor,
    g_factor_sampled,
    radiobiology_parameters,
)
from prrt.dosimetry.spheres import sphere_s_value_gy_per_bq_s
from prrt.dosimetry.study import organ_study_schema, parse_study, run_study
from prrt.dosimetry.svalues import MassScaling, Phantom, Sex, load_svalue_table

__all__ = [
    "CycleDosimetry",
    "CycleOrganDose",
    "ExponentialDoseRate",
    "KidneyConvention",
    "MarrowDose",
    "MassScaling",
    "OrganDose",
    "Phantom",
    "Sex",
    "bed_for_dose_rate",
    "bed_gy",
    "check_limits",
    "cumulative_doses",
    "eqd2_gy",
    "g_factor",
    "g_factor_sampled",
    "lesion_dose",
    "load_limit_profile",
    "load_svalue_table",
    "local_deposition_dose",
    "mird_organ_doses",
    "organ_study_schema",
    "parse_study",
    "plan_cycles",
    "radiobiology_parameters",
    "red_marrow_dose_blood_method",
    "rmblr_from_hematocrit",
    "run_study",
    "sphere_s_value_gy_per_bq_s",
]
