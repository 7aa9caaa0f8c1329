"""Request and response bodies of the API.  Quantities travel as text with their unit ("7.4 GBq")."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AdministrationIn",
    "CourseIn",
    "DecisionIn",
    "DosimetryIn",
    "ImagingIn",
    "LabsIn",
    "PatientIn",
    "PatientUpdate",
    "ResponseIn",
    "SearchIn",
    "SignIn",
    "TumourIn",
    "UserIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(_In):
    """User name and password."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserIn(_In):
    """A new account."""

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=256)
    role: str


class IdentityIn(_In):
    """Identifying fields (stored apart from the pseudonymous record)."""

    family_name: str = Field(min_length=1, max_length=128)
    given_name: str = Field("", max_length=128)
    birth_date: date | None = None
    hospital_number: str | None = Field(None, max_length=64)


class PatientIn(_In):
    """A new patient: sex, age, weight with unit; clinical fields in the case-JSON format."""

    sex: str = Field(examples=["female"])
    age_years: int = Field(ge=0, le=130)
    weight: str = Field(examples=["68 kg"], max_length=32)
    height: str | None = Field(None, examples=["165 cm"], max_length=32)
    karnofsky_percent: int | None = Field(None, ge=0, le=100)
    pseudonym: str | None = Field(None, min_length=3, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")
    clinical: dict[str, Any] = Field(default_factory=dict)
    identity: IdentityIn | None = None


class PatientUpdate(_In):
    """Changes to a patient, with the version they were read at."""

    version: int = Field(ge=1)
    sex: str | None = None
    age_years: int | None = Field(None, ge=0, le=130)
    weight: str | None = Field(None, max_length=32)
    height: str | None = Field(None, max_length=32)
    karnofsky_percent: int | None = Field(None, ge=0, le=100)
    clinical: dict[str, Any] | None = None


class SearchIn(_In):
    """Patient search (in the body, so names never appear in URLs or logs)."""

    q: str = Field("", max_length=64)


class TumourIn(_In):
    """Tumour record (case-JSON ``tumour``); ``version`` to replace an existing one."""

    data: dict[str, Any]
    version: int | None = Field(None, ge=1)


class ImagingIn(_In):
    """An SSTR or FDG study with its lesion readings (case-JSON ``lesions``)."""

    kind: str = Field(examples=["sstr"])
    study_date: date
    modality: str | None = Field(None, examples=["pet"])
    tracer: str | None = Field(None, max_length=64)
    lesions: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


class LabsIn(_In):
    """Lab values with units (``{"platelets": "68 10^9/L"}``) and optional reference limits."""

    drawn_on: date
    values: dict[str, str] = Field(min_length=1, max_length=20)
    for_cycle: int | None = Field(None, ge=1, le=20)
    limits: dict[str, dict[str, str]] = Field(default_factory=dict)


class CourseIn(_In):
    """Plan a course."""

    regimen: str = Field(examples=["LUTATHERA_STANDARD"])
    first_administration: str = Field(examples=["2027-01-11T09:00+01:00"])
    intent: str | None = None
    renal_risk_factors: bool | None = None
    peritoneal_or_mesenteric_disease: bool | None = None


class AdministrationIn(_In):
    """An administration given."""

    cycle_number: int = Field(ge=1, le=20)
    administered_at: str = Field(examples=["2027-01-11T09:05+01:00"])
    activity: str = Field(examples=["7.4 GBq"], max_length=32)


class DosimetryIn(_In):
    """Organ doses of a cycle (``{"kidneys": "4.1 Gy"}`` or with kinetics for the BED)."""

    cycle_number: int = Field(ge=1, le=20)
    regions: dict[str, Any] = Field(min_length=1, max_length=30)
    method: str = Field("uploaded", max_length=64)


class DecisionIn(_In):
    """Inputs of the next-cycle decision that only the clinician knows."""

    assessment_date: date | None = None
    toxicities: list[dict[str, Any]] = Field(default_factory=list, max_length=30)
    pregnant: bool | None = None
    mds_or_aml: bool | None = None


class ResponseIn(_In):
    """A RECIST 1.1 time point: target sizes, non-target states, new lesions."""

    assessed_on: date
    targets: list[dict[str, Any]] = Field(default_factory=list, max_length=10)
    non_targets: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    new_lesions: str | None = None
