"""Schemathesis against the OpenAPI document: no request, however odd, gets a 5xx.

Bounded and deterministic: ``MAX_EXAMPLES`` valid and as many invalid requests
per operation, derandomised Hypothesis.  Each operation is called with the
token of a role that holds its permission, so that bodies reach the repository
code instead of stopping at 403; path ids mostly point at records that exist.

(Schemathesis' own pytest plugin, ``schemathesis.pytest.from_fixture``, does
not run under pytest 9 — it sets ``Function._nodeid`` — so the operations are
parametrised here and each one's strategy is driven with ``@given``.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from prrt.adapters.api import Settings, create_app

from ._support import Service, World, sqlite_url

pytestmark = [pytest.mark.db, pytest.mark.slow]
MAX_EXAMPLES = 25

#: The role whose token calls each operation (physician otherwise).
ROLE_FOR = {
    "/api/courses/{course_id}/dosimetry": "physicist",
    "/api/users": "admin",
    "/api/audit/verify": "admin",
}


def _operations() -> list[Any]:
    """(method, path, mode) of every operation of the document (built without a database).

    Invalid requests only where there is something to get wrong (parameters or a body)."""
    app = create_app(Settings(database_url="sqlite://", migrate_on_start=False))
    doc = app.openapi()
    app.state.engine.dispose()
    out = []
    for path, item in doc["paths"].items():
        for method, spec in item.items():
            modes = [GenerationMode.POSITIVE]
            if spec.get("parameters") or spec.get("requestBody"):
                modes.append(GenerationMode.NEGATIVE)
            out.extend(
                pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode.value}")
                for mode in modes
            )
    return out


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """SQLite (the PostgreSQL paths are the same repository code)."""
    return sqlite_url(tmp_path_factory)


@pytest.fixture(scope="module")
def records(service: Service) -> list[World]:
    return [service.world(), service.world(identity=False)]


@pytest.fixture(scope="module")
def api_schema(service: Service):
    return schemathesis.openapi.from_asgi("/openapi.json", service.app)


def _existing(case: Any, records: list[World]) -> None:
    """Point three ids in four at a record that exists (the fourth stays as generated)."""
    params = case.path_parameters or {}
    for name in ("patient_id", "course_id"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value % 4 != 3:
            params[name] = getattr(records[value % len(records)], name)


def test_the_document_lists_every_api_route():
    paths = {p.values[1] for p in _operations()}
    assert "/api/patients/{patient_id}" in paths
    assert all(p.startswith("/api/") for p in paths)  # pages are not part of the API document
    assert len(paths) >= 14


@pytest.mark.parametrize(("method", "path", "mode"), _operations())
def test_no_server_error(api_schema, service: Service, records, method, path, mode):
    operation = api_schema[path][method]
    headers = service.bearer(ROLE_FOR.get(path, "physician"))
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        _existing(case, records)
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
        statuses.append(response.status_code)

    run()
    assert statuses
    assert max(statuses) < 500
