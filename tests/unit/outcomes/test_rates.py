"""Clopper–Pearson intervals and ORR/DCR from RECIST best responses."""

from __future__ import annotations

import pytest
from scipy import stats

from prrt.clinical.response import RecistResponse as R
from prrt.errors import InvalidInputError
from prrt.outcomes.rates import clopper_pearson, response_rates


@pytest.mark.parametrize("n", [1, 7, 40])
def test_closed_form_ends(n: int) -> None:
    """x = 0: upper = 1 − (α/2)^(1/n); x = n: lower = (α/2)^(1/n) (analytic)."""
    zero = clopper_pearson(0, n)
    full = clopper_pearson(n, n)
    assert zero.lower == 0.0
    assert zero.upper == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-10)
    assert full.upper == 1.0
    assert full.lower == pytest.approx(0.025 ** (1 / n), rel=1e-10)


def test_limits_are_the_binomial_tail_inversions() -> None:
    """Definition: P(X >= x | p_lower) = α/2 and P(X <= x | p_upper) = α/2."""
    ci = clopper_pearson(7, 22, confidence_level=0.9)
    assert stats.binom.sf(6, 22, ci.lower) == pytest.approx(0.05, abs=1e-9)
    assert stats.binom.cdf(7, 22, ci.upper) == pytest.approx(0.05, abs=1e-9)
    assert ci.rate == 7 / 22
    assert ci.percent == pytest.approx(100 * 7 / 22)


@pytest.mark.parametrize(
    ("x", "n", "match"),
    [(5, 4, "between 0 and n"), (1, 0, "at least one"), (1.5, 4, "whole"), (-1, 4, "between")],
)
def test_bad_counts(x, n, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        clopper_pearson(x, n)


def test_bad_level() -> None:
    with pytest.raises(InvalidInputError, match="level"):
        clopper_pearson(1, 4, confidence_level=1.0)


def test_orr_and_dcr_counting() -> None:
    rr = response_rates([R.CR, R.PR, R.SD, R.NON_CR_NON_PD, R.PD, R.NE, None, None], label="A")
    assert rr.n_assessed == 6
    assert rr.n_missing == 2
    assert (rr.orr.successes, rr.orr.n) == (2, 6)  # type: ignore[union-attr]
    assert (rr.dcr.successes, rr.dcr.n) == (4, 6)  # type: ignore[union-attr]
    assert dict(rr.counts)["NE"] == 1
    assert rr.to_dict()["orr"]["rate_fraction"] == pytest.approx(2 / 6)


def test_no_assessed_patient_gives_no_rate() -> None:
    rr = response_rates([None, None])
    assert rr.orr is None
    assert rr.dcr is None
    assert rr.n_missing == 2


def test_non_response_values_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"best_responses\[0\]"):
        response_rates(["PR"])  # type: ignore[list-item]
