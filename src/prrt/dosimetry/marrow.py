"""Red-marrow absorbed dose by the blood-based method (EANM 2010).

``Ã_RM = ã_blood · RMBLR · m_RM`` (Hindorf et al., EJNMMI 2010;37:1238), with
``ã_blood`` the TIA per mL of blood (1 mL of blood taken as 1 g, as in the
guideline's "per gram (≈ mL)"), and

``D_RM = Ã_RM·S(RM←RM) + Σ_h Ã_h·S(RM←h) + Ã_RB·S(RM←RB)``

where the remainder-of-body term uses the corrected S value with the red
marrow and the segmented organs removed from the total body
(dosimetry-reference.md §6.1).  The cross-dose from the remainder of body and
the organs is not negligible for 177Lu-DOTATATE (Forrer et al., EJNMMI 2009),
so the result says whether it was included.

RMBLR (red-marrow-to-blood activity-concentration ratio): 1 for small
peptides without marrow binding (Forrer et al. 2009), or
``RMECFF/(1 − HCT)`` with RMECFF = 0.19 (Sgouros, J Nucl Med 1993;34:689).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prrt.dosimetry.organ import KidneyConvention, OrganDose, mird_organ_doses
from prrt.dosimetry.svalues import (
    REMAINDER_OF_BODY,
    TOTAL_BODY,
    MassScaling,
    Phantom,
    canonical_region,
    load_svalue_table,
)
from prrt.errors import InvalidInputError

__all__ = [
    "DEFAULT_RMBLR",
    "RED_MARROW",
    "RMECFF",
    "MarrowDose",
    "red_marrow_dose_blood_method",
    "red_marrow_mass_kg",
    "rmblr_from_hematocrit",
]

RED_MARROW = "red_marrow"
#: RMBLR for small peptides without specific marrow binding (Forrer et al., EJNMMI 2009).
DEFAULT_RMBLR = 1.0
#: Red-marrow extracellular fluid fraction (Sgouros, J Nucl Med 1993;34:689).
RMECFF = 0.19
_KG_PER_ML_BLOOD = 1e-3  # 1 mL of blood counted as 1 g (EANM 2010 convention)


def rmblr_from_hematocrit(*, hematocrit_fraction: float, rmecff: float = RMECFF) -> float:
    """``RMBLR = RMECFF/(1 − HCT)`` (Sgouros 1993), for non-binding agents.

    Examples
    --------
    RM-02: HCT 0.40 → 0.317; HCT 0.47 → 0.358.

    >>> round(rmblr_from_hematocrit(hematocrit_fraction=0.40), 3)
    0.317
    >>> round(rmblr_from_hematocrit(hematocrit_fraction=0.47), 3)
    0.358
    """
    if isinstance(hematocrit_fraction, bool) or not isinstance(hematocrit_fraction, int | float):
        raise InvalidInputError(
            "hematocrit_fraction", hematocrit_fraction, "a fraction such as 0.42"
        )
    if not (math.isfinite(hematocrit_fraction) and 0.1 <= hematocrit_fraction <= 0.7):
        raise InvalidInputError(
            "hematocrit_fraction",
            hematocrit_fraction,
            "a haematocrit between 0.1 and 0.7 given as a fraction (0.42, not 42)",
        )
    if not (math.isfinite(rmecff) and 0.0 < rmecff < 1.0):
        raise InvalidInputError("rmecff", rmecff, "a fraction between 0 and 1")
    return rmecff / (1.0 - hematocrit_fraction)


def red_marrow_mass_kg(*, phantom: Phantom, body_mass_kg: float | None = None) -> float:
    """ICRP-89 red-marrow mass, optionally scaled by the patient's body mass.

    ``m_RM = m_RM,ph · m_body/m_body,ph`` (dosimetry-reference.md §6.1).

    Examples
    --------
    >>> red_marrow_mass_kg(phantom=Phantom.ICRP89_AM)
    1.17
    >>> round(red_marrow_mass_kg(phantom=Phantom.ICRP89_AF, body_mass_kg=45.0), 4)
    0.675
    """
    table = load_svalue_table(phantom)
    marrow = table.mass_kg(RED_MARROW)
    if body_mass_kg is None:
        return marrow
    if isinstance(body_mass_kg, bool) or not isinstance(body_mass_kg, int | float):
        raise InvalidInputError("body_mass_kg", body_mass_kg, "a body mass in kg as a number")
    if not (math.isfinite(body_mass_kg) and 20.0 <= body_mass_kg <= 300.0):
        raise InvalidInputError("body_mass_kg", body_mass_kg, "an adult body mass of 20–300 kg")
    return marrow * body_mass_kg / table.mass_kg(TOTAL_BODY)


@dataclass(frozen=True, slots=True)
class MarrowDose:
    """Red-marrow absorbed dose with its self, organ and remainder-of-body parts."""

    absorbed_dose_gy: float
    self_dose_gy: float
    organ_cross_dose_gy: float
    remainder_dose_gy: float
    remainder_included: bool
    time_integrated_activity_bq_s: float
    rmblr: float
    mass_kg: float
    organ_dose: OrganDose
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "absorbed_dose_gy": self.absorbed_dose_gy,
            "self_dose_gy": self.self_dose_gy,
            "organ_cross_dose_gy": self.organ_cross_dose_gy,
            "remainder_dose_gy": self.remainder_dose_gy,
            "remainder_included": self.remainder_included,
            "time_integrated_activity_bq_s": self.time_integrated_activity_bq_s,
            "rmblr": self.rmblr,
            "mass_kg": self.mass_kg,
            "method": self.method,
            "contributions": [c.to_dict() for c in self.organ_dose.contributions],
        }


def red_marrow_dose_blood_method(
    *,
    blood_tia_bq_s_per_ml: float,
    phantom: Phantom,
    rmblr: float = DEFAULT_RMBLR,
    marrow_mass_kg: float | None = None,
    organ_tia_bq_s: Mapping[str, float] | None = None,
    total_body_tia_bq_s: float | None = None,
    kidney_convention: KidneyConvention = KidneyConvention.COMBINED,
    mass_scaling: MassScaling = MassScaling.LINEAR,
) -> MarrowDose:
    """Red-marrow dose from blood samples (EANM 2010) with organ and remainder cross-dose.

    Parameters
    ----------
    blood_tia_bq_s_per_ml
        TIA per mL of blood (Bq·s/mL).
    phantom
        ICRP-89 phantom of the S values and reference marrow mass.
    rmblr
        Red-marrow-to-blood concentration ratio (1 for 177Lu-DOTATATE).
    marrow_mass_kg
        Patient red-marrow mass; the phantom mass by default.  The self-dose
        S value is scaled to it.
    organ_tia_bq_s
        TIAs of segmented source organs (kidneys, liver, spleen, tumours are
        not in the table) for the organ cross-dose.
    total_body_tia_bq_s
        Whole-body TIA; when given, the remainder of body (total body minus
        marrow and organs) contributes with the corrected S value.  Without
        it the remainder cross-dose is missing and ``remainder_included`` is
        False.
    kidney_convention, mass_scaling
        As in :func:`~prrt.dosimetry.organ.mird_organ_doses`.

    References
    ----------
    Hindorf C et al., EJNMMI 2010;37:1238 (doi 10.1007/s00259-010-1422-4);
    dosimetry-reference.md §6.1 (RM-01, RM-02).

    Examples
    --------
    RM-01: ã_blood 0.5 MBq·h/g, RMBLR 1, 1170 g → self-dose 24.2 mGy.

    >>> d = red_marrow_dose_blood_method(blood_tia_bq_s_per_ml=0.5e6 * 3600,
    ...                                  phantom=Phantom.ICRP89_AM)
    >>> round(d.self_dose_gy * 1e3, 1)
    24.2
    """
    if isinstance(blood_tia_bq_s_per_ml, bool) or not isinstance(
        blood_tia_bq_s_per_ml, int | float
    ):
        raise InvalidInputError("blood_tia_bq_s_per_ml", blood_tia_bq_s_per_ml, "a number")
    if not (math.isfinite(blood_tia_bq_s_per_ml) and blood_tia_bq_s_per_ml >= 0.0):
        raise InvalidInputError(
            "blood_tia_bq_s_per_ml", blood_tia_bq_s_per_ml, "a finite, non-negative TIA per mL"
        )
    if isinstance(rmblr, bool) or not isinstance(rmblr, int | float):
        raise InvalidInputError("rmblr", rmblr, "a number")
    if not (math.isfinite(rmblr) and 0.0 < rmblr <= 5.0):
        raise InvalidInputError("rmblr", rmblr, "a marrow-to-blood ratio between 0 and 5")
    mass = red_marrow_mass_kg(phantom=phantom) if marrow_mass_kg is None else marrow_mass_kg
    if isinstance(mass, bool) or not isinstance(mass, int | float):
        raise InvalidInputError("marrow_mass_kg", marrow_mass_kg, "a mass in kg as a number")
    if not (math.isfinite(mass) and mass > 0.0):
        raise InvalidInputError("marrow_mass_kg", marrow_mass_kg, "a positive red-marrow mass")
    marrow_tia = blood_tia_bq_s_per_ml * rmblr * mass / _KG_PER_ML_BLOOD

    organs: dict[str, float] = {}
    for key, value in (organ_tia_bq_s or {}).items():
        name = canonical_region(key, field=f"organ_tia_bq_s.{key}")
        if name in (RED_MARROW, TOTAL_BODY, REMAINDER_OF_BODY):
            raise InvalidInputError(
                f"organ_tia_bq_s.{key}",
                key,
                "a segmented organ (marrow and whole body have their own arguments)",
            )
        organs[name] = value
    sources: dict[str, float] = {RED_MARROW: marrow_tia, **organs}
    if total_body_tia_bq_s is not None:
        sources[TOTAL_BODY] = total_body_tia_bq_s
    masses = {RED_MARROW: mass} if marrow_mass_kg is not None else None
    dose = mird_organ_doses(
        tia_bq_s=sources,
        phantom=phantom,
        targets=[RED_MARROW],
        patient_masses_kg=masses,
        kidney_convention=kidney_convention,
        mass_scaling=mass_scaling,
    )[RED_MARROW]
    by_source = {c.source: c.absorbed_dose_gy for c in dose.contributions}
    self_gy = by_source.pop(RED_MARROW)
    remainder_gy = by_source.pop(REMAINDER_OF_BODY, 0.0)
    return MarrowDose(
        absorbed_dose_gy=dose.absorbed_dose_gy,
        self_dose_gy=self_gy,
        organ_cross_dose_gy=sum(by_source.values()),
        remainder_dose_gy=remainder_gy,
        remainder_included=total_body_tia_bq_s is not None,
        time_integrated_activity_bq_s=marrow_tia,
        rmblr=float(rmblr),
        mass_kg=float(mass),
        organ_dose=dose,
        method="EANM 2010 blood-based red-marrow dosimetry (Hindorf et al.), " + dose.method,
    )
