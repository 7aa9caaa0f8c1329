"""Planning commands: ``prrt regimens``, ``prrt plan`` and ``prrt course next COURSE.json``.

``prrt plan`` dates a course (``prrt.planning.plan_course``): every PRRT day
with its premedication, amino acids, observation, SSA, labs, imaging and
chemotherapy, then the course-level SSA maintenance and follow-up; it can
write the calendar (``--ics``) and the plan JSON (``--json``).  ``prrt course
next`` reads a course record (``CourseRecord.from_dict``) and prints the
next-cycle decision with its reasons and the cumulative dose-limit checks.

Users' units are parsed here, explicitly: ``--weight "70 kg"``, ``--height
"175 cm"``, ``--interval "8 weeks"``; ``--first`` must carry a UTC offset.
Bad input exits with code 2 and names the field.  JSON shapes and the course
record format: ``docs/planning.md``.
"""

from __future__ import annotations

import math
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.table import Table
from rich.text import Text

from prrt.adapters._files import read_json_document
from prrt.adapters.calendar import course_plan_to_ics, course_plan_to_json
from prrt.adapters.cli._common import (
    FORMAT_HELP,
    OutputFormat,
    emit,
    handle_errors,
    stdout_console,
)
from prrt.errors import InvalidInputError
from prrt.planning import (
    REGIMENS,
    AminoAcidProtocol,
    CoursePlan,
    Intent,
    PatientFactors,
    get_regimen,
    plan_course,
)
from prrt.planning.course_record import CourseRecord
from prrt.units import SECONDS_PER_DAY, Dimension, parse_quantity, parse_timestamp

__all__ = ["register"]

_FormatOption = Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)]
_ACTION_STYLE = {
    "give_full": "bold green",
    "give_reduced": "bold yellow",
    "withhold": "bold magenta",
    "stop": "bold red",
    "course_complete": "bold cyan",
    "indeterminate": "bold yellow",
}


# ----------------------------------------------------------------------------- inputs


def _first_time(text: str, timezone: str | None) -> datetime:
    """The first infusion time on the clock the plan is shown in.

    The offset is required (``parse_timestamp``); the plan keeps the offset
    given, or the IANA zone of ``--timezone`` (so that later cycles keep the
    local clock time across a daylight-saving change).
    """
    moment = parse_timestamp(text, field="first")
    zone: tzinfo
    if timezone is not None:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise InvalidInputError(
                "timezone", timezone, "an IANA time zone such as 'Europe/Amsterdam'"
            ) from err
    else:
        given = datetime.fromisoformat(text.strip()).tzinfo
        assert given is not None  # parse_timestamp refused a naive time
        zone = given
    return moment.astimezone(zone)


def _interval_days(text: str | None) -> int | None:
    if text is None:
        return None
    seconds = parse_quantity(text, Dimension.TIME, field="interval", positive=True)
    days = seconds / SECONDS_PER_DAY
    if not math.isclose(days, round(days), abs_tol=1e-9):
        raise InvalidInputError("interval", text, "a whole number of days, e.g. '8 weeks', '56 d'")
    return round(days)


def _patient(weight: str | None, height: str | None, peritoneal: bool | None) -> PatientFactors:
    weight_kg = (
        None
        if weight is None
        else parse_quantity(weight, Dimension.MASS, field="weight", positive=True)
    )
    height_cm = (
        None
        if height is None
        else parse_quantity(height, Dimension.LENGTH, field="height", positive=True) / 10.0
    )
    return PatientFactors(
        weight_kg=weight_kg,
        height_cm=height_cm,
        peritoneal_or_mesenteric_disease=peritoneal,
    )


#: Fields named by the planning core -> the option that sets them.
_OPTION_OF_FIELD = {
    "first_administration": "--first",
    "patient.weight": "--weight",
    "patient.height": "--height",
    "interval_days": "--interval",
    "cycles": "--cycles",
    "intent": "--intent",
    "amino_acid_protocol": "--amino-acids",
}


