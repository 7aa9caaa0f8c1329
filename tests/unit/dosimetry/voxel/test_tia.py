"""Tests of prrt.dosimetry.voxel.tia (vectorised voxel TIA with fallbacks)."""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.tia import (
    TiaMethod,
    fit_tia_curves,
    fit_voxel_tia,
    trapezoid_physical_tail,
)
from prrt.errors import InvalidInputError

# Lu-177 half-life 6.647 d (ICRP-107, dosimetry-reference §1.2).
LAMBDA_PHYS_PER_S = np.log(2) / (6.647 * 86400)
TIMES_S = np.array([4.0, 24.0, 96.0, 168.0]) * 3600.0
MBQ_H = 1e6 * 3600.0


def test_trapezoid_and_physical_tail_against_tia05() -> None:
    """TIA-05/06 (dosimetry-reference §4.1): 6058 MBq·h trapezoid + 4142.7 MBq·h physical tail."""
    activity = np.array([60.0, 55.0, 30.0, 18.0]) * 1e6
    total = trapezoid_physical_tail(
        activity, times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S
    )
    assert float(total) / MBQ_H == pytest.approx(6058.0 + 4142.7, rel=2e-4)


def test_mono_exponential_gives_a0_over_lambda() -> None:
    """Analytic anchor: A0·exp(-λt) integrates to A0/λ (§4.1)."""
    lam = LAMBDA_PHYS_PER_S + np.log(2) / (72.0 * 3600)
    curves = np.outer(np.exp(-lam * TIMES_S), [1e6, 3e7])
    tia, code = fit_tia_curves(
        curves, times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S, model="mono"
    )
    np.testing.assert_allclose(tia, np.array([1e6, 3e7]) / lam, rtol=1e-5)
    assert code.tolist() == [TiaMethod.MONOEXPONENTIAL.code] * 2


def test_biexponential_clearance_recovered_exactly() -> None:
    """Kidney-like A1·e^(-λ1 t) + A2·e^(-λ2 t) (synthetic phantom kinetics): TIA = A1/λ1 + A2/λ2."""
    lam1 = LAMBDA_PHYS_PER_S + np.log(2) / (3.06 * 3600)
    lam2 = LAMBDA_PHYS_PER_S + np.log(2) / (72.8 * 3600)
    a1, a2 = 0.02 * 7.4e9, 0.024 * 7.4e9
    curve = (a1 * np.exp(-lam1 * TIMES_S) + a2 * np.exp(-lam2 * TIMES_S))[:, None]
    tia, code = fit_tia_curves(
        curve, times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S, iterations=60
    )
    assert float(tia[0]) == pytest.approx(a1 / lam1 + a2 / lam2, rel=1e-3)
    assert int(code[0]) == TiaMethod.BIEXPONENTIAL.code


def test_uptake_washout_with_three_points() -> None:
    """With 3 points the tied uptake–washout model is used: TIA = A0(1/λw − 1/λu)."""
    lam_w = LAMBDA_PHYS_PER_S + np.log(2) / (80.0 * 3600)
    lam_u = lam_w + np.log(2) / (5.0 * 3600)
    times = np.array([24.0, 96.0, 168.0]) * 3600
    curve = (5e6 * (np.exp(-lam_w * times) - np.exp(-lam_u * times)))[:, None]
    tia, code = fit_tia_curves(
        curve, times_s=times, decay_constant_per_s=LAMBDA_PHYS_PER_S, iterations=80
    )
    assert int(code[0]) == TiaMethod.UPTAKE_WASHOUT.code
    assert float(tia[0]) == pytest.approx(5e6 * (1 / lam_w - 1 / lam_u), rel=1e-2)


def test_rising_curve_falls_back_to_trapezoid_with_physical_tail() -> None:
    """Net uptake to the last point (λ < λphys) is refused by the mono fit: trapezoid + tail."""
    curve = np.array([1.0, 2.0, 3.0, 4.0])[:, None] * 1e5
    tia, code = fit_tia_curves(
        curve, times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S, model="mono"
    )
    expected = trapezoid_physical_tail(
        curve[:, 0], times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S
    )
    assert int(code[0]) == TiaMethod.TRAPEZOID.code
    assert float(tia[0]) == pytest.approx(float(expected), rel=1e-5)


def test_method_counts_and_zero_voxels() -> None:
    """Counts per method add up to the voxels; all-zero voxels give 0 TIA, masked voxels 'outside'."""
    lam = LAMBDA_PHYS_PER_S + 0.2 / 86400
    maps = np.zeros((4, 2, 2, 2))
    maps[:, 0, 0, 0] = 1e6 * np.exp(-lam * TIMES_S)
    maps[:, 1, 1, 1] = [1e5, 2e5, 3e5, 4e5]
    mask = np.ones((2, 2, 2), bool)
    mask[1, 0, 0] = False
    result = fit_voxel_tia(
        maps,
        times_s=TIMES_S,
        decay_constant_per_s=LAMBDA_PHYS_PER_S,
        model="mono",
        mask=mask,
        device="cpu",
    )
    counts = dict(result.method_counts)
    assert counts["mono"] == 1
    assert counts["trapezoid"] == 1
    assert counts["outside"] == 1
    assert counts["zero"] == 5
    assert sum(counts.values()) == 8
    assert result.tia_bq_s[0, 0, 0] == pytest.approx(1e6 / lam, rel=1e-5)
    assert result.tia_bq_s[0, 1, 0] == 0.0
    assert result.total_tia_bq_s == pytest.approx(result.tia_bq_s.sum())


