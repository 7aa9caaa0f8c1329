"""Tests of prrt.kinetics.batch: the vectorised fitter agrees with the single-curve fitters."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.kinetics.batch import fit_many_biexponential
from prrt.kinetics.fitters import BiExponentialFitter, MonoExponentialUptakeFitter
from prrt.kinetics.tac import TimeActivityCurve

H = 3600.0
LAMBDA_LU177 = math.log(2) / (6.647 * 86400.0)  # ICRP-107 (dosimetry-reference §1.2)
T = np.array([4.0, 24.0, 96.0, 168.0]) * H


def _uptake(a: float, tw_h: float, tu_h: float, t: np.ndarray = T) -> np.ndarray:
    return a * (np.exp(-math.log(2) / (tw_h * H) * t) - np.exp(-math.log(2) / (tu_h * H) * t))


def test_noise_free_uptake_curves_recover_parameters_and_analytic_tia() -> None:
    params = [(3e8, 50.0, 2.0), (1e8, 80.0, 1.0), (5e7, 30.0, 4.0)]
    batch = fit_many_biexponential(T, np.vstack([_uptake(*p) for p in params]))
    assert batch.converged.all()
    for i, (a, tw, tu) in enumerate(params):
        kw, ku = math.log(2) / (tw * H), math.log(2) / (tu * H)
        np.testing.assert_allclose(batch.parameters[i], [a, kw, ku], rtol=1e-6)
        # §4.1: Ã = A0(1/λw − 1/λu).
        assert batch.tia_bq_s[i] == pytest.approx(a * (1 / kw - 1 / ku), rel=1e-9)


def test_noise_free_bi_exponential_curves_recover_parameters() -> None:
    t = np.array([2.0, 8.0, 24.0, 72.0, 120.0, 168.0]) * H
    k1, k2 = math.log(2) / (60 * H), math.log(2) / (6 * H)
    a = 40e6 * np.exp(-k1 * t) + 80e6 * np.exp(-k2 * t)
    batch = fit_many_biexponential(t, a[None, :], model="bi_exponential")
    assert batch.converged.all()
    np.testing.assert_allclose(batch.parameters[0], [40e6, k1, 80e6, k2], rtol=1e-6)
    assert batch.tia_bq_s[0] == pytest.approx(40e6 / k1 + 80e6 / k2, rel=1e-9)


def test_batch_matches_single_curve_fitter_on_noisy_data() -> None:
    rng = np.random.default_rng(42)
    clean = np.vstack(
        [_uptake(2e8, tw, tu) for tw, tu in [(45, 1.5), (60, 2.5), (75, 3.0), (40, 2.0)]]
    )
    noisy = clean * (1 + 0.02 * rng.standard_normal(clean.shape))
    sigma = 0.02 * clean
    batch = fit_many_biexponential(T, noisy, uncertainties_bq=sigma)
    for i in range(noisy.shape[0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            single = MonoExponentialUptakeFitter().fit(
                TimeActivityCurve(times_s=T, activities_bq=noisy[i], uncertainties_bq=sigma[i])
            )
        assert batch.tia_bq_s[i] == pytest.approx(single.time_integrated_activity_bq_s, rel=1e-6)
        assert batch.tia_sd_bq_s[i] == pytest.approx(
            single.time_integrated_activity_sd_bq_s, rel=1e-4
        )
        assert batch.ssr[i] == pytest.approx(single.ssr, rel=1e-6)
    fit = batch.fit_of(0, region="kidneys")
    assert fit.model_name == "mono_exponential_uptake"
    assert fit.time_integrated_activity_bq_s == batch.tia_bq_s[0]


def test_rates_are_bounded_by_physical_decay() -> None:
    flat = np.full((1, 4), 50e6) * np.array([0.5, 1.0, 1.0, 1.0])
    batch = fit_many_biexponential(T, flat)
    assert batch.parameters[0, 1] == pytest.approx(LAMBDA_LU177, rel=1e-9)
    assert batch.parameters_at_bound[0, 1]


def test_zero_curves_integrate_to_zero() -> None:
    batch = fit_many_biexponential(T, np.vstack([np.zeros(4), _uptake(1e8, 50, 2)]))
    assert batch.tia_bq_s[0] == 0.0
    assert batch.converged.tolist() == [True, True]


def test_single_curve_bi_exponential_fitter_agrees_with_batch() -> None:
    t = np.array([2.0, 8.0, 24.0, 72.0, 120.0, 168.0]) * H
    rng = np.random.default_rng(5)
    a = (40e6 * np.exp(-math.log(2) / (60 * H) * t) + 80e6 * np.exp(-math.log(2) / (6 * H) * t)) * (
        1 + 0.02 * rng.standard_normal(6)
    )
    batch = fit_many_biexponential(t, a[None, :], model="bi_exponential")
    single = BiExponentialFitter().fit(TimeActivityCurve(times_s=t, activities_bq=a))
    assert batch.tia_bq_s[0] == pytest.approx(single.time_integrated_activity_bq_s, rel=1e-6)


@pytest.mark.parametrize(
    ("times", "activities", "kwargs", "field"),
    [
        (T[:2], np.ones((1, 2)), {}, "times_s"),
        (T[::-1], np.ones((1, 4)), {}, "times_s"),
        (np.array([0.0, 1.0, 2.0, 3.0]), np.ones((1, 4)), {}, "times_s"),
        (T, np.ones(4), {}, "activities_bq"),
        (T, np.full((1, 4), np.nan), {}, "activities_bq"),
        (T, -np.ones((1, 4)), {}, "activities_bq"),
        (T, np.ones((1, 4)), {"uncertainties_bq": np.zeros((1, 4))}, "uncertainties_bq"),
        (T, np.ones((1, 4)), {"uncertainties_bq": np.ones((2, 4))}, "uncertainties_bq"),
        (T, np.ones((1, 4)), {"model": "tri"}, "model"),
        (T, np.ones((1, 4)), {"max_iterations": 0}, "max_iterations"),
        (T, np.ones((1, 4)), {"nuclide": "Xx-1"}, "nuclide"),
    ],
)
def test_bad_input_is_refused(
    times: np.ndarray, activities: np.ndarray, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        fit_many_biexponential(times, activities, **kwargs)  # type: ignore[arg-type]


def test_fit_of_index_is_checked() -> None:
    batch = fit_many_biexponential(T, _uptake(1e8, 50, 2)[None, :])
    with pytest.raises(InvalidInputError, match=r"^index"):
        batch.fit_of(1)
