"""Request dependencies: one transaction per request, the signed-in user, permissions, CSRF.

Authentication: a ``prrt_session`` cookie (web pages; HttpOnly, SameSite=Strict)
or an ``Authorization: Bearer`` token (API).  A cookie-authenticated request that
changes something must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); bearer requests are not exposed to
CSRF (browsers never add the header by themselves).
"""

from __future__ import annotations

import hmac
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from threading import Lock
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from prrt.adapters.api.concurrency import run_blocking
from prrt.adapters.api.errors import Forbidden, NotAuthenticated, TooManyAttempts
from prrt.adapters.api.permissions import Permission, allowed
from prrt.adapters.db.repository import SignedIn, user_for_api_token, user_for_session

__all__ = [
    "SESSION_COOKIE",
    "CurrentUser",
    "Principal",
    "SessionDep",
    "SignInLimiter",
    "authenticate_request",
    "check_csrf",
    "db_session",
    "require",
]

SESSION_COOKIE = "prrt_session"
_SAFE = {"GET", "HEAD", "OPTIONS"}


async def db_session(request: Request) -> AsyncIterator[Session]:
    """A session whose transaction commits when the request succeeds and rolls back otherwise.

    Creating the session does no I/O, so it happens on the event loop; the commit or
    rollback (I/O) runs in a worker thread (on the loop when the worker serves one request
    at a time, :mod:`prrt.adapters.api.concurrency`): one hand-over instead of two.  A sync
    API route has committed in its own thread already
    (:func:`~prrt.adapters.api.endpoint.route_endpoint`); then nothing is left to commit
    and no hand-over happens.
    The rollback and close are shielded from cancellation (a client that hangs up): an
    unfinished transaction would keep its connection and the write lock.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
        if session.in_transaction():
            await run_blocking(session.commit)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_blocking(session.rollback)
        raise
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):
                await run_blocking(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(db_session)]


@dataclass(frozen=True)
class Principal:
    """Who is asking, and how they signed in."""

    user: SignedIn
    via: str  # "session" | "token"

    @property
    def csrf_token(self) -> str | None:
        """The page session's CSRF token (None for a bearer token)."""
        return self.user.csrf_token

    @property
    def username(self) -> str:
        """The user's name (the audit trail's 'who')."""
        return self.user.username

    def can(self, permission: Permission) -> bool:
        """Whether this user's role holds ``permission``."""
        return allowed(self.user.role, permission)


def authenticate_request(request: Request, session: Session) -> Principal:
    """The user of the request's bearer token or session cookie (blocking: database lookups)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_api_token(session, header[7:].strip())
        if user is None:
            raise NotAuthenticated
        return Principal(user, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        signed_in = user_for_session(session, cookie)
        if signed_in is not None:
            return Principal(signed_in, "session")
    raise NotAuthenticated


async def current_user(request: Request, session: SessionDep) -> Principal:
    """The signed-in user (401 without a valid session or token).

    The lookups run in a worker thread (unless the worker serves one request at a time,
    :mod:`prrt.adapters.api.concurrency`), not on the server's event loop: waiting there for
    a pooled connection (all held by requests that need the loop to finish) would hang
    every request.
    """
    principal = await run_blocking(authenticate_request, request, session)
    await check_csrf(request, principal)
    return principal


async def check_csrf(request: Request, principal: Principal) -> None:
    """A cookie-authenticated request that changes something must carry the CSRF token (403)."""
    if principal.via != "session" or request.method in _SAFE:
        return
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf_token")  # cached: the route reads the same form
        sent = value if isinstance(value, str) else None
    if (
        not sent
        or principal.csrf_token is None
        or not hmac.compare_digest(sent, principal.csrf_token)
    ):
        raise Forbidden("missing or wrong CSRF token: reload the page and submit the form again")


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(permission: Permission) -> object:
    """Dependency: the signed-in user, who must hold ``permission`` (403 otherwise)."""

    async def _check(principal: CurrentUser) -> Principal:  # no I/O: stays on the loop
        if not principal.can(permission):
            raise Forbidden(
                f"role '{principal.user.role}' may not {permission.value.replace('_', ' ')}"
            )
        return principal

    return Depends(_check)


class SignInLimiter:
    """Failed sign-ins per (user name, client address) in a sliding window (in process memory)."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = Lock()

    def check(self, username: str, client: str) -> None:
        """Raise :class:`TooManyAttempts` when the window is full."""
        now = time.monotonic()
        with self._lock:
            q = self._failures.get((username.lower(), client))
            if q is None:
                return
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.attempts:
                raise TooManyAttempts(int(self.window_s - (now - q[0])) + 1)

    def failed(self, username: str, client: str) -> None:
        """Record a failed attempt."""
        with self._lock:
            self._failures.setdefault((username.lower(), client), deque()).append(time.monotonic())

    def succeeded(self, username: str, client: str) -> None:
        """Forget the failures of this pair."""
        with self._lock:
            self._failures.pop((username.lower(), client), None)
