"""Match a patient case against every trial of the evidence base.

For each trial (the 21 rows of the seed's Table 1 and the reference trial NETTER-1),
every machine-checkable criterion of its ``eligibility`` record
(``prrt/outcomes/data/README.md`` lists the vocabulary) becomes a
:class:`~prrt.clinical.outcome.RuleOutcome`: ``pass`` (meets), ``fail`` (does not
meet) or ``indeterminate`` (cannot decide: the case lacks the data).  Missing data
is never a pass.  Criteria that the case format cannot express (free text of the
registry, e.g. "diagnosis within 6 months") are listed as *not checked*.

The case is read as ``prrt evaluate`` reads it (:func:`prrt.clinical.evaluate.eligibility_input`:
units parsed, values checked); the WHO grade and the Cockcroft–Gault creatinine
clearance come from :func:`prrt.clinical.eligibility.assess_eligibility`.
Conventions (also in ``docs/outcomes.md``): SSTR positivity is a Krenning score ≥ 2
(:func:`prrt.clinical.imaging_scores.sstr_positive`), "above liver" ≥ 3; prior systemic
lines count chemotherapy, everolimus, targeted therapy, interferon, investigational
drugs and PRRT, and somatostatin analogues only for a minimum ("pretreated") number.

A match is decision support for screening, not an eligibility verdict: a trial's
full protocol decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from prrt.clinical.case import Case
from prrt.clinical.outcome import RuleOutcome, Severity, Status
from prrt.outcomes._trial_criteria import Facts, criteria_findings, facts_of
from prrt.outcomes.evidence import EvidenceBase, Trial, load_evidence

__all__ = ["MatchStatus", "TrialMatch", "TrialMatchReport", "match_trial", "match_trials"]


class MatchStatus(str, Enum):
    """Overall result of one trial for one case."""

    MEETS_CHECKED = "meets_checked_criteria"
    UNDECIDED = "undecided"
    FAILS = "fails"


@dataclass(frozen=True, slots=True)
class TrialMatch:
    """Criteria a case meets, fails or cannot decide for one trial."""

    trial_id: str
    nct: str | None
    role: str
    table_row: int | None
    result_status: str
    status: MatchStatus
    criteria: tuple[RuleOutcome, ...]
    not_checked: tuple[str, ...]
    flags: tuple[str, ...]

    def _of(self, status: Status) -> tuple[RuleOutcome, ...]:
        return tuple(c for c in self.criteria if c.status is status)

    @property
    def met(self) -> tuple[RuleOutcome, ...]:
        """Criteria met."""
        return self._of(Status.PASS)

    @property
    def failed(self) -> tuple[RuleOutcome, ...]:
        """Criteria not met."""
        return self._of(Status.FAIL)

    @property
    def undecided(self) -> tuple[RuleOutcome, ...]:
        """Criteria the case lacks the data for."""
        return self._of(Status.INDETERMINATE)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "trial": self.trial_id,
            "nct": self.nct,
            "role": self.role,
            "table_row": self.table_row,
            "result_status": self.result_status,
            "status": self.status.value,
            "met": [c.to_dict() for c in self.met],
            "failed": [c.to_dict() for c in self.failed],
            "undecided": [c.to_dict() for c in self.undecided],
            "not_checked": list(self.not_checked),
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class TrialMatchReport:
    """Every trial of the evidence base for one case, best matches first."""

    case_id: str
    assessment_date: date
    evidence_version: str
    matches: tuple[TrialMatch, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "case_id": self.case_id,
            "assessment_date": self.assessment_date.isoformat(),
            "evidence_version": self.evidence_version,
            "note": "screening support: the full protocol of each trial decides eligibility",
            "matches": [m.to_dict() for m in self.matches],
        }


def match_trial(case: Case, trial: Trial, *, facts: Facts | None = None) -> TrialMatch:
    """Criteria of one trial met, failed or undecided for ``case``."""
    f = facts or facts_of(case)
    outcomes = []
    for name, (status, observed, threshold, operator, unit, message) in criteria_findings(trial, f):
        outcomes.append(
            RuleOutcome(
                rule_id=f"{trial.trial_id}:{name}",
                status=status,
                observed=observed if isinstance(observed, int | float | str | bool) else None,
                threshold=threshold if isinstance(threshold, int | float | str) else str(threshold),
                unit=unit,
                source=trial.source,
                severity=Severity.EXCLUSION,
                operator=operator,
                message=message,
            )
        )
    if any(o.status is Status.FAIL for o in outcomes):
        overall = MatchStatus.FAILS
    elif any(o.status is Status.INDETERMINATE for o in outcomes):
        overall = MatchStatus.UNDECIDED
    else:
        overall = MatchStatus.MEETS_CHECKED
    return TrialMatch(
        trial_id=trial.trial_id,
        nct=trial.nct,
        role=trial.role,
        table_row=trial.table_row,
        result_status=trial.result_status,
        status=overall,
        criteria=tuple(outcomes),
        not_checked=tuple(trial.eligibility.get("not_checked", ())),
        flags=trial.flags,
    )


_ORDER = {MatchStatus.MEETS_CHECKED: 0, MatchStatus.UNDECIDED: 1, MatchStatus.FAILS: 2}


def match_trials(case: Case, evidence: EvidenceBase | None = None) -> TrialMatchReport:
    """Every trial of the evidence base for ``case``: met, failed and undecided criteria.

    Matches are ordered: meeting every checked criterion first, then undecided, then
    failing; within a group by fewer failed, then fewer undecided criteria, then table row.

    Raises
    ------
    InvalidInputError
        The case has an unknown unit or an implausible value (JSON path named).

    Examples
    --------
    >>> from prrt.clinical.case import case_from_dict
    >>> case = case_from_dict({"schema_version": "1.0", "case_id": "c", "assessment_date": "2025-01-06",
    ...     "patient": {"age_years": 60, "sex": "male"},
    ...     "tumour": {"primary_site": "rectum", "ki67_percent": 5}})
    >>> report = match_trials(case)
    >>> m = next(m for m in report.matches if m.trial_id == "NETTER-1")
    >>> m.status.value, [c.rule_id for c in m.failed]
    ('fails', ['NETTER-1:site'])
    """
    base = evidence or load_evidence()
    facts = facts_of(case)
    matches = [match_trial(case, t, facts=facts) for t in base.trials]
    matches.sort(
        key=lambda m: (_ORDER[m.status], len(m.failed), len(m.undecided), m.table_row or 99)
    )
    return TrialMatchReport(case.case_id, case.assessment_date, base.version, tuple(matches))
