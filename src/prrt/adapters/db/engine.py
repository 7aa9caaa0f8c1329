"""Engines, sessions and migrations: SQLite (WAL) in a data folder by default, PostgreSQL by URL.

``database_url`` examples: ``sqlite:///prrt-data/prrt.db`` (the default of
``prrt serve``), ``postgresql+psycopg://user@host:5432/prrt``.  The schema is
created and upgraded only by Alembic migrations (:func:`upgrade`), never by
``create_all``, so that the production database and the tests follow the same
path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from prrt.errors import InvalidInputError

__all__ = ["begin_write", "default_url", "make_engine", "session_scope", "upgrade"]


def default_url(data_dir: Path | str) -> str:
    """SQLite database ``prrt.db`` in ``data_dir`` (created)."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'prrt.db').resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; synchronous=FULL: a committed transaction survives
    # a crash of the process or the machine; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite gets WAL, foreign keys and a busy timeout).

    ``hide_parameters``: a database error's message (which may reach a log) never carries
    the bound values, which can be patient data."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise InvalidInputError(
            "database_url", url, "an SQLAlchemy URL such as sqlite:///prrt-data/prrt.db"
        ) from err
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInputError("database_url", url, "an sqlite:/// or postgresql+psycopg:// URL")
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite: ``BEGIN IMMEDIATE``) unless one is open.

    pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE (or a SAVEPOINT).  A
    transaction that has read before it writes then fails with "database is locked" when
    another connection committed in between (SQLite does not wait in that case), and a read
    just before the write may be stale.  Taking the write lock first (waiting up to the busy
    timeout) avoids both.  Nothing to do on PostgreSQL.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.connection().connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        session.execute(text("BEGIN IMMEDIATE"))


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    location = resources.files("prrt.adapters.db").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision``."""
    command.upgrade(_alembic_config(engine), revision)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
