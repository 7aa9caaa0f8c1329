"""The patient's case assembled from the database, eligibility evaluations and RECIST response.

:func:`build_case` writes the records in the case-JSON format of
``examples/cases`` so that the core's rules run on them unchanged.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select
from sqlalchemy.orm import Session

from prrt.adapters.db.audit import append_event
from prrt.adapters.db.engine import EncodedJson, begin_write
from prrt.adapters.db.patients import _date, lab_history, patient_row
from prrt.adapters.db.repository import get_or_404, reader, snapshot
from prrt.adapters.db.tables import (
    Administration,
    Course,
    Cycle,
    EligibilityEvaluation,
    ImagingStudy,
    Lesion,
    Patient,
    ResponseAssessment,
    Tumour,
)
from prrt.clinical.case import case_from_dict
from prrt.clinical.evaluate import evaluate_case

__all__ = [
    "StoredEvaluation",
    "build_case",
    "count_patients",
    "evaluate_eligibility",
    "record_response",
    "report_json_text",
    "response_of",
]


#: A patient as a mapped object or as a Core row of its columns (``patient_row``).
PatientRecord = Patient | Row[Any]


def _latest_labs(rows: Sequence[Row[Any]]) -> dict[str, Any]:
    latest: dict[str, Row[Any]] = {}
    for row in rows:
        latest[row.analyte] = row
    return {
        k: {
            "value": r.value_canonical,
            "unit": r.unit,
            **({"lln": r.lln} if r.lln else {}),
            **({"uln": r.uln} if r.uln else {}),
        }
        for k, r in latest.items()
    }


#: Read-only lookups of every evaluation and page view, built once (bound ``patient_id``).
TUMOUR_DATA = select(Tumour.data).where(Tumour.patient_id == bindparam("patient_id"))
LESION_DATA = (
    select(Lesion.data).where(Lesion.patient_id == bindparam("patient_id")).order_by(Lesion.id)
)
_STUDIES = (
    select(ImagingStudy.kind, ImagingStudy.modality, ImagingStudy.tracer, ImagingStudy.study_date)
    .where(ImagingStudy.patient_id == bindparam("patient_id"))
    .order_by(ImagingStudy.study_date)
)
_POINTS = (
    select(ResponseAssessment)
    .where(ResponseAssessment.patient_id == bindparam("patient_id"))
    .order_by(ResponseAssessment.assessed_on)
)


def build_case(
    session: Session, patient: PatientRecord, *, assessment_date: date | None = None
) -> dict[str, Any]:
    """The patient's case in the case-JSON format, from the database records."""
    clinical = dict(patient.clinical or {})
    of_patient = {"patient_id": patient.id}
    read = reader(session)  # Core reads, past the ORM's execution layer
    tumour = read.execute(TUMOUR_DATA, of_patient).scalar()
    lesions = read.execute(LESION_DATA, of_patient).scalars()
    studies = read.execute(_STUDIES, of_patient).all()
    imaging: dict[str, Any] = {"lesions": [dict(x) for x in lesions]}
    sstr = [s for s in studies if s.kind == "sstr"]
    fdg = [s for s in studies if s.kind == "fdg_pet"]
    if sstr:
        imaging["sstr"] = {
            "modality": sstr[-1].modality,
            "tracer": sstr[-1].tracer,
            "date": sstr[-1].study_date.isoformat(),
        }
    imaging["fdg_pet"] = (
        {"done": True, "date": fdg[-1].study_date.isoformat()} if fdg else {"done": False}
    )
    case: dict[str, Any] = {
        "schema_version": "1.0",
        "case_id": patient.pseudonym,
        "assessment_date": (assessment_date or date.today()).isoformat(),
        "patient": {
            "age_years": patient.age_years,
            "sex": patient.sex,
            "weight": f"{patient.weight_kg:g} kg",
            **(
                {"karnofsky_percent": patient.karnofsky_percent}
                if patient.karnofsky_percent is not None
                else {}
            ),
            **clinical.get("patient", {}),
        },
        "imaging": imaging,
        "labs": _latest_labs(lab_history(session, patient.id)),
    }
    if tumour is not None:
        case["tumour"] = dict(tumour)
    for key in ("history", "biomarkers"):
        if key in clinical:
            case[key] = clinical[key]
    return case


@dataclass(frozen=True, slots=True)
class StoredEvaluation:
    """An eligibility evaluation as stored.

    ``report`` is read-only (shared with the evaluation cache); ``report_json`` is the
    stored text (compact UTF-8 JSON, the form the API answers in), so that the report is
    encoded once for the database and the response.
    """

    id: int
    patient_id: int
    verdict: str
    report: Mapping[str, Any]
    report_json: str


_INSERT_EVALUATION = insert(EligibilityEvaluation)


def evaluate_eligibility(
    session: Session, *, actor: str, patient_id: int, assessment_date: date | None = None
) -> StoredEvaluation:
    """Run the eligibility rules on the patient's records and store the report (and its event)."""
    patient = patient_row(session, patient_id)
    report, report_json = _evaluate_cached(
        build_case(session, patient, assessment_date=assessment_date)
    )
    verdict = str(report["verdict"])
    begin_write(session)  # a Core INSERT: no flush takes the write lock for it
    inserted = session.connection().execute(
        _INSERT_EVALUATION,
        {
            "patient_id": patient_id,
            "verdict": verdict,
            "report": EncodedJson(report_json),
            "created_by": actor,
        },
    )
    key = inserted.inserted_primary_key
    assert key is not None  # an INSERT of one row always has its key
    evaluation_id = int(key[0])
    append_event(
        session,
        username=actor,
        action="create",
        entity="eligibility_evaluation",
        entity_id=evaluation_id,
        after={"verdict": verdict},
    )
    return StoredEvaluation(evaluation_id, patient_id, verdict, report, report_json)


