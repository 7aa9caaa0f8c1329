"""The patient page's forms: tumour, imaging finding, labs, eligibility, course, administration, doses, decision.

Each form handler checks the permission, runs one repository function inside a
savepoint and redirects back to the page (303), or re-renders the page with the
refused field marked (422) — the change is then rolled back entirely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prrt.adapters.api.permissions import Permission
from prrt.adapters.db import assessments, courses, patients
from prrt.adapters.db.engine import begin_write
from prrt.adapters.db.repository import get_or_404
from prrt.adapters.db.tables import Course
from prrt.errors import InvalidInputError

__all__ = ["install"]


def _int(form: dict[str, str], key: str, what: str, *, required: bool = True) -> int | None:
    text = form.get(key, "").strip()
    if not text and not required:
        return None
    if not text.lstrip("-").isdigit():
        raise InvalidInputError(key, text, what)
    return int(text)


def _number(form: dict[str, str], key: str, what: str) -> float | None:
    text = form.get(key, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError as err:
        raise InvalidInputError(key, text, what) from err


def _tumour(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "primary_site": form.get("primary_site"),
        "differentiation": form.get("differentiation"),
    }
    for key, what in (
        ("ki67_percent", "Ki-67 in % (0–100)"),
        ("mitoses_per_2mm2", "mitoses per 2 mm²"),
    ):
        value = _number(form, key, what)
        if value is not None:
            data[key] = value
    return data


def _lesion(form: dict[str, str]) -> dict[str, Any]:
    if not form.get("lesion_id"):
        raise InvalidInputError("lesion_id", "", "a lesion id such as L1")
    lesion: dict[str, Any] = {"id": form["lesion_id"], "target": form.get("target") == "1"}
    if form.get("site"):
        lesion["site"] = form["site"]
    if form.get("size"):
        lesion["size"] = form["size"]
    score = _int(form, "sstr_score", "a Krenning score 0–4", required=False)
    if score is not None:
        lesion["sstr_score"] = score
    if form.get("fdg"):
        lesion["fdg"] = form["fdg"]
    return lesion


def _labs(form: dict[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    values = {
        k.split(".", 1)[1]: v for k, v in form.items() if k.startswith("values.") and v.strip()
    }
    limits: dict[str, dict[str, str]] = {}
    for k, v in form.items():
        if k.startswith("limits.") and v.strip():
            _, analyte, which = k.split(".")
            if analyte in values:
                limits.setdefault(analyte, {})[which] = v
    return values, limits


def _yes_no(value: str | None, field: str) -> bool | None:
    if value in (None, ""):
        return None
    if value in ("yes", "no"):
        return value == "yes"
    raise InvalidInputError(field, value, "yes, no or unknown")


def install(app: FastAPI) -> None:
    """Add the form routes."""
    from prrt.adapters.web.pages import _principal, _render_patient, _require, run_in_transaction

    def form_route(
        path: str, permission: Permission, patient_of: Callable[[Session, int], int]
    ) -> Callable[..., Any]:
        def decorate(
            action: Callable[[Session, str, int, dict[str, str]], str],
        ) -> Callable[..., Any]:
            async def endpoint(request: Request, entity_id: int) -> Response:
                raw = await request.form()
                form = {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}

                async def handler(session: Session) -> Response:
                    principal = await _principal(request, session)
                    if principal is None:
                        return RedirectResponse("/sign-in", status_code=303)
                    _require(principal, permission)
                    begin_write(session)  # before the savepoint: see begin_write
                    patient_id = patient_of(session, entity_id)
                    try:
                        with session.begin_nested():
                            message = action(session, principal.username, entity_id, form)
                    except InvalidInputError as err:
                        return _render_patient(session, principal, patient_id, form=form, err=err)
                    return _render_patient(
                        session, principal, patient_id, form={}, err=None, flash=message
                    )

                return await run_in_transaction(request, handler)

            endpoint.__name__ = action.__name__
            app.post(path.replace("{id}", "{entity_id}"), include_in_schema=False)(endpoint)
            return action

        return decorate

    def by_patient(_s: Session, patient_id: int) -> int:
        return patient_id

    def by_course(session: Session, course_id: int) -> int:
        return get_or_404(session, Course, course_id).patient_id

    @form_route("/patients/{id}/tumour", Permission.EDIT_PATIENT, by_patient)
    def tumour_form(session: Session, actor: str, pid: int, form: dict[str, str]) -> str:
        version = _int(form, "version", "the tumour record's version", required=False)
        patients.set_tumour(
            session, actor=actor, patient_id=pid, data=_tumour(form), version=version
        )
        return "Tumour saved."

    @form_route("/patients/{id}/imaging", Permission.EDIT_PATIENT, by_patient)
    def imaging_form(session: Session, actor: str, pid: int, form: dict[str, str]) -> str:
        kind = form.get("kind", "sstr")
        patients.record_imaging(
            session,
            actor=actor,
            patient_id=pid,
            kind=kind,
            study_date=form.get("study_date", ""),
            modality=form.get("modality") if kind == "sstr" else None,
            tracer=form.get("tracer") if kind == "sstr" else None,
            lesions=[_lesion(form)],
        )
        return "Imaging finding recorded."

    @form_route("/patients/{id}/labs", Permission.RECORD_LABS, by_patient)
    def labs_form(session: Session, actor: str, pid: int, form: dict[str, str]) -> str:
        values, limits = _labs(form)
        cycle = _int(form, "for_cycle", "a cycle number", required=False)
        # errors name the form field: values.platelets, limits.platelets.lln
        rows = patients.record_labs(
            session,
            actor=actor,
            patient_id=pid,
            drawn_on=form.get("drawn_on", ""),
            values=values,
            for_cycle=cycle,
            limits=limits,
        )
        return f"{len(rows)} lab values saved."

    @form_route("/patients/{id}/eligibility", Permission.EVALUATE_ELIGIBILITY, by_patient)
    def eligibility_form(session: Session, actor: str, pid: int, _form: dict[str, str]) -> str:
        row = assessments.evaluate_eligibility(session, actor=actor, patient_id=pid)
        return f"Eligibility evaluated: {row.verdict.replace('_', ' ')}."

    @form_route("/patients/{id}/courses", Permission.PLAN_COURSE, by_patient)
    def plan_form(session: Session, actor: str, pid: int, form: dict[str, str]) -> str:
        course = courses.plan_patient_course(
            session,
            actor=actor,
            patient_id=pid,
            regimen_id=form.get("regimen", ""),
            first_administration=form.get("first_administration", ""),
        )
        return f"Course {course.id} planned."

    @form_route("/courses/{id}/administrations", Permission.RECORD_ADMINISTRATION, by_course)
    def administration_form(session: Session, actor: str, cid: int, form: dict[str, str]) -> str:
        n = _int(form, "cycle_number", "a cycle number")
        courses.record_administration(
            session,
            actor=actor,
            course_id=cid,
            cycle_number=n or 0,
            administered_at=form.get("administered_at", ""),
            activity=form.get("activity", ""),
        )
        return f"Cycle {n} administration recorded."

    @form_route("/courses/{id}/dosimetry", Permission.RECORD_DOSIMETRY, by_course)
    def dosimetry_form(session: Session, actor: str, cid: int, form: dict[str, str]) -> str:
        n = _int(form, "cycle_number", "a cycle number")
        regions: dict[str, Any] = {}
        if form.get("kidneys"):
            regions["kidneys"] = (
                {"absorbed_dose": form["kidneys"], "effective_half_life": form["kidneys_t_eff"]}
                if form.get("kidneys_t_eff")
                else form["kidneys"]
            )
        if form.get("red_marrow"):
            regions["red_marrow"] = form["red_marrow"]
        if not regions:
            raise InvalidInputError("kidneys", "", "at least one organ dose such as '3.9 Gy'")
        courses.record_dosimetry(
            session,
            actor=actor,
            course_id=cid,
            cycle_number=n or 0,
            regions=regions,
            method="entered",
        )
        return f"Doses of cycle {n} saved."

    @form_route("/courses/{id}/decision", Permission.DECIDE_NEXT_CYCLE, by_course)
    def decision_form(session: Session, actor: str, cid: int, form: dict[str, str]) -> str:
        row = courses.decide(
            session,
            actor=actor,
            course_id=cid,
            pregnant=_yes_no(form.get("pregnant"), "pregnant"),
            mds_or_aml=_yes_no(form.get("mds_or_aml"), "mds_or_aml"),
        )
        return f"Decision for cycle {row.cycle_number}: {row.action.replace('_', ' ')}."

    @form_route("/patients/{id}/responses", Permission.RECORD_RESPONSE, by_patient)
    def response_form(session: Session, actor: str, pid: int, form: dict[str, str]) -> str:
        targets = [
            {"id": k.split(".", 1)[1], "size": v}
            for k, v in form.items()
            if k.startswith("target.") and v.strip()
        ]
        if not targets:
            raise InvalidInputError(
                "assessed_on",
                form.get("assessed_on", ""),
                "the size of every target lesion, e.g. '24 mm'",
            )
        measurements: dict[str, Any] = {"targets": targets, "non_targets": []}
        if form.get("new_lesions") and form["new_lesions"] != "none":
            measurements["new_lesions"] = form["new_lesions"]
        row = assessments.record_response(
            session,
            actor=actor,
            patient_id=pid,
            assessed_on=form.get("assessed_on", ""),
            measurements=measurements,
        )
        return f"Time point recorded: {row.overall or 'not assessable yet'}."
