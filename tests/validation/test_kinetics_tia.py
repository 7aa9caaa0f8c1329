"""Time-integrated activity of the TAC fitters against analytic integrals and dosimetry-reference.md §4.

Sources and tolerances (each test restates its own):
* §4.1 closed forms: mono Ã = A0/λ; mono with uptake Ã = A0(1/λw − 1/λu); bi-exponential
  Ã = A1/λ1 + A2/λ2; general Ã = Σ A_k/λ_k.  Fits of noise-free model data must reproduce them
  to the optimiser's precision (relative 1e-7 or tighter, stated per test).
* §4.1 cases TIA-05/06 (kidney-like curve 4, 24, 96, 168 h; 60, 55, 30, 18 MBq): trapezoid with
  zero start 6058 MBq·h, physical tail 4142.7 MBq·h, fitted tail 2537.1 MBq·h; tolerance half a
  unit of the last printed digit.
* §4.2 case TIA-08: A0 = 100 ± 5 MBq, λ = 0.0139 ± 0.0007 h⁻¹, no covariance → 7194 ± 511 MBq·h;
  tolerance half a unit of the last printed digit.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.integrate import quad

from prrt.kinetics.fitters import (
    BiExponentialFitter,
    MonoExponentialFitter,
    MonoExponentialUptakeFitter,
    TriExponentialFitter,
)
from prrt.kinetics.tac import TimeActivityCurve
from prrt.kinetics.trapezoid import TrapezoidFitter

pytestmark = pytest.mark.validation

H = 3600.0
MBQ_H = 1e6 * H  # Bq·s per MBq·h
T_EANM = np.array([4.0, 24.0, 96.0, 168.0]) * H
T_DENSE = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 24.0, 48.0, 96.0, 168.0]) * H


@pytest.mark.parametrize("half_life_h", [10.0, 50.0, 120.0, 159.0])
def test_mono_exponential_tia_against_analytic_a0_over_lambda(half_life_h: float) -> None:
    """§4.1: Ã = A0/λ. Noise-free data, tolerance relative 1e-9."""
    lam = math.log(2) / (half_life_h * H)
    tac = TimeActivityCurve(times_s=T_EANM, activities_bq=250e6 * np.exp(-lam * T_EANM))
    fit = MonoExponentialFitter(extrapolation_warning_fraction=1.0).fit(tac)
    assert fit.time_integrated_activity_bq_s == pytest.approx(250e6 / lam, rel=1e-9)


def test_uptake_washout_tia_against_analytic_integral() -> None:
    """§4.1 mono with uptake: Ã = A0(1/λw − 1/λu). Noise-free data, tolerance relative 1e-7."""
    lw, lu = math.log(2) / (55 * H), math.log(2) / (1.5 * H)
    a = 120e6 * (np.exp(-lw * T_DENSE) - np.exp(-lu * T_DENSE))
    fit = MonoExponentialUptakeFitter().fit(TimeActivityCurve(times_s=T_DENSE, activities_bq=a))
    assert fit.time_integrated_activity_bq_s == pytest.approx(120e6 * (1 / lw - 1 / lu), rel=1e-7)


def test_bi_exponential_tia_against_analytic_integral() -> None:
    """§4.1 bi-exponential clearance: Ã = A1/λ1 + A2/λ2. Noise-free data, tolerance relative 1e-7."""
    l1, l2 = math.log(2) / (70 * H), math.log(2) / (5 * H)
    a = 40e6 * np.exp(-l1 * T_DENSE) + 90e6 * np.exp(-l2 * T_DENSE)
    fit = BiExponentialFitter().fit(TimeActivityCurve(times_s=T_DENSE, activities_bq=a))
    assert fit.time_integrated_activity_bq_s == pytest.approx(40e6 / l1 + 90e6 / l2, rel=1e-7)
    np.testing.assert_allclose(fit.parameters, [40e6, l1, 90e6, l2], rtol=1e-6)


def test_tri_exponential_tia_against_analytic_integral() -> None:
    """§4.1 general form Ã = Σ A_k/λ_k with Σ A_k = 0. Noise-free data, tolerance relative 1e-6."""
    l1, l2, lu = math.log(2) / (80 * H), math.log(2) / (8 * H), math.log(2) / (0.7 * H)
    a = 50e6 * np.exp(-l1 * T_DENSE) + 70e6 * np.exp(-l2 * T_DENSE) - 120e6 * np.exp(-lu * T_DENSE)
    fit = TriExponentialFitter().fit(TimeActivityCurve(times_s=T_DENSE, activities_bq=a))
    assert fit.time_integrated_activity_bq_s == pytest.approx(
        50e6 / l1 + 70e6 / l2 - 120e6 / lu, rel=1e-6
    )


def test_closed_form_tia_against_numerical_quadrature() -> None:
    """Independent check of the closed form: adaptive quadrature of the fitted curve, rel. 1e-8."""
    rng = np.random.default_rng(17)
    lw, lu = math.log(2) / (45 * H), math.log(2) / (2 * H)
    a = 80e6 * (np.exp(-lw * T_DENSE) - np.exp(-lu * T_DENSE)) * (1 + 0.03 * rng.standard_normal(9))
    fit = MonoExponentialUptakeFitter().fit(TimeActivityCurve(times_s=T_DENSE, activities_bq=a))
    # Quadrature piecewise between the knots and out to 20 000 h (the remainder is < 1e-40).
    edges = [0.0, *T_DENSE, 500 * H, 2000 * H, 20000 * H]

    def curve(s: float) -> float:
        return float(fit.predict(np.array([s]))[0])

    pieces = [
        quad(curve, lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0]
        for lo, hi in itertools.pairwise(edges)
    ]
    assert fit.time_integrated_activity_bq_s == pytest.approx(sum(pieces), rel=1e-9)
    parts = dict(fit.area_components_bq_s)
    assert parts["before_first"] == pytest.approx(pieces[0], rel=1e-9)
    assert parts["measured"] == pytest.approx(sum(pieces[1 : len(T_DENSE)]), rel=1e-9)


TIA05_TAC = TimeActivityCurve.from_text(
    times=["4 h", "24 h", "96 h", "168 h"], activities=["60 MBq", "55 MBq", "30 MBq", "18 MBq"]
)


def test_trapezoid_area_against_tia05() -> None:
    """TIA-05: trapezoid with zero start = 6058 MBq·h (printed to 1 MBq·h: tolerance 0.5)."""
    fit = TrapezoidFitter(start="zero", tail="physical").fit(TIA05_TAC)
    parts = dict(fit.area_components_bq_s)
    assert (parts["before_first"] + parts["measured"]) / MBQ_H == pytest.approx(6058, abs=0.5)


def test_physical_tail_against_tia06() -> None:
    """TIA-06: physical tail A_last/λ_phys = 4142.7 MBq·h (tolerance 0.05 MBq·h)."""
    fit = TrapezoidFitter(tail="physical").fit(TIA05_TAC)
    assert dict(fit.area_components_bq_s)["after_last"] / MBQ_H == pytest.approx(4142.7, abs=0.05)
    assert fit.time_integrated_activity_bq_s / MBQ_H == pytest.approx(6058 + 4142.7, abs=0.55)


def test_fitted_tail_against_tia06() -> None:
    """TIA-06: mono-exponential tail through the last 2 points = 2537.1 MBq·h (tolerance 0.05)."""
    fit = TrapezoidFitter(tail="fitted", tail_points=2).fit(TIA05_TAC)
    assert dict(fit.area_components_bq_s)["after_last"] / MBQ_H == pytest.approx(2537.1, abs=0.05)


def test_tia_uncertainty_against_tia08() -> None:
    """TIA-08: 7194 ± 511 MBq·h from A0 = 100 ± 5 MBq, λ = 0.0139 ± 0.0007 h⁻¹ (tolerance 0.5)."""
    tia, sd = MonoExponentialFitter().integrate(
        [100e6, 0.0139 / H], np.diag([(5e6) ** 2, (0.0007 / H) ** 2])
    )
    assert tia / MBQ_H == pytest.approx(7194, abs=0.5)
    assert sd is not None
    assert sd / MBQ_H == pytest.approx(511, abs=0.5)
    # §4.2 closed form including a covariance term: u² = u²(A0)/λ² + A0²u²(λ)/λ⁴ − 2A0 cov/λ³.
    cov_a_l = -0.3 * 5e6 * 0.0007 / H
    _, sd_cov = MonoExponentialFitter().integrate(
        [100e6, 0.0139 / H], np.array([[(5e6) ** 2, cov_a_l], [cov_a_l, (0.0007 / H) ** 2]])
    )
    lam = 0.0139 / H
    expected = math.sqrt(
        (5e6) ** 2 / lam**2
        + (100e6) ** 2 * (0.0007 / H) ** 2 / lam**4
        - 2 * 100e6 * cov_a_l / lam**3
    )
    assert sd_cov == pytest.approx(expected, rel=1e-12)
