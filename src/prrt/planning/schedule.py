"""Dated course plans: PRRT days with premedication, supportive care, labs and imaging.

:func:`plan_course` turns a :class:`~prrt.planning.regimens.Regimen` and a
first treatment time into a :class:`CoursePlan`, one :class:`PlannedCycle` per
cycle with its :class:`ScheduledEvent` list.  Timing relative to the start of
the PRRT infusion (T0), from clinical-rules.md:

=================================  ==========================================================
antiemetic                         T0 − 60 min: before the amino acids (AE-1) [V]
amino acids (lysine + arginine)    T0 − 30 min; EU 1 L over 4 h at 250 mL/h; US 1.5–2.2 L,
                                   during and ≥ 3 h after the infusion (AA-1, AA-2) [V];
                                   never reduced with a reduced PRRT dose (AA-3)
PRRT infusion                      T0 to T0 + 30 min (DOSE-4) [V]
hypersensitivity observation       ≥ 2 h after the infusion (DOSE-5) [V]
long-acting SSA                    last dose ≥ 4 weeks before cycle 1 (SSA-1); 30 mg
                                   octreotide LAR 4–24 h after each dose (SSA-2); every 4
                                   weeks after the course up to 18 months from the start (SSA-3)
short-acting SSA                   none within 24 h before a dose (SSA-1, SSA-2) [V]
pre-cycle labs                     2–4 weeks before and shortly before each dose (MON-1),
                                   with potassium before the amino acids (AA-4) [V]
platelet nadir labs                ~5 weeks after each dose (NETTER-1 median 5.1 weeks, MON-1)
low-dose steroids                  from the PRRT day for 2–4 weeks with peritoneal or
                                   mesenteric disease (W-PERITONEAL-MESENTERIC) [S]
post-therapy imaging               SPECT/CT at the configured hours (default 4, 24, 96,
                                   168 h for multi-time-point dosimetry, dosimetry-reference)
=================================  ==========================================================

Times are timezone-aware; a naive time is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError
from prrt.planning.regimens import Intent, Regimen, body_surface_area_m2

__all__ = [
    "DEFAULT_IMAGING_HOURS",
    "AminoAcidProtocol",
    "CoursePlan",
    "EventKind",
    "PatientFactors",
    "PlannedCycle",
    "ScheduledEvent",
    "plan_course",
]

#: Post-therapy SPECT/CT times (h after T0) for 4-time-point dosimetry.
DEFAULT_IMAGING_HOURS: tuple[float, ...] = (4.0, 24.0, 96.0, 168.0)
#: SSA-3: maintenance octreotide LAR up to 18 months from the start of treatment.
_SSA_MAINTENANCE_MONTHS = 18
_DAYS_PER_MONTH = 30.4375


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


def _amino_acid_event(cycle: int, t0: datetime, protocol: AminoAcidProtocol) -> ScheduledEvent:
    start = t0 - timedelta(minutes=30)
    if protocol is AminoAcidProtocol.EU:
        details = (
            "L-lysine HCl 25 g + L-arginine HCl 25 g in 1 L (e.g. LysaKare), 250 mL/h over 4 h, "
            "started 30 min before PRRT; full bag even when the PRRT dose is reduced; check "
            "potassium first; LysaKare not with CrCl < 30 mL/min"
        )
        source = "LysaKare SmPC / Lutathera EU SmPC (clinical-rules.md AA-1..AA-4) [V]"
        end = start + timedelta(hours=4)
    else:
        details = (
            "lysine HCl 18–24 g + arginine HCl 18–24 g in 1.5–2.2 L, started 30 min before, "
            "during and for at least 3 h after the PRRT infusion; not reduced with the PRRT dose"
        )
        source = "Lutathera US label 2.3 (clinical-rules.md AA-1..AA-3) [V]"
        end = t0 + timedelta(minutes=30) + timedelta(hours=3)
    return ScheduledEvent(
        EventKind.AMINO_ACIDS, "Amino-acid infusion", start, end, cycle, details, source
    )


def _cycle_events(
    regimen: Regimen,
    cycle: int,
    t0: datetime,
    previous_t0: datetime | None,
    patient: PatientFactors,
    protocol: AminoAcidProtocol,
    imaging_hours: Sequence[float],
    activities_bq: dict[str, float],
) -> list[ScheduledEvent]:
    ev: list[ScheduledEvent] = []
    add = ev.append
    what = " + ".join(f"{a / 1e9:.3g} GBq {n}" for n, a in activities_bq.items())
    lab_window_start = t0 - timedelta(days=28)
    if previous_t0 is not None:
        lab_window_start = max(lab_window_start, previous_t0 + timedelta(days=1))
    add(
        ScheduledEvent(
            EventKind.LABS,
            "Pre-cycle labs (2–4 weeks before)",
            lab_window_start,
            t0 - timedelta(days=14),
            cycle,
            "Hb, WBC with differential (ANC, lymphocytes), platelets, creatinine with "
            "Cockcroft–Gault CrCl, ALT, AST, albumin, bilirubin, prothrombin; pregnancy test "
            "where applicable; record the worst values since the last dose",
            "Lutathera EU SmPC 4.4 (clinical-rules.md MON-1) [V]",
        )
    )
    add(
        ScheduledEvent(
            EventKind.LABS,
            "Pre-dose labs and potassium",
            t0 - timedelta(days=3),
            t0 - timedelta(hours=2),
            cycle,
            "repeat the MON-1 panel shortly before the dose; serum potassium before the amino "
            "acids (correct hyperkalaemia first)",
            "clinical-rules.md MON-1, AA-4 [V]",
        )
    )
    add(
        ScheduledEvent(
            EventKind.SSA_SHORT_ACTING_STOP,
            "No short-acting octreotide from now until the dose",
            t0 - timedelta(hours=24),
            t0,
            cycle,
            "short-acting octreotide for symptoms is allowed except within 24 h before a dose",
            "Lutathera US label 2.3 (clinical-rules.md SSA-1, SSA-2) [V]",
        )
    )
    if cycle == 1 or previous_t0 is None:
        add(
            ScheduledEvent(
                EventKind.SSA_WASHOUT,
                "No long-acting SSA (octreotide LAR, lanreotide) before cycle 1",
                t0 - timedelta(weeks=4),
                t0,
                cycle,
                "last long-acting SSA at least 4 weeks before the first dose",
                "Lutathera US label 2.3 (clinical-rules.md SSA-1, SSA-4) [V]",
            )
        )
    if patient.prior_hypersensitivity_grade in (1, 2):
        add(
            ScheduledEvent(
                EventKind.PREMEDICATION,
                "Premedication after a prior grade 1–2 hypersensitivity",
                t0 - timedelta(minutes=75),
                t0 - timedelta(minutes=60),
                cycle,
                "antihistamine and/or corticosteroid per local practice",
                "Lutathera label (clinical-rules.md AE-2, §4.3) [V]",
            )
        )
    add(
        ScheduledEvent(
            EventKind.ANTIEMETIC,
            "Antiemetic",
            t0 - timedelta(minutes=60),
            None,
            cycle,
            "before the amino-acid infusion (e.g. a 5-HT3 antagonist ± dexamethasone; local choice)",
            "Lutathera US label; LysaKare SmPC (clinical-rules.md AE-1) [V]",
        )
    )
    if regimen.amino_acids:
        add(_amino_acid_event(cycle, t0, protocol))
    add(
        ScheduledEvent(
            EventKind.PRRT,
            f"PRRT cycle {cycle}: {what}",
            t0,
            t0 + timedelta(minutes=30),
            cycle,
            "; ".join(c.agent for c in regimen.components) + ", infused over about 30 ± 10 min",
            regimen.source,
        )
    )
    add(
        ScheduledEvent(
            EventKind.OBSERVATION,
            "Observe for hypersensitivity",
            t0 + timedelta(minutes=30),
            t0 + timedelta(minutes=150),
            cycle,
            "at least 2 h after the infusion where resuscitation is available; drink about one "
            "glass of water per hour today and tomorrow",
            "Lutathera label (clinical-rules.md DOSE-5, RP-3) [V]",
        )
    )
    add(
        ScheduledEvent(
            EventKind.RADIATION_PROTECTION,
            "Dose rate at 1 m and release decision",
            t0 + timedelta(hours=4, minutes=30),
            None,
            cycle,
            "measure the dose rate at 1 m; release per 10 CFR 35.75 / local limit; hand out the "
            "instruction sheet",
            "clinical-rules.md REL-1..REL-4",
        )
    )
    add(
        ScheduledEvent(
            EventKind.SSA_LONG_ACTING,
            "Octreotide LAR 30 mg IM",
            t0 + timedelta(hours=4),
            t0 + timedelta(hours=24),
            cycle,
            "between 4 and 24 h after the dose",
            "Lutathera US label 2.3 (clinical-rules.md SSA-2) [V]",
        )
    )
    if patient.peritoneal_or_mesenteric_disease:
        add(
            ScheduledEvent(
                EventKind.STEROIDS,
                "Low-dose steroid prophylaxis (peritoneal/mesenteric disease)",
                t0,
                t0 + timedelta(weeks=2),
                cycle,
                "from the PRRT day for 2–4 weeks: bowel obstruction/ascites risk",
                "seed review ref 17; Strosberg et al., J Nucl Med 2021 (W-PERITONEAL-MESENTERIC) [S]",
            )
        )
    for hours in imaging_hours:
        add(
            ScheduledEvent(
                EventKind.IMAGING,
                f"Post-therapy SPECT/CT at {hours:g} h",
                t0 + timedelta(hours=hours),
                t0 + timedelta(hours=hours, minutes=30),
                cycle,
                "quantitative SPECT/CT for dosimetry (kidneys, marrow, tumours)",
                "dosimetry-reference.md (multi-time-point imaging)",
            )
        )
    add(
        ScheduledEvent(
            EventKind.LABS,
            "Blood counts at the expected platelet nadir",
            t0 + timedelta(weeks=5),
            None,
            cycle,
            "platelet nadir about 5 weeks after a dose; these values feed the worst-since-last-dose",
            "NETTER-1 median 5.1 weeks (clinical-rules.md MON-1) [V]",
        )
    )
    for chemo in regimen.chemotherapy:
        if chemo.offset_days_after_prrt is None:
            day1 = t0 - timedelta(days=regimen.prrt_day - 1)
        else:
            day1 = t0 + timedelta(days=chemo.offset_days_after_prrt)
        first = day1 + timedelta(days=chemo.first_day - 1)
        last = day1 + timedelta(days=chemo.last_day - 1)
        dose = f"{chemo.dose_mg_per_m2_per_day:g} mg/m²/day"
        if patient.bsa_m2 is not None:
            dose += f" = {chemo.dose_mg_per_m2_per_day * patient.bsa_m2:.0f} mg/day at {patient.bsa_m2:.2f} m²"
        add(
            ScheduledEvent(
                EventKind.CHEMOTHERAPY,
                f"{chemo.drug.capitalize()} days {chemo.first_day}–{chemo.last_day}",
                first.replace(hour=8, minute=0),
                (last + timedelta(days=1)).replace(hour=0, minute=0),
                cycle,
                f"{dose} in {chemo.divided_doses_per_day} divided dose(s)",
                chemo.source,
            )
        )
    return ev


def _check_first_dose(first: datetime, patient: PatientFactors) -> None:
    if patient.last_long_acting_ssa is not None:
        earliest = patient.last_long_acting_ssa + timedelta(weeks=4)
        if first.date() < earliest:
            raise InvalidInputError(
                "first_administration",
                first.isoformat(),
                f"on or after {earliest.isoformat()}: the last long-acting SSA "
                f"({patient.last_long_acting_ssa.isoformat()}) must be at least 4 weeks before (SSA-1)",
            )
    if patient.last_short_acting_ssa is not None:
        earliest_dt = patient.last_short_acting_ssa + timedelta(hours=24)
        if first < earliest_dt:
            raise InvalidInputError(
                "first_administration",
                first.isoformat(),
                f"at or after {earliest_dt.isoformat()}: no short-acting octreotide within 24 h "
                "before a dose (SSA-1)",
            )


def plan_course(
    regimen: Regimen,
    first_administration: datetime,
    patient: PatientFactors | None = None,
    *,
    intent: Intent | str | None = None,
    cycles: int | None = None,
    interval_days: int | None = None,
    imaging_hours: Sequence[float] = DEFAULT_IMAGING_HOURS,
    amino_acid_protocol: AminoAcidProtocol | str = AminoAcidProtocol.EU,
) -> CoursePlan:
    """Plan a dated course.

    Parameters
    ----------
    regimen
        The course template (:data:`~prrt.planning.regimens.REGIMENS`).
    first_administration
        Start of the first PRRT infusion (timezone-aware).
    patient
        Weight/height for dosing per kg or m², peritoneal disease, SSA history.
    intent
        Recorded intent (palliative, first_line, neoadjuvant, retreatment).
    cycles
        Number of cycles to plan (default the regimen's; at most its maximum).
    interval_days
        Interval between PRRT days (default the regimen's; within its range).
    imaging_hours
        Post-therapy SPECT/CT times after each infusion (h).
    amino_acid_protocol
        ``EU`` (1 L over 4 h) or ``US`` (1.5–2.2 L, ≥ 3 h after).

    Raises
    ------
    InvalidInputError
        A naive time, a first dose too early after an SSA, cycles or interval
        outside the regimen, a prior grade ≥ 3 hypersensitivity, missing weight
        or height for per-kg or per-m² dosing.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from prrt.planning.regimens import get_regimen
    >>> plan = plan_course(get_regimen("LUTATHERA_STANDARD"),
    ...                    datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    >>> [d.isoformat() for d in plan.prrt_dates]
    ['2026-03-02', '2026-04-27', '2026-06-22', '2026-08-17']
    """
    if not isinstance(regimen, Regimen):
        raise InvalidInputError("regimen", regimen, "a Regimen (prrt.planning.get_regimen)")
    first = _aware(first_administration, "first_administration")
    patient = patient or PatientFactors()
    if not isinstance(patient, PatientFactors):
        raise InvalidInputError("patient", patient, "a PatientFactors")
    try:
        the_intent = Intent(intent) if intent is not None else regimen.default_intent
    except ValueError as err:
        raise InvalidInputError(
            "intent", intent, "one of " + ", ".join(i.value for i in Intent)
        ) from err
    try:
        protocol = AminoAcidProtocol(amino_acid_protocol)
    except ValueError as err:
        raise InvalidInputError("amino_acid_protocol", amino_acid_protocol, "'EU' or 'US'") from err
    n = regimen.cycles if cycles is None else cycles
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= regimen.cycle_limit:
        raise InvalidInputError("cycles", cycles, f"an integer from 1 to {regimen.cycle_limit}")
    step = regimen.interval_days if interval_days is None else interval_days
    if (
        isinstance(step, bool)
        or not isinstance(step, int)
        or not regimen.min_interval_days <= step <= regimen.max_interval_days
    ):
        raise InvalidInputError(
            "interval_days",
            interval_days,
            f"{regimen.min_interval_days}–{regimen.max_interval_days} days for {regimen.id}",
        )
    hours = tuple(float(h) for h in imaging_hours)
    if any(not (math.isfinite(h) and 0 < h <= 24 * 14) for h in hours) or list(hours) != sorted(
        set(hours)
    ):
        raise InvalidInputError(
            "imaging_hours", imaging_hours, "increasing times in hours within 14 days"
        )
    if (
        patient.prior_hypersensitivity_grade is not None
        and patient.prior_hypersensitivity_grade >= 3
    ):
        raise InvalidInputError(
            "patient.prior_hypersensitivity_grade",
            patient.prior_hypersensitivity_grade,
            "grade 0–2: no rechallenge after a grade 3–4 hypersensitivity (AE-2)",
        )
    _check_first_dose(first, patient)
    activities = regimen.activities_bq(weight_kg=patient.weight_kg, bsa_m2=patient.bsa_m2)
    for nuclide, activity in activities.items():
        regimen.check_activity(
            nuclide,
            activity,
            field_name=f"activity.{nuclide}",
            weight_kg=patient.weight_kg,
            bsa_m2=patient.bsa_m2,
        )
    warnings: list[str] = []
    if patient.peritoneal_or_mesenteric_disease is None:
        warnings.append(
            "peritoneal/mesenteric disease not assessed: steroid prophylaxis not scheduled"
        )
    warnings.extend(regimen.notes)
    planned = []
    previous: datetime | None = None
    for index in range(n):
        t0 = first + timedelta(days=step * index)
        events = _cycle_events(
            regimen, index + 1, t0, previous, patient, protocol, hours, activities
        )
        planned.append(
            PlannedCycle(
                index + 1, t0, dict(activities), tuple(sorted(events, key=lambda e: e.start))
            )
        )
        previous = t0
    course_events = _course_events(first, planned[-1].prrt_start)
    return CoursePlan(
        regimen, the_intent, patient, tuple(planned), course_events, protocol, tuple(warnings)
    )


def _course_events(first: datetime, last: datetime) -> tuple[ScheduledEvent, ...]:
    ev = []
    until = first + timedelta(days=_SSA_MAINTENANCE_MONTHS * _DAYS_PER_MONTH)
    when = last + timedelta(hours=4) + timedelta(weeks=4)
    while when <= until:
        ev.append(
            ScheduledEvent(
                EventKind.SSA_LONG_ACTING,
                "Maintenance octreotide LAR 30 mg IM",
                when,
                None,
                None,
                "every 4 weeks until progression or 18 months from the start of treatment",
                "NETTER-1 design, Lutathera US label (clinical-rules.md SSA-3) [V]",
            )
        )
        when += timedelta(weeks=4)
    ev.append(
        ScheduledEvent(
            EventKind.FOLLOW_UP,
            "Response assessment (CT/MRI, RECIST 1.1) and SSTR imaging",
            last + timedelta(weeks=12),
            None,
            None,
            "about 3 months after the last cycle, then per follow-up protocol",
            "program default [P]",
        )
    )
    return tuple(ev)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC datetime (convenience for examples and tests)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
