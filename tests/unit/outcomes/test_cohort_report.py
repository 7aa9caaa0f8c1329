"""The cohort report: HTML (self-contained, escaped), PNG figures and strict JSON."""

from __future__ import annotations

import json
from pathlib import Path

from prrt.adapters.reports.cohort_report import write_cohort_report, write_meta_outputs
from prrt.outcomes.analysis import analyze_cohort
from prrt.outcomes.cohort import cohort_from_records
from prrt.outcomes.meta import StudyProportion, pool_proportions


def _cohort():  # type: ignore[no-untyped-def]
    rows = []
    for i in range(24):
        arm = "<b>lu</b>" if i % 2 else "ctrl"
        rows.append(
            {
                "patient_id": f"p{i}",
                "arm": arm,
                "pfs_months": 2.0 + i,
                "pfs_event": int(i % 3 != 0),
                "best_response": "PR" if i % 4 == 1 else "SD",
                "best_percent_change": -40.0 if i % 4 == 1 else 5.0,
            }
        )
    return cohort_from_records(rows)


def test_report_files(tmp_path: Path) -> None:
    files = write_cohort_report(analyze_cohort(_cohort()), tmp_path)
    assert {"html", "json", "km_pfs", "waterfall"} <= set(files)
    assert "swimmer" in files  # follow-up from PFS times
    html = files["html"].read_text(encoding="utf-8")
    assert "Progression-free survival" in html
    assert "data:image/png;base64," in html
    assert "<b>lu</b>" not in html
    assert "&lt;b&gt;lu&lt;/b&gt;" in html
    data = json.loads(files["json"].read_text(encoding="utf-8"))
    assert data["n_patients"] == 24
    assert files["km_pfs"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_meta_outputs(tmp_path: Path) -> None:
    res = pool_proportions([StudyProportion("A", 5, 20), StudyProportion("B", 14, 40)])
    files = write_meta_outputs(res, tmp_path)
    assert json.loads(files["json"].read_text())["transform"] == "logit"
    assert files["forest"].read_bytes()[:4] == b"\x89PNG"
