"""Server-rendered pages: sign in, patient list with search, the patient page and its forms.

Forms post back to the page; a refused value re-renders the form (HTTP 422)
with the message next to its field.  Every page needs a signed-in user with the
route's permission; forms carry the session's CSRF token.  Plots are PNG
endpoints drawn with matplotlib from the database records.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session

from prrt.adapters.api.concurrency import runs_on_loop
from prrt.adapters.api.deps import SESSION_COOKIE, Principal, authenticate_request, check_csrf
from prrt.adapters.api.errors import Forbidden, NotAuthenticated, TooManyAttempts
from prrt.adapters.api.permissions import Permission
from prrt.adapters.api.routes import course_public, courses_public
from prrt.adapters.db import assessments, patients
from prrt.adapters.db.engine import begin_write
from prrt.adapters.db.repository import (
    authenticate,
    create_sign_in_session,
    end_sign_in_session,
    get_or_404,
    reader,
    shared_document,
    snapshot,
)
from prrt.adapters.db.tables import (
    Base,
    Course,
    Cycle,
    DosimetryResult,
    EligibilityEvaluation,
    LabResult,
    PatientIdentity,
    Tumour,
)
from prrt.adapters.web import plots, widgets
from prrt.errors import InvalidInputError
from prrt.planning import REGIMENS

__all__ = ["install"]

_SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prrt clinic service — API</title>
<link rel="stylesheet" href="/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""

_ENV = Environment(
    loader=PackageLoader("prrt.adapters.web", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # installed templates do not change: no file check on every render
)
_ENV.globals.update(
    field=widgets.field,
    select=widgets.select,
    csrf=widgets.csrf,
    outcome_rows=widgets.outcome_rows,
    lab_rows=widgets.lab_rows,
    lab_value_fields=widgets.lab_value_fields,
    lab_limit_fields=widgets.lab_limit_fields,
)


def compile_templates() -> None:
    """Compile every page template now (the service's start-up), not at its first request.

    Compiling them took about 50 ms, which the first page of each worker process waited
    for, with every request queued behind it.
    """
    for name in _ENV.list_templates(extensions=["html"]):
        _ENV.get_template(name)


LAB_FIELDS = (
    ("haemoglobin", "131 g/L"),
    ("platelets", "210 10^9/L"),
    ("neutrophils", "3.9 10^9/L"),
    ("lymphocytes", "1.5 10^9/L"),
    ("white_cells", "6.2 10^9/L"),
    ("creatinine", "75 µmol/L"),
    ("bilirubin", "9 µmol/L"),
    ("albumin", "41 g/L"),
    ("ast", "26 U/L"),
    ("alt", "24 U/L"),
    ("fasting_glucose", "5.4 mmol/L"),
)
LIMIT_FIELDS = (
    ("platelets", "lln", "150 10^9/L"),
    ("haemoglobin", "lln", "120 g/L"),
    ("neutrophils", "lln", "1.8 10^9/L"),
    ("creatinine", "uln", "90 µmol/L"),
    ("bilirubin", "uln", "21 µmol/L"),
    ("ast", "uln", "40 U/L"),
    ("alt", "uln", "40 U/L"),
    ("fasting_glucose", "uln", "6.1 mmol/L"),
)
SITES = [
    (s, s.replace("_", " "))
    for s in (
        "small_intestine",
        "pancreas",
        "stomach",
        "duodenum",
        "rectum",
        "colon",
        "appendix",
        "lung",
        "unknown",
    )
]


async def run_in_transaction(request: Request, handler: Any) -> Response:
    """Run ``handler(session)`` in one transaction: commit on success, roll back on error.

    The handler's database work is blocking, so it runs in a worker thread (with an event
    loop of its own), never on the server's loop: a page waiting there for SQLite's write
    lock would stall every other request, including the API transaction holding that lock.
    The form is read here first, on the server's loop (the handler gets it from the cache).
    Each worker thread keeps one event loop for its handlers (a new loop per request cost
    more than many a page).  A worker serving one request at a time runs the handler on the
    server's loop instead (:mod:`prrt.adapters.api.concurrency`).
    """
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await request.form()
    factory = request.app.state.session_factory
    if runs_on_loop():  # one request at a time in this worker: no thread needed
        session = factory()
        try:
            response: Response = await handler(session)
            session.commit()
            return response
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def work() -> Response:
        session = factory()
        try:
            threaded: Response = _thread_loop().run_until_complete(handler(session))
            session.commit()
            return threaded
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    return await run_in_threadpool(work)


def _render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("flash", None)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return HTMLResponse(_ENV.get_template(template).render(**context), status_code=status)


_LOOPS = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_LOOPS, "loop", None)
    if loop is None:
        loop = _LOOPS.loop = asyncio.new_event_loop()
    return loop


async def _principal(request: Request, session: Session) -> Principal | None:
    """The signed-in user (None: not signed in); runs in the page's worker thread."""
    try:
        principal = authenticate_request(request, session)
    except NotAuthenticated:
        return None
    await check_csrf(request, principal)
    return principal


