"""Patients, their tumour, imaging findings, labs, eligibility and response.

Clinical content is validated by the core's own case model
(:func:`prrt.clinical.case.case_from_dict`) before it is stored, so the database
never holds a value the rules would refuse; errors name the field
(``tumour.ki67_percent``, ``labs.platelets``) as the case format does.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, or_, select
from sqlalchemy.orm import Session

from prrt.adapters.db.audit import append_event, record_view
from prrt.adapters.db.repository import (
    NotFoundError,
    bump,
    check_version,
    get_or_404,
    reader,
    snapshot,
)
from prrt.adapters.db.tables import (
    ImagingStudy,
    LabResult,
    Lesion,
    Patient,
    PatientIdentity,
    Tumour,
)
from prrt.clinical.case import case_from_dict
from prrt.clinical.labs import CANONICAL_LAB_UNIT, Analyte, parse_lab
from prrt.errors import InvalidInputError
from prrt.units import Dimension, parse_quantity

__all__ = [
    "PATIENT_FIELDS",
    "create_patient",
    "get_patient",
    "lab_history",
    "list_patients",
    "patient_row",
    "read_patient",
    "record_imaging",
    "record_labs",
    "set_tumour",
    "update_patient",
]

PATIENT_FIELDS = ("sex", "age_years", "weight", "height", "karnofsky_percent", "clinical")
_MINIMAL_PATIENT = {"age_years": 60, "sex": "female"}


def _validate_case_part(part: Mapping[str, Any]) -> Any:
    """Validate a piece of a case with the core's model (errors name the case field)."""
    return case_from_dict(
        {
            "schema_version": "1.0",
            "case_id": "validation",
            "assessment_date": date.today().isoformat(),
            "patient": _MINIMAL_PATIENT,
            **part,
        }
    )


