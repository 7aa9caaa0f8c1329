"""How an API route runs: commit in the route's thread, JSON written by the C encoder.

The JSON must be byte for byte what FastAPI's own path (``jsonable_encoder`` and
Starlette's ``JSONResponse``) would have sent, for every kind of value a route returns.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePosixPath

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from prrt.adapters.api.concurrency import run_blocking, runs_on_loop, serving_one_at_a_time
from prrt.adapters.api.endpoint import json_bytes, json_with_encoded, route_endpoint
from prrt.adapters.db.audit import record_view
from prrt.adapters.db.engine import make_engine, upgrade
from prrt.adapters.db.tables import AuditEvent


class _Verdict(Enum):
    ELIGIBLE = "eligible"


class _Dose(BaseModel):
    region: str
    dose_gy: float


@dataclass
class _Limit:
    organ: str
    limit_gy: float


CONTENT = {
    "id": 7,
    "verdict": _Verdict.ELIGIBLE,
    "drawn_on": date(2027, 1, 11),
    "at": datetime(2027, 1, 11, 9, 5, tzinfo=UTC),
    "tags": ("a", "b"),
    "dose": _Dose(region="kidneys", dose_gy=3.9),
    "limit": _Limit(organ="kidneys", limit_gy=23.0),
    "path": PurePosixPath("/data/spect.dcm"),
    "text": "Krenning ≥ 3, 177Lu",
    "nested": [{"x": None, "y": True, "z": 1.5e-9}],
}


def _fastapi_body(content: object) -> bytes:
    return bytes(JSONResponse(jsonable_encoder(content)).body)


def test_the_body_is_what_fastapi_would_send():
    assert json_bytes(CONTENT) == _fastapi_body(CONTENT)


def test_keys_the_encoder_cannot_write_go_the_general_way():
    content = {date(2027, 1, 11): 1, "set": {3}}
    assert json_bytes(content) == _fastapi_body(content)


def test_nan_is_refused_as_starlette_refuses_it():
    with pytest.raises(ValueError):
        json_bytes({"dose_gy": math.nan})
    with pytest.raises(ValueError):
        JSONResponse({"dose_gy": math.nan})


@pytest.fixture
def factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    upgrade(engine)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def _views(factory) -> int:
    with factory() as s:
        return int(s.execute(select(func.count(AuditEvent.id))).scalar_one())


def _call(wrapped, alone: bool = False, **kwargs):
    """Await ``wrapped(**kwargs)`` on a new loop, serving one request at a time or not."""

    async def call():
        with serving_one_at_a_time(alone):
            return await wrapped(**kwargs)

    return asyncio.run(call())


@pytest.mark.parametrize("alone", [False, True], ids=["thread", "on-loop"])
def test_a_sync_route_commits_where_it_ran_before_it_answers(factory, alone):
    ran_in: list[int] = []

    def route(patient_id: int, session: Session) -> dict[str, object]:
        ran_in.append(threading.get_ident())
        record_view(session, username="tester", entity="patient", entity_id=patient_id)
        session.flush()
        return {"id": patient_id}

    wrapped = route_endpoint(route, 201)
    assert inspect.signature(wrapped) == inspect.signature(route)  # FastAPI reads it
    assert inspect.iscoroutinefunction(wrapped)  # FastAPI awaits it on the loop
    before = _views(factory)
    with factory() as session:
        response = _call(wrapped, alone, patient_id=3, session=session)
        assert not session.in_transaction()  # committed: nothing left for db_session
    assert isinstance(response, Response)
    assert (response.status_code, response.body) == (201, b'{"id":3}')
    assert _views(factory) == before + 1
    # One request at a time: on the loop's thread (here the test's); else a worker thread.
    assert (ran_in == [threading.get_ident()]) is alone


@pytest.mark.parametrize("alone", [False, True], ids=["thread", "on-loop"])
def test_a_failing_route_commits_nothing(factory, alone):
    def route(session: Session) -> dict[str, object]:
        record_view(session, username="tester", entity="patient", entity_id=1)
        raise LookupError("patient 1 not found")

    before = _views(factory)
    with factory() as session, pytest.raises(LookupError):
        _call(route_endpoint(route, 200), alone, session=session)
    assert _views(factory) == before


def test_responses_and_other_results_go_out_unchanged():
    own = Response(b"png", media_type="image/png")
    assert _call(route_endpoint(lambda: own, 200)) is own
    assert _call(route_endpoint(lambda: None, 204), alone=True) is None


def test_run_blocking_uses_a_thread_unless_serving_one_at_a_time():
    async def where(alone: bool) -> bool:
        with serving_one_at_a_time(alone):
            assert runs_on_loop() is alone
            return await run_blocking(threading.get_ident) == threading.get_ident()

    assert asyncio.run(where(True)) is True
    assert asyncio.run(where(False)) is False
    assert runs_on_loop() is False  # the choice ends with its block


def test_an_async_route_stays_a_coroutine_function():
    async def route(patient_id: int) -> list[int]:
        return [patient_id]

    wrapped = route_endpoint(route, 200)
    assert inspect.iscoroutinefunction(wrapped)
    response = asyncio.run(wrapped(patient_id=5))
    assert (response.status_code, response.body) == (200, b"[5]")


def test_encoded_members_are_spliced_byte_identically():
    report = {"verdict": "eligible", "outcomes": [{"message": "Krenning ≥ 3", "x": 1.5e-7}]}
    text = json.dumps(report, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    fields = {"id": 7, "verdict": "eligible"}
    assert json_with_encoded(fields, report=text) == json_bytes({**fields, "report": report})
    assert json_with_encoded({}, report=text) == json_bytes({"report": report})
    assert json_with_encoded(fields) == json_bytes(fields)
