"""Renal function formulas: CKD-EPI 2021 eGFR and Cockcroft–Gault creatinine clearance.

Implements clinical-rules.md §6:

* RENAL-1 — CKD-EPI 2021 creatinine equation without race term (Inker et al.,
  N Engl J Med 2021;385:1737–49, doi:10.1056/NEJMoa2102953).
* RENAL-2 — Cockcroft–Gault creatinine clearance with actual body weight
  (Cockcroft & Gault, Nephron 1976;16:31–41, doi:10.1159/000180580).
* RENAL-3 / §0.3 — compute in full precision from the raw inputs (creatinine is
  converted to mg/dL with exactly 88.4 inside the formula), then round **once**
  to 1 decimal, half away from zero; thresholds apply to the rounded value.
* RENAL-4 — Cockcroft–Gault drives the PRRT decisions (eligibility and the
  RENAL dose-modifying toxicity); CKD-EPI eGFR drives the CTCAE "Chronic kidney
  disease" grade only.

Both equations are validated for adults; for ages below 18 years a
:class:`~prrt.errors.NonConformingInputWarning` says so (clinical-rules.md
RENAL-1: "not validated" for 12–17-year-olds [P]).
"""

from __future__ import annotations

import logging
import math
import warnings
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

from prrt.clinical.labs import UMOL_PER_L_PER_MG_PER_DL_CREATININE, Analyte, plausible_range
from prrt.errors import InvalidInputError, NonConformingInputWarning

__all__ = [
    "ADULT_AGE_YEARS",
    "Sex",
    "creatinine_clearance_cockcroft_gault",
    "egfr_ckd_epi_2021",
    "round_half_up",
]

_log = logging.getLogger(__name__)

#: Age from which both equations are validated (years).
ADULT_AGE_YEARS = 18.0
_AGE_RANGE_YEARS = (0.0, 130.0)
_WEIGHT_RANGE_KG = (2.0, 400.0)


class Sex(str, Enum):
    """Sex as used by the renal equations (biological sex at birth)."""

    FEMALE = "female"
    MALE = "male"


def round_half_up(value: float, decimals: int = 1) -> float:
    """Round ``value`` once to ``decimals`` places, half away from zero (clinical-rules.md §0.3).

    Python's :func:`round` uses banker's rounding; this uses
    ``Decimal.quantize(ROUND_HALF_UP)`` on the shortest decimal representation
    of the float, i.e. on the value as it would be displayed.

    Examples
    --------
    >>> round_half_up(49.95), round_half_up(0.25, 1), round_half_up(-2.45)
    (50.0, 0.3, -2.5)
    """
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def _check(value: Any, field: str, low: float, high: float, what: str) -> float:
    expected = f"{what} between {low:g} and {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            field, value, expected, hint="give a number, not " + type(value).__name__
        )
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInputError(field, value, expected)
    return number


def _check_sex(sex: Any) -> Sex:
    if isinstance(sex, Sex):
        return sex
    try:
        return Sex(sex)
    except ValueError as err:
        raise InvalidInputError("sex", sex, "'female' or 'male'") from err


def _check_common(creatinine_umol_per_l: Any, age_years: Any, sex: Any) -> tuple[float, float, Sex]:
    creat_range = plausible_range(Analyte.CREATININE)
    scr = _check(
        creatinine_umol_per_l,
        "creatinine_umol_per_l",
        creat_range.low,
        creat_range.high,
        "a serum creatinine in µmol/L",
    )
    age = _check(age_years, "age_years", *_AGE_RANGE_YEARS, "an age in years")
    checked_sex = _check_sex(sex)
    if age < ADULT_AGE_YEARS:
        warnings.warn(
            f"age_years: got {age:g}; the equation is validated for adults (>= 18 years) only",
            NonConformingInputWarning,
            stacklevel=3,
        )
    return scr, age, checked_sex


