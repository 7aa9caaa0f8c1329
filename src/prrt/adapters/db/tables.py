"""SQLAlchemy 2 tables of the clinic's database.

Conventions
-----------
* Every editable record has an integer ``version`` (optimistic locking: an
  update names the version it read; a stale one is refused with nothing
  changed, :class:`prrt.adapters.db.repository.StaleVersionError`).
* Times are timezone-aware UTC (``DateTime(timezone=True)``); quantities are
  stored in canonical units with the unit in the column name (``activity_bq``,
  ``absorbed_dose_gy``, ``value_canonical`` + ``unit``).
* Identifying data (name, date of birth, hospital number) lives in
  ``patient_identities`` apart from the pseudonymous ``patients`` row, so that
  everything else can be exported or analysed without it.
* ``audit_events`` is append-only and hash-chained (:mod:`prrt.adapters.db.audit`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Administration",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Course",
    "Cycle",
    "Decision",
    "DosimetryResult",
    "EligibilityEvaluation",
    "ImagingFile",
    "ImagingStudy",
    "LabResult",
    "Lesion",
    "Patient",
    "PatientIdentity",
    "ResponseAssessment",
    "SignInSession",
    "Tumour",
    "User",
]


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class _Versioned:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(_Versioned, Base):
    """A local account (argon2 password hash, one role)."""

    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class ApiToken(Base):
    """A bearer token for the API (only its SHA-256 is stored)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    label: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class SignInSession(Base):
    """A sign-in session of the web pages (cookie holds the token; its SHA-256 is stored)."""

    __tablename__ = "sign_in_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Patient(_Versioned, Base):
    """Pseudonymous patient with the non-identifying facts the rules need."""

    __tablename__ = "patients"
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    sex: Mapped[str] = mapped_column(String(8), nullable=False)
    age_years: Mapped[int] = mapped_column(Integer, nullable=False)
    weight_kg: Mapped[float] = mapped_column(Float, nullable=False)
    height_cm: Mapped[float | None] = mapped_column(Float)
    karnofsky_percent: Mapped[int | None] = mapped_column(Integer)
    #: Further case fields (pregnancy, history, biomarkers...) in the case-JSON format.
    clinical: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


class PatientIdentity(_Versioned, Base):
    """Identifying fields, kept apart from the pseudonymous record."""

    __tablename__ = "patient_identities"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True, nullable=False)
    family_name: Mapped[str] = mapped_column(String(128), nullable=False)
    given_name: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    hospital_number: Mapped[str | None] = mapped_column(String(64))


class Tumour(_Versioned, Base):
    """Primary tumour and its pathology."""

    __tablename__ = "tumours"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), unique=True, nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class ImagingStudy(_Versioned, Base):
    """An SSTR or FDG imaging study and its findings."""

    __tablename__ = "imaging_studies"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # sstr | fdg_pet | ct | spect
    modality: Mapped[str | None] = mapped_column(String(16))
    tracer: Mapped[str | None] = mapped_column(String(64))
    study_date: Mapped[date] = mapped_column(Date, nullable=False)


class ImagingFile(Base):
    """A file of an imaging study (path and SHA-256, never the pixels)."""

    __tablename__ = "imaging_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(
        ForeignKey("imaging_studies.id"), nullable=False, index=True
    )
    path: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class Lesion(_Versioned, Base):
    """A lesion with its size and uptake scores."""

    __tablename__ = "lesions"
    __table_args__ = (UniqueConstraint("patient_id", "label"),)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    label: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class LabResult(_Versioned, Base):
    """One laboratory value in its canonical unit (and the unit it was entered in)."""

    __tablename__ = "lab_results"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    drawn_on: Mapped[date] = mapped_column(Date, nullable=False)
    for_cycle: Mapped[int | None] = mapped_column(Integer)
    analyte: Mapped[str] = mapped_column(String(32), nullable=False)
    value_canonical: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    entered_as: Mapped[str] = mapped_column(String(64), nullable=False)
    lln: Mapped[float | None] = mapped_column(Float)
    uln: Mapped[float | None] = mapped_column(Float)


class EligibilityEvaluation(Base):
    """An eligibility evaluation and its full report (rules, reasons, sources)."""

    __tablename__ = "eligibility_evaluations"
    # The latest of a patient (ORDER BY id DESC LIMIT 1) straight from the index.
    __table_args__ = (Index("ix_eligibility_evaluations_patient_id_id", "patient_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False)
    verdict: Mapped[str] = mapped_column(String(40), nullable=False)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Course(_Versioned, Base):
    """A treatment course: regimen, intent and its dated plan."""

    __tablename__ = "courses"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    regimen_id: Mapped[str] = mapped_column(String(40), nullable=False)
    intent: Mapped[str] = mapped_column(String(24), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    first_administration: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    renal_risk_factors: Mapped[bool | None] = mapped_column(Boolean)


class Cycle(_Versioned, Base):
    """A planned cycle of a course."""

    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("course_id", "number"),)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Administration(_Versioned, Base):
    """An administration actually given."""

    __tablename__ = "administrations"
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), unique=True, nullable=False)
    administered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    activity_bq: Mapped[float] = mapped_column(Float, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)


class DosimetryResult(_Versioned, Base):
    """A region's absorbed dose in one cycle (with its BED inputs)."""

    __tablename__ = "dosimetry_results"
    __table_args__ = (UniqueConstraint("cycle_id", "region"),)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), nullable=False)
    region: Mapped[str] = mapped_column(String(32), nullable=False)
    absorbed_dose_gy: Mapped[float] = mapped_column(Float, nullable=False)
    g_factor: Mapped[float | None] = mapped_column(Float)
    alpha_beta_gy: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(64), nullable=False)


class Decision(Base):
    """A next-cycle decision with its reasons (never edited; a new one supersedes it)."""

    __tablename__ = "decisions"
    # The latest of a course (max(id) per course_id) straight from the index.
    __table_args__ = (Index("ix_decisions_course_id_id", "course_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), nullable=False)
    cycle_number: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    activity_bq: Mapped[float | None] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class ResponseAssessment(_Versioned, Base):
    """RECIST 1.1 measurements of one time point and the result."""

    __tablename__ = "response_assessments"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), nullable=False, index=True)
    assessed_on: Mapped[date] = mapped_column(Date, nullable=False)
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    overall: Mapped[str | None] = mapped_column(String(8))


class AuditEvent(Base):
    """Append-only, hash-chained audit record (who, when, what, before/after)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # create|update|delete|view
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(40), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    previous_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
