"""Every figure of the demo report has a title and labelled axes; physical quantities carry units."""

from __future__ import annotations

import re

import pytest

from prrt.adapters.reports import figures
from prrt.adapters.reports.demo import DEFAULT_FIRST_ADMINISTRATION, _limits_gy
from prrt.adapters.reports.demo_course import run_demo_course
from prrt.adapters.reports.synthetic_course import demo_patient

#: Axis labels that are not physical quantities (no unit to show).
UNITLESS = {"date", "cycle", "event kind"}
UNIT = re.compile(r"\([^)]+\)$")


@pytest.fixture(scope="module")
def course():
    return run_demo_course(demo_patient(DEFAULT_FIRST_ADMINISTRATION), seed=1, shape=(64, 64, 64))


@pytest.fixture(scope="module")
def all_figures(course):
    return {
        "timeline": figures.timeline_figure(
            course.plan.events, actual_prrt=[c.administered_at for c in course.cycles]
        ),
        "tac": figures.tac_figure(course),
        "cumulative": figures.cumulative_dose_figure(course, _limits_gy()),
        "labs": figures.lab_trend_figure(course),
        "dvh": figures.dvh_figure(course),
    }


@pytest.mark.parametrize("name", ["timeline", "tac", "cumulative", "labs", "dvh"])
def test_axes_are_titled_and_labelled_with_units(all_figures, name):
    fig = all_figures[name]
    axes = [ax for ax in fig.axes if ax.has_data()]
    assert axes
    for ax in axes:
        assert ax.get_title(), f"{name}: an axes without a title"
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            assert label, f"{name}/{ax.get_title()}: unlabelled axis"
            assert label in UNITLESS or UNIT.search(label), (
                f"{name}/{ax.get_title()}: no unit in {label!r}"
            )
    assert figures.png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_lab_bands_are_the_ctcae_thresholds(all_figures):
    # platelets panel: grade bands with edges LLN 150, 75, 50, 25 × 10^9/L (CTCAE v5.0)
    ax = all_figures["labs"].axes[0]
    spans = sorted(
        {round(p.get_extents().y0, 3) for p in ax.patches}  # drawn in display space; count only
    )
    assert len(ax.patches) == 4
    assert len(spans) == 4
    assert ax.get_ylabel() == "platelets (10⁹/L)"


def test_cumulative_figure_draws_the_limits(all_figures):
    lines = {
        ax.get_title(): [ln.get_ydata()[0] for ln in ax.get_lines()]
        for ax in all_figures["cumulative"].axes
    }
    assert lines["kidneys: absorbed dose"] == [23.0]
    assert lines["kidneys: BED"] == [40.0]
    assert lines["red marrow: absorbed dose"] == [2.0]
