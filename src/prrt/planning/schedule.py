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
from datetime import UTC, datetime, timedelta

from prrt.errors import InvalidInputError
from prrt.planning.plan_types import (
    AminoAcidProtocol,
    CoursePlan,
    EventKind,
    PatientFactors,
    PlannedCycle,
    ScheduledEvent,
    _aware,
    utc,
)
from prrt.planning.regimens import Intent, Regimen

__all__ = [
    "DEFAULT_IMAGING_HOURS",
    "AminoAcidProtocol",
    "CoursePlan",
    "EventKind",
    "PatientFactors",
    "PlannedCycle",
    "ScheduledEvent",
    "plan_course",
    "utc",
]

#: Post-therapy SPECT/CT times (h after T0) for 4-time-point dosimetry.
DEFAULT_IMAGING_HOURS: tuple[float, ...] = (4.0, 24.0, 96.0, 168.0)
#: SSA-3: maintenance octreotide LAR up to 18 months from the start of treatment.
_SSA_MAINTENANCE_MONTHS = 18
_DAYS_PER_MONTH = 30.4375


def _amino_acid_event(cycle: int, t0: datetime, protocol: AminoAcidProtocol) -> ScheduledEvent:
    start = _elapsed(t0, -timedelta(minutes=30))
    if protocol is AminoAcidProtocol.EU:
        details = (
            "L-lysine HCl 25 g + L-arginine HCl 25 g in 1 L (e.g. LysaKare), 250 mL/h over 4 h, "
            "started 30 min before PRRT; full bag even when the PRRT dose is reduced; check "
            "potassium first; LysaKare not with CrCl < 30 mL/min"
        )
        source = "LysaKare SmPC / Lutathera EU SmPC (clinical-rules.md AA-1..AA-4) [V]"
        end = _elapsed(start, timedelta(hours=4))
    else:
        details = (
            "lysine HCl 18–24 g + arginine HCl 18–24 g in 1.5–2.2 L, started 30 min before, "
            "during and for at least 3 h after the PRRT infusion; not reduced with the PRRT dose"
        )
        source = "Lutathera US label 2.3 (clinical-rules.md AA-1..AA-3) [V]"
        end = _elapsed(t0, timedelta(minutes=30, hours=3))
    return ScheduledEvent(
        EventKind.AMINO_ACIDS, "Amino-acid infusion", start, end, cycle, details, source
    )


def _elapsed(start: datetime, delta: timedelta) -> datetime:
    """``start + delta`` in elapsed time (across a daylight-saving change), shown in start's zone.

    Day- and week-based steps (cycle dates, lab windows) stay on the local clock;
    hour-based ones (imaging at 96 h, amino acids, observation) are physical time.
    """
    return (start.astimezone(UTC) + delta).astimezone(start.tzinfo)


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
            _elapsed(t0, -timedelta(hours=2)),
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
            _elapsed(t0, -timedelta(hours=24)),
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
                _elapsed(t0, -timedelta(minutes=75)),
                _elapsed(t0, -timedelta(minutes=60)),
                cycle,
                "antihistamine and/or corticosteroid per local practice",
                "Lutathera label (clinical-rules.md AE-2, §4.3) [V]",
            )
        )
    add(
        ScheduledEvent(
            EventKind.ANTIEMETIC,
            "Antiemetic",
            _elapsed(t0, -timedelta(minutes=60)),
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
            _elapsed(t0, timedelta(minutes=30)),
            cycle,
            "; ".join(c.agent for c in regimen.components) + ", infused over about 30 ± 10 min",
            regimen.source,
        )
    )
    add(
        ScheduledEvent(
            EventKind.OBSERVATION,
            "Observe for hypersensitivity",
            _elapsed(t0, timedelta(minutes=30)),
            _elapsed(t0, timedelta(minutes=150)),
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
            _elapsed(t0, timedelta(hours=4, minutes=30)),
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
            _elapsed(t0, timedelta(hours=4)),
            _elapsed(t0, timedelta(hours=24)),
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
                _elapsed(t0, timedelta(hours=hours)),
                _elapsed(t0, timedelta(hours=hours, minutes=30)),
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
        earliest_dt = _elapsed(patient.last_short_acting_ssa, timedelta(hours=24))
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
    when = _elapsed(last, timedelta(hours=4)) + timedelta(weeks=4)
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
