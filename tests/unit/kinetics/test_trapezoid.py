"""Tests of prrt.kinetics.trapezoid: explicit start/tail conventions, prediction, uncertainty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.errors import ExtrapolationWarning, FitError, FitQualityWarning, InvalidInputError
from prrt.kinetics.tac import TimeActivityCurve
from prrt.kinetics.trapezoid import TrapezoidFitter

H = 3600.0
LAMBDA_LU177 = math.log(2) / (6.647 * 86400.0)  # ICRP-107 (dosimetry-reference §1.2)
T = np.array([4.0, 24.0, 96.0, 168.0]) * H
A = np.array([60e6, 55e6, 30e6, 18e6])


def _tac(**kwargs: object) -> TimeActivityCurve:
    return TimeActivityCurve(times_s=T, activities_bq=A, **kwargs)  # type: ignore[arg-type]


def test_rect_start_adds_half_the_first_rectangle() -> None:
    zero = TrapezoidFitter(start="zero").fit(_tac())
    rect = TrapezoidFitter(start="rect").fit(_tac())
    difference = rect.time_integrated_activity_bq_s - zero.time_integrated_activity_bq_s
    assert difference == pytest.approx(A[0] * T[0] / 2, rel=1e-12)


def test_physical_tail_is_last_activity_over_lambda_phys() -> None:
    fit = TrapezoidFitter(tail="physical").fit(_tac())
    assert dict(fit.area_components_bq_s)["after_last"] == pytest.approx(
        A[-1] / LAMBDA_LU177, rel=1e-12
    )
    assert fit.parameters[0] == pytest.approx(LAMBDA_LU177, rel=1e-12)


def test_fitted_tail_over_three_points_is_the_log_linear_slope() -> None:
    fit = TrapezoidFitter(tail="fitted", tail_points=3).fit(_tac())
    slope = np.polyfit(T[-3:], np.log(A[-3:]), 1)[0]
    assert fit.parameters[0] == pytest.approx(-slope, rel=1e-12)
    assert dict(fit.area_components_bq_s)["after_last"] == pytest.approx(A[-1] / -slope, rel=1e-12)


def test_fitted_tail_slower_than_physical_decay_is_clamped() -> None:
    tac = TimeActivityCurve(times_s=T, activities_bq=[60e6, 55e6, 30e6, 29.99e6])
    with pytest.warns(FitQualityWarning, match="physical decay used"):
        fit = TrapezoidFitter(tail="fitted", extrapolation_warning_fraction=0.9).fit(tac)
    assert fit.parameters[0] == pytest.approx(LAMBDA_LU177, rel=1e-12)
    assert fit.parameters_at_bound == (True,)


def test_rising_tail_with_net_uptake_allowed_is_a_fit_error() -> None:
    tac = TimeActivityCurve(times_s=T, activities_bq=[60e6, 55e6, 30e6, 31e6])
    with pytest.raises(FitError, match="not positive"):
        TrapezoidFitter(tail="fitted", allow_net_uptake=True).fit(tac)


def test_predict_follows_the_conventions() -> None:
    zero = TrapezoidFitter(start="zero").fit(_tac())
    rect = TrapezoidFitter(start="rect").fit(_tac())
    np.testing.assert_allclose(zero.predict(T), A, rtol=1e-12)
    assert zero.predict([T[0] / 2])[0] == pytest.approx(A[0] / 2, rel=1e-12)
    assert rect.predict([T[0] / 2])[0] == pytest.approx(A[0], rel=1e-12)
    later = T[-1] + 24 * H
    assert zero.predict([later])[0] == pytest.approx(
        A[-1] * math.exp(-LAMBDA_LU177 * 24 * H), rel=1e-12
    )
    assert zero.predict([(T[1] + T[2]) / 2])[0] == pytest.approx((A[1] + A[2]) / 2, rel=1e-12)
    with pytest.raises(FitError, match="not a sum of exponentials"):
        zero.exponential_terms()


def test_uncertainty_of_linear_trapezoid_is_analytic() -> None:
    u = 0.05 * A
    fit = TrapezoidFitter(tail="physical", start="zero").fit(_tac(uncertainties_bq=u))
    # Ã = Σ w_i A_i with trapezoid weights (zero start, physical tail), so u²(Ã) = Σ w_i² u_i².
    w = np.array(
        [
            T[0] / 2 + (T[1] - T[0]) / 2,
            (T[2] - T[0]) / 2,
            (T[3] - T[1]) / 2,
            (T[3] - T[2]) / 2 + 1 / LAMBDA_LU177,
        ]
    )
    assert fit.time_integrated_activity_bq_s == pytest.approx(float(w @ A), rel=1e-12)
    assert fit.time_integrated_activity_sd_bq_s == pytest.approx(
        math.sqrt(float(np.sum((w * u) ** 2))), rel=1e-6
    )


def test_single_point_with_physical_tail() -> None:
    tac = TimeActivityCurve(times_s=[96 * H], activities_bq=[40e6])
    with pytest.warns(ExtrapolationWarning, match="100 %"):
        fit = TrapezoidFitter().fit(tac)
    expected = 40e6 * 96 * H / 2 + 40e6 / LAMBDA_LU177
    assert fit.time_integrated_activity_bq_s == pytest.approx(expected, rel=1e-12)
    assert fit.extrapolated_fraction == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tail": "linear"}, "tail"),
        ({"start": "mid"}, "start"),
        ({"tail_points": 1}, "tail_points"),
        ({"physical_decay_constant_per_s": 0.0}, "physical_decay_constant_per_s"),
        ({"extrapolation_warning_fraction": 1.5}, "extrapolation_warning_fraction"),
    ],
)
def test_settings_are_validated(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        TrapezoidFitter(**kwargs)  # type: ignore[arg-type]


def test_fitted_tail_needs_enough_points() -> None:
    tac = TimeActivityCurve(times_s=T[:2], activities_bq=A[:2])
    with pytest.raises(InvalidInputError, match=r"^tac\.times_s"):
        TrapezoidFitter(tail="fitted", tail_points=3).fit(tac)
