"""Organ-level (MIRD) dosimetry of a SPECT/CT study: region TACs and CT masses → organ study → doses.

The VOIs of the study are made disjoint in their order
(:func:`prrt.dosimetry.voxel.recovery.partition`, the same rule as the hybrid
voxel TIA); each VOI's activity at each time point is summed on the SPECT grid
(optionally corrected for partial volume by the geometric transfer matrix with
a PSF FWHM) and its mass is summed on the CT grid from the HU→density table
(1.04 g/mL without one, dosimetry-reference.md §2.1).  Organs of the 177Lu
S-value table (names as :func:`prrt.dosimetry.svalues.canonical_region` reads
them: ``marrow`` → ``red_marrow``) become regions, lesions (names starting with
tumour/lesion/…) become lesions, the whole image becomes ``total_body`` (for
the remainder-of-body correction); other VOIs (``remainder``) are left out.
The document is the JSON study of ``docs/dosimetry-organ.md`` and goes through
:func:`prrt.dosimetry.study_input.parse_study` and
:func:`prrt.dosimetry.study.run_study` as with ``prrt dosimetry organ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from prrt.adapters.dicom import Study
from prrt.dosimetry.study import StudyResult, parse_study, run_study
from prrt.dosimetry.svalues import (
    LEFT_KIDNEY,
    REMAINDER_OF_BODY,
    RIGHT_KIDNEY,
    TOTAL_BODY,
    Phantom,
    Sex,
    canonical_region,
    load_svalue_table,
)
from prrt.dosimetry.voxel.pipeline import is_organ_region
from prrt.dosimetry.voxel.recovery import UNASSIGNED_REGION, geometric_transfer_matrix, partition
from prrt.imaging.quantification import HuDensityCalibration, hu_to_density
from prrt.imaging.volume import Volume, resample_to

__all__ = ["SOFT_TISSUE_DENSITY_G_PER_ML", "OrganRegion", "organ_dosimetry", "organ_records"]

#: Density of organs without a HU→density table (dosimetry-reference.md §2.1: 1.04–1.06 g/mL).
SOFT_TISSUE_DENSITY_G_PER_ML = 1.04
_ML_PER_KG_AT_1_G_PER_ML = 1000.0


@dataclass(frozen=True, slots=True)
class OrganRegion:
    """A VOI as the organ study saw it: its name there, kind, mass and TAC."""

    voi: str
    name: str
    kind: str
    mass_kg: float | None
    activity_bq: tuple[float, ...]


def _on(mask: Volume, grid: Volume) -> np.ndarray[Any, np.dtype[np.bool_]]:
    if mask.geometry_equal(grid):
        return np.asarray(mask.array) > 0.5
    return np.asarray(resample_to(mask, grid, order=0).array) > 0.5


def _tac(times_h: list[float], values_bq: tuple[float, ...]) -> dict[str, Any]:
    return {
        "points": [
            {"time": f"{t!r} h", "activity": f"{max(v, 0.0)!r} Bq"}
            for t, v in zip(times_h, values_bq, strict=True)
        ]
    }


def _regions(
    study: Study, calibration: HuDensityCalibration | None, psf_fwhm_mm: float | None
) -> tuple[list[OrganRegion], list[str]]:
    notes: list[str] = []
    grid = study.spect[0]
    names = list(study.masks)
    on_spect = partition([(n, _on(study.masks[n], grid)) for n in names], grid.shape)
    on_ct = dict(partition([(n, _on(study.masks[n], study.ct)) for n in names], study.ct.shape))
    observed = np.array(
        [[float(np.asarray(a.array)[m].sum()) for a in study.spect] for _, m in on_spect]
    )
    if psf_fwhm_mm is not None:
        gtm = geometric_transfer_matrix(
            on_spect, spacing_mm=grid.spacing_mm, psf_fwhm_mm=psf_fwhm_mm
        )
        correction = gtm.correct_checked(observed)
        observed = correction.corrected
        notes.extend(correction.warnings)
    if calibration is not None:
        density = np.asarray(
            hu_to_density(study.ct, calibration=calibration).array, dtype=np.float64
        )
    else:
        density = np.full(study.ct.shape, SOFT_TISSUE_DENSITY_G_PER_ML)
        notes.append(f"organ masses at {SOFT_TISSUE_DENSITY_G_PER_ML} g/mL (no HU→density table)")
    voxel_ml = study.ct.voxel_volume_ml
    known = set(load_svalue_table(Phantom.ICRP89_AM).sources)
    out = []
    for (voi, _), tac in zip(on_spect, observed, strict=True):
        values = tuple(float(v) for v in tac)
        ct_mask = on_ct.get(voi)
        mass = (
            float(density[ct_mask].sum()) * voxel_ml / _ML_PER_KG_AT_1_G_PER_ML
            if ct_mask is not None and ct_mask.any()
            else None
        )
        if voi == UNASSIGNED_REGION:
            continue
        if not is_organ_region(voi):
            out.append(OrganRegion(voi, voi, "lesion", mass, values))
            continue
        name = canonical_region(voi, field=f"masks.{voi}")
        if name in (REMAINDER_OF_BODY, TOTAL_BODY) or name not in known:
            notes.append(
                f"VOI {voi!r} left out of the organ dosimetry (not an organ of the S-value table)"
            )
            continue
        out.append(OrganRegion(voi, name, "organ", mass, values))
    total = tuple(float(v) for v in observed.sum(axis=0))
    out.append(OrganRegion(TOTAL_BODY, TOTAL_BODY, "total_body", None, total))
    return out, notes


def organ_dosimetry(
    study: Study,
    *,
    sex: str,
    renal_risk_factors: bool | None,
    calibration: HuDensityCalibration | None,
    psf_fwhm_mm: float | None,
    organ_fit_model: str,
    lesion_fit_model: str,
    patient_id: str,
) -> tuple[StudyResult, list[OrganRegion], list[str]]:
    """MIRD organ and lesion doses of one SPECT/CT study (a one-cycle organ study).

    Returns the organ-study result, the regions it used (VOI → name, mass, TAC)
    and notes.
    """
    regions, notes = _regions(study, calibration, psf_fwhm_mm)
    notes.extend(
        f"lesion {r.voi!r} left out of the organ dosimetry (no CT voxels for its mass)"
        for r in regions
        if r.kind == "lesion" and r.mass_kg is None
    )
    times_h = [t / 3600.0 for t in study.times_after_injection_s]
    per_kidney = any(r.name in (LEFT_KIDNEY, RIGHT_KIDNEY) for r in regions)
    document: dict[str, Any] = {
        "schema_version": "1.0",
        "patient": {
            "id": patient_id,
            "sex": Sex(sex).value,
            "renal_risk_factors": renal_risk_factors,
        },
        "settings": {
            "nuclide": study.nuclide,
            "kidney_convention": "per_kidney" if per_kidney else "combined",
        },
        "cycles": [
            {
                "cycle": 1,
                "administered_activity": f"{study.injected_activity_bq!r} Bq",
                "administered_at": study.injection_time.isoformat(),
                "regions": [
                    {
                        "region": r.name,
                        **({"mass": f"{r.mass_kg!r} kg"} if r.mass_kg is not None else {}),
                        "tac": _tac(times_h, r.activity_bq),
                        "fit_model": organ_fit_model,
                    }
                    for r in regions
                    if r.kind != "lesion"
                ],
                "lesions": [
                    {
                        "name": r.name,
                        "mass": f"{r.mass_kg!r} kg",
                        "tac": _tac(times_h, r.activity_bq),
                        "fit_model": lesion_fit_model,
                    }
                    for r in regions
                    if r.kind == "lesion" and r.mass_kg is not None
                ],
            }
        ],
    }
    result = run_study(parse_study(document))
    return result, regions, notes


def organ_records(result: StudyResult) -> Mapping[str, dict[str, Any]]:
    """Per region name: TIA, fit model, dose, self/cross dose, BED, G, EQD2 of the (only) cycle."""
    cycle = result.to_dict()["cycles"][0]
    kinetics = {k["region"]: k for k in cycle["kinetics"]}
    out: dict[str, dict[str, Any]] = {}
    for dose in [*cycle["organ_doses"], *cycle["lesion_doses"]]:
        name = str(dose["region"]).removeprefix("lesion:")
        bed = dose.get("bed")
        kin = kinetics.get(name) or kinetics.get(str(dose["region"])) or {}
        out[name] = {
            "organ_tia_bq_s": kin.get("time_integrated_activity_bq_s"),
            "organ_fit_model": kin.get("model"),
            "organ_absorbed_dose_gy": dose["absorbed_dose_gy"],
            "organ_self_dose_gy": dose.get("self_dose_gy"),
            "organ_cross_dose_gy": dose.get("cross_dose_gy"),
            "organ_bed_gy": None if bed is None else bed["bed_gy"],
            "organ_g_factor": None if bed is None else bed["g_factor"],
            "organ_eqd2_gy": None if bed is None else bed["eqd2_gy"],
        }
    for name, kin in kinetics.items():
        out.setdefault(
            name,
            {
                "organ_tia_bq_s": kin.get("time_integrated_activity_bq_s"),
                "organ_fit_model": kin.get("model"),
            },
        )
    return out
