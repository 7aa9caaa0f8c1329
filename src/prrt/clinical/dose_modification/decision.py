"""The next-cycle decision: CYC-ALGO of clinical-rules.md §4.4 on the table of §4.3.

STOP (CYC-1), WITHHOLD (CYC-2), REDUCE (CYC-3) and FULL (CYC-4 re-escalation,
CYC-5) in order of severity, after COURSE_COMPLETE (CYC-0); with the settings of
the ambiguity register (§11) and the reason codes of §10.  Intervals are in
weeks (days ÷ 7, §0.2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from prrt.clinical.dose_modification.assessment import CycleAssessment
from prrt.clinical.dose_modification.categories import Decision, DmtCategory
from prrt.clinical.dose_modification.category_tests import (
    _categories_from_panel,
    _Context,
    _crcl,
    _Evaluator,
    _toxicity_categories,
)
from prrt.clinical.dose_modification.course import Administration, CourseHistory
from prrt.clinical.dose_modification.cycle_decision import CycleDecision
from prrt.clinical.dose_modification.settings import (
    DEFAULT_SETTINGS,
    DoseModificationSettings,
    RecurrentReading,
    RenalResolution,
    SixteenWeekReading,
)
from prrt.clinical.dose_modification.three_valued import (
    _FALSE,
    _all,
    _any,
    _dec,
    _fmt,
    _level,
    _merge,
    _policy,
    _Tri,
    _Verdict,
    _with_fact,
)
from prrt.errors import InvalidInputError

__all__ = [
    "DAYS_PER_WEEK",
    "next_cycle_decision",
]


DAYS_PER_WEEK = 7.0


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
    >>> from prrt.clinical.dose_modification import (
    ...     Administration, CourseBaseline, CourseHistory, CycleAssessment, LabPanel, Sex)
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
