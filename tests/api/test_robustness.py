"""Odd but well-formed requests are 422 problems, never 5xx, on SQLite and PostgreSQL.

Each case was a 500 before it was fixed (found by probing past what the bounded
schemathesis run reaches): a non-object ``clinical.patient`` (TypeError), an
infinite lab value echoed in the problem body (JSON has no infinity), a date
at the edge of the calendar (OverflowError), a region name longer than its
column and NUL characters (PostgreSQL refuses both; SQLite stores a NUL).
"""

from __future__ import annotations

from typing import Any

import pytest

from ._support import Service, World

pytestmark = pytest.mark.db

BASE = {"sex": "female", "age_years": 60, "weight": "60 kg"}
CASES: list[tuple[str, str, str, Any, str]] = [
    (
        "clinical-patient-number",
        "POST",
        "/api/patients",
        {**BASE, "clinical": {"patient": 5}},
        "physician",
    ),
    (
        "clinical-patient-list",
        "POST",
        "/api/patients",
        {**BASE, "clinical": {"patient": [1]}},
        "physician",
    ),
    (
        "update-clinical-patient-text",
        "PATCH",
        "/api/patients/{patient_id}",
        {"version": 1, "clinical": {"patient": "x"}},
        "physician",
    ),
    (
        "infinite-lab-value",
        "POST",
        "/api/patients/{patient_id}/labs",
        {"drawn_on": "2026-01-05", "values": {"platelets": "1e400 10^9/L"}},
        "nurse",
    ),
    (
        "course-at-the-end-of-time",
        "POST",
        "/api/patients/{patient_id}/courses",
        {"regimen": "LUTATHERA_STANDARD", "first_administration": "9999-12-31T23:59+01:00"},
        "physician",
    ),
    (
        "course-at-the-start-of-time",
        "POST",
        "/api/patients/{patient_id}/courses",
        {"regimen": "LUTATHERA_STANDARD", "first_administration": "0001-01-01T00:00+01:00"},
        "physician",
    ),
    (
        "administration-at-the-end-of-time",
        "POST",
        "/api/courses/{course_id}/administrations",
        {"cycle_number": 2, "administered_at": "9999-12-31T23:59-12:00", "activity": "7.4 GBq"},
        "nurse",
    ),
    (
        "region-name-too-long",
        "POST",
        "/api/courses/{course_id}/dosimetry",
        {"cycle_number": 1, "regions": {"x" * 40: "3 Gy"}},
        "physicist",
    ),
    ("nul-in-search", "POST", "/api/patients/search", {"q": "a\x00b"}, "physician"),
    (
        "nul-in-a-name",
        "POST",
        "/api/patients",
        {**BASE, "identity": {"family_name": "a\x00b"}},
        "physician",
    ),
    (
        "nul-in-a-user-name",
        "POST",
        "/api/auth/token",
        {"username": "a\x00", "password": "b"},
        "viewer",
    ),
]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_has_nul(v) for v in value)


@pytest.fixture(scope="module")
def world(service: Service) -> World:
    return service.world()


@pytest.fixture(scope="module")
def client(service: Service):
    # 5xx as responses, not raised exceptions: the status is what a client sees
    from fastapi.testclient import TestClient

    with TestClient(service.app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "route", "body", "role"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_odd_request_is_a_422_problem(service: Service, world, client, method, route, body, role):
    events = service.audit_count()
    path = route.format(patient_id=world.patient_id, course_id=world.course_id)
    r = client.request(method, path, json=body, headers=service.bearer(role))
    if _has_nul(body) and service.backend == "sqlite":
        # SQLite stores a NUL like any character (PostgreSQL refuses it: 422 below)
        assert r.status_code < 500, r.text
        return
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 422
    assert service.audit_count() == events  # refused: nothing written


def test_a_nul_character_on_a_page_is_a_422_page(service: Service):
    r = service.client().post("/sign-in", data={"username": "a\x00b", "password": "whatever"})
    assert r.status_code in (401, 422)  # SQLite stores it (unknown user); PostgreSQL refuses it
    assert r.headers["content-type"].startswith("text/html")
