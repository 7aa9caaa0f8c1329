"""Shared pieces of the repositories: errors, optimistic locking, snapshots, accounts.

Every change goes through a repository function that takes the session of the
caller's transaction (one request = one transaction, :func:`session_scope`),
the acting user's name, and writes its audit event in the same transaction, so
a change and its audit record commit or roll back together.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, bindparam, inspect, select
from sqlalchemy.orm import Session

from prrt.adapters.db.audit import append_event
from prrt.adapters.db.tables import ApiToken, Base, SignInSession, User, utcnow
from prrt.errors import InvalidInputError, PrrtError

__all__ = [
    "ROLES",
    "NotFoundError",
    "SignedIn",
    "StaleVersionError",
    "authenticate",
    "check_version",
    "create_api_token",
    "create_sign_in_session",
    "create_user",
    "end_sign_in_session",
    "get_or_404",
    "reader",
    "shared_document",
    "snapshot",
    "user_for_api_token",
    "user_for_session",
]

ROLES = ("admin", "physician", "physicist", "nurse", "viewer")
_HASHER = PasswordHasher()
#: A password is at least this long (NIST SP 800-63B: ≥ 8 for user-chosen secrets).
MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 12
TOKEN_DAYS = 90

T = TypeVar("T", bound=Base)


class NotFoundError(PrrtError, LookupError):
    """The record does not exist (HTTP 404)."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} not found")
        self.entity = entity
        self.entity_id = entity_id


class StaleVersionError(PrrtError):
    """The update names a version that is no longer current (HTTP 409); nothing was changed."""

    def __init__(self, entity: str, entity_id: object, given: int, current: int) -> None:
        super().__init__(
            f"{entity} {entity_id} was changed by someone else: version {given} was read, "
            f"the current version is {current}; reload and apply the change again"
        )
        self.entity = entity
        self.current = current


def reader(session: Session) -> Connection:
    """The session's connection, for Core statements that build no mapped objects.

    ``session.execute`` takes every statement through the ORM's execution layer, which cost
    as much again as a short query on the connection; a Core select of columns needs none
    of it.  Pending changes are flushed first, as the session's autoflush would before a
    query, so the read sees them.
    """
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


@functools.lru_cache(maxsize=256)
def shared_document(text: str) -> Any:
    """``json.loads(text)``, decoded once per text and then shared: **read it, never change it**.

    For the large stored documents that every page view reads and no request changes (the
    latest eligibility report, 21 kB; a decision with its rule outcomes, 18 kB): decoding
    them was a tenth of a page view.  The key is the stored text itself, so that another
    database, or a record stored again, can never be given a stale document.
    """
    return json.loads(text)


def snapshot(row: Base | Row[Any]) -> dict[str, Any]:
    """Column values of a row (JSON-friendly) for the audit trail.

    ``row``: a mapped object, or a row of a Core query on its table (read-only lists).
    """
    out: dict[str, Any] = {}
    items = (
        row._mapping.items()
        if isinstance(row, Row)
        else ((attr.key, getattr(row, attr.key)) for attr in inspect(row).mapper.column_attrs)
    )
    for key, value in items:
        if isinstance(value, datetime | date):
            value = value.isoformat()
        out[key] = value
    out.pop("password_hash", None)
    return out


def get_or_404(session: Session, table: type[T], entity_id: int) -> T:
    """The row with ``entity_id`` or :class:`NotFoundError`."""
    row = session.get(table, entity_id)
    if row is None:
        raise NotFoundError(table.__tablename__, entity_id)
    return row


