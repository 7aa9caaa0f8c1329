"""Courses: plan, administrations, dosimetry results and next-cycle decisions.

The decision is computed by the core (:class:`prrt.planning.course_record.CourseRecord`)
from the records in the database: administrations, the labs tagged with the
cycle they are meant for, the organ doses and the clinician's toxicity grades.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from prrt.adapters.db.audit import append_event
from prrt.adapters.db.patients import lab_history
from prrt.adapters.db.repository import NotFoundError, get_or_404, snapshot
from prrt.adapters.db.tables import (
    Administration,
    Course,
    Cycle,
    Decision,
    DosimetryResult,
    Patient,
)
from prrt.clinical.labs import Analyte, from_canonical_lab
from prrt.errors import InvalidInputError
from prrt.planning import Intent, PatientFactors, get_regimen, plan_course
from prrt.planning.course_record import CourseRecord, parse_organ_dose
from prrt.units import Dimension, parse_quantity, parse_timestamp

_REGION_LENGTH = 32  # DosimetryResult.region is String(32)

__all__ = [
    "course_record_document",
    "cycles_of",
    "decide",
    "plan_patient_course",
    "record_administration",
    "record_dosimetry",
]


def plan_patient_course(
    session: Session,
    *,
    actor: str,
    patient_id: int,
    regimen_id: str,
    first_administration: str,
    intent: str | None = None,
    renal_risk_factors: bool | None = None,
    peritoneal_or_mesenteric_disease: bool | None = None,
) -> Course:
    """A dated course for the patient (cycles stored with their planned times)."""
    patient = get_or_404(session, Patient, patient_id)
    regimen = get_regimen(regimen_id)
    first = _timestamp(first_administration, "first_administration")
    the_intent = None
    if intent is not None:
        try:
            the_intent = Intent(intent)
        except ValueError as err:
            raise InvalidInputError(
                "intent", intent, "one of " + ", ".join(i.value for i in Intent)
            ) from err
    factors = PatientFactors(
        weight_kg=patient.weight_kg,
        height_cm=patient.height_cm,
        peritoneal_or_mesenteric_disease=peritoneal_or_mesenteric_disease,
    )
    try:
        plan = plan_course(regimen, first, factors, intent=the_intent)
    except OverflowError as err:  # a plan that runs past the year 9999
        raise InvalidInputError(
            "first_administration", first_administration, "a date whose plan ends before 9999"
        ) from err
    course = Course(
        patient_id=patient_id,
        regimen_id=regimen.id,
        intent=plan.intent.value,
        first_administration=first,
        plan=plan.to_dict(),
        renal_risk_factors=renal_risk_factors,
    )
    session.add(course)
    session.flush()
    for cycle in plan.cycles:
        session.add(
            Cycle(course_id=course.id, number=cycle.cycle_number, planned_at=cycle.prrt_start)
        )
    session.flush()
    append_event(
        session,
        username=actor,
        action="create",
        entity="course",
        entity_id=course.id,
        after=snapshot(course),
    )
    return course


def _timestamp(text: str, field: str) -> datetime:
    """A timezone-aware moment; one that cannot be represented in UTC is invalid input."""
    try:
        return parse_timestamp(text, field=field)
    except OverflowError as err:
        raise InvalidInputError(
            field, text, "a date and time with UTC offset in years 1–9999"
        ) from err


def cycles_of(session: Session, course_id: int) -> list[Cycle]:
    """The course's cycles in order."""
    return list(
        session.execute(
            select(Cycle).where(Cycle.course_id == course_id).order_by(Cycle.number)
        ).scalars()
    )


def _cycle(session: Session, course_id: int, number: int) -> Cycle:
    row = session.execute(
        select(Cycle).where(Cycle.course_id == course_id, Cycle.number == number)
    ).scalar()
    if row is None:
        raise NotFoundError("cycle", f"{course_id}/{number}")
    return row


def administrations_of(session: Session, course_id: int) -> list[tuple[Cycle, Administration]]:
    """(cycle, administration) pairs of the cycles given."""
    rows = session.execute(
        select(Cycle, Administration)
        .join(Administration, Administration.cycle_id == Cycle.id)
        .where(Cycle.course_id == course_id)
        .order_by(Cycle.number)
    ).all()
    return [(c, a) for c, a in rows]


