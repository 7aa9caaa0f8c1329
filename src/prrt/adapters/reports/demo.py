"""``prrt demo``: the whole pathway on a synthetic patient and cohort, written to one folder.

Outputs (``OUTPUT_DIR``):

=========================  ============================================================
``report.html``            the report (figures embedded; opens offline in any browser)
``report.pdf``             the same content for print
``record.json``            everything computed, with units in the keys
``course_record.json``     the course in the format of ``prrt course next``
``plan.ics``, ``plan.json`` the dated schedule (iCalendar and JSON)
``rtdose/``                one DICOM RTDOSE per cycle and the course total
``figures/``               the report's figures as PNG
=========================  ============================================================

Every number comes from the library's own functions on synthetic inputs
(:mod:`prrt.adapters.reports.synthetic_course`); nothing in the report is typed in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from prrt import __version__
from prrt.adapters.calendar import write_course_plan
from prrt.adapters.dicom import write_rtdose
from prrt.adapters.reports import figures
from prrt.adapters.reports.demo_cohort import CohortMember, run_demo_cohort
from prrt.adapters.reports.demo_course import DemoCourse, run_demo_course
from prrt.adapters.reports.render import render_html, render_pdf
from prrt.adapters.reports.synthetic_course import COHORT_VARIANTS, demo_patient
from prrt.dosimetry.course import load_limit_profile
from prrt.planning import InstructionSheet, instruction_sheet
from prrt.provenance import Step

__all__ = ["COHORT_STEPS", "DEFAULT_FIRST_ADMINISTRATION", "DEMO_STEPS", "DemoResult", "run_demo"]

#: First PRRT of the demo course (a Monday, 09:00 CET).
DEFAULT_FIRST_ADMINISTRATION = datetime(2027, 1, 11, 9, 0, tzinfo=timezone(timedelta(hours=1)))
DEFAULT_SEED = 20270111
#: Progress messages of a run without / with the cohort (for a progress bar's total).
DEMO_STEPS = 1 + 4 * 4 + 1 + 3
COHORT_STEPS = len(COHORT_VARIANTS)

DISCLAIMER = (
    "Synthetic demonstration: the patient, images, labs and response are generated, not measured. "
    "prrt supports, and never replaces, the judgement of the treating physician and medical "
    "physicist; every clinical threshold must be signed off locally before clinical use."
)


@dataclass(frozen=True)
class DemoResult:
    """Where the outputs are and how long each part took."""

    output_dir: Path
    files: dict[str, Path]
    record: dict[str, Any]
    timings_s: dict[str, float]


def _limits_gy() -> dict[str, float]:
    return {lim.id: lim.limit_gy for lim in load_limit_profile().limits}


def _write_rtdose(course: DemoCourse, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for cycle in course.cycles:
        path = folder / f"cycle_{cycle.number}_rtdose.dcm"
        write_rtdose(
            cycle.voxel.dose,
            path,
            series_description=f"prrt demo cycle {cycle.number} absorbed dose",
            comment=cycle.voxel.provenance_label,
            image_comments=cycle.voxel.provenance_text,
        )
        files[f"rtdose_cycle_{cycle.number}"] = path
    assert course.cumulative_dose_map_gy is not None
    ref = course.cycles[0].voxel.dose
    total = ref.with_array(
        course.cumulative_dose_map_gy,
        step=Step(
            "sum_cycles",
            "sum of the cycles' absorbed-dose maps on one grid (same synthetic anatomy)",
            {"cycles": [c.number for c in course.cycles]},
        ),
    )
    path = folder / "course_total_rtdose.dcm"
    write_rtdose(
        total,
        path,
        series_description="prrt demo course total absorbed dose",
        comment=f"sum of {len(course.cycles)} cycles"[:64],
        image_comments="; ".join(c.voxel.provenance_text for c in course.cycles[:1]),
    )
    files["rtdose_course_total"] = path
    return files


def _instruction_sheets(course: DemoCourse) -> list[InstructionSheet]:
    last = course.cycles[-1].administered_at.date()
    sheets = []
    for cycle in course.cycles:
        sheets.append(
            instruction_sheet(
                cycle.release,
                cycle.restrictions,
                administered_at=cycle.administered_at,
                course_last_dose_date=last if cycle is course.cycles[-1] else None,
            )
        )
    return sheets


def _record(
    course: DemoCourse,
    cohort: list[CohortMember],
    sheets: list[InstructionSheet],
) -> dict[str, Any]:
    assert course.organ_result is not None
    assert course.follow_up is not None
    cycles = []
    for cycle, organ in zip(course.cycles, course.organ_result.cycles, strict=True):
        cycles.append(
            {
                "cycle": cycle.number,
                "administered_at": cycle.administered_at.isoformat(),
                "administered_activity_bq": cycle.activity_bq,
                "imaging_times_h": list(cycle.times_h),
                "region_tacs_gtm_corrected_bq": cycle.region_tacs_bq,
                "voxel_dosimetry": cycle.voxel.summary(),
                "organ_dosimetry": organ.to_dict(),
                "release": cycle.release.to_dict(),
                "dose_rate_clearance": cycle.clearance.to_dict(),
                "restrictions": [r.to_dict() for r in cycle.restrictions],
                "lab_draws": cycle.lab_draws,
                "next_cycle_decision": cycle.decision.to_dict(),
            }
        )
    follow = course.follow_up.to_dict()
    p = course.patient
    return {
        "prrt_version": __version__,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "synthetic": True,
        "disclaimer": DISCLAIMER,
        "patient": {
            "patient_id": p.patient_id,
            "sex": p.sex,
            "age_years": p.age_years,
            "weight_kg": p.weight_kg,
            "height_cm": p.height_cm,
        },
        "selection": course.selection.to_dict(),
        "selection_case": course.selection_case,
        "plan": course.plan.to_dict(),
        "cycles": cycles,
        "organ_study_input": course.organ_study,
        "organ_dosimetry_course": course.organ_result.to_dict()["course"],
        "course_record": course.course_record,
        "instruction_sheets": [s.to_dict() for s in sheets],
        "response": follow["recist"],
        "follow_up_case": course.follow_up_case,
        "cohort": [m.to_dict() for m in cohort],
        "limits_gy": _limits_gy(),
    }


def run_demo(
    output_dir: Path | str,
    *,
    first_administration: datetime = DEFAULT_FIRST_ADMINISTRATION,
    seed: int = DEFAULT_SEED,
    cohort: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo and write its outputs to ``output_dir`` (created if needed)."""
    report = progress or (lambda _s: None)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    course = run_demo_course(demo_patient(first_administration), seed=seed, progress=report)
    timings["course_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    members = (
        run_demo_cohort(course.selection_case, first_administration, seed=seed, progress=report)
        if cohort
        else []
    )
    timings["cohort_s"] = time.perf_counter() - t
    report("writing RTDOSE, plan and record")
    t = time.perf_counter()
    files = _write_rtdose(course, out / "rtdose")
    files.update(
        {
            f"plan_{k}": v
            for k, v in write_course_plan(
                course.plan, out, patient_label=course.patient.patient_id
            ).items()
        }
    )
    sheets = _instruction_sheets(course)
    record = _record(course, members, sheets)
    course_path = out / "course_record.json"
    course_path.write_text(json.dumps(course.course_record, indent=2, ensure_ascii=False), "utf-8")
    files["course_record"] = course_path
    timings["files_s"] = time.perf_counter() - t
    report("figures")
    t = time.perf_counter()
    figs = {
        "timeline": figures.timeline_figure(
            course.plan.events, actual_prrt=[c.administered_at for c in course.cycles]
        ),
        "tac": figures.tac_figure(course),
        "cumulative_doses": figures.cumulative_dose_figure(course, _limits_gy()),
        "labs": figures.lab_trend_figure(course),
        "dvh": figures.dvh_figure(course),
    }
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    pngs = {}
    for name, fig in figs.items():
        pngs[name] = figures.png_bytes(fig)
        path = fig_dir / f"{name}.png"
        path.write_bytes(pngs[name])
        files[f"figure_{name}"] = path
    timings["figures_s"] = time.perf_counter() - t
    report("HTML and PDF report")
    t = time.perf_counter()
    for name in ("report_html", "report_pdf", "record"):
        files[name] = (
            out
            / {"report_html": "report.html", "report_pdf": "report.pdf", "record": "record.json"}[
                name
            ]
        )
    record["files"] = {k: str(v.relative_to(out)) for k, v in files.items()}
    files["report_html"] = render_html(record, pngs, sheets, out / "report.html")
    files["report_pdf"] = render_pdf(record, figs, sheets, out / "report.pdf")
    timings["report_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    record["timings_s"] = timings
    files["record"].write_text(
        json.dumps(record, indent=2, ensure_ascii=False, default=str), "utf-8"
    )
    return DemoResult(out, files, record, timings)
