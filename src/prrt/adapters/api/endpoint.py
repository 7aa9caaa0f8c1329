"""How an API route runs: its work, its commit and its JSON body, in one worker thread.

:func:`route_endpoint` wraps each route of :mod:`prrt.adapters.api.routes`:

* **Commit where the work ran.**  A route's transaction (its ``session`` argument)
  commits in the route's own thread as soon as the route returns, instead of after a
  hand-over back to the event loop and on to another thread.  A write holds the
  database's write lock from its first flush to its commit, and every other writer waits
  for it, so that stretch is kept to the database work itself.  An error in the commit
  propagates as from the route (the request's ``db_session`` rolls back).
* **JSON by the C encoder.**  FastAPI turns a route's dict into JSON with
  ``jsonable_encoder``, which walks every value in Python on the event loop (about 2 ms
  for a 20 kB eligibility report, most of the request).  A dict or list a route returns
  is written by :func:`json.dumps` instead, after the commit (same output as Starlette's
  ``JSONResponse``: UTF-8, compact, no NaN).  Values the encoder does not know (dates,
  enums, sets, pydantic models, dataclasses) are converted by :func:`json_default`; a
  result it still cannot write (a dict keyed by dates, say) goes through
  ``jsonable_encoder`` as before.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from pathlib import PurePath
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from prrt.adapters.api.concurrency import run_blocking

__all__ = ["json_bytes", "json_default", "json_with_encoded", "route_endpoint"]


def json_default(value: Any) -> Any:
    """A JSON-native stand-in for ``value`` (what ``jsonable_encoder`` would give)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return list(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(content: Any) -> bytes:
    """``content`` as the UTF-8 JSON body Starlette's ``JSONResponse`` would send."""
    try:
        text = json.dumps(
            content,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
            default=json_default,
        )
    except TypeError:  # e.g. non-string keys: the general (slow) encoder
        text = json.dumps(
            jsonable_encoder(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    return text.encode("utf-8")


def json_with_encoded(fields: dict[str, Any], **encoded: str) -> bytes:
    """The JSON object of ``fields`` followed by members whose values are JSON text already.

    Byte-identical to :func:`json_bytes` of ``{**fields, name: json.loads(text)}`` when each
    text is compact UTF-8 JSON (``separators=(",", ":")``, ``ensure_ascii=False``), as the
    stored eligibility report is: the report is not decoded and encoded again per answer.
    """
    head = json_bytes(fields)
    if not encoded:
        return head
    members = b",".join(
        json_bytes(name) + b":" + text.encode("utf-8") for name, text in encoded.items()
    )
    return head[:-1] + (b"," if fields else b"") + members + b"}"


def route_endpoint(endpoint: Callable[..., Any], status_code: int) -> Callable[..., Any]:
    """``endpoint`` committing its ``session`` and answering dicts and lists as JSON.

    The wrapper keeps the endpoint's signature (FastAPI reads its parameters and
    dependencies from it).  A sync endpoint runs, with its commit and its JSON, through
    :func:`~prrt.adapters.api.concurrency.run_blocking` (a worker thread, or the loop when
    the worker serves one request at a time); its ``session`` (a
    :class:`~sqlalchemy.orm.Session` argument of that name) commits there.  An async
    endpoint stays on the loop and its session commits in ``db_session`` as before.  A
    :class:`~fastapi.responses.Response` the endpoint returns goes out unchanged; a dict
    or list goes out as JSON with ``status_code``.
    """

    def answer(result: Any) -> Any:
        if isinstance(result, dict | list):
            return Response(json_bytes(result), status_code, media_type="application/json")
        return result

    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            return answer(await endpoint(*args, **kwargs))

        return run_async

    def work(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        session = kwargs.get("session")
        if isinstance(session, Session):
            session.commit()
        return answer(result)

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        # In a worker thread, as FastAPI runs a sync endpoint; on the loop when the worker
        # serves one request at a time (prrt.adapters.api.concurrency).
        return await run_blocking(work, *args, **kwargs)

    return run
