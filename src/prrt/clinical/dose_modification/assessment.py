"""What is known before a cycle: clinician-graded toxicities and the cycle assessment.

Implements the inputs of clinical-rules.md §4.2 (MON-1: current values and the
worst values since the last dose) and §4.4 (CYC-ALGO): :class:`Toxicity`, a
CTCAE-graded adverse event (§5.2), and :class:`CycleAssessment`, everything known
before the intended administration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prrt.clinical.dose_modification._validation import (
    _check_optional_bool,
    _check_optional_range,
    _to_date,
)
from prrt.clinical.dose_modification.lab_panel import LabPanel
from prrt.errors import InvalidInputError

__all__ = [
    "CycleAssessment",
    "Toxicity",
]


def _normalise_term(term: str) -> str:
    return "_".join(term.strip().casefold().replace("-", " ").split())


@dataclass(frozen=True, slots=True)
class Toxicity:
    """A clinician-graded CTCAE adverse event since the last dose.

    Attributes
    ----------
    term
        CTCAE term (e.g. ``"vomiting"``, ``"allergic reaction"``, ``"anaphylaxis"``).
        Haematological terms are routed to their category with the label's grade
        triggers; lymphopenia is never dose-modifying; every other term of grade
        ≥ 3 that is possibly related counts as OTHER_NONHAEMATOLOGICAL.
    worst_grade
        Worst grade (0–5) since the last dose.
    current_grade
        Grade now; None if not re-assessed (a worst grade ≥ 3 then leaves the
        question "still active?" open).
    related
        Possibly related to Lutathera (unrelated events are not dose-modifying).
    """

    term: str
    worst_grade: int
    current_grade: int | None = None
    related: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.term, str) or not self.term.strip():
            raise InvalidInputError("toxicity.term", self.term, "a CTCAE term such as 'vomiting'")
        for name in ("worst_grade", "current_grade"):
            value = getattr(self, name)
            if value is None and name == "current_grade":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
                raise InvalidInputError(f"toxicity.{name}", value, "a CTCAE grade 0-5 (integer)")
        if self.current_grade is not None and self.current_grade > self.worst_grade:
            raise InvalidInputError(
                "toxicity.current_grade",
                self.current_grade,
                f"at most worst_grade ({self.worst_grade})",
            )
        if not isinstance(self.related, bool):
            raise InvalidInputError("toxicity.related", self.related, "True or False")

    @property
    def normalised_term(self) -> str:
        """Lower-case term with underscores (``"Allergic reaction"`` → ``"allergic_reaction"``)."""
        return _normalise_term(self.term)


@dataclass(frozen=True, slots=True)
class CycleAssessment:
    """Everything known at the time of a next-cycle decision (MON-1).

    Attributes
    ----------
    assessment_date
        Date of the intended administration (labs drawn shortly before).
    labs
        Current pre-dose values.
    worst_since_last_dose
        Worst values since the last dose (lowest counts, albumin and PT %; highest
        creatinine, bilirubin, INR, AST, ALT).  Required from cycle 2 on unless
        ``settings.require_worst_since_last_dose`` is False.  The creatinine
        clearance of the worst creatinine uses the current weight and age.
    weight_kg, age_years
        Current actual weight and age (Cockcroft–Gault).
    toxicities
        Clinician-graded adverse events since the last dose; ``()`` means none,
        ``None`` means not assessed.
    pregnant
        Pregnancy status; None = not assessed (pass False when not applicable).
    mds_or_aml
        Myelodysplastic syndrome or acute myeloid leukaemia diagnosed; None = not assessed.
    cycle_number
        Optional: the cycle being decided (doses given + 1), checked against the history.
    """

    assessment_date: date
    labs: LabPanel
    worst_since_last_dose: LabPanel | None = None
    weight_kg: float | None = None
    age_years: float | None = None
    toxicities: tuple[Toxicity, ...] | None = None
    pregnant: bool | None = None
    mds_or_aml: bool | None = None
    cycle_number: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "assessment_date", _to_date(self.assessment_date, "assessment_date")
        )
        if not isinstance(self.labs, LabPanel):
            raise InvalidInputError("labs", self.labs, "a LabPanel")
        if self.worst_since_last_dose is not None and not isinstance(
            self.worst_since_last_dose, LabPanel
        ):
            raise InvalidInputError(
                "worst_since_last_dose", self.worst_since_last_dose, "a LabPanel or None"
            )
        object.__setattr__(
            self,
            "weight_kg",
            _check_optional_range(self.weight_kg, "weight_kg", 2.0, 400.0, "a weight in kg"),
        )
        object.__setattr__(
            self,
            "age_years",
            _check_optional_range(self.age_years, "age_years", 0.0, 130.0, "an age in years"),
        )
        if self.toxicities is not None:
            toxicities = tuple(self.toxicities)
            for index, tox in enumerate(toxicities):
                if not isinstance(tox, Toxicity):
                    raise InvalidInputError(f"toxicities[{index}]", tox, "a Toxicity")
            object.__setattr__(self, "toxicities", toxicities)
        _check_optional_bool(self.pregnant, "pregnant")
        _check_optional_bool(self.mds_or_aml, "mds_or_aml")
        if self.cycle_number is not None and (
            isinstance(self.cycle_number, bool)
            or not isinstance(self.cycle_number, int)
            or self.cycle_number < 1
        ):
            raise InvalidInputError("cycle_number", self.cycle_number, "a positive integer or None")
