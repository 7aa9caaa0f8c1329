"""Next-cycle decision of a course: the label's dose modification and the cumulative dose limits together.

:func:`decide_next_cycle` takes the course so far (administrations, the
current assessment with its labs, the organ doses of the cycles given) and
returns one :class:`NextCycleDecision`: give full, give reduced, withhold
(until when), stop, course complete or indeterminate, with every reason.

Order of the rules (the most restrictive wins):

1. The label's algorithm (clinical-rules.md §4.4, CYC-0..CYC-5 via
   :func:`prrt.clinical.dose_modification.next_cycle_decision`), run with the
   regimen's activities, interval and number of doses.
2. Cumulative dosimetry limits (dosimetry-reference.md §5.3, profile
   ``PRRT-DOSIMETRY-DEFAULT-1``): a limit already exceeded, or no activity
   left under the binding limit, stops the course (``DOS-LIMIT-EXCEEDED-*``,
   ``DOS-LIMIT-REACHED-*``); when the planned activity would pass the limit the
   dose is cut to the final partial activity (``DOS-PARTIAL-*``).
3. For a dosimetry-guided regimen the doses of every cycle given are required:
   missing doses or a limit that cannot be decided give INDETERMINATE, never a
   dose.  For other regimens missing dosimetry is reported but does not block
   the label's decision.

A WITHHOLD carries ``recheck_on`` (two weeks on, CYC-2 re-check) and
``withhold_until`` (the latest date the next dose may be given: last dose +
the regimen's maximum interval, 16 weeks for Lutathera).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum
from typing import Any

from prrt.clinical.dose_modification import (
    DEFAULT_SETTINGS,
    CourseHistory,
    CycleAssessment,
    CycleDecision,
    Decision,
    DoseModificationSettings,
    next_cycle_decision,
)
from prrt.dosimetry.course import (
    CycleDosimetry,
    CyclePlan,
    LimitCheck,
    LimitProfile,
    LimitStatus,
    check_limits,
    cumulative_doses,
    load_limit_profile,
    plan_cycles,
)
from prrt.errors import InvalidInputError
from prrt.planning.regimens import DosingBasis, Regimen

__all__ = [
    "MIN_PARTIAL_ACTIVITY_FRACTION",
    "RECHECK_DAYS",
    "Action",
    "NextCycleDecision",
    "Reason",
    "decide_next_cycle",
    "settings_for_regimen",
]

#: CYC-2: re-check a withheld dose after about two weeks.
RECHECK_DAYS = 14
#: A final partial cycle below this fraction of the nominal activity is not
#: given (program policy [P]): the course stops at the limit instead.
MIN_PARTIAL_ACTIVITY_FRACTION = 0.25

_DOSIMETRY_SOURCE = "dosimetry-reference.md §5.3 (profile limits), §7 (cycles allowed)"


class Action(str, Enum):
    """What to do at the next cycle."""

    GIVE_FULL = "give_full"
    GIVE_REDUCED = "give_reduced"
    WITHHOLD = "withhold"
    STOP = "stop"
    COURSE_COMPLETE = "course_complete"
    INDETERMINATE = "indeterminate"

    @property
    def gives_dose(self) -> bool:
        """True for GIVE_FULL and GIVE_REDUCED."""
        return self in (Action.GIVE_FULL, Action.GIVE_REDUCED)


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason of a decision: code, words with values and limits, source."""

    code: str
    text: str
    source: str = ""

    def to_dict(self) -> dict[str, str]:
        """JSON-serialisable dictionary."""
        return {"code": self.code, "text": self.text, "source": self.source}


