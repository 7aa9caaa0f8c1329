"""A process killed in the middle of a write leaves the database consistent (SQLite and PostgreSQL).

A child process loops over transactions of the repositories (each one: a
patient, its identity, a lab panel and their audit events) and is killed with
SIGKILL after about a second, mid-loop; the kill is repeated until at least
one lands inside an open transaction that has already written rows.  Then:
the file is intact (SQLite), every committed patient has its identity, its
whole lab panel and its audit events, no lab row is orphaned, the hash chain
verifies, and the database takes new writes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prrt.adapters.db import patients
from prrt.adapters.db.audit import verify_chain
from prrt.adapters.db.engine import make_engine, upgrade
from prrt.adapters.db.tables import AuditEvent, LabResult, Patient, PatientIdentity

from ..api._support import new_database

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]

LAB_PANEL = {
    "haemoglobin": "131 g/L",
    "platelets": "228 10^9/L",
    "neutrophils": "3.9 10^9/L",
    "lymphocytes": "1.6 10^9/L",
    "white_cells": "6.2 10^9/L",
    "creatinine": "75 µmol/L",
    "bilirubin": "9 µmol/L",
    "albumin": "41 g/L",
    "ast": "26 U/L",
    "alt": "24 U/L",
}

#: The writer: one transaction per patient; "wrote i" once rows are in the open transaction,
#: "commit i" after it committed.
WRITER = r"""
import sys
from datetime import date
from sqlalchemy.orm import sessionmaker
from prrt.adapters.db import patients
from prrt.adapters.db.engine import make_engine, session_scope

url, start, panel = sys.argv[1], int(sys.argv[2]), eval(sys.argv[3])
factory = sessionmaker(bind=make_engine(url), expire_on_commit=False)
i = start
while True:
    with session_scope(factory) as s:
        p = patients.create_patient(
            s,
            actor="crash.writer",
            data={
                "sex": "female" if i % 2 else "male",
                "age_years": 40 + i % 40,
                "weight": f"{60 + i % 30} kg",
                "pseudonym": f"CRASH-{i:06d}",
                "identity": {"family_name": f"Family{i}", "hospital_number": f"H{i}"},
            },
        )
        print(f"wrote {i}", flush=True)
        patients.record_labs(
            s, actor="crash.writer", patient_id=p.id, drawn_on=date(2026, 1, 5), values=panel
        )
    print(f"commit {i}", flush=True)
    i += 1
"""


def _run_and_kill(url: str, start: int, after_s: float) -> tuple[int, bool]:
    """Start the writer, SIGKILL it ``after_s`` seconds after its first commit.

    Returns the number of commits it reported and whether it died inside a transaction
    that had already written rows."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(start), repr(LAB_PANEL)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while True:  # wait for the first commit (imports and connection take a while)
            line = proc.stdout.readline()
            if line.startswith("commit") or not line or time.monotonic() > deadline:
                break
        assert line.startswith("commit"), proc.stderr.read() if proc.stderr else line
        time.sleep(after_s)
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, err
    lines = [line, *out.splitlines()]
    commits = sum(x.startswith("commit") for x in lines)
    mid_write = bool(lines) and lines[-1].startswith("wrote")
    return commits, mid_write


def _check_consistent(session: Session, *, backend: str) -> int:
    if backend == "sqlite":
        assert session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        assert session.execute(text("PRAGMA foreign_key_check")).all() == []
    patient_ids = set(session.execute(select(Patient.id)).scalars())
    identity_of = dict(
        session.execute(select(PatientIdentity.patient_id, PatientIdentity.id)).all()
    )
    assert set(identity_of) == patient_ids, "a patient without its identity (or the reverse)"
    labs = Counter(session.execute(select(LabResult.patient_id)).scalars())
    assert set(labs) <= patient_ids, "orphan lab rows"
    assert all(labs[p] == len(LAB_PANEL) for p in patient_ids), "a partial lab panel"
    created: dict[str, set[str]] = {}
    for entity, entity_id in session.execute(
        select(AuditEvent.entity, AuditEvent.entity_id).where(AuditEvent.action == "create")
    ).all():
        created.setdefault(entity, set()).add(entity_id)
    assert created.get("patient", set()) == {str(p) for p in patient_ids}
    assert created.get("patient_identity", set()) == {str(i) for i in identity_of.values()}
    lab_ids = {str(i) for i in session.execute(select(LabResult.id)).scalars()}
    assert created.get("lab_result", set()) == lab_ids
    n_events = session.execute(select(func.count(AuditEvent.id))).scalar_one()
    assert n_events == len(patient_ids) * (2 + len(LAB_PANEL))
    count, problems = verify_chain(session)
    assert problems == (), problems[:3]
    assert count == n_events
    return len(patient_ids)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_process_killed_mid_write_leaves_the_database_consistent(backend, tmp_path: Path):
    with new_database(backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            reported = 0
            mid_write = False
            for n, after_s in enumerate((1.2, 1.7, 0.9, 1.4, 1.1)):
                commits, mid_write = _run_and_kill(url, start=100_000 * (n + 1), after_s=after_s)
                reported += commits
                if mid_write:
                    break
            assert mid_write, "no kill landed inside a transaction"
            with Session(engine) as s:
                stored = _check_consistent(s, backend=backend)
            # every commit the writer reported is there (at most one more: killed after COMMIT)
            assert reported <= stored <= reported + n + 1
            # and the database goes on taking writes that chain to the trail
            with Session(engine) as s:
                patients.create_patient(
                    s, actor="after.crash", data={"sex": "male", "age_years": 50, "weight": "80 kg"}
                )
                s.commit()
            with Session(engine) as s:
                assert verify_chain(s)[1] == ()
                assert s.execute(select(func.count(Patient.id))).scalar_one() == stored + 1
        finally:
            engine.dispose()
