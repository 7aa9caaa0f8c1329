"""The migrations build the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from prrt.adapters.db.tables import Base

pytestmark = pytest.mark.db


def test_the_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("lab_results", "patient_id"),
        ("eligibility_evaluations", "patient_id"),
        ("courses", "patient_id"),
        ("cycles", "course_id"),
        ("decisions", "course_id"),
    ],
)
def test_the_rows_of_a_patient_or_course_are_found_by_index(engine, table, column):
    leading = {ix["column_names"][0] for ix in inspect(engine).get_indexes(table)}
    assert column in leading