def record_administration(
    session: Session,
    *,
    actor: str,
    course_id: int,
    cycle_number: int,
    administered_at: str,
    activity: str,
) -> Administration:
    """Record the activity given in a cycle (in order; within the regimen's maximum)."""
    course = get_or_404(session, Course, course_id)
    patient = get_or_404(session, Patient, course.patient_id)
    regimen = get_regimen(course.regimen_id)
    given = administrations_of(session, course_id)
    if cycle_number != len(given) + 1:
        raise InvalidInputError(
            "cycle_number", cycle_number, f"{len(given) + 1} (the next cycle of the course)"
        )
    cycle = (
        _cycle(session, course_id, cycle_number)
        if cycle_number <= len(cycles_of(session, course_id))
        else None
    )
    if cycle is None:
        raise InvalidInputError(
            "cycle_number",
            cycle_number,
            f"a planned cycle (1–{len(cycles_of(session, course_id))})",
        )
    when = _timestamp(administered_at, "administered_at")
    if given and when <= _aware(given[-1][1].administered_at):
        raise InvalidInputError(
            "administered_at",
            when.isoformat(),
            f"a time after cycle {len(given)} ({_aware(given[-1][1].administered_at).isoformat()})",
        )
    activity_bq = parse_quantity(activity, Dimension.ACTIVITY, field="activity", positive=True)
    regimen.check_activity(
        regimen.nuclides[0], activity_bq, field_name="activity", weight_kg=patient.weight_kg
    )
    row = Administration(
        cycle_id=cycle.id, administered_at=when, activity_bq=activity_bq, recorded_by=actor
    )
    session.add(row)
    course.status = "in_progress"
    session.flush()
    append_event(
        session,
        username=actor,
        action="create",
        entity="administration",
        entity_id=row.id,
        after=snapshot(row),
    )
    return row


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def record_dosimetry(
    session: Session,
    *,
    actor: str,
    course_id: int,
    cycle_number: int,
    regions: Mapping[str, Any],
    method: str = "uploaded",
) -> list[DosimetryResult]:
    """Organ doses of a cycle given (``{"kidneys": "4.1 Gy"}`` or with kinetics for the BED)."""
    get_or_404(session, Course, course_id)
    cycle = _cycle(session, course_id, cycle_number)
    if (
        session.execute(select(Administration).where(Administration.cycle_id == cycle.id)).scalar()
        is None
    ):
        raise InvalidInputError(
            "cycle_number", cycle_number, "a cycle that was given (record the administration first)"
        )
    rows = []
    for name, value in regions.items():
        if len(name) > _REGION_LENGTH:  # the column's length (PostgreSQL would refuse it)
            raise InvalidInputError(
                "regions", name, f"a region name of at most {_REGION_LENGTH} characters"
            )
        organ = parse_organ_dose(name, value, f"regions.{name}")
        existing = session.execute(
            select(DosimetryResult).where(
                DosimetryResult.cycle_id == cycle.id, DosimetryResult.region == name
            )
        ).scalar()
        if existing is not None:
            raise InvalidInputError(
                f"regions.{name}", value, "a region without a dose for this cycle yet"
            )
        row = DosimetryResult(
            cycle_id=cycle.id,
            region=name,
            absorbed_dose_gy=organ.absorbed_dose_gy,
            g_factor=organ.g_factor,
            alpha_beta_gy=organ.alpha_beta_gy,
            method=method[:64],
        )
        session.add(row)
        rows.append(row)
    session.flush()
    for row in rows:
        append_event(
            session,
            username=actor,
            action="create",
            entity="dosimetry_result",
            entity_id=row.id,
            after=snapshot(row),
        )
    return rows


def _lab_text(analyte: str, value: float, unit: str) -> str:
    return f"{from_canonical_lab(Analyte(analyte), value, unit):.6g} {unit}"


