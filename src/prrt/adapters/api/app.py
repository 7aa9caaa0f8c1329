"""``create_app(settings)``: the service — REST API, web pages, security headers, one error handler."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from sqlalchemy.orm import sessionmaker

from prrt import __version__
from prrt.adapters.api.deps import SignInLimiter
from prrt.adapters.api.errors import install_error_handler
from prrt.adapters.api.routes import router as api_router
from prrt.adapters.api.settings import Settings
from prrt.adapters.db.engine import make_engine, upgrade

__all__ = ["SECURITY_ENV", "SECURITY_HEADERS", "create_app", "create_app_from_env"]

#: Environment variable holding the settings (JSON) of worker processes started by ``prrt serve --workers``.
SECURITY_ENV = "PRRT_SERVICE_SETTINGS"

log = logging.getLogger("prrt.http")

#: Sent with every response.  No third-party origin is allowed: the pages load only
#: their own stylesheet and images.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings) -> FastAPI:
    """Build the service for ``settings`` (migrates the database first unless told not to)."""
    engine = make_engine(settings.resolved_database_url())
    if settings.migrate_on_start:
        upgrade(engine)
    app = FastAPI(
        title="prrt clinic service",
        version=__version__,
        description=(
            "PRRT pathway for a nuclear-medicine department: patients, imaging findings, labs, "
            "eligibility, course plans, administrations, dosimetry, next-cycle decisions and "
            "response. Errors are RFC 9457 problem details; quantities carry their unit ('7.4 GBq')."
        ),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.sign_in_limiter = SignInLimiter(settings.sign_in_attempts, settings.sign_in_window_s)
    install_error_handler(app)
    app.include_router(api_router)
    from prrt.adapters.web import pages

    pages.install(app)

    @app.middleware("http")
    async def _headers_and_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "public, max-age=3600"
        # The route template, never the URL: no ids, names or query strings in the log.
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        log.info(
            "%s %s %d %.1f ms",
            request.method,
            path,
            response.status_code,
            1000 * (time.perf_counter() - start),
        )
        return response

    return app


def create_app_from_env() -> FastAPI:
    """App factory of ``prrt serve --workers N``: settings from ``PRRT_SERVICE_SETTINGS`` (JSON)."""
    import os

    raw = os.environ.get(SECURITY_ENV)
    if not raw:
        raise RuntimeError(f"{SECURITY_ENV} is not set (start the service with prrt serve)")
    return create_app(Settings.model_validate_json(raw))
