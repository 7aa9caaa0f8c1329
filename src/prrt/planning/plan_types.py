"""Data types of a dated course plan: event kinds, patient factors, events, cycles, the plan.

:func:`prrt.planning.schedule.plan_course` builds these; the calendar export and
the report read them.  Times are timezone-aware; a naive time is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError
from prrt.planning.regimens import Intent, Regimen, body_surface_area_m2

__all__ = [
    "AminoAcidProtocol",
    "CoursePlan",
    "EventKind",
    "PatientFactors",
    "PlannedCycle",
    "ScheduledEvent",
    "utc",
]


class EventKind(str, Enum):
    """Kinds of scheduled events."""

    PRRT = "prrt"
    AMINO_ACIDS = "amino_acids"
    ANTIEMETIC = "antiemetic"
    PREMEDICATION = "premedication"
    OBSERVATION = "observation"
    SSA_LONG_ACTING = "ssa_long_acting"
    SSA_WASHOUT = "ssa_washout"
    SSA_SHORT_ACTING_STOP = "ssa_short_acting_stop"
    LABS = "labs"
    IMAGING = "imaging"
    STEROIDS = "steroids"
    CHEMOTHERAPY = "chemotherapy"
    RADIATION_PROTECTION = "radiation_protection"
    FOLLOW_UP = "follow_up"


class AminoAcidProtocol(str, Enum):
    """Which label's amino-acid infusion to schedule (AA-1, AA-2)."""

    EU = "EU"
    US = "US"


@dataclass(frozen=True, slots=True)
class PatientFactors:
    """What the plan needs to know about the patient.

    Attributes
    ----------
    weight_kg, height_cm
        For activities per kg or per m² and chemotherapy doses.
    peritoneal_or_mesenteric_disease
        Schedules low-dose steroids; None = not assessed (reported as a warning).
    last_long_acting_ssa
        Date of the last long-acting SSA injection before cycle 1 (SSA-1).
    last_short_acting_ssa
        Time of the last short-acting octreotide before cycle 1.
    prior_hypersensitivity_grade
        Grade of an earlier reaction: 1–2 schedules premedication, ≥ 3 is refused
        (no rechallenge, AE-2).
    """

    weight_kg: float | None = None
    height_cm: float | None = None
    peritoneal_or_mesenteric_disease: bool | None = None
    last_long_acting_ssa: date | None = None
    last_short_acting_ssa: datetime | None = None
    prior_hypersensitivity_grade: int | None = None

    def __post_init__(self) -> None:
        if self.weight_kg is not None and not (
            isinstance(self.weight_kg, int | float)
            and math.isfinite(self.weight_kg)
            and 2.0 <= self.weight_kg <= 400.0
        ):
            raise InvalidInputError("patient.weight", self.weight_kg, "a weight in kg (2–400)")
        if self.height_cm is not None and not (
            isinstance(self.height_cm, int | float)
            and math.isfinite(self.height_cm)
            and 40.0 <= self.height_cm <= 250.0
        ):
            raise InvalidInputError("patient.height", self.height_cm, "a height in cm (40–250)")
        if self.last_short_acting_ssa is not None:
            _aware(self.last_short_acting_ssa, "patient.last_short_acting_ssa")
        g = self.prior_hypersensitivity_grade
        if g is not None and (isinstance(g, bool) or not isinstance(g, int) or not 0 <= g <= 5):
            raise InvalidInputError("patient.prior_hypersensitivity_grade", g, "a CTCAE grade 0–5")

    @property
    def bsa_m2(self) -> float | None:
        """Mosteller body surface area (m²) when weight and height are known."""
        if self.weight_kg is None or self.height_cm is None:
            return None
        return body_surface_area_m2(weight_kg=self.weight_kg, height_cm=self.height_cm)


@dataclass(frozen=True, slots=True)
class ScheduledEvent:
    """One dated item of the plan (an infusion, a window, a test)."""

    kind: EventKind
    title: str
    start: datetime
    end: datetime | None = None
    cycle_number: int | None = None
    details: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary (ISO 8601 times)."""
        return {
            "kind": self.kind.value,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "cycle_number": self.cycle_number,
            "details": self.details,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class PlannedCycle:
    """One planned PRRT cycle."""

    cycle_number: int
    prrt_start: datetime
    activities_bq: dict[str, float]
    events: tuple[ScheduledEvent, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "cycle_number": self.cycle_number,
            "prrt_start": self.prrt_start.isoformat(),
            "activities_bq": dict(self.activities_bq),
            "events": [e.to_dict() for e in self.events],
        }


@dataclass(frozen=True, slots=True)
class CoursePlan:
    """A dated course: cycles, course-level events and warnings."""

    regimen: Regimen
    intent: Intent
    patient: PatientFactors
    cycles: tuple[PlannedCycle, ...]
    course_events: tuple[ScheduledEvent, ...]
    amino_acid_protocol: AminoAcidProtocol
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def events(self) -> tuple[ScheduledEvent, ...]:
        """Every event of the plan in time order."""
        every = [e for c in self.cycles for e in c.events] + list(self.course_events)
        return tuple(sorted(every, key=lambda e: (e.start, e.kind.value)))

    @property
    def prrt_dates(self) -> tuple[date, ...]:
        """Dates of the PRRT infusions."""
        return tuple(c.prrt_start.date() for c in self.cycles)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "regimen": self.regimen.to_dict(),
            "intent": self.intent.value,
            "amino_acid_protocol": self.amino_acid_protocol.value,
            "patient": {
                "weight_kg": self.patient.weight_kg,
                "height_cm": self.patient.height_cm,
                "bsa_m2": self.patient.bsa_m2,
                "peritoneal_or_mesenteric_disease": self.patient.peritoneal_or_mesenteric_disease,
            },
            "cycles": [c.to_dict() for c in self.cycles],
            "course_events": [e.to_dict() for e in self.course_events],
            "warnings": list(self.warnings),
        }


def _aware(value: Any, field_name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInputError(field_name, value, "a date and time with a UTC offset")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            field_name,
            value.isoformat(),
            "a date and time with a UTC offset",
            hint="add the offset, e.g. 2026-03-02T09:00+01:00",
        )
    return value


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC datetime (convenience for examples and tests)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
