"""Calendar and JSON export of a dated course plan (RFC 5545 iCalendar via ``icalendar``).

:func:`course_plan_to_ics` writes one ``VEVENT`` per
:class:`~prrt.planning.ScheduledEvent` of a :class:`~prrt.planning.CoursePlan`:

=============  =================================================================
UID            ``<regimen>-c<cycle>-<kind>-<start UTC>-<digest>@prrt``: the same
               plan and label always give the same UIDs (a re-import updates the
               events instead of duplicating them); the digest (SHA-256 of the
               label, regimen, cycle, kind, start and title) keeps them unique
               across courses and labels
DTSTART/DTEND  in UTC (``...Z``); an event without an end gets a default length
               (:data:`DEFAULT_DURATIONS`, 30 min otherwise); the response
               assessment, dated "about 3 months" after the last cycle, is an
               all-day event on its local date
SUMMARY        the event's title
DESCRIPTION    the details, then ``Source: ...``
CATEGORIES     the event kind (``prrt``, ``labs``, ``amino_acids``, ...)
TRANSP         ``TRANSPARENT`` for windows longer than a day (washout, lab
               windows, chemotherapy blocks): they do not block busy time
=============  =================================================================

The calendar carries no patient data beyond ``patient_label`` (calendar name,
``X-WR-CALNAME``): choose a label that does not identify the patient when the
file leaves the hospital.  :func:`course_plan_to_json` is the plan's
``to_dict()`` as JSON; :func:`write_course_plan` writes both files.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from prrt import __version__
from prrt.errors import InvalidInputError
from prrt.planning import CoursePlan, EventKind, ScheduledEvent

__all__ = [
    "ALL_DAY_KINDS",
    "DEFAULT_DURATION",
    "DEFAULT_DURATIONS",
    "PRODID",
    "course_plan_to_ics",
    "course_plan_to_json",
    "event_uid",
    "write_course_plan",
]

PRODID = f"-//prrt//PRRT course plan {__version__}//EN"
#: Length given to an event that has no end.
DEFAULT_DURATION = timedelta(minutes=30)
DEFAULT_DURATIONS: dict[EventKind, timedelta] = {
    EventKind.ANTIEMETIC: timedelta(minutes=15),
    EventKind.PREMEDICATION: timedelta(minutes=15),
}
#: Kinds without an end that are approximate dates: exported as all-day events.
ALL_DAY_KINDS = frozenset({EventKind.FOLLOW_UP})
_ONE_DAY = timedelta(days=1)


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_uid(plan: CoursePlan, event: ScheduledEvent, *, patient_label: str) -> str:
    """Stable, unique UID of one event (see the module docstring).

    >>> from prrt.planning import get_regimen, plan_course
    >>> from prrt.planning.plan_types import utc
    >>> plan = plan_course(get_regimen("LUTATHERA_STANDARD"), utc(2026, 3, 2, 8))
    >>> prrt = next(e for e in plan.events if e.kind.value == "prrt")
    >>> event_uid(plan, prrt, patient_label="PRRT course")[:44]
    'LUTATHERA_STANDARD-c1-prrt-20260302T080000Z-'
    """
    cycle = "course" if event.cycle_number is None else str(event.cycle_number)
    start = _utc_stamp(event.start)
    key = "\x1f".join((patient_label, plan.regimen.id, cycle, event.kind.value, start, event.title))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{plan.regimen.id}-c{cycle}-{event.kind.value}-{start}-{digest}@prrt"


def _vevent(plan: CoursePlan, event: ScheduledEvent, uid: str, stamp: datetime) -> Event:
    vevent = Event()
    vevent.add("uid", uid)
    vevent.add("dtstamp", stamp)
    if event.end is None and event.kind in ALL_DAY_KINDS:
        day: date = event.start.date()
        vevent.add("dtstart", day)
        vevent.add("dtend", day + _ONE_DAY)
        vevent.add("transp", "TRANSPARENT")
    else:
        start = event.start.astimezone(UTC)
        if event.end is None:
            end = start + DEFAULT_DURATIONS.get(event.kind, DEFAULT_DURATION)
        else:
            end = event.end.astimezone(UTC)
        vevent.add("dtstart", start)
        vevent.add("dtend", end)
        vevent.add("transp", "TRANSPARENT" if end - start > _ONE_DAY else "OPAQUE")
    vevent.add("summary", event.title)
    description = event.details
    if event.source:
        description = f"{description}\n\nSource: {event.source}" if description else event.source
    if event.cycle_number is not None:
        description += f"\n\nCycle {event.cycle_number} of {len(plan.cycles)}, {plan.regimen.id}"
    vevent.add("description", description)
    vevent.add("categories", [event.kind.value])
    return vevent


def course_plan_to_ics(
    plan: CoursePlan,
    *,
    patient_label: str = "PRRT course",
    generated_at: datetime | None = None,
) -> bytes:
    """The plan as an iCalendar file (bytes, CRLF line endings).

    Parameters
    ----------
    plan
        A plan from :func:`prrt.planning.plan_course`.
    patient_label
        Name of the calendar; the only patient-related text written.
    generated_at
        DTSTAMP of the events (timezone-aware; default now).  Give it for a
        byte-identical file from the same plan.
    """
    if not isinstance(plan, CoursePlan):
        raise InvalidInputError("plan", plan, "a CoursePlan (prrt.planning.plan_course)")
    label = str(patient_label).strip()
    if not label or any(c in label for c in "\r\n"):
        raise InvalidInputError("patient_label", patient_label, "a non-empty one-line label")
    if generated_at is None:
        stamp = datetime.now(UTC).replace(microsecond=0)
    elif not isinstance(generated_at, datetime) or generated_at.utcoffset() is None:
        raise InvalidInputError("generated_at", generated_at, "a date and time with a UTC offset")
    else:
        stamp = generated_at.astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", label)
    cal.add("name", label)
    seen: dict[str, int] = {}
    for event in plan.events:
        uid = event_uid(plan, event, patient_label=label)
        count = seen.get(uid, 0)
        seen[uid] = count + 1
        if count:  # an identical event twice in one plan: keep both, with distinct UIDs
            uid = uid.replace("@prrt", f"-{count + 1}@prrt")
        cal.add_component(_vevent(plan, event, uid, stamp))
    return bytes(cal.to_ical())


def course_plan_to_json(plan: CoursePlan) -> str:
    """The plan's :meth:`~prrt.planning.CoursePlan.to_dict` as indented JSON text."""
    if not isinstance(plan, CoursePlan):
        raise InvalidInputError("plan", plan, "a CoursePlan (prrt.planning.plan_course)")
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _write(path: Path, data: bytes, field: str) -> None:
    try:
        path.write_bytes(data)
    except OSError as err:
        raise InvalidInputError(
            field, str(path), "a writable file path", hint=err.strerror or str(err)
        ) from err


def write_course_plan(
    plan: CoursePlan,
    directory: str | Path,
    *,
    patient_label: str = "PRRT course",
    generated_at: datetime | None = None,
) -> dict[str, Path]:
    """Write ``plan.ics`` and ``plan.json`` into ``directory`` (created if needed).

    Returns ``{"ics": path, "json": path}``.
    """
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInputError(
            "directory", str(folder), "a writable directory", hint=err.strerror or str(err)
        ) from err
    paths = {"ics": folder / "plan.ics", "json": folder / "plan.json"}
    ics = course_plan_to_ics(plan, patient_label=patient_label, generated_at=generated_at)
    _write(paths["ics"], ics, "directory")
    _write(paths["json"], course_plan_to_json(plan).encode("utf-8"), "directory")
    return paths
