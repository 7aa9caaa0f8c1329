"""CLI tests of ``prrt regimens``, ``prrt plan`` and ``prrt course next`` (typer CliRunner)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from prrt.adapters.cli.app import app
from prrt.planning import REGIMENS

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "examples" / "courses"
STANDARD = COURSES / "lu177_standard_after_cycle2.json"
DOSIMETRY = COURSES / "dosimetry_guided_after_cycle4.json"
FIRST = "2026-03-02T09:00+01:00"
runner = CliRunner()


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def _plan_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = _invoke("plan", "--regimen", "LUTATHERA_STANDARD", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- regimens


def test_regimens_lists_every_regimen_with_its_source_tag() -> None:
    result = _invoke("regimens", "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [r["id"] for r in payload["regimens"]] == list(REGIMENS)
    assert {r["confidence"] for r in payload["regimens"]} <= {"V", "R", "S", "P"}
    text = _invoke("regimens")
    assert text.exit_code == 0
    for regimen_id in REGIMENS:
        assert regimen_id in text.stdout


# ----------------------------------------------------------------------------- plan


def test_standard_plan_prints_four_prrt_dates_eight_weeks_apart() -> None:
    result = _invoke("plan", "--regimen", "LUTATHERA_STANDARD", "--first", FIRST)
    assert result.exit_code == 0, result.output
    out = result.stdout
    expected = ["2026-03-02", "2026-04-27", "2026-06-22", "2026-08-17"]
    for n, day in enumerate(expected, start=1):
        assert f"Cycle {n}: Mon {day} 09:00+01:00  7.4 GBq Lu-177" in out
        assert f"PRRT cycle {n}:" in out  # the event row (the table may wrap the title)
    assert "Cycle 5:" not in out
    days = [date.fromisoformat(d) for d in expected]
    assert {(b - a).days for a, b in pairwise(days)} == {56}
    assert "peritoneal/mesenteric disease not assessed" in out  # warning of the core

    payload = _plan_json("--first", FIRST)
    starts = [datetime.fromisoformat(s) for s in payload["prrt_starts"]]
    assert [b - a for a, b in pairwise(starts)] == [timedelta(weeks=8)] * 3
    assert [c["activities_bq"]["Lu-177"] for c in payload["cycles"]] == [7.4e9] * 4
    assert len([e for e in payload["events"] if e["kind"] == "prrt"]) == 4


def test_units_interval_cycles_and_patient_options_are_applied() -> None:
    payload = _plan_json(
        "--first",
        FIRST,
        "--cycles",
        "3",
        "--interval",
        "10 weeks",
        "--weight",
        "70000 g",
        "--height",
        "1.75 m",
        "--peritoneal",
        "--amino-acids",
        "us",
        "--intent",
        "neoadjuvant",
    )
    starts = [datetime.fromisoformat(s) for s in payload["prrt_starts"]]
    assert len(starts) == 3
    assert [(b - a).days for a, b in pairwise(starts)] == [70, 70]
    assert payload["patient"]["weight_kg"] == pytest.approx(70.0)
    assert payload["patient"]["height_cm"] == pytest.approx(175.0)
    # Mosteller: sqrt(175 × 70 / 3600)
    assert payload["patient"]["bsa_m2"] == pytest.approx((175.0 * 70.0 / 3600.0) ** 0.5)
    assert payload["intent"] == "neoadjuvant"
    assert payload["amino_acid_protocol"] == "US"
    steroids = [e for e in payload["events"] if e["kind"] == "steroids"]
    assert len(steroids) == 3


def test_timezone_keeps_the_local_clock_across_daylight_saving() -> None:
    fixed = _plan_json("--first", FIRST)
    zoned = _plan_json("--first", FIRST, "--timezone", "Europe/Amsterdam")
    assert fixed["prrt_starts"][1] == "2026-04-27T09:00:00+01:00"  # 10:00 on the CEST clock
    assert zoned["prrt_starts"][1] == "2026-04-27T09:00:00+02:00"


def test_ics_and_json_files_are_written_and_parse_back(tmp_path: Path) -> None:
    ics, doc = tmp_path / "course.ics", tmp_path / "course.json"
    result = _invoke(
        "plan",
        "--regimen",
        "LUTATHERA_STANDARD",
        "--first",
        FIRST,
        "--ics",
        str(ics),
        "--json",
        str(doc),
        "--label",
        "Course 17",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["written"] == {"ics": str(ics), "json": str(doc)}
    cal = Calendar.from_ical(ics.read_bytes())
    assert str(cal["X-WR-CALNAME"]) == "Course 17"
    vevents = list(cal.walk("VEVENT"))
    assert len(vevents) == len(payload["events"])
    prrt = sorted(
        v["DTSTART"].dt for v in vevents if [str(c) for c in v["CATEGORIES"].cats] == ["prrt"]
    )
    assert prrt == [datetime.fromisoformat(s) for s in payload["prrt_starts"]]
    assert prrt[0].isoformat() == "2026-03-02T08:00:00+00:00"
    written = json.loads(doc.read_text(encoding="utf-8"))
    assert written["cycles"] == payload["cycles"]
    assert written["course_events"] == payload["course_events"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--first", "2026-03-02T09:00"], "first"),
        (["--first", "next monday"], "first"),
        (["--first", FIRST, "--weight", "70 stone"], "weight"),
        (["--first", FIRST, "--weight", "70"], "weight"),
        (["--first", FIRST, "--weight", "700 kg"], "patient.weight"),
        (["--first", FIRST, "--height", "175 kg"], "height"),
        (["--first", FIRST, "--interval", "20 weeks"], "interval"),
        (["--first", FIRST, "--interval", "8.5 d"], "interval"),
        (["--first", FIRST, "--interval", "8"], "interval"),
        (["--first", FIRST, "--cycles", "5"], "cycles"),
        (["--first", FIRST, "--intent", "cure"], "intent"),
        (["--first", FIRST, "--amino-acids", "JP"], "amino_acid_protocol"),
        (["--first", FIRST, "--timezone", "Mars/Olympus"], "timezone"),
    ],
)
def test_bad_plan_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    result = _invoke("plan", "--regimen", "LUTATHERA_STANDARD", *args, "--format", "json")
    assert result.exit_code == 2, result.output
    problem = json.loads(result.stderr)
    assert problem["field"] == field


def test_unknown_regimen_and_missing_weight_exit_2() -> None:
    result = _invoke("plan", "--regimen", "LUTATHERA_PLUS", "--first", FIRST)
    assert result.exit_code == 2
    assert "regimen: got 'LUTATHERA_PLUS'" in result.stderr
    assert "LUTATHERA_STANDARD" in result.stderr  # the accepted ids are listed
    per_kg = _invoke("plan", "--regimen", "AC225_DOTATATE", "--first", FIRST)
    assert per_kg.exit_code == 2
    assert "patient.weight" in per_kg.stderr
    assert "option --weight" in per_kg.stderr


def test_per_kg_regimen_scales_with_weight() -> None:
    result = _invoke(
        "plan", "--regimen", "PB212_DOTAMTATE", "--first", FIRST, "--weight", "80 kg",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    # 2.50 MBq/kg × 80 kg = 200 MBq per cycle
    assert [c["activities_bq"]["Pb-212"] for c in payload["cycles"]] == [pytest.approx(200e6)] * 4


def test_unwritable_ics_path_exits_2(tmp_path: Path) -> None:
    result = _invoke(
        "plan", "--regimen", "LUTATHERA_STANDARD", "--first", FIRST,
        "--ics", str(tmp_path / "missing" / "plan.ics"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "ics: got" in result.stderr


# ----------------------------------------------------------------------------- course next


def _next(path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = _invoke("course", "next", str(path), *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_standard_course_gives_the_reduced_dose_after_a_recovered_nadir() -> None:
    decision = _next(STANDARD)
    assert decision["action"] == "give_reduced"
    assert decision["cycle_number"] == 3
    assert decision["activity_bq"] == pytest.approx(3.7e9)  # DOSE-2: half of 7.4 GBq
    assert decision["doses_given"] == 2
    assert decision["cumulative_activity_bq"] == pytest.approx(7.35e9 + 7.42e9)
    codes = [r["code"] for r in decision["reasons"]]
    assert codes[0] == "CYC-3-REDUCE-THROMBOCYTOPENIA"
    assert "68 10^9/L < 75 10^9/L" in decision["reasons"][0]["text"]  # the nadir
    assert all(r["source"] for r in decision["reasons"])
    # earliest = cycle 2 (2026-03-09) + 49 days (8 weeks − 1 week)
    assert decision["earliest_date"] == (date(2026, 3, 9) + timedelta(days=49)).isoformat()
    assert decision["withhold_until"] is None
    text = _invoke("course", "next", str(STANDARD))
    assert text.exit_code == 0
    assert "CYCLE 3: GIVE REDUCED 3.7 GBq" in text.stdout
    assert "CYC-3-REDUCE-THROMBOCYTOPENIA" in text.stdout


def test_standard_course_on_the_nadir_date_withholds_until_16_weeks() -> None:
    decision = _next(STANDARD, "--on", "2026-04-20")
    assert decision["action"] == "withhold"
    assert decision["activity_bq"] is None
    assert "CYC-2-WITHHOLD-THROMBOCYTOPENIA" in [r["code"] for r in decision["reasons"]]
    assert decision["withhold_until"] == (date(2026, 3, 9) + timedelta(weeks=16)).isoformat()
    assert decision["recheck_on"] == (date(2026, 4, 20) + timedelta(days=14)).isoformat()


def test_dosimetry_guided_course_gives_the_partial_final_activity() -> None:
    doc = json.loads(DOSIMETRY.read_text(encoding="utf-8"))
    kidneys = [d["regions"]["kidneys"] for d in doc["organ_doses"]]
    # G = λ/(λ+μ) = T_rep/(T_rep + T_eff) for a mono-exponential clearance: T_eff ≈ 50 h
    assert kidneys[0]["g_factor"] == pytest.approx(2.8 / (2.8 + 50.0), abs=5e-5)
    doses = [float(k["absorbed_dose"].split()[0]) for k in kidneys]
    g, alpha_beta = kidneys[0]["g_factor"], 2.6

    decision = _next(DOSIMETRY)
    assert decision["action"] == "give_reduced"
    assert decision["cycle_number"] == 5
    # 23 Gy − 20.0 Gy delivered, at the last cycle's 4.9 Gy per 7.4 GBq
    assert sum(doses) == pytest.approx(20.0)
    assert decision["activity_bq"] == pytest.approx((23.0 - 20.0) / (4.9 / 7.4e9))
    codes = [r["code"] for r in decision["reasons"]]
    assert codes == ["CYC-5-FULL", "DOS-PARTIAL-kidneys.absorbed_dose"]
    checks = {c["id"]: c for c in decision["limit_checks"]}
    assert set(checks) == {
        "kidneys.absorbed_dose",
        "kidneys.bed.no_risk_factors",  # renal_risk_factors: false -> the 28 Gy limit is not applied
        "red_marrow.absorbed_dose",
    }
    assert checks["kidneys.absorbed_dose"]["value_gy"] == pytest.approx(20.0)
    # BED = Σ d (1 + G d / (α/β))
    bed = sum(d * (1 + g * d / alpha_beta) for d in doses)
    assert checks["kidneys.bed.no_risk_factors"]["value_gy"] == pytest.approx(bed)
    assert checks["red_marrow.absorbed_dose"]["value_gy"] == pytest.approx(
        0.31 + 0.29 + 0.30 + 0.28
    )
    assert all(c["status"] == "within" for c in checks.values())
    text = _invoke("course", "next", str(DOSIMETRY))
    assert "CYCLE 5: GIVE REDUCED 4.53 GBq" in text.stdout
    assert "Cumulative dose limits" in text.stdout


def test_course_with_dates_going_backwards_exits_2(tmp_path: Path) -> None:
    doc = json.loads(STANDARD.read_text(encoding="utf-8"))
    doc["administrations"][1]["time"] = "2026-01-05T09:00+01:00"  # before cycle 1
    path = tmp_path / "backwards.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = _invoke("course", "next", str(path), "--format", "json")
    assert result.exit_code == 2
    problem = json.loads(result.stderr)
    assert problem["field"] == "administrations[1].time"
    assert str(path) in problem["message"]


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--on", "2026-13-01"], "on"), (["--on", "30/04/2026"], "on")],
)
def test_bad_course_options_exit_2(args: list[str], field: str) -> None:
    result = _invoke("course", "next", str(STANDARD), *args, "--format", "json")
    assert result.exit_code == 2
    assert json.loads(result.stderr)["field"] == field


def test_missing_and_broken_course_files_exit_2(tmp_path: Path) -> None:
    assert _invoke("course", "next", str(tmp_path / "nope.json")).exit_code == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = _invoke("course", "next", str(broken))
    assert result.exit_code == 2
    assert "COURSE" in result.stderr
