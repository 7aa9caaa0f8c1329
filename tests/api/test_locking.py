"""Optimistic locking through the API on SQLite and PostgreSQL: a stale update is 409, nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from prrt.adapters.db.repository import snapshot
from prrt.adapters.db.tables import AuditEvent, Patient, Tumour

from ._support import TUMOUR, Service, csrf_of

pytestmark = pytest.mark.db
PROBLEM = "application/problem+json"


def _state(service: Service, table: Any, row_id: int) -> dict[str, Any]:
    """The row, the number of audit events and the chain's head, read from the database."""
    with service.db() as s:
        row = s.get(table, row_id)
        assert row is not None
        events = list(s.execute(select(AuditEvent.id, AuditEvent.sha256)).all())
        return {"row": snapshot(row), "events": len(events), "head": max(events)}


def test_stale_patient_update_is_409_and_changes_nothing(service: Service):
    w = service.world()
    client = service.client()
    doctor, nurse = service.bearer("physician"), service.bearer("nurse")
    path = f"/api/patients/{w.patient_id}"
    first = client.patch(path, json={"version": 1, "weight": "70 kg"}, headers=doctor)
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["weight_kg"]) == (2, 70.0)
    before = _state(service, Patient, w.patient_id)
    # the nurse read version 1 before the physician's change
    stale = client.patch(
        path, json={"version": 1, "weight": "50 kg", "karnofsky_percent": 60}, headers=nurse
    )
    assert stale.status_code == 409, stale.text
    assert stale.headers["content-type"].startswith(PROBLEM)
    body = stale.json()
    assert body["current_version"] == 2
    assert body["status"] == 409
    assert "version 1 was read, the current version is 2" in body["detail"]
    after = _state(service, Patient, w.patient_id)
    assert after == before  # row (every column, version included), audit count and chain head
    assert after["row"]["weight_kg"] == 70.0
    assert after["row"]["version"] == 2
    # with the current version the change goes through and is audited
    ok = client.patch(path, json={"version": 2, "weight": "50 kg"}, headers=nurse)
    assert ok.status_code == 200
    assert ok.json()["version"] == 3
    assert _state(service, Patient, w.patient_id)["events"] == before["events"] + 1


def test_a_version_from_the_future_is_409_too(service: Service):
    w = service.world()
    before = _state(service, Patient, w.patient_id)
    r = service.client().patch(
        f"/api/patients/{w.patient_id}",
        json={"version": 7, "weight": "71 kg"},
        headers=service.bearer("physician"),
    )
    assert r.status_code == 409
    assert r.json()["current_version"] == 1
    assert _state(service, Patient, w.patient_id) == before


def test_stale_tumour_replacement_is_409_and_changes_nothing(service: Service):
    w = service.world()  # the tumour record is at version 1
    client = service.client()
    path = f"/api/patients/{w.patient_id}/tumour"
    doctor = service.bearer("physician")
    r = client.put(
        path, json={"data": {**TUMOUR, "ki67_percent": 12}, "version": 1}, headers=doctor
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    with service.db() as s:
        tumour_id = s.execute(
            select(Tumour.id).where(Tumour.patient_id == w.patient_id)
        ).scalar_one()
    before = _state(service, Tumour, tumour_id)
    stale = client.put(
        path, json={"data": {**TUMOUR, "ki67_percent": 30}, "version": 1}, headers=doctor
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert _state(service, Tumour, tumour_id) == before
    assert before["row"]["data"]["ki67_percent"] == 12


def test_stale_tumour_form_on_the_page_is_409_and_changes_nothing(service: Service):
    w = service.world()
    client, csrf = service.signed_in("physician")
    form = {
        "csrf_token": csrf,
        "primary_site": "small_intestine",
        "differentiation": "well",
        "ki67_percent": "12",
        "version": "1",
    }
    assert client.post(f"/patients/{w.patient_id}/tumour", data=form).status_code == 200
    with service.db() as s:
        tumour_id = s.execute(
            select(Tumour.id).where(Tumour.patient_id == w.patient_id)
        ).scalar_one()
    before = _state(service, Tumour, tumour_id)
    stale = client.post(f"/patients/{w.patient_id}/tumour", data={**form, "ki67_percent": "30"})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.text.lower()
    assert _state(service, Tumour, tumour_id) == before
    csrf_of(client.get(f"/patients/{w.patient_id}").text)  # the page still renders
