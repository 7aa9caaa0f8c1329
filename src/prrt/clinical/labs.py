"""Laboratory values: analytes, canonical units, explicit unit conversion and plausibility.

Every laboratory value inside ``prrt.clinical`` is held in one canonical unit per
analyte (clinical-rules.md §0.2): haemoglobin and albumin in g/L, blood counts in
10^9/L, creatinine and bilirubin in µmol/L, transaminases in U/L, INR as a pure
ratio ("1") and prothrombin activity (Quick) in %.  A value is converted only
when its unit is given explicitly and belongs to the analyte; an unknown unit,
a value of the wrong type or a physiologically implausible value raises
:class:`~prrt.errors.InvalidInputError` naming the field, the value and what
was expected.

Conversion factors (clinical-rules.md §0.2):

* g/dL × 10 = g/L (haemoglobin, albumin) — exact.
* haemoglobin mmol/L (single-haem basis, as reported in the Netherlands) × 16.11 ≈ g/L.
* /mm³ (= /µL) ÷ 1000 = 10^9/L; 10^3/µL = 10^9/L — exact.
* creatinine mg/dL × 88.4 = µmol/L (exactly 88.4, as in both renal formulas).
* bilirubin mg/dL × 17.1 = µmol/L.
* 1 µkat/L = 60 U/L (1 U = 1 µmol/min; 1 kat = 1 mol/s) — exact.

Plausibility limits are a program design choice [P] meant to catch unit slips
(a haemoglobin of 9.8 "g/L" that was 9.8 g/dL, platelets of 150 000 entered as
10^9/L); they are deliberately wide and are not clinical thresholds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError, UnitError

__all__ = [
    "CANONICAL_LAB_UNIT",
    "HAEMOGLOBIN_G_PER_L_PER_MMOL_PER_L",
    "UMOL_PER_L_PER_MG_PER_DL_BILIRUBIN",
    "UMOL_PER_L_PER_MG_PER_DL_CREATININE",
    "Analyte",
    "PlausibleRange",
    "from_canonical_lab",
    "known_lab_units",
    "parse_lab",
    "plausible_range",
    "to_canonical_lab",
]

#: Creatinine: µmol/L per mg/dL; exactly 88.4 as required by clinical-rules.md §0.2 / RENAL-1/2.
UMOL_PER_L_PER_MG_PER_DL_CREATININE = 88.4
#: Bilirubin: µmol/L per mg/dL (clinical-rules.md §0.2).
UMOL_PER_L_PER_MG_PER_DL_BILIRUBIN = 17.1
#: Haemoglobin: g/L per mmol/L on the single-haem (monomer) basis (clinical-rules.md §0.2).
HAEMOGLOBIN_G_PER_L_PER_MMOL_PER_L = 16.11


class Analyte(str, Enum):
    """Laboratory analytes used by the clinical rules (names follow CTCAE/label wording)."""

    HAEMOGLOBIN = "haemoglobin"
    PLATELETS = "platelets"
    NEUTROPHILS = "neutrophils"  # absolute neutrophil count (ANC)
    LYMPHOCYTES = "lymphocytes"  # absolute lymphocyte count
    WHITE_CELLS = "white_cells"  # white blood cell count (WBC)
    CREATININE = "creatinine"  # serum creatinine
    BILIRUBIN = "bilirubin"  # total bilirubin
    ALBUMIN = "albumin"  # serum albumin
    AST = "ast"  # aspartate aminotransferase
    ALT = "alt"  # alanine aminotransferase
    INR = "inr"  # international normalised ratio of prothrombin time
    PROTHROMBIN_PERCENT = "prothrombin_percent"  # prothrombin activity (Quick), % of normal


_COUNT = "10^9/L"

#: Canonical unit symbol of each analyte (clinical-rules.md §0.2).
CANONICAL_LAB_UNIT: dict[Analyte, str] = {
    Analyte.HAEMOGLOBIN: "g/L",
    Analyte.PLATELETS: _COUNT,
    Analyte.NEUTROPHILS: _COUNT,
    Analyte.LYMPHOCYTES: _COUNT,
    Analyte.WHITE_CELLS: _COUNT,
    Analyte.CREATININE: "µmol/L",
    Analyte.BILIRUBIN: "µmol/L",
    Analyte.ALBUMIN: "g/L",
    Analyte.AST: "U/L",
    Analyte.ALT: "U/L",
    Analyte.INR: "1",
    Analyte.PROTHROMBIN_PERCENT: "%",
}

# Factor that multiplies a value in the given unit to give the canonical unit.
# Keys are the documented spellings; lookup is on a normalised form (see _normalise_unit).
_COUNT_UNITS: dict[str, float] = {
    "10^9/L": 1.0,
    "x10^9/L": 1.0,
    "×10^9/L": 1.0,
    "G/L": 1.0,
    "10^3/µL": 1.0,
    "10^3/mm3": 1.0,
    "K/µL": 1.0,
    "/mm3": 1e-3,
    "/µL": 1e-3,
    "cells/mm3": 1e-3,
    "cells/µL": 1e-3,
}
_UMOL_CREAT = {"µmol/L": 1.0, "mg/dL": UMOL_PER_L_PER_MG_PER_DL_CREATININE}
_UMOL_BILI = {"µmol/L": 1.0, "mg/dL": UMOL_PER_L_PER_MG_PER_DL_BILIRUBIN}
_ENZYME = {"U/L": 1.0, "IU/L": 1.0, "µkat/L": 60.0}

_UNITS: dict[Analyte, dict[str, float]] = {
    Analyte.HAEMOGLOBIN: {"g/L": 1.0, "g/dL": 10.0, "mmol/L": HAEMOGLOBIN_G_PER_L_PER_MMOL_PER_L},
    Analyte.PLATELETS: _COUNT_UNITS,
    Analyte.NEUTROPHILS: _COUNT_UNITS,
    Analyte.LYMPHOCYTES: _COUNT_UNITS,
    Analyte.WHITE_CELLS: _COUNT_UNITS,
    Analyte.CREATININE: _UMOL_CREAT,
    Analyte.BILIRUBIN: _UMOL_BILI,
    Analyte.ALBUMIN: {"g/L": 1.0, "g/dL": 10.0},
    Analyte.AST: _ENZYME,
    Analyte.ALT: _ENZYME,
    Analyte.INR: {"1": 1.0, "INR": 1.0, "ratio": 1.0},
    Analyte.PROTHROMBIN_PERCENT: {"%": 1.0},
}


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    """Closed interval of physiologically plausible values in the canonical unit.

    A program design choice [P] to catch unit slips; not a clinical threshold.
    """

    low: float
    high: float
    unit: str

    def contains(self, value: float) -> bool:
        """Return True when ``low <= value <= high``."""
        return self.low <= value <= self.high


_PLAUSIBLE: dict[Analyte, tuple[float, float]] = {
    Analyte.HAEMOGLOBIN: (15.0, 250.0),  # g/L
    Analyte.PLATELETS: (0.0, 2000.0),  # 10^9/L
    Analyte.NEUTROPHILS: (0.0, 200.0),
    Analyte.LYMPHOCYTES: (0.0, 500.0),  # chronic lymphocytic leukaemia can exceed 300
    Analyte.WHITE_CELLS: (0.0, 1000.0),
    Analyte.CREATININE: (5.0, 3000.0),  # µmol/L; must be > 0 for the renal formulas
    Analyte.BILIRUBIN: (0.0, 1000.0),  # µmol/L
    Analyte.ALBUMIN: (5.0, 70.0),  # g/L
    Analyte.AST: (0.0, 30000.0),  # U/L (acute liver failure reaches > 10 000)
    Analyte.ALT: (0.0, 30000.0),
    Analyte.INR: (0.5, 20.0),
    Analyte.PROTHROMBIN_PERCENT: (0.0, 200.0),
}


def _fold_free(unit: str) -> str:
    """Normalise spelling (as :func:`_normalise_unit`) but keep the letter case."""
    text = unit.strip().replace(" ", "")
    text = text.replace("μ", "µ").replace("⁹", "^9").replace("³", "3").replace("*", "×")
    text = re.sub(r"^(?:x|×)?10e", "10^", text)
    text = re.sub(r"^u(?=mol|kat|L)", "µ", text)
    return text.replace("/u", "/µ").replace("/mm^3", "/mm3")


def _normalise_unit(unit: str) -> str:
    """Fold common spellings: Greek mu → micro sign, u → µ, superscripts, spaces, case."""
    text = unit.strip().replace(" ", "")
    text = text.replace("μ", "µ").replace("⁹", "^9").replace("³", "3").replace("*", "×")
    text = re.sub(r"^(?:x|×)?10e", "10^", text)  # 10e9/L, x10e9/L
    text = re.sub(r"^u(?=mol|kat|L)", "µ", text)  # umol/L, ukat/L
    text = text.replace("/u", "/µ").replace("/mm^3", "/mm3")
    return text.casefold()


_LOOKUP: dict[Analyte, dict[str, float]] = {
    analyte: {_normalise_unit(symbol): factor for symbol, factor in table.items()}
    for analyte, table in _UNITS.items()
}

# Spelling of each symbol before case folding.  Case is folded so that all-capitals
# lab systems ("MG/DL") are understood, except where a lower-case letter would turn a
# giga/mega prefix into gram/milli: "g/L" (a mass concentration) is not "G/L" (10^9/L).
_CASED: dict[Analyte, dict[str, str]] = {
    analyte: {_normalise_unit(symbol): _fold_free(symbol) for symbol in table}
    for analyte, table in _UNITS.items()
}


def _lookup_factor(analyte: Analyte, unit: str) -> float | None:
    key = _normalise_unit(unit)
    factor = _LOOKUP[analyte].get(key)
    if factor is None:
        return None
    written = _fold_free(unit)
    documented = _CASED[analyte][key]
    for given, expected in zip(written, documented, strict=False):
        if given.isalpha() and expected.isalpha():
            if given.islower() and expected.isupper() and expected in "GM":
                return None  # "g/L" written for "G/L" (giga-cells/L): refuse, never guess
            break
    return factor


def _expected(analyte: Analyte) -> str:
    units = ", ".join(_UNITS[analyte])
    low, high = _PLAUSIBLE[analyte]
    return (
        f"a {analyte.value} value with an explicit unit ({units}), "
        f"plausible range {low:g}-{high:g} {CANONICAL_LAB_UNIT[analyte]}"
    )


def known_lab_units(analyte: Analyte) -> tuple[str, ...]:
    """Return the unit symbols accepted for ``analyte`` (canonical first).

    Examples
    --------
    >>> known_lab_units(Analyte.ALBUMIN)
    ('g/L', 'g/dL')
    """
    return tuple(_UNITS[analyte])


def plausible_range(analyte: Analyte) -> PlausibleRange:
    """Return the plausibility interval of ``analyte`` in its canonical unit.

    Examples
    --------
    >>> plausible_range(Analyte.HAEMOGLOBIN)
    PlausibleRange(low=15.0, high=250.0, unit='g/L')
    """
    low, high = _PLAUSIBLE[analyte]
    return PlausibleRange(low=low, high=high, unit=CANONICAL_LAB_UNIT[analyte])


def _check_analyte(analyte: Any, field: str) -> Analyte:
    if isinstance(analyte, Analyte):
        return analyte
    try:
        return Analyte(analyte)
    except ValueError as err:
        raise InvalidInputError(
            field, analyte, "one of " + ", ".join(a.value for a in Analyte)
        ) from err


def _check_number(value: Any, field: str, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            field, value, expected, hint="give a number, not " + type(value).__name__
        )
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError(field, value, expected, hint="the value must be finite")
    return number


def to_canonical_lab(analyte: Analyte, value: float, unit: str, *, field: str) -> float:
    """Convert a laboratory value with an explicit unit to the analyte's canonical unit.

    Parameters
    ----------
    analyte
        What was measured.
    value
        The number as reported by the laboratory.
    unit
        The unit it was reported in; must be one of :func:`known_lab_units`.
    field
        Name of the input field, used in error messages (e.g. ``"labs.platelets"``).

    Returns
    -------
    float
        The value in :data:`CANONICAL_LAB_UNIT` ``[analyte]``.

    Raises
    ------
    UnitError
        The unit is missing, unknown or not a unit of this analyte.
    InvalidInputError
        The value is not a finite real number, or is outside :func:`plausible_range`
        (e.g. platelets 5000 × 10^9/L, negative creatinine, haemoglobin 900 g/L).

    Examples
    --------
    >>> to_canonical_lab(Analyte.HAEMOGLOBIN, 9.8, "g/dL", field="hb")
    98.0
    >>> to_canonical_lab(Analyte.PLATELETS, 75000, "/mm³", field="plt")
    75.0
    >>> round(to_canonical_lab(Analyte.CREATININE, 1.0, "mg/dL", field="scr"), 6)
    88.4
    """
    analyte = _check_analyte(analyte, field)
    expected = _expected(analyte)
    number = _check_number(value, field, expected)
    if not isinstance(unit, str) or not unit.strip():
        raise UnitError(field, value, expected, hint="the unit must be given explicitly")
    factor = _lookup_factor(analyte, unit)
    if factor is None:
        raise UnitError(
            field, f"{value} {unit}", expected, hint=f"unknown unit for {analyte.value}"
        )
    canonical = number * factor
    low, high = _PLAUSIBLE[analyte]
    if not low <= canonical <= high:
        raise InvalidInputError(
            field,
            f"{value} {unit}",
            expected,
            hint=f"{canonical:g} {CANONICAL_LAB_UNIT[analyte]} is implausible; check the unit",
        )
    return canonical


def from_canonical_lab(analyte: Analyte, value: float, unit: str) -> float:
    """Express a canonical laboratory value in another accepted unit.

    Raises
    ------
    UnitError
        ``unit`` is not a unit of ``analyte``.

    Examples
    --------
    >>> from_canonical_lab(Analyte.HAEMOGLOBIN, 98.0, "g/dL")
    9.8
    """
    analyte = _check_analyte(analyte, "analyte")
    factor = _lookup_factor(analyte, unit) if isinstance(unit, str) else None
    if factor is None:
        raise UnitError("unit", unit, "one of " + ", ".join(_UNITS[analyte]))
    return float(value) / factor


_NUMBER_UNIT = re.compile(
    r"^\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*$"
)


def parse_lab(analyte: Analyte, text: str, *, field: str) -> float:
    """Parse ``"9.8 g/dL"``-style text into the analyte's canonical unit.

    A bare number is refused, except for the INR, which has no unit.  Commas are
    refused (decimal comma and thousands separator are ambiguous): write
    ``"75000 /mm³"`` or ``"9.8 g/dL"``.

    Parameters
    ----------
    analyte
        What was measured.
    text
        A number followed by a unit symbol, with or without a space.
    field
        Name of the input field, used in error messages.

    Returns
    -------
    float
        The value in :data:`CANONICAL_LAB_UNIT` ``[analyte]``.

    Raises
    ------
    UnitError
        Missing or unknown unit.
    InvalidInputError
        Not text, not a number, or implausible.

    Examples
    --------
    >>> parse_lab(Analyte.HAEMOGLOBIN, "9.8 g/dL", field="hb")
    98.0
    >>> parse_lab(Analyte.NEUTROPHILS, "1.2 x10^9/L", field="anc")
    1.2
    >>> parse_lab(Analyte.INR, "1.3", field="inr")
    1.3
    """
    analyte = _check_analyte(analyte, field)
    expected = _expected(analyte)
    if not isinstance(text, str):
        raise InvalidInputError(field, text, expected, hint="give text such as '9.8 g/dL'")
    if "," in text:
        raise InvalidInputError(
            field,
            text,
            expected,
            hint="write numbers without commas, e.g. '75000 /mm³' or '9.8 g/dL'",
        )
    match = _NUMBER_UNIT.match(text)
    if match is None:
        raise InvalidInputError(field, text, expected)
    unit = match.group("unit")
    if not unit:
        if analyte is not Analyte.INR:
            raise UnitError(field, text, expected, hint="the unit must be given explicitly")
        unit = "1"
    return to_canonical_lab(analyte, float(match.group("number")), unit, field=field)
