"""Outcome types shared by every clinical rule: status, rule outcome, verdict.

A rule never returns a bare bool: it returns a :class:`RuleOutcome` with the
rule id of ``clinical-rules.md``, the observed value, the threshold and its
operator, the unit, the source and the profile in force.  Missing data gives
:attr:`Status.INDETERMINATE`, never :attr:`Status.PASS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["RuleOutcome", "Severity", "Status", "Verdict", "combine_verdict"]


class Status(str, Enum):
    """Result of one rule on one patient."""

    PASS = "pass"
    FAIL = "fail"
    INDETERMINATE = "indeterminate"
    NOT_APPLICABLE = "not_applicable"


class Severity(str, Enum):
    """What a failed rule means for the verdict (clinical-rules.md §3.2: X-, C-, W- codes)."""

    EXCLUSION = "exclusion"  # X-*: a failed rule makes the patient not eligible
    CAUTION = "caution"  # C-*: a failed rule needs multidisciplinary review
    WARNING = "warning"  # W-*: shown, does not change the verdict
    INFORMATION = "information"  # informational input (PPQ, NETest): never a gate


class Verdict(str, Enum):
    """Eligibility verdict (three outcomes)."""

    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_multidisciplinary_review"
    NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """Outcome of one rule, with everything needed to explain it.

    Examples
    --------
    >>> RuleOutcome(rule_id="X-PLT", status=Status.FAIL, observed=60.0, threshold=75.0,
    ...             operator=">=", unit="10^9/L", source="NETTER-1 eligibility",
    ...             severity=Severity.EXCLUSION, profile="PRRT-DEFAULT-1").passed
    False
    """

    rule_id: str
    status: Status
    observed: float | str | bool | None
    threshold: float | str | None
    unit: str | None
    source: str
    severity: Severity = Severity.EXCLUSION
    operator: str | None = None
    profile: str | None = None
    message: str = ""

    @property
    def passed(self) -> bool:
        """True only for :attr:`Status.PASS` (indeterminate is not a pass)."""
        return self.status is Status.PASS

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "rule_id": self.rule_id,
            "status": self.status.value,
            "severity": self.severity.value,
            "observed": self.observed,
            "operator": self.operator,
            "threshold": self.threshold,
            "unit": self.unit,
            "source": self.source,
            "profile": self.profile,
            "message": self.message,
        }


def combine_verdict(outcomes: Iterable[RuleOutcome]) -> Verdict:
    """Combine rule outcomes into a verdict.

    A failed exclusion gives NOT_ELIGIBLE.  Otherwise any indeterminate
    exclusion or caution, or a failed caution, gives NEEDS_REVIEW: missing data
    never yields ELIGIBLE.  Warnings and information never change the verdict.

    Examples
    --------
    >>> ok = RuleOutcome("X-A", Status.PASS, 1.0, 0.0, None, "s")
    >>> unknown = RuleOutcome("X-B", Status.INDETERMINATE, None, 0.0, None, "s")
    >>> combine_verdict([ok]).value, combine_verdict([ok, unknown]).value
    ('eligible', 'needs_multidisciplinary_review')
    """
    items = list(outcomes)
    gating = [o for o in items if o.severity in (Severity.EXCLUSION, Severity.CAUTION)]
    if any(o.severity is Severity.EXCLUSION and o.status is Status.FAIL for o in gating):
        return Verdict.NOT_ELIGIBLE
    if any(o.status in (Status.FAIL, Status.INDETERMINATE) for o in gating):
        return Verdict.NEEDS_REVIEW
    return Verdict.ELIGIBLE
