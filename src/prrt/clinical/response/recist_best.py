"""RECIST 1.1 best overall response (clinical-rules.md §7.1 REC-BOR).

Best time-point response from the start of treatment until PD, with or without
confirmation of CR/PR by a repeat assessment ≥ 4 weeks later, and the SD minimum
after the start (default 6 weeks [P]); PD less than 3 months after the last cycle
is flagged for MDT confirmation (PRRT context [P]).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from prrt.clinical.response._validation import _to_date
from prrt.clinical.response.recist_categories import RecistResponse
from prrt.clinical.response.recist_followup import TimePointResponse
from prrt.errors import InvalidInputError

__all__ = [
    "BestOverallResponse",
    "best_overall_response",
]


@dataclass(frozen=True, slots=True)
class BestOverallResponse:
    """Best overall response (REC-BOR).

    Attributes
    ----------
    response
        CR, PR, SD, NON_CR_NON_PD, PD or NE.
    response_date
        Date of the time point that set the response (None for NE).
    confirmed
        Whether a CR/PR was confirmed (None when confirmation was not required or
        the response is not CR/PR).
    progression_date
        Date of the first PD, if any.
    flags
        ``REC-PRRT-EARLY-PD-MDT`` when PD occurs < 3 months after the last PRRT cycle
        (pseudoprogression possible: confirm in the multidisciplinary team) [P].
    reasons
        Explanation.
    """

    response: RecistResponse
    response_date: date | None
    confirmed: bool | None
    progression_date: date | None
    flags: tuple[str, ...]
    reasons: tuple[str, ...]


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def best_overall_response(
    responses: Sequence[TimePointResponse],
    *,
    treatment_start: date,
    confirmation_required: bool = False,
    confirmation_min_weeks: float = 4.0,
    sd_min_weeks: float = 6.0,
    last_cycle_date: date | None = None,
) -> BestOverallResponse:
    """Best overall response from start of treatment until progression (REC-BOR).

    Time points after the first PD are ignored.  SD (and NON_CR_NON_PD) counts only
    at a time point at least ``sd_min_weeks`` after ``treatment_start`` (default 6
    weeks [P]).  With ``confirmation_required`` (response as primary endpoint of a
    non-randomised study) a CR needs a later CR, and a PR a later PR or CR, at least
    ``confirmation_min_weeks`` (4) later; an unconfirmed CR/PR counts as SD if the
    SD minimum is met.  A true CR followed by reappearance is PD (handled by
    :func:`assess_time_points`).  This reproduces the combination table of §7.1:
    CR/CR → CR; CR/PD, PR/PD, CR/SD → SD if the SD minimum is met else PD;
    CR/NE, PR/NE → SD if met else NE; PR/CR, PR/PR → PR; PR/SD → SD; NE/NE → NE.

    Examples
    --------
    >>> from datetime import date
    >>> from prrt.clinical.response import (
    ...     BaselineLesion, TargetMeasurement, TimePoint, assess_time_points, select_baseline)
    >>> b = select_baseline([BaselineLesion("L1", "liver", longest_diameter_mm=50.0)])
    >>> tps = [TimePoint(date(2026, 3, 2), (TargetMeasurement("L1", size_mm=30.0),)),
    ...        TimePoint(date(2026, 4, 6), (TargetMeasurement("L1", size_mm=29.0),))]
    >>> best_overall_response(assess_time_points(b, tps), treatment_start=date(2026, 1, 5),
    ...                       confirmation_required=True).response.value
    'PR'
    """
    start = _to_date(treatment_start, "treatment_start")
    items = list(responses)
    for index, r in enumerate(items):
        if not isinstance(r, TimePointResponse):
            raise InvalidInputError(f"responses[{index}]", r, "a TimePointResponse")
    R = RecistResponse
    progression: TimePointResponse | None = None
    considered: list[TimePointResponse] = []
    for r in items:
        considered.append(r)
        if r.overall is R.PD:
            progression = r
            break
    flags: list[str] = []
    if (
        progression is not None
        and last_cycle_date is not None
        and progression.assessment_date
        < _add_months(_to_date(last_cycle_date, "last_cycle_date"), 3)
    ):
        flags.append("REC-PRRT-EARLY-PD-MDT")
    pd_date = progression.assessment_date if progression is not None else None
    confirm_days = confirmation_min_weeks * 7.0
    sd_days = sd_min_weeks * 7.0

    def confirmed(i: int, accept: tuple[RecistResponse, ...]) -> bool:
        first = considered[i]
        return any(
            later.overall in accept
            and (later.assessment_date - first.assessment_date).days >= confirm_days
            for later in considered[i + 1 :]
        )

    for level in (R.CR, R.PR):
        for i, r in enumerate(considered):
            if r.overall is not level:
                continue
            if not confirmation_required:
                return BestOverallResponse(
                    level,
                    r.assessment_date,
                    None,
                    pd_date,
                    tuple(flags),
                    (f"{level.value} on {r.assessment_date}",),
                )
            accept = (R.CR,) if level is R.CR else (R.PR, R.CR)
            if confirmed(i, accept):
                return BestOverallResponse(
                    level, r.assessment_date, True, pd_date, tuple(flags),
                    (f"{level.value} on {r.assessment_date} confirmed >= {confirmation_min_weeks:g} weeks later",),
                )  # fmt: skip
    for r in considered:
        if (
            r.overall in (R.CR, R.PR, R.SD, R.NON_CR_NON_PD)
            and (r.assessment_date - start).days >= sd_days
        ):
            best = R.NON_CR_NON_PD if r.overall is R.NON_CR_NON_PD else R.SD
            note = " (unconfirmed CR/PR)" if r.overall in (R.CR, R.PR) else ""
            return BestOverallResponse(
                best, r.assessment_date, False if note else None, pd_date, tuple(flags),
                (f"{best.value}{note} on {r.assessment_date}, >= {sd_min_weeks:g} weeks after start",),
            )  # fmt: skip
    if progression is not None:
        return BestOverallResponse(
            R.PD,
            pd_date,
            None,
            pd_date,
            tuple(flags),
            ("progression before the SD minimum was met",),
        )
    return BestOverallResponse(
        R.NE, None, None, None, tuple(flags), ("no evaluable response meeting the criteria",)
    )
