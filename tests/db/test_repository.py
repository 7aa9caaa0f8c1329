"""Repositories on SQLite and PostgreSQL: validation, optimistic locking, audit chain, the pathway."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from prrt.adapters.db import assessments, courses, patients
from prrt.adapters.db.audit import verify_chain
from prrt.adapters.db.repository import (
    StaleVersionError,
    authenticate,
    create_user,
)
from prrt.adapters.db.tables import AuditEvent, LabResult, Patient, PatientIdentity
from prrt.errors import InvalidInputError

pytestmark = pytest.mark.db

PATIENT = {
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
    },
    "identity": {
        "family_name": "Example",
        "given_name": "Erika",
        "birth_date": "1962-05-01",
        "hospital_number": "H123",
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
    {
        "id": "T1",
        "site": "liver",
        "target": True,
        "size": "30 mm",
        "sstr_score": 4,
        "fdg": "negative",
    },
    {
        "id": "T2",
        "site": "liver",
        "target": True,
        "size": "20 mm",
        "sstr_score": 3,
        "fdg": "negative",
    },
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


def _patient(session):
    p = patients.create_patient(session, actor="dr.a", data=PATIENT)
    patients.set_tumour(session, actor="dr.a", patient_id=p.id, data=TUMOUR)
    today = date.today()
    patients.record_imaging(
        session,
        actor="dr.a",
        patient_id=p.id,
        kind="sstr",
        study_date=today - timedelta(days=20),
        modality="pet",
        tracer="68Ga-DOTATATE",
        lesions=LESIONS,
    )
    patients.record_imaging(
        session,
        actor="dr.a",
        patient_id=p.id,
        kind="fdg_pet",
        study_date=today - timedelta(days=15),
    )
    patients.record_labs(
        session,
        actor="nurse.b",
        patient_id=p.id,
        drawn_on=today - timedelta(days=3),
        values=LABS,
        limits=LIMITS,
    )
    return p


def test_identity_is_kept_apart_and_creatinine_is_stored_canonically(session):
    p = _patient(session)
    assert p.pseudonym.startswith("P-")
    assert not hasattr(p, "family_name")
    ident = session.execute(
        select(PatientIdentity).where(PatientIdentity.patient_id == p.id)
    ).scalar_one()
    assert ident.family_name == "Example"
    creat = session.execute(select(LabResult).where(LabResult.analyte == "creatinine")).scalar_one()
    assert creat.value_canonical == pytest.approx(
        0.84 * 88.4
    )  # µmol/L per mg/dL, clinical-rules.md §0.2
    assert creat.unit == "µmol/L"
    assert creat.entered_as == "0.84 mg/dL"


def test_a_wrong_unit_names_the_field_and_stores_nothing(session):
    p = _patient(session)
    before = session.execute(select(LabResult)).scalars().all()
    with pytest.raises(InvalidInputError, match=r"values\.platelets"):
        patients.record_labs(
            session,
            actor="nurse.b",
            patient_id=p.id,
            drawn_on=date.today(),
            values={"haemoglobin": "12 g/dL", "platelets": "210 g/L"},
        )
    assert session.execute(select(LabResult)).scalars().all() == before


def test_clinical_fields_are_validated_by_the_case_model(session):
    p = patients.create_patient(
        session, actor="dr.a", data={k: v for k, v in PATIENT.items() if k != "identity"}
    )
    with pytest.raises(InvalidInputError, match=r"tumour\.ki67_percent"):
        patients.set_tumour(
            session, actor="dr.a", patient_id=p.id, data={**TUMOUR, "ki67_percent": 140}
        )
    with pytest.raises(InvalidInputError, match="weight"):
        patients.create_patient(
            session, actor="dr.a", data={**PATIENT, "identity": None, "weight": "68 stone"}
        )


def test_eligibility_from_the_records(session):
    p = _patient(session)
    evaluation = assessments.evaluate_eligibility(session, actor="dr.a", patient_id=p.id)
    assert evaluation.verdict == "eligible", (
        evaluation.report["fired"] + evaluation.report["undecided"]
    )
    assert evaluation.report["grade"]["category"] == "NET G2"


def test_stale_update_is_refused_and_changes_nothing(session):
    p = _patient(session)
    patients.update_patient(
        session, actor="dr.a", patient_id=p.id, version=1, data={"weight": "70 kg"}
    )
    assert p.version == 2
    n_events = len(session.execute(select(AuditEvent)).scalars().all())
    with pytest.raises(StaleVersionError, match="version 1 was read, the current version is 2"):
        patients.update_patient(
            session, actor="dr.b", patient_id=p.id, version=1, data={"weight": "50 kg"}
        )
    session.refresh(p)
    assert (p.weight_kg, p.version) == (70.0, 2)
    assert len(session.execute(select(AuditEvent)).scalars().all()) == n_events


def test_course_plan_administrations_and_decision(session):
    p = _patient(session)
    first = date.today() - timedelta(days=60)
    patients.record_labs(
        session,
        actor="nurse.b",
        patient_id=p.id,
        drawn_on=first - timedelta(days=3),
        values=LABS,
        limits=LIMITS,
    )
    course = courses.plan_patient_course(
        session,
        actor="dr.a",
        patient_id=p.id,
        regimen_id="LUTATHERA_STANDARD",
        first_administration=f"{first.isoformat()}T09:00+01:00",
    )
    assert len(courses.cycles_of(session, course.id)) == 4
    courses.record_administration(
        session,
        actor="nurse.b",
        course_id=course.id,
        cycle_number=1,
        administered_at=f"{first.isoformat()}T09:00+01:00",
        activity="7.4 GBq",
    )
    with pytest.raises(InvalidInputError, match="activity"):
        courses.record_administration(
            session,
            actor="nurse.b",
            course_id=course.id,
            cycle_number=2,
            administered_at=f"{date.today().isoformat()}T09:00+01:00",
            activity="9 GBq",
        )
    courses.record_dosimetry(
        session,
        actor="phys.c",
        course_id=course.id,
        cycle_number=1,
        regions={
            "kidneys": {"absorbed_dose": "3.9 Gy", "effective_half_life": "50 h"},
            "red_marrow": "0.15 Gy",
        },
    )
    nadir = first + timedelta(weeks=5)
    patients.record_labs(
        session,
        actor="nurse.b",
        patient_id=p.id,
        drawn_on=nadir,
        for_cycle=2,
        values={**LABS, "platelets": "68 10^9/L"},
        limits=LIMITS,
    )
    patients.record_labs(
        session,
        actor="nurse.b",
        patient_id=p.id,
        drawn_on=date.today() - timedelta(days=1),
        for_cycle=2,
        values={**LABS, "platelets": "160 10^9/L"},
        limits=LIMITS,
    )
    undecided = courses.decide(session, actor="dr.a", course_id=course.id)
    assert undecided.action == "indeterminate"  # MDS/AML status not recorded: never a dose
    assert undecided.result["missing"] == ["mds_or_aml"]
    decision = courses.decide(session, actor="dr.a", course_id=course.id, mds_or_aml=False)
    # recovered grade 2 thrombocytopenia nadir (68 < 75 × 10⁹/L) → 3.7 GBq (clinical-rules.md §4.4 CYC-3)
    assert (decision.action, decision.activity_bq) == ("give_reduced", 3.7e9)
    assert "CYC-3-REDUCE-THROMBOCYTOPENIA" in [r["code"] for r in decision.result["reasons"]]
    assert decision.result["limit_checks"][0]["value_gy"] == pytest.approx(3.9)


def test_audit_chain_verifies_and_detects_a_tampered_row(session):
    _patient(session)
    count, problems = verify_chain(session)
    assert count >= 8
    assert problems == ()
    # The database refuses to edit the trail ...
    event = session.execute(select(AuditEvent).order_by(AuditEvent.id).limit(1)).scalar_one()
    with pytest.raises(Exception, match="append-only"), session.begin_nested():
        session.execute(
            text("UPDATE audit_events SET username = 'mallory' WHERE id = :i"), {"i": event.id}
        )
    # ... an administrator who drops the trigger is still found out.
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
    session.execute(
        text("UPDATE audit_events SET username = 'mallory' WHERE id = :i"), {"i": event.id}
    )
    ids = [e.id for e in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[3]})
    session.expire_all()
    _, problems = verify_chain(session)
    found = {(p.event_id, p.problem.split(" (")[0].split(" ")[0]) for p in problems}
    assert any(
        pid == event.id and "altered" in p.problem for p in problems for pid in [p.event_id]
    ), problems
    assert any(p.event_id == ids[4] and "missing" in p.problem for p in problems), problems
    assert found


def test_passwords_are_argon2_and_sign_in_checks_them(session):
    user = create_user(
        session, actor="setup", username="dr.a", password="correct horse battery", role="physician"
    )
    assert user.password_hash.startswith("$argon2id$")
    assert authenticate(session, username="dr.a", password="correct horse battery") is user
    assert authenticate(session, username="dr.a", password="wrong password!") is None
    assert authenticate(session, username="nobody", password="correct horse battery") is None
    with pytest.raises(InvalidInputError, match="password"):
        create_user(session, actor="setup", username="short", password="abc", role="viewer")
    with pytest.raises(InvalidInputError, match="role"):
        create_user(
            session, actor="setup", username="x.y", password="long enough pw", role="superuser"
        )


def test_patient_row_has_no_identifying_column():
    assert not {"family_name", "given_name", "birth_date", "hospital_number"} & set(
        Patient.__table__.columns.keys()
    )
