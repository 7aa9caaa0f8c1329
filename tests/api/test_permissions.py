"""The permission matrix, cell by cell, on SQLite and PostgreSQL.

For every (permission, role) there is one test: a representative API request
that needs exactly that permission (checked against the route's declared
dependency) returns 403 with nothing written for a role without it, and its
success status for a role with it.  Expectations come from ``MATRIX``; a second
group of tests pins the documented intent of the roles independently of it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute

from prrt.adapters.api.permissions import MATRIX, ROLES, Permission, allowed

from ._support import FAMILY_NAME, Service, World, all_routes

pytestmark = pytest.mark.db

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Probe:
    """A request that needs one permission: method, route template, body and success status."""

    method: str
    route: str
    body: Callable[[Service], Any] | None
    success: int

    def path(self, world: World) -> str:
        return self.route.format(patient_id=world.patient_id, course_id=world.course_id)


def _today(days: int = 0) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


#: READ_IDENTITY has no route of its own: it decides whether the identity is shown
#: (see test_read_identity_cell).
PROBES: dict[Permission, Probe] = {
    Permission.READ_PATIENT: Probe("GET", "/api/patients/{patient_id}", None, 200),
    Permission.EDIT_PATIENT: Probe(
        "POST",
        "/api/patients",
        lambda s: {
            "sex": "male",
            "age_years": 55,
            "weight": "80 kg",
            "pseudonym": f"NEW-{s.serial()}",
        },
        201,
    ),
    Permission.RECORD_LABS: Probe(
        "POST",
        "/api/patients/{patient_id}/labs",
        lambda s: {"drawn_on": _today(), "values": {"platelets": "200 10^9/L"}},
        201,
    ),
    Permission.EVALUATE_ELIGIBILITY: Probe(
        "POST", "/api/patients/{patient_id}/eligibility", None, 201
    ),
    Permission.PLAN_COURSE: Probe(
        "POST",
        "/api/patients/{patient_id}/courses",
        lambda s: {
            "regimen": "LUTATHERA_STANDARD",
            "first_administration": f"{_today(30)}T09:00+01:00",
        },
        201,
    ),
    Permission.RECORD_ADMINISTRATION: Probe(
        "POST",
        "/api/courses/{course_id}/administrations",
        lambda s: {
            "cycle_number": 2,
            "administered_at": f"{_today(-1)}T09:00+01:00",
            "activity": "7.4 GBq",
        },
        201,
    ),
    Permission.RECORD_DOSIMETRY: Probe(
        "POST",
        "/api/courses/{course_id}/dosimetry",
        lambda s: {"cycle_number": 1, "regions": {"kidneys": "3.9 Gy", "red_marrow": "0.15 Gy"}},
        201,
    ),
    Permission.DECIDE_NEXT_CYCLE: Probe(
        "POST", "/api/courses/{course_id}/decision", lambda s: {"pregnant": False}, 201
    ),
    Permission.RECORD_RESPONSE: Probe(
        "POST",
        "/api/patients/{patient_id}/responses",
        lambda s: {
            "assessed_on": _today(),
            "targets": [{"id": "T1", "size": "25 mm"}, {"id": "T2", "size": "15 mm"}],
            "new_lesions": "none",
        },
        201,
    ),
    Permission.MANAGE_USERS: Probe(
        "POST",
        "/api/users",
        lambda s: {
            "username": f"new.user{s.serial()}",
            "password": "a long enough password",
            "role": "viewer",
        },
        201,
    ),
    Permission.VERIFY_AUDIT: Probe("GET", "/api/audit/verify", None, 200),
}


def _cells(which: Callable[[Permission], bool]) -> list[Any]:
    """(permission, role) parameters with ids such as ``record_labs-nurse-allowed``."""
    return [
        pytest.param(
            permission,
            role,
            id=f"{permission.value}-{role}-{'allowed' if allowed(role, permission) else 'denied'}",
        )
        for permission in Permission
        if which(permission)
        for role in ROLES
    ]


def _send(service: Service, client: Any, probe: Probe, world: World, role: str) -> Any:
    body = probe.body(service) if probe.body else None
    return client.request(probe.method, probe.path(world), json=body, headers=service.bearer(role))


@pytest.fixture
def world(service: Service) -> World:
    return service.world()


@pytest.fixture(scope="module")
def client(service: Service):
    with service.client() as c:
        yield c


def _route_permission(route: APIRoute) -> list[Permission]:
    """The permissions a route's dependencies require (``require(permission)``)."""
    found = []
    for dep in route.dependant.dependencies:
        if dep.call is None:
            continue
        value = inspect.getclosurevars(dep.call).nonlocals.get("permission")
        if isinstance(value, Permission):
            found.append(value)
    return found


