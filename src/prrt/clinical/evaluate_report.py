"""The report of :func:`prrt.clinical.evaluate.evaluate_case`: :class:`CaseReport`.

Everything ``prrt evaluate`` reports for one case, and its JSON form
(:meth:`CaseReport.to_dict`, documented in ``docs/clinical.md``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from prrt.clinical import ctcae
from prrt.clinical.dose_modification import CycleDecision
from prrt.clinical.eligibility import EligibilityAssessment, EligibilityInput
from prrt.clinical.imaging_scores import sstr_positive
from prrt.clinical.outcome import Status, Verdict
from prrt.clinical.profiles import Profile
from prrt.clinical.response import BestOverallResponse, TimePointResponse
from prrt.clinical.retreatment import RetreatmentAssessment

__all__ = ["CaseReport"]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(v) for v in value]
    return value


def _dataclass_dict(obj: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


@dataclass(frozen=True, slots=True)
class CaseReport:
    """Everything ``prrt evaluate`` reports for one case.

    Attributes
    ----------
    case_id, assessment_date
        Identity of the case.
    profile
        The decision profile in force.
    pathway
        ``"first_course"`` or ``"retreatment"`` (prior PRRT, §8).
    verdict
        Eligibility verdict of the pathway.
    eligibility
        First-course eligibility assessment (always computed).
    retreatment
        Re-treatment assessment when a prior PRRT course is reported.
    lesion_table
        Per-lesion scores: SSTR score, threshold met, FDG, mismatch.
    lab_grades
        CTCAE grade of every laboratory value (and CKD from eGFR).
    next_cycle
        Next-cycle decision when a course is given.
    recist_time_points, best_response
        RECIST 1.1 per time point and best overall response when measurements are given.
    notes
        Remarks on the evaluation (e.g. renal equations outside their validated age range).
    """

    case_id: str
    assessment_date: date
    profile: Profile
    pathway: str
    verdict: Verdict
    eligibility: EligibilityAssessment
    retreatment: RetreatmentAssessment | None
    lesion_table: tuple[dict[str, Any], ...]
    lab_grades: tuple[ctcae.CtcaeGrade, ...]
    next_cycle: CycleDecision | None
    recist_time_points: tuple[TimePointResponse, ...] | None
    best_response: BestOverallResponse | None
    notes: tuple[str, ...] = ()

    @property
    def outcomes(self) -> tuple[Any, ...]:
        """The rule outcomes that decide the verdict (re-treatment outcomes include eligibility)."""
        return (
            self.retreatment.outcomes if self.retreatment is not None else self.eligibility.outcomes
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON report (documented in ``docs/clinical.md``)."""
        elig = self.eligibility
        return {
            "case_id": self.case_id,
            "assessment_date": self.assessment_date.isoformat(),
            "profile": {"name": self.profile.name, "version": self.profile.version},
            "verdict": self.verdict.value,
            "pathway": self.pathway,
            "fired": [o.rule_id for o in self.outcomes if o.status is Status.FAIL],
            "undecided": [o.rule_id for o in self.outcomes if o.status is Status.INDETERMINATE],
            "notes": list(self.notes),
            "grade": elig.grade.to_dict(),
            "scores": {
                "sstr_min_score": elig.sstr_min_score,
                "netpet": elig.netpet.to_dict(),
                "sstr_expression": elig.expression.to_dict()
                if elig.expression is not None
                else None,
                "mismatch_lesions": list(elig.mismatch_lesions),
                "lesions": list(self.lesion_table),
            },
            "renal": {
                "crcl_ml_per_min": elig.crcl_ml_per_min,
                "crcl_method": "Cockcroft-Gault, actual body weight, rounded once to 0.1 (RENAL-2/3); drives the rules",
                "egfr_ml_per_min_1_73m2": elig.egfr_ml_per_min_1_73m2,
                "egfr_method": "CKD-EPI 2021 creatinine, race-free (RENAL-1); CTCAE CKD grade only",
            },
            "outcomes": [o.to_dict() for o in self.outcomes],
            "retreatment": self.retreatment.to_dict() if self.retreatment is not None else None,
            "lab_grades": [g.to_dict() for g in self.lab_grades],
            "next_cycle": self.next_cycle.to_dict() if self.next_cycle is not None else None,
            "recist": None
            if self.recist_time_points is None
            else {
                "time_points": [_dataclass_dict(r) for r in self.recist_time_points],
                "best_overall_response": _dataclass_dict(self.best_response)
                if self.best_response
                else None,
            },
        }


def _lesion_table(elig: EligibilityAssessment, inp: EligibilityInput) -> tuple[dict[str, Any], ...]:
    mismatch = set(elig.mismatch_lesions)
    rows = []
    for les in inp.lesions or ():
        meets = None
        if les.sstr_score is not None and elig.sstr_min_score is not None:
            meets = les.sstr_score >= elig.sstr_min_score
        rows.append(
            {
                "id": les.lesion_id,
                "target": les.target,
                "size_mm": les.size_mm,
                "sstr_score": les.sstr_score,
                "sstr_positive": None if les.sstr_score is None else sstr_positive(les.sstr_score),
                "meets_threshold": meets,
                "fdg": les.fdg.value if les.fdg else None,
                "fdg_vs_sstr": les.fdg_vs_sstr.value if les.fdg_vs_sstr else None,
                "mismatch": les.lesion_id in mismatch,
            }
        )
    return tuple(rows)