def _require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(
            f"role '{principal.user.role}' may not {permission.value.replace('_', ' ')}"
        )


def _form_dict(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _field_error(err: InvalidInputError) -> dict[str, str]:
    return {err.field: str(err)}


def _table_rows(table: type[Base], *order_by: Any) -> Any:
    """All columns of ``table``'s rows of one patient (bound ``patient_id``), as Core rows."""
    columns = table.__table__.c
    return (
        select(table.__table__)
        .where(columns.patient_id == bindparam("patient_id"))
        .order_by(*(columns[name] for name in order_by))
    )


# The page's read-only lookups, built once: read-only rows (attribute access, no mapped
# objects to build) with the patient's id bound at each view.
_IDENTITY = _table_rows(PatientIdentity)
# The latest evaluation; its report as the stored text (decoded once per text, shared).
_LATEST_EVALUATION = (
    select(
        EligibilityEvaluation.verdict,
        EligibilityEvaluation.created_at,
        EligibilityEvaluation.created_by,
        cast(EligibilityEvaluation.report, Text).label("report_json"),
    )
    .where(EligibilityEvaluation.patient_id == bindparam("patient_id"))
    .order_by(EligibilityEvaluation.id.desc())
    .limit(1)
)
# The courses without their plan (a 25 kB JSON document the page does not show).
_COURSES = (
    select(*(c for c in Course.__table__.c if c.name != "plan"))
    .where(Course.patient_id == bindparam("patient_id"))
    .order_by(Course.id)
)
_TUMOUR = _table_rows(Tumour)
_LAB_TABLE = (
    select(
        LabResult.drawn_on,
        LabResult.for_cycle,
        LabResult.analyte,
        LabResult.value_canonical,
        LabResult.unit,
        LabResult.entered_as,
    )
    .where(LabResult.patient_id == bindparam("patient_id"))
    .order_by(LabResult.drawn_on, LabResult.id)
)
_DOSES = (
    select(DosimetryResult.__table__, Cycle.course_id, Cycle.number.label("cycle"))
    .join(Cycle, DosimetryResult.cycle_id == Cycle.id)
    .where(Cycle.course_id.in_(bindparam("course_ids", expanding=True)))
    .order_by(Cycle.course_id, Cycle.number, DosimetryResult.id)
)


def _patient_context(session: Session, principal: Principal, patient_id: int) -> dict[str, Any]:
    patient = patients.read_patient(session, actor=principal.username, patient_id=patient_id)
    of_patient = {"patient_id": patient.id}
    read = reader(session)  # the page's Core reads, past the ORM's execution layer
    identity = None
    if principal.can(Permission.READ_IDENTITY):
        identity = read.execute(_IDENTITY, of_patient).first()
    latest = read.execute(_LATEST_EVALUATION, of_patient).first()
    evaluation = (
        None
        if latest is None
        else {
            "verdict": latest.verdict,
            "created_at": latest.created_at,
            "created_by": latest.created_by,
            "report": shared_document(latest.report_json),  # read-only
        }
    )
    course_rows = list(read.execute(_COURSES, of_patient).all())
    doses: dict[int, list[dict[str, Any]]] = {c.id: [] for c in course_rows}
    if doses:
        for d in read.execute(_DOSES, {"course_ids": list(doses)}).all():
            view = snapshot(d)
            course_id = view.pop("course_id")
            doses[course_id].append({"cycle": view.pop("cycle"), **view})
    course_views = courses_public(session, course_rows)
    for view in course_views:
        view["next_cycle"] = sum(1 for cy in view["cycles"] if cy["administration"]) + 1
        view["doses"] = doses[view["id"]]
    lesions = list(read.execute(assessments.LESION_DATA, of_patient).scalars())
    return {
        "principal": principal,
        "p": patient,
        "identity": identity,
        "tumour": read.execute(_TUMOUR, of_patient).first(),
        "lesions": lesions,
        "evaluation": evaluation,
        # The lab table's columns as rows the template unpacks (attribute look-ups on 50
        # rows were a fifth of the page's rendering).
        "labs": read.execute(_LAB_TABLE, of_patient).all(),
        "courses": course_views,
        "recist": assessments.response_of(session, patient, lesions=lesions),
        "can": {
            "edit": principal.can(Permission.EDIT_PATIENT),
            "labs": principal.can(Permission.RECORD_LABS),
            "evaluate": principal.can(Permission.EVALUATE_ELIGIBILITY),
            "plan": principal.can(Permission.PLAN_COURSE),
            "administer": principal.can(Permission.RECORD_ADMINISTRATION),
            "dosimetry": principal.can(Permission.RECORD_DOSIMETRY),
            "decide": principal.can(Permission.DECIDE_NEXT_CYCLE),
            "response": principal.can(Permission.RECORD_RESPONSE),
        },
        "lab_fields": LAB_FIELDS,
        "limit_fields": LIMIT_FIELDS,
        "sites": SITES,
        "regimens": [(r.id, r.name) for r in REGIMENS.values()],
    }


def install(app: FastAPI) -> None:
    """Add the pages and the static files to ``app``."""
    static = Path(__file__).with_name("static")
    app.mount("/static", StaticFiles(directory=static), name="static")
    # Swagger UI 5 (OpenAPI 3.1) from the files of the installed fastapi-offline package (no
    # CDN: the CSP allows only this origin), started by static/swagger-init.js (no inline
    # script).
    app.mount(
        "/swagger-ui",
        StaticFiles(directory=Path(fastapi_offline.__file__).with_name("static")),
        name="swagger-ui",
    )

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> Response:
        return HTMLResponse(_SWAGGER_PAGE)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/patients", status_code=303)

    @app.get("/sign-in", include_in_schema=False)
    async def sign_in_page() -> Response:
        return _render("sign_in.html", principal=None, username="")

    @app.post("/sign-in", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        client = request.client.host if request.client else "?"
        limiter = request.app.state.sign_in_limiter

        async def handler(session: Session) -> Response:
            try:
                limiter.check(username, client)
            except TooManyAttempts as err:
                return _render(
                    "sign_in.html",
                    429,
                    principal=None,
                    username=username,
                    flash={"kind": "error", "text": str(err)},
                )
            user = authenticate(session, username=username, password=password)
            if user is None:
                limiter.failed(username, client)
                return _render(
                    "sign_in.html",
                    401,
                    principal=None,
                    username=username,
                    flash={"kind": "error", "text": "Unknown user name or wrong password."},
                )
            limiter.succeeded(username, client)
            token, _row = create_sign_in_session(session, user)
            response = RedirectResponse("/patients", status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                token,
                httponly=True,
                samesite="strict",
                secure=request.app.state.settings.secure_cookies,
                max_age=12 * 3600,
                path="/",
            )
            return response

        return await run_in_transaction(request, handler)

    @app.post("/sign-out", include_in_schema=False)
    async def sign_out(request: Request) -> Response:
        async def handler(session: Session) -> Response:
            principal = await _principal(request, session)
            if principal is not None:
                end_sign_in_session(session, request.cookies.get(SESSION_COOKIE, ""))
            response = RedirectResponse("/sign-in", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        return await run_in_transaction(request, handler)

    async def _list(request: Request, q: str = "", **extra: Any) -> Response:
        async def handler(session: Session) -> Response:
            principal = await _principal(request, session)
            if principal is None:
                return RedirectResponse("/sign-in", status_code=303)
            _require(principal, Permission.READ_PATIENT)
            can_identity = principal.can(Permission.READ_IDENTITY)
            rows = patients.list_patients(
                session, actor=principal.username, search=q, search_identity=can_identity
            )
            names = {}
            if can_identity and rows:
                for ident in session.execute(
                    select(PatientIdentity).where(
                        PatientIdentity.patient_id.in_([r.id for r in rows])
                    )
                ).scalars():
                    names[ident.patient_id] = f"{ident.family_name}, {ident.given_name}".strip(", ")
            status = extra.pop("status", 200)
            return _render(
                "patients.html",
                status,
                principal=principal,
                rows=rows,
                q=q,
                names=names,
                can_identity=can_identity,
                can_edit=principal.can(Permission.EDIT_PATIENT),
                **extra,
            )

        return await run_in_transaction(request, handler)

    @app.get("/patients", include_in_schema=False)
    async def patient_list(request: Request) -> Response:
        return await _list(request)

    @app.post("/patients/search", include_in_schema=False)
    async def patient_search(request: Request) -> Response:
        form = await request.form()
        return await _list(request, q=str(form.get("q", ""))[:64])

    @app.post("/patients", include_in_schema=False)
    async def patient_create(request: Request) -> Response:
        form = _form_dict(await request.form())

        async def handler(session: Session) -> Response:
            principal = await _principal(request, session)
            if principal is None:
                return RedirectResponse("/sign-in", status_code=303)
            _require(principal, Permission.EDIT_PATIENT)
            data: dict[str, Any] = {"sex": form.get("sex", ""), "weight": form.get("weight", "")}
            try:
                age = form.get("age_years", "")
                if not age.isdigit():
                    raise InvalidInputError("age_years", age, "an age in whole years")
                data["age_years"] = int(age)
                if form.get("karnofsky_percent"):
                    k = form["karnofsky_percent"]
                    if not k.isdigit():
                        raise InvalidInputError(
                            "karnofsky_percent", k, "a Karnofsky score 0–100 in steps of 10"
                        )
                    data["karnofsky_percent"] = int(k)
                if form.get("height"):
                    data["height"] = form["height"]
                if form.get("pseudonym"):
                    data["pseudonym"] = form["pseudonym"]
                if form.get("family_name"):
                    data["identity"] = {
                        k: form.get(k, "") for k in ("family_name", "given_name", "hospital_number")
                    }
                begin_write(session)  # before the savepoint: see begin_write
                with session.begin_nested():
                    patient = patients.create_patient(session, actor=principal.username, data=data)
            except InvalidInputError as err:
                return await _list_error(session, principal, form, err)
            return RedirectResponse(f"/patients/{patient.id}", status_code=303)

        return await run_in_transaction(request, handler)

    async def _list_error(
        session: Session, principal: Principal, form: dict[str, str], err: InvalidInputError
    ) -> Response:
        can_identity = principal.can(Permission.READ_IDENTITY)
        rows = patients.list_patients(
            session, actor=principal.username, search_identity=can_identity
        )
        return _render(
            "patients.html",
            422,
            principal=principal,
            rows=rows,
            q="",
            names={},
            can_identity=can_identity,
            can_edit=True,
            form=form,
            errors=_field_error(err),
            flash={"kind": "error", "text": str(err)},
        )

    @app.get("/patients/{patient_id}", include_in_schema=False)
    async def patient_page(request: Request, patient_id: int) -> Response:
        async def handler(session: Session) -> Response:
            principal = await _principal(request, session)
            if principal is None:
                return RedirectResponse("/sign-in", status_code=303)
            _require(principal, Permission.READ_PATIENT)
            return _render("patient.html", **_patient_context(session, principal, patient_id))

        return await run_in_transaction(request, handler)

    from prrt.adapters.web import page_forms

    page_forms.install(app)

    @app.get("/patients/{patient_id}/labs.png", include_in_schema=False)
    async def labs_png(request: Request, patient_id: int) -> Response:
        async def handler(session: Session) -> Response:
            principal = await _principal(request, session)
            if principal is None:
                raise NotAuthenticated
            _require(principal, Permission.READ_PATIENT)
            patients.get_patient(session, actor=principal.username, patient_id=patient_id)
            png = plots.lab_trends_png(patients.lab_history(session, patient_id))
            return Response(png, media_type="image/png")

        return await run_in_transaction(request, handler)

    @app.get("/courses/{course_id}/doses.png", include_in_schema=False)
    async def doses_png(request: Request, course_id: int) -> Response:
        async def handler(session: Session) -> Response:
            principal = await _principal(request, session)
            if principal is None:
                raise NotAuthenticated
            _require(principal, Permission.READ_PATIENT)
            course = get_or_404(session, Course, course_id)
            patients.get_patient(session, actor=principal.username, patient_id=course.patient_id)
            view = course_public(session, course)
            return Response(
                plots.cumulative_doses_png(view["latest_decision"] or {}), media_type="image/png"
            )

        return await run_in_transaction(request, handler)


def _render_patient(
    session: Session,
    principal: Principal,
    patient_id: int,
    *,
    form: dict[str, str],
    err: InvalidInputError | None,
    flash: str | None = None,
) -> Response:
    """The patient page, with a form's values and its field error (422) or a message."""
    context = _patient_context(session, principal, patient_id)
    if err is not None:
        return _render(
            "patient.html",
            422,
            form=form,
            errors=_field_error(err),
            flash={"kind": "error", "text": str(err)},
            **context,
        )
    return _render(
        "patient.html", form={}, flash={"kind": "ok", "text": flash} if flash else None, **context
    )