@dataclass(frozen=True, slots=True)
class NextCycleDecision:
    """Decision for the next cycle of a course.

    Attributes
    ----------
    action
        GIVE_FULL, GIVE_REDUCED, WITHHOLD, STOP, COURSE_COMPLETE or INDETERMINATE.
    cycle_number
        The cycle decided (doses given + 1).
    activity_bq
        Activity to give (Bq) when a dose is given.
    assessment_date
        Date of the assessment.
    earliest_date
        Earliest date for the dose (last dose + the regimen's minimum interval).
    recheck_on, withhold_until
        For WITHHOLD: re-check date, and the latest date the dose may still be given.
    reasons
        Every reason, label first, then dosimetry.
    label
        The label's decision (:class:`~prrt.clinical.dose_modification.CycleDecision`).
    limit_checks
        Cumulative doses against each applicable limit.
    cycle_plans
        Remaining cycles per dosed region (kidneys, red marrow).
    missing
        Inputs that were needed and missing.
    """

    action: Action
    cycle_number: int
    activity_bq: float | None
    assessment_date: date
    reasons: tuple[Reason, ...]
    label: CycleDecision
    earliest_date: date | None = None
    recheck_on: date | None = None
    withhold_until: date | None = None
    limit_checks: tuple[LimitCheck, ...] = ()
    cycle_plans: tuple[CyclePlan, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """The codes of :attr:`reasons`."""
        return tuple(r.code for r in self.reasons)

    @property
    def summary(self) -> str:
        """One line a physician reads."""
        head = self.action.value.replace("_", " ")
        if self.activity_bq is not None:
            head += f" {self.activity_bq / 1e9:.3g} GBq"
        if self.withhold_until is not None:
            head += f" (re-check {self.recheck_on}, give by {self.withhold_until} at the latest)"
        return f"cycle {self.cycle_number}: {head} — " + "; ".join(self.reason_codes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "action": self.action.value,
            "cycle_number": self.cycle_number,
            "activity_bq": self.activity_bq,
            "assessment_date": self.assessment_date.isoformat(),
            "earliest_date": None if self.earliest_date is None else self.earliest_date.isoformat(),
            "recheck_on": None if self.recheck_on is None else self.recheck_on.isoformat(),
            "withhold_until": None
            if self.withhold_until is None
            else self.withhold_until.isoformat(),
            "reasons": [r.to_dict() for r in self.reasons],
            "summary": self.summary,
            "label": self.label.to_dict(),
            "limit_checks": [c.to_dict() for c in self.limit_checks],
            "cycle_plans": [p.to_dict() for p in self.cycle_plans],
            "missing": list(self.missing),
        }


def settings_for_regimen(
    regimen: Regimen, base: DoseModificationSettings = DEFAULT_SETTINGS
) -> DoseModificationSettings:
    """The label's dose-modification settings with the regimen's activity, interval and doses.

    Only regimens with one fixed-activity component have a label-style
    reduction; other regimens (per kg, per m², tandem) are refused here.
    """
    fixed = [c for c in regimen.components if c.basis is DosingBasis.FIXED]
    if len(regimen.components) != 1 or not fixed or regimen.reduced_activity_fraction is None:
        raise InvalidInputError(
            "regimen",
            regimen.id,
            "a regimen with one fixed-activity radiopharmaceutical and a defined reduction "
            "(the label's dose modification applies to those only)",
        )
    full = fixed[0].amount
    return replace(
        base,
        full_activity_bq=full,
        reduced_activity_bq=full * regimen.reduced_activity_fraction,
        doses_per_course=regimen.cycle_limit if regimen.dosimetry_guided else regimen.cycles,
        max_interval_weeks=regimen.max_interval_days / 7.0,
        scheduled_interval_weeks=regimen.interval_days / 7.0,
        minimum_interval_weeks=regimen.min_interval_days / 7.0,
    )


_LABEL_ACTION = {
    Decision.FULL: Action.GIVE_FULL,
    Decision.REDUCE: Action.GIVE_REDUCED,
    Decision.WITHHOLD: Action.WITHHOLD,
    Decision.STOP: Action.STOP,
    Decision.COURSE_COMPLETE: Action.COURSE_COMPLETE,
    Decision.INDETERMINATE: Action.INDETERMINATE,
}


def _check_dosimetry(
    history: CourseHistory, dosimetry: Sequence[CycleDosimetry]
) -> tuple[CycleDosimetry, ...]:
    cycles = tuple(dosimetry)
    given = {a.cycle_number: a for a in history.administrations}
    seen: set[int] = set()
    for index, c in enumerate(cycles):
        if not isinstance(c, CycleDosimetry):
            raise InvalidInputError(f"dosimetry[{index}]", c, "a CycleDosimetry")
        if c.cycle_number not in given:
            raise InvalidInputError(
                f"dosimetry[{index}].cycle_number",
                c.cycle_number,
                f"a cycle given in the course (1..{history.doses_given})",
            )
        if c.cycle_number in seen:
            raise InvalidInputError(
                f"dosimetry[{index}].cycle_number", c.cycle_number, "one entry per cycle"
            )
        seen.add(c.cycle_number)
        a = given[c.cycle_number].activity_bq
        if not math.isclose(c.administered_activity_bq, a, rel_tol=0.02):
            raise InvalidInputError(
                f"dosimetry[{index}].administered_activity_bq",
                c.administered_activity_bq,
                f"the activity given in cycle {c.cycle_number} ({a:.4g} Bq, within 2 %)",
            )
    return cycles


def decide_next_cycle(
    regimen: Regimen,
    history: CourseHistory,
    current: CycleAssessment,
    *,
    dosimetry: Sequence[CycleDosimetry] = (),
    limit_profile: LimitProfile | None = None,
    renal_risk_factors: bool | None = None,
    settings: DoseModificationSettings | None = None,
) -> NextCycleDecision:
    """Decide the next cycle of a course (label rules and cumulative dose limits).

    Parameters
    ----------
    regimen
        The course's regimen (activities, interval, number of doses).
    history
        Baseline, administrations and DMT episodes so far.
    current
        The assessment before the intended dose (current and worst labs).
    dosimetry
        Organ doses of the cycles given (kidneys, red marrow, ...).
    limit_profile
        Cumulative limits (default ``PRRT-DOSIMETRY-DEFAULT-1``).
    renal_risk_factors
        Hypertension/diabetes etc. (selects the kidney BED limit); None = unknown,
        both BED limits apply.
    settings
        Label settings (ambiguity register); the regimen's activity, interval
        and number of doses are applied on top.

    Examples
    --------
    The first cycle of the standard course with normal labs:

    >>> from datetime import date
    >>> from prrt.clinical.dose_modification import CourseBaseline, LabPanel, Sex
    >>> from prrt.planning.regimens import get_regimen
    >>> ok = LabPanel(haemoglobin_g_per_l=130.0, platelets_10e9_per_l=210.0,
    ...     neutrophils_10e9_per_l=3.5, creatinine_umol_per_l=75.0, bilirubin_umol_per_l=9.0,
    ...     bilirubin_uln_umol_per_l=21.0, albumin_g_per_l=41.0, prothrombin_percent=95.0,
    ...     ast_u_per_l=25.0, ast_uln_u_per_l=40.0, alt_u_per_l=22.0, alt_uln_u_per_l=40.0)
    >>> history = CourseHistory(CourseBaseline("female", ok, 68.0, 64.0))
    >>> now = CycleAssessment(date(2026, 3, 2), ok, None, 68.0, 64.0, (), False, False)
    >>> d = decide_next_cycle(get_regimen("LUTATHERA_STANDARD"), history, now)
    >>> d.action.value, d.activity_bq, d.reason_codes
    ('give_full', 7400000000.0, ('CYC-5-FULL',))
    """
    if not isinstance(regimen, Regimen):
        raise InvalidInputError("regimen", regimen, "a Regimen")
    label_settings = settings_for_regimen(regimen, settings or DEFAULT_SETTINGS)
    label = next_cycle_decision(history, current, label_settings)
    cycles = _check_dosimetry(history, dosimetry)
    profile = limit_profile or load_limit_profile()
    reasons = [
        Reason(code, text, "clinical-rules.md §4.4 CYC-ALGO")
        for code, text in zip(label.reason_codes, label.reasons, strict=False)
    ]
    action = _LABEL_ACTION[label.decision]
    activity = label.activity_bq
    missing = list(label.missing)
    checks: tuple[LimitCheck, ...] = ()
    plans: list[CyclePlan] = []
    given = {c.cycle_number for c in cycles}
    lacking = [a.cycle_number for a in history.administrations if a.cycle_number not in given]
    if regimen.dosimetry_guided and history.doses_given and (lacking or not cycles):
        missing.append(f"organ doses of cycle(s) {', '.join(map(str, lacking))}")
        if action not in (Action.STOP, Action.COURSE_COMPLETE):
            reasons.append(
                Reason(
                    "DOS-DATA-MISSING",
                    "dosimetry-guided course: organ doses missing for cycle(s) "
                    + ", ".join(map(str, lacking)),
                    _DOSIMETRY_SOURCE,
                )
            )
            action, activity = Action.INDETERMINATE, None
    elif cycles:
        checks = check_limits(
            cumulative_doses(cycles), profile, renal_risk_factors=renal_risk_factors
        )
        action, activity = _apply_limits(action, activity, checks, reasons, regimen)
        if action.gives_dose and activity is not None:
            plans, action, activity = _apply_projection(
                cycles,
                profile,
                renal_risk_factors,
                action,
                activity,
                reasons,
                label_settings.full_activity_bq,
            )
        if lacking:
            reasons.append(
                Reason(
                    "DOS-LOWER-BOUND",
                    "cumulative doses are lower bounds: no dosimetry for cycle(s) "
                    + ", ".join(map(str, lacking)),
                    _DOSIMETRY_SOURCE,
                )
            )
    elif history.doses_given:
        reasons.append(
            Reason(
                "DOS-NOT-AVAILABLE",
                "no organ dosimetry: cumulative kidney and marrow limits not checked",
                _DOSIMETRY_SOURCE,
            )
        )
    last = history.last_administration
    earliest = None
    recheck = until = None
    if last is not None:
        earliest = last.administration_date + timedelta(days=regimen.min_interval_days)
        if action is Action.WITHHOLD:
            until = last.administration_date + timedelta(days=regimen.max_interval_days)
            recheck = min(current.assessment_date + timedelta(days=RECHECK_DAYS), until)
            if current.assessment_date < earliest:
                recheck = max(recheck, earliest)
    return NextCycleDecision(
        action=action,
        cycle_number=label.cycle_number,
        activity_bq=activity if action.gives_dose else None,
        assessment_date=current.assessment_date,
        reasons=tuple(reasons),
        label=label,
        earliest_date=earliest,
        recheck_on=recheck,
        withhold_until=until,
        limit_checks=checks,
        cycle_plans=tuple(plans),
        missing=tuple(missing),
    )


def _apply_limits(
    action: Action,
    activity: float | None,
    checks: Sequence[LimitCheck],
    reasons: list[Reason],
    regimen: Regimen,
) -> tuple[Action, float | None]:
    exceeded = [c for c in checks if c.status is LimitStatus.EXCEEDED]
    for c in exceeded:
        reasons.append(
            Reason(
                f"DOS-LIMIT-EXCEEDED-{c.limit.id}",
                f"{c.region or c.limit.region} cumulative {c.limit.quantity.value} "
                f"{c.value_gy:.3g} Gy exceeds the limit {c.limit.limit_gy:g} Gy",
                c.limit.source,
            )
        )
    if exceeded and action is not Action.COURSE_COMPLETE:
        return Action.STOP, None
    undecided = [c for c in checks if c.status is LimitStatus.INDETERMINATE]
    for c in undecided:
        reasons.append(
            Reason(
                f"DOS-INDETERMINATE-{c.limit.id}",
                f"{c.region or c.limit.region} limit {c.limit.limit_gy:g} Gy cannot be checked: {c.note}",
                c.limit.source,
            )
        )
    if undecided and regimen.dosimetry_guided and action.gives_dose:
        return Action.INDETERMINATE, None
    return action, activity


def _apply_projection(
    cycles: Sequence[CycleDosimetry],
    profile: LimitProfile,
    renal_risk_factors: bool | None,
    action: Action,
    activity: float,
    reasons: list[Reason],
    full_activity_bq: float,
) -> tuple[list[CyclePlan], Action, float | None]:
    plans = []
    regions = {lim.region for lim in profile.limits}
    dosed = {r for c in cycles for r in c.organs}
    for region in sorted(regions):
        if region == "kidneys":
            present = dosed & {"kidneys", "left_kidney", "right_kidney"}
        else:
            present = dosed & {region}
        if not present:
            continue
        plans.append(
            plan_cycles(
                cycles,
                activity_per_cycle_bq=activity,
                profile=profile,
                renal_risk_factors=renal_risk_factors,
                region=region,
            )
        )
    allowed = activity
    for plan in plans:
        if plan.additional_cycles >= 1:
            continue
        partial = plan.partial_cycle_activity_bq
        if partial < MIN_PARTIAL_ACTIVITY_FRACTION * full_activity_bq:
            reasons.append(
                Reason(
                    f"DOS-LIMIT-REACHED-{plan.binding_limit_id}",
                    f"{plan.region}: {plan.summary}; the activity left under the limit "
                    f"({partial / 1e9:.3g} GBq) is below {MIN_PARTIAL_ACTIVITY_FRACTION:.0%} of "
                    f"{full_activity_bq / 1e9:g} GBq",
                    _DOSIMETRY_SOURCE,
                )
            )
            return plans, Action.STOP, None
        if partial < allowed:
            allowed = partial
            reasons.append(
                Reason(
                    f"DOS-PARTIAL-{plan.binding_limit_id}",
                    f"{plan.region}: a full {activity / 1e9:.3g} GBq would pass the limit; final "
                    f"partial cycle of {partial / 1e9:.3g} GBq",
                    _DOSIMETRY_SOURCE,
                )
            )
    if allowed < activity:
        return plans, Action.GIVE_REDUCED, allowed
    return plans, action, activity
