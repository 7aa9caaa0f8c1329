"""``create_app(settings)``: the service — REST API, web pages, security headers, one error handler."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import time
import weakref
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prrt import __version__
from prrt.adapters.api.concurrency import serving_one_at_a_time
from prrt.adapters.api.deps import SignInLimiter
from prrt.adapters.api.errors import install_error_handler
from prrt.adapters.api.routes import router as api_router
from prrt.adapters.api.settings import Settings
from prrt.adapters.api.worker_balance import ConnectionBalancer
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
    engine = make_engine(settings.resolved_database_url(), pool_size=settings.max_active_requests)
    if settings.migrate_on_start:
        upgrade(engine)
    # Several worker processes: this one's slot on their board (its own process, so claimed
    # here, when uvicorn's worker builds its app).
    balancer = ConnectionBalancer(settings.worker_board) if settings.worker_board else None
    app = FastAPI(
        lifespan=functools.partial(_lifespan, balancer=balancer),
        docs_url=None,  # /docs is served by the pages, from the installed Swagger UI
        redoc_url=None,
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

    # At most max_active_requests requests run their (blocking, threaded) work at once; the
    # others wait here on the event loop, holding no thread and no database connection.
    # Unbounded, 50 concurrent requests meant 40 threads handing the GIL to each other and
    # waiting for pooled connections.
    app.add_middleware(
        _HeadersLogAndLimit,
        max_active=settings.max_active_requests,
        balancer=balancer,
    )
    return app


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI, balancer: ConnectionBalancer | None) -> AsyncIterator[None]:
    """Compile the templates, freeze the start-up heap; with workers, publish connections.

    ``gc.freeze()``: the objects that exist once the app is built (modules, the ORM's
    mappings, compiled statements, templates: several hundred thousand) are moved out of
    the collector's generations.  Without it, each full collection walked all of them,
    about 150 ms every few seconds under load, and every request queued behind it waited
    that long (p99 twice p50 with 50 clients).
    """
    from prrt.adapters.web.pages import compile_templates

    compile_templates()  # before the freeze: the compiled templates live as long
    gc.collect()
    gc.freeze()
    if balancer is None:
        yield
        return
    task = asyncio.create_task(balancer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        balancer.close()


_HEADER_BYTES = [
    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()
]


class _HeadersLogAndLimit:
    """Plain ASGI middleware: security headers, a log line per request, the concurrency bound.

    With several worker processes it also asks a client to reconnect when this worker holds
    more than its share of the connections (:mod:`prrt.adapters.api.worker_balance`).

    (Starlette's ``BaseHTTPMiddleware`` would cost a task and a memory stream per request.)
    The log names the route template, never the URL: no ids, names or query strings.
    """

    def __init__(
        self, app: ASGIApp, max_active: int, balancer: ConnectionBalancer | None = None
    ) -> None:
        self.app = app
        self.max_active = max_active
        self.balancer = balancer
        # One limiter per event loop: an asyncio limiter cannot wake a waiter of another
        # loop (uvicorn runs one loop per process; test clients run one each).
        self._limiters: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anyio.CapacityLimiter
        ] = weakref.WeakKeyDictionary()

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.max_active)
        return limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        static = scope["path"].startswith("/static/")
        status = [500]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for key, value in _HEADER_BYTES:
                    if key == b"cache-control" and static:
                        headers = [(k, v) for k, v in headers if k.lower() != key]
                        headers.append((key, b"public, max-age=3600"))
                    elif key not in present:
                        headers.append((key, value))
                if (
                    self.balancer is not None
                    and b"connection" not in present
                    and self.balancer.close_after(scope.get("client"))
                ):
                    headers.append((b"connection", b"close"))  # reconnect: see worker_balance
                message = {**message, "headers": headers}
            await send(message)

        if self.balancer is not None:
            self.balancer.saw(scope.get("client"))
        if static:
            await self.app(scope, receive, send_with_headers)
        else:
            async with self._limiter():
                with serving_one_at_a_time(self.max_active == 1):
                    await self.app(scope, receive, send_with_headers)
        route = scope.get("route")
        log.info(
            "%s %s %d %.1f ms",
            scope["method"],
            getattr(route, "path", "unmatched"),
            status[0],
            1000 * (time.perf_counter() - start),
        )


def create_app_from_env() -> FastAPI:
    """App factory of ``prrt serve --workers N``: settings from ``PRRT_SERVICE_SETTINGS`` (JSON)."""
    import os

    raw = os.environ.get(SECURITY_ENV)
    if not raw:
        raise RuntimeError(f"{SECURITY_ENV} is not set (start the service with prrt serve)")
    return create_app(Settings.model_validate_json(raw))
