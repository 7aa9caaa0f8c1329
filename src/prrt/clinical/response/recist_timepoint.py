"""RECIST 1.1 response at a time point (clinical-rules.md §7.1).

Target response in the order CR, PD, PR, SD (PD: ≥ 20 % over the nadir **and**
≥ 5 mm absolute; PR: ≥ 30 % below baseline; CR: no non-nodal target and every node
< 10 mm), non-target response (REC-NT), new lesions (REC-NEW) and the time-point
table REC-OVERALL; :func:`assess_time_points` carries the nadir through a series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from prrt.clinical.response._validation import _dec, _size
from prrt.clinical.response.recist_baseline import RecistBaseline
from prrt.clinical.response.recist_categories import (
    TOO_SMALL_TO_MEASURE_MM,
    NewLesions,
    NonTargetState,
    RecistResponse,
    TargetState,
)
from prrt.clinical.response.recist_followup import (
    NonTargetObservation,
    TimePoint,
    TimePointResponse,
)
from prrt.errors import InvalidInputError

__all__ = [
    "assess_time_point",
    "assess_time_points",
]


def _target_sizes(baseline: RecistBaseline, tp: TimePoint) -> dict[str, Decimal | None]:
    known = {lesion.lesion_id for lesion in baseline.targets}
    sizes: dict[str, Decimal | None] = dict.fromkeys(known)
    for index, m in enumerate(tp.targets):
        if m.lesion_id not in known:
            raise InvalidInputError(
                f"time_point.targets[{index}].lesion_id", m.lesion_id, "a baseline target id"
            )
        if m.state is TargetState.MEASURED and m.size_mm is not None:
            sizes[m.lesion_id] = _dec(m.size_mm)
        elif m.state is TargetState.TOO_SMALL_TO_MEASURE:
            sizes[m.lesion_id] = _dec(TOO_SMALL_TO_MEASURE_MM)
        elif m.state is TargetState.DISAPPEARED:
            sizes[m.lesion_id] = Decimal(0)
    return sizes


def _pct(part: Decimal, whole: Decimal) -> float | None:
    return None if whole == 0 else float((part - whole) / whole * 100)


def _non_target(baseline: RecistBaseline, tp: TimePoint) -> tuple[RecistResponse | None, str]:
    if not baseline.non_targets:
        return None, "no non-target disease"
    if tp.non_target_response is not None:
        return tp.non_target_response, "radiologist's non-target call"
    known = {lesion.lesion_id: lesion for lesion in baseline.non_targets}
    seen: dict[str, NonTargetObservation] = {}
    for index, obs in enumerate(tp.non_targets):
        if obs.lesion_id not in known:
            raise InvalidInputError(
                f"time_point.non_targets[{index}].lesion_id",
                obs.lesion_id,
                "a baseline non-target id",
            )
        seen[obs.lesion_id] = obs
    states = list(seen.values())
    if any(o.state is NonTargetState.UNEQUIVOCAL_PROGRESSION for o in states):
        return RecistResponse.PD, "unequivocal progression of non-target disease (REC-NT)"
    if len(seen) < len(known) or any(o.state is NonTargetState.NOT_EVALUATED for o in states):
        return RecistResponse.NE, "non-target lesion(s) not evaluated"

    def gone(obs: NonTargetObservation) -> bool:
        if obs.state is NonTargetState.ABSENT:
            return True
        node = known[obs.lesion_id].is_lymph_node
        return node and obs.short_axis_mm is not None and _dec(obs.short_axis_mm) < 10

    if all(gone(o) for o in states) and tp.tumour_markers_normal is not False:
        return RecistResponse.CR, "all non-target lesions gone, nodes < 10 mm, markers not abnormal"
    return RecistResponse.NON_CR_NON_PD, "non-target disease persists or markers above normal"


def assess_time_point(
    baseline: RecistBaseline,
    time_point: TimePoint,
    *,
    nadir_mm: float | None = None,
    after_complete_response: bool = False,
) -> TimePointResponse:
    """Assess one time point (REC-CR/PD/PR/SD/NE, REC-NT, REC-NEW, REC-OVERALL).

    Parameters
    ----------
    baseline
        Output of :func:`select_baseline`.
    time_point
        The follow-up measurements.
    nadir_mm
        Smallest sum on study so far (baseline counts); defaults to the baseline sum.
    after_complete_response
        True when an earlier time point was a complete response: any reappearance of
        target disease is then progression (RECIST 1.1 BOR footnote on a true CR).

    Returns
    -------
    TimePointResponse

    Examples
    --------
    >>> from datetime import date
    >>> from prrt.clinical.response import BaselineLesion, TargetMeasurement, TimePoint, select_baseline
    >>> b = select_baseline([BaselineLesion("L1", "liver", longest_diameter_mm=50.0)])
    >>> tp = TimePoint(date(2026, 4, 1), (TargetMeasurement("L1", size_mm=35.0),))
    >>> r = assess_time_point(b, tp)
    >>> r.overall.value, r.change_from_baseline_percent
    ('PR', -30.0)
    """
    if not isinstance(baseline, RecistBaseline):
        raise InvalidInputError("baseline", baseline, "a RecistBaseline")
    if not isinstance(time_point, TimePoint):
        raise InvalidInputError("time_point", time_point, "a TimePoint")
    base_sum = _dec(baseline.sum_mm)
    nadir = (
        base_sum if nadir_mm is None else _dec(_size(nadir_mm, "nadir_mm", allow_none=False) or 0.0)
    )
    codes: list[str] = []
    reasons: list[str] = []
    target: RecistResponse | None = None
    total: Decimal | None = None
    if baseline.targets:
        sizes = _target_sizes(baseline, time_point)
        assessed = [v for v in sizes.values() if v is not None]
        partial = sum(assessed, Decimal(0))
        growth = partial - nadir

        def progression(value: Decimal) -> bool:
            return value >= nadir * Decimal("1.2") and value - nadir >= 5

        if len(assessed) < len(sizes):
            if progression(partial):
                target = RecistResponse.PD
                codes.append("REC-PD-SUM")
                reasons.append(
                    f"assessed targets alone sum {float(partial):g} mm >= 120 % of nadir {float(nadir):g} mm and +{float(growth):g} mm >= 5 mm"
                )
            else:
                target = RecistResponse.NE
                codes.append("REC-NE")
                reasons.append("target lesion(s) not evaluated")
        else:
            total = partial
            nodes_normal = all(
                sizes[t.lesion_id] is not None and (sizes[t.lesion_id] or Decimal(0)) < 10
                for t in baseline.targets
                if t.is_lymph_node
            )
            non_nodal_gone = all(
                sizes[t.lesion_id] == 0 for t in baseline.targets if not t.is_lymph_node
            )
            if non_nodal_gone and nodes_normal:
                target = RecistResponse.CR
                codes.append("REC-CR")
                reasons.append(
                    "all non-nodal targets disappeared and every nodal target < 10 mm short axis"
                )
            elif after_complete_response:
                target = RecistResponse.PD
                codes.append("REC-PD-REAPPEARANCE")
                reasons.append("target disease reappeared after a complete response")
            elif progression(total):
                target = RecistResponse.PD
                codes.append("REC-PD-SUM")
                reasons.append(
                    f"sum {float(total):g} mm >= 120 % of nadir {float(nadir):g} mm and +{float(total - nadir):g} mm >= 5 mm"
                )
            elif total <= base_sum * Decimal("0.7"):
                target = RecistResponse.PR
                codes.append("REC-PR")
                reasons.append(
                    f"sum {float(total):g} mm <= 70 % of baseline {float(base_sum):g} mm"
                )
            else:
                target = RecistResponse.SD
                codes.append("REC-SD")
                reasons.append("neither PR nor PD")
    non_target, nt_reason = _non_target(baseline, time_point)
    if non_target is not None:
        codes.append(f"REC-NT-{non_target.value}")
        reasons.append(nt_reason)
    new = time_point.new_lesions
    if new is NewLesions.UNEQUIVOCAL:
        codes.append("REC-NEW")
        reasons.append("unequivocal new lesion")
    elif new is NewLesions.EQUIVOCAL:
        codes.append("REC-NEW-EQUIVOCAL")
        reasons.append("equivocal new lesion: continue assessment")
    overall = _overall(target, non_target, new)
    return TimePointResponse(
        assessment_date=time_point.assessment_date,
        overall=overall,
        target_response=target,
        non_target_response=non_target,
        new_lesions=new,
        sum_mm=None if total is None else float(total),
        nadir_mm=float(nadir) if baseline.targets else None,
        change_from_baseline_percent=None if total is None else _pct(total, base_sum),
        change_from_nadir_percent=None if total is None else _pct(total, nadir),
        change_from_nadir_mm=None if total is None else float(total - nadir),
        reason_codes=tuple(codes),
        reasons=tuple(reasons),
    )


def _overall(
    target: RecistResponse | None, non_target: RecistResponse | None, new: NewLesions
) -> RecistResponse:
    """REC-OVERALL time-point table (targets present) and its non-target-only variant."""
    R = RecistResponse
    if new is NewLesions.UNEQUIVOCAL or R.PD in (target, non_target):
        return R.PD
    if target is None:
        if non_target is None:
            return R.NE
        return non_target
    if target is R.CR:
        return R.CR if non_target in (None, R.CR) else R.PR
    if target is R.PR:
        return R.PR
    if target is R.SD:
        return R.SD
    return R.NE


def assess_time_points(
    baseline: RecistBaseline, time_points: Sequence[TimePoint]
) -> tuple[TimePointResponse, ...]:
    """Assess a series of time points, tracking the nadir and earlier complete responses.

    The nadir is the smallest sum of all fully evaluated earlier time points and the
    baseline.  An unequivocal new lesion whose ``new_lesion_first_seen`` is the date
    of an earlier time point where it was equivocal makes that earlier time point PD
    (REC-NEW: PD dates from the first scan showing it).

    Raises
    ------
    InvalidInputError
        Time points not in increasing date order.

    Examples
    --------
    >>> from datetime import date
    >>> from prrt.clinical.response import BaselineLesion, TargetMeasurement, TimePoint, select_baseline
    >>> b = select_baseline([BaselineLesion("L1", "liver", longest_diameter_mm=50.0)])
    >>> tps = [TimePoint(date(2026, 4, 1), (TargetMeasurement("L1", size_mm=30.0),)),
    ...        TimePoint(date(2026, 7, 1), (TargetMeasurement("L1", size_mm=36.0),))]
    >>> [r.overall.value for r in assess_time_points(b, tps)]  # 36 >= 1.2 x 30 and +6 mm
    ['PR', 'PD']
    """
    results: list[TimePointResponse] = []
    nadir = _dec(baseline.sum_mm)
    complete = False
    previous: date | None = None
    for index, tp in enumerate(time_points):
        if not isinstance(tp, TimePoint):
            raise InvalidInputError(f"time_points[{index}]", tp, "a TimePoint")
        if previous is not None and tp.assessment_date <= previous:
            raise InvalidInputError(
                f"time_points[{index}].assessment_date",
                tp.assessment_date,
                "dates in increasing order",
            )
        previous = tp.assessment_date
        result = assess_time_point(
            baseline, tp, nadir_mm=float(nadir), after_complete_response=complete
        )
        if tp.new_lesions is NewLesions.UNEQUIVOCAL and tp.new_lesion_first_seen is not None:
            for j, earlier in enumerate(results):
                if (
                    earlier.assessment_date == tp.new_lesion_first_seen
                    and earlier.new_lesions is NewLesions.EQUIVOCAL
                ):
                    results[j] = replace(
                        earlier,
                        overall=RecistResponse.PD,
                        reason_codes=(*earlier.reason_codes, "REC-NEW-CONFIRMED"),
                        reasons=(
                            *earlier.reasons,
                            f"new lesion confirmed on {tp.assessment_date.isoformat()}",
                        ),
                    )
        results.append(result)
        if result.sum_mm is not None:
            nadir = min(nadir, _dec(result.sum_mm))
        complete = complete or result.overall is RecistResponse.CR
    return tuple(results)
