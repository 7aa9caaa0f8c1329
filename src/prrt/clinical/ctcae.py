"""CTCAE v5.0 grading of laboratory-defined adverse-event terms.

Implements clinical-rules.md §5.1 (rule ids ``CTC-*``): anaemia, platelet,
neutrophil, lymphocyte and white-cell counts decreased, creatinine increased,
chronic kidney disease by eGFR, blood bilirubin, AST and ALT increased, and
hypoalbuminaemia.  The bands are data (``criteria/ctcae_v5.csv``, one row per
grade trigger with its source); this module only evaluates them.

Evaluation rules (clinical-rules.md §5.1, checked against the pharmaverse
``admiral`` CTCAE v5.0 grading metadata):

* every row is a trigger "grade *g* if value <op> factor × reference", where the
  reference is an absolute number, the laboratory's LLN or ULN, or the
  patient's baseline; the grade is the highest grade whose trigger holds, so
  creatinine reports the higher of its ULN- and baseline-based grades;
* values are compared as entered (clinical-rules.md §0.3.4), in exact decimal
  arithmetic on the displayed numbers, so that a value exactly on a boundary
  lands where the table puts it (platelets 75 → G1; bilirubin 3.0 × ULN → G2);
* bilirubin and transaminases use the baseline-abnormal bands when the baseline
  is above the ULN; without a baseline the baseline-normal bands are used [P],
  which never gives a lower grade than the abnormal-baseline bands would;
* when a reference that could raise the grade is missing, the grade is
  *indeterminate* (``grade is None``) and :attr:`CtcaeGrade.grade_at_least` says
  what the data prove; missing data never yields a lower grade;
* grade 4 of anaemia and hypoalbuminaemia and grade 5 of any term need clinical
  input and are never derived from a laboratory value;
* CKD G1 needs the eGFR LLN; its default is 90 mL/min/1.73 m² [P].

Only CTCAE v5.0 is implemented (version pin of clinical-rules.md §0.4);
v6.0 changes neutrophil and platelet bands (§5.3) and is refused.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from importlib import resources
from typing import Any

from prrt.clinical.labs import Analyte, plausible_range
from prrt.errors import DataSourceError, InvalidInputError, RuleError

__all__ = [
    "CKD_DEFAULT_LLN_ML_PER_MIN_PER_1_73M2",
    "CTCAE_VERSION",
    "SUPPORTED_CTCAE_VERSIONS",
    "TERM_ANALYTE",
    "TERM_FOR_ANALYTE",
    "CtcaeGrade",
    "CtcaeTerm",
    "grade",
    "grade_analyte",
    "grade_thresholds",
]

#: CTCAE version pinned by clinical-rules.md §0.4.
CTCAE_VERSION = "5.0"
#: Versions this module can grade.
SUPPORTED_CTCAE_VERSIONS: tuple[str, ...] = ("5.0",)
#: Default eGFR LLN for CKD grade 1 (clinical-rules.md §5.1 implementation bands) [P].
CKD_DEFAULT_LLN_ML_PER_MIN_PER_1_73M2 = 90.0
_EGFR_RANGE = (0.0, 300.0)
_EGFR_UNIT = "mL/min/1.73m2"
_DATA_FILE = "ctcae_v5.csv"


class CtcaeTerm(str, Enum):
    """Laboratory-defined CTCAE v5.0 terms graded by :func:`grade`."""

    ANEMIA = "anemia"
    PLATELET_COUNT_DECREASED = "platelet_count_decreased"
    NEUTROPHIL_COUNT_DECREASED = "neutrophil_count_decreased"
    LYMPHOCYTE_COUNT_DECREASED = "lymphocyte_count_decreased"
    WHITE_BLOOD_CELL_DECREASED = "white_blood_cell_decreased"
    CREATININE_INCREASED = "creatinine_increased"
    CHRONIC_KIDNEY_DISEASE = "chronic_kidney_disease"
    BLOOD_BILIRUBIN_INCREASED = "blood_bilirubin_increased"
    AST_INCREASED = "aspartate_aminotransferase_increased"
    ALT_INCREASED = "alanine_aminotransferase_increased"
    HYPOALBUMINEMIA = "hypoalbuminemia"


#: Analyte whose value each term grades (CKD grades an eGFR, not an analyte).
TERM_ANALYTE: dict[CtcaeTerm, Analyte | None] = {
    CtcaeTerm.ANEMIA: Analyte.HAEMOGLOBIN,
    CtcaeTerm.PLATELET_COUNT_DECREASED: Analyte.PLATELETS,
    CtcaeTerm.NEUTROPHIL_COUNT_DECREASED: Analyte.NEUTROPHILS,
    CtcaeTerm.LYMPHOCYTE_COUNT_DECREASED: Analyte.LYMPHOCYTES,
    CtcaeTerm.WHITE_BLOOD_CELL_DECREASED: Analyte.WHITE_CELLS,
    CtcaeTerm.CREATININE_INCREASED: Analyte.CREATININE,
    CtcaeTerm.CHRONIC_KIDNEY_DISEASE: None,
    CtcaeTerm.BLOOD_BILIRUBIN_INCREASED: Analyte.BILIRUBIN,
    CtcaeTerm.AST_INCREASED: Analyte.AST,
    CtcaeTerm.ALT_INCREASED: Analyte.ALT,
    CtcaeTerm.HYPOALBUMINEMIA: Analyte.ALBUMIN,
}

#: CTCAE term graded from each analyte that has one.
TERM_FOR_ANALYTE: dict[Analyte, CtcaeTerm] = {
    analyte: term for term, analyte in TERM_ANALYTE.items() if analyte is not None
}

_BASELINE_DEPENDENT = (
    CtcaeTerm.BLOOD_BILIRUBIN_INCREASED,
    CtcaeTerm.AST_INCREASED,
    CtcaeTerm.ALT_INCREASED,
)


@dataclass(frozen=True, slots=True)
class _Row:
    rule_id: str
    term: CtcaeTerm
    grade: int
    operator: str
    factor: Decimal
    reference: str  # absolute | LLN | ULN | baseline
    baseline: str  # any | normal | abnormal
    unit: str
    source: str


@dataclass(frozen=True, slots=True)
class CtcaeGrade:
    """CTCAE grade of one laboratory value, with the band that produced it.

    Attributes
    ----------
    term
        The CTCAE term graded.
    rule_id
        Rule id of clinical-rules.md §5.1 (e.g. ``"CTC-PLT"``).
    version
        CTCAE version used.
    value
        The graded value in ``unit``.
    unit
        Canonical unit of the value (g/L, 10^9/L, µmol/L, U/L or mL/min/1.73m2).
    grade
        0–4, or None when the data cannot decide (a reference is missing).
    grade_at_least
        Lowest grade the data prove (equals ``grade`` when it is determinate).
    operator, threshold
        Trigger of the band that set the grade (``None`` for grade 0), with the
        threshold in ``unit`` (factor × reference).
    basis
        What the threshold is relative to: ``"absolute"``, ``"LLN"``, ``"ULN"``,
        ``"baseline"``, or ``"normal range"`` for grade 0.
    band
        The band in words, e.g. ``"G2: < 75 10^9/L"``.
    missing
        References that were needed but not given (``"uln"``, ``"lln"``, ``"baseline"``).
    assumptions
        Assumptions made (e.g. baseline assumed normal).
    source
        Source of the band (CTCAE v5.0 row, via clinical-rules.md §5.1).
    """

    term: CtcaeTerm
    rule_id: str
    version: str
    value: float
    unit: str
    grade: int | None
    grade_at_least: int
    operator: str | None
    threshold: float | None
    basis: str
    band: str
    missing: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    source: str = ""

    @property
    def determinate(self) -> bool:
        """True when the grade is known."""
        return self.grade is not None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "term": self.term.value,
            "rule_id": self.rule_id,
            "version": self.version,
            "value": self.value,
            "unit": self.unit,
            "grade": self.grade,
            "grade_at_least": self.grade_at_least,
            "operator": self.operator,
            "threshold": self.threshold,
            "basis": self.basis,
            "band": self.band,
            "missing": list(self.missing),
            "assumptions": list(self.assumptions),
            "source": self.source,
        }


@lru_cache(maxsize=1)
def _rows() -> tuple[_Row, ...]:
    try:
        text = resources.files("prrt.clinical").joinpath("criteria", _DATA_FILE).read_text("utf-8")
    except OSError as err:  # pragma: no cover - packaging error
        raise DataSourceError(f"cannot read criteria/{_DATA_FILE}: {err}") from err
    rows: list[_Row] = []
    for number, record in enumerate(csv.DictReader(text.splitlines()), start=2):
        try:
            row = _Row(
                rule_id=record["rule_id"],
                term=CtcaeTerm(record["term"]),
                grade=int(record["grade"]),
                operator=record["operator"],
                factor=Decimal(record["factor"]),
                reference=record["reference"],
                baseline=record["baseline"],
                unit=record["unit"],
                source=record["source"],
            )
        except (KeyError, ValueError, ArithmeticError) as err:
            raise RuleError(f"criteria/{_DATA_FILE} line {number}: {err}") from err
        if record["version"] != CTCAE_VERSION or row.operator not in ("<", ">", ">="):
            raise RuleError(f"criteria/{_DATA_FILE} line {number}: bad version or operator")
        if row.reference not in ("absolute", "LLN", "ULN", "baseline"):
            raise RuleError(f"criteria/{_DATA_FILE} line {number}: bad reference {row.reference!r}")
        if row.baseline not in ("any", "normal", "abnormal") or not 1 <= row.grade <= 4:
            raise RuleError(f"criteria/{_DATA_FILE} line {number}: bad baseline or grade")
        rows.append(row)
    missing = set(CtcaeTerm) - {row.term for row in rows}
    if missing:
        raise RuleError(f"criteria/{_DATA_FILE}: no rows for {sorted(t.value for t in missing)}")
    return tuple(rows)


def _decimal(value: float) -> Decimal:
    """Exact decimal of the value as displayed (shortest repr), cf. clinical-rules.md §0.3.4."""
    return Decimal(repr(float(value)))


def _compare(value: Decimal, operator: str, threshold: Decimal) -> bool:
    if operator == "<":
        return value < threshold
    if operator == ">":
        return value > threshold
    return value >= threshold


def _number(value: Any, field: str, low: float, high: float, what: str) -> float:
    expected = f"{what} between {low:g} and {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            field, value, expected, hint="give a number, not " + type(value).__name__
        )
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInputError(field, value, expected)
    return number


def _reference(value: Any, field: str, low: float, high: float, unit: str) -> float | None:
    if value is None:
        return None
    number = _number(value, field, low, high, f"a {field} in {unit}")
    if number <= 0:
        raise InvalidInputError(field, value, f"a positive {field} in {unit}")
    return number


def _check_term(term: Any) -> CtcaeTerm:
    if isinstance(term, CtcaeTerm):
        return term
    try:
        return CtcaeTerm(term)
    except ValueError as err:
        raise InvalidInputError(
            "term", term, "a CTCAE term: " + ", ".join(t.value for t in CtcaeTerm)
        ) from err


def _check_version(version: Any) -> str:
    if version not in SUPPORTED_CTCAE_VERSIONS:
        raise InvalidInputError(
            "version",
            version,
            "CTCAE version " + " or ".join(repr(v) for v in SUPPORTED_CTCAE_VERSIONS),
            hint="CTCAE v6.0 changes neutrophil and platelet bands (clinical-rules.md §5.3) "
            "and is not implemented",
        )
    return str(version)


def _format(number: Decimal) -> str:
    return f"{float(number):g}"


def grade(
    term: CtcaeTerm,
    value: float,
    *,
    uln: float | None = None,
    lln: float | None = None,
    baseline: float | None = None,
    version: str = CTCAE_VERSION,
) -> CtcaeGrade:
    """Grade a laboratory value with CTCAE v5.0 (clinical-rules.md §5.1).

    Parameters
    ----------
    term
        The CTCAE term (or its string value).
    value
        The laboratory value in the canonical unit of the term's analyte
        (:data:`prrt.clinical.labs.CANONICAL_LAB_UNIT`): g/L for haemoglobin and
        albumin, 10^9/L for counts, µmol/L for creatinine and bilirubin, U/L for
        AST/ALT; eGFR in mL/min/1.73 m² for chronic kidney disease.
    uln, lln
        Upper / lower limit of normal of the reporting laboratory, same unit.
        Needed for grade 1 of the count and albumin terms (LLN) and for every
        ULN-relative band; CKD uses an LLN of 90 when none is given [P].
    baseline
        The patient's baseline value (pre-treatment), same unit: creatinine G2/G3
        relative to baseline; abnormal-baseline bands of bilirubin and transaminases.
    version
        CTCAE version; only ``"5.0"`` is implemented.

    Returns
    -------
    CtcaeGrade
        The grade (``None`` if a missing reference could change it), the band and its source.

    Raises
    ------
    InvalidInputError
        Unknown term or version, value of the wrong type, implausible value, or a
        non-positive reference.

    Examples
    --------
    >>> grade(CtcaeTerm.PLATELET_COUNT_DECREASED, 75.0, lln=150.0).grade
    1
    >>> grade(CtcaeTerm.PLATELET_COUNT_DECREASED, 74.9).band
    'G2: < 75 10^9/L'
    >>> g = grade(CtcaeTerm.PLATELET_COUNT_DECREASED, 120.0)  # LLN unknown
    >>> g.grade, g.grade_at_least, g.missing
    (None, 0, ('lln',))
    >>> grade(CtcaeTerm.CREATININE_INCREASED, 100.0, uln=110.0, baseline=60.0).grade
    2
    """
    checked_term = _check_term(term)
    checked_version = _check_version(version)
    analyte = TERM_ANALYTE[checked_term]
    if analyte is None:
        low, high = _EGFR_RANGE
        unit = _EGFR_UNIT
    else:
        rng = plausible_range(analyte)
        low, high, unit = rng.low, rng.high, rng.unit
    number = _number(value, "value", low, high, f"a {checked_term.value} value in {unit}")
    uln_value = _reference(uln, "uln", low, high, unit)
    lln_value = _reference(lln, "lln", low, high, unit)
    baseline_value = _reference(baseline, "baseline", low, high, unit)
    assumptions: list[str] = []
    if checked_term is CtcaeTerm.CHRONIC_KIDNEY_DISEASE and lln_value is None:
        lln_value = CKD_DEFAULT_LLN_ML_PER_MIN_PER_1_73M2
        assumptions.append("eGFR LLN 90 mL/min/1.73m2 (default) [P]")

    rows = [row for row in _rows() if row.term is checked_term]
    if checked_term in _BASELINE_DEPENDENT:
        if baseline_value is None:
            state = "normal"
            assumptions.append("no baseline given: baseline-normal bands used [P]")
        elif uln_value is None:
            state = "normal"  # ULN rows are undecidable anyway; grade will be indeterminate
        else:
            state = "abnormal" if _decimal(baseline_value) > _decimal(uln_value) else "normal"
        rows = [row for row in rows if row.baseline in ("any", state)]

    references = {
        "absolute": Decimal(1),
        "LLN": lln_value,
        "ULN": uln_value,
        "baseline": baseline_value,
    }
    observed = _decimal(number)
    best: _Row | None = None
    best_threshold: Decimal | None = None
    undecided: list[tuple[int, str]] = []
    for row in rows:
        ref = references[row.reference]
        if ref is None:
            undecided.append((row.grade, row.reference.lower()))
            continue
        threshold = row.factor * (ref if isinstance(ref, Decimal) else _decimal(ref))
        if _compare(observed, row.operator, threshold) and (best is None or row.grade > best.grade):
            best, best_threshold = row, threshold
    at_least = best.grade if best is not None else 0
    blocking = sorted({name for g, name in undecided if g > at_least})
    result_grade = None if blocking else at_least
    sources = {row.source for row in rows}
    needed = _needed_text(blocking)
    if best is None or best_threshold is None:
        if result_grade == 0:
            band = "grade 0: within normal range"
        else:
            decided = sorted(
                {_REFERENCE_WORDS.get(r.reference.lower(), r.reference) for r in rows}
                - {_REFERENCE_WORDS[name] for _, name in undecided}
            )
            band = (
                f"grade 0 by {' and '.join(decided)}; {needed}"
                if decided
                else "no band decidable: "
                + " and ".join(_REFERENCE_WORDS[name] for name in blocking)
                + " needed"
            )
        return CtcaeGrade(
            term=checked_term,
            rule_id=rows[0].rule_id,
            version=checked_version,
            value=number,
            unit=unit,
            grade=result_grade,
            grade_at_least=0,
            operator=None,
            threshold=None,
            basis="normal range",
            band=band,
            missing=tuple(blocking),
            assumptions=tuple(assumptions),
            source="; ".join(sorted(sources)),
        )
    basis = best.reference
    if basis == "absolute":
        band = f"G{best.grade}: {best.operator} {_format(best_threshold)} {unit}"
    else:
        band = (
            f"G{best.grade}: {best.operator} {_format(best.factor)} x {basis} "
            f"({_format(best_threshold)} {unit})"
        )
    if result_grade is None:
        band = f"{band}; {needed}"
    return CtcaeGrade(
        term=checked_term,
        rule_id=best.rule_id,
        version=checked_version,
        value=number,
        unit=unit,
        grade=result_grade,
        grade_at_least=at_least,
        operator=best.operator,
        threshold=float(best_threshold),
        basis=basis,
        band=band,
        missing=tuple(blocking),
        assumptions=tuple(assumptions),
        source=best.source,
    )


_REFERENCE_WORDS = {
    "absolute": "the absolute bands",
    "uln": "ULN",
    "lln": "LLN",
    "baseline": "baseline",
}


def _needed_text(blocking: list[str]) -> str:
    """``"baseline needed for the baseline-relative bands"`` for the references missing."""
    words = [_REFERENCE_WORDS.get(name, name) for name in blocking]
    return (
        " and ".join(words)
        + " needed for the "
        + ", ".join(f"{w}-relative" for w in words)
        + " bands"
    )


def grade_analyte(
    analyte: Analyte,
    value: float,
    *,
    uln: float | None = None,
    lln: float | None = None,
    baseline: float | None = None,
    version: str = CTCAE_VERSION,
) -> CtcaeGrade:
    """Grade a canonical laboratory value by its analyte (see :data:`TERM_FOR_ANALYTE`).

    Raises
    ------
    InvalidInputError
        The analyte has no CTCAE laboratory term (INR, prothrombin %).

    Examples
    --------
    >>> grade_analyte(Analyte.HAEMOGLOBIN, 80.0, lln=120.0).grade
    2
    """
    term = TERM_FOR_ANALYTE.get(analyte)
    if term is None:
        raise InvalidInputError(
            "analyte",
            analyte,
            "an analyte with a CTCAE term: " + ", ".join(a.value for a in TERM_FOR_ANALYTE),
        )
    return grade(term, value, uln=uln, lln=lln, baseline=baseline, version=version)


def grade_thresholds(
    term: CtcaeTerm | str, *, lln: float | None = None, uln: float | None = None
) -> tuple[tuple[int, float], ...]:
    """Lower edge of each grade's band (value in the term's canonical unit), for plots.

    Only the bands that need no baseline are returned (``absolute``, and
    ``LLN``/``ULN`` when that limit is given); for a "decreased" term a value
    below the edge has at least that grade, for an "increased" term a value
    above it.

    >>> grade_thresholds("platelet_count_decreased", lln=150)
    ((1, 150.0), (2, 75.0), (3, 50.0), (4, 25.0))
    >>> grade_thresholds("creatinine_increased", uln=90)
    ((1, 90.0), (2, 135.0), (3, 270.0), (4, 540.0))
    """
    chosen = _check_term(term)
    refs = {"absolute": 1.0, "LLN": lln, "ULN": uln}
    edges: dict[int, float] = {}
    for row in _rows():
        ref = refs.get(row.reference)
        if row.term is not chosen or ref is None or row.baseline not in ("any", "normal"):
            continue
        edges.setdefault(row.grade, float(row.factor) * float(ref))
    return tuple(sorted(edges.items()))
