"""Laboratory values read by the dose-modification rules (clinical-rules.md §4.2 MON-1, §4.4).

:class:`LabPanel` holds one draw (or the worst values since the last dose) in
canonical units, checked against :func:`prrt.clinical.labs.plausible_range`; text
with explicit units is parsed with :func:`prrt.clinical.labs.parse_lab`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from prrt.clinical.labs import Analyte, parse_lab, plausible_range
from prrt.errors import InvalidInputError

__all__ = [
    "LabPanel",
]


# Field of LabPanel -> analyte used for its plausibility check and for parsing.
_PANEL_ANALYTE: dict[str, Analyte] = {
    "haemoglobin_g_per_l": Analyte.HAEMOGLOBIN,
    "platelets_10e9_per_l": Analyte.PLATELETS,
    "neutrophils_10e9_per_l": Analyte.NEUTROPHILS,
    "lymphocytes_10e9_per_l": Analyte.LYMPHOCYTES,
    "white_cells_10e9_per_l": Analyte.WHITE_CELLS,
    "creatinine_umol_per_l": Analyte.CREATININE,
    "bilirubin_umol_per_l": Analyte.BILIRUBIN,
    "bilirubin_uln_umol_per_l": Analyte.BILIRUBIN,
    "albumin_g_per_l": Analyte.ALBUMIN,
    "prothrombin_percent": Analyte.PROTHROMBIN_PERCENT,
    "inr": Analyte.INR,
    "ast_u_per_l": Analyte.AST,
    "ast_uln_u_per_l": Analyte.AST,
    "alt_u_per_l": Analyte.ALT,
    "alt_uln_u_per_l": Analyte.ALT,
}
_PANEL_TEXT_KEY: dict[str, str] = {
    "haemoglobin": "haemoglobin_g_per_l",
    "platelets": "platelets_10e9_per_l",
    "neutrophils": "neutrophils_10e9_per_l",
    "lymphocytes": "lymphocytes_10e9_per_l",
    "white_cells": "white_cells_10e9_per_l",
    "creatinine": "creatinine_umol_per_l",
    "bilirubin": "bilirubin_umol_per_l",
    "bilirubin_uln": "bilirubin_uln_umol_per_l",
    "albumin": "albumin_g_per_l",
    "prothrombin_percent": "prothrombin_percent",
    "inr": "inr",
    "ast": "ast_u_per_l",
    "ast_uln": "ast_uln_u_per_l",
    "alt": "alt_u_per_l",
    "alt_uln": "alt_uln_u_per_l",
}


@dataclass(frozen=True, slots=True)
class LabPanel:
    """Laboratory values of one draw (or the worst values of an interval), canonical units.

    Every field is optional; a value needed by a rule and missing makes that rule
    indeterminate.  Values are checked against
    :func:`prrt.clinical.labs.plausible_range` on construction.

    Examples
    --------
    >>> LabPanel(platelets_10e9_per_l=150.0).platelets_10e9_per_l
    150.0
    >>> LabPanel.parse({"haemoglobin": "9.8 g/dL", "platelets": "75000 /mm3"}).haemoglobin_g_per_l
    98.0
    """

    haemoglobin_g_per_l: float | None = None
    platelets_10e9_per_l: float | None = None
    neutrophils_10e9_per_l: float | None = None
    lymphocytes_10e9_per_l: float | None = None
    white_cells_10e9_per_l: float | None = None
    creatinine_umol_per_l: float | None = None
    bilirubin_umol_per_l: float | None = None
    bilirubin_uln_umol_per_l: float | None = None
    albumin_g_per_l: float | None = None
    prothrombin_percent: float | None = None
    inr: float | None = None
    ast_u_per_l: float | None = None
    ast_uln_u_per_l: float | None = None
    alt_u_per_l: float | None = None
    alt_uln_u_per_l: float | None = None

    def __post_init__(self) -> None:
        for name, analyte in _PANEL_ANALYTE.items():
            value = getattr(self, name)
            if value is None:
                continue
            rng = plausible_range(analyte)
            expected = f"a number in {rng.unit} between {rng.low:g} and {rng.high:g}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(
                    name, value, expected, hint="give a number, not " + type(value).__name__
                )
            number = float(value)
            if not math.isfinite(number) or not rng.contains(number):
                raise InvalidInputError(
                    name, value, expected, hint="implausible value; check the unit"
                )
            if "_uln_" in name and number <= 0:
                raise InvalidInputError(name, value, "a positive upper limit of normal")
            object.__setattr__(self, name, number)

    @classmethod
    def parse(cls, values: Mapping[str, str], *, field_prefix: str = "labs") -> LabPanel:
        """Build a panel from text values with explicit units (``{"platelets": "75000 /mm3"}``).

        Keys: haemoglobin, platelets, neutrophils, lymphocytes, white_cells, creatinine,
        bilirubin, bilirubin_uln, albumin, prothrombin_percent, inr, ast, ast_uln, alt, alt_uln.

        Raises
        ------
        InvalidInputError
            Unknown key, missing or unknown unit, implausible value.
        """
        kwargs: dict[str, float] = {}
        for key, text in values.items():
            name = _PANEL_TEXT_KEY.get(key)
            if name is None:
                raise InvalidInputError(
                    f"{field_prefix}.{key}", text, "one of the keys " + ", ".join(_PANEL_TEXT_KEY)
                )
            kwargs[name] = parse_lab(_PANEL_ANALYTE[name], text, field=f"{field_prefix}.{key}")
        return cls(**kwargs)

    def to_dict(self) -> dict[str, float | None]:
        """Return the values keyed by field name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
