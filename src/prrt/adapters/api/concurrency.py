"""Where a request's blocking work runs: in a worker thread, or on the event loop itself.

The service's database work, rules and rendering are blocking code.  A worker process
that serves several requests at once (``Settings.max_active_requests`` > 1, the default)
runs that work in a thread of its pool, so that the event loop stays free to read and
answer the other requests; a request waiting there for SQLite's write lock must not
stall the loop that the lock holder needs.

A worker process that serves **one request at a time** (``prrt serve --max-active 1``,
the choice for several worker processes on few cores) has no other request to keep
going: the others wait in line for the concurrency bound anyway, and no request of this
process can hold the write lock while another waits for it.  There the work runs on the
loop itself, which saves the hand-over to a thread and back for the sign-in lookup, the
route and its commit (measured: about 0.2 ms of CPU per API request and 0.6 ms per page
on the 2-core test machine; ``docs/service.md``, Performance).

The choice is made per request by the concurrency bound
(:class:`~prrt.adapters.api.app._HeadersLogAndLimit`, :func:`serving_one_at_a_time`)
and read here by every place that runs blocking work (:func:`run_blocking`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from fastapi.concurrency import run_in_threadpool

__all__ = ["run_blocking", "runs_on_loop", "serving_one_at_a_time"]

P = ParamSpec("P")
R = TypeVar("R")

_ON_LOOP: ContextVar[bool] = ContextVar("prrt_blocking_work_on_loop", default=False)


@contextmanager
def serving_one_at_a_time(alone: bool) -> Iterator[None]:
    """Within this block the request's blocking work runs on the loop when ``alone`` is true."""
    token = _ON_LOOP.set(alone)
    try:
        yield
    finally:
        _ON_LOOP.reset(token)


def runs_on_loop() -> bool:
    """Whether the current request runs its blocking work on the event loop."""
    return _ON_LOOP.get()


async def run_blocking(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``fn(*args, **kwargs)``: on the loop when serving one request at a time, else in a thread."""
    if _ON_LOOP.get():
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)
