"""Kaplan–Meier, median, landmarks, reverse KM, RMST and log-rank against hand-computed truths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_lung
from scipy import stats

from prrt.errors import InvalidInputError
from prrt.outcomes.survival import (
    ConfidenceMethod,
    kaplan_meier,
    log_rank_test,
    median_follow_up,
    restricted_mean_survival_time,
    rmst_difference,
)

# Hand example: times 1, 2, 2+, 3, 4+, 5 (+ = censored)
T = [1, 2, 2, 3, 4, 5]
E = [1, 1, 0, 1, 0, 1]
Z95 = stats.norm.isf(0.025)


def test_product_limit_by_hand() -> None:
    km = kaplan_meier(T, E)
    # S(1) = 5/6; S(2) = 5/6 * 4/5; S(3) = 4/6 * 2/3; S(4) unchanged; S(5) = 0
    expected = [1.0, 5 / 6, 4 / 6, 4 / 6 * 2 / 3, 4 / 6 * 2 / 3, 0.0]
    assert km.survival == pytest.approx(expected, abs=1e-12)
    assert km.time_months == (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    assert km.at_risk == (6, 6, 5, 3, 2, 1)
    assert km.n == 6
    assert km.events == 4


def test_greenwood_log_interval_by_hand() -> None:
    km = kaplan_meier(T, E, ci_method=ConfidenceMethod.LOG)
    # Greenwood at t=1: 1/(6*5); at t=2: + 1/(5*4)
    v1 = 1 / 30
    v2 = v1 + 1 / 20
    assert km.lower[1] == pytest.approx(5 / 6 * math.exp(-Z95 * math.sqrt(v1)), rel=1e-12)
    assert km.upper[2] == pytest.approx(min(1.0, 4 / 6 * math.exp(Z95 * math.sqrt(v2))), rel=1e-12)


def test_log_log_interval_equals_lifelines_exponential_greenwood() -> None:
    """Same method, two implementations: lifelines' default CI is the log(-log) Greenwood CI."""
    lung = load_lung()
    ours = kaplan_meier(lung.time, lung.status, ci_method=ConfidenceMethod.LOG_LOG)
    kmf = KaplanMeierFitter().fit(lung.time, lung.status)
    ci = kmf.confidence_interval_
    lo = np.asarray(ci.iloc[:, 0])
    hi = np.asarray(ci.iloc[:, 1])
    ok = np.isfinite(np.asarray(ours.lower)) & (np.asarray(ours.survival) < 1)
    assert np.asarray(ours.lower)[ok] == pytest.approx(lo[ok], abs=1e-9)
    assert np.asarray(ours.upper)[ok] == pytest.approx(hi[ok], abs=1e-9)


def test_plain_interval_is_clipped_to_unit_interval() -> None:
    km = kaplan_meier([1, 2, 3], [1, 1, 0], ci_method=ConfidenceMethod.PLAIN)
    assert all(0.0 <= x <= 1.0 for x in km.lower if not math.isnan(x))
    assert all(0.0 <= x <= 1.0 for x in km.upper if not math.isnan(x))


def test_median_midpoint_of_a_flat_segment_at_one_half() -> None:
    """R survival's rule: S = 0.5 exactly on [2, 3) gives the median (2 + 3) / 2."""
    km = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    assert km.median_months == 2.5


def test_median_not_reached() -> None:
    km = kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0])
    assert km.median_months is None
    assert km.median_upper_months is None


def test_landmark_rates_and_beyond_follow_up() -> None:
    km = kaplan_meier(T, E)
    at = km.survival_at(2.5)
    assert at is not None
    assert at.survival == pytest.approx(4 / 6)
    assert at.at_risk == 3
    assert km.survival_at(0.0).survival == 1.0  # type: ignore[union-attr]
    # curve reached 0 at t=5: still defined afterwards
    assert km.survival_at(9.0).survival == 0.0  # type: ignore[union-attr]
    censored_last = kaplan_meier([1, 2, 3], [1, 0, 0])
    assert censored_last.survival_at(3.5) is None
    with pytest.raises(InvalidInputError, match="landmark"):
        km.survival_at(-1)


