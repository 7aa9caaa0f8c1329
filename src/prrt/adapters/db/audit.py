"""Append-only, hash-chained audit trail of every create, update, delete and view of patient data.

Each event stores who, when, what (entity and id) and the record before and
after, with ``sha256 = SHA-256(previous_sha256 ‖ canonical JSON of the event)``
(the first event chains to 64 zeros).  :func:`verify_chain` recomputes the
chain: an edited event no longer matches its hash, a deleted one breaks the
link (reported with the gap it leaves in the ids), an inserted one breaks the
next link.  Gaps in the ids with intact links are normal on PostgreSQL, whose
sequences skip the ids of rolled-back transactions.  The
database also refuses UPDATE and DELETE on the table (migration 0002), so
tampering needs an administrator who drops that trigger, and is still found.

Appending takes a transaction-level lock (PostgreSQL advisory lock; SQLite's
write lock, taken with ``BEGIN IMMEDIATE`` before the last event is read) so
that two concurrent writers cannot chain to the same predecessor.  The lock is
held until the transaction ends, so a change appends its events as it makes
them, while a *view* (:func:`record_view`) is only noted and appended when the
transaction commits: a request that only reads holds the lock for the append
alone, not while the page is built.  The view's time is when it happened; if
the transaction fails, the view is not recorded (and nothing was shown).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from prrt.adapters.db.engine import begin_write
from prrt.adapters.db.tables import AuditEvent

__all__ = [
    "GENESIS_SHA256",
    "ChainProblem",
    "append_event",
    "event_digest",
    "record_view",
    "verify_chain",
]

GENESIS_SHA256 = "0" * 64
#: The hash of the newest event (built once: statement construction costs more than the query).
_CHAIN_HEAD = select(AuditEvent.sha256).order_by(AuditEvent.id.desc()).limit(1)
_INSERT_EVENT = insert(AuditEvent)
_ADVISORY_LOCK_KEY = 7_177_2025
ACTIONS = ("create", "update", "delete", "view")
_PENDING_VIEWS = "prrt_pending_views"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_digest(
    previous_sha256: str,
    *,
    at: datetime,
    username: str,
    action: str,
    entity: str,
    entity_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> str:
    """SHA-256 of the previous digest and the canonical JSON of the event."""
    body = _canonical(
        {
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "username": username,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }
    )
    return hashlib.sha256((previous_sha256 + body).encode("utf-8")).hexdigest()


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    else:
        # SQLite: in a request that has only read so far (a 'view') pysqlite has no transaction
        # open, so the read of the last event below would run outside it and two writers could
        # chain to the same predecessor: take the write lock first.
        begin_write(session)


def append_event(
    session: Session,
    *,
    username: str,
    action: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event in the caller's transaction (it commits or rolls back with the change).

    One Core INSERT on the session's connection: nothing reads the event back as a mapped
    object, and building one cost more than the insert.
    """
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not one of {ACTIONS}")
    _lock(session)
    connection = session.connection()
    last = connection.execute(_CHAIN_HEAD).scalar()
    previous = last if last is not None else GENESIS_SHA256
    connection.execute(
        _INSERT_EVENT,
        _event_values(previous, username, action, entity, entity_id, before, after, at),
    )


def _event_values(
    previous: str,
    username: str,
    action: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    at: datetime | None,
) -> dict[str, Any]:
    """The column values of the event after ``previous``, its hash included."""
    # JSON round trip: what is hashed is exactly what the JSON column gives back.
    before_j = json.loads(_canonical(before)) if before is not None else None
    after_j = json.loads(_canonical(after)) if after is not None else None
    at = at if at is not None else datetime.now(UTC)
    values: dict[str, Any] = {
        "at": at,
        "username": username,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": before_j,
        "after": after_j,
    }
    return {**values, "previous_sha256": previous, "sha256": event_digest(previous, **values)}


def record_view(
    session: Session,
    *,
    username: str,
    entity: str,
    entity_id: object,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Note a view of patient data; it is appended to the chain when the transaction commits."""
    session.connection()  # the transaction has begun, so its commit appends the view
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING_VIEWS, [])
    pending.append(
        {
            "username": username,
            "entity": entity,
            "entity_id": entity_id,
            "after": dict(after) if after is not None else None,
            "at": datetime.now(UTC),
        }
    )


@sa_event.listens_for(Session, "before_commit")
def _append_pending_views(session: Session) -> None:
    pending = session.info.pop(_PENDING_VIEWS, None)
    if not pending:
        return
    _lock(session)
    connection = session.connection()
    last = connection.execute(_CHAIN_HEAD).scalar()
    previous = last if last is not None else GENESIS_SHA256
    rows = []
    for view in pending:
        row = _event_values(
            previous,
            view["username"],
            "view",
            view["entity"],
            view["entity_id"],
            None,
            view["after"],
            view["at"],
        )
        rows.append(row)
        previous = row["sha256"]
    # One Core INSERT for the views (no mapped objects: nothing reads them back in this
    # transaction); ids follow the list's order, which is the chain's.
    connection.execute(_INSERT_EVENT, rows)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_pending_views(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING_VIEWS, None)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One break of the audit chain."""

    event_id: int
    problem: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {"event_id": self.event_id, "problem": self.problem}


def verify_chain(session: Session) -> tuple[int, tuple[ChainProblem, ...]]:
    """Recompute the chain; returns (events checked, problems found)."""
    problems: list[ChainProblem] = []
    previous = GENESIS_SHA256
    expected_id = None
    count = 0
    for event in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        count += 1
        # A gap in the ids alone is no sign of deletion: PostgreSQL's sequence skips the ids of
        # rolled-back (or killed) transactions.  A deleted event also breaks the link below.
        if (
            expected_id is not None
            and event.id != expected_id
            and event.previous_sha256 != previous
        ):
            problems.append(
                ChainProblem(
                    event.id, f"events {expected_id}..{event.id - 1} are missing (deleted)"
                )
            )
        if event.previous_sha256 != previous:
            problems.append(
                ChainProblem(
                    event.id, "does not chain to the event before it (deleted or inserted)"
                )
            )
        at = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
        digest = event_digest(
            event.previous_sha256,
            at=at,
            username=event.username,
            action=event.action,
            entity=event.entity,
            entity_id=event.entity_id,
            before=event.before,
            after=event.after,
        )
        if digest != event.sha256:
            problems.append(ChainProblem(event.id, "content does not match its hash (altered)"))
        previous = event.sha256
        expected_id = event.id + 1
    return count, tuple(problems)
