"""TIA uncertainty propagated from the fit covariance (EANM, Gear et al. 2018; dosimetry-reference.md §4.2)
against a seeded Monte Carlo of the same measurement model.

Method: noise-free curve + Gaussian noise of the stated standard uncertainty, refitted many times
with a seeded ``numpy.random.default_rng``; the sample standard deviation of the fitted TIAs must
agree with the first-order (law of propagation of uncertainty) value of one fit of the noise-free
curve.  Tolerances: about 3.5 standard errors of a sample standard deviation (1/√(2n)) plus room
for the first-order (non-linearity) error, stated per test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.kinetics.batch import fit_many_biexponential
from prrt.kinetics.fitters import MonoExponentialFitter, MonoExponentialUptakeFitter
from prrt.kinetics.tac import TimeActivityCurve

pytestmark = pytest.mark.validation

H = 3600.0
T = np.array([4.0, 24.0, 96.0, 168.0]) * H


def test_mono_exponential_tia_uncertainty_against_monte_carlo() -> None:
    """1000 replicas, 5 % activity uncertainty: SE of the MC sd ≈ 2.2 %, tolerance 8 %."""
    lam = math.log(2) / (50 * H)
    clean = 100e6 * np.exp(-lam * T)
    sigma = 0.05 * clean
    fit = MonoExponentialFitter().fit(
        TimeActivityCurve(times_s=T, activities_bq=clean, uncertainties_bq=sigma)
    )
    assert fit.time_integrated_activity_sd_bq_s is not None
    rng = np.random.default_rng(20260102)
    tias = [
        MonoExponentialFitter()
        .fit(
            TimeActivityCurve(
                times_s=T,
                activities_bq=clean + sigma * rng.standard_normal(4),
                uncertainties_bq=sigma,
            )
        )
        .time_integrated_activity_bq_s
        for _ in range(1000)
    ]
    assert float(np.std(tias, ddof=1)) == pytest.approx(
        fit.time_integrated_activity_sd_bq_s, rel=0.08
    )


def test_uptake_washout_tia_uncertainty_against_monte_carlo() -> None:
    """20 000 replicas (batched fitter), 5 % uncertainty: SE of the MC sd ≈ 0.5 %, tolerance 3 %."""
    kw, ku = math.log(2) / (50 * H), math.log(2) / (2 * H)
    clean = 3e8 * (np.exp(-kw * T) - np.exp(-ku * T))
    sigma = 0.05 * clean
    fit = MonoExponentialUptakeFitter().fit(
        TimeActivityCurve(times_s=T, activities_bq=clean, uncertainties_bq=sigma)
    )
    assert fit.time_integrated_activity_sd_bq_s is not None
    rng = np.random.default_rng(20260101)
    n = 20_000
    noisy = clean + sigma * rng.standard_normal((n, T.size))
    batch = fit_many_biexponential(T, noisy, uncertainties_bq=np.broadcast_to(sigma, (n, T.size)))
    assert batch.converged.all()
    mc_sd = float(np.std(batch.tia_bq_s, ddof=1))
    assert mc_sd == pytest.approx(fit.time_integrated_activity_sd_bq_s, rel=0.03)
    # The batched fitter propagates the same covariance for each replica; a replica whose uptake
    # rate ends on its upper bound has a singular information matrix (sd NaN): those are rare.
    finite = np.isfinite(batch.tia_sd_bq_s)
    assert np.count_nonzero(~finite) <= n // 1000
    assert float(np.median(batch.tia_sd_bq_s[finite])) == pytest.approx(
        fit.time_integrated_activity_sd_bq_s, rel=0.03
    )