def test_reverse_km_follow_up_by_hand() -> None:
    # censorings at 4 and 6 are the "events"; deaths at 2 and 8 are censored
    rev = median_follow_up([2, 4, 6, 8], [1, 0, 0, 1])
    # S_rev(4) = 1 - 1/3 = 2/3, S_rev(6) = 2/3 * 1/2 = 1/3 -> median 6
    assert rev.survival[2:4] == pytest.approx((2 / 3, 1 / 3))
    assert rev.median_months == 6.0


def test_rmst_and_greenwood_type_variance_by_hand() -> None:
    km = kaplan_meier([1, 2, 3], [1, 1, 1])
    r = restricted_mean_survival_time(km, 3.0)
    assert r.rmst_months == pytest.approx(2.0, abs=1e-12)  # 1 + 2/3 + 1/3
    # Var = A1² d1/(n1(n1-d1)) + A2² d2/(n2(n2-d2)) = 1²/6 + (1/3)²/2 = 2/9
    assert r.se_months == pytest.approx(math.sqrt(2 / 9), rel=1e-12)
    mid = restricted_mean_survival_time(km, 2.5)
    assert mid.rmst_months == pytest.approx(1 + 2 / 3 + 0.5 / 3, abs=1e-12)


def test_rmst_matches_lifelines_point_estimate() -> None:
    from lifelines.utils import restricted_mean_survival_time as ll_rmst

    lung = load_lung()
    km = kaplan_meier(lung.time, lung.status)
    kmf = KaplanMeierFitter().fit(lung.time, lung.status)
    assert restricted_mean_survival_time(km, 700.0).rmst_months == pytest.approx(
        ll_rmst(kmf, 700.0), rel=1e-9
    )


def test_rmst_of_an_exponential_sample_is_close_to_its_analytic_value() -> None:
    """Analytic RMST of Exp(λ) to τ: (1 − e^{−λτ})/λ; a seeded sample of 4000 within 3 SE."""
    rng = np.random.default_rng(7)
    lam, tau = 0.05, 24.0
    t = rng.exponential(1 / lam, 4000)
    r = restricted_mean_survival_time(kaplan_meier(t, np.ones_like(t)), tau)
    truth = (1 - math.exp(-lam * tau)) / lam
    assert abs(r.rmst_months - truth) < 3 * r.se_months


def test_rmst_beyond_follow_up_is_refused() -> None:
    km = kaplan_meier([1, 2, 3], [1, 0, 0])
    with pytest.raises(InvalidInputError, match="not estimable"):
        restricted_mean_survival_time(km, 5.0)


def test_rmst_difference_sign_and_interval() -> None:
    a = kaplan_meier([2, 4, 6, 8], [1, 1, 1, 1])
    b = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])
    d = rmst_difference(a, b, 4.0)
    assert d.difference_months == pytest.approx(d.first.rmst_months - d.second.rmst_months)
    assert d.lower_months < d.difference_months < d.upper_months


def test_log_rank_by_hand() -> None:
    """A: 1, 3; B: 2, 4 (all events). O_A = 2, E_A = 1/2 + 1/3 + 1/2, V = 13/18, χ² = 8/13."""
    res = log_rank_test([1, 3, 2, 4], [1, 1, 1, 1], ["A", "A", "B", "B"])
    assert res.observed == (2, 2)
    assert res.expected[0] == pytest.approx(4 / 3, abs=1e-12)
    assert res.chi2 == pytest.approx(8 / 13, abs=1e-12)
    assert res.df == 1


def test_log_rank_needs_two_groups_and_valid_input() -> None:
    with pytest.raises(InvalidInputError, match="at least two groups"):
        log_rank_test([1, 2], [1, 1], ["A", "A"])
    with pytest.raises(InvalidInputError, match="group"):
        log_rank_test([1, 2], [1, 1], ["A"])


@pytest.mark.parametrize(
    ("times", "events", "match"),
    [([-1, 2], [1, 1], r"time_months\[0\]"), ([1, 2], [1, 2], r"event\[1\]"), ([], [], "at least")],
)
def test_bad_survival_input(times, events, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        kaplan_meier(times, events)


def test_to_dict_replaces_nan_limits_by_none() -> None:
    d = kaplan_meier([1, 2], [1, 1]).to_dict()
    assert d["curve"]["lower"][-1] is None
    assert d["median_months"] == 1.5
