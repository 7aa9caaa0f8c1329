"""Engines, sessions and migrations: SQLite (WAL) in a data folder by default, PostgreSQL by URL.

``database_url`` examples: ``sqlite:///prrt-data/prrt.db`` (the default of
``prrt serve``), ``postgresql+psycopg://user@host:5432/prrt``.  The schema is
created and upgraded only by Alembic migrations (:func:`upgrade`), never by
``create_all``, so that the production database and the tests follow the same
path.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
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
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from prrt.errors import InvalidInputError, PrrtError

try:
    import fcntl
except ImportError:  # Windows: writers of several processes meet SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DatabaseBusyError",
    "EncodedJson",
    "begin_write",
    "default_url",
    "make_engine",
    "session_scope",
    "upgrade",
]

#: How long a writer waits for the database (SQLite busy timeout and the process's writer lock).
BUSY_TIMEOUT_S = 10.0
_HOLDS_WRITE_LOCK = "prrt_holds_write_lock"
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


class DatabaseBusyError(PrrtError):
    """No write access to the database within the busy timeout (HTTP 503; nothing was changed)."""


class EncodedJson(str):
    """JSON text already encoded: a JSON column stores it as it is (no second encoding).

    For a large document that is also sent as it is (the eligibility report): encoded once,
    stored and answered from the same text.
    """


def _json_serializer(value: Any) -> str:
    """JSON columns' encoder: :class:`EncodedJson` as it is, anything else as SQLAlchemy would."""
    if isinstance(value, EncodedJson):
        return str(value)
    return json.dumps(value)


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
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url`` (SQLite gets WAL, foreign keys and a busy timeout).

    ``pool_size``: connections kept open (the service passes its number of concurrently
    served requests); up to twice as many more are opened under a burst.

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
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
            hide_parameters=True,
            json_serializer=_json_serializer,
            **(
                {}
                if parsed.database in (None, "", ":memory:")  # one connection, no pool sizes
                else {"pool_size": pool_size, "max_overflow": 2 * pool_size}
            ),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInputError("database_url", url, "an sqlite:/// or postgresql+psycopg:// URL")
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=2 * pool_size,
        hide_parameters=True,
        json_serializer=_json_serializer,
    )


def _write_lock(engine: Engine) -> threading.Lock:
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = threading.Lock()
        return lock


class _ProcessWriterLock:
    """An exclusive ``flock`` on ``<database>.writer-lock``, shared by a machine's processes.

    The writer of one process that holds its thread lock takes this lock too, so that the
    writers of several worker processes (``prrt serve --workers N``) hand over within a
    millisecond instead of in SQLite's busy-handler sleeps.  Only one thread per process
    ever polls it.  No-op where ``fcntl`` is missing (Windows) or for in-memory databases.
    """

    POLL_S = 0.0005

    def __init__(self, database: str | None) -> None:
        self._fd: int | None = None
        if fcntl is not None and database not in (None, "", ":memory:"):
            self._fd = os.open(f"{database}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, timeout_s: float) -> bool:
        if self._fd is None or fcntl is None:
            return True
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(self.POLL_S)

    def release(self) -> None:
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


_PROCESS_LOCKS: weakref.WeakKeyDictionary[Engine, _ProcessWriterLock] = weakref.WeakKeyDictionary()


def _process_lock(engine: Engine) -> _ProcessWriterLock:
    with _WRITE_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.get(engine)
        if lock is None:
            lock = _PROCESS_LOCKS[engine] = _ProcessWriterLock(engine.url.database)
        return lock


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite: ``BEGIN IMMEDIATE``) unless one is open.

    pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE (or a SAVEPOINT).  A
    transaction that has read before it writes then fails with "database is locked" when
    another connection committed in between (SQLite does not wait in that case), and a read
    just before the write may be stale.  Taking the write lock first (waiting up to the busy
    timeout) avoids both.

    Writers of one process first queue on a lock of the process (held until the transaction
    ends): SQLite's own busy handler waits by sleeping in steps of up to 100 ms, which made
    the slowest of many concurrent writers wait seconds; a thread lock hands over at once.
    Writers of several processes on one machine then queue on a file lock
    (:class:`_ProcessWriterLock`); others (another machine on a network share, which SQLite
    advises against) still meet SQLite's busy handler.  Every flush with changes
    calls this first (see :func:`_writer_before_flush`).  Nothing to do on PostgreSQL, where
    writers wait on row and advisory locks.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if not session.info.get(_HOLDS_WRITE_LOCK):
        engine = session.get_bind().engine
        busy = DatabaseBusyError(
            f"the database stayed busy for {BUSY_TIMEOUT_S:g} s; nothing was changed, try again"
        )
        start = time.monotonic()
        if not _write_lock(engine).acquire(timeout=BUSY_TIMEOUT_S):
            raise busy
        if not _process_lock(engine).acquire(BUSY_TIMEOUT_S - (time.monotonic() - start)):
            _write_lock(engine).release()
            raise busy
        session.info[_HOLDS_WRITE_LOCK] = engine
    raw = session.connection().connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        session.execute(text("BEGIN IMMEDIATE"))


@event.listens_for(Session, "before_flush")
def _writer_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        begin_write(session)


@event.listens_for(Session, "after_transaction_end")
def _release_write_lock(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        engine = session.info.pop(_HOLDS_WRITE_LOCK, None)
        if engine is not None:
            try:
                _process_lock(engine).release()
            finally:
                _write_lock(engine).release()


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
