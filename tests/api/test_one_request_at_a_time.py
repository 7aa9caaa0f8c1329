"""The service serving one request at a time (``max_active_requests=1``), on SQLite.

There the blocking work of every request runs on the event loop instead of a worker
thread (:mod:`prrt.adapters.api.concurrency`).  The permission matrix (every route,
every role, the allowed cells doing the real work), the page forms and the 409s run
again in that mode, and a request must not touch the thread pool at all.
"""

from __future__ import annotations

import pytest

from prrt.adapters.api import concurrency

from ._support import Service, build_service, dispose, sqlite_url
from .test_locking import (
    test_stale_patient_update_is_409_and_changes_nothing,
    test_stale_tumour_form_on_the_page_is_409_and_changes_nothing,
)
from .test_pages import signed_in, test_a_refused_value_re_renders_the_form_with_the_field_marked
from .test_pages import test_form_cell as test_page_form_cell
from .test_permissions import client, test_cell, world

pytestmark = pytest.mark.db

__all__ = [
    "client",
    "signed_in",
    "test_a_refused_value_re_renders_the_form_with_the_field_marked",
    "test_cell",
    "test_page_form_cell",
    "test_stale_patient_update_is_409_and_changes_nothing",
    "test_stale_tumour_form_on_the_page_is_409_and_changes_nothing",
    "world",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Service:
    svc = build_service(
        sqlite_url(tmp_path_factory),
        "sqlite",
        tmp_path_factory.mktemp("data"),
        max_active_requests=1,
    )
    yield svc
    dispose(svc)


def test_no_request_uses_the_thread_pool(service: Service, monkeypatch):
    def no_thread(*_args, **_kwargs):
        raise AssertionError("a worker thread was used while serving one request at a time")

    monkeypatch.setattr(concurrency, "run_in_threadpool", no_thread)
    w = service.world()
    page, _csrf = service.signed_in("physician")
    before = service.audit_count()
    r = service.client().post(
        f"/api/patients/{w.patient_id}/eligibility", headers=service.bearer("physician")
    )
    assert r.status_code == 201, r.text
    r = page.get(f"/patients/{w.patient_id}")
    assert r.status_code == 200
    assert "Eligibility checklist" in r.text
    # the evaluation (create) and the page's view of the patient, each audited
    assert service.audit_count() >= before + 2
