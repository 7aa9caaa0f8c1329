"""Unit tests of prrt.physics.decay (analytic anchors: exp(-λt))."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.physics.decay import activity_after, decay_correct, decay_factor, elapsed_for_factor
from prrt.physics.nuclides import get_nuclide


@pytest.mark.parametrize("name", ["Lu-177", "Y-90", "Ga-68", "Ac-225", "Pb-212", "Bi-213"])
def test_one_half_life_halves_the_activity(name: str) -> None:
    nuclide = get_nuclide(name)
    assert decay_factor(nuclide, nuclide.half_life_s) == pytest.approx(0.5, rel=1e-15)
    assert activity_after(7.4e9, nuclide, nuclide.half_life_s) == pytest.approx(3.7e9, rel=1e-15)


def test_ten_half_lives_leave_one_in_1024() -> None:
    lu = get_nuclide("Lu-177")
    assert decay_factor(lu, 10 * lu.half_life_s) == pytest.approx(1 / 1024, rel=1e-14)


def test_zero_time_leaves_activity_unchanged() -> None:
    assert decay_factor("Lu-177", 0.0) == 1.0


def test_negative_time_corrects_backwards() -> None:
    lu = get_nuclide("Lu-177")
    assert decay_factor(lu, -2 * lu.half_life_s) == pytest.approx(4.0, rel=1e-14)


def test_array_input_gives_array_of_exp_minus_lambda_t() -> None:
    lu = get_nuclide("Lu-177")
    t = np.array([0.0, 3600.0, 86400.0, lu.half_life_s])
    factors = decay_factor(lu, t)
    assert isinstance(factors, np.ndarray)
    assert factors.shape == (4,)
    np.testing.assert_allclose(factors, np.exp(-math.log(2) / lu.half_life_s * t), rtol=1e-14)


def test_lu177_after_96_h_from_ICRP107_half_life() -> None:
    # 7.4 GBq · 2^(−96 h / (6.647 d · 24 h/d)) = 4.87618 GBq (analytic, T½ 6.647 d ICRP-107)
    expected = 7.4e9 * 2 ** (-96.0 / (6.647 * 24.0))
    assert activity_after(7.4e9, "Lu-177", 96 * 3600.0) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_time_is_refused(bad: float) -> None:
    with pytest.raises(InvalidInputError, match="elapsed_s"):
        decay_factor("Lu-177", bad)


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_negative_activity_is_refused(bad: float) -> None:
    with pytest.raises(InvalidInputError, match="activity_bq"):
        activity_after(bad, "Lu-177", 3600.0)


def test_decay_correct_uses_the_time_between_aware_timestamps() -> None:
    lu = get_nuclide("Lu-177")
    start = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    end = start + timedelta(seconds=lu.half_life_s)
    assert decay_correct(7.4e9, lu, measured_at=start, to=end) == pytest.approx(3.7e9, rel=1e-12)
    assert decay_correct(3.7e9, lu, measured_at=end, to=start) == pytest.approx(7.4e9, rel=1e-12)


def test_same_instant_in_two_time_zones_needs_no_correction() -> None:
    paris = datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    utc = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert decay_correct(7.4e9, "Lu-177", measured_at=paris, to=utc) == 7.4e9


def test_decay_correct_across_dst_change_counts_real_hours() -> None:
    # 2026-03-29 is the EU switch to summer time: 01:00+01:00 → 04:00+02:00 is 2 real hours.
    before = datetime(2026, 3, 29, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    after = datetime(2026, 3, 29, 4, 0, tzinfo=timezone(timedelta(hours=2)))
    expected = 7.4e9 * decay_factor("Lu-177", 2 * 3600.0)
    assert decay_correct(7.4e9, "Lu-177", measured_at=before, to=after) == pytest.approx(
        expected, rel=1e-14
    )


def test_naive_timestamp_is_refused() -> None:
    aware = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    naive = datetime(2026, 3, 1, 12, 0)
    with pytest.raises(InvalidInputError, match="to: got"):
        decay_correct(7.4e9, "Lu-177", measured_at=aware, to=naive)
    with pytest.raises(InvalidInputError, match="measured_at: got"):
        decay_correct(7.4e9, "Lu-177", measured_at=naive, to=aware)


def test_elapsed_for_factor_inverts_decay_factor() -> None:
    lu = get_nuclide("Lu-177")
    t = elapsed_for_factor(lu, 0.1)
    assert decay_factor(lu, t) == pytest.approx(0.1, rel=1e-13)
    with pytest.raises(InvalidInputError, match="factor"):
        elapsed_for_factor(lu, 0.0)


def test_backward_correction_that_would_overflow_is_refused() -> None:
    at217 = get_nuclide("At-217")  # T½ 32.3 ms: one minute back is ~1900 half-lives
    with pytest.raises(
        InvalidInputError, match=r"elapsed_s: got -60\.0; expected a decay correction backwards"
    ):
        decay_factor(at217, -60.0)
    with pytest.raises(InvalidInputError, match="elapsed_s"):
        decay_factor(at217, np.array([0.0, -60.0]))


def test_far_forward_decay_underflows_to_zero() -> None:
    assert decay_factor("At-217", 3600.0) == 0.0


@pytest.mark.parametrize("bad", ["96h", None, True])
def test_elapsed_time_must_be_a_number_of_seconds(bad: object) -> None:
    # Units are parsed at the edges; the core refuses text such as "96h" (style guide §3).
    with pytest.raises(InvalidInputError, match="elapsed_s"):
        decay_factor("Lu-177", bad)  # type: ignore[arg-type]
