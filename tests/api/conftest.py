"""Fixtures of the service tests: the app on SQLite and on PostgreSQL, a fresh database per module.

``service`` runs each test module on both backends (``database_url`` is
parametrised); a module that needs only SQLite overrides ``database_url`` with
a module fixture returning ``sqlite_url(tmp_path_factory)``.
"""

from __future__ import annotations

import pytest

from ._support import BACKENDS, Service, build_service, dispose, new_database


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A new, empty database of each backend (one per test module)."""
    backend = request.param
    with new_database(backend, tmp_path_factory.mktemp(f"db-{backend}")) as url:
        yield url


@pytest.fixture(scope="module")
def service(database_url, tmp_path_factory) -> Service:
    """The service on the module's database, with an account and a bearer token per role."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    svc = build_service(database_url, backend, tmp_path_factory.mktemp("data"))
    yield svc
    dispose(svc)


@pytest.fixture
def fresh_service(request, tmp_path) -> Service:
    """The service on a database of its own (for a test that damages it), per backend param."""
    backend = getattr(request, "param", "sqlite")
    with new_database(backend, tmp_path) as url:
        svc = build_service(url, backend, tmp_path / "data")
        yield svc
        dispose(svc)
