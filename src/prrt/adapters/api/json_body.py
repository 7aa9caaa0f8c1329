"""JSON bodies of the API routes, written by :func:`json.dumps` in the route's own thread.

FastAPI turns a route's dict into JSON with ``jsonable_encoder``, which walks every value
in Python on the event loop: for a 20 kB eligibility report that is about 2 ms, most of
the request.  :func:`json_endpoint` wraps a route so that a dict or list it returns is
serialised by the C encoder of :mod:`json` instead (same output as Starlette's
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

__all__ = ["json_bytes", "json_default", "json_endpoint"]


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


def json_endpoint(endpoint: Callable[..., Any], status_code: int) -> Callable[..., Any]:
    """``endpoint`` answering its dicts and lists as JSON responses with ``status_code``.

    The wrapper keeps the endpoint's signature (FastAPI reads its parameters and
    dependencies from it) and whether it is a coroutine function.  A
    :class:`~fastapi.responses.Response` the endpoint returns goes out unchanged.
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

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        return answer(endpoint(*args, **kwargs))

    return run
