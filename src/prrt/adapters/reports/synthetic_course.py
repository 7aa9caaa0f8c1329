"""Synthetic inputs of the demo: the patient's case, labs over the course, blood samples, response.

Everything here is **illustrative**, made up to exercise the pathway end to end;
none of it is patient data or a model fitted to patients.  Where a number is
chosen to look realistic, the comment says what it is compared with.

* The case (selection) follows ``examples/cases/01_eligible_midgut_net_g2.json``:
  a well-differentiated midgut NET G2 with Krenning 4/3 uptake and normal labs.
* Labs: each cycle's platelet, neutrophil and haemoglobin nadir at ~5 weeks
  (NETTER-1 median platelet nadir 5.1 weeks, clinical-rules.md MON-1) is a fixed
  fraction of baseline, with recovery to a fixed fraction before the next dose.
  The fractions are chosen so that cycle 2 gives a grade 2 thrombocytopenia
  (68 × 10⁹/L) that has recovered by the next visit: the label's rule then
  reduces cycle 3 to 3.7 GBq and re-escalates cycle 4 (clinical-rules.md §4.4).
* Blood: a bi-exponential activity concentration for the blood-based red-marrow
  method, of the same order as ``examples/dosimetry/lu177_dotatate_two_cycles.json``
  (≈ 330 kBq/mL at 30 min, ≈ 24 kBq/mL at 24 h after 7.4 GBq).
* Response: lesion diameters shrink with the cumulative tumour absorbed dose as
  ``d = d0 · exp(−k·D/3)`` (a volume surviving fraction ``exp(−k·D)`` with the
  illustrative k = 0.005 /Gy); RECIST 1.1 then classifies the time points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

__all__ = [
    "BASELINE_LABS",
    "COHORT_VARIANTS",
    "DemoPatient",
    "blood_points",
    "cohort_case",
    "demo_patient",
    "lab_panel_text",
    "labs_for_interval",
    "response_section",
    "selection_case",
]

#: Baseline labs in canonical units (g/L, 10⁹/L, µmol/L, U/L); with their reference limits.
BASELINE_LABS: dict[str, float] = {
    "haemoglobin": 131.0,
    "platelets": 228.0,
    "neutrophils": 3.9,
    "lymphocytes": 1.6,
    "white_cells": 6.2,
    "creatinine": 74.0,
    "bilirubin": 9.0,
    "albumin": 41.0,
    "ast": 26.0,
    "alt": 24.0,
}
REFERENCE_LIMITS: dict[str, dict[str, float]] = {
    "haemoglobin": {"lln": 120.0},
    "platelets": {"lln": 150.0},
    "neutrophils": {"lln": 1.8},
    "lymphocytes": {"lln": 1.0},
    "white_cells": {"lln": 4.0},
    "creatinine": {"uln": 90.0},
    "bilirubin": {"uln": 21.0},
    "albumin": {"lln": 35.0},
    "ast": {"uln": 40.0},
    "alt": {"uln": 40.0},
}
UNITS: dict[str, str] = {
    "haemoglobin": "g/L",
    "platelets": "10^9/L",
    "neutrophils": "10^9/L",
    "lymphocytes": "10^9/L",
    "white_cells": "10^9/L",
    "creatinine": "µmol/L",
    "bilirubin": "µmol/L",
    "albumin": "g/L",
    "ast": "U/L",
    "alt": "U/L",
}
#: Nadir (≈ 5 weeks after cycle k) as a fraction of baseline, per cycle (index k − 1).
_NADIR_FRACTION: dict[str, tuple[float, ...]] = {
    "platelets": (0.62, 0.298, 0.60, 0.55),
    "neutrophils": (0.78, 0.62, 0.74, 0.70),
    "lymphocytes": (0.55, 0.45, 0.50, 0.45),
    "white_cells": (0.80, 0.66, 0.76, 0.72),
    "haemoglobin": (0.96, 0.92, 0.93, 0.91),
    "creatinine": (1.02, 1.04, 1.05, 1.07),
}
#: Value shortly before the next dose as a fraction of baseline (recovery), per cycle.
_RECOVERY_FRACTION: dict[str, tuple[float, ...]] = {
    "platelets": (0.90, 0.70, 0.86, 0.84),
    "neutrophils": (0.95, 0.88, 0.92, 0.90),
    "lymphocytes": (0.80, 0.70, 0.72, 0.70),
    "white_cells": (0.95, 0.90, 0.92, 0.90),
    "haemoglobin": (0.98, 0.95, 0.96, 0.95),
    "creatinine": (1.01, 1.03, 1.04, 1.05),
}
#: Illustrative volume-response coefficient of the synthetic tumours (/Gy).
TUMOUR_RESPONSE_PER_GY = 0.005


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """The demo patient: pseudonymous id, demographics and the first treatment time."""

    patient_id: str
    sex: str
    age_years: int
    weight_kg: float
    height_cm: float
    first_administration: datetime


def demo_patient(first_administration: datetime) -> DemoPatient:
    """The synthetic patient of ``prrt demo`` (first PRRT at ``first_administration``)."""
    return DemoPatient("DEMO-001", "female", 64, 68.0, 165.0, first_administration)


def lab_panel_text(values: Mapping[str, float]) -> dict[str, str]:
    """Labs with explicit units for a course record, with the reference limits the rules need."""
    out = {k: f"{v:.4g} {UNITS[k]}" for k, v in values.items()}
    for key in ("bilirubin", "ast", "alt"):
        if key in values:
            out[f"{key}_uln"] = f"{REFERENCE_LIMITS[key]['uln']:g} {UNITS[key]}"
    return out


def labs_for_interval(cycle: int, kind: str) -> dict[str, float]:
    """Synthetic labs after cycle ``cycle``: ``kind`` is ``nadir`` or ``recovered``."""
    table = _NADIR_FRACTION if kind == "nadir" else _RECOVERY_FRACTION
    out = dict(BASELINE_LABS)
    for analyte, fractions in table.items():
        out[analyte] = BASELINE_LABS[analyte] * fractions[min(cycle, len(fractions)) - 1]
    return out


def blood_points(activity_bq: float) -> list[dict[str, str]]:
    """Blood activity concentrations (kBq/mL) after ``activity_bq``, 0.5–96 h.

    ``C(t) = (A/7.4 GBq)·(350 e^{−ln2·t/1.5 h} + 40 e^{−ln2·t/40 h})`` kBq/mL (illustrative).
    """
    scale = activity_bq / 7.4e9
    out = []
    for t_h in (0.5, 1.0, 2.0, 4.0, 24.0, 96.0):
        c = scale * (350.0 * 0.5 ** (t_h / 1.5) + 40.0 * 0.5 ** (t_h / 40.0))
        out.append({"time": f"{t_h:g} h", "concentration": f"{c:.4g} kBq/mL"})
    return out


def _labs_case() -> dict[str, Any]:
    return {
        k: {"value": round(v, 3), "unit": UNITS[k], **REFERENCE_LIMITS[k]}
        for k, v in BASELINE_LABS.items()
    }


def selection_case(patient: DemoPatient, *, assessment: date) -> dict[str, Any]:
    """The patient's case for selection (format of ``examples/cases``)."""
    return {
        "schema_version": "1.0",
        "case_id": patient.patient_id,
        "description": "Synthetic demo patient: midgut NET G2, Krenning 4/3 uptake, normal labs.",
        "assessment_date": assessment.isoformat(),
        "patient": {
            "age_years": patient.age_years,
            "sex": patient.sex,
            "weight": f"{patient.weight_kg:g} kg",
            "karnofsky_percent": 80,
            "life_expectancy_months": 36,
            "pregnancy": "not_applicable",
            "breastfeeding": False,
            "urinary_incontinence": False,
            "heart_failure_uncontrolled": False,
            "brain_metastases": "none",
        },
        "tumour": {
            "primary_site": "small_intestine",
            "differentiation": "well",
            "ki67_percent": 8,
            "mitoses_per_2mm2": 3,
            "resectable": False,
            "peritoneal_carcinomatosis": False,
            "mesenteric_mass": False,
            "liver_tumour_burden_percent": 15,
            "diffuse_bone_marrow_involvement": False,
        },
        "imaging": {
            "sstr": {
                "modality": "pet",
                "tracer": "68Ga-DOTATATE",
                "date": (assessment - timedelta(days=21)).isoformat(),
            },
            "fdg_pet": {"done": True, "date": (assessment - timedelta(days=14)).isoformat()},
            "lesions": [
                {
                    "id": "T1",
                    "site": "liver segment 6",
                    "target": True,
                    "size": "30 mm",
                    "sstr_score": 4,
                    "fdg": "negative",
                },
                {
                    "id": "T2",
                    "site": "liver segment 2",
                    "target": True,
                    "size": "20 mm",
                    "sstr_score": 3,
                    "fdg": "negative",
                },
            ],
        },
        "labs": {
            **_labs_case(),
            "fasting_glucose": {"value": 5.4, "unit": "mmol/L", "uln": 6.1},
        },
        "history": {
            "prior_therapies": [
                {
                    "kind": "ssa_long_acting",
                    "name": "octreotide LAR 30 mg",
                    "end_date": (assessment - timedelta(days=28)).isoformat(),
                }
            ]
        },
    }