def test_every_api_route_needs_one_permission_and_every_permission_is_probed(service):
    """The probes cover every permission, and each probe's route needs exactly that one."""
    routes = [
        r for r in all_routes(service.app) if isinstance(r, APIRoute) and r.path.startswith("/api/")
    ]
    needs: dict[tuple[str, str], list[Permission]] = {}
    for route in routes:
        for method in route.methods:
            needs[(method, route.path)] = _route_permission(route)
    public = {("POST", "/api/auth/token"), ("GET", "/api/me")}
    for key, perms in needs.items():
        if key in public:
            assert perms == [], key
        else:
            assert len(perms) == 1, (key, perms)
    for permission, probe in PROBES.items():
        assert needs[(probe.method, probe.route)] == [permission], (permission, probe)
    declared = {p for perms in needs.values() for p in perms}
    assert declared | {Permission.READ_IDENTITY} == set(Permission)
    assert set(PROBES) | {Permission.READ_IDENTITY} == set(Permission)


@pytest.mark.parametrize(
    ("permission", "role"), _cells(lambda p: p is not Permission.READ_IDENTITY)
)
def test_cell(service, client, world, permission, role):
    probe = PROBES[permission]
    events = service.audit_count()
    r = _send(service, client, probe, world, role)
    if permission in MATRIX[role]:
        assert r.status_code == probe.success, r.text
        if probe.method != "GET" or permission is Permission.READ_PATIENT:
            assert service.audit_count() > events  # the change (or the view) is audited
    else:
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["detail"] == f"role '{role}' may not {permission.value.replace('_', ' ')}"
        assert service.audit_count() == events  # refused: nothing written, not even a view


@pytest.mark.parametrize(("permission", "role"), _cells(lambda p: p is Permission.READ_IDENTITY))
def test_read_identity_cell(service, client, world, permission, role):
    """Identity (name, hospital number) is shown and searchable only with READ_IDENTITY."""
    r = client.get(f"/api/patients/{world.patient_id}", headers=service.bearer(role))
    assert r.status_code == 200, r.text
    found = client.post(
        "/api/patients/search", json={"q": FAMILY_NAME}, headers=service.bearer(role)
    )
    assert found.status_code == 200
    ids = [p["id"] for p in found.json()]
    if permission in MATRIX[role]:
        assert r.json()["identity"]["family_name"] == FAMILY_NAME
        assert world.patient_id in ids
    else:
        assert "identity" not in r.json()
        assert FAMILY_NAME not in r.text
        assert ids == []


# --------------------------------------------------------------------------- documented intent


def _status(service: Service, client: Any, permission: Permission, role: str) -> int:
    return _send(service, client, PROBES[permission], service.world(), role).status_code


def test_viewer_reads_but_does_not_edit(service, client):
    assert MATRIX["viewer"] == {Permission.READ_PATIENT}
    assert _status(service, client, Permission.READ_PATIENT, "viewer") == 200
    for p in (Permission.EDIT_PATIENT, Permission.RECORD_LABS, Permission.RECORD_RESPONSE):
        assert _status(service, client, p, "viewer") == 403, p
    w = service.world()
    r = client.patch(
        f"/api/patients/{w.patient_id}",
        json={"version": 1, "weight": "70 kg"},
        headers=service.bearer("viewer"),
    )
    assert r.status_code == 403


def test_physicist_records_dosimetry_but_does_not_decide(service, client):
    assert _status(service, client, Permission.RECORD_DOSIMETRY, "physicist") == 201
    assert _status(service, client, Permission.DECIDE_NEXT_CYCLE, "physicist") == 403
    assert _status(service, client, Permission.PLAN_COURSE, "physicist") == 403
    assert not allowed("physicist", Permission.DECIDE_NEXT_CYCLE)


def test_nurse_records_labs_and_administrations_but_does_not_plan_or_decide(service, client):
    assert _status(service, client, Permission.RECORD_LABS, "nurse") == 201
    assert _status(service, client, Permission.RECORD_ADMINISTRATION, "nurse") == 201
    for p in (
        Permission.PLAN_COURSE,
        Permission.DECIDE_NEXT_CYCLE,
        Permission.EVALUATE_ELIGIBILITY,
    ):
        assert _status(service, client, p, "nurse") == 403, p


def test_admin_manages_users_and_verifies_the_audit_but_does_not_edit_patients(service, client):
    assert _status(service, client, Permission.MANAGE_USERS, "admin") == 201
    assert _status(service, client, Permission.VERIFY_AUDIT, "admin") == 200
    assert _status(service, client, Permission.EDIT_PATIENT, "admin") == 403
    assert _status(service, client, Permission.RECORD_LABS, "admin") == 403
    for role in ("physician", "physicist", "nurse", "viewer"):
        assert _status(service, client, Permission.MANAGE_USERS, role) == 403, role
        assert _status(service, client, Permission.VERIFY_AUDIT, role) == 403, role


def test_physician_selects_plans_and_decides_but_does_not_do_dosimetry(service, client):
    for p in (
        Permission.EVALUATE_ELIGIBILITY,
        Permission.PLAN_COURSE,
        Permission.DECIDE_NEXT_CYCLE,
    ):
        assert _status(service, client, p, "physician") == 201, p
    assert _status(service, client, Permission.RECORD_DOSIMETRY, "physician") == 403


def test_an_unknown_role_holds_nothing():
    assert not any(allowed("superuser", p) for p in Permission)
    assert set(MATRIX) == set(ROLES)
