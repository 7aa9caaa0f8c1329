"""Re-treatment (rechallenge) after a first PRRT course (clinical-rules.md §8).

Rules (reason codes of §10):

* RETX-1 time criterion: progression at least ``retreatment_min_interval_months``
  (12 by default, 18 in ``ERASMUS_18M``) after the last cycle of the initial
  course (or after its first cycle when the profile's clock is ``first_cycle``)
  — ``RETX-1-INTERVAL-LT12M`` / ``RETX-1-INTERVAL-LT18M``;
* RETX-2 repeat selection: SSTR imaging again meets SSTR-3/SSTR-4 in every
  target and there is no NETPET P5 — ``RETX-2-SSTR-INSUFFICIENT``;
* RETX-3 safety: the baseline eligibility laboratory rules pass again, no
  persistent grade >= 3 toxicity from the first course, no MDS/AML —
  ``RETX-3-SAFETY``;
* RETX-4: re-treatment is off-label; it always needs a multidisciplinary decision
  (``RETX-4-OFF-LABEL-MDT``, a caution that always fires).

Months are calendar months: the interval is met on the same day of the month
``N`` months later (the last day of a shorter month when that day does not exist).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from prrt.clinical.eligibility import EligibilityAssessment
from prrt.clinical.outcome import RuleOutcome, Severity, Status, Verdict, combine_verdict
from prrt.clinical.profiles import Profile, get_profile
from prrt.errors import InvalidInputError

__all__ = [
    "SAFETY_LAB_RULES",
    "RetreatmentAssessment",
    "RetreatmentInput",
    "add_months",
    "assess_retreatment",
    "interval_rule",
    "whole_months_between",
]

#: Baseline laboratory exclusions re-checked before re-treatment (RETX-3: "all baseline labs again");
#: the laboratory cautions (C-CRCL-30-49, C-SCR-GT150) stay in the outcomes and ask for MDT review.
SAFETY_LAB_RULES: tuple[str, ...] = (
    "X-HB-LT8",
    "X-WBC-LT2",
    "X-PLT-LT75",
    "X-CRCL-LT30",
    "X-BILI-GT3ULN",
    "X-ALB-LT30-PT-ABNORMAL",
)
_SELECTION_RULES = ("X-SSTR-TARGET-BELOW-THRESHOLD", "X-NETPET-P5")
_SOURCE_RETX1 = (
    "RETX-1: re-challenge when stable >= 1 year after the first course (seed citing Ambrosini et al., "
    "Eur J Cancer 2021) [S]; Erasmus MC PFS >= 18 months (van der Zwan et al., EJNMMI 2019) [V]"
)
_SOURCE_RETX2 = "RETX-2: SSTR-3/SSTR-4 in all targets and no NETPET P5 on repeat imaging [R]"
_SOURCE_RETX3 = (
    "RETX-3: baseline eligibility labs again, no persistent grade >= 3 toxicity, no MDS/AML [R]"
)
_SOURCE_RETX4 = "RETX-4: re-treatment is off-label; MDT decision (Erasmus 2 x 7.4 GBq) [V]"


def add_months(start: date, months: int) -> date:
    """Return the date ``months`` calendar months after ``start`` (day clamped to month end).

    Examples
    --------
    >>> add_months(date(2023, 1, 31), 1), add_months(date(2023, 3, 15), 12)
    (datetime.date(2023, 2, 28), datetime.date(2024, 3, 15))
    """
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def whole_months_between(start: date, end: date) -> int:
    """Return the number of whole calendar months from ``start`` to ``end`` (``end >= start``).

    Examples
    --------
    >>> whole_months_between(date(2023, 3, 15), date(2024, 3, 14)), whole_months_between(date(2023, 3, 15), date(2024, 3, 15))
    (11, 12)
    """
    months = (end.year - start.year) * 12 + (end.month - start.month)
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return months


@dataclass(frozen=True, slots=True)
class RetreatmentInput:
    """History of the initial PRRT course (``None`` = not given).

    Attributes
    ----------
    first_cycle_date, last_cycle_date
        Dates of the first and last cycle of the initial course.
    progression_date
        Date progression was documented after the initial course.
    persistent_grade3_toxicity
        A grade >= 3 toxicity of the first course persists.
    mds_aml
        Myelodysplastic syndrome or acute myeloid leukaemia diagnosed.
    sstr_imaging_date
        Date of the repeat SSTR imaging used for RETX-2.
    """

    first_cycle_date: date | None = None
    last_cycle_date: date | None = None
    progression_date: date | None = None
    persistent_grade3_toxicity: bool | None = None
    mds_aml: bool | None = None
    sstr_imaging_date: date | None = None

    def __post_init__(self) -> None:
        if (
            self.first_cycle_date
            and self.last_cycle_date
            and self.last_cycle_date < self.first_cycle_date
        ):
            raise InvalidInputError(
                "prior_prrt.last_cycle_date",
                self.last_cycle_date.isoformat(),
                "a date on or after first_cycle_date",
            )


@dataclass(frozen=True, slots=True)
class RetreatmentAssessment:
    """Re-treatment verdict: the RETX outcomes plus every first-course eligibility outcome."""

    verdict: Verdict
    profile: str
    outcomes: tuple[RuleOutcome, ...]
    interval_months: int | None
    clock: str

    def outcome(self, rule_id: str) -> RuleOutcome:
        """Return the outcome of ``rule_id`` (``KeyError`` if absent)."""
        for item in self.outcomes:
            if item.rule_id == rule_id:
                return item
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "verdict": self.verdict.value,
            "profile": self.profile,
            "interval_months": self.interval_months,
            "clock": self.clock,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


def interval_rule(inp: RetreatmentInput, profile: Profile) -> tuple[RuleOutcome, int | None]:
    """Evaluate RETX-1 (time criterion); return the outcome and the whole months observed.

    Examples
    --------
    >>> out, months = interval_rule(RetreatmentInput(last_cycle_date=date(2022, 6, 1),
    ...                                              progression_date=date(2023, 6, 1)), get_profile())
    >>> out.rule_id, out.status.value, months
    ('RETX-1-INTERVAL-LT12M', 'pass', 12)
    """
    need = profile.retreatment_min_interval_months
    rule_id = f"RETX-1-INTERVAL-LT{need}M"
    clock = profile.retreatment_clock
    start = inp.last_cycle_date if clock == "last_cycle" else inp.first_cycle_date
    months: int | None = None
    if start is None or inp.progression_date is None:
        status = Status.INDETERMINATE
        message = (
            f"{'last' if clock == 'last_cycle' else 'first'} cycle date or progression date missing"
        )
    elif inp.progression_date < start:
        raise InvalidInputError(
            "prior_prrt.progression_date",
            inp.progression_date.isoformat(),
            f"a date on or after the {clock} date",
        )
    else:
        months = whole_months_between(start, inp.progression_date)
        reached = add_months(start, need)
        status = Status.PASS if months >= need else Status.FAIL
        message = (
            f"progression {months} whole months after the {clock.replace('_', ' ')} "
            f"({start.isoformat()} to {inp.progression_date.isoformat()}); {need} months reached on {reached.isoformat()}"
        )
    outcome = RuleOutcome(
        rule_id=rule_id,
        status=status,
        observed=months,
        threshold=float(need),
        unit="months",
        source=f"{_SOURCE_RETX1}; profile setting: {profile.sources['retreatment_min_interval_months']}",
        severity=Severity.EXCLUSION,
        operator=">=",
        profile=profile.name,
        message=message,
    )
    return outcome, months


def _combine(
    rule_id: str, parts: list[tuple[str, Status]], source: str, profile: Profile, extra: str = ""
) -> RuleOutcome:
    failed = [name for name, status in parts if status is Status.FAIL]
    unknown = [name for name, status in parts if status is Status.INDETERMINATE]
    if failed:
        status, message = Status.FAIL, "fails: " + ", ".join(failed)
    elif unknown:
        status, message = Status.INDETERMINATE, "not decided: " + ", ".join(unknown)
    else:
        status, message = Status.PASS, "all checks pass"
    if extra:
        message = f"{message}; {extra}"
    return RuleOutcome(
        rule_id=rule_id,
        status=status,
        observed=", ".join(failed or unknown) or None,
        threshold=None,
        unit=None,
        source=source,
        severity=Severity.EXCLUSION,
        operator=None,
        profile=profile.name,
        message=message,
    )


def assess_retreatment(
    eligibility: EligibilityAssessment, inp: RetreatmentInput, profile: Profile | None = None
) -> RetreatmentAssessment:
    """Apply the re-treatment rules of §8 on top of a fresh eligibility assessment.

    Parameters
    ----------
    eligibility
        Eligibility assessment on the current (repeat) data, same profile.
    inp
        Dates and safety history of the initial course.
    profile
        Decision profile; ``PRRT-DEFAULT-1`` when omitted.

    Returns
    -------
    RetreatmentAssessment
        Verdict over the RETX rules and every eligibility rule; never "eligible",
        because re-treatment is off-label (RETX-4).

    Examples
    --------
    >>> from prrt.clinical.eligibility import EligibilityInput, assess_eligibility
    >>> elig = assess_eligibility(EligibilityInput(assessment_date=date(2024, 1, 10)))
    >>> res = assess_retreatment(elig, RetreatmentInput(last_cycle_date=date(2023, 1, 10),
    ...                                                  progression_date=date(2023, 9, 1)))
    >>> res.outcome("RETX-1-INTERVAL-LT12M").status.value, res.verdict.value
    ('fail', 'not_eligible')
    """
    profile = profile or get_profile()
    retx1, months = interval_rule(inp, profile)

    by_id = {o.rule_id: o for o in eligibility.outcomes}
    selection = [(rid, by_id[rid].status) for rid in _SELECTION_RULES if rid in by_id]
    if (
        by_id.get("X-NETPET-P5") is not None
        and by_id["X-NETPET-P5"].status is Status.NOT_APPLICABLE
    ):
        selection[-1] = ("X-NETPET-P5 (FDG PET not done)", Status.PASS)
    imaging_note = ""
    if inp.sstr_imaging_date is None:
        selection.append(("repeat SSTR imaging date", Status.INDETERMINATE))
    elif inp.last_cycle_date is not None and inp.sstr_imaging_date <= inp.last_cycle_date:
        selection.append(("SSTR imaging after the initial course", Status.INDETERMINATE))
        imaging_note = "SSTR imaging predates the end of the initial course: repeat it"
    retx2 = _combine("RETX-2-SSTR-INSUFFICIENT", selection, _SOURCE_RETX2, profile, imaging_note)

    safety = [(rid, by_id[rid].status) for rid in SAFETY_LAB_RULES if rid in by_id]
    safety.append(
        (
            "persistent grade >= 3 toxicity",
            Status.INDETERMINATE
            if inp.persistent_grade3_toxicity is None
            else (Status.FAIL if inp.persistent_grade3_toxicity else Status.PASS),
        )
    )
    safety.append(
        (
            "MDS/AML",
            Status.INDETERMINATE
            if inp.mds_aml is None
            else (Status.FAIL if inp.mds_aml else Status.PASS),
        )
    )
    retx3 = _combine("RETX-3-SAFETY", safety, _SOURCE_RETX3, profile)
    retx4 = RuleOutcome(
        rule_id="RETX-4-OFF-LABEL-MDT",
        status=Status.FAIL,
        observed="re-treatment",
        threshold=None,
        unit=None,
        source=_SOURCE_RETX4,
        severity=Severity.CAUTION,
        operator=None,
        profile=profile.name,
        message="re-treatment is off-label: MDT decision; usually 2 x 7.4 GBq at 8-12-week intervals",
    )
    outcomes = (retx1, retx2, retx3, retx4, *eligibility.outcomes)
    return RetreatmentAssessment(
        verdict=combine_verdict(outcomes),
        profile=profile.name,
        outcomes=outcomes,
        interval_months=months,
        clock=profile.retreatment_clock,
    )
