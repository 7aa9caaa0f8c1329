"""Authentication, CSRF, sign-in rate limit, security headers and cookie flags (SQLite)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update

from prrt.adapters.api.app import SECURITY_HEADERS
from prrt.adapters.api.deps import SESSION_COOKIE
from prrt.adapters.db.repository import create_api_token
from prrt.adapters.db.tables import ApiToken, LabResult, User

from ._support import PASSWORD, Service, all_routes, build_service, dispose, sqlite_url

pytestmark = pytest.mark.db
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """SQLite only: these checks do not depend on the database."""
    return sqlite_url(tmp_path_factory)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


# --------------------------------------------------------------------------- not signed in


def test_every_api_route_without_credentials_is_401_problem(service: Service):
    client = service.client()
    checked = 0
    for route in all_routes(service.app):
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/"):
            continue
        if route.path == "/api/auth/token":
            continue
        for method in route.methods:
            r = client.request(method, _concrete(route.path), json={})
            assert r.status_code == 401, (method, route.path, r.status_code)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["status"] == 401
            checked += 1
    assert checked >= 15


def test_a_wrong_expired_or_revoked_token_is_401(service: Service):
    client = service.client()
    bad = client.get("/api/patients", headers={"Authorization": "Bearer prrt_not-a-token"})
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith(PROBLEM)
    with service.db() as s:
        user = s.execute(
            select(User).where(User.username == service.username("viewer"))
        ).scalar_one()
        tokens = {
            label: create_api_token(s, actor="setup", user=user, label=label)
            for label in ("to-revoke", "to-expire")
        }
    for token in tokens.values():
        assert (
            client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )
    with service.db() as s:
        s.execute(update(ApiToken).values(revoked=True).where(ApiToken.label == "to-revoke"))
        s.execute(
            update(ApiToken)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            .where(ApiToken.label == "to-expire")
        )
    for token in tokens.values():
        assert (
            client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        )


def test_every_page_without_a_session_redirects_to_sign_in(service: Service):
    client = service.client()
    checked = 0
    for route in all_routes(service.app):
        if not isinstance(route, APIRoute) or route.path.startswith("/api/"):
            continue
        if route.path in ("/sign-in", "/favicon.ico", "/sign-out", "/docs"):
            continue  # /docs: the API's documentation, like /openapi.json, holds no patient data
        for method in route.methods:
            r = client.request(method, _concrete(route.path), follow_redirects=False)
            if route.path == "/":
                assert r.headers["location"] == "/patients"
                r = client.get("/patients", follow_redirects=False)
            assert r.status_code == 303, (method, route.path, r.status_code)
            assert r.headers["location"] == "/sign-in", (method, route.path)
            checked += 1
    assert checked >= 10
    # the API's own description is public (it holds no data)
    assert client.get("/openapi.json").status_code == 200


def test_sign_out_ends_the_session(service: Service):
    client, csrf = service.signed_in("viewer")
    assert client.get("/patients", follow_redirects=False).status_code == 200
    r = client.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/sign-in")
    assert client.get("/patients", follow_redirects=False).headers["location"] == "/sign-in"


# --------------------------------------------------------------------------- CSRF


def _lab_count(service: Service) -> int:
    with service.db() as s:
        return int(s.execute(select(func.count(LabResult.id))).scalar_one())


def test_cookie_form_post_needs_the_sessions_csrf_token(service: Service):
    w = service.world()
    client, csrf = service.signed_in("nurse")
    form = {"drawn_on": date.today().isoformat(), "values.platelets": "210 10^9/L"}
    before = _lab_count(service)
    missing = client.post(f"/patients/{w.patient_id}/labs", data=form)
    assert missing.status_code == 403
    assert "CSRF" in missing.text
    wrong = client.post(f"/patients/{w.patient_id}/labs", data={**form, "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    # the token of another session is wrong too
    _, other = service.signed_in("nurse")
    assert other != csrf
    assert (
        client.post(
            f"/patients/{w.patient_id}/labs", data={**form, "csrf_token": other}
        ).status_code
        == 403
    )
    assert _lab_count(service) == before  # nothing stored by a refused post
    ok = client.post(f"/patients/{w.patient_id}/labs", data={**form, "csrf_token": csrf})
    assert ok.status_code == 200, ok.text
    assert "1 lab values saved" in ok.text
    assert _lab_count(service) == before + 1


def test_cookie_api_call_needs_the_csrf_header_and_bearer_needs_none(service: Service):
    w = service.world()
    body = {"drawn_on": date.today().isoformat(), "values": {"platelets": "210 10^9/L"}}
    client, csrf = service.signed_in("nurse")
    path = f"/api/patients/{w.patient_id}/labs"
    r = client.post(path, json=body)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "CSRF" in r.json()["detail"]
    assert client.post(path, json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post(path, json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    # a safe method needs no token with a cookie
    assert client.get(f"/api/patients/{w.patient_id}").status_code == 200
    # bearer: no cookie, no CSRF token
    bearer = service.client()
    r = bearer.post(path, json=body, headers=service.bearer("nurse"))
    assert r.status_code == 201, r.text
    assert bearer.cookies.get(SESSION_COOKIE) is None


def test_session_cookie_flags(service: Service, tmp_path):
    client = service.client()
    r = client.post(
        "/sign-in",
        data={"username": service.username("viewer"), "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # loopback default; on with secure_cookies behind HTTPS
    secure = build_service(
        f"sqlite:///{tmp_path / 'secure.db'}", "sqlite", tmp_path, secure_cookies=True
    )
    try:
        r = secure.client().post(
            "/sign-in",
            data={"username": secure.username("viewer"), "password": PASSWORD},
            follow_redirects=False,
        )
        assert "secure" in {p.strip().lower() for p in r.headers["set-cookie"].split(";")}
    finally:
        dispose(secure)


# --------------------------------------------------------------------------- rate limit


@pytest.fixture
def limited(tmp_path):
    svc = build_service(
        f"sqlite:///{tmp_path / 'limited.db'}",
        "sqlite",
        tmp_path,
        sign_in_attempts=3,
        sign_in_window_s=60,
    )
    yield svc
    dispose(svc)


def test_api_sign_in_is_rate_limited_with_retry_after(limited: Service):
    client = limited.client()
    name = limited.username("physician")
    for _ in range(3):
        r = client.post("/api/auth/token", json={"username": name, "password": "wrong password"})
        assert r.status_code == 401
    r = client.post("/api/auth/token", json={"username": name, "password": "wrong password"})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith(PROBLEM)
    assert 1 <= int(r.headers["retry-after"]) <= 60
    for header in SECURITY_HEADERS:
        assert header in r.headers
    # even the right password is refused until the window has passed ...
    right = client.post("/api/auth/token", json={"username": name, "password": PASSWORD})
    assert right.status_code == 429
    # ... and the page sign-in shares the limit
    page = client.post("/sign-in", data={"username": name, "password": PASSWORD})
    assert page.status_code == 429
    assert "too many failed sign-ins" in page.text
    # another account is not locked out by them
    other = limited.username("nurse")
    r = client.post("/api/auth/token", json={"username": other, "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["role"] == "nurse"


def test_a_successful_sign_in_resets_the_count(limited: Service):
    client = limited.client()
    name = limited.username("viewer")
    for _ in range(2):
        client.post("/api/auth/token", json={"username": name, "password": "wrong password"})
    assert (
        client.post("/api/auth/token", json={"username": name, "password": PASSWORD}).status_code
        == 200
    )
    for _ in range(2):
        r = client.post("/api/auth/token", json={"username": name, "password": "wrong password"})
        assert r.status_code == 401
    page = client.post("/sign-in", data={"username": name, "password": "wrong"})
    assert page.status_code == 401
    assert client.post("/sign-in", data={"username": name, "password": "wrong"}).status_code == 429


# --------------------------------------------------------------------------- headers


def test_security_headers_on_api_pages_and_errors(service: Service):
    w = service.world()
    client, _ = service.signed_in("physician")
    bearer = service.client()
    responses = {
        "api 200": bearer.get(f"/api/patients/{w.patient_id}", headers=service.bearer("viewer")),
        "api 401": bearer.get("/api/patients"),
        "api 403": bearer.get("/api/audit/verify", headers=service.bearer("viewer")),
        "api 404": bearer.get("/api/patients/999999", headers=service.bearer("viewer")),
        "api 422": bearer.post("/api/patients", json={}, headers=service.bearer("physician")),
        "openapi": bearer.get("/openapi.json"),
        "sign-in page": bearer.get("/sign-in"),
        "redirect": bearer.get("/patients", follow_redirects=False),
        "patient list": client.get("/patients"),
        "patient page": client.get(f"/patients/{w.patient_id}"),
        "page 404": client.get("/patients/999999"),
        "plot": client.get(f"/patients/{w.patient_id}/labs.png"),
    }
    for name, r in responses.items():
        for header, value in SECURITY_HEADERS.items():
            assert r.headers.get(header) == value, (name, header, r.headers.get(header))
    assert responses["page 404"].status_code == 404
    assert responses["plot"].headers["content-type"] == "image/png"
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "http" not in csp  # no third-party origin
    static = bearer.get("/static/prrt.css")
    assert static.status_code == 200
    assert static.headers["cache-control"] == "public, max-age=3600"
    assert static.headers["x-content-type-options"] == "nosniff"


def test_the_api_documentation_is_public_and_holds_no_patient_data(service: Service):
    client = service.client()
    r = client.get("/docs")
    assert r.status_code == 200
    assert "<script>" not in r.text  # no inline script: the CSP would refuse it
    assert '<script src="/swagger-ui/swagger-ui-bundle.js">' in r.text
    js = client.get("/swagger-ui/swagger-ui-bundle.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
