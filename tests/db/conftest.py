"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: ``PRRT_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``,
the server ``.ci/run`` starts or installs).  A fresh database is created per test
session and dropped at the end.  Without a server the PostgreSQL cases are
skipped locally and fail in CI (``CI=true``), so CI never passes on SQLite alone.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from prrt.adapters.db.engine import make_engine, upgrade

ADMIN_URL = os.environ.get(
    "PRRT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_database() -> str | None:
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"prrt_test_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as err:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI ({ADMIN_URL}): {err}")
        return None
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database of each backend (one per test session)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'prrt.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    url = _postgres_database()
    if url is None:
        pytest.skip("no PostgreSQL server (set PRRT_TEST_POSTGRES_URL); CI requires one")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    _drop_postgres(url)


@pytest.fixture(scope="session")
def engine(database_url):
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    """One transaction per test, rolled back at the end (nothing leaks between tests)."""
    connection = engine.connect()
    outer = connection.begin()
    sess = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield sess
    sess.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def factory(engine):
    return sessionmaker(bind=engine, expire_on_commit=False)
