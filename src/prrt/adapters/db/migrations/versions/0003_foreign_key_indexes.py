"""Indexes on the foreign keys that every page view and evaluation looks rows up by

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

A patient's labs, studies, evaluations, courses and response assessments, a course's
cycles and decisions, a study's files and a user's sessions and tokens were found by
scanning their tables: fine with one demo patient, a full scan per query in a clinic's
database of thousands.  (Columns that are unique, or lead a unique constraint, have an
index already.)  The latest evaluation of a patient and the latest decision of a course
are read from two-column indexes ending in ``id``.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: (table, columns) of every foreign key without an index until now.
FOREIGN_KEYS = (
    ("api_tokens", ("user_id",)),
    ("sign_in_sessions", ("user_id",)),
    ("imaging_studies", ("patient_id",)),
    ("imaging_files", ("study_id",)),
    ("lab_results", ("patient_id",)),
    ("eligibility_evaluations", ("patient_id", "id")),
    ("courses", ("patient_id",)),
    ("cycles", ("course_id",)),
    ("decisions", ("course_id", "id")),
    ("response_assessments", ("patient_id",)),
)


def _name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns in FOREIGN_KEYS:
        op.create_index(_name(table, columns), table, list(columns))


def downgrade() -> None:
    for table, columns in reversed(FOREIGN_KEYS):
        op.drop_index(_name(table, columns), table_name=table)
