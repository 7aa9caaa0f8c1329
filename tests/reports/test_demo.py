"""``prrt demo`` end to end: the command as a user runs it, its files read back, its report in Chromium.

The demo runs once per session (a subprocess of the real command line).  What
is asserted comes from the rules or from analytic truth:

* the decisions follow the label's rules on the scripted labs (clinical-rules.md §4.4):
  a recovered grade 2 thrombocytopenia nadir (68 × 10⁹/L, CTCAE v5.0 G2 < 75) after
  cycle 2 reduces cycle 3 to 3.7 GBq; no recurrence re-escalates cycle 4 to 7.4 GBq;
  four doses complete the course;
* absorbed dose is linear in activity: the 3.7 GBq cycle gives half the 7.4 GBq dose;
* the course total RTDOSE is the sum of the cycles' RTDOSE;
* the organ-level kidney TIA from the GTM-corrected SPECT TACs lies within 10 %
  of the phantom's true TIA;
* the NUREG-1556 dose of 7.4 GBq at 3.7 µSv/h/GBq is 57.5 h × 27.4 µSv/h = 1.57 mSv.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from icalendar import Calendar

from prrt.adapters.dicom import read_rtdose
from prrt.imaging.phantoms import make_synthetic_patient

pytestmark = pytest.mark.slow

ARTIFACTS = Path(
    os.environ.get("PRRT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
SECTIONS = (
    "Patient summary",
    "Eligibility with reasons",
    "Schedule timeline",
    "Dosimetry per cycle",
    "Cumulative organ doses against limits",
    "Laboratory trends with CTCAE grade bands",
    "Dose-volume histograms",
    "Decisions with reasons",
    "Release and radiation-safety instructions",
    "Response (RECIST 1.1)",
    "Cohort",
    "Files and provenance",
)


def _prrt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prrt.adapters.cli.app", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """Run ``prrt demo --format json`` with no other argument in an empty folder."""
    cwd = tmp_path_factory.mktemp("demo")
    result = _prrt("demo", "--format", "json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    out = cwd / "prrt-demo"
    return json.loads(result.stdout), json.loads((out / "record.json").read_text("utf-8")), out


def test_default_run_writes_every_output(demo):
    summary, record, out = demo
    for name in (
        "report.html",
        "report.pdf",
        "record.json",
        "course_record.json",
        "plan.ics",
        "plan.json",
    ):
        assert (out / name).stat().st_size > 0, name
    for k in range(1, 5):
        assert (out / "rtdose" / f"cycle_{k}_rtdose.dcm").is_file()
    assert set(summary["files"]) == set(record["files"])
    assert summary["timings_s"]["total_s"] < 180.0  # issue 8: under 3 minutes
    assert record["synthetic"] is True
    assert {
        "selection",
        "plan",
        "cycles",
        "response",
        "cohort",
        "instruction_sheets",
        "limits_gy",
    } <= set(record)


def test_decisions_follow_the_label_on_the_scripted_labs(demo):
    _, record, _ = demo
    assert record["selection"]["verdict"] == "eligible"
    decisions = [c["next_cycle_decision"] for c in record["cycles"]]
    assert [d["action"] for d in decisions] == [
        "give_full",
        "give_reduced",
        "give_full",
        "course_complete",
    ]
    assert [d["activity_bq"] for d in decisions[:3]] == [7.4e9, 3.7e9, 7.4e9]
    assert "CYC-3-REDUCE-THROMBOCYTOPENIA" in [r["code"] for r in decisions[1]["reasons"]]
    assert "CYC-4-REESCALATE" in [r["code"] for r in decisions[2]["reasons"]]
    given = [c["administered_activity_bq"] for c in record["cycles"]]
    assert given == [7.4e9, 7.4e9, 3.7e9, 7.4e9]
    days = [datetime.fromisoformat(c["administered_at"]) for c in record["cycles"]]
    assert [(b - a).days for a, b in itertools.pairwise(days)] == [56, 56, 56]  # every 8 weeks


def test_dose_is_linear_in_activity_and_cumulative_is_the_sum(demo):
    _, record, _ = demo
    kidney = [
        next(r["mean_gy"] for r in c["voxel_dosimetry"]["regions"] if r["name"] == "kidneys")
        for c in record["cycles"]
    ]
    assert kidney[2] == pytest.approx(kidney[0] / 2, rel=0.03)  # 3.7 vs 7.4 GBq, Poisson noise
    cumulative = {c["region"]: c for c in record["organ_dosimetry_course"]["cumulative"]}
    per_cycle = [
        next(
            d["absorbed_dose_gy"]
            for d in c["organ_dosimetry"]["organ_doses"]
            if d["region"] == "kidneys"
        )
        for c in record["cycles"]
    ]
    assert cumulative["kidneys"]["absorbed_dose_gy"] == pytest.approx(sum(per_cycle), rel=1e-12)
    assert cumulative["kidneys"]["absorbed_dose_gy"] < record["limits_gy"]["kidneys.absorbed_dose"]


def test_kidney_tia_from_gtm_corrected_tacs_matches_the_phantom_truth(demo):
    _, record, _ = demo
    first = record["cycles"][0]
    truth = make_synthetic_patient(
        injected_activity_bq=7.4e9,
        injection_time=datetime.fromisoformat(first["administered_at"]),
        fwhm_mm=None,
        poisson_noise=False,
    ).truth_tia_bq_s["kidneys"]
    measured = next(k for k in first["organ_dosimetry"]["kinetics"] if k["region"] == "kidneys")
    assert measured["time_integrated_activity_bq_s"] == pytest.approx(truth, rel=0.10)


def test_rtdose_files_read_back_and_course_total_is_the_sum(demo):
    _, record, out = demo
    cycles = [read_rtdose(out / "rtdose" / f"cycle_{k}_rtdose.dcm") for k in range(1, 5)]
    total = read_rtdose(out / "rtdose" / "course_total_rtdose.dcm")
    np.testing.assert_allclose(
        total.array,
        sum(c.array.astype(np.float64) for c in cycles),
        rtol=1e-4,
        atol=1e-6 * total.array.max(),
    )
    max_gy = record["cycles"][0]["voxel_dosimetry"]["max_dose_gy"]
    assert float(cycles[0].array.max()) == pytest.approx(max_gy, rel=1e-4)
    dcmdump = shutil.which("dcmdump")
    assert dcmdump, "dcmdump (Debian package dcmtk) is required; scripts/test.sh installs it"
    assert (
        subprocess.run(
            [dcmdump, str(out / "rtdose" / "cycle_1_rtdose.dcm")], capture_output=True
        ).returncode
        == 0
    )


def test_plan_calendar_holds_every_event(demo):
    _, record, out = demo
    cal = Calendar.from_ical((out / "plan.ics").read_bytes())
    events = list(cal.walk("VEVENT"))
    n_plan = sum(len(c["events"]) for c in record["plan"]["cycles"]) + len(
        record["plan"]["course_events"]
    )
    assert len(events) == n_plan
    prrt = sorted(
        e.decoded("DTSTART") for e in events if "PRRT" in str(e.get("CATEGORIES").to_ical()).upper()
    )
    assert prrt[0] == datetime(2027, 1, 11, 8, 0, tzinfo=UTC)  # 09:00+01:00


def test_release_numbers(demo):
    _, record, _ = demo
    release = record["cycles"][0]["release"]
    # NUREG-1556: 24 h × 1.44 × 6.647 d × 0.25 × (7.4 GBq × 3.7 µSv/h/GBq) at release (4.5 h later)
    rate = 7.4 * 3.7 * 0.5 ** (4.5 / (6.647 * 24))
    assert release["dose_rate_1m_usv_per_h"] == pytest.approx(rate, rel=1e-3)
    assert release["nrc_dose_msv"] == pytest.approx(
        24 * 1.44 * 6.647 * 0.25 * rate / 1000, rel=1e-3
    )
    assert release["releasable_nrc"]
    assert release["instructions_required"]
    sheet = record["instruction_sheets"][0]
    assert any("Close contact" in s["heading"] for s in sheet["sections"])


def test_pdf_converts_with_pdftoppm(demo, tmp_path):
    _, _, out = demo
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, (
        "pdftoppm (Debian package poppler-utils) is required; scripts/test.sh installs it"
    )
    result = subprocess.run(
        [pdftoppm, "-r", "50", "-png", str(out / "report.pdf"), str(tmp_path / "page")],
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 7  # text pages, 5 figures, instruction sheet
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pages[0], ARTIFACTS / "demo_report_pdf_page1.png")


def test_html_report_renders_in_chromium(demo):
    _, _record, out = demo
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium (Debian package chromium) is required; scripts/test.sh installs it"
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((out / "report.html").as_uri())
        headings = [h.inner_text() for h in page.query_selector_all("h2")]
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.naturalWidth])")
        decisions = page.inner_text("#decisions")
        page.screenshot(path=str(ARTIFACTS / "demo_report.png"), full_page=True)
        browser.close()
    assert headings == list(SECTIONS)
    assert len(images) == 5, images
    assert all(width > 300 for _, width in images), images
    assert "CYC-3-REDUCE-THROMBOCYTOPENIA" in decisions
    assert "give reduced" in decisions
    assert not errors
    assert (ARTIFACTS / "demo_report.png").stat().st_size > 50_000


def test_bad_input_exits_2_naming_the_option(tmp_path):
    result = _prrt("demo", "--start", "2027-01-11T09:00", "-o", str(tmp_path / "x"), cwd=tmp_path)
    assert result.returncode == 2
    assert "--start" in result.stderr
    (tmp_path / "file").write_text("")
    result = _prrt("demo", "-o", str(tmp_path / "file"), cwd=tmp_path)
    assert result.returncode == 2
    assert "--output" in result.stderr
