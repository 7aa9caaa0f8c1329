"""Result of a next-cycle decision, with its reason codes (clinical-rules.md §4.4, §10)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prrt.clinical.dose_modification.categories import Decision, DmtCategory
from prrt.clinical.dose_modification.settings import DEFAULT_SETTINGS
from prrt.clinical.outcome import RuleOutcome

__all__ = [
    "CycleDecision",
]


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