def course_record_document(
    session: Session,
    course: Course,
    *,
    toxicities: Sequence[Mapping[str, Any]] = (),
    pregnant: bool | None = None,
    mds_or_aml: bool | None = None,
) -> dict[str, Any]:
    """The course in the JSON format of :class:`CourseRecord` (and ``prrt course next``)."""
    patient = get_or_404(session, Patient, course.patient_id)
    given = administrations_of(session, course.id)
    first_time = (
        _aware(given[0][1].administered_at).date()
        if given
        else _aware(course.first_administration).date()
    )
    labs = lab_history(session, patient.id)
    baseline: dict[str, str] = {}
    draws: dict[tuple[date, int], dict[str, str]] = {}
    panel_analytes = {a.value for a in Analyte}
    for row in labs:
        if row.analyte not in panel_analytes:  # e.g. fasting glucose: a selection rule only
            continue
        text = _lab_text(row.analyte, row.value_canonical, row.unit)
        uln_key = (
            f"{row.analyte}_uln" if row.uln and row.analyte in ("bilirubin", "ast", "alt") else None
        )
        if row.drawn_on <= first_time and row.for_cycle in (None, 1):
            baseline[row.analyte] = text
            if uln_key and row.uln:
                baseline[uln_key] = _lab_text(row.analyte, row.uln, row.unit)
        if row.for_cycle is not None:
            panel = draws.setdefault((row.drawn_on, row.for_cycle), {})
            panel[row.analyte] = text
            if uln_key and row.uln:
                panel[uln_key] = _lab_text(row.analyte, row.uln, row.unit)
    doses: dict[int, dict[str, Any]] = {}
    for cycle, _admin in given:
        for d in session.execute(
            select(DosimetryResult).where(DosimetryResult.cycle_id == cycle.id)
        ).scalars():
            entry: Any = f"{d.absorbed_dose_gy:.6g} Gy"
            if d.g_factor is not None and d.alpha_beta_gy is not None:
                entry = {
                    "absorbed_dose": entry,
                    "g_factor": d.g_factor,
                    "alpha_beta": f"{d.alpha_beta_gy:g} Gy",
                }
            doses.setdefault(cycle.number, {})[d.region] = entry
    if mds_or_aml is None and isinstance((patient.clinical or {}).get("mds_or_aml"), bool):
        mds_or_aml = patient.clinical["mds_or_aml"]
    clinical_patient = (patient.clinical or {}).get("patient", {})
    pregnancy = clinical_patient.get("pregnancy")
    if pregnant is None and pregnancy in ("no", "not_applicable"):
        pregnant = False
    return {
        "regimen": course.regimen_id,
        "patient": {
            "sex": patient.sex,
            "age_years": patient.age_years,
            "weight": f"{patient.weight_kg:g} kg",
        },
        "baseline_labs": baseline,
        "administrations": [
            {
                "cycle": c.number,
                "time": _aware(a.administered_at).isoformat(),
                "activity": f"{a.activity_bq / 1e9:.6g} GBq",
            }
            for c, a in given
        ],
        "lab_draws": [
            {"date": d.isoformat(), "for_cycle": n, "labs": panel}
            for (d, n), panel in sorted(draws.items())
        ],
        "toxicities": [dict(t) for t in toxicities],
        "organ_doses": [{"cycle": n, "regions": r} for n, r in sorted(doses.items())],
        "renal_risk_factors": course.renal_risk_factors,
        "pregnant": pregnant,
        "mds_or_aml": mds_or_aml,
    }


def decide(
    session: Session,
    *,
    actor: str,
    course_id: int,
    assessment_date: Any = None,
    toxicities: Sequence[Mapping[str, Any]] = (),
    pregnant: bool | None = None,
    mds_or_aml: bool | None = None,
) -> Decision:
    """Decide the next cycle from the records and store the decision with its reasons."""
    course = get_or_404(session, Course, course_id)
    doc = course_record_document(
        session, course, toxicities=toxicities, pregnant=pregnant, mds_or_aml=mds_or_aml
    )
    on = None
    if assessment_date is not None:
        try:
            on = date.fromisoformat(str(assessment_date))
        except ValueError as err:
            raise InvalidInputError(
                "assessment_date", assessment_date, "a date YYYY-MM-DD"
            ) from err
    result = CourseRecord.from_dict(doc).decide(assessment_date=on)
    row = Decision(
        course_id=course_id,
        cycle_number=result.cycle_number,
        action=result.action.value,
        activity_bq=result.activity_bq,
        result={**result.to_dict(), "course_record": doc},
        created_by=actor,
    )
    session.add(row)
    if result.action.value in ("stop", "course_complete"):
        course.status = result.action.value
    session.flush()
    append_event(
        session,
        username=actor,
        action="create",
        entity="decision",
        entity_id=row.id,
        after={
            "action": row.action,
            "activity_bq": row.activity_bq,
            "cycle_number": row.cycle_number,
        },
    )
    return row
