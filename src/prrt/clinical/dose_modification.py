"""Lutathera dose modification across a course: the label's table as a state machine over cycles.

Implements clinical-rules.md §4.1–§4.4 (DOSE-1..3, MON-1, DMT-TABLE-US, CYC-ALGO)
with the reason codes of §10 and the ambiguities of §11 (1, 2, 3, 4, 8, 11) as
fields of :class:`DoseModificationSettings`:

* give 7.4 GBq every 8 (± 1) weeks, 4 administrations (DOSE-1);
* a dose-modifying toxicity (DMT) withholds the next dose until it resolves, the
  next dose is then 3.7 GBq (DOSE-2, CYC-2, CYC-3); after a reduced dose that did
  not reproduce a DMT the dose goes back to 7.4 GBq (CYC-4);
* stop permanently on a recurrent DMT of the same category, on a DMT still
  unresolved 16 weeks after the last dose, or on an interval beyond 16 weeks
  after a DMT (CYC-1); grade ≥ 3 hypersensitivity, pregnancy and MDS/AML stop the
  course as program policy (CYC-1);
* grade 3–4 lymphopenia alone is not dose-modifying;
* categories are tested with the numeric limits of the US label table taken from
  CTCAE v5.0 (§5.3), so that a CTCAE version switch cannot change dosing:

  ======================  =====================================================================
  THROMBOCYTOPENIA        platelets < 75 ×10^9/L
  ANAEMIA_NEUTROPENIA     Hb < 80 g/L or ANC < 1.0 ×10^9/L (+ WBC < 2.0 under ``EU_SMPC_2017``)
  RENAL                   Cockcroft–Gault CrCl (actual weight, rounded, §0.3) < 40.0 mL/min,
                          or creatinine ≥ 1.40 × baseline, or CrCl ≤ 0.60 × baseline CrCl
  HEPATIC                 bilirubin > 3 × ULN, or albumin < 30 g/L and prothrombin abnormal
                          (PT activity < 70 %, else INR > 1.5 when only the INR is known)
  OTHER_NONHAEMATOLOGICAL any other possibly related CTCAE grade ≥ 3 (clinician-graded
                          toxicities, and AST/ALT grade ≥ 3 graded from the laboratory values)
  ======================  =====================================================================

Missing data never gives a full dose.  Every criterion is evaluated in
three-valued (Kleene) logic; the rules are applied in order of severity (STOP,
WITHHOLD, REDUCE, FULL) and a level whose condition cannot be decided because an
input is missing stops the evaluation with :attr:`Decision.INDETERMINATE` and
the list of missing inputs.  A decision reached with missing inputs is therefore
the decision that every completion of the missing inputs would give.

Dates are :class:`datetime.date` (a timezone-aware :class:`datetime.datetime` is
converted to its UTC date; a naive one is refused); intervals are reported in
weeks (days ÷ 7, §0.2).

This is decision support, not clinical advice: a clinician must sign off every
threshold before clinical use.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from importlib import resources
from types import MappingProxyType
from typing import Any

from prrt.clinical import ctcae
from prrt.clinical.labs import Analyte, parse_lab, plausible_range
from prrt.clinical.outcome import RuleOutcome, Status
from prrt.clinical.renal import Sex, creatinine_clearance_cockcroft_gault
from prrt.errors import DataSourceError, InvalidInputError, RuleError

__all__ = [
    "DAYS_PER_WEEK",
    "DEFAULT_SETTINGS",
    "DMT_LIMITS",
    "Administration",
    "CourseBaseline",
    "CourseHistory",
    "CourseReplay",
    "CycleAssessment",
    "CycleDecision",
    "Decision",
    "DmtCategory",
    "DmtLimits",
    "DoseModificationSettings",
    "Episode",
    "HypersensitivityAction",
    "LabPanel",
    "RecurrentReading",
    "RenalResolution",
    "SixteenWeekReading",
    "Toxicity",
    "next_cycle_decision",
    "replay_course",
]

DAYS_PER_WEEK = 7.0
_SOURCE_TABLE = (
    "Lutathera US PI rev. 4/2024 §2.4 dose-modification table (clinical-rules.md §4.3 DMT-TABLE-US)"
)
_SOURCE_ALGO = "clinical-rules.md §4.4 CYC-ALGO [P on the US table]"


class DmtCategory(str, Enum):
    """Dose-modifying toxicity categories of the label table (clinical-rules.md §4.3, §10)."""

    THROMBOCYTOPENIA = "THROMBOCYTOPENIA"
    ANAEMIA_NEUTROPENIA = "ANAEMIA_NEUTROPENIA"
    RENAL = "RENAL"
    HEPATIC = "HEPATIC"
    OTHER_NONHAEMATOLOGICAL = "OTHER_NONHAEMATOLOGICAL"


class Decision(str, Enum):
    """Next-cycle decisions of clinical-rules.md §10, plus INDETERMINATE for missing data."""

    FULL = "FULL_7.4_GBQ"
    REDUCE = "REDUCE_3.7_GBQ"
    WITHHOLD = "WITHHOLD"
    STOP = "STOP"
    COURSE_COMPLETE = "COURSE_COMPLETE"
    #: Data are missing: no dose can be decided (never a full dose); see ``missing``.
    INDETERMINATE = "INDETERMINATE_DATA_MISSING"


class RecurrentReading(str, Enum):
    """Meaning of "recurrent" toxicity (clinical-rules.md §11.2)."""

    #: Same category again at any later point of the course after an earlier episode (default, conservative).
    ANY_LATER_IN_COURSE = "any_later_in_course"
    #: Same category again after a reduced (3.7 GBq) dose only (AJR review wording; EU "recurs after the reduced dose").
    ON_REDUCED_DOSE = "on_reduced_dose"


class SixteenWeekReading(str, Enum):
    """Meaning of the 16-week limit (clinical-rules.md §11.3)."""

    #: Maximum interval between doses (NETTER-1/EU wording; default).
    MAX_INTERVAL = "max_interval"
    #: Delay beyond the scheduled date, i.e. interval up to 8 + 16 = 24 weeks (profile ``USPI_DELAY_READING``).
    DELAY_BEYOND_SCHEDULE = "delay_beyond_schedule"


class RenalResolution(str, Enum):
    """When renal toxicity counts as resolved (clinical-rules.md §11.4)."""

    #: None of the three renal criteria holds any more (default [P]).
    CRITERIA_FALSE = "criteria_false"
    #: Additionally creatinine back to ≤ factor × baseline (stricter option, factor 1.1 by default).
    CREATININE_TO_BASELINE = "creatinine_to_baseline"


class HypersensitivityAction(str, Enum):
    """Action after grade 3–4 hypersensitivity to Lutathera (clinical-rules.md §11.11)."""

    #: Do not rechallenge: stop (``CYC-1-HYPERSENSITIVITY-G3``; default).
    STOP = "stop"
    #: Treat as an "other grade 3–4" toxicity: withhold, then 3.7 GBq (US table footnote).
    WITHHOLD_REDUCE = "withhold_reduce"


@dataclass(frozen=True, slots=True)
class DmtLimits:
    """Numeric DMT limits (clinical-rules.md §4.4 "Category tests", operators exact).

    Loaded from ``criteria/dmt_us_label.csv`` (one row per rule id, with its source):
    CTCAE v5.0 grade boundaries named by the US label table (grade 2
    thrombocytopenia, grade 3 anaemia/neutropenia) and the label's renal and
    hepatic definitions [R, corroborated by the EU LysaKare SmPC text].  The
    operator of each row is fixed by the code and checked on loading.

    Examples
    --------
    >>> DMT_LIMITS.platelets_lt_10e9_per_l, DMT_LIMITS.creatinine_ratio_ge
    (75.0, 1.4)
    """

    platelets_lt_10e9_per_l: float
    haemoglobin_lt_g_per_l: float
    neutrophils_lt_10e9_per_l: float
    white_cells_lt_10e9_per_l: float  # only with settings.any_haematological_grade3 (EU_SMPC_2017)
    crcl_lt_ml_per_min: float
    creatinine_ratio_ge: float
    crcl_ratio_le: float
    bilirubin_gt_uln_multiple: float
    albumin_lt_g_per_l: float
    prothrombin_percent_lt: float
    inr_gt_default: float
    other_grade_ge: int
    sources: Mapping[str, str]


# rule id of criteria/dmt_us_label.csv -> (DmtLimits field, operator the code implements)
_DMT_ROWS: dict[str, tuple[str, str]] = {
    "DMT-PLT-LT75": ("platelets_lt_10e9_per_l", "<"),
    "DMT-HB-LT80": ("haemoglobin_lt_g_per_l", "<"),
    "DMT-ANC-LT1": ("neutrophils_lt_10e9_per_l", "<"),
    "DMT-EU-WBC-LT2": ("white_cells_lt_10e9_per_l", "<"),
    "DMT-CRCL-LT40": ("crcl_lt_ml_per_min", "<"),
    "DMT-SCR-RISE-GE40PCT": ("creatinine_ratio_ge", ">="),
    "DMT-CRCL-FALL-GE40PCT": ("crcl_ratio_le", "<="),
    "DMT-BILI-GT3ULN": ("bilirubin_gt_uln_multiple", ">"),
    "DMT-ALB-LT30": ("albumin_lt_g_per_l", "<"),
    "DMT-PT-LT70": ("prothrombin_percent_lt", "<"),
    "DMT-INR-GT": ("inr_gt_default", ">"),
    "DMT-OTHER-G3": ("other_grade_ge", ">="),
}
_DMT_FILE = "dmt_us_label.csv"


def _load_limits() -> DmtLimits:
    try:
        text = resources.files("prrt.clinical").joinpath("criteria", _DMT_FILE).read_text("utf-8")
    except OSError as err:  # pragma: no cover - packaging error
        raise DataSourceError(f"cannot read criteria/{_DMT_FILE}: {err}") from err
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        spec = _DMT_ROWS.get(row.get("rule_id", ""))
        if spec is None or row.get("operator") != spec[1] or not row.get("source"):
            raise RuleError(
                f"criteria/{_DMT_FILE} line {number}: unknown rule, wrong operator or no source"
            )
        name = spec[0]
        try:
            values[name] = (
                int(row["threshold"]) if name == "other_grade_ge" else float(row["threshold"])
            )
        except ValueError as err:
            raise RuleError(f"criteria/{_DMT_FILE} line {number}: {err}") from err
        sources[row["rule_id"]] = row["source"]
    missing = sorted(set(_DMT_ROWS) - set(sources))
    if missing:
        raise RuleError(f"criteria/{_DMT_FILE}: missing rules {missing}")
    return DmtLimits(**values, sources=MappingProxyType(sources))


#: The limits in force (clinical-rules.md §4.4), from ``criteria/dmt_us_label.csv``.
DMT_LIMITS = _load_limits()


def _check_positive(value: Any, field_name: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            field_name, value, what, hint="give a number, not " + type(value).__name__
        )
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInputError(field_name, value, what)
    return number


@dataclass(frozen=True, slots=True)
class DoseModificationSettings:
    """Settings of the next-cycle decision (ambiguity register clinical-rules.md §11).

    Every field has the default of profile ``PRRT-DEFAULT-1`` (US label table).
    Profile ``EU_SMPC_2017`` sets ``any_haematological_grade3=True``; profile
    ``USPI_DELAY_READING`` sets ``sixteen_week_reading=DELAY_BEYOND_SCHEDULE``.

    Attributes
    ----------
    profile
        Name of the decision profile, echoed in every decision.
    ctcae_version
        CTCAE version used for the grades reported (§11.1); only ``"5.0"``.  The DMT
        limits themselves are numeric (§5.3) and do not change with the version.
    recurrent_reading
        Meaning of "recurrent" (§11.2).
    sixteen_week_reading
        Meaning of "16 weeks" (§11.3).
    renal_resolution, renal_resolution_creatinine_factor
        When renal toxicity counts as resolved (§11.4); the factor applies to
        ``CREATININE_TO_BASELINE`` (creatinine ≤ factor × baseline).
    inr_fallback, inr_limit
        Prothrombin abnormal = PT activity < 70 % when given; otherwise, if
        ``inr_fallback``, INR > ``inr_limit`` (§11.8; EU LysaKare wording INR > 1.5).
    hypersensitivity_grade3_action
        Stop, or withhold and reduce, after grade 3–4 hypersensitivity (§11.11).
    any_haematological_grade3
        Also count any other grade ≥ 3 haematological toxicity except lymphopenia
        (WBC < 2.0 ×10^9/L) as ANAEMIA_NEUTROPENIA (profile ``EU_SMPC_2017``).
    require_worst_since_last_dose
        Require the worst (nadir/peak) values since the last dose (MON-1); when
        False the current values stand in for them (less safe: a recovered nadir is missed).
    max_interval_weeks, scheduled_interval_weeks, minimum_interval_weeks
        16-week limit, 8-week schedule, earliest next dose at 7 weeks (DOSE-1, DOSE-3).
    doses_per_course
        Administrations in a course (4).
    full_activity_bq, reduced_activity_bq
        7.4 GBq and 3.7 GBq (DOSE-1, DOSE-2).

    Examples
    --------
    >>> DoseModificationSettings().sixteen_week_reading.value
    'max_interval'
    >>> DoseModificationSettings(profile="EU_SMPC_2017", any_haematological_grade3=True).profile
    'EU_SMPC_2017'
    """

    profile: str = "PRRT-DEFAULT-1"
    ctcae_version: str = ctcae.CTCAE_VERSION
    recurrent_reading: RecurrentReading = RecurrentReading.ANY_LATER_IN_COURSE
    sixteen_week_reading: SixteenWeekReading = SixteenWeekReading.MAX_INTERVAL
    renal_resolution: RenalResolution = RenalResolution.CRITERIA_FALSE
    renal_resolution_creatinine_factor: float = 1.1
    inr_fallback: bool = True
    inr_limit: float = 1.5  # = DMT_LIMITS.inr_gt_default (criteria/dmt_us_label.csv DMT-INR-GT)
    hypersensitivity_grade3_action: HypersensitivityAction = HypersensitivityAction.STOP
    any_haematological_grade3: bool = False
    require_worst_since_last_dose: bool = True
    max_interval_weeks: float = 16.0
    scheduled_interval_weeks: float = 8.0
    minimum_interval_weeks: float = 7.0
    doses_per_course: int = 4
    full_activity_bq: float = 7.4e9
    reduced_activity_bq: float = 3.7e9

    def __post_init__(self) -> None:
        if self.ctcae_version not in ctcae.SUPPORTED_CTCAE_VERSIONS:
            raise InvalidInputError(
                "settings.ctcae_version", self.ctcae_version, "'5.0' (v6.0 is not implemented)"
            )
        for name, enum in (
            ("recurrent_reading", RecurrentReading),
            ("sixteen_week_reading", SixteenWeekReading),
            ("renal_resolution", RenalResolution),
            ("hypersensitivity_grade3_action", HypersensitivityAction),
        ):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum(value))
            except ValueError as err:
                raise InvalidInputError(
                    f"settings.{name}", value, "one of " + ", ".join(m.value for m in enum)
                ) from err
        for name in (
            "renal_resolution_creatinine_factor",
            "inr_limit",
            "max_interval_weeks",
            "scheduled_interval_weeks",
            "minimum_interval_weeks",
            "full_activity_bq",
            "reduced_activity_bq",
        ):
            _check_positive(getattr(self, name), f"settings.{name}", "a positive number")
        for name in ("inr_fallback", "any_haematological_grade3", "require_worst_since_last_dose"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInputError(f"settings.{name}", getattr(self, name), "True or False")
        if (
            isinstance(self.doses_per_course, bool)
            or not isinstance(self.doses_per_course, int)
            or self.doses_per_course < 1
        ):
            raise InvalidInputError(
                "settings.doses_per_course", self.doses_per_course, "a positive integer"
            )
        if self.reduced_activity_bq >= self.full_activity_bq:
            raise InvalidInputError(
                "settings.reduced_activity_bq",
                self.reduced_activity_bq,
                "less than full_activity_bq",
            )


#: Defaults of profile ``PRRT-DEFAULT-1``.
DEFAULT_SETTINGS = DoseModificationSettings()

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


_HYPERSENSITIVITY_TERMS = frozenset({"hypersensitivity", "allergic_reaction", "anaphylaxis"})
_PLATELET_TERMS = frozenset({"platelet_count_decreased", "thrombocytopenia"})
_ANAEMIA_NEUTROPENIA_TERMS = frozenset(
    {"anemia", "anaemia", "neutrophil_count_decreased", "neutropenia", "febrile_neutropenia"}
)
_LYMPHOCYTE_TERMS = frozenset({"lymphocyte_count_decreased", "lymphopenia"})
_WBC_TERMS = frozenset({"white_blood_cell_decreased", "leukopenia", "leucopenia"})


def _normalise_term(term: str) -> str:
    return "_".join(term.strip().casefold().replace("-", " ").split())


@dataclass(frozen=True, slots=True)
class Toxicity:
    """A clinician-graded CTCAE adverse event since the last dose.

    Attributes
    ----------
    term
        CTCAE term (e.g. ``"vomiting"``, ``"allergic reaction"``, ``"anaphylaxis"``).
        Haematological terms are routed to their category with the label's grade
        triggers; lymphopenia is never dose-modifying; every other term of grade
        ≥ 3 that is possibly related counts as OTHER_NONHAEMATOLOGICAL.
    worst_grade
        Worst grade (0–5) since the last dose.
    current_grade
        Grade now; None if not re-assessed (a worst grade ≥ 3 then leaves the
        question "still active?" open).
    related
        Possibly related to Lutathera (unrelated events are not dose-modifying).
    """

    term: str
    worst_grade: int
    current_grade: int | None = None
    related: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.term, str) or not self.term.strip():
            raise InvalidInputError("toxicity.term", self.term, "a CTCAE term such as 'vomiting'")
        for name in ("worst_grade", "current_grade"):
            value = getattr(self, name)
            if value is None and name == "current_grade":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
                raise InvalidInputError(f"toxicity.{name}", value, "a CTCAE grade 0-5 (integer)")
        if self.current_grade is not None and self.current_grade > self.worst_grade:
            raise InvalidInputError(
                "toxicity.current_grade",
                self.current_grade,
                f"at most worst_grade ({self.worst_grade})",
            )
        if not isinstance(self.related, bool):
            raise InvalidInputError("toxicity.related", self.related, "True or False")

    @property
    def normalised_term(self) -> str:
        """Lower-case term with underscores (``"Allergic reaction"`` → ``"allergic_reaction"``)."""
        return _normalise_term(self.term)


def _to_date(value: Any, field_name: str) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInputError(
                field_name,
                value,
                "a datetime.date or a timezone-aware datetime",
                hint="naive datetimes are ambiguous",
            )
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    raise InvalidInputError(field_name, value, "a datetime.date (or timezone-aware datetime)")


def _check_optional_bool(value: Any, field_name: str) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError(field_name, value, "True, False or None (not assessed)")


def _check_optional_range(
    value: Any, field_name: str, low: float, high: float, what: str
) -> float | None:
    if value is None:
        return None
    expected = f"{what} between {low:g} and {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field_name, value, expected)
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInputError(field_name, value, expected)
    return number


@dataclass(frozen=True, slots=True)
class CourseBaseline:
    """Pre-cycle-1 values of the patient (baseline of the renal rule, §4.3 [P]).

    Attributes
    ----------
    sex
        Biological sex (Cockcroft–Gault).
    labs
        Pre-cycle-1 laboratory values; creatinine is the baseline of the 40 % rule,
        AST/ALT the baseline of their CTCAE grades.
    weight_kg, age_years
        Pre-cycle-1 actual weight and age, for the baseline creatinine clearance.
    """

    sex: Sex
    labs: LabPanel
    weight_kg: float | None = None
    age_years: float | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "sex", Sex(self.sex))
        except ValueError as err:
            raise InvalidInputError("baseline.sex", self.sex, "'female' or 'male'") from err
        if not isinstance(self.labs, LabPanel):
            raise InvalidInputError("baseline.labs", self.labs, "a LabPanel")
        object.__setattr__(
            self,
            "weight_kg",
            _check_optional_range(
                self.weight_kg, "baseline.weight_kg", 2.0, 400.0, "a weight in kg"
            ),
        )
        object.__setattr__(
            self,
            "age_years",
            _check_optional_range(
                self.age_years, "baseline.age_years", 0.0, 130.0, "an age in years"
            ),
        )

    @property
    def crcl_ml_per_min(self) -> float | None:
        """Baseline Cockcroft–Gault creatinine clearance (mL/min, rounded §0.3), or None if incomplete."""
        if (
            self.labs.creatinine_umol_per_l is None
            or self.weight_kg is None
            or self.age_years is None
        ):
            return None
        return creatinine_clearance_cockcroft_gault(
            creatinine_umol_per_l=self.labs.creatinine_umol_per_l,
            age_years=self.age_years,
            weight_kg=self.weight_kg,
            sex=self.sex,
        )


@dataclass(frozen=True, slots=True)
class Administration:
    """One administration of the course.

    Attributes
    ----------
    cycle_number
        1-based position in the course.
    administration_date
        Date of the infusion.
    activity_bq
        Administered activity in Bq; a dose is "reduced" when it is closer to the
        reduced than to the full activity of the settings.
    """

    cycle_number: int
    administration_date: date
    activity_bq: float

    def __post_init__(self) -> None:
        if (
            isinstance(self.cycle_number, bool)
            or not isinstance(self.cycle_number, int)
            or self.cycle_number < 1
        ):
            raise InvalidInputError(
                "administration.cycle_number", self.cycle_number, "a positive integer"
            )
        object.__setattr__(
            self,
            "administration_date",
            _to_date(self.administration_date, "administration.administration_date"),
        )
        object.__setattr__(
            self,
            "activity_bq",
            _check_positive(
                self.activity_bq, "administration.activity_bq", "a positive activity in Bq"
            ),
        )


@dataclass(frozen=True, slots=True)
class Episode:
    """A DMT category that occurred in the interval after dose ``after_dose`` (1-based)."""

    category: DmtCategory
    after_dose: int

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "category", DmtCategory(self.category))
        except ValueError as err:
            raise InvalidInputError(
                "episode.category",
                self.category,
                "one of " + ", ".join(c.value for c in DmtCategory),
            ) from err
        if (
            isinstance(self.after_dose, bool)
            or not isinstance(self.after_dose, int)
            or self.after_dose < 1
        ):
            raise InvalidInputError("episode.after_dose", self.after_dose, "a dose number >= 1")


@dataclass(frozen=True, slots=True)
class CourseHistory:
    """What happened earlier in the course: baseline, administrations, DMT episodes.

    Examples
    --------
    >>> from datetime import date
    >>> h = CourseHistory(CourseBaseline(Sex.FEMALE, LabPanel(creatinine_umol_per_l=70.0), 60.0, 55.0),
    ...                   (Administration(1, date(2026, 1, 5), 7.4e9),))
    >>> h.doses_given
    1
    """

    baseline: CourseBaseline
    administrations: tuple[Administration, ...] = ()
    episodes: tuple[Episode, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.baseline, CourseBaseline):
            raise InvalidInputError("history.baseline", self.baseline, "a CourseBaseline")
        admins = tuple(self.administrations)
        object.__setattr__(self, "administrations", admins)
        object.__setattr__(self, "episodes", tuple(self.episodes))
        for index, admin in enumerate(admins):
            if not isinstance(admin, Administration) or admin.cycle_number != index + 1:
                raise InvalidInputError(
                    f"history.administrations[{index}]",
                    admin,
                    f"an Administration with cycle_number {index + 1}",
                )
            if index and admin.administration_date <= admins[index - 1].administration_date:
                raise InvalidInputError(
                    f"history.administrations[{index}].administration_date",
                    admin.administration_date,
                    "a date after the previous administration",
                )
        for index, episode in enumerate(self.episodes):
            if not isinstance(episode, Episode) or episode.after_dose > len(admins):
                raise InvalidInputError(
                    f"history.episodes[{index}]",
                    episode,
                    f"an Episode after a dose given (1..{len(admins)})",
                )

    @property
    def doses_given(self) -> int:
        """Number of administrations so far."""
        return len(self.administrations)

    @property
    def last_administration(self) -> Administration | None:
        """The most recent administration, if any."""
        return self.administrations[-1] if self.administrations else None


@dataclass(frozen=True, slots=True)
class CycleAssessment:
    """Everything known at the time of a next-cycle decision (MON-1).

    Attributes
    ----------
    assessment_date
        Date of the intended administration (labs drawn shortly before).
    labs
        Current pre-dose values.
    worst_since_last_dose
        Worst values since the last dose (lowest counts, albumin and PT %; highest
        creatinine, bilirubin, INR, AST, ALT).  Required from cycle 2 on unless
        ``settings.require_worst_since_last_dose`` is False.  The creatinine
        clearance of the worst creatinine uses the current weight and age.
    weight_kg, age_years
        Current actual weight and age (Cockcroft–Gault).
    toxicities
        Clinician-graded adverse events since the last dose; ``()`` means none,
        ``None`` means not assessed.
    pregnant
        Pregnancy status; None = not assessed (pass False when not applicable).
    mds_or_aml
        Myelodysplastic syndrome or acute myeloid leukaemia diagnosed; None = not assessed.
    cycle_number
        Optional: the cycle being decided (doses given + 1), checked against the history.
    """

    assessment_date: date
    labs: LabPanel
    worst_since_last_dose: LabPanel | None = None
    weight_kg: float | None = None
    age_years: float | None = None
    toxicities: tuple[Toxicity, ...] | None = None
    pregnant: bool | None = None
    mds_or_aml: bool | None = None
    cycle_number: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "assessment_date", _to_date(self.assessment_date, "assessment_date")
        )
        if not isinstance(self.labs, LabPanel):
            raise InvalidInputError("labs", self.labs, "a LabPanel")
        if self.worst_since_last_dose is not None and not isinstance(
            self.worst_since_last_dose, LabPanel
        ):
            raise InvalidInputError(
                "worst_since_last_dose", self.worst_since_last_dose, "a LabPanel or None"
            )
        object.__setattr__(
            self,
            "weight_kg",
            _check_optional_range(self.weight_kg, "weight_kg", 2.0, 400.0, "a weight in kg"),
        )
        object.__setattr__(
            self,
            "age_years",
            _check_optional_range(self.age_years, "age_years", 0.0, 130.0, "an age in years"),
        )
        if self.toxicities is not None:
            toxicities = tuple(self.toxicities)
            for index, tox in enumerate(toxicities):
                if not isinstance(tox, Toxicity):
                    raise InvalidInputError(f"toxicities[{index}]", tox, "a Toxicity")
            object.__setattr__(self, "toxicities", toxicities)
        _check_optional_bool(self.pregnant, "pregnant")
        _check_optional_bool(self.mds_or_aml, "mds_or_aml")
        if self.cycle_number is not None and (
            isinstance(self.cycle_number, bool)
            or not isinstance(self.cycle_number, int)
            or self.cycle_number < 1
        ):
            raise InvalidInputError("cycle_number", self.cycle_number, "a positive integer or None")


@dataclass(frozen=True, slots=True)
class CycleDecision:
    """Decision for the next cycle, with its reasons (reason codes of clinical-rules.md §10).

    Attributes
    ----------
    decision
        FULL_7.4_GBQ, REDUCE_3.7_GBQ, WITHHOLD, STOP, COURSE_COMPLETE or INDETERMINATE_DATA_MISSING.
    activity_bq
        Activity to give (Bq) for FULL/REDUCE, otherwise None.
    cycle_number
        The cycle being decided (doses given + 1).
    reason_codes
        Codes of §10 (``CYC-2-WITHHOLD-THROMBOCYTOPENIA``, ...); ``CYC-TIMING-TOO-EARLY``
        when the 7-week minimum interval is not reached; ``CYC-DATA-MISSING`` for
        INDETERMINATE.
    reasons
        The same in words, with the values and limits used.
    occurred, active
        DMT categories met since the last dose (worst ∪ current) and met now.
    undetermined
        Categories whose status could not be decided (missing data).
    missing
        Inputs that were needed and missing.
    weeks_since_last_dose
        Interval since the last administration (days ÷ 7), None before cycle 1.
    weeks_left
        For WITHHOLD after a DMT: weeks left before the 16-week limit.
    crcl_ml_per_min
        Current Cockcroft–Gault creatinine clearance (rounded), if computable.
    outcomes
        One :class:`~prrt.clinical.outcome.RuleOutcome` per DMT criterion and value
        set; FAIL means the criterion of a dose-modifying toxicity is met.
    profile
        Profile of the settings used.
    """

    decision: Decision
    activity_bq: float | None
    cycle_number: int
    reason_codes: tuple[str, ...]
    reasons: tuple[str, ...]
    occurred: frozenset[DmtCategory] = frozenset()
    active: frozenset[DmtCategory] = frozenset()
    undetermined: frozenset[DmtCategory] = frozenset()
    missing: tuple[str, ...] = ()
    weeks_since_last_dose: float | None = None
    weeks_left: float | None = None
    crcl_ml_per_min: float | None = None
    outcomes: tuple[RuleOutcome, ...] = ()
    profile: str = DEFAULT_SETTINGS.profile

    @property
    def gives_dose(self) -> bool:
        """True for FULL and REDUCE."""
        return self.decision in (Decision.FULL, Decision.REDUCE)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "decision": self.decision.value,
            "activity_bq": self.activity_bq,
            "cycle_number": self.cycle_number,
            "reason_codes": list(self.reason_codes),
            "reasons": list(self.reasons),
            "occurred": sorted(c.value for c in self.occurred),
            "active": sorted(c.value for c in self.active),
            "undetermined": sorted(c.value for c in self.undetermined),
            "missing": list(self.missing),
            "weeks_since_last_dose": self.weeks_since_last_dose,
            "weeks_left": self.weeks_left,
            "crcl_ml_per_min": self.crcl_ml_per_min,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "profile": self.profile,
        }


# --------------------------------------------------------------------------- three-valued logic


@dataclass(frozen=True, slots=True)
class _Tri:
    """Kleene truth value with the facts that made it true and the inputs that were missing."""

    value: bool | None
    facts: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


_FALSE = _Tri(False)


def _any(items: Iterable[_Tri]) -> _Tri:
    items = list(items)
    true = [i for i in items if i.value is True]
    if true:
        return _Tri(True, facts=tuple(f for i in true for f in i.facts))
    unknown = [i for i in items if i.value is None]
    if unknown:
        return _Tri(None, missing=_merge(m for i in unknown for m in i.missing))
    return _FALSE


def _all(items: Iterable[_Tri]) -> _Tri:
    items = list(items)
    if any(i.value is False for i in items):
        return _FALSE
    unknown = [i for i in items if i.value is None]
    if unknown:
        return _Tri(None, missing=_merge(m for i in unknown for m in i.missing))
    return _Tri(True, facts=tuple(f for i in items for f in i.facts))


def _merge(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _fmt(value: float | Decimal) -> str:
    return f"{float(value):g}"


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Evaluator:
    """Collects rule outcomes while evaluating criteria."""

    def __init__(self, settings: DoseModificationSettings) -> None:
        self.settings = settings
        self.outcomes: list[RuleOutcome] = []

    def compare(
        self,
        rule_id: str,
        label: str,
        value: float | None,
        operator: str,
        threshold: Decimal | None,
        unit: str,
        *,
        missing: Sequence[str],
        scope: str,
        threshold_text: str | None = None,
    ) -> _Tri:
        """Compare ``value <operator> threshold`` exactly on the displayed decimals."""
        shown = threshold_text or (f"{_fmt(threshold)} {unit}" if threshold is not None else "?")
        if value is None or threshold is None:
            self.outcomes.append(
                RuleOutcome(
                    rule_id=rule_id,
                    status=Status.INDETERMINATE,
                    observed=value,
                    threshold=None if threshold is None else float(threshold),
                    unit=unit,
                    source=DMT_LIMITS.sources.get(rule_id, _SOURCE_TABLE),
                    operator=operator,
                    profile=self.settings.profile,
                    message=f"{scope}: missing {', '.join(missing)}",
                )
            )
            return _Tri(None, missing=tuple(missing))
        met = _OPS[operator](_dec(value), threshold)
        fact = f"{scope}: {label} {_fmt(value)} {unit} {operator} {shown}"
        self.outcomes.append(
            RuleOutcome(
                rule_id=rule_id,
                status=Status.FAIL if met else Status.PASS,
                observed=value,
                threshold=float(threshold),
                unit=unit,
                source=DMT_LIMITS.sources.get(rule_id, _SOURCE_TABLE),
                operator=operator,
                profile=self.settings.profile,
                message=fact
                if met
                else f"{scope}: {label} {_fmt(value)} {unit} not {operator} {shown}",
            )
        )
        return _Tri(True, facts=(fact,)) if met else _FALSE


@dataclass(frozen=True, slots=True)
class _Context:
    history: CourseHistory
    assessment: CycleAssessment
    settings: DoseModificationSettings
    crcl_now: float | None
    crcl_missing: tuple[str, ...]


def _crcl(
    creatinine: float | None, creatinine_name: str, assessment: CycleAssessment, sex: Sex
) -> tuple[float | None, tuple[str, ...]]:
    missing = [
        name
        for name, value in (
            (creatinine_name, creatinine),
            ("weight_kg", assessment.weight_kg),
            ("age_years", assessment.age_years),
        )
        if value is None
    ]
    if (
        missing
        or creatinine is None
        or assessment.weight_kg is None
        or assessment.age_years is None
    ):
        return None, tuple(missing)
    return (
        creatinine_clearance_cockcroft_gault(
            creatinine_umol_per_l=creatinine,
            age_years=assessment.age_years,
            weight_kg=assessment.weight_kg,
            sex=sex,
        ),
        (),
    )


def _categories_from_panel(
    ev: _Evaluator, ctx: _Context, panel: LabPanel, scope: str, fallback_uln: LabPanel
) -> dict[DmtCategory, _Tri]:
    """Evaluate the lab criteria of every category on one panel."""
    lim = DMT_LIMITS
    s = ctx.settings
    baseline = ctx.history.baseline
    p = f"{scope}."
    result: dict[DmtCategory, _Tri] = {}

    result[DmtCategory.THROMBOCYTOPENIA] = ev.compare(
        "DMT-PLT-LT75", "platelets", panel.platelets_10e9_per_l, "<", _dec(lim.platelets_lt_10e9_per_l),
        "10^9/L", missing=(p + "platelets_10e9_per_l",), scope=scope,
    )  # fmt: skip
    haem = [
        ev.compare(
            "DMT-HB-LT80", "haemoglobin", panel.haemoglobin_g_per_l, "<", _dec(lim.haemoglobin_lt_g_per_l),
            "g/L", missing=(p + "haemoglobin_g_per_l",), scope=scope,
        ),
        ev.compare(
            "DMT-ANC-LT1", "neutrophils", panel.neutrophils_10e9_per_l, "<", _dec(lim.neutrophils_lt_10e9_per_l),
            "10^9/L", missing=(p + "neutrophils_10e9_per_l",), scope=scope,
        ),
    ]  # fmt: skip
    if s.any_haematological_grade3:
        haem.append(
            ev.compare(
                "DMT-EU-WBC-LT2", "white cells", panel.white_cells_10e9_per_l, "<",
                _dec(lim.white_cells_lt_10e9_per_l), "10^9/L", missing=(p + "white_cells_10e9_per_l",), scope=scope,
            )
        )  # fmt: skip
    result[DmtCategory.ANAEMIA_NEUTROPENIA] = _any(haem)

    # RENAL (RENAL-4: Cockcroft–Gault with actual weight; serum creatinine ratio)
    if panel is ctx.assessment.labs:
        crcl, crcl_missing = ctx.crcl_now, ctx.crcl_missing
    else:
        crcl, crcl_missing = _crcl(
            panel.creatinine_umol_per_l, p + "creatinine_umol_per_l", ctx.assessment, baseline.sex
        )
    base_creat = baseline.labs.creatinine_umol_per_l
    base_crcl = baseline.crcl_ml_per_min
    renal = [
        ev.compare(
            "DMT-CRCL-LT40", "Cockcroft-Gault CrCl", crcl, "<", _dec(lim.crcl_lt_ml_per_min), "mL/min",
            missing=crcl_missing, scope=scope,
        ),
        ev.compare(
            "DMT-SCR-RISE-GE40PCT", "creatinine", panel.creatinine_umol_per_l, ">=",
            None if base_creat is None else _dec(lim.creatinine_ratio_ge) * _dec(base_creat), "µmol/L",
            missing=_merge(
                n for n, v in ((p + "creatinine_umol_per_l", panel.creatinine_umol_per_l),
                               ("baseline.labs.creatinine_umol_per_l", base_creat)) if v is None
            ),
            scope=scope,
            threshold_text=None if base_creat is None else
            f"{_fmt(lim.creatinine_ratio_ge)} x baseline {_fmt(base_creat)} µmol/L",
        ),
        ev.compare(
            "DMT-CRCL-FALL-GE40PCT", "Cockcroft-Gault CrCl", crcl, "<=",
            None if base_crcl is None else _dec(lim.crcl_ratio_le) * _dec(base_crcl), "mL/min",
            missing=_merge(
                [*crcl_missing, *(() if base_crcl is not None else (
                    "baseline.labs.creatinine_umol_per_l", "baseline.weight_kg", "baseline.age_years"))]
            ),
            scope=scope,
            threshold_text=None if base_crcl is None else
            f"{_fmt(lim.crcl_ratio_le)} x baseline CrCl {_fmt(base_crcl)} mL/min",
        ),
    ]  # fmt: skip
    result[DmtCategory.RENAL] = _any(renal)

    # HEPATIC: bilirubin > 3 x ULN, or albumin < 30 g/L with prothrombin abnormal
    bili_uln = panel.bilirubin_uln_umol_per_l or fallback_uln.bilirubin_uln_umol_per_l
    bili = ev.compare(
        "DMT-BILI-GT3ULN", "bilirubin", panel.bilirubin_umol_per_l, ">",
        None if bili_uln is None else _dec(lim.bilirubin_gt_uln_multiple) * _dec(bili_uln), "µmol/L",
        missing=_merge(
            n for n, v in ((p + "bilirubin_umol_per_l", panel.bilirubin_umol_per_l),
                           (p + "bilirubin_uln_umol_per_l", bili_uln)) if v is None
        ),
        scope=scope,
        threshold_text=None if bili_uln is None else
        f"{_fmt(lim.bilirubin_gt_uln_multiple)} x ULN {_fmt(bili_uln)} µmol/L",
    )  # fmt: skip
    albumin = ev.compare(
        "DMT-ALB-LT30", "albumin", panel.albumin_g_per_l, "<", _dec(lim.albumin_lt_g_per_l), "g/L",
        missing=(p + "albumin_g_per_l",), scope=scope,
    )  # fmt: skip
    if panel.prothrombin_percent is not None or not s.inr_fallback:
        prothrombin = ev.compare(
            "DMT-PT-LT70", "prothrombin activity", panel.prothrombin_percent, "<",
            _dec(lim.prothrombin_percent_lt), "%", missing=(p + "prothrombin_percent",), scope=scope,
        )  # fmt: skip
    else:
        prothrombin = ev.compare(
            "DMT-INR-GT", "INR (fallback, PT % not given)", panel.inr, ">", _dec(s.inr_limit), "1",
            missing=(p + "prothrombin_percent or " + p + "inr",), scope=scope,
        )  # fmt: skip
    result[DmtCategory.HEPATIC] = _any([bili, _all([albumin, prothrombin])])

    # OTHER_NONHAEMATOLOGICAL from laboratory transaminases graded with CTCAE
    other: list[_Tri] = []
    for name, value, uln, base, term in (
        ("ast", panel.ast_u_per_l, panel.ast_uln_u_per_l or fallback_uln.ast_uln_u_per_l,
         baseline.labs.ast_u_per_l, ctcae.CtcaeTerm.AST_INCREASED),
        ("alt", panel.alt_u_per_l, panel.alt_uln_u_per_l or fallback_uln.alt_uln_u_per_l,
         baseline.labs.alt_u_per_l, ctcae.CtcaeTerm.ALT_INCREASED),
    ):  # fmt: skip
        other.append(_transaminase(ev, term, name, value, uln, base, scope))
    result[DmtCategory.OTHER_NONHAEMATOLOGICAL] = _any(other)
    return result


def _transaminase(
    ev: _Evaluator,
    term: ctcae.CtcaeTerm,
    name: str,
    value: float | None,
    uln: float | None,
    baseline: float | None,
    scope: str,
) -> _Tri:
    rule_id = f"DMT-{name.upper()}-G3"
    limit = DMT_LIMITS.other_grade_ge
    value_name = f"{scope}.{name}_u_per_l"
    if value is None:
        ev.outcomes.append(
            RuleOutcome(rule_id, Status.INDETERMINATE, None, limit, "CTCAE grade", _SOURCE_TABLE,
                        operator=">=", profile=ev.settings.profile, message=f"{scope}: missing {value_name}")
        )  # fmt: skip
        return _Tri(None, missing=(value_name,))
    graded = ctcae.grade(term, value, uln=uln, baseline=baseline, version=ev.settings.ctcae_version)
    if graded.grade_at_least >= limit:
        met: bool | None = True
    elif graded.grade is None:
        met = None
    else:
        met = False
    status = {True: Status.FAIL, False: Status.PASS, None: Status.INDETERMINATE}[met]
    fact = f"{scope}: {name.upper()} {_fmt(value)} U/L is CTCAE v{graded.version} grade {graded.grade_at_least} ({graded.band})"
    ev.outcomes.append(
        RuleOutcome(rule_id, status, graded.grade, limit, "CTCAE grade", graded.source or _SOURCE_TABLE,
                    operator=">=", profile=ev.settings.profile, message=fact)
    )  # fmt: skip
    if met is None:
        return _Tri(None, missing=(f"{scope}.{name}_uln_u_per_l",))
    return _Tri(True, facts=(fact,)) if met else _FALSE


def _toxicity_categories(
    assessment: CycleAssessment, settings: DoseModificationSettings
) -> tuple[dict[DmtCategory, _Tri], dict[DmtCategory, _Tri], _Tri]:
    """Occurred / active categories and hypersensitivity-stop from the clinician's toxicities."""
    if assessment.toxicities is None:
        # Haematological categories are decided by the laboratory values; only the
        # clinician-graded categories (other grade >= 3, hypersensitivity) are unknown.
        unknown = _Tri(None, missing=("toxicities",))
        other = {DmtCategory.OTHER_NONHAEMATOLOGICAL: unknown}
        return other, dict(other), unknown
    occurred: dict[DmtCategory, list[_Tri]] = {}
    active: dict[DmtCategory, list[_Tri]] = {}
    hyper: list[_Tri] = []
    for index, tox in enumerate(assessment.toxicities):
        term = tox.normalised_term
        if not tox.related:
            continue
        if (
            term in _HYPERSENSITIVITY_TERMS
            and settings.hypersensitivity_grade3_action is HypersensitivityAction.STOP
        ):
            if tox.worst_grade >= 3:
                hyper.append(_Tri(True, facts=(f"{tox.term} grade {tox.worst_grade}",)))
            continue
        if term in _LYMPHOCYTE_TERMS:
            continue  # lymphopenia alone is never dose-modifying (§4.3)
        if term in _PLATELET_TERMS:
            category, trigger = DmtCategory.THROMBOCYTOPENIA, 2
        elif term in _ANAEMIA_NEUTROPENIA_TERMS:
            category, trigger = DmtCategory.ANAEMIA_NEUTROPENIA, 3
        elif term in _WBC_TERMS:
            if not settings.any_haematological_grade3:
                continue
            category, trigger = DmtCategory.ANAEMIA_NEUTROPENIA, 3
        else:
            category, trigger = DmtCategory.OTHER_NONHAEMATOLOGICAL, DMT_LIMITS.other_grade_ge
        if tox.worst_grade >= trigger:
            occurred.setdefault(category, []).append(
                _Tri(True, facts=(f"toxicity {tox.term} grade {tox.worst_grade} (>= {trigger})",))
            )
            if tox.current_grade is None:
                active.setdefault(category, []).append(
                    _Tri(None, missing=(f"toxicities[{index}].current_grade",))
                )
            elif tox.current_grade >= trigger:
                active.setdefault(category, []).append(
                    _Tri(True, facts=(f"toxicity {tox.term} still grade {tox.current_grade}",))
                )
    occ = {c: _any(v) for c, v in occurred.items()}
    act = {c: _any(v) for c, v in active.items()}
    return occ, act, _any(hyper)