def record_response(
    session: Session,
    *,
    actor: str,
    patient_id: int,
    assessed_on: Any,
    measurements: Mapping[str, Any],
) -> ResponseAssessment:
    """A RECIST time point (``targets``/``non_targets``/``new_lesions``); the result is recomputed over all."""
    patient = get_or_404(session, Patient, patient_id)
    when = _date(assessed_on, "assessed_on")
    row = ResponseAssessment(
        patient_id=patient_id, assessed_on=when, measurements=dict(measurements)
    )
    session.add(row)
    session.flush()
    recist = response_of(session, patient)
    if recist is not None:
        for tp in recist["time_points"]:
            if tp["assessment_date"] == when.isoformat():
                row.overall = tp["overall"]
    append_event(
        session,
        username=actor,
        action="create",
        entity="response_assessment",
        entity_id=row.id,
        after=snapshot(row),
    )
    return row


def _first_administration(session: Session, patient_id: int) -> str | None:
    """Date of the patient's first PRRT (the RECIST treatment start), if any."""
    first = session.execute(
        select(func.min(Administration.administered_at))
        .join(Cycle, Administration.cycle_id == Cycle.id)
        .join(Course, Cycle.course_id == Course.id)
        .where(Course.patient_id == patient_id)
    ).scalar()
    if first is None:
        return None
    moment = first if first.tzinfo is not None else first.replace(tzinfo=UTC)
    return str(moment.date().isoformat())


def response_of(
    session: Session, patient: PatientRecord, *, lesions: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any] | None:
    """RECIST 1.1 over every recorded time point against the baseline target lesions.

    ``lesions``: the patient's lesion records when the caller has them already.  The result
    is a function of the response section of the case and the date of the last
    administration alone (:mod:`prrt.clinical.evaluate_recist`), so it is kept for those
    inputs: a page view re-evaluates only when a measurement, lesion or cycle changed.
    """
    points = list(session.execute(_POINTS, {"patient_id": patient.id}).scalars())
    if not points:
        return None
    if lesions is None:
        lesions = [
            x.data
            for x in session.execute(
                select(Lesion).where(Lesion.patient_id == patient.id)
            ).scalars()
        ]
    targets = [x for x in lesions if x.get("target") and x.get("size")]
    start = (patient.clinical or {}).get("treatment_start") or _first_administration(
        session, patient.id
    )
    if not targets or not start:
        return None
    section = {
        "treatment_start": start,
        "baseline_lesions": [
            {"id": t["id"], "organ": t.get("site") or "unknown", "longest_diameter": t["size"]}
            for t in targets
        ],
        "time_points": [{"date": p.assessed_on.isoformat(), **p.measurements} for p in points],
    }
    last_given = session.execute(
        select(func.max(Administration.administered_at))
        .join(Cycle, Administration.cycle_id == Cycle.id)
        .join(Course, Cycle.course_id == Course.id)
        .where(Course.patient_id == patient.id)
    ).scalar()
    key = json.dumps([section, str(last_given)], sort_keys=True, default=str)
    with _RECIST_LOCK:
        if key in _RECIST_CACHE:
            _RECIST_CACHE.move_to_end(key)
            cached: dict[str, Any] | None = json.loads(_RECIST_CACHE[key])
            return cached
    case = build_case(session, patient, assessment_date=max(p.assessed_on for p in points))
    case["response"] = section
    text = json.dumps(_evaluate_cached(case)[0]["recist"])
    with _RECIST_LOCK:
        _RECIST_CACHE[key] = text
        while len(_RECIST_CACHE) > _RECIST_CACHE_SIZE:
            _RECIST_CACHE.popitem(last=False)
    result: dict[str, Any] | None = json.loads(text)  # the caller's own copy
    return result


def report_json_text(report: Mapping[str, Any]) -> str:
    """A report as compact UTF-8 JSON, NaN refused (as the API answers: byte-identical)."""
    return json.dumps(report, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _evaluate_cached(case: dict[str, Any]) -> tuple[Mapping[str, Any], str]:
    """``evaluate_case(case).to_dict()`` and its JSON text, kept for the last cases seen.

    The evaluation is a pure function of the case (its assessment date included), so an
    unchanged record evaluated again gets the same report without running the rules
    again.  The report is shared between the callers of one case: read it, never change it.
    """
    key = json.dumps(case, sort_keys=True, default=str)
    with _RECIST_LOCK:
        if key in _REPORT_CACHE:
            _REPORT_CACHE.move_to_end(key)
            return _REPORT_CACHE[key]
    report = evaluate_case(case_from_dict(case)).to_dict()
    entry = (report, report_json_text(report))
    with _RECIST_LOCK:
        _REPORT_CACHE[key] = entry
        while len(_REPORT_CACHE) > _RECIST_CACHE_SIZE:
            _REPORT_CACHE.popitem(last=False)
    return entry


#: case JSON -> (report, its JSON text)
_REPORT_CACHE: OrderedDict[str, tuple[Mapping[str, Any], str]] = OrderedDict()
_RECIST_CACHE: OrderedDict[str, str] = OrderedDict()  # inputs -> RECIST JSON
_RECIST_CACHE_SIZE = 512
_RECIST_LOCK = threading.Lock()


def count_patients(session: Session) -> int:
    """Number of patients (for the dashboard)."""
    return int(session.execute(select(func.count(Patient.id))).scalar_one())