def test_trapezoid_model_everywhere() -> None:
    """model='trapezoid' integrates every voxel by the trapezoid with physical tail."""
    maps = np.ones((4, 2, 1, 1)) * 1e6
    result = fit_voxel_tia(
        maps,
        times_s=TIMES_S,
        decay_constant_per_s=LAMBDA_PHYS_PER_S,
        model="trapezoid",
        device="cpu",
    )
    expected = 1e6 * TIMES_S[-1] - 0.5 * 1e6 * 0.0 + 1e6 / LAMBDA_PHYS_PER_S
    assert result.tia_bq_s[0, 0, 0] == pytest.approx(expected - 0.5 * 1e6 * TIMES_S[0], rel=1e-6)
    assert dict(result.method_counts)["trapezoid"] == 2


def test_sequence_of_maps_equals_stacked_array() -> None:
    """A list of 3-D maps is accepted like a 4-D array."""
    lam = LAMBDA_PHYS_PER_S * 2
    maps = [np.full((2, 2, 2), 1e6 * np.exp(-lam * t)) for t in TIMES_S]
    a = fit_voxel_tia(maps, times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S, device="cpu")
    b = fit_voxel_tia(
        np.stack(maps), times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S, device="cpu"
    )
    np.testing.assert_array_equal(a.tia_bq_s, b.tia_bq_s)
    assert a.tia_bq_s[0, 0, 0] == pytest.approx(1e6 / lam, rel=2e-3)


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([4.0 * 3600, np.nan, 96.0 * 3600, 168.0 * 3600], "a time stamp for every time point"),
        ([4.0 * 3600, 3.0 * 3600, 96.0 * 3600, 168.0 * 3600], "strictly increasing"),
        ([0.0, 24.0 * 3600, 96.0 * 3600, 168.0 * 3600], "strictly increasing"),
        ([4.0 * 3600], "at least two time points"),
    ],
)
def test_bad_times_are_refused(times: list[float], message: str) -> None:
    """A missing (NaN) time stamp, unordered or single times name 'times_s'."""
    with pytest.raises(InvalidInputError, match=f"times_s: .*{message}"):
        fit_voxel_tia(
            np.ones((len(times), 2, 2, 2)), times_s=times, decay_constant_per_s=LAMBDA_PHYS_PER_S
        )


def test_nan_in_image_is_refused_naming_the_time_point() -> None:
    """NaN in the third map is reported as activity[2]."""
    maps = np.ones((4, 2, 2, 2))
    maps[2, 1, 1, 1] = np.nan
    with pytest.raises(InvalidInputError, match=r"activity\[2\]: got 'NaN or infinite values'"):
        fit_voxel_tia(maps, times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S)


def test_mismatched_grids_are_refused() -> None:
    """Maps of different shapes cannot be one series."""
    maps = [np.ones((2, 2, 2))] * 3 + [np.ones((2, 2, 3))]
    with pytest.raises(InvalidInputError, match="activity: got 'shapes"):
        fit_voxel_tia(maps, times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S)


def test_time_count_mismatch_is_refused() -> None:
    """Three maps for four times is an error naming 'activity'."""
    with pytest.raises(InvalidInputError, match="activity: got 'shape"):
        fit_voxel_tia(
            np.ones((3, 2, 2, 2)), times_s=TIMES_S, decay_constant_per_s=LAMBDA_PHYS_PER_S
        )


def test_mask_outside_the_image_is_refused() -> None:
    """A mask of another shape is refused."""
    with pytest.raises(InvalidInputError, match="mask: got 'shape"):
        fit_voxel_tia(
            np.ones((4, 2, 2, 2)),
            times_s=TIMES_S,
            decay_constant_per_s=LAMBDA_PHYS_PER_S,
            mask=np.ones((3, 2, 2), bool),
        )


@pytest.mark.parametrize("lam", [0.0, -1e-6, np.nan])
def test_bad_decay_constant_is_refused(lam: float) -> None:
    """The physical decay constant must be positive."""
    with pytest.raises(InvalidInputError, match="decay_constant_per_s"):
        fit_voxel_tia(np.ones((4, 1, 1, 1)), times_s=TIMES_S, decay_constant_per_s=lam)


def test_unknown_model_is_refused() -> None:
    """The model vocabulary is closed."""
    with pytest.raises(InvalidInputError, match="model: got 'triexp'"):
        fit_voxel_tia(
            np.ones((4, 1, 1, 1)), times_s=TIMES_S, decay_constant_per_s=1e-6, model="triexp"
        )
