"""Unit tests of prrt.dosimetry.radiobiology (G factor, BED, EQD2, parameters)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.dosimetry.radiobiology import (
    ExponentialDoseRate,
    bed_for_dose_rate,
    bed_gy,
    dose_for_bed_gy,
    eqd2_gy,
    g_factor,
    g_factor_mono_exponential,
    g_factor_sampled,
    g_factor_uptake_washout,
    radiobiology_parameters,
    total_bed_gy,
)
from prrt.errors import InvalidInputError

H = 3600.0
LN2 = math.log(2.0)


def test_packaged_parameters() -> None:
    """§5.2: kidney 2.6 Gy / 2.8 h, tumour 10 Gy / 1.5 h, marrow 10 Gy / 0.5 h."""
    for tissue, ab, trep in [
        ("kidneys", 2.6, 2.8),
        ("tumour", 10.0, 1.5),
        ("red_marrow", 10.0, 0.5),
    ]:
        p = radiobiology_parameters(tissue)
        assert (p.alpha_beta_gy, p.repair_half_time_s / H) == (ab, pytest.approx(trep))
        assert p.source
    assert radiobiology_parameters("left_kidney").tissue == "kidneys"
    assert radiobiology_parameters("lesion").tissue == "tumour"
    with pytest.raises(InvalidInputError, match=r"^tissue"):
        radiobiology_parameters("brain")


def test_g_tends_to_one_for_fast_delivery_and_zero_for_slow() -> None:
    """Analytic limits: T_eff ≪ T_rep → G → 1 (acute); T_eff ≫ T_rep → G → 0."""
    fast = ExponentialDoseRate.mono_exponential(dose_gy=1.0, effective_half_life_s=1.0)
    slow = ExponentialDoseRate.mono_exponential(dose_gy=1.0, effective_half_life_s=1e9)
    assert g_factor(fast, repair_half_time_s=2.8 * H) == pytest.approx(1.0, abs=1e-4)
    assert g_factor(slow, repair_half_time_s=2.8 * H) == pytest.approx(0.0, abs=1e-4)


def test_g_is_scale_free() -> None:
    rate = ExponentialDoseRate(((3e-5, LN2 / (40 * H)), (1e-5, LN2 / (5 * H))))
    assert g_factor(rate.scaled(7.0), repair_half_time_s=2.8 * H) == pytest.approx(
        g_factor(rate, repair_half_time_s=2.8 * H), rel=1e-12
    )


def test_sampled_g_matches_closed_form_uptake_washout() -> None:
    """Numerical generalised Lea–Catcheside vs the closed form (0.052180), tol 2e-4 relative."""
    lu, lw = LN2 / (2 * H), LN2 / (50 * H)
    t = np.concatenate([np.linspace(0, 24 * H, 97), np.linspace(25 * H, 400 * H, 376)])
    rate = np.exp(-lw * t) - np.exp(-lu * t)
    g = g_factor_sampled(
        times_s=t, dose_rate_gy_per_s=rate, repair_half_time_s=2.8 * H, tail_rate_per_s=lw
    )
    closed = g_factor_uptake_washout(
        uptake_half_life_s=2 * H, washout_half_life_s=50 * H, repair_half_time_s=2.8 * H
    )
    assert g == pytest.approx(closed, rel=2e-4)


def test_sampled_g_of_constant_rate_block() -> None:
    """Analytic: constant rate for time T, no tail: G = 2(μT − 1 + e^(−μT))/(μT)²."""
    mu = LN2 / (2.8 * H)
    t_end = 10 * H
    g = g_factor_sampled(
        times_s=[0.0, t_end], dose_rate_gy_per_s=[1.0, 1.0], repair_half_time_s=2.8 * H
    )
    x = mu * t_end
    assert g == pytest.approx(2 * (x - 1 + math.exp(-x)) / x**2, rel=1e-6)


def test_sampled_g_bad_inputs() -> None:
    with pytest.raises(InvalidInputError, match=r"^times_s"):
        g_factor_sampled(times_s=[0, 0], dose_rate_gy_per_s=[1, 1], repair_half_time_s=1.0)
    with pytest.raises(InvalidInputError, match=r"^dose_rate_gy_per_s"):
        g_factor_sampled(times_s=[0, 1], dose_rate_gy_per_s=[1, -1], repair_half_time_s=1.0)
    with pytest.raises(InvalidInputError, match=r"^dose_rate_gy_per_s"):
        g_factor_sampled(times_s=[0, 1], dose_rate_gy_per_s=[0, 0], repair_half_time_s=1.0)


def test_bed_inverse_and_eqd2() -> None:
    bed = bed_gy(dose_gy=7.0, g_factor=0.05, alpha_beta_gy=2.6)
    assert dose_for_bed_gy(bed_gy=bed, g_factor=0.05, alpha_beta_gy=2.6) == pytest.approx(7.0)
    assert dose_for_bed_gy(bed_gy=4.0, g_factor=0.0, alpha_beta_gy=2.6) == 4.0
    # EQD2 of a 2-Gy-fraction BED equals the physical dose: BED = D(1 + 2/(α/β)).
    assert eqd2_gy(bed_gy=10 * (1 + 2 / 3), alpha_beta_gy=3.0) == pytest.approx(10.0)


def test_bed_bad_inputs() -> None:
    with pytest.raises(InvalidInputError, match=r"^g_factor"):
        bed_gy(dose_gy=1.0, g_factor=1.5, alpha_beta_gy=2.6)
    with pytest.raises(InvalidInputError, match=r"^alpha_beta_gy"):
        bed_gy(dose_gy=1.0, g_factor=0.1, alpha_beta_gy=0.0)
    with pytest.raises(InvalidInputError, match=r"^dose_gy"):
        bed_gy(dose_gy=-1.0, g_factor=0.1, alpha_beta_gy=2.6)
    with pytest.raises(InvalidInputError, match=r"^terms\[0\]\.rate_per_s"):
        ExponentialDoseRate(((1.0, 0.0),))
    with pytest.raises(InvalidInputError, match=r"^dose_rate"):
        g_factor(ExponentialDoseRate(((-1.0, 1.0),)), repair_half_time_s=1.0)
    with pytest.raises(InvalidInputError, match=r"^uptake_half_life_s"):
        g_factor_uptake_washout(
            uptake_half_life_s=60 * H, washout_half_life_s=50 * H, repair_half_time_s=2.8 * H
        )


def test_dose_rate_from_tac_terms_and_total_bed() -> None:
    """Ḋ = S·A(t): the dose is S·Σa/λ; BEDs of cycles add (full repair between cycles)."""
    terms = ((100e6, LN2 / (50 * H)), (-100e6, LN2 / (2 * H)))
    rate = ExponentialDoseRate.from_activity_terms(terms, s_value_gy_per_bq_s=7.76e-14)
    expected = 7.76e-14 * 100e6 * (50 * H - 2 * H) / LN2
    assert rate.absorbed_dose_gy == pytest.approx(expected, rel=1e-12)
    p = radiobiology_parameters("kidneys")
    one = bed_for_dose_rate(rate, p)
    assert total_bed_gy([one, one, one]) == pytest.approx(3 * one.bed_gy)
    assert g_factor_mono_exponential(effective_half_life_s=50 * H, repair_half_time_s=2.8 * H) > (
        one.g_factor
    )
    rescaled = bed_for_dose_rate(rate, p, dose_gy=2 * rate.absorbed_dose_gy)
    assert rescaled.g_factor == pytest.approx(one.g_factor)
    assert rescaled.dose_gy == pytest.approx(2 * rate.absorbed_dose_gy)
