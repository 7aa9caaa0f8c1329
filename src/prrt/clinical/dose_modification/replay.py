"""A whole course replayed assessment by assessment (clinical-rules.md §4.4 CYC-ALGO).

Each decided dose is taken as given and the DMT episodes of every interval are
recorded, so that a later occurrence is recognised as recurrent (CYC-1); the
replay ends at STOP or COURSE_COMPLETE (CYC-0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from prrt.clinical.dose_modification.assessment import CycleAssessment
from prrt.clinical.dose_modification.categories import Decision
from prrt.clinical.dose_modification.course import (
    Administration,
    CourseBaseline,
    CourseHistory,
    Episode,
)
from prrt.clinical.dose_modification.cycle_decision import CycleDecision
from prrt.clinical.dose_modification.decision import next_cycle_decision
from prrt.clinical.dose_modification.settings import DEFAULT_SETTINGS, DoseModificationSettings
from prrt.errors import InvalidInputError

__all__ = [
    "CourseReplay",
    "replay_course",
]


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
    >>> from prrt.clinical.dose_modification import LabPanel, Sex
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
