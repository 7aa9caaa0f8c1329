"""Tests of prrt.kinetics.stp: Hänscheid and Madsen single-time-point estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.kinetics.stp import (
    HanscheidFitter,
    MadsenFitter,
    hanscheid_ratio,
    hanscheid_tia,
    madsen_tia,
    population_effective_half_life,
)
from prrt.kinetics.tac import TimeActivityCurve

H = 3600.0
LN2 = math.log(2)


def test_hanscheid_is_a_mono_exponential_with_t_eff_equal_to_scan_time() -> None:
    fit = hanscheid_tia(activity_bq=40e6, time_s=96 * H, region="kidneys")
    assert fit.model_name == "stp_hanscheid_2018"
    assert fit.time_integrated_activity_bq_s == pytest.approx(40e6 * 2 * 96 * H / LN2, rel=1e-12)
    # The fitted curve passes through the measurement.
    assert fit.predict([96 * H])[0] == pytest.approx(40e6, rel=1e-12)
    assert fit.exponential_terms()[0][1] == pytest.approx(LN2 / (96 * H), rel=1e-12)
    assert fit.extrapolated_fraction == 1.0


def test_madsen_uses_the_population_half_life() -> None:
    fit = madsen_tia(activity_bq=40e6, time_s=96 * H, effective_half_life_s=50 * H)
    lam = LN2 / (50 * H)
    assert fit.time_integrated_activity_bq_s == pytest.approx(
        40e6 * math.exp(lam * 96 * H) / lam, rel=1e-12
    )
    assert fit.predict([96 * H])[0] == pytest.approx(40e6, rel=1e-12)


def test_madsen_with_t_eff_equal_to_t_equals_hanscheid() -> None:
    m = madsen_tia(activity_bq=10e6, time_s=72 * H, effective_half_life_s=72 * H)
    h = hanscheid_tia(activity_bq=10e6, time_s=72 * H)
    assert m.time_integrated_activity_bq_s == pytest.approx(
        h.time_integrated_activity_bq_s, rel=1e-12
    )


def test_uncertainty_propagation_is_first_order_analytic() -> None:
    t, a, teff, u_a, u_t = 96 * H, 40e6, 50 * H, 2e6, 5 * H
    fit = madsen_tia(
        activity_bq=a,
        time_s=t,
        effective_half_life_s=teff,
        activity_sd_bq=u_a,
        effective_half_life_sd_s=u_t,
    )

    def tia(a_: float, teff_: float) -> float:
        lam_ = LN2 / teff_
        return a_ * math.exp(lam_ * t) / lam_

    # Central differences as an independent derivative.
    d_a = (tia(a * (1 + 1e-6), teff) - tia(a * (1 - 1e-6), teff)) / (2e-6 * a)
    d_t = (tia(a, teff * (1 + 1e-6)) - tia(a, teff * (1 - 1e-6))) / (2e-6 * teff)
    expected = math.hypot(d_a * u_a, d_t * u_t)
    assert fit.time_integrated_activity_sd_bq_s == pytest.approx(expected, rel=1e-6)
    h = hanscheid_tia(activity_bq=a, time_s=t, activity_sd_bq=u_a)
    assert h.time_integrated_activity_sd_bq_s == pytest.approx(2 * t / LN2 * u_a, rel=1e-12)


def test_madsen_refuses_effective_half_life_longer_than_physical() -> None:
    with pytest.raises(InvalidInputError, match=r"^effective_half_life_s.*physical half-life"):
        madsen_tia(activity_bq=1e6, time_s=96 * H, effective_half_life_s=200 * H)
    fit = madsen_tia(
        activity_bq=1e6, time_s=96 * H, effective_half_life_s=200 * H, allow_net_uptake=True
    )
    assert fit.parameters[1] == pytest.approx(LN2 / (200 * H), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"activity_bq": -1.0, "time_s": 1.0}, "activity_bq"),
        ({"activity_bq": math.nan, "time_s": 1.0}, "activity_bq"),
        ({"activity_bq": "40 MBq", "time_s": 1.0}, "activity_bq"),
        ({"activity_bq": 1.0, "time_s": 0.0}, "time_s"),
        ({"activity_bq": 1.0, "time_s": math.inf}, "time_s"),
        ({"activity_bq": 1.0, "time_s": 1.0, "activity_sd_bq": 0.0}, "activity_sd_bq"),
    ],
)
def test_hanscheid_refuses_bad_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        hanscheid_tia(**kwargs)  # type: ignore[arg-type]


def test_fitters_need_exactly_one_point() -> None:
    two = TimeActivityCurve(times_s=[24 * H, 96 * H], activities_bq=[50e6, 40e6])
    with pytest.raises(InvalidInputError, match=r"^tac\.times_s.*exactly one"):
        HanscheidFitter().fit(two)
    with pytest.raises(InvalidInputError, match=r"^tac\.times_s.*exactly one"):
        MadsenFitter(effective_half_life_s=50 * H).fit(two)
    with pytest.raises(InvalidInputError, match=r"^effective_half_life_s"):
        MadsenFitter(effective_half_life_s=-1.0)


def test_fitter_api_matches_functions_and_uses_point_uncertainty() -> None:
    tac = TimeActivityCurve(
        times_s=[96 * H], activities_bq=[40e6], uncertainties_bq=[4e6], region="kidneys"
    )
    fit = HanscheidFitter().fit(tac)
    assert fit.region == "kidneys"
    assert fit.time_integrated_activity_sd_bq_s == pytest.approx(
        0.1 * fit.time_integrated_activity_bq_s
    )
    madsen = MadsenFitter(effective_half_life_s=50 * H).fit(tac)
    assert madsen.time_integrated_activity_bq_s == pytest.approx(
        madsen_tia(
            activity_bq=40e6, time_s=96 * H, effective_half_life_s=50 * H
        ).time_integrated_activity_bq_s
    )


def test_population_table_has_sources_and_reliability() -> None:
    kidneys = population_effective_half_life("kidneys")
    assert kidneys.effective_half_life_s == 50 * H  # STP-03, dosimetry-reference §4.3
    assert kidneys.low_s == 40 * H
    assert kidneys.high_s == 60 * H
    assert kidneys.reliability == "R"
    assert "Madsen" in kidneys.source
    lesion = population_effective_half_life("lesion")
    assert 60 * H <= lesion.effective_half_life_s <= 100 * H  # §4.3 tumours ~60–100 h
    with pytest.raises(InvalidInputError, match=r"^region.*kidneys"):
        population_effective_half_life("liver")


def test_hanscheid_ratio_refuses_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"^effective_half_life_s"):
        hanscheid_ratio(time_s=1.0, effective_half_life_s=0.0)
    assert hanscheid_ratio(time_s=2.0, effective_half_life_s=2.0) == pytest.approx(1.0, abs=1e-15)
    assert np.isfinite(hanscheid_ratio(time_s=1e6, effective_half_life_s=1.0))
