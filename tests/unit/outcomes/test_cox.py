"""Cox model: recovers a known hazard ratio, rejects bad covariates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.errors import FitQualityWarning, InvalidInputError
from prrt.outcomes.cox import cox_model


def test_recovers_the_simulated_hazard_ratio() -> None:
    """Exponential times with hazard ratio 0.5 (analytic truth), 1500 per arm, seeded."""
    rng = np.random.default_rng(11)
    n = 1500
    t = np.r_[rng.exponential(1 / 0.05, n), rng.exponential(1 / 0.10, n)]
    c = rng.uniform(0, 60, 2 * n)
    time = np.minimum(t, c)
    event = (t <= c).astype(float)
    arm = np.r_[np.ones(n), np.zeros(n)]
    res = cox_model(time, event, {"arm": arm})
    term = res.term("arm")
    assert term.hr_lower < 0.5 < term.hr_upper
    assert term.hazard_ratio == pytest.approx(0.5, rel=0.08)
    assert term.hazard_ratio == pytest.approx(math.exp(term.coef))
    assert 0.0 <= term.ph_test_p_value <= 1.0  # type: ignore[operator]
    assert res.n == 2 * n
    assert res.df == 1


def test_few_events_per_covariate_warns() -> None:
    rng = np.random.default_rng(3)
    t = rng.exponential(10, 15)
    with pytest.warns(FitQualityWarning, match="10 events per covariate"):
        cox_model(t, np.ones(15), {"x": rng.normal(size=15), "y": rng.normal(size=15)})


def test_bad_covariates() -> None:
    with pytest.raises(InvalidInputError, match="at least one covariate"):
        cox_model([1, 2, 3], [1, 1, 1], {})
    with pytest.raises(InvalidInputError, match="varies"):
        cox_model([1, 2, 3], [1, 1, 1], {"x": [1, 1, 1]})
    with pytest.raises(InvalidInputError, match="one per patient"):
        cox_model([1, 2, 3], [1, 1, 1], {"x": [1, 2]})
    with pytest.raises(InvalidInputError, match="numeric"):
        cox_model([1, 2, 3], [1, 1, 1], {"x": ["a", "b", "c"]})
    rng = np.random.default_rng(5)
    fit = cox_model(rng.exponential(5, 40), np.ones(40), {"x": rng.normal(size=40)})
    with pytest.raises(InvalidInputError, match="one of x"):
        fit.term("nope")