def response_section(
    baseline_diameters_mm: Mapping[str, float],
    cumulative_tumour_dose_gy: Sequence[Mapping[str, float]],
    *,
    treatment_start: date,
    scan_dates: list[date],
) -> dict[str, Any]:
    """RECIST 1.1 measurements: baseline and one scan per entry of cumulative tumour doses."""
    points = []
    for when, doses in zip(scan_dates, cumulative_tumour_dose_gy, strict=True):
        targets = []
        for lesion, d0 in baseline_diameters_mm.items():
            d = d0 * math.exp(-TUMOUR_RESPONSE_PER_GY * doses[lesion] / 3.0)
            targets.append({"id": lesion, "size": f"{d:.0f} mm"})
        points.append({"date": when.isoformat(), "targets": targets, "non_targets": []})
    return {
        "treatment_start": treatment_start.isoformat(),
        "baseline_lesions": [
            {"id": k, "organ": "liver", "longest_diameter": f"{v:.0f} mm"}
            for k, v in baseline_diameters_mm.items()
        ],
        "time_points": points,
    }


#: Variations of the demo case for the cohort: (id, description, changes).
COHORT_VARIANTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("COH-01", "midgut NET G2 (as the demo patient)", {}),
    (
        "COH-02",
        "pancreatic NET G2, Ki-67 15 %",
        {"tumour.primary_site": "pancreas", "tumour.ki67_percent": 15},
    ),
    ("COH-03", "NET G3, Ki-67 30 %", {"tumour.ki67_percent": 30, "tumour.mitoses_per_2mm2": 25}),
    ("COH-04", "Krenning 1 uptake (below liver)", {"imaging.lesions.sstr_score": 1}),
    ("COH-05", "platelets 70 × 10⁹/L", {"labs.platelets.value": 70.0}),
    (
        "COH-06",
        "midgut NET G1, low kidney uptake",
        {"tumour.ki67_percent": 2, "tumour.mitoses_per_2mm2": 1},
    ),
)


def cohort_case(
    base: Mapping[str, Any], case_id: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of ``base`` with dotted-path ``changes`` (``lesions`` applies to every lesion)."""
    import copy

    case = copy.deepcopy(dict(base))
    case["case_id"] = case_id
    for path, value in changes.items():
        parts = path.split(".")
        if parts[:2] == ["imaging", "lesions"]:
            for lesion in case["imaging"]["lesions"]:
                lesion[parts[2]] = value
            continue
        node = case
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = value
    return case
