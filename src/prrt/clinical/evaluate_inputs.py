"""Edge-unit conversion of a case for :mod:`prrt.clinical.evaluate`.

Laboratory values of a case (``{"value": 12.4, "unit": "g/dL"}``) are converted
to the canonical units of :mod:`prrt.clinical.labs`, quantities with units
(``"68 kg"``) are parsed, and input errors of the rule modules are re-raised
with the JSON path of the case field (:func:`_at`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prrt.clinical.case import Labs, LabValue
from prrt.clinical.dose_modification import LabPanel
from prrt.clinical.labs import Analyte, to_canonical_lab
from prrt.errors import InvalidInputError
from prrt.units import Dimension, parse_quantity

__all__ = ["LAB_ANALYTES"]

#: Case lab key -> analyte (canonical units of prrt.clinical.labs).
LAB_ANALYTES: dict[str, Analyte] = {
    "haemoglobin": Analyte.HAEMOGLOBIN,
    "platelets": Analyte.PLATELETS,
    "white_cells": Analyte.WHITE_CELLS,
    "neutrophils": Analyte.NEUTROPHILS,
    "lymphocytes": Analyte.LYMPHOCYTES,
    "creatinine": Analyte.CREATININE,
    "bilirubin": Analyte.BILIRUBIN,
    "albumin": Analyte.ALBUMIN,
    "ast": Analyte.AST,
    "alt": Analyte.ALT,
    "inr": Analyte.INR,
    "prothrombin_percent": Analyte.PROTHROMBIN_PERCENT,
}

_PANEL_FIELD = {
    "haemoglobin": "haemoglobin_g_per_l",
    "platelets": "platelets_10e9_per_l",
    "white_cells": "white_cells_10e9_per_l",
    "neutrophils": "neutrophils_10e9_per_l",
    "lymphocytes": "lymphocytes_10e9_per_l",
    "creatinine": "creatinine_umol_per_l",
    "bilirubin": "bilirubin_umol_per_l",
    "albumin": "albumin_g_per_l",
    "ast": "ast_u_per_l",
    "alt": "alt_u_per_l",
    "inr": "inr",
    "prothrombin_percent": "prothrombin_percent",
}
_PANEL_ULN_FIELD = {
    "bilirubin": "bilirubin_uln_umol_per_l",
    "ast": "ast_uln_u_per_l",
    "alt": "alt_uln_u_per_l",
}


_JSON_ROOTS = (
    "patient",
    "tumour",
    "imaging",
    "labs",
    "history",
    "biomarkers",
    "course",
    "response",
)


@contextmanager
def _at(path: str) -> Iterator[None]:
    """Re-raise an input error of a rule module with the JSON path of the case field.

    Errors that already name a path of this section (or of ``patient``/``labs``, whose
    values the section reuses) are left alone; others (named after the
    rule module's own argument, e.g. ``lesion[H1].longest_diameter_mm``) are given
    ``path`` as field and keep their own name in the hint.
    """
    try:
        yield
    except InvalidInputError as err:
        section = path.split(".")[0].split("[")[0]
        if err.field.split(".")[0].split("[")[0] in (section, "patient", "labs"):
            raise
        hint = err.field + (f"; {err.hint}" if err.hint else "")
        raise type(err)(path, err.value, err.expected, hint=hint) from err


def _clean(value: float) -> float:
    """Drop float noise of unit conversions (12 significant digits; see eligibility._clean)."""
    return float(f"{value:.12g}")


# --- edge-unit conversion ----------------------------------------------------------------------


def _quantity(text: str | None, dimension: Dimension, field: str) -> float | None:
    if text is None:
        return None
    return parse_quantity(text, dimension, field=field, positive=True)


@dataclass(frozen=True, slots=True)
class _Lab:
    value: float
    uln: float | None
    lln: float | None


def _labs(labs: Labs | None, prefix: str) -> dict[str, _Lab]:
    """Convert every lab of a panel to its canonical unit (B's explicit conversion, §0.2)."""
    out: dict[str, _Lab] = {}
    if labs is None:
        return out
    for key, analyte in LAB_ANALYTES.items():
        entry: LabValue | None = getattr(labs, key)
        if entry is None:
            continue
        field = f"{prefix}.{key}"
        value = _clean(to_canonical_lab(analyte, entry.value, entry.unit, field=f"{field}.value"))
        uln = (
            None
            if entry.uln is None
            else _clean(to_canonical_lab(analyte, entry.uln, entry.unit, field=f"{field}.uln"))
        )
        lln = (
            None
            if entry.lln is None
            else _clean(to_canonical_lab(analyte, entry.lln, entry.unit, field=f"{field}.lln"))
        )
        out[key] = _Lab(value, uln, lln)
    return out


def _panel(values: dict[str, _Lab]) -> LabPanel:
    kwargs: dict[str, float] = {}
    for key, lab in values.items():
        kwargs[_PANEL_FIELD[key]] = lab.value
        if key in _PANEL_ULN_FIELD and lab.uln is not None:
            kwargs[_PANEL_ULN_FIELD[key]] = lab.uln
    return LabPanel(**kwargs)


def _get(values: dict[str, _Lab], key: str) -> float | None:
    lab = values.get(key)
    return None if lab is None else lab.value
