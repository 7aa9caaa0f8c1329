"""No patient data in logs or URLs: log records carry route templates; paths carry numeric ids only."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from prrt.adapters.db.tables import PatientIdentity

from ._support import (
    FAMILY_NAME,
    GIVEN_NAME,
    HOSPITAL_NUMBER,
    PATIENT,
    Service,
    all_routes,
    sqlite_url,
)

pytestmark = pytest.mark.db
PSEUDONYM = "PSEUDO-QX42"
SECRETS = (FAMILY_NAME, GIVEN_NAME, HOSPITAL_NUMBER, PSEUDONYM)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """SQLite only: what is logged does not depend on the database."""
    return sqlite_url(tmp_path_factory)


def _log_text(records: list[logging.LogRecord]) -> list[str]:
    out = []
    for r in records:
        out.append(r.getMessage())
        out.append(str(r.args))
        if r.exc_text:
            out.append(r.exc_text)
    return out


def test_requests_never_log_patient_data(service: Service, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    for name in ("prrt", "uvicorn", "uvicorn.error", "fastapi", "starlette", "httpx"):
        caplog.set_level(logging.DEBUG, logger=name)
    api = service.client()
    doctor = service.bearer("physician")
    created = api.post(
        "/api/patients",
        json={
            **{k: v for k, v in PATIENT.items() if k != "clinical"},
            "pseudonym": PSEUDONYM,
            "identity": {
                "family_name": FAMILY_NAME,
                "given_name": GIVEN_NAME,
                "hospital_number": HOSPITAL_NUMBER,
            },
        },
        headers=doctor,
    )
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert created.json()["identity"]["family_name"] == FAMILY_NAME
    # reads, searches, an update, errors that echo the value back to the caller
    assert api.get(f"/api/patients/{pid}", headers=doctor).status_code == 200
    for q in (FAMILY_NAME, HOSPITAL_NUMBER, PSEUDONYM):
        found = api.post("/api/patients/search", json={"q": q}, headers=doctor)
        assert [p["id"] for p in found.json()] == [pid]
    taken = api.post(
        "/api/patients",
        json={"sex": "male", "age_years": 50, "weight": "80 kg", "pseudonym": PSEUDONYM},
        headers=doctor,
    )
    assert taken.status_code == 422
    assert PSEUDONYM in taken.text  # told to the caller, not written to the log
    assert (
        api.patch(
            f"/api/patients/{pid}", json={"version": 1, "weight": "69 kg"}, headers=doctor
        ).status_code
        == 200
    )
    assert (
        api.patch(
            f"/api/patients/{pid}", json={"version": 1, "weight": "70 kg"}, headers=doctor
        ).status_code
        == 409
    )
    bad = api.post(
        f"/api/patients/{pid}/labs",
        json={"drawn_on": "2026-01-05", "values": {"platelets": f"{FAMILY_NAME} 10^9/L"}},
        headers=service.bearer("nurse"),
    )
    assert bad.status_code == 422
    assert api.get(f"/api/patients/{pid}", headers=service.bearer("viewer")).status_code == 200
    # the pages: sign-in with a wrong password first, list, search, patient page, a form
    page = service.client()
    wrong = page.post("/sign-in", data={"username": FAMILY_NAME, "password": HOSPITAL_NUMBER})
    assert wrong.status_code == 401
    client, csrf = service.signed_in("physician")
    assert FAMILY_NAME in client.get("/patients").text
    result = client.post("/patients/search", data={"q": HOSPITAL_NUMBER, "csrf_token": csrf})
    assert PSEUDONYM in result.text
    assert FAMILY_NAME in client.get(f"/patients/{pid}").text
    form = client.post(
        f"/patients/{pid}/labs",
        data={"csrf_token": csrf, "drawn_on": "2026-01-05", "values.platelets": PSEUDONYM},
    )
    assert form.status_code == 422
    assert client.get(f"/patients/{pid}/labs.png").status_code == 200

    texts = _log_text(caplog.records)
    for secret in SECRETS:
        leaks = [t for t in texts if secret in t]
        assert not leaks, f"{secret!r} in the log: {leaks[:3]}"
    # the service did log the requests: by route template, never by URL
    http = [r.getMessage() for r in caplog.records if r.name == "prrt.http"]
    assert any(m.startswith("GET /api/patients/{patient_id} 200") for m in http), http[:5]
    assert any(m.startswith("GET /patients/{patient_id} 200") for m in http), http[:5]
    assert not [m for m in http if re.search(r"/\d+", m)], "a log line with an id in it"


def test_routes_carry_numeric_ids_only(service: Service):
    """No name, hospital number, pseudonym or search text can be part of a URL."""
    checked = 0
    for route in all_routes(service.app):
        if not isinstance(route, APIRoute):
            continue
        params = route.dependant.path_params
        names = re.findall(r"\{([^}:]+)(?::[^}]+)?\}", route.path)
        assert sorted(p.name for p in params) == sorted(names), route.path
        for p in params:
            assert p.name.endswith("_id"), (route.path, p.name)
            assert p.field_info.annotation is int, (route.path, p.name)
        assert route.dependant.query_params == [], (route.path, route.dependant.query_params)
        checked += 1
    assert checked >= 25


def test_an_id_that_is_not_a_number_is_refused(service: Service):
    r = service.client().get(f"/api/patients/{FAMILY_NAME}", headers=service.bearer("physician"))
    assert r.status_code == 422
    assert r.json()["field"] == "patient_id"


def test_redirects_after_a_form_carry_the_numeric_id_only(service: Service):
    client, csrf = service.signed_in("physician")
    r = client.post(
        "/patients",
        data={
            "csrf_token": csrf,
            "sex": "female",
            "age_years": "61",
            "weight": "64 kg",
            "pseudonym": "PSEUDO-FORM1",
            "family_name": FAMILY_NAME,
            "hospital_number": HOSPITAL_NUMBER,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert re.fullmatch(r"/patients/\d+", r.headers["location"])


def test_database_errors_carry_no_bound_values(service: Service):
    """A database error's message (which a server log may show) never holds the values."""
    with pytest.raises(IntegrityError) as err, service.app.state.engine.begin() as conn:
        conn.execute(
            insert(PatientIdentity).values(
                patient_id=999_999, family_name=FAMILY_NAME, hospital_number=HOSPITAL_NUMBER
            )
        )
    message = str(err.value)
    assert "patient_identities" in message  # the statement is still named
    assert FAMILY_NAME not in message
    assert HOSPITAL_NUMBER not in message
