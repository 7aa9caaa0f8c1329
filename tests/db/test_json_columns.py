"""JSON columns on SQLite and PostgreSQL: text encoded once is stored as the document it encodes.

The engine encodes JSON column values with :func:`json.dumps` as SQLAlchemy does, and
stores an :class:`~prrt.adapters.db.engine.EncodedJson` text as it is (the eligibility
report, encoded once for the database and the answer).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from prrt.adapters.db import assessments
from prrt.adapters.db.engine import EncodedJson
from prrt.adapters.db.tables import AuditEvent, EligibilityEvaluation, Patient

pytestmark = pytest.mark.db

REPORT = {"verdict": "eligible", "note": "Krenning ≥ 3 (SSTR-PET)", "dose_gy": 0.1, "n": [1, 2]}


def _patient(session) -> Patient:
    p = Patient(pseudonym="JSON-001", sex="female", age_years=61, weight_kg=70.0, clinical={})
    session.add(p)
    session.flush()
    return p


def test_encoded_text_is_stored_as_the_document_it_encodes(session):
    p = _patient(session)
    session.connection().execute(
        EligibilityEvaluation.__table__.insert(),
        {
            "patient_id": p.id,
            "verdict": "eligible",
            "report": EncodedJson(assessments.report_json_text(REPORT)),
            "created_by": "dr.json",
        },
    )
    row = session.execute(
        select(EligibilityEvaluation).where(EligibilityEvaluation.patient_id == p.id)
    ).scalar_one()
    assert row.report == REPORT  # a document, not a JSON string holding the text
    if session.get_bind().dialect.name == "postgresql":
        kind = session.execute(
            text("SELECT json_typeof(report::json) FROM eligibility_evaluations WHERE id = :i"),
            {"i": row.id},
        ).scalar_one()
        assert kind == "object"


def test_a_plain_string_is_still_a_json_string(session):
    session.connection().execute(
        AuditEvent.__table__.insert(),
        {
            "at": datetime.now(UTC),
            "username": "dr.json",
            "action": "view",
            "entity": "patient",
            "entity_id": "1",
            "before": None,
            "after": "just text",
            "previous_sha256": "0" * 64,
            "sha256": "1" * 64,
        },
    )
    got = session.execute(
        select(AuditEvent.after).where(AuditEvent.sha256 == "1" * 64)
    ).scalar_one()
    assert got == "just text"


def test_the_report_text_refuses_nan():
    with pytest.raises(ValueError):
        assessments.report_json_text({"dose_gy": math.nan})


def test_a_stored_document_read_as_text_decodes_to_what_was_stored_once_per_text(session):
    from sqlalchemy import Text, cast

    from prrt.adapters.db.repository import shared_document

    p = _patient(session)
    for verdict in ("eligible", "not_eligible"):
        session.add(
            EligibilityEvaluation(
                patient_id=p.id,
                verdict=verdict,
                report={**REPORT, "verdict": verdict},
                created_by="t",
            )
        )
    session.flush()
    texts = (
        session.execute(
            select(cast(EligibilityEvaluation.report, Text))
            .where(EligibilityEvaluation.patient_id == p.id)
            .order_by(EligibilityEvaluation.id)
        )
        .scalars()
        .all()
    )
    first, second = (shared_document(t) for t in texts)
    assert first == {**REPORT, "verdict": "eligible"}  # both backends give the stored JSON
    assert second == {**REPORT, "verdict": "not_eligible"}
    copy = texts[0][:1] + texts[0][1:]  # the same text in another string object
    assert shared_document(copy) is first  # decoded once
