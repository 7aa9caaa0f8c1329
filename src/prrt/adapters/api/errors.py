"""One error handler: every failure becomes an RFC 9457 problem-details response.

================================  ======  ==========================================
error                             status  body
================================  ======  ==========================================
InvalidInputError (bad value)     422     field, value, expected, hint
request body/query not valid      422     field (JSON path), expected
DataError (value not storable)    422     (PostgreSQL: NUL character, text too long)
NotFoundError                     404
StaleVersionError                 409     current version
NotAuthenticated                  401     (``WWW-Authenticate: Bearer``)
Forbidden / CSRF                  403
TooManyAttempts                   429     ``Retry-After``
DatabaseBusyError                 503     ``Retry-After`` (no write lock in 10 s)
other PrrtError                   500     message (no stack trace, no patient data)
================================  ======  ==========================================
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from prrt.adapters.db.engine import DatabaseBusyError
from prrt.adapters.db.repository import NotFoundError, StaleVersionError
from prrt.errors import InvalidInputError, PrrtError

__all__ = ["Forbidden", "NotAuthenticated", "TooManyAttempts", "install_error_handler", "problem"]

log = logging.getLogger("prrt.api")
PROBLEM = "application/problem+json"


class NotAuthenticated(Exception):
    """No valid session or bearer token."""


class Forbidden(Exception):
    """Signed in, but the role lacks the permission (or the CSRF token is wrong)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class TooManyAttempts(Exception):
    """Sign-in rate limit reached."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite numbers as text (JSON has no NaN or infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(_json_safe(body), status_code=status, media_type=PROBLEM)


def _page(request: Request) -> bool:
    """A web page (not the API): errors are HTML, a missing sign-in redirects."""
    return not request.url.path.startswith(("/api", "/openapi", "/docs"))


def _html(status: int, title: str, detail: str) -> HTMLResponse:
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>'
        '<link rel="stylesheet" href="/static/prrt.css"></head><body><main><h1>{t}</h1>'
        '<p>{d}</p><p><a href="/patients">Back to the patient list</a></p></main></body></html>'
    )
    from html import escape

    return HTMLResponse(body.format(t=escape(title), d=escape(detail)), status_code=status)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install_error_handler(app: FastAPI) -> None:
    """Register the handler for every error type above."""

    @app.exception_handler(InvalidInputError)
    async def _invalid(_r: Request, err: InvalidInputError) -> JSONResponse:
        return problem(422, "Invalid input", str(err), **err.to_problem())

    @app.exception_handler(RequestValidationError)
    async def _validation(_r: Request, err: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _loc(tuple(e.get("loc", ()))), "expected": e.get("msg", "")}
            for e in err.errors()
        ]
        first = errors[0] if errors else {"field": "body", "expected": "a valid request"}
        return problem(
            422,
            "Invalid input",
            f"{first['field']}: {first['expected']}",
            field=first["field"],
            errors=errors,
        )

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, err: NotFoundError) -> Response:
        if _page(request):
            return _html(404, "Not found", str(err))
        return problem(404, "Not found", str(err))

    @app.exception_handler(StaleVersionError)
    async def _stale(request: Request, err: StaleVersionError) -> Response:
        if _page(request):
            return _html(409, "Changed by someone else", str(err))
        return problem(409, "Conflict", str(err), current_version=err.current)

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(request: Request, _err: NotAuthenticated) -> Response:
        if _page(request):
            return RedirectResponse("/sign-in", status_code=303)
        response = problem(401, "Not signed in", "sign in, or send 'Authorization: Bearer <token>'")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, err: Forbidden) -> Response:
        if _page(request):
            return _html(403, "Forbidden", err.detail)
        return problem(403, "Forbidden", err.detail)

    @app.exception_handler(TooManyAttempts)
    async def _too_many(_r: Request, err: TooManyAttempts) -> JSONResponse:
        response = problem(429, "Too many attempts", str(err))
        response.headers["Retry-After"] = str(err.retry_after_s)
        return response

    @app.exception_handler(DatabaseBusyError)
    async def _busy(request: Request, err: DatabaseBusyError) -> Response:
        response: Response
        if _page(request):
            response = _html(503, "Busy", str(err))
        else:
            response = problem(503, "Service busy", str(err))
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, _err: DataError) -> Response:
        # e.g. a NUL character or a text longer than its column, which PostgreSQL refuses;
        # the message names no value (it could be patient data).
        detail = "a value the database cannot store (too long, or with a NUL character)"
        if _page(request):
            return _html(422, "Invalid input", detail)
        return problem(422, "Invalid input", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, err: StarletteHTTPException) -> JSONResponse:
        return problem(err.status_code, "HTTP error", str(err.detail))

    @app.exception_handler(PrrtError)
    async def _prrt(_r: Request, err: PrrtError) -> JSONResponse:
        log.error("%s: %s", type(err).__name__, err)
        return problem(500, type(err).__name__, str(err))
