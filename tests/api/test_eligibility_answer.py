"""The eligibility answer is the stored report, encoded once, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from prrt.adapters.api.endpoint import json_bytes
from prrt.adapters.db.tables import AuditEvent, EligibilityEvaluation

from ._support import Service

pytestmark = pytest.mark.db


def test_the_answer_is_the_stored_report_and_its_event_is_chained(service: Service):
    w = service.world()
    before = service.audit_count()
    r = service.client().post(
        f"/api/patients/{w.patient_id}/eligibility", headers=service.bearer("physician")
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert r.content == json_bytes(body)  # what FastAPI's encoder would have sent
    with service.db() as s:
        row = s.get(EligibilityEvaluation, body["id"])
        assert row is not None
        assert (row.patient_id, row.verdict, row.created_by) == (
            w.patient_id,
            body["verdict"],
            service.username("physician"),
        )
        assert row.report == body["report"]
        assert body["report"]["verdict"] == body["verdict"]
        event = s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert (event.action, event.entity, event.entity_id) == (
            "create",
            "eligibility_evaluation",
            str(body["id"]),
        )
        assert event.after == {"verdict": body["verdict"]}
    assert service.audit_count() == before + 1
    assert (
        service.client().get("/api/audit/verify", headers=service.bearer("admin")).json()["intact"]
    )
