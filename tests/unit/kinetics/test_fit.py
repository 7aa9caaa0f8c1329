"""Tests of prrt.kinetics.fit: the frozen TacFit, its terms, prediction and summary table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from prrt.errors import FitError, InvalidInputError
from prrt.kinetics.fit import TacFit, exponential_terms_of

H = 3600.0


def _mono_fit(covariance: np.ndarray | None = None) -> TacFit:
    return TacFit(
        model_name="mono_exponential",
        parameter_names=("a0_bq", "k_per_s"),
        parameters=np.array([100e6, math.log(2) / (50 * H)]),
        covariance=covariance,
        time_integrated_activity_bq_s=100e6 * 50 * H / math.log(2),
        time_integrated_activity_sd_bq_s=None,
        aicc=None,
        r_squared=None,
        extrapolated_fraction=0.2,
        converged=True,
    )


def test_predict_mono_exponential_halves_after_one_half_life() -> None:
    fit = _mono_fit()
    values = fit.predict(np.array([0.0, 50 * H, 100 * H]))
    assert values.tolist() == pytest.approx([100e6, 50e6, 25e6], rel=1e-12)


def test_predict_refuses_negative_times() -> None:
    with pytest.raises(InvalidInputError, match=r"^t_s"):
        _mono_fit().predict([-1.0])


@pytest.mark.parametrize(
    ("model", "parameters", "expected"),
    [
        ("mono_exponential", [5.0, 0.1], ((5.0, 0.1),)),
        ("mono_exponential_uptake", [5.0, 0.1, 2.0], ((5.0, 0.1), (-5.0, 2.0))),
        ("bi_exponential", [5.0, 0.1, 3.0, 1.0], ((5.0, 0.1), (3.0, 1.0))),
        ("tri_exponential", [5.0, 0.1, 3.0, 1.0, 4.0], ((5.0, 0.1), (3.0, 1.0), (-8.0, 4.0))),
    ],
)
def test_exponential_terms_sum_to_the_model(
    model: str, parameters: list[float], expected: tuple[tuple[float, float], ...]
) -> None:
    assert exponential_terms_of(model, np.array(parameters)) == expected


def test_exponential_terms_of_trapezoid_is_a_fit_error() -> None:
    with pytest.raises(FitError, match="not a sum of exponentials"):
        exponential_terms_of("trapezoid", np.array([1e-6]))


def test_summary_rows_have_wald_intervals() -> None:
    fit = _mono_fit(covariance=np.diag([4e12, 1e-14]))
    rows = fit.summary().rows
    assert [r.name for r in rows] == ["a0_bq", "k_per_s", "time_integrated_activity_bq_s"]
    assert rows[0].standard_error == pytest.approx(2e6)
    # 95 % Wald interval: value ± 1.959964 · SE (standard normal quantile).
    assert rows[0].ci95_lower == pytest.approx(100e6 - 1.959964 * 2e6, rel=1e-7)
    assert rows[0].ci95_upper == pytest.approx(100e6 + 1.959964 * 2e6, rel=1e-7)
    assert rows[2].standard_error is None
    text = str(fit.summary())
    assert "a0_bq" in text
    assert "mono_exponential" in text


def test_fit_is_frozen_comparable_and_serialisable() -> None:
    a, b = _mono_fit(), _mono_fit()
    assert a == b
    with pytest.raises(AttributeError):
        a.converged = False  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        a.parameters[0] = 0.0
    payload = json.loads(json.dumps(a.to_dict()))
    assert payload["parameters"]["a0_bq"] == 100e6


def test_parameters_must_match_their_names() -> None:
    with pytest.raises(InvalidInputError, match=r"^parameters"):
        TacFit(
            model_name="mono_exponential",
            parameter_names=("a0_bq", "k_per_s"),
            parameters=np.array([1.0]),
            covariance=None,
            time_integrated_activity_bq_s=1.0,
            time_integrated_activity_sd_bq_s=None,
            aicc=None,
            r_squared=None,
            extrapolated_fraction=0.0,
            converged=True,
        )


def test_fits_with_nan_aicc_tables_compare_equal() -> None:
    from dataclasses import replace

    table = (("mono_exponential", 12.5), ("tri_exponential", math.nan))
    a = replace(_mono_fit(), candidates_aicc=table)
    b = replace(
        _mono_fit(), candidates_aicc=(("mono_exponential", 12.5), ("tri_exponential", float("nan")))
    )
    assert a == b
    assert a != replace(_mono_fit(), candidates_aicc=(("mono_exponential", 12.0),))


def test_provenance_step_names_the_method() -> None:
    step = _mono_fit().provenance_step()
    assert step.parameters["model_name"] == "mono_exponential"
    assert "Gear 2018" in step.method
