"""Helpers of the service tests: fresh databases, the service with one account per role, records.

A fresh database per test module (or per test where a test breaks it on purpose):
SQLite in a temporary folder, PostgreSQL as a new database on the server of
``tests/db/conftest.py`` (``PRRT_TEST_POSTGRES_URL``; skipped locally without
one, a failure in CI).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from prrt.adapters.api import Settings, create_app
from prrt.adapters.api.permissions import ROLES
from prrt.adapters.db import courses, patients
from prrt.adapters.db.repository import create_api_token, create_user
from prrt.adapters.db.tables import AuditEvent

ADMIN_URL = os.environ.get(
    "PRRT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")

#: Identifying values that must never appear in a log record or a URL.
FAMILY_NAME = "Zyxwarbler"
GIVEN_NAME = "Quintessa"
HOSPITAL_NUMBER = "HN-77310422"

PASSWORD = "correct horse battery staple"
PATIENT: dict[str, Any] = {
    "sex": "female",
    "age_years": 64,
    "weight": "68 kg",
    "height": "165 cm",
    "karnofsky_percent": 80,
    "clinical": {
        "patient": {
            "pregnancy": "not_applicable",
            "breastfeeding": False,
            "life_expectancy_months": 36,
            "urinary_incontinence": False,
            "heart_failure_uncontrolled": False,
            "brain_metastases": "none",
        },
        "history": {"prior_therapies": [{"kind": "ssa_long_acting", "end_date": "2026-10-01"}]},
        "mds_or_aml": False,
    },
}
TUMOUR = {
    "primary_site": "small_intestine",
    "differentiation": "well",
    "ki67_percent": 8,
    "mitoses_per_2mm2": 3,
    "resectable": False,
    "peritoneal_carcinomatosis": False,
    "mesenteric_mass": False,
    "liver_tumour_burden_percent": 15,
    "diffuse_bone_marrow_involvement": False,
}
LESIONS = [
    {"id": "T1", "site": "liver", "target": True, "size": "30 mm", "sstr_score": 4},
    {"id": "T2", "site": "liver", "target": True, "size": "20 mm", "sstr_score": 3},
]
LABS = {
    "haemoglobin": "131 g/L",
    "platelets": "228 10^9/L",
    "neutrophils": "3.9 10^9/L",
    "lymphocytes": "1.6 10^9/L",
    "white_cells": "6.2 10^9/L",
    "creatinine": "0.84 mg/dL",
    "bilirubin": "9 µmol/L",
    "albumin": "41 g/L",
    "ast": "26 U/L",
    "alt": "24 U/L",
    "fasting_glucose": "97 mg/dL",
}
LIMITS = {
    "fasting_glucose": {"uln": "6.1 mmol/L"},
    "platelets": {"lln": "150 10^9/L"},
    "haemoglobin": {"lln": "120 g/L"},
    "neutrophils": {"lln": "1.8 10^9/L"},
    "creatinine": {"uln": "90 µmol/L"},
    "bilirubin": {"uln": "21 µmol/L"},
    "ast": {"uln": "40 U/L"},
    "alt": {"uln": "40 U/L"},
    "albumin": {"lln": "35 g/L"},
}


# --------------------------------------------------------------------------- databases


def _create_postgres_database() -> str | None:
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"prrt_test_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as err:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI ({ADMIN_URL}): {err}")
        return None
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by :func:`new_database` (connections are closed by force)."""
    name = make_url(url).database
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def new_database(backend: str, folder: Path) -> Iterator[str]:
    """URL of a new, empty database of ``backend`` (dropped afterwards); skips without PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'prrt.db'}"
        return
    url = _create_postgres_database()
    if url is None:
        pytest.skip("no PostgreSQL server (set PRRT_TEST_POSTGRES_URL); CI requires one")
    try:
        yield url
    finally:
        drop_postgres_database(url)


# --------------------------------------------------------------------------- the service


@dataclass
class World:
    """A patient with tumour, imaging, baseline labs and a course whose cycle 1 was given."""

    patient_id: int
    course_id: int


@dataclass
class Service:
    """The app on one database, with an account and a bearer token per role."""

    app: FastAPI
    url: str
    backend: str
    tokens: dict[str, str] = field(default_factory=dict)
    _serial: int = 0

    # -- accounts

    @staticmethod
    def username(role: str) -> str:
        """The account of ``role``."""
        return f"test.{role}"

    def bearer(self, role: str) -> dict[str, str]:
        """Authorization header of ``role``'s token."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def client(self) -> TestClient:
        """A new client without cookies (server errors are raised, not turned into 500)."""
        return TestClient(self.app)

    def signed_in(self, role: str) -> tuple[TestClient, str]:
        """A client signed in on the pages as ``role``, and the session's CSRF token."""
        client = self.client()
        r = client.post(
            "/sign-in",
            data={"username": self.username(role), "password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return client, csrf_of(client.get("/patients").text)

    # -- database

    @contextmanager
    def db(self) -> Iterator[Session]:
        """A session of the app's database (commits on success)."""
        with self.app.state.session_factory() as session:
            yield session
            session.commit()

    def audit_count(self) -> int:
        with self.db() as s:
            return int(s.execute(select(func.count(AuditEvent.id))).scalar_one())

    def last_audit(self) -> tuple[int, str] | None:
        with self.db() as s:
            row = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar()
            return None if row is None else (row.id, row.sha256)

    def serial(self) -> int:
        """A new number (unique names within the module)."""
        self._serial += 1
        return self._serial

    def world(self, *, identity: bool = True) -> World:
        """Records of one patient written through the repositories (as the physician and nurse)."""
        today = date.today()
        first = today - timedelta(days=60)
        n = self.serial()
        data: dict[str, Any] = {**PATIENT, "pseudonym": f"PSX-{n:04d}"}
        if identity:
            data["identity"] = {
                "family_name": FAMILY_NAME,
                "given_name": GIVEN_NAME,
                "birth_date": "1962-05-01",
                "hospital_number": f"{HOSPITAL_NUMBER}{n}",
            }
        doctor, nurse = self.username("physician"), self.username("nurse")
        with self.db() as s:
            p = patients.create_patient(s, actor=doctor, data=data)
            patients.set_tumour(s, actor=doctor, patient_id=p.id, data=TUMOUR)
            patients.record_imaging(
                s,
                actor=doctor,
                patient_id=p.id,
                kind="sstr",
                study_date=first - timedelta(days=20),
                modality="pet",
                tracer="68Ga-DOTATATE",
                lesions=LESIONS,
            )
            patients.record_imaging(
                s, actor=doctor, patient_id=p.id, kind="fdg_pet", study_date=first - timedelta(15)
            )
            patients.record_labs(
                s,
                actor=nurse,
                patient_id=p.id,
                drawn_on=first - timedelta(days=3),
                values=LABS,
                limits=LIMITS,
            )
            course = courses.plan_patient_course(
                s,
                actor=doctor,
                patient_id=p.id,
                regimen_id="LUTATHERA_STANDARD",
                first_administration=f"{first.isoformat()}T09:00+01:00",
                renal_risk_factors=False,
                peritoneal_or_mesenteric_disease=False,
            )
            courses.record_administration(
                s,
                actor=nurse,
                course_id=course.id,
                cycle_number=1,
                administered_at=f"{first.isoformat()}T09:05+01:00",
                activity="7.4 GBq",
            )
            patients.record_labs(
                s,
                actor=nurse,
                patient_id=p.id,
                drawn_on=today - timedelta(days=1),
                for_cycle=2,
                values={k: v for k, v in LABS.items() if k != "fasting_glucose"},
                limits={k: v for k, v in LIMITS.items() if k != "fasting_glucose"},
            )
            return World(p.id, course.id)


def build_service(url: str, backend: str, data_dir: Path, **settings: Any) -> Service:
    """The app on a new database at ``url`` with one account and token per role."""
    app = create_app(Settings(data_dir=data_dir, database_url=url, **settings))
    service = Service(app=app, url=url, backend=backend)
    with service.db() as s:
        for role in ROLES:
            user = create_user(
                s, actor="setup", username=service.username(role), password=PASSWORD, role=role
            )
            service.tokens[role] = create_api_token(s, actor="setup", user=user, label="tests")
    return service


def dispose(service: Service) -> None:
    """Close the app's connections (so that a PostgreSQL database can be dropped)."""
    service.app.state.engine.dispose()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def all_routes(app: FastAPI) -> list[Any]:
    """Every route of the app, with the routers it includes flattened (FastAPI ≥ 0.16x keeps
    an included router as one entry whose ``original_router`` holds the routes)."""
    out: list[Any] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(list(inner.routes))
            else:
                out.append(route)

    walk(list(app.routes))
    return out


def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new SQLite database (for a module that overrides ``database_url`` to run on it only)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db-sqlite') / 'prrt.db'}"
