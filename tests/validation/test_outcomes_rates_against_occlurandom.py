"""Clopper–Pearson intervals against OCCLURANDOM's published 12-month PFS intervals.

OCCLURANDOM (NCT02230176), ESMO 2022 abstract 887O (Baudin et al.), as recorded in
shared/data/trials.json row 12 and evidence.md §2: 12-month PFS 33/41 = 80.5 % (90 % CI
67.5–89.9) with 177Lu-DOTATATE and 18/43 = 42 % (90 % CI 29.1–55.5) with sunitinib,
"consistent with exact Clopper–Pearson".  Tolerance: half a unit of the printed 0.1 %.
"""

from __future__ import annotations

import pytest

from prrt.outcomes.rates import clopper_pearson

pytestmark = pytest.mark.validation


@pytest.mark.parametrize(
    ("events_free", "n", "percent", "lower", "upper"),
    [(33, 41, 80.5, 67.5, 89.9), (18, 43, 42.0, 29.1, 55.5)],
)
def test_pfs12_interval_against_occlurandom(events_free, n, percent, lower, upper) -> None:
    ci = clopper_pearson(events_free, n, confidence_level=0.90)
    assert round(ci.percent) == round(percent)
    assert 100 * ci.lower == pytest.approx(lower, abs=0.05)
    assert 100 * ci.upper == pytest.approx(upper, abs=0.05)
