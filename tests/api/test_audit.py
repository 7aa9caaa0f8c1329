"""The audit trail: every read of patient data is a 'view' event; the chain holds under concurrent
requests and `prrt audit verify` finds a tampered row (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from prrt.adapters.api.deps import SESSION_COOKIE
from prrt.adapters.cli.app import app as cli
from prrt.adapters.db.audit import verify_chain
from prrt.adapters.db.tables import AuditEvent

from ._support import BACKENDS, FAMILY_NAME, Service, all_routes

pytestmark = pytest.mark.db
runner = CliRunner()

#: GET routes that show no patient data (so write no 'view' event).
NOT_PATIENT_DATA = {
    "/",
    "/sign-in",
    "/favicon.ico",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/api/me",
    "/api/audit/verify",  # counts and event ids only
}
#: Reads that are POSTs (the search text travels in the body, never in the URL).
SEARCHES = {"/api/patients/search": "json", "/patients/search": "form"}


def _views(service: Service, username: str) -> int:
    with service.db() as s:
        return int(
            s.execute(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action == "view", AuditEvent.username == username
                )
            ).scalar_one()
        )


def test_every_read_of_patient_data_writes_a_view_event(service: Service):
    w = service.world()
    client, csrf = service.signed_in("physician")  # pages by cookie, API by token
    me = service.username("physician")
    ids = {"patient_id": w.patient_id, "course_id": w.course_id}
    checked = []
    for route in all_routes(service.app):
        if not isinstance(route, APIRoute):
            continue
        reads = "GET" in route.methods and route.path not in NOT_PATIENT_DATA
        if not reads and route.path not in SEARCHES:
            continue
        path = route.path.format(**ids)
        headers = service.bearer("physician") if path.startswith("/api/") else {}
        before = _views(service, me)
        if route.path in SEARCHES:
            if SEARCHES[route.path] == "json":
                r = client.post(path, json={"q": FAMILY_NAME}, headers=headers)
            else:
                r = client.post(path, data={"q": FAMILY_NAME, "csrf_token": csrf})
        else:
            r = client.get(path, headers=headers)
        assert r.status_code == 200, (route.path, r.status_code)
        assert _views(service, me) > before, f"{route.path} read patient data without a view event"
        checked.append(route.path)
    assert {"/api/patients/{patient_id}", "/patients/{patient_id}", "/api/patients"} <= set(checked)
    assert len(checked) >= 9, checked


def test_a_view_event_names_who_and_which_patient(service: Service):
    w = service.world()
    service.client().get(f"/api/patients/{w.patient_id}", headers=service.bearer("viewer"))
    with service.db() as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    assert (last.action, last.entity, last.entity_id) == ("view", "patient", str(w.patient_id))
    assert last.username == service.username("viewer")


def test_the_chain_holds_under_concurrent_requests(service: Service):
    """Concurrent writers (API views and evaluations, page forms, page views and plots) each
    chain to the event before; none fails on SQLite's write lock."""
    w = service.world()
    signed_in, csrf = service.signed_in("physician")
    cookie = signed_in.cookies.get(SESSION_COOKIE)
    form = {
        "csrf_token": csrf,
        "drawn_on": date.today().isoformat(),
        "values.platelets": "210 10^9/L",
    }

    def work(i: int) -> list[int]:
        client = service.client()
        client.cookies.set(SESSION_COOKIE, cookie)
        statuses = []
        for j in range(6):
            kind = (i + j) % 5
            if kind == 0:
                r = client.post(
                    f"/api/patients/{w.patient_id}/eligibility", headers=service.bearer("physician")
                )
            elif kind == 1:
                r = client.get(f"/api/patients/{w.patient_id}", headers=service.bearer("viewer"))
            elif kind == 2:
                r = client.post(f"/patients/{w.patient_id}/labs", data=form)
            elif kind == 3:
                r = client.get(f"/patients/{w.patient_id}")
            else:
                r = client.get(f"/patients/{w.patient_id}/labs.png")
            statuses.append(r.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [s for batch in pool.map(work, range(8)) for s in batch]
    assert set(statuses) <= {200, 201}, statuses
    with service.db() as s:
        count, problems = verify_chain(s)
    assert problems == (), problems[:3]
    assert count > 48


def _tamper(service: Service, event_id: int) -> None:
    """What an administrator with database access could do: lift the guard, edit a row."""
    with service.db() as s:
        if service.backend == "postgresql":
            s.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        else:
            s.execute(text("DROP TRIGGER audit_events_no_update"))
            s.execute(text("DROP TRIGGER audit_events_no_delete"))
        s.execute(
            text("UPDATE audit_events SET username = 'mallory' WHERE id = :i"), {"i": event_id}
        )


@pytest.mark.parametrize("fresh_service", BACKENDS, indirect=True)
def test_prrt_audit_verify_finds_a_tampered_row(fresh_service: Service):
    service = fresh_service
    service.world()
    service.client().get("/api/patients", headers=service.bearer("viewer"))
    args = ["audit", "verify", "--database-url", service.url]
    intact = runner.invoke(cli, args)
    assert intact.exit_code == 0, intact.output
    assert re.search(r"audit trail intact: \d+ events", intact.output)
    with service.db() as s:
        target = s.execute(
            select(AuditEvent.id).where(
                AuditEvent.entity == "patient", AuditEvent.action == "create"
            )
        ).scalar_one()
    # the database itself refuses the edit ...
    with pytest.raises(Exception, match="append-only"), service.db() as s:
        s.execute(text("UPDATE audit_events SET username = 'mallory' WHERE id = :i"), {"i": target})
    # ... and once an administrator has lifted that guard, the chain gives it away
    _tamper(service, target)
    broken = runner.invoke(cli, args)
    assert broken.exit_code == 1, broken.output
    assert f"event {target}: content does not match its hash (altered)" in broken.output
    assert "audit trail NOT intact: 1 problem(s)" in broken.output
    as_json = runner.invoke(cli, [*args, "--format", "json"])
    assert as_json.exit_code == 1
    assert f'"event_id": {target}' in as_json.output
    # the API says the same to the administrator
    r = service.client().get("/api/audit/verify", headers=service.bearer("admin"))
    assert r.status_code == 200
    assert r.json()["intact"] is False
    assert [p["event_id"] for p in r.json()["problems"]] == [target]


@pytest.mark.parametrize("fresh_service", BACKENDS, indirect=True)
def test_prrt_audit_verify_finds_a_deleted_row(fresh_service: Service):
    service = fresh_service
    service.world()
    with service.db() as s:
        ids = list(s.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
    _tamper(service, -1)  # lift the guard only
    with service.db() as s:
        s.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[5]})
    broken = runner.invoke(cli, ["audit", "verify", "--database-url", service.url])
    assert broken.exit_code == 1, broken.output
    assert f"event {ids[6]}:" in broken.output
    assert "deleted" in broken.output
