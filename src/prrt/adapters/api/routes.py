"""REST routes of the pathway under ``/api``: each route checks a permission and calls one repository function."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import Text, bindparam, cast, func, select

from prrt.adapters.api.deps import CurrentUser, Principal, SessionDep, require
from prrt.adapters.api.endpoint import json_with_encoded, route_endpoint
from prrt.adapters.api.errors import NotAuthenticated
from prrt.adapters.api.permissions import Permission
from prrt.adapters.api.schemas import (
    AdministrationIn,
    CourseIn,
    DecisionIn,
    DosimetryIn,
    ImagingIn,
    LabsIn,
    PatientIn,
    PatientUpdate,
    ResponseIn,
    SearchIn,
    SignIn,
    TumourIn,
    UserIn,
)
from prrt.adapters.db import assessments, courses, patients
from prrt.adapters.db.audit import verify_chain
from prrt.adapters.db.repository import (
    authenticate,
    create_api_token,
    create_user,
    get_or_404,
    reader,
    shared_document,
    snapshot,
)
from prrt.adapters.db.tables import (
    Administration,
    Course,
    Cycle,
    Decision,
    Patient,
    PatientIdentity,
    Tumour,
)

__all__ = ["router"]


class _PlainJsonRoute(APIRoute):
    """A route that commits in its own thread and answers its dicts and lists as JSON.

    See :func:`~prrt.adapters.api.endpoint.route_endpoint`.  No response model: with one, FastAPI validates a sync route's result in a worker thread after
    the route returned, while the request's transaction (and SQLite's write lock) is still
    open; with every worker thread waiting for that lock, the request would never finish.
    """

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        kwargs["response_model"] = None
        status = kwargs.get("status_code") or 200
        super().__init__(path, route_endpoint(endpoint, status), **kwargs)


router = APIRouter(prefix="/api", route_class=_PlainJsonRoute)


MayDecideNextCycle = Annotated[Principal, require(Permission.DECIDE_NEXT_CYCLE)]
MayEditPatient = Annotated[Principal, require(Permission.EDIT_PATIENT)]
MayEvaluateEligibility = Annotated[Principal, require(Permission.EVALUATE_ELIGIBILITY)]
MayManageUsers = Annotated[Principal, require(Permission.MANAGE_USERS)]
MayPlanCourse = Annotated[Principal, require(Permission.PLAN_COURSE)]
MayReadPatient = Annotated[Principal, require(Permission.READ_PATIENT)]
MayRecordAdministration = Annotated[Principal, require(Permission.RECORD_ADMINISTRATION)]
MayRecordDosimetry = Annotated[Principal, require(Permission.RECORD_DOSIMETRY)]
MayRecordLabs = Annotated[Principal, require(Permission.RECORD_LABS)]
MayRecordResponse = Annotated[Principal, require(Permission.RECORD_RESPONSE)]
MayVerifyAudit = Annotated[Principal, require(Permission.VERIFY_AUDIT)]


def patient_public(session: Any, patient: Patient, principal: Principal) -> dict[str, Any]:
    """The patient as the API shows it (identity only for roles that may read it)."""
    out = snapshot(patient)
    if principal.can(Permission.READ_IDENTITY):
        ident = session.execute(
            select(PatientIdentity).where(PatientIdentity.patient_id == patient.id)
        ).scalar()
        out["identity"] = (
            None
            if ident is None
            else {k: v for k, v in snapshot(ident).items() if k not in ("id", "patient_id")}
        )
    tumour = session.execute(select(Tumour).where(Tumour.patient_id == patient.id)).scalar()
    out["tumour"] = None if tumour is None else {"data": tumour.data, "version": tumour.version}
    return out


@router.post(
    "/auth/token", tags=["auth"], summary="Exchange user name and password for a bearer token"
)
def sign_in_token(body: SignIn, request: Request, session: SessionDep) -> dict[str, Any]:
    limiter = request.app.state.sign_in_limiter
    client = request.client.host if request.client else "?"
    limiter.check(body.username, client)
    user = authenticate(session, username=body.username, password=body.password)
    if user is None:
        limiter.failed(body.username, client)
        raise NotAuthenticated
    limiter.succeeded(body.username, client)
    token = create_api_token(session, actor=user.username, user=user, label="api sign-in")
    return {"token": token, "token_type": "bearer", "role": user.role}


@router.get("/me", tags=["auth"])
def me(principal: CurrentUser) -> dict[str, Any]:
    return {"username": principal.username, "role": principal.user.role, "via": principal.via}


@router.post("/users", tags=["users"], status_code=201)
def new_user(body: UserIn, session: SessionDep, principal: MayManageUsers) -> dict[str, Any]:
    user = create_user(
        session,
        actor=principal.username,
        username=body.username,
        password=body.password,
        role=body.role,
    )
    return {"id": user.id, "username": user.username, "role": user.role}


@router.get("/patients", tags=["patients"])
def list_all(session: SessionDep, principal: MayReadPatient) -> list[dict[str, Any]]:
    return [snapshot(p) for p in patients.list_patients(session, actor=principal.username)]


@router.post("/patients/search", tags=["patients"])
def search(body: SearchIn, session: SessionDep, principal: MayReadPatient) -> list[dict[str, Any]]:
    # Names and hospital numbers are searched only for roles that may see them.
    rows = patients.list_patients(
        session,
        actor=principal.username,
        search=body.q,
        search_identity=principal.can(Permission.READ_IDENTITY),
    )
    return [snapshot(p) for p in rows]


@router.post("/patients", tags=["patients"], status_code=201)
def create(body: PatientIn, session: SessionDep, principal: MayEditPatient) -> dict[str, Any]:
    data = body.model_dump(exclude_none=True, mode="json")
    patient = patients.create_patient(session, actor=principal.username, data=data)
    return patient_public(session, patient, principal)


@router.get("/patients/{patient_id}", tags=["patients"])
def read(patient_id: int, session: SessionDep, principal: MayReadPatient) -> dict[str, Any]:
    patient = patients.get_patient(session, actor=principal.username, patient_id=patient_id)
    return patient_public(session, patient, principal)


@router.patch("/patients/{patient_id}", tags=["patients"])
def update(
    patient_id: int,
    body: PatientUpdate,
    session: SessionDep,
    principal: MayEditPatient,
) -> dict[str, Any]:
    changes = body.model_dump(exclude_none=True, exclude={"version"}, mode="json")
    patient = patients.update_patient(
        session, actor=principal.username, patient_id=patient_id, version=body.version, data=changes
    )
    return patient_public(session, patient, principal)


@router.put("/patients/{patient_id}/tumour", tags=["imaging findings"])
def tumour(
    patient_id: int, body: TumourIn, session: SessionDep, principal: MayEditPatient
) -> dict[str, Any]:
    row = patients.set_tumour(
        session,
        actor=principal.username,
        patient_id=patient_id,
        data=body.data,
        version=body.version,
    )
    return {"data": row.data, "version": row.version}


@router.post("/patients/{patient_id}/imaging", tags=["imaging findings"], status_code=201)
def imaging(
    patient_id: int, body: ImagingIn, session: SessionDep, principal: MayEditPatient
) -> dict[str, Any]:
    study = patients.record_imaging(
        session,
        actor=principal.username,
        patient_id=patient_id,
        kind=body.kind,
        study_date=body.study_date,
        modality=body.modality,
        tracer=body.tracer,
        lesions=body.lesions,
    )
    return snapshot(study)


@router.post("/patients/{patient_id}/labs", tags=["labs"], status_code=201)
def labs(
    patient_id: int, body: LabsIn, session: SessionDep, principal: MayRecordLabs
) -> list[dict[str, Any]]:
    rows = patients.record_labs(
        session,
        actor=principal.username,
        patient_id=patient_id,
        drawn_on=body.drawn_on,
        values=body.values,
        for_cycle=body.for_cycle,
        limits=body.limits,
    )
    return [snapshot(r) for r in rows]


@router.get("/patients/{patient_id}/labs", tags=["labs"])
def lab_list(
    patient_id: int, session: SessionDep, principal: MayReadPatient
) -> list[dict[str, Any]]:
    patients.get_patient(session, actor=principal.username, patient_id=patient_id)
    return [snapshot(r) for r in patients.lab_history(session, patient_id)]


@router.post("/patients/{patient_id}/eligibility", tags=["eligibility"], status_code=201)
def eligibility(
    patient_id: int, session: SessionDep, principal: MayEvaluateEligibility
) -> Response:
    """Evaluate and store: ``{"id", "verdict", "report"}`` (the report as stored, not re-encoded)."""
    row = assessments.evaluate_eligibility(session, actor=principal.username, patient_id=patient_id)
    body = json_with_encoded({"id": row.id, "verdict": row.verdict}, report=row.report_json)
    return Response(body, 201, media_type="application/json")


@router.post("/patients/{patient_id}/courses", tags=["courses"], status_code=201)
def plan(
    patient_id: int, body: CourseIn, session: SessionDep, principal: MayPlanCourse
) -> dict[str, Any]:
    course = courses.plan_patient_course(
        session,
        actor=principal.username,
        patient_id=patient_id,
        regimen_id=body.regimen,
        first_administration=body.first_administration,
        intent=body.intent,
        renal_risk_factors=body.renal_risk_factors,
        peritoneal_or_mesenteric_disease=body.peritoneal_or_mesenteric_disease,
    )
    return course_public(session, course)


def course_public(session: Any, course: Course) -> dict[str, Any]:
    """A course with its cycles, administrations and latest decision."""
    return courses_public(session, [course])[0]


def courses_public(session: Any, course_rows: Sequence[Any]) -> list[dict[str, Any]]:
    """:func:`course_public` of several courses, in three queries whatever their number.

    Each ``latest_decision`` is shared between requests (:func:`shared_document`): read it,
    never change it.

    ``course_rows``: mapped :class:`Course` objects or Core rows of ``courses``.
    """
    ids = {"course_ids": [c.id for c in course_rows]}
    if not ids["course_ids"]:
        return []
    cycles: dict[int, list[dict[str, Any]]] = {i: [] for i in ids["course_ids"]}
    read = reader(session)
    for cycle in read.execute(_CYCLES_GIVEN, ids).all():
        given = snapshot(cycle)
        cycles[given.pop("cycle_course_id")].append(
            {
                "number": given.pop("cycle_number"),
                "planned_at": given.pop("cycle_planned_at"),
                "administration": None if given["id"] is None else given,
            }
        )
    latest = {
        d.course_id: shared_document(d.result_json) for d in read.execute(_LATEST_DECISIONS, ids)
    }
    out = []
    for course in course_rows:
        view = snapshot(course)
        view["cycles"] = cycles[course.id]
        view["latest_decision"] = latest.get(course.id)
        out.append(view)
    return out


_CYCLES_GIVEN = (
    select(
        Cycle.course_id.label("cycle_course_id"),
        Cycle.number.label("cycle_number"),
        Cycle.planned_at.label("cycle_planned_at"),
        Administration.__table__,
    )
    .outerjoin(Administration, Administration.cycle_id == Cycle.id)
    .where(Cycle.course_id.in_(bindparam("course_ids", expanding=True)))
    .order_by(Cycle.course_id, Cycle.number)
)
# The stored text of each latest decision, decoded once per text (shared_document).
_LATEST_DECISIONS = select(
    Decision.course_id, cast(Decision.result, Text).label("result_json")
).where(
    Decision.id.in_(
        select(func.max(Decision.id))
        .where(Decision.course_id.in_(bindparam("course_ids", expanding=True)))
        .group_by(Decision.course_id)
    )
)


@router.get("/courses/{course_id}", tags=["courses"])
def course(course_id: int, session: SessionDep, principal: MayReadPatient) -> dict[str, Any]:
    row = get_or_404(session, Course, course_id)
    patients.get_patient(session, actor=principal.username, patient_id=row.patient_id)
    return course_public(session, row)


@router.post("/courses/{course_id}/administrations", tags=["courses"], status_code=201)
def administration(
    course_id: int,
    body: AdministrationIn,
    session: SessionDep,
    principal: MayRecordAdministration,
) -> dict[str, Any]:
    row = courses.record_administration(
        session,
        actor=principal.username,
        course_id=course_id,
        cycle_number=body.cycle_number,
        administered_at=body.administered_at,
        activity=body.activity,
    )
    return snapshot(row)


@router.post("/courses/{course_id}/dosimetry", tags=["dosimetry"], status_code=201)
def dosimetry(
    course_id: int,
    body: DosimetryIn,
    session: SessionDep,
    principal: MayRecordDosimetry,
) -> list[dict[str, Any]]:
    rows = courses.record_dosimetry(
        session,
        actor=principal.username,
        course_id=course_id,
        cycle_number=body.cycle_number,
        regions=body.regions,
        method=body.method,
    )
    return [snapshot(r) for r in rows]


@router.post("/courses/{course_id}/decision", tags=["decisions"], status_code=201)
def decision(
    course_id: int,
    body: DecisionIn,
    session: SessionDep,
    principal: MayDecideNextCycle,
) -> dict[str, Any]:
    row = courses.decide(
        session,
        actor=principal.username,
        course_id=course_id,
        assessment_date=body.assessment_date,
        toxicities=body.toxicities,
        pregnant=body.pregnant,
        mds_or_aml=body.mds_or_aml,
    )
    return {"id": row.id, **row.result}


@router.post("/patients/{patient_id}/responses", tags=["response"], status_code=201)
def response(
    patient_id: int,
    body: ResponseIn,
    session: SessionDep,
    principal: MayRecordResponse,
) -> dict[str, Any]:
    measurements = body.model_dump(exclude_none=True, exclude={"assessed_on"}, mode="json")
    row = assessments.record_response(
        session,
        actor=principal.username,
        patient_id=patient_id,
        assessed_on=body.assessed_on,
        measurements=measurements,
    )
    return snapshot(row)


@router.get("/audit/verify", tags=["audit"])
def audit_verify(session: SessionDep, _principal: MayVerifyAudit) -> dict[str, Any]:
    count, problems = verify_chain(session)
    return {"events": count, "intact": not problems, "problems": [p.to_dict() for p in problems]}