def egfr_ckd_epi_2021(*, creatinine_umol_per_l: float, age_years: float, sex: Sex) -> float:
    """Estimate GFR with the CKD-EPI 2021 creatinine equation (RENAL-1).

    eGFR = 142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 [female],
    with Scr in mg/dL (µmol/L ÷ 88.4), κ = 0.7 (female) / 0.9 (male),
    α = −0.241 (female) / −0.302 (male); no race term.

    Parameters
    ----------
    creatinine_umol_per_l
        Serum creatinine (IDMS-traceable) in µmol/L.
    age_years
        Age in years (the equation was fitted on completed years).
    sex
        Biological sex.

    Returns
    -------
    float
        eGFR in mL/min/1.73 m², rounded once to 0.1 half away from zero (§0.3).

    Raises
    ------
    InvalidInputError
        Creatinine, age or sex missing, of the wrong type or implausible.

    Warns
    -----
    NonConformingInputWarning
        Age below 18 years (equation not validated).

    References
    ----------
    Inker LA et al. New creatinine- and cystatin C-based equations to estimate
    GFR without race. N Engl J Med 2021;385:1737–49. doi:10.1056/NEJMoa2102953

    Examples
    --------
    Check values of clinical-rules.md RENAL-1 (Scr 0.7 and 0.9 mg/dL):

    >>> egfr_ckd_epi_2021(creatinine_umol_per_l=0.7 * 88.4, age_years=40, sex=Sex.FEMALE)
    112.1
    >>> egfr_ckd_epi_2021(creatinine_umol_per_l=0.9 * 88.4, age_years=40, sex=Sex.MALE)
    110.7
    """
    scr_umol, age, checked_sex = _check_common(creatinine_umol_per_l, age_years, sex)
    scr_mg_per_dl = scr_umol / UMOL_PER_L_PER_MG_PER_DL_CREATININE
    if checked_sex is Sex.FEMALE:
        kappa, alpha, sex_factor = 0.7, -0.241, 1.012
    else:
        kappa, alpha, sex_factor = 0.9, -0.302, 1.0
    ratio = scr_mg_per_dl / kappa
    egfr = 142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age * sex_factor
    return round_half_up(egfr, 1)


def creatinine_clearance_cockcroft_gault(
    *, creatinine_umol_per_l: float, age_years: float, weight_kg: float, sex: Sex
) -> float:
    """Estimate creatinine clearance with the Cockcroft–Gault formula (RENAL-2).

    CrCl = (140 − age) × weight_kg / (72 × Scr_mg/dL) × 0.85 [female], with
    Scr_mg/dL = µmol/L ÷ 88.4 exactly (the rounded constants 1.23/1.04 are not
    used: they change results at thresholds).  Not indexed to body surface area.

    Parameters
    ----------
    creatinine_umol_per_l
        Serum creatinine in µmol/L.
    age_years
        Age in years.
    weight_kg
        Current **actual** body weight in kg (re-measured every cycle).
    sex
        Biological sex.

    Returns
    -------
    float
        Creatinine clearance in mL/min, rounded once to 0.1 half away from zero (§0.3).

    Raises
    ------
    InvalidInputError
        An input is missing, of the wrong type or implausible (weight outside 2–400 kg,
        age outside 0–130 years, creatinine outside the plausible range of
        :func:`prrt.clinical.labs.plausible_range`).  Age ≥ 140 years is refused by the
        age limit, so the formula never returns a negative clearance.

    Warns
    -----
    NonConformingInputWarning
        Age below 18 years (formula not validated).

    References
    ----------
    Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum
    creatinine. Nephron 1976;16:31–41. doi:10.1159/000180580

    Examples
    --------
    >>> creatinine_clearance_cockcroft_gault(
    ...     creatinine_umol_per_l=88.4, age_years=60, weight_kg=72, sex=Sex.MALE)
    80.0
    >>> creatinine_clearance_cockcroft_gault(
    ...     creatinine_umol_per_l=88.4, age_years=60, weight_kg=72, sex=Sex.FEMALE)
    68.0
    """
    scr_umol, age, checked_sex = _check_common(creatinine_umol_per_l, age_years, sex)
    weight = _check(weight_kg, "weight_kg", *_WEIGHT_RANGE_KG, "an actual body weight in kg")
    scr_mg_per_dl = scr_umol / UMOL_PER_L_PER_MG_PER_DL_CREATININE
    crcl = (140.0 - age) * weight / (72.0 * scr_mg_per_dl)
    if checked_sex is Sex.FEMALE:
        crcl *= 0.85
    return round_half_up(crcl, 1)