def check_version(row: Any, version: int, entity: str) -> None:
    """Refuse an update that read an older version (the caller then changes nothing)."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInputError("version", version, "the integer version the record was read at")
    if row.version != version:
        raise StaleVersionError(entity, row.id, version, row.version)


def bump(row: Any) -> None:
    """Next version and update time of an edited row."""
    row.version += 1
    row.updated_at = utcnow()


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(session: Session, *, actor: str, username: str, password: str, role: str) -> User:
    """A new local account with an argon2id hash of its password."""
    if role not in ROLES:
        raise InvalidInputError("role", role, "one of " + ", ".join(ROLES))
    if (
        not (3 <= len(username) <= 64)
        or not username.replace("-", "").replace(".", "").replace("_", "").isalnum()
    ):
        raise InvalidInputError("username", username, "3–64 letters, digits, '.', '-' or '_'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            "password", "(hidden)", f"at least {MIN_PASSWORD_LENGTH} characters"
        )
    if session.execute(select(User).where(User.username == username)).scalar() is not None:
        raise InvalidInputError("username", username, "a user name that is not taken")
    user = User(username=username, password_hash=_HASHER.hash(password), role=role, active=True)
    session.add(user)
    session.flush()
    append_event(
        session,
        username=actor,
        action="create",
        entity="user",
        entity_id=user.id,
        after=snapshot(user),
    )
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (timing does not reveal which failed)."""
    user = session.execute(select(User).where(User.username == username)).scalar()
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def create_sign_in_session(session: Session, user: User) -> tuple[str, SignInSession]:
    """A new sign-in session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    row = SignInSession(
        user_id=user.id,
        token_sha256=_sha256(token),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=SESSION_HOURS),
    )
    session.add(row)
    session.flush()
    return token, row


def user_for_session(session: Session, token: str) -> SignedIn | None:
    """The user of a page session's cookie token, with its CSRF token, if valid and not expired."""
    found = session.connection().execute(_SESSION_USER, {"token_sha256": _sha256(token)}).first()
    if found is None or not found.active or _aware(found.expires_at) <= utcnow():
        return None
    return SignedIn(found.user_id, found.username, found.role, found.csrf_token)


def end_sign_in_session(session: Session, token: str) -> None:
    """Sign out: delete the session of this token."""
    row = session.execute(
        select(SignInSession).where(SignInSession.token_sha256 == _sha256(token))
    ).scalar()
    if row is not None:
        session.delete(row)


def create_api_token(session: Session, *, actor: str, user: User, label: str = "") -> str:
    """A new bearer token for ``user`` (shown once; only its hash is stored)."""
    token = "prrt_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_sha256=_sha256(token),
        label=label[:64],
        expires_at=utcnow() + timedelta(days=TOKEN_DAYS),
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        username=actor,
        action="create",
        entity="api_token",
        entity_id=row.id,
        after={"user_id": user.id, "label": row.label, "expires_at": row.expires_at.isoformat()},
    )
    return token


def user_for_api_token(session: Session, token: str) -> SignedIn | None:
    """The user of a bearer token, if valid (not revoked, not expired, the account active)."""
    found = session.connection().execute(_TOKEN_USER, {"token_sha256": _sha256(token)}).first()
    if found is None or found.revoked or not found.active or _aware(found.expires_at) <= utcnow():
        return None
    return SignedIn(found.user_id, found.username, found.role)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a cookie or bearer token belongs to: read from one row, no mapped object built."""

    user_id: int
    username: str
    role: str
    #: The page session's CSRF token (None for a bearer token).
    csrf_token: str | None = None


def _lookup(table: type[SignInSession] | type[ApiToken], *extra: Any) -> Any:
    """The account columns of a token (by its hash, a bound parameter), built once."""
    return (
        select(
            User.id.label("user_id"),
            User.username,
            User.role,
            User.active,
            table.expires_at,
            *extra,
        )
        .join(User, User.id == table.user_id)
        .where(table.token_sha256 == bindparam("token_sha256"))
    )


#: The lookups of every authenticated request (Core rows on the session's connection).
_SESSION_USER = _lookup(SignInSession, SignInSession.csrf_token)
_TOKEN_USER = _lookup(ApiToken, ApiToken.revoked)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