def _weeks_between(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_WEEK


def _is_reduced(admin: Administration, settings: DoseModificationSettings) -> bool:
    return admin.activity_bq < (settings.full_activity_bq + settings.reduced_activity_bq) / 2.0


def _ge(value: float, limit: float) -> bool:
    return _dec(value) >= _dec(limit)


def _gt(value: float, limit: float) -> bool:
    return _dec(value) > _dec(limit)


def next_cycle_decision(
    history: CourseHistory,
    current: CycleAssessment,
    settings: DoseModificationSettings = DEFAULT_SETTINGS,
) -> CycleDecision:
    """Decide the next Lutathera administration (clinical-rules.md §4.4 CYC-ALGO).

    Parameters
    ----------
    history
        Baseline, administrations so far and DMT episodes of earlier intervals.
    current
        The assessment before the intended administration.
    settings
        Profile settings (ambiguity register §11); defaults = US label table.

    Returns
    -------
    CycleDecision
        Decision, activity, reason codes (§10) and reasons.

    Raises
    ------
    InvalidInputError
        Assessment dated on or before the last administration, or a ``cycle_number``
        that does not match the history.

    Examples
    --------
    >>> from datetime import date
    >>> base = CourseBaseline(Sex.MALE, LabPanel(creatinine_umol_per_l=80.0), 75.0, 60.0)
    >>> history = CourseHistory(base, (Administration(1, date(2026, 1, 5), 7.4e9),))
    >>> labs = LabPanel(haemoglobin_g_per_l=120.0, platelets_10e9_per_l=60.0,
    ...     neutrophils_10e9_per_l=2.5, creatinine_umol_per_l=82.0, bilirubin_umol_per_l=10.0,
    ...     bilirubin_uln_umol_per_l=21.0, albumin_g_per_l=40.0, prothrombin_percent=95.0,
    ...     ast_u_per_l=30.0, ast_uln_u_per_l=40.0, alt_u_per_l=25.0, alt_uln_u_per_l=40.0)
    >>> current = CycleAssessment(date(2026, 3, 2), labs, worst_since_last_dose=labs,
    ...     weight_kg=75.0, age_years=60.0, toxicities=(), pregnant=False, mds_or_aml=False)
    >>> d = next_cycle_decision(history, current)
    >>> d.decision.value, d.reason_codes, d.weeks_left
    ('WITHHOLD', ('CYC-2-WITHHOLD-THROMBOCYTOPENIA',), 8.0)
    """
    if not isinstance(history, CourseHistory):
        raise InvalidInputError("history", history, "a CourseHistory")
    if not isinstance(current, CycleAssessment):
        raise InvalidInputError("current", current, "a CycleAssessment")
    if not isinstance(settings, DoseModificationSettings):
        raise InvalidInputError("settings", settings, "a DoseModificationSettings")
    s = settings
    doses_given = history.doses_given
    cycle_number = doses_given + 1
    if current.cycle_number is not None and current.cycle_number != cycle_number:
        raise InvalidInputError(
            "cycle_number",
            current.cycle_number,
            f"{cycle_number} ({doses_given} doses given in the history)",
        )
    last = history.last_administration
    weeks: float | None = None
    if last is not None:
        if current.assessment_date <= last.administration_date:
            raise InvalidInputError(
                "assessment_date",
                current.assessment_date,
                f"a date after the last administration ({last.administration_date.isoformat()})",
            )
        weeks = _weeks_between(last.administration_date, current.assessment_date)

    def make(
        decision: Decision, codes: Sequence[str], reasons: Sequence[str], **extra: Any
    ) -> CycleDecision:
        activity = {Decision.FULL: s.full_activity_bq, Decision.REDUCE: s.reduced_activity_bq}.get(
            decision
        )
        return CycleDecision(
            decision=decision,
            activity_bq=activity,
            cycle_number=cycle_number,
            reason_codes=tuple(codes),
            reasons=tuple(reasons),
            weeks_since_last_dose=weeks,
            profile=s.profile,
            **extra,
        )

    # CYC-0
    if doses_given >= s.doses_per_course:
        return make(
            Decision.COURSE_COMPLETE,
            ["CYC-0-FOUR-DOSES"],
            [
                f"{doses_given} doses given: course complete; follow-up / re-treatment rules (§8) apply"
            ],
        )

    ev = _Evaluator(s)
    crcl_now, crcl_missing = _crcl(
        current.labs.creatinine_umol_per_l,
        "labs.creatinine_umol_per_l",
        current,
        history.baseline.sex,
    )
    ctx = _Context(history, current, s, crcl_now, crcl_missing)
    now = _categories_from_panel(ev, ctx, current.labs, "labs", current.labs)
    tox_occ, tox_act, hyper = _toxicity_categories(current, s)
    categories = list(DmtCategory)

    if doses_given == 0:
        worst: dict[DmtCategory, _Tri] = dict.fromkeys(categories, _FALSE)
    elif current.worst_since_last_dose is not None:
        worst = _categories_from_panel(
            ev, ctx, current.worst_since_last_dose, "worst_since_last_dose", current.labs
        )
    elif s.require_worst_since_last_dose:
        worst = dict.fromkeys(categories, _Tri(None, missing=("worst_since_last_dose",)))
    else:
        worst = dict(now)

    in_interval = {
        e.category for e in history.episodes if e.after_dose == doses_given and doses_given > 0
    }
    earlier = {e.category for e in history.episodes if e.after_dose < doses_given}

    active: dict[DmtCategory, _Tri] = {}
    occurred: dict[DmtCategory, _Tri] = {}
    for c in categories:
        active[c] = _any([now[c], tox_act.get(c, _FALSE)])
        episode = (
            _Tri(True, facts=(f"{c.value} episode earlier in this interval",))
            if c in in_interval
            else _FALSE
        )
        occurred[c] = _any([worst[c], now[c], tox_occ.get(c, _FALSE), episode])
    if s.renal_resolution is RenalResolution.CREATININE_TO_BASELINE:
        base_creat = history.baseline.labs.creatinine_umol_per_l
        back = ev.compare(
            "DMT-RENAL-RESOLUTION", "creatinine", current.labs.creatinine_umol_per_l, ">",
            None if base_creat is None else _dec(s.renal_resolution_creatinine_factor) * _dec(base_creat),
            "µmol/L",
            missing=_merge(
                n for n, v in (("labs.creatinine_umol_per_l", current.labs.creatinine_umol_per_l),
                               ("baseline.labs.creatinine_umol_per_l", base_creat)) if v is None
            ),
            scope="labs",
            threshold_text=None if base_creat is None else
            f"{_fmt(s.renal_resolution_creatinine_factor)} x baseline {_fmt(base_creat)} µmol/L (not yet back to baseline)",
        )  # fmt: skip
        active[DmtCategory.RENAL] = _any(
            [active[DmtCategory.RENAL], _all([occurred[DmtCategory.RENAL], back])]
        )

    info = {
        "occurred": frozenset(c for c in categories if occurred[c].value is True),
        "active": frozenset(c for c in categories if active[c].value is True),
        "undetermined": frozenset(
            c for c in categories if occurred[c].value is None or active[c].value is None
        ),
        "crcl_ml_per_min": crcl_now,
        "outcomes": tuple(ev.outcomes),
    }

    # CYC-1: stop conditions
    stop: list[tuple[str, _Tri]] = [
        ("CYC-1-HYPERSENSITIVITY-G3", hyper),
        ("CYC-1-PREGNANCY", _policy(current.pregnant, "pregnant", "pregnancy")),
        ("CYC-1-MDS-AML-POLICY", _policy(current.mds_or_aml, "mds_or_aml", "MDS/AML diagnosed")),
    ]
    window: float | None = None
    limit = s.max_interval_weeks
    if last is not None and weeks is not None:
        window = weeks
        if s.sixteen_week_reading is SixteenWeekReading.DELAY_BEYOND_SCHEDULE:
            window = weeks - s.scheduled_interval_weeks
        recurrence_applies = (
            s.recurrent_reading is RecurrentReading.ANY_LATER_IN_COURSE or _is_reduced(last, s)
        )
        for c in categories:
            if c in earlier and recurrence_applies:
                stop.append(
                    (f"CYC-1-RECURRENT-{c.value}", _with_fact(occurred[c], f"{c.value} recurred"))
                )
        if _ge(window, limit):
            for c in categories:
                stop.append(
                    (f"CYC-1-UNRESOLVED-AT-16W-{c.value}",
                     _with_fact(active[c], f"{c.value} unresolved {_fmt(weeks)} weeks after the last dose"))
                )  # fmt: skip
        if _gt(window, limit):
            stop.append(
                ("CYC-1-INTERVAL-GT16W",
                 _with_fact(_any(occurred.values()), f"interval {_fmt(weeks)} weeks after a DMT exceeds the limit"))
            )  # fmt: skip
    verdict = _level(stop)
    if verdict is not None:
        return _finish(make, Decision.STOP, verdict, info)

    # CYC-2: withhold while a DMT is active (and never before the minimum interval)
    withhold: list[tuple[str, _Tri]] = [
        (f"CYC-2-WITHHOLD-{c.value}", active[c]) for c in categories
    ]
    if weeks is not None and weeks < s.minimum_interval_weeks:
        withhold.append(
            ("CYC-TIMING-TOO-EARLY",
             _Tri(True, facts=(f"{_fmt(weeks)} weeks since the last dose < {_fmt(s.minimum_interval_weeks)} weeks",)))
        )  # fmt: skip
    verdict = _level(withhold)
    if verdict is not None:
        weeks_left = None
        if (
            window is not None
            and verdict.decided
            and any(code.startswith("CYC-2-") for code in verdict.codes)
        ):
            weeks_left = float(_dec(limit) - _dec(window))
        return _finish(make, Decision.WITHHOLD, verdict, info, weeks_left=weeks_left)

    # CYC-3: reduce after a resolved DMT (also a nadir that recovered)
    verdict = _level([(f"CYC-3-REDUCE-{c.value}", occurred[c]) for c in categories])
    if verdict is not None:
        return _finish(make, Decision.REDUCE, verdict, info)

    # CYC-4 / CYC-5
    if last is not None and _is_reduced(last, s):
        return _finish(
            make, Decision.FULL,
            _Verdict(True, ("CYC-4-REESCALATE",), (f"last dose {_fmt(last.activity_bq / 1e9)} GBq did not reproduce a DMT",)),
            info,
        )  # fmt: skip
    return _finish(
        make, Decision.FULL, _Verdict(True, ("CYC-5-FULL",), ("no dose-modifying toxicity",)), info
    )


def _policy(value: bool | None, name: str, what: str) -> _Tri:
    if value is None:
        return _Tri(None, missing=(name,))
    return _Tri(True, facts=(what,)) if value else _FALSE


def _with_fact(tri: _Tri, fact: str) -> _Tri:
    return replace(tri, facts=(fact, *tri.facts)) if tri.value is True else tri


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Outcome of one rule level: decided (a condition holds) or undecidable (data missing)."""

    decided: bool
    codes: tuple[str, ...]
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()


def _level(conditions: Sequence[tuple[str, _Tri]]) -> _Verdict | None:
    """Return the fired codes, an undecided verdict when data are missing, or None when no condition holds."""
    fired = [(code, tri) for code, tri in conditions if tri.value is True]
    if fired:
        codes = tuple(dict.fromkeys(code for code, _ in fired))
        reasons = tuple(f"{code}: " + "; ".join(dict.fromkeys(tri.facts)) for code, tri in fired)
        return _Verdict(True, codes, reasons)
    unknown = [(code, tri) for code, tri in conditions if tri.value is None]
    if unknown:
        missing = _merge(m for _, tri in unknown for m in tri.missing)
        reasons = tuple(
            f"cannot exclude {code}: missing {', '.join(tri.missing)}" for code, tri in unknown
        )
        return _Verdict(False, ("CYC-DATA-MISSING",), reasons, missing)
    return None


def _finish(
    make: Callable[..., CycleDecision],
    decision: Decision,
    verdict: _Verdict,
    info: dict[str, Any],
    **extra: Any,
) -> CycleDecision:
    if not verdict.decided:
        return make(
            Decision.INDETERMINATE, verdict.codes, verdict.reasons, missing=verdict.missing, **info
        )
    return make(decision, verdict.codes, verdict.reasons, **info, **extra)


@dataclass(frozen=True, slots=True)
class CourseReplay:
    """A course replayed assessment by assessment.

    Attributes
    ----------
    decisions
        One decision per evaluated assessment, in order.
    administrations
        Doses given (on the assessment date, with the decided activity).
    episodes
        DMT episodes recorded (category, interval after dose k).
    not_evaluated
        Assessments after a STOP or COURSE_COMPLETE, not evaluated.
    """

    decisions: tuple[CycleDecision, ...]
    administrations: tuple[Administration, ...]
    episodes: tuple[Episode, ...]
    not_evaluated: int = 0

    @property
    def final(self) -> CycleDecision | None:
        """The last decision, if any."""
        return self.decisions[-1] if self.decisions else None

    @property
    def cumulative_activity_bq(self) -> float:
        """Sum of the administered activities (Bq)."""
        return math.fsum(a.activity_bq for a in self.administrations)


def replay_course(
    baseline: CourseBaseline,
    assessments: Sequence[CycleAssessment],
    settings: DoseModificationSettings = DEFAULT_SETTINGS,
    *,
    administrations: Sequence[Administration] | None = None,
) -> CourseReplay:
    """Replay a whole course: decide at each assessment, give the decided dose, record episodes.

    A FULL or REDUCE decision is taken as given on the assessment date (unless
    ``administrations`` lists the real ones, matched by cycle number); WITHHOLD and
    INDETERMINATE keep the same interval (the next assessment is a re-check); the
    replay ends at STOP or COURSE_COMPLETE.  Every DMT category that occurred in
    the interval after dose *k* is recorded as an :class:`Episode`, so that a later
    occurrence in another interval is recognised as recurrent.

    Parameters
    ----------
    baseline
        Pre-cycle-1 values.
    assessments
        Assessments in date order.
    settings
        Profile settings.
    administrations
        Optional real administrations (date and activity) replacing the assumed ones.

    Returns
    -------
    CourseReplay

    Raises
    ------
    InvalidInputError
        Assessments out of date order.

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> base = CourseBaseline(Sex.FEMALE, LabPanel(creatinine_umol_per_l=70.0), 60.0, 55.0)
    >>> ok = LabPanel(haemoglobin_g_per_l=120.0, platelets_10e9_per_l=200.0,
    ...     neutrophils_10e9_per_l=3.0, creatinine_umol_per_l=70.0, bilirubin_umol_per_l=8.0,
    ...     bilirubin_uln_umol_per_l=21.0, albumin_g_per_l=40.0, prothrombin_percent=95.0,
    ...     ast_u_per_l=20.0, ast_uln_u_per_l=40.0, alt_u_per_l=20.0, alt_uln_u_per_l=40.0)
    >>> days = [0, 56, 112, 168, 224]
    >>> visits = [CycleAssessment(date(2026, 1, 5) + timedelta(days=d), ok, ok, 60.0, 55.0, (), False, False)
    ...           for d in days]
    >>> r = replay_course(base, visits)
    >>> [d.decision.value for d in r.decisions]
    ['FULL_7.4_GBQ', 'FULL_7.4_GBQ', 'FULL_7.4_GBQ', 'FULL_7.4_GBQ', 'COURSE_COMPLETE']
    >>> r.cumulative_activity_bq / 1e9
    29.6
    """
    real = {a.cycle_number: a for a in (administrations or ())}
    given: list[Administration] = []
    episodes: list[Episode] = []
    decisions: list[CycleDecision] = []
    previous: date | None = None
    items = list(assessments)
    for index, assessment in enumerate(items):
        if not isinstance(assessment, CycleAssessment):
            raise InvalidInputError(f"assessments[{index}]", assessment, "a CycleAssessment")
        if previous is not None and assessment.assessment_date < previous:
            raise InvalidInputError(
                f"assessments[{index}].assessment_date",
                assessment.assessment_date,
                "dates in increasing order",
            )
        previous = assessment.assessment_date
        history = CourseHistory(baseline, tuple(given), tuple(episodes))
        decision = next_cycle_decision(history, assessment, settings)
        decisions.append(decision)
        if given:
            known = {(e.category, e.after_dose) for e in episodes}
            for category in sorted(decision.occurred, key=lambda c: c.value):
                if (category, len(given)) not in known:
                    episodes.append(Episode(category, len(given)))
        if decision.decision in (Decision.STOP, Decision.COURSE_COMPLETE):
            return CourseReplay(
                tuple(decisions), tuple(given), tuple(episodes), len(items) - index - 1
            )
        if decision.gives_dose and decision.activity_bq is not None:
            number = len(given) + 1
            given.append(
                real.get(
                    number, Administration(number, assessment.assessment_date, decision.activity_bq)
                )
            )
    return CourseReplay(tuple(decisions), tuple(given), tuple(episodes), 0)
