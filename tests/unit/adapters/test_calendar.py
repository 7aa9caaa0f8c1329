"""Calendar (RFC 5545) and JSON export of course plans: round trips through ``icalendar``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from prrt.adapters.calendar import (
    DEFAULT_DURATION,
    PRODID,
    course_plan_to_ics,
    course_plan_to_json,
    event_uid,
    write_course_plan,
)
from prrt.errors import InvalidInputError
from prrt.planning import EventKind, PatientFactors, get_regimen, plan_course

FIRST = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
PATIENT = PatientFactors(weight_kg=70.0, height_cm=175.0, peritoneal_or_mesenteric_disease=True)
STAMP = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    return plan_course(get_regimen("LUTATHERA_STANDARD"), FIRST, PATIENT)


def _events(data: bytes) -> list:  # type: ignore[type-arg]
    return list(Calendar.from_ical(data).walk("VEVENT"))


def test_written_ics_parses_back_with_one_vevent_per_event(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = write_course_plan(plan, tmp_path / "out", generated_at=STAMP)
    assert set(paths) == {"ics", "json"}
    assert paths["ics"].name == "plan.ics"
    cal = Calendar.from_ical(paths["ics"].read_bytes())
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == PRODID
    vevents = list(cal.walk("VEVENT"))
    assert len(vevents) == len(plan.events)
    # 4 cycles × 15 (2 pre-cycle labs, short-acting SSA stop, antiemetic, amino acids, PRRT,
    # observation, release, LAR, steroids, 4 SPECT/CT, nadir labs) + the cycle-1 washout
    # + maintenance LAR every 28 d from day 168 + 28 d + 4 h up to 18 × 30.4375 d = day
    # 547.875: 1 + floor((547.875 - 196 - 4/24) / 28) = 13 + the response assessment
    assert len(vevents) == 4 * 15 + 1 + 13 + 1


def test_prrt_dtstarts_are_the_plan_prrt_starts_in_utc(plan) -> None:  # type: ignore[no-untyped-def]
    vevents = _events(course_plan_to_ics(plan, generated_at=STAMP))
    prrt = [v for v in vevents if [str(c) for c in v["CATEGORIES"].cats] == ["prrt"]]
    starts = [v["DTSTART"].dt for v in prrt]
    assert starts == [c.prrt_start.astimezone(UTC) for c in plan.cycles]
    assert all(s.utcoffset() == timedelta(0) for s in starts)
    # 09:00 local every cycle: 08:00Z in winter (CET), 07:00Z after the DST change (CEST)
    assert [s.hour for s in starts] == [8, 7, 7, 7]
    assert [(v["DTEND"].dt - v["DTSTART"].dt) for v in prrt] == [timedelta(minutes=30)] * 4
    assert [str(v["SUMMARY"]) for v in prrt] == [
        f"PRRT cycle {n}: 7.4 GBq Lu-177" for n in range(1, 5)
    ]


def test_uids_are_unique_and_stable(plan) -> None:  # type: ignore[no-untyped-def]
    first = [str(v["UID"]) for v in _events(course_plan_to_ics(plan, generated_at=STAMP))]
    again = [str(v["UID"]) for v in _events(course_plan_to_ics(plan, generated_at=STAMP))]
    assert len(set(first)) == len(first)
    assert first == again
    assert course_plan_to_ics(plan, generated_at=STAMP) == course_plan_to_ics(
        plan, generated_at=STAMP
    )
    other = [
        str(v["UID"])
        for v in _events(course_plan_to_ics(plan, patient_label="Bed 4", generated_at=STAMP))
    ]
    assert not set(other) & set(first)  # another course's calendar never collides
    prrt = next(e for e in plan.events if e.kind is EventKind.PRRT)
    assert event_uid(plan, prrt, patient_label="PRRT course").startswith(
        "LUTATHERA_STANDARD-c1-prrt-20260302T080000Z-"
    )


def test_every_event_is_timed_in_utc_or_all_day(plan) -> None:  # type: ignore[no-untyped-def]
    by_uid = {event_uid(plan, e, patient_label="PRRT course"): e for e in plan.events}
    for v in _events(course_plan_to_ics(plan, generated_at=STAMP)):
        event = by_uid[str(v["UID"])]
        start, end = v["DTSTART"].dt, v["DTEND"].dt
        assert [str(c) for c in v["CATEGORIES"].cats] == [event.kind.value]
        assert str(v["SUMMARY"]) == event.title
        assert event.details in str(v["DESCRIPTION"])
        assert f"Source: {event.source}" in str(v["DESCRIPTION"])
        assert v["DTSTAMP"].dt == STAMP
        if event.kind is EventKind.FOLLOW_UP:
            assert type(start) is date
            assert start == event.start.date()
            assert end - start == timedelta(days=1)
            continue
        assert start == event.start
        assert start.utcoffset() == timedelta(0)
        if event.end is not None:
            assert end == event.end
        elif event.kind is EventKind.ANTIEMETIC:
            assert end - start == timedelta(minutes=15)
        else:
            assert end - start == DEFAULT_DURATION
        assert str(v["TRANSP"]) == ("TRANSPARENT" if end - start > timedelta(days=1) else "OPAQUE")


def test_calendar_names_only_the_label(plan) -> None:  # type: ignore[no-untyped-def]
    data = course_plan_to_ics(plan, patient_label="Course A", generated_at=STAMP)
    cal = Calendar.from_ical(data)
    assert str(cal["X-WR-CALNAME"]) == str(cal["NAME"]) == "Course A"
    assert set(cal) == {"PRODID", "VERSION", "CALSCALE", "X-WR-CALNAME", "NAME"}
    unfolded = data.replace(b"\r\n ", b"")
    assert unfolded.count(b"Course A") == 2  # the calendar's name only, in no event
    with pytest.raises(InvalidInputError, match="patient_label"):
        course_plan_to_ics(plan, patient_label="A\nB")
    with pytest.raises(InvalidInputError, match="generated_at"):
        course_plan_to_ics(plan, generated_at=datetime(2026, 1, 1))  # naive


def test_json_round_trip_equals_to_dict(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert json.loads(course_plan_to_json(plan)) == plan.to_dict()
    paths = write_course_plan(plan, tmp_path, generated_at=STAMP)
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc == plan.to_dict()
    assert [c["prrt_start"] for c in doc["cycles"]] == [
        "2026-03-02T09:00:00+01:00",
        "2026-04-27T09:00:00+02:00",
        "2026-06-22T09:00:00+02:00",
        "2026-08-17T09:00:00+02:00",
    ]


def test_combination_regimen_exports_its_chemotherapy_blocks() -> None:
    plan = plan_course(get_regimen("CAPTEM_PRRT"), FIRST, PATIENT, cycles=1)
    vevents = _events(course_plan_to_ics(plan, generated_at=STAMP))
    chemo = [v for v in vevents if [str(c) for c in v["CATEGORIES"].cats] == ["chemotherapy"]]
    assert [str(v["SUMMARY"]) for v in chemo] == [
        "Capecitabine days 1–14",
        "Temozolomide days 10–14",
    ]
    # PRRT is day 10 of the cycle: capecitabine from day 1 (9 days before), 14 days long
    cape, tmz = chemo
    assert cape["DTSTART"].dt.date() == date(2026, 2, 21)
    assert tmz["DTSTART"].dt.date() == date(2026, 3, 2)
    assert str(cape["TRANSP"]) == "TRANSPARENT"
    assert len({str(v["UID"]) for v in vevents}) == len(vevents) == len(plan.events)


def test_unwritable_directory_is_bad_input(plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="directory"):
        write_course_plan(plan, blocker / "sub")
