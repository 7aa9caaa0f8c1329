"""Tests of prrt.kinetics.fitters: constraints, warnings, covariance and AICc model selection."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from prrt.errors import ExtrapolationWarning, FitError, FitQualityWarning, InvalidInputError
from prrt.kinetics._physics import physical_decay_constant_per_s
from prrt.kinetics.fitters import (
    BiExponentialFitter,
    MonoExponentialFitter,
    MonoExponentialUptakeFitter,
    TriExponentialFitter,
    fit_best,
)
from prrt.kinetics.tac import TimeActivityCurve

H = 3600.0
LAMBDA_LU177 = math.log(2) / (
    6.647 * 86400.0
)  # ICRP-107 half-life 6.647 d (dosimetry-reference §1.2)
EANM_TIMES = np.array([4.0, 24.0, 96.0, 168.0]) * H


def _quiet(fitter, tac):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fitter.fit(tac)


def test_lambda_phys_is_the_icrp107_lu177_value() -> None:
    assert physical_decay_constant_per_s("Lu-177") == pytest.approx(LAMBDA_LU177, rel=1e-12)


@pytest.mark.parametrize(
    ("fitter", "n_points"),
    [
        (MonoExponentialFitter(), 1),
        (MonoExponentialUptakeFitter(), 2),
        (BiExponentialFitter(), 3),
        (TriExponentialFitter(), 4),
    ],
)
def test_fewer_points_than_parameters_is_refused(fitter, n_points: int) -> None:  # type: ignore[no-untyped-def]
    tac = TimeActivityCurve(times_s=EANM_TIMES[:n_points], activities_bq=np.full(n_points, 1e6))
    with pytest.raises(InvalidInputError, match=r"^tac\.times_s.*at least"):
        fitter.fit(tac)


def test_all_zero_activities_are_refused() -> None:
    tac = TimeActivityCurve(times_s=EANM_TIMES, activities_bq=np.zeros(4))
    with pytest.raises(InvalidInputError, match=r"^tac\.activities_bq"):
        MonoExponentialFitter().fit(tac)


def test_clearance_slower_than_physical_decay_is_clamped_and_flagged() -> None:
    # Constant activity would need k = 0 < λ_phys: the fit must stop at λ_phys (§4.1).
    tac = TimeActivityCurve(times_s=EANM_TIMES, activities_bq=np.full(4, 50e6), region="lesion")
    with pytest.warns(FitQualityWarning, match="k_per_s ended on the physical decay constant"):
        fit = MonoExponentialFitter().fit(tac)
    assert fit.parameter_dict["k_per_s"] == pytest.approx(LAMBDA_LU177, rel=1e-9)
    assert fit.parameters_at_bound == (False, True)


def test_net_uptake_must_be_allowed_explicitly() -> None:
    # A rising curve A = 50 MBq·exp(+0.001 t/h) is only representable with k < λ_phys.
    activities = 50e6 * np.exp(-(LAMBDA_LU177 * 0.5) * EANM_TIMES)
    tac = TimeActivityCurve(times_s=EANM_TIMES, activities_bq=activities)
    fit = _quiet(MonoExponentialFitter(allow_net_uptake=True), tac)
    assert fit.parameter_dict["k_per_s"] == pytest.approx(LAMBDA_LU177 * 0.5, rel=1e-6)
    assert fit.option("allow_net_uptake") == "true"
    strict = _quiet(MonoExponentialFitter(), tac)
    assert strict.parameter_dict["k_per_s"] == pytest.approx(LAMBDA_LU177, rel=1e-9)


def test_extrapolation_warning_and_fraction_for_early_points_only() -> None:
    k = math.log(2) / (60 * H)
    t = np.array([1.0, 2.0, 4.0]) * H
    tac = TimeActivityCurve(times_s=t, activities_bq=80e6 * np.exp(-k * t))
    with pytest.warns(ExtrapolationWarning, match="outside the measured interval"):
        fit = MonoExponentialFitter().fit(tac)
    # Analytic: fraction of a0/k inside [t1, tn] is exp(-k t1) − exp(-k tn).
    expected = 1.0 - (math.exp(-k * t[0]) - math.exp(-k * t[-1]))
    assert fit.extrapolated_fraction == pytest.approx(expected, rel=1e-6)


def test_non_convergence_is_flagged_and_warned() -> None:
    rng = np.random.default_rng(7)
    t = np.array([1, 2, 4, 8, 24, 48, 96, 168.0]) * H
    a = 80e6 * (np.exp(-0.0139 * t / H) - np.exp(-0.3 * t / H)) + 30e6 * np.exp(-0.1 * t / H)
    tac = TimeActivityCurve(times_s=t, activities_bq=a * (1 + 0.1 * rng.standard_normal(8)))
    with pytest.warns(FitQualityWarning, match="did not converge"):
        fit = TriExponentialFitter(max_evaluations=10).fit(tac)
    assert fit.converged is False


def test_weighted_fit_uses_absolute_uncertainties() -> None:
    k = math.log(2) / (50 * H)
    t = EANM_TIMES
    a = 100e6 * np.exp(-k * t)
    u = 0.05 * a
    fit = MonoExponentialFitter().fit(
        TimeActivityCurve(times_s=t, activities_bq=a, uncertainties_bq=u)
    )
    assert fit.weighting == "uncertainties"
    # Exact data: covariance = (JᵀWJ)⁻¹ with J the analytic Jacobian at the truth.
    jac = np.column_stack((np.exp(-k * t), -100e6 * t * np.exp(-k * t))) / u[:, None]
    expected = np.linalg.inv(jac.T @ jac)
    assert fit.covariance is not None
    np.testing.assert_allclose(fit.covariance, expected, rtol=1e-5)
    assert fit.ssr == pytest.approx(0.0, abs=1e-12)


def test_unweighted_fit_with_zero_degrees_of_freedom_has_no_covariance() -> None:
    t = EANM_TIMES[:2]
    with pytest.warns(ExtrapolationWarning):
        fit = MonoExponentialFitter().fit(TimeActivityCurve(times_s=t, activities_bq=[60e6, 50e6]))
    assert fit.covariance is None
    assert fit.time_integrated_activity_sd_bq_s is None
    assert fit.aicc is None


def test_aicc_formula() -> None:
    # AICc = N ln(SSR/N) + 2K + 2K(K+1)/(N−K−1) (Glatting 2007, dosimetry-reference §4.2).
    rng = np.random.default_rng(3)
    k = math.log(2) / (50 * H)
    t = np.array([2.0, 4.0, 24.0, 48.0, 96.0, 168.0]) * H
    a = 100e6 * np.exp(-k * t) * (1 + 0.03 * rng.standard_normal(6))
    fit = MonoExponentialFitter().fit(TimeActivityCurve(times_s=t, activities_bq=a))
    assert fit.ssr is not None
    residual = fit.predict(t) - a
    assert fit.ssr == pytest.approx(float(residual @ residual), rel=1e-9)
    n, kk = 6, 2
    expected = n * math.log(fit.ssr / n) + 2 * kk + 2 * kk * (kk + 1) / (n - kk - 1)
    assert fit.aicc == pytest.approx(expected, rel=1e-12)
    assert fit.r_squared is not None
    assert fit.r_squared == pytest.approx(
        1 - float(residual @ residual) / float(np.sum((a - a.mean()) ** 2)), rel=1e-9
    )


def test_fit_does_not_change_the_fitter() -> None:
    fitter = MonoExponentialFitter()
    before = repr(fitter), dict(vars(fitter))
    tac = TimeActivityCurve(times_s=EANM_TIMES, activities_bq=[60e6, 50e6, 30e6, 18e6])
    fitter.fit(tac)
    assert (repr(fitter), dict(vars(fitter))) == before


def test_integrate_refuses_bad_parameters() -> None:
    with pytest.raises(InvalidInputError, match=r"^parameters"):
        MonoExponentialFitter().integrate([1.0, math.nan])
    with pytest.raises(InvalidInputError, match=r"^covariance"):
        MonoExponentialFitter().integrate([1.0, 1.0], np.eye(3))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"physical_decay_constant_per_s": -1.0}, "physical_decay_constant_per_s"),
        ({"extrapolation_warning_fraction": 0.0}, "extrapolation_warning_fraction"),
        ({"max_evaluations": 1}, "max_evaluations"),
    ],
)
def test_fitter_settings_are_validated(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        MonoExponentialFitter(**kwargs)  # type: ignore[arg-type]


# ---- model selection (dosimetry-reference.md §4.2) ---------------------------------------------


def test_fit_best_prefers_the_simpler_model_for_mono_exponential_data() -> None:
    rng = np.random.default_rng(11)
    k = math.log(2) / (60 * H)
    t = np.array([1.0, 4.0, 24.0, 48.0, 96.0, 168.0]) * H
    a = 100e6 * np.exp(-k * t) * (1 + 0.02 * rng.standard_normal(6))
    fit = fit_best(TimeActivityCurve(times_s=t, activities_bq=a))
    assert fit.model_name == "mono_exponential"
    table = dict(fit.candidates_aicc)
    assert set(table) == {
        "mono_exponential",
        "mono_exponential_uptake",
        "bi_exponential",
        "tri_exponential",
    }
    # Tri-exponential (K = 5) with N = 6 has no AICc (N − K − 1 = 0).
    assert math.isnan(table["tri_exponential"])
    assert table["mono_exponential"] <= min(v for v in table.values() if not math.isnan(v)) + 2.0


def test_fit_best_selects_uptake_when_the_data_support_it() -> None:
    t = np.array([0.5, 1.0, 4.0, 24.0, 48.0, 96.0, 168.0]) * H
    a = 100e6 * (np.exp(-0.012 * t / H) - np.exp(-0.5 * t / H))
    fit = fit_best(TimeActivityCurve(times_s=t, activities_bq=a))
    assert fit.model_name == "mono_exponential_uptake"
    assert fit.parameter_dict["k_uptake_per_s"] == pytest.approx(0.5 / H, rel=1e-6)


@pytest.mark.parametrize("n_points", [2, 3, 4])
def test_fit_best_with_few_points_fits_at_most_two_parameters(n_points: int) -> None:
    # §4.2: with N = 3–4 points at most 2 parameters are identifiable.
    t = np.array([4.0, 24.0, 96.0, 168.0])[:n_points] * H
    a = 100e6 * (np.exp(-0.012 * t / H) - np.exp(-0.5 * t / H))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        warnings.simplefilter("ignore", FitQualityWarning)
        fit = fit_best(TimeActivityCurve(times_s=t, activities_bq=a))
    assert fit.model_name == "mono_exponential"
    assert fit.n_points == n_points


def test_fit_best_needs_two_points() -> None:
    with pytest.raises(InvalidInputError, match="hanscheid"):
        fit_best(TimeActivityCurve(times_s=[96 * H], activities_bq=[40e6]))


def test_fit_best_raises_when_nothing_converges() -> None:
    rng = np.random.default_rng(7)
    t = np.array([1, 2, 4, 8, 24, 48, 96, 168.0]) * H
    a = 80e6 * (np.exp(-0.0139 * t / H) - np.exp(-0.3 * t / H)) + 30e6 * np.exp(-0.1 * t / H)
    tac = TimeActivityCurve(times_s=t, activities_bq=a * (1 + 0.1 * rng.standard_normal(8)))
    with pytest.raises(FitError, match="no candidate model converged"):
        fit_best(tac, candidates=[TriExponentialFitter(max_evaluations=10)])


def test_fit_best_reissues_only_the_selected_fits_warnings() -> None:
    tac = TimeActivityCurve(times_s=EANM_TIMES, activities_bq=np.full(4, 50e6))
    with pytest.warns(FitQualityWarning) as record:
        fit = fit_best(tac)
    assert fit.model_name == "mono_exponential"
    assert all("mono_exponential" in str(w.message) for w in record)
