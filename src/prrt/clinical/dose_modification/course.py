"""The course so far: baseline, administrations and DMT episodes (clinical-rules.md §4.1, §4.3–§4.4).

:class:`CourseBaseline` gives the pre-cycle-1 creatinine and Cockcroft–Gault
clearance that the renal rule of DMT-TABLE-US compares with (§4.3 [P], RENAL-4);
:class:`Administration` and :class:`Episode` make up the :class:`CourseHistory`
that CYC-ALGO (§4.4) reads for recurrence and for the 16-week limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prrt.clinical.dose_modification._validation import (
    _check_optional_range,
    _check_positive,
    _to_date,
)
from prrt.clinical.dose_modification.categories import DmtCategory
from prrt.clinical.dose_modification.lab_panel import LabPanel
from prrt.clinical.renal import Sex, creatinine_clearance_cockcroft_gault
from prrt.errors import InvalidInputError

__all__ = [
    "Administration",
    "CourseBaseline",
    "CourseHistory",
    "Episode",
]


@dataclass(frozen=True, slots=True)
class CourseBaseline:
    """Pre-cycle-1 values of the patient (baseline of the renal rule, §4.3 [P]).

    Attributes
    ----------
    sex
        Biological sex (Cockcroft–Gault).
    labs
        Pre-cycle-1 laboratory values; creatinine is the baseline of the 40 % rule,
        AST/ALT the baseline of their CTCAE grades.
    weight_kg, age_years
        Pre-cycle-1 actual weight and age, for the baseline creatinine clearance.
    """

    sex: Sex
    labs: LabPanel
    weight_kg: float | None = None
    age_years: float | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "sex", Sex(self.sex))
        except ValueError as err:
            raise InvalidInputError("baseline.sex", self.sex, "'female' or 'male'") from err
        if not isinstance(self.labs, LabPanel):
            raise InvalidInputError("baseline.labs", self.labs, "a LabPanel")
        object.__setattr__(
            self,
            "weight_kg",
            _check_optional_range(
                self.weight_kg, "baseline.weight_kg", 2.0, 400.0, "a weight in kg"
            ),
        )
        object.__setattr__(
            self,
            "age_years",
            _check_optional_range(
                self.age_years, "baseline.age_years", 0.0, 130.0, "an age in years"
            ),
        )

    @property
    def crcl_ml_per_min(self) -> float | None:
        """Baseline Cockcroft–Gault creatinine clearance (mL/min, rounded §0.3), or None if incomplete."""
        if (
            self.labs.creatinine_umol_per_l is None
            or self.weight_kg is None
            or self.age_years is None
        ):
            return None
        return creatinine_clearance_cockcroft_gault(
            creatinine_umol_per_l=self.labs.creatinine_umol_per_l,
            age_years=self.age_years,
            weight_kg=self.weight_kg,
            sex=self.sex,
        )


@dataclass(frozen=True, slots=True)
class Administration:
    """One administration of the course.

    Attributes
    ----------
    cycle_number
        1-based position in the course.
    administration_date
        Date of the infusion.
    activity_bq
        Administered activity in Bq; a dose is "reduced" when it is closer to the
        reduced than to the full activity of the settings.
    """

    cycle_number: int
    administration_date: date
    activity_bq: float

    def __post_init__(self) -> None:
        if (
            isinstance(self.cycle_number, bool)
            or not isinstance(self.cycle_number, int)
            or self.cycle_number < 1
        ):
            raise InvalidInputError(
                "administration.cycle_number", self.cycle_number, "a positive integer"
            )
        object.__setattr__(
            self,
            "administration_date",
            _to_date(self.administration_date, "administration.administration_date"),
        )
        object.__setattr__(
            self,
            "activity_bq",
            _check_positive(
                self.activity_bq, "administration.activity_bq", "a positive activity in Bq"
            ),
        )


@dataclass(frozen=True, slots=True)
class Episode:
    """A DMT category that occurred in the interval after dose ``after_dose`` (1-based)."""

    category: DmtCategory
    after_dose: int

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "category", DmtCategory(self.category))
        except ValueError as err:
            raise InvalidInputError(
                "episode.category",
                self.category,
                "one of " + ", ".join(c.value for c in DmtCategory),
            ) from err
        if (
            isinstance(self.after_dose, bool)
            or not isinstance(self.after_dose, int)
            or self.after_dose < 1
        ):
            raise InvalidInputError("episode.after_dose", self.after_dose, "a dose number >= 1")


@dataclass(frozen=True, slots=True)
class CourseHistory:
    """What happened earlier in the course: baseline, administrations, DMT episodes.

    Examples
    --------
    >>> from datetime import date
    >>> h = CourseHistory(CourseBaseline(Sex.FEMALE, LabPanel(creatinine_umol_per_l=70.0), 60.0, 55.0),
    ...                   (Administration(1, date(2026, 1, 5), 7.4e9),))
    >>> h.doses_given
    1
    """

    baseline: CourseBaseline
    administrations: tuple[Administration, ...] = ()
    episodes: tuple[Episode, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.baseline, CourseBaseline):
            raise InvalidInputError("history.baseline", self.baseline, "a CourseBaseline")
        admins = tuple(self.administrations)
        object.__setattr__(self, "administrations", admins)
        object.__setattr__(self, "episodes", tuple(self.episodes))
        for index, admin in enumerate(admins):
            if not isinstance(admin, Administration) or admin.cycle_number != index + 1:
                raise InvalidInputError(
                    f"history.administrations[{index}]",
                    admin,
                    f"an Administration with cycle_number {index + 1}",
                )
            if index and admin.administration_date <= admins[index - 1].administration_date:
                raise InvalidInputError(
                    f"history.administrations[{index}].administration_date",
                    admin.administration_date,
                    "a date after the previous administration",
                )
        for index, episode in enumerate(self.episodes):
            if not isinstance(episode, Episode) or episode.after_dose > len(admins):
                raise InvalidInputError(
                    f"history.episodes[{index}]",
                    episode,
                    f"an Episode after a dose given (1..{len(admins)})",
                )

    @property
    def doses_given(self) -> int:
        """Number of administrations so far."""
        return len(self.administrations)

    @property
    def last_administration(self) -> Administration | None:
        """The most recent administration, if any."""
        return self.administrations[-1] if self.administrations else None
