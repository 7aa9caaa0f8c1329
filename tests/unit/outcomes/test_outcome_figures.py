"""Every outcome figure has a title and labelled axes; physical quantities carry units."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from prrt.adapters.reports.cohort_report import cohort_figures
from prrt.adapters.reports.outcome_figures import meta_forest_figure
from prrt.outcomes.analysis import analyze_cohort
from prrt.outcomes.cohort import read_cohort_csv
from prrt.outcomes.meta import StudyProportion, pool_proportions

ROOT = Path(__file__).resolve().parents[3]
UNIT = re.compile(r"\([^)]+\)$")
#: labels of axes that are not physical quantities
UNITLESS = {"arm", "patient", "study or covariate"}


@pytest.fixture(scope="module")
def figures():  # type: ignore[no-untyped-def]
    cohort = read_cohort_csv((ROOT / "examples/cohort/demo_cohort.csv").read_text())
    figs = cohort_figures(analyze_cohort(cohort))
    studies = [
        StudyProportion("A", 5, 20),
        StudyProportion("B", 14, 40),
        StudyProportion("C", 9, 31),
    ]
    figs["meta_forest"] = meta_forest_figure(pool_proportions(studies))
    return figs


def test_expected_figures(figures) -> None:  # type: ignore[no-untyped-def]
    assert set(figures) == {
        "km_pfs",
        "km_os",
        "cox_forest_pfs",
        "cox_forest_os",
        "waterfall",
        "swimmer",
        "meta_forest",
    }


@pytest.mark.parametrize(
    "name",
    ["km_pfs", "km_os", "cox_forest_pfs", "cox_forest_os", "waterfall", "swimmer", "meta_forest"],
)
def test_axes_are_titled_and_labelled_with_units(figures, name: str) -> None:  # type: ignore[no-untyped-def]
    for ax in figures[name].axes:
        assert ax.get_title(), f"{name}: axis without title"
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            assert label, f"{name}: unlabelled axis"
            assert label in UNITLESS or UNIT.search(label), f"{name}: {label!r} has no unit"