def _patient_values(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    unknown = sorted(set(data) - set(PATIENT_FIELDS) - {"identity", "pseudonym", "version"})
    if unknown:
        raise InvalidInputError(unknown[0], data[unknown[0]], "one of " + ", ".join(PATIENT_FIELDS))
    for key in ("sex", "age_years"):
        if key not in data and not partial:
            raise InvalidInputError(key, None, "a value (required)")
    clinical = data.get("clinical") or {}
    if not isinstance(clinical, Mapping):
        raise InvalidInputError("clinical", clinical, "an object in the case-JSON format")
    extra = clinical.get("patient", {})
    if not isinstance(extra, Mapping):
        raise InvalidInputError("clinical.patient", extra, "an object of case-JSON patient fields")
    probe = {
        "sex": data.get("sex", "female"),
        "age_years": data.get("age_years", 60),
        **({"karnofsky_percent": data["karnofsky_percent"]} if "karnofsky_percent" in data else {}),
        **extra,
    }
    _validate_case_part({"patient": probe})
    for key in ("sex", "age_years", "karnofsky_percent"):
        if key in data:
            out[key] = data[key]
    if "weight" in data or not partial:
        weight_kg = parse_quantity(
            str(data.get("weight")), Dimension.MASS, field="weight", positive=True
        )
        if not 2.0 <= weight_kg <= 400.0:
            raise InvalidInputError("weight", data.get("weight"), "a weight between 2 and 400 kg")
        out["weight_kg"] = weight_kg
    if data.get("height") is not None:
        height_cm = (
            parse_quantity(str(data["height"]), Dimension.LENGTH, field="height", positive=True)
            / 10.0
        )
        if not 40.0 <= height_cm <= 250.0:
            raise InvalidInputError("height", data["height"], "a height between 40 and 250 cm")
        out["height_cm"] = height_cm
    if "clinical" in data:
        if not isinstance(data["clinical"], Mapping):
            raise InvalidInputError(
                "clinical", data["clinical"], "an object in the case-JSON format"
            )
        out["clinical"] = dict(data["clinical"])
    return out


def create_patient(session: Session, *, actor: str, data: Mapping[str, Any]) -> Patient:
    """A new patient (pseudonym generated when not given) and its identity record."""
    values = _patient_values(data, partial=False)
    pseudonym = str(data.get("pseudonym") or f"P-{secrets.token_hex(4).upper()}")
    if session.execute(select(Patient).where(Patient.pseudonym == pseudonym)).scalar():
        raise InvalidInputError("pseudonym", pseudonym, "a pseudonym that is not taken")
    patient = Patient(pseudonym=pseudonym, clinical=values.pop("clinical", {}), **values)
    session.add(patient)
    session.flush()
    append_event(
        session,
        username=actor,
        action="create",
        entity="patient",
        entity_id=patient.id,
        after=snapshot(patient),
    )
    ident = data.get("identity")
    if ident:
        if not isinstance(ident, Mapping) or not ident.get("family_name"):
            raise InvalidInputError(
                "identity.family_name", None, "a family name (required with identity)"
            )
        birth = ident.get("birth_date")
        row = PatientIdentity(
            patient_id=patient.id,
            family_name=str(ident["family_name"])[:128],
            given_name=str(ident.get("given_name") or "")[:128],
            birth_date=_date(birth, "identity.birth_date") if birth else None,
            hospital_number=(
                str(ident["hospital_number"])[:64] if ident.get("hospital_number") else None
            ),
        )
        session.add(row)
        session.flush()
        append_event(
            session,
            username=actor,
            action="create",
            entity="patient_identity",
            entity_id=row.id,
            after=snapshot(row),
        )
    return patient


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise InvalidInputError(field, value, "a date YYYY-MM-DD") from err


def update_patient(
    session: Session, *, actor: str, patient_id: int, version: int, data: Mapping[str, Any]
) -> Patient:
    """Change patient fields; refused with nothing changed when ``version`` is stale."""
    patient = get_or_404(session, Patient, patient_id)
    check_version(patient, version, "patient")
    values = _patient_values(data, partial=True)
    before = snapshot(patient)
    for key, value in values.items():
        setattr(patient, key, value)
    bump(patient)
    session.flush()
    append_event(
        session,
        username=actor,
        action="update",
        entity="patient",
        entity_id=patient.id,
        before=before,
        after=snapshot(patient),
    )
    return patient


def list_patients(
    session: Session,
    *,
    actor: str,
    search: str = "",
    limit: int = 100,
    search_identity: bool = True,
) -> list[Patient]:
    """Patients whose pseudonym (or family name / hospital number when allowed) matches ``search``."""
    query = select(Patient).order_by(Patient.pseudonym).limit(max(1, min(limit, 500)))
    if search:
        like = f"%{search.strip()}%"
        if search_identity:
            idents = select(PatientIdentity.patient_id).where(
                or_(
                    PatientIdentity.family_name.ilike(like),
                    PatientIdentity.hospital_number.ilike(like),
                )
            )
            query = query.where(or_(Patient.pseudonym.ilike(like), Patient.id.in_(idents)))
        else:
            query = query.where(Patient.pseudonym.ilike(like))
    rows = list(session.execute(query).scalars())
    record_view(
        session,
        username=actor,
        entity="patient_list",
        entity_id="search",
        after={"count": len(rows)},
    )
    return rows


def get_patient(session: Session, *, actor: str, patient_id: int) -> Patient:
    """One patient; the view is audited."""
    patient = get_or_404(session, Patient, patient_id)
    record_view(session, username=actor, entity="patient", entity_id=patient.id)
    return patient


_PATIENT_ROW = select(Patient.__table__).where(Patient.id == bindparam("patient_id"))


def patient_row(session: Session, patient_id: int) -> Row[Any]:
    """The patient's columns as a read-only Core row, or :class:`NotFoundError`.

    For the reads of a page view or an evaluation: the same columns as :class:`Patient`
    by attribute, without building a mapped object (a sixth of an evaluation's time).
    """
    row = reader(session).execute(_PATIENT_ROW, {"patient_id": patient_id}).first()
    if row is None:
        raise NotFoundError(Patient.__tablename__, patient_id)
    return row


def read_patient(session: Session, *, actor: str, patient_id: int) -> Row[Any]:
    """:func:`patient_row`; the view is audited (as :func:`get_patient`)."""
    row = patient_row(session, patient_id)
    record_view(session, username=actor, entity="patient", entity_id=row.id)
    return row


def set_tumour(
    session: Session,
    *,
    actor: str,
    patient_id: int,
    data: Mapping[str, Any],
    version: int | None = None,
) -> Tumour:
    """Create or replace the tumour record (``version`` required to replace)."""
    get_or_404(session, Patient, patient_id)
    _validate_case_part({"tumour": dict(data)})
    row = session.execute(select(Tumour).where(Tumour.patient_id == patient_id)).scalar()
    if row is None:
        row = Tumour(patient_id=patient_id, data=dict(data))
        session.add(row)
        session.flush()
        append_event(
            session,
            username=actor,
            action="create",
            entity="tumour",
            entity_id=row.id,
            after=snapshot(row),
        )
        return row
    if version is None:
        raise InvalidInputError(
            "version", None, f"the version of the tumour record ({row.version}) to replace it"
        )
    check_version(row, version, "tumour")
    before = snapshot(row)
    row.data = dict(data)
    bump(row)
    session.flush()
    append_event(
        session,
        username=actor,
        action="update",
        entity="tumour",
        entity_id=row.id,
        before=before,
        after=snapshot(row),
    )
    return row


def record_imaging(
    session: Session,
    *,
    actor: str,
    patient_id: int,
    kind: str,
    study_date: Any,
    modality: str | None = None,
    tracer: str | None = None,
    lesions: Sequence[Mapping[str, Any]] = (),
) -> ImagingStudy:
    """An SSTR or FDG study and its lesion readings (lesions with the same id are updated)."""
    get_or_404(session, Patient, patient_id)
    if kind not in ("sstr", "fdg_pet"):
        raise InvalidInputError("kind", kind, "'sstr' or 'fdg_pet'")
    when = _date(study_date, "study_date")
    imaging: dict[str, Any] = {"lesions": [dict(x) for x in lesions]}
    if kind == "sstr":
        imaging["sstr"] = {"modality": modality, "tracer": tracer, "date": when.isoformat()}
    else:
        imaging["fdg_pet"] = {"done": True, "date": when.isoformat()}
    _validate_case_part({"imaging": imaging})
    study = ImagingStudy(
        patient_id=patient_id, kind=kind, modality=modality, tracer=tracer, study_date=when
    )
    session.add(study)
    session.flush()
    append_event(
        session,
        username=actor,
        action="create",
        entity="imaging_study",
        entity_id=study.id,
        after=snapshot(study),
    )
    for lesion in lesions:
        label = str(lesion["id"])
        row = session.execute(
            select(Lesion).where(Lesion.patient_id == patient_id, Lesion.label == label)
        ).scalar()
        if row is None:
            row = Lesion(patient_id=patient_id, label=label, data=dict(lesion))
            session.add(row)
            session.flush()
            append_event(
                session,
                username=actor,
                action="create",
                entity="lesion",
                entity_id=row.id,
                after=snapshot(row),
            )
        else:
            before = snapshot(row)
            row.data = {**row.data, **dict(lesion)}
            bump(row)
            session.flush()
            append_event(
                session,
                username=actor,
                action="update",
                entity="lesion",
                entity_id=row.id,
                before=before,
                after=snapshot(row),
            )
    return study


def record_labs(
    session: Session,
    *,
    actor: str,
    patient_id: int,
    drawn_on: Any,
    values: Mapping[str, Any],
    for_cycle: int | None = None,
    limits: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[LabResult]:
    """Lab values entered with explicit units (``{"platelets": "68 10^9/L"}``), stored canonically.

    ``limits`` gives the laboratory's reference limits in the same form
    (``{"platelets": {"lln": "150 10^9/L"}}``).  All values are checked before
    any is stored: one bad value (unknown unit, implausible number) stores none.
    """
    get_or_404(session, Patient, patient_id)
    day = _date(drawn_on, "drawn_on")
    if day > date.today():
        raise InvalidInputError("drawn_on", day.isoformat(), "a date that is not in the future")
    if for_cycle is not None and (
        isinstance(for_cycle, bool) or not isinstance(for_cycle, int) or not 1 <= for_cycle <= 20
    ):
        raise InvalidInputError("for_cycle", for_cycle, "a cycle number 1–20")
    if not values:
        raise InvalidInputError(
            "values", values, "at least one lab value such as {'platelets': '210 10^9/L'}"
        )
    parsed: list[tuple[str, float, str, float | None, float | None]] = []
    for key, text in values.items():
        if key == GLUCOSE:
            parsed.append(_glucose(text, (limits or {}).get(key, {})))
            continue
        try:
            analyte = Analyte(key)
        except ValueError as err:
            raise InvalidInputError(
                f"values.{key}", text, "one of " + ", ".join(a.value for a in Analyte)
            ) from err
        value = parse_lab(analyte, str(text), field=f"values.{key}")
        lims = (limits or {}).get(key, {})
        lln = (
            parse_lab(analyte, str(lims["lln"]), field=f"limits.{key}.lln")
            if lims.get("lln")
            else None
        )
        uln = (
            parse_lab(analyte, str(lims["uln"]), field=f"limits.{key}.uln")
            if lims.get("uln")
            else None
        )
        parsed.append((key, value, str(text), lln, uln))
    rows = []
    for key, value, text, lln, uln in parsed:
        row = LabResult(
            patient_id=patient_id,
            drawn_on=day,
            for_cycle=for_cycle,
            analyte=key,
            value_canonical=value,
            unit=GLUCOSE_UNIT if key == GLUCOSE else CANONICAL_LAB_UNIT[Analyte(key)],
            entered_as=text[:64],
            lln=lln,
            uln=uln,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    for row in rows:
        append_event(
            session,
            username=actor,
            action="create",
            entity="lab_result",
            entity_id=row.id,
            after=snapshot(row),
        )
    return rows


GLUCOSE = "fasting_glucose"
GLUCOSE_UNIT = "mmol/L"
#: mg/dL per mmol/L of glucose (molar mass 180.16 g/mol).
_GLUCOSE_MG_PER_DL_PER_MMOL_PER_L = 18.016


def _glucose_mmol(text: Any, field: str) -> float:
    parts = str(text).split()
    try:
        value, unit = float(parts[0]), parts[1]
    except (IndexError, ValueError) as err:
        raise InvalidInputError(
            field, text, "a glucose such as '5.4 mmol/L' or '97 mg/dL'"
        ) from err
    if len(parts) != 2 or unit not in ("mmol/L", "mg/dL"):
        raise InvalidInputError(field, text, "a glucose in mmol/L or mg/dL, e.g. '5.4 mmol/L'")
    mmol = value if unit == "mmol/L" else value / _GLUCOSE_MG_PER_DL_PER_MMOL_PER_L
    if not 0.5 <= mmol <= 60.0:
        raise InvalidInputError(field, text, "a plausible glucose (0.5–60 mmol/L)")
    return mmol


def _glucose(
    text: Any, limits: Mapping[str, Any]
) -> tuple[str, float, str, float | None, float | None]:
    """Fasting glucose (mmol/L canonical) with the laboratory's ULN, which the rule needs."""
    value = _glucose_mmol(text, f"values.{GLUCOSE}")
    if not limits.get("uln"):
        raise InvalidInputError(
            f"limits.{GLUCOSE}.uln", None, "the laboratory's ULN, e.g. '6.1 mmol/L'"
        )
    return GLUCOSE, value, str(text), None, _glucose_mmol(limits["uln"], f"limits.{GLUCOSE}.uln")


def lab_history(session: Session, patient_id: int) -> list[Row[Any]]:
    """Every lab value of a patient, oldest first, as read-only rows of ``lab_results``.

    Rows (attribute access like the mapped :class:`LabResult`) instead of mapped objects:
    a page and an eligibility evaluation read every value and change none, and building
    fifty mapped objects costs three times the query.
    """
    return list(reader(session).execute(_LAB_HISTORY, {"patient_id": patient_id}).all())


_labs = LabResult.__table__.c
_LAB_HISTORY = (
    select(LabResult.__table__)
    .where(_labs.patient_id == bindparam("patient_id"))
    .order_by(_labs.drawn_on, _labs.id)
)