def _with_option(err: InvalidInputError, interval: str | None) -> InvalidInputError:
    """The core's error with the option to change (and the interval as the user wrote it)."""
    option = _OPTION_OF_FIELD.get(err.field)
    if option is None:
        return err
    hint = f"option {option}" + (f"; {err.hint}" if err.hint else "")
    if err.field == "interval_days" and interval is not None:
        return type(err)("interval", interval, err.expected, hint=hint)
    return type(err)(err.field, err.value, err.expected, hint=hint)


def _write_file(path: Path, data: bytes, field: str) -> str:
    try:
        path.write_bytes(data)
    except OSError as err:
        raise InvalidInputError(
            field, str(path), "a writable file path", hint=err.strerror or str(err)
        ) from err
    return str(path)


# ----------------------------------------------------------------------------- formatting


def _when(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M") + moment.isoformat()[-6:]


def _until(start: datetime, end: datetime | None) -> str:
    if end is None:
        return ""
    if end.date() == start.date():
        return end.strftime("%H:%M")
    return end.strftime("%a %Y-%m-%d %H:%M")


def _gbq(bq: float | None) -> str:
    return "-" if bq is None else f"{bq / 1e9:.3g} GBq"


def _gy(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


# ----------------------------------------------------------------------------- regimens


def _render_regimens(payload: dict[str, Any]) -> None:
    table = Table(title="PRRT regimens", title_justify="left")
    for column in ("id", "activity per cycle", "cycles", "interval", "chemotherapy", "source"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for r in payload["regimens"]:
        cycles = str(r["cycles"])
        if r["max_cycles"] != r["cycles"]:
            cycles += f" (up to {r['max_cycles']})"
        interval = (
            f"{r['interval_days'] / 7:g} wk ({r['min_interval_days']}–{r['max_interval_days']} d)"
        )
        chemo = ", ".join(
            f"{c['drug']} {c['dose_mg_per_m2_per_day']:g} mg/m²/d d{c['first_day']}–{c['last_day']}"
            for c in r["chemotherapy"]
        )
        table.add_row(
            r["id"],
            " + ".join(f"{c['prescription']} {c['nuclide']}" for c in r["components"]),
            cycles,
            interval,
            chemo or "-",
            f"[{r['confidence']}] {r['source']}",
        )
    stdout_console.print(table)
    stdout_console.print(
        "Tags: V verified, R recalled (unverified), S seed review, P program policy.", style="dim"
    )


def regimens_command(fmt: _FormatOption = OutputFormat.TEXT) -> None:
    """List the regimens that 'prrt plan --regimen' accepts, with their timing and sources."""
    with handle_errors(fmt):
        emit({"regimens": [r.to_dict() for r in REGIMENS.values()]}, fmt, _render_regimens)


# ----------------------------------------------------------------------------- plan


def _plan_payload(plan: CoursePlan) -> dict[str, Any]:
    payload = plan.to_dict()
    payload["prrt_starts"] = [c.prrt_start.isoformat() for c in plan.cycles]
    payload["events"] = [e.to_dict() for e in plan.events]
    return payload


def _render_plan(payload: dict[str, Any]) -> None:
    console = stdout_console
    regimen = payload["regimen"]
    console.rule(f"{regimen['id']} · {regimen['name']}")
    patient = payload["patient"]
    facts = [
        f"intent {payload['intent']}",
        f"amino acids {payload['amino_acid_protocol']}",
        f"{len(payload['cycles'])} cycles",
    ]
    if patient["weight_kg"] is not None:
        facts.append(f"weight {patient['weight_kg']:g} kg")
    if patient["bsa_m2"] is not None:
        facts.append(f"BSA {patient['bsa_m2']:.2f} m²")
    console.print(Text.assemble(("Plan: ", "bold"), "; ".join(facts)))
    for cycle in payload["cycles"]:
        activities = " + ".join(f"{_gbq(a)} {n}" for n, a in cycle["activities_bq"].items())
        start = datetime.fromisoformat(cycle["prrt_start"])
        console.print(
            Text.assemble(
                (f"Cycle {cycle['cycle_number']}: ", "bold"), f"{_when(start)}  {activities}"
            )
        )
    table = Table(title="Dated events", title_justify="left")
    for column in ("cycle", "date/time", "until", "event", "details"):
        table.add_column(column, overflow="fold", no_wrap=column in ("cycle", "date/time"))
    for event in payload["events"]:
        start = datetime.fromisoformat(event["start"])
        end = None if event["end"] is None else datetime.fromisoformat(event["end"])
        is_prrt = event["kind"] == "prrt"
        table.add_row(
            "-" if event["cycle_number"] is None else str(event["cycle_number"]),
            _when(start),
            _until(start, end),
            Text(event["title"], style="bold" if is_prrt else ""),
            event["details"],
        )
    console.print(table)
    for warning in payload["warnings"]:
        console.print(f"warning: {warning}", style="yellow")
    for kind, path in payload.get("written", {}).items():
        console.print(f"wrote {kind}: {path}", style="dim")


def plan_command(
    regimen: Annotated[
        str,
        typer.Option(
            "--regimen", help="Regimen id (see 'prrt regimens'), e.g. LUTATHERA_STANDARD."
        ),
    ],
    first: Annotated[
        str,
        typer.Option(
            "--first",
            help="Start of the first PRRT infusion, ISO 8601 with a UTC offset, e.g. 2026-03-02T09:00+01:00.",
        ),
    ],
    cycles: Annotated[
        int | None, typer.Option("--cycles", help="Number of cycles (default: the regimen's).")
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option(
            "--interval", help="Interval between PRRT days with its unit, e.g. '8 weeks', '56 d'."
        ),
    ] = None,
    weight: Annotated[
        str | None, typer.Option("--weight", help="Body weight with its unit, e.g. '70 kg'.")
    ] = None,
    height: Annotated[
        str | None, typer.Option("--height", help="Height with its unit, e.g. '175 cm'.")
    ] = None,
    peritoneal: Annotated[
        bool | None,
        typer.Option(
            "--peritoneal/--no-peritoneal",
            help="Peritoneal or mesenteric disease (schedules low-dose steroids); default: not assessed.",
        ),
    ] = None,
    amino_acids: Annotated[
        str,
        typer.Option("--amino-acids", help="Amino-acid protocol: EU (1 L over 4 h) or US."),
    ] = AminoAcidProtocol.EU.value,
    intent: Annotated[
        str | None,
        typer.Option(
            "--intent",
            help="Intent: " + ", ".join(i.value for i in Intent) + " (default: the regimen's).",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="IANA time zone of the clinic, e.g. Europe/Amsterdam: later cycles keep the local time across DST.",
        ),
    ] = None,
    ics: Annotated[
        Path | None, typer.Option("--ics", help="Write the plan as an iCalendar file.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the plan as JSON (CoursePlan.to_dict).")
    ] = None,
    label: Annotated[
        str,
        typer.Option(
            "--label", help="Calendar name in the .ics; do not put patient identifiers here."
        ),
    ] = "PRRT course",
    fmt: _FormatOption = OutputFormat.TEXT,
) -> None:
    """Date a PRRT course: every cycle with premedication, amino acids, SSA, labs and imaging."""
    with handle_errors(fmt):
        chosen = get_regimen(regimen)
        try:
            plan = plan_course(
                chosen,
                _first_time(first, timezone),
                _patient(weight, height, peritoneal),
                intent=None if intent is None else intent.strip().lower(),
                cycles=cycles,
                interval_days=_interval_days(interval),
                amino_acid_protocol=amino_acids.strip().upper(),
            )
        except InvalidInputError as err:
            raise _with_option(err, interval) from err
        payload = _plan_payload(plan)
        written: dict[str, str] = {}
        if ics is not None:
            written["ics"] = _write_file(ics, course_plan_to_ics(plan, patient_label=label), "ics")
        if json_out is not None:
            written["json"] = _write_file(
                json_out, course_plan_to_json(plan).encode("utf-8"), "json"
            )
        payload["written"] = written
        emit(payload, fmt, _render_plan)


# ----------------------------------------------------------------------------- course next


def _read_course(path: Path) -> CourseRecord:
    doc = read_json_document(path, field="COURSE", expected="a readable UTF-8 course record JSON")
    try:
        return CourseRecord.from_dict(doc)
    except InvalidInputError as err:
        hint = f"in {path}" + (f"; {err.hint}" if err.hint else "")
        raise type(err)(err.field, err.value, err.expected, hint=hint) from err


def _on_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as err:
        raise InvalidInputError("on", text, "a date YYYY-MM-DD") from err


def _render_decision(payload: dict[str, Any]) -> None:
    console = stdout_console
    console.rule(
        f"{payload['course_file']} · {payload['regimen']} · assessed {payload['assessment_date']}"
    )
    action = payload["action"]
    head = action.replace("_", " ").upper()
    if payload["activity_bq"] is not None:
        head += f" {_gbq(payload['activity_bq'])}"
    console.print(
        Text.assemble(
            (f"CYCLE {payload['cycle_number']}: ", "bold"),
            (head, _ACTION_STYLE.get(action, "bold")),
            f"   ({payload['doses_given']} dose(s) given, {_gbq(payload['cumulative_activity_bq'])} in all)",
        )
    )
    if payload["earliest_date"] is not None:
        console.print(Text.assemble(("Earliest date: ", "bold"), payload["earliest_date"]))
    if payload["withhold_until"] is not None:
        console.print(
            Text.assemble(
                ("Withheld: ", "bold"),
                f"re-check on {payload['recheck_on']}; give by {payload['withhold_until']} at the latest",
            )
        )
    reasons = Table(title="Reasons", title_justify="left")
    for column in ("code", "reason", "source"):
        reasons.add_column(column, overflow="fold", no_wrap=column == "code")
    for r in payload["reasons"]:
        reasons.add_row(r["code"], r["text"], r["source"])
    console.print(reasons)
    if payload["limit_checks"]:
        checks = Table(title="Cumulative dose limits", title_justify="left")
        for column in ("limit", "region", "cumulative Gy", "limit Gy", "margin Gy", "status"):
            checks.add_column(column, overflow="fold")
        for c in payload["limit_checks"]:
            style = {"within": "green", "exceeded": "red"}.get(c["status"], "yellow")
            checks.add_row(
                c["id"],
                c["region"],
                _gy(c["value_gy"]),
                _gy(c["limit_gy"]),
                _gy(c["margin_gy"]),
                Text(c["status"], style=style),
            )
        console.print(checks)
    for plan in payload["cycle_plans"]:
        console.print(Text.assemble((f"{plan['region']}: ", "bold"), plan["summary"]))
    if payload["missing"]:
        console.print("missing: " + "; ".join(payload["missing"]), style="yellow")


def course_next_command(
    course: Annotated[
        Path,
        typer.Argument(
            help="Course record JSON (format: docs/planning.md).",
            show_default=False,
            metavar="COURSE.json",
        ),
    ],
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            help="Assessment date YYYY-MM-DD (default: the date of the latest draw for the next cycle).",
        ),
    ] = None,
    fmt: _FormatOption = OutputFormat.TEXT,
) -> None:
    """Decide the next cycle of a course: action, activity, dates, reasons and dose limits."""
    with handle_errors(fmt):
        record = _read_course(course)
        decision = record.decide(_on_date(on))
        payload = decision.to_dict()
        payload["course_file"] = str(course)
        payload["regimen"] = record.regimen.id
        payload["doses_given"] = len(record.given)
        payload["cumulative_activity_bq"] = sum(g.activity_bq for g in record.given)
        emit(payload, fmt, _render_decision)


def register(app: typer.Typer) -> None:
    """Add ``regimens``, ``plan`` and ``course next`` to ``app``."""
    app.command("regimens")(regimens_command)
    app.command("plan")(plan_command)
    course_app = typer.Typer(
        help="A course under way: the next-cycle decision.", no_args_is_help=True
    )
    course_app.command("next")(course_next_command)
    app.add_typer(course_app, name="course")
