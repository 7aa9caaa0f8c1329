"""The in-silico trial report: figures with labelled axes and limits, one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from prrt.adapters.reports.trial_report import REPORT_FILE, trial_figures, write_trial_report
from prrt.simulation.trial import TrialResult, TrialSettings, run_trial


@pytest.fixture(scope="module")
def result() -> TrialResult:
    return run_trial(TrialSettings(n_patients=5000, seed=4))


def test_figures_have_titles_labels_and_limits(result: TrialResult) -> None:
    figures = trial_figures(result)
    stems = [stem for stem, _, _ in figures]
    assert stems == [
        "cycles",
        "total_activity_bq",
        "kidneys_absorbed_dose_gy",
        "kidneys_bed_gy",
        "red_marrow_absorbed_dose_gy",
        "tumour_bed_gy",
    ]
    for stem, title, fig in figures:
        (ax,) = fig.axes
        assert ax.get_title(), stem
        assert ax.get_xlabel(), stem
        assert ax.get_ylabel(), stem
        assert title
    kidney_axis = {s: f for s, _, f in figures}["kidneys_absorbed_dose_gy"].axes[0]
    # the 23 Gy kidney limit is drawn (dosimetry-reference.md §5.3)
    assert any(line.get_xdata()[0] == 23.0 for line in kidney_axis.get_lines())
    # the density integrates to 1 over the patients (histogram normalised per Gy)
    stairs = kidney_axis.patches
    assert len(stairs) == 2
    for artist in stairs:
        data = artist.get_data()
        assert float(np.sum(data.values * np.diff(data.edges))) == pytest.approx(1.0, rel=1e-9)


def test_html_report(result: TrialResult, tmp_path: Path) -> None:
    files = write_trial_report(result, tmp_path)
    html = (tmp_path / REPORT_FILE).read_text(encoding="utf-8")
    assert files["report"] == str(tmp_path / REPORT_FILE)
    for stem in ("cycles", "kidneys_absorbed_dose_gy", "tumour_bed_gy"):
        assert Path(files[f"figure_{stem}"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert html.count("data:image/png;base64,") == 6
    for text in (
        "LUTATHERA_STANDARD",
        "DOSIMETRY_GUIDED",
        "SUNDLOV-2022-CYCLES-MEDIAN",
        "Santoro et al., EJNMMI Res 2018",
        "Staanum et al., EJNMMI Phys 2021",
        "program assumption",
    ):
        assert text in html
