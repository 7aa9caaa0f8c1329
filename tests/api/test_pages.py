"""The permission matrix on the web pages (their own check, in ``pages.py``/``page_forms.py``).

Every page form, posted with a valid session and CSRF token by each role: a
role without the form's permission gets 403 with nothing written, a role with
it gets the page back with the change made; the patient page offers a form
only to the roles that may use it.  SQLite (the API matrix runs on both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from prrt.adapters.api.permissions import MATRIX, ROLES, Permission, allowed

from ._support import FAMILY_NAME, Service, World, sqlite_url

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """SQLite only."""
    return sqlite_url(tmp_path_factory)


def _day(days: int = 0) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Form:
    """A page form: where it posts, what it sends, what the page says when it worked."""

    action: str
    data: Callable[[Service], dict[str, str]]
    success: str

    def path(self, w: World) -> str:
        return self.action.format(patient_id=w.patient_id, course_id=w.course_id)


FORMS: dict[str, tuple[Permission, Form]] = {
    "tumour": (
        Permission.EDIT_PATIENT,
        Form(
            "/patients/{patient_id}/tumour",
            lambda s: {
                "primary_site": "small_intestine",
                "differentiation": "well",
                "ki67_percent": "9",
                "version": "1",
            },
            "Tumour saved.",
        ),
    ),
    "imaging": (
        Permission.EDIT_PATIENT,
        Form(
            "/patients/{patient_id}/imaging",
            lambda s: {
                "kind": "sstr",
                "study_date": _day(-2),
                "modality": "pet",
                "tracer": "68Ga-DOTATATE",
                "lesion_id": "L9",
                "site": "liver",
                "size": "12 mm",
                "sstr_score": "3",
            },
            "Imaging finding recorded.",
        ),
    ),
    "labs": (
        Permission.RECORD_LABS,
        Form(
            "/patients/{patient_id}/labs",
            lambda s: {"drawn_on": _day(), "values.platelets": "210 10^9/L"},
            "1 lab values saved.",
        ),
    ),
    "eligibility": (
        Permission.EVALUATE_ELIGIBILITY,
        Form("/patients/{patient_id}/eligibility", lambda s: {}, "Eligibility evaluated"),
    ),
    "courses": (
        Permission.PLAN_COURSE,
        Form(
            "/patients/{patient_id}/courses",
            lambda s: {
                "regimen": "LUTATHERA_STANDARD",
                "first_administration": f"{_day(30)}T09:00+01:00",
            },
            "planned.",
        ),
    ),
    "administrations": (
        Permission.RECORD_ADMINISTRATION,
        Form(
            "/courses/{course_id}/administrations",
            lambda s: {
                "cycle_number": "2",
                "administered_at": f"{_day(-1)}T09:00+01:00",
                "activity": "7.4 GBq",
            },
            "Cycle 2 administration recorded.",
        ),
    ),
    "dosimetry": (
        Permission.RECORD_DOSIMETRY,
        Form(
            "/courses/{course_id}/dosimetry",
            lambda s: {"cycle_number": "1", "kidneys": "3.9 Gy", "red_marrow": "0.15 Gy"},
            "Doses of cycle 1 saved.",
        ),
    ),
    "decision": (
        Permission.DECIDE_NEXT_CYCLE,
        Form(
            "/courses/{course_id}/decision",
            lambda s: {"pregnant": "no", "mds_or_aml": "no"},
            "Decision for cycle 2",
        ),
    ),
    "responses": (
        Permission.RECORD_RESPONSE,
        Form(
            "/patients/{patient_id}/responses",
            lambda s: {"assessed_on": _day(), "target.T1": "25 mm", "target.T2": "15 mm"},
            "Time point recorded",
        ),
    ),
}

CELLS = [
    pytest.param(
        name,
        role,
        id=f"{name}-{role}-{'allowed' if allowed(role, FORMS[name][0]) else 'denied'}",
    )
    for name in FORMS
    for role in ROLES
]


@pytest.fixture(scope="module")
def signed_in(service: Service) -> dict[str, tuple[Any, str]]:
    """A signed-in page client and its CSRF token per role (signing in costs an argon2 check)."""
    return {role: service.signed_in(role) for role in ROLES}


@pytest.mark.parametrize(("name", "role"), CELLS)
def test_form_cell(service: Service, signed_in, name: str, role: str):
    permission, form = FORMS[name]
    w = service.world()
    client, csrf = signed_in[role]
    events = service.audit_count()
    r = client.post(form.path(w), data={**form.data(service), "csrf_token": csrf})
    if permission in MATRIX[role]:
        assert r.status_code == 200, r.text[-2000:]
        assert form.success in r.text
        assert service.audit_count() > events
    else:
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("text/html")
        assert f"{role}&#x27; may not {permission.value.replace('_', ' ')}" in r.text
        assert service.audit_count() == events


@pytest.mark.parametrize("role", ROLES)
def test_patient_page_offers_only_the_forms_the_role_may_use(service: Service, signed_in, role):
    w = service.world()
    client, _ = signed_in[role]
    page = client.get(f"/patients/{w.patient_id}")
    assert page.status_code == 200
    for name, (permission, form) in FORMS.items():
        shown = f'action="{form.path(w)}"' in page.text
        assert shown == allowed(role, permission), (name, role)
    # identity on the page only with READ_IDENTITY
    assert (FAMILY_NAME in page.text) == allowed(role, Permission.READ_IDENTITY)
    listing = client.get("/patients")
    assert ('id="new-patient"' in listing.text) == allowed(role, Permission.EDIT_PATIENT)
    assert (FAMILY_NAME in listing.text) == allowed(role, Permission.READ_IDENTITY)


@pytest.mark.parametrize("role", ROLES)
def test_new_patient_form(service: Service, signed_in, role):
    client, csrf = signed_in[role]
    r = client.post(
        "/patients",
        data={
            "csrf_token": csrf,
            "sex": "male",
            "age_years": "58",
            "weight": "77 kg",
            "pseudonym": f"PAGE-{service.serial()}",
        },
        follow_redirects=False,
    )
    if allowed(role, Permission.EDIT_PATIENT):
        assert r.status_code == 303
        assert r.headers["location"].startswith("/patients/")
    else:
        assert r.status_code == 403


def test_a_refused_value_re_renders_the_form_with_the_field_marked(service: Service, signed_in):
    w = service.world()
    client, csrf = signed_in["nurse"]
    events = service.audit_count()
    r = client.post(
        f"/patients/{w.patient_id}/labs",
        data={"csrf_token": csrf, "drawn_on": _day(), "values.platelets": "210 g/L"},
    )
    assert r.status_code == 422
    assert "values.platelets" in r.text
    # the page re-render is a view; the refused labs wrote nothing else
    assert service.audit_count() == events + 1
