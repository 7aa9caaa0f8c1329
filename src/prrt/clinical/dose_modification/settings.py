"""Settings of the next-cycle decision: the ambiguity register as fields.

Implements the profile choices of clinical-rules.md §4.4 (CYC-ALGO) and the
ambiguities of §11 (1, 2, 3, 4, 8, 11): the meaning of "recurrent" and of the
16-week limit, renal resolution, the INR fallback and the action after grade 3–4
hypersensitivity; with the dose and schedule of §4.1 (DOSE-1..3) and the
profiles of §0.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from prrt.clinical import ctcae
from prrt.clinical.dose_modification._validation import _check_positive
from prrt.errors import InvalidInputError

__all__ = [
    "DEFAULT_SETTINGS",
    "DoseModificationSettings",
    "HypersensitivityAction",
    "RecurrentReading",
    "RenalResolution",
    "SixteenWeekReading",
]


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
