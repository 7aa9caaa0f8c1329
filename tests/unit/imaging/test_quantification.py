"""Tests of prrt.imaging.quantification: calibration, decay correction, recovery, HU to density."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import ndimage

from prrt.errors import ExtrapolationWarning, InvalidInputError
from prrt.imaging.quantification import (
    HuDensityCalibration,
    RecoveryCurve,
    activity_to_concentration,
    concentration_to_activity,
    counts_to_activity,
    decay_correct_volume,
    decay_during_acquisition_factor,
    hu_to_density,
    sphere_recovery_coefficient,
)
from prrt.imaging.volume import Volume

T0 = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)
LU177_HALF_LIFE_S = 6.647 * 86400.0  # ICRP-107 (dosimetry-reference §1.2)


def _counts(value=600.0):
    return Volume.from_spacing(
        np.full((3, 3, 3), value),
        spacing_mm=(4.0, 4.0, 4.0),
        quantity="counts",
        acquisition_time=T0,
    )


def test_counts_to_activity_analytic():
    # 600 counts in 600 s at 10 cps/MBq = 1 cps = 0.1 MBq.
    activity = counts_to_activity(
        _counts(), sensitivity_cps_per_mbq=10.0, acquisition_duration_s=600.0
    )
    np.testing.assert_allclose(activity.array, 1e5)
    assert activity.quantity.value == "activity_bq"
    assert activity.acquisition_time == T0
    assert activity.history.steps[-1].parameters["sensitivity_cps_per_mbq"] == 10.0


def test_decay_during_acquisition_refers_activity_to_start():
    # Frame of one half-life: mean activity = A0 (1 - 1/2)/ln2 = 0.7213 A0.
    assert decay_during_acquisition_factor(
        acquisition_duration_s=100.0, half_life_s=100.0
    ) == pytest.approx(0.5 / math.log(2), rel=1e-12)
    a = counts_to_activity(
        _counts(), sensitivity_cps_per_mbq=10.0, acquisition_duration_s=600.0, half_life_s=600.0
    )
    np.testing.assert_allclose(a.array, 1e5 * math.log(2) / 0.5, rtol=1e-12)
    # Lu-177, 20 min: correction is 1 + 4.2e-5.
    f = decay_during_acquisition_factor(
        acquisition_duration_s=1200.0, half_life_s=LU177_HALF_LIFE_S
    )
    assert 1 / f - 1 == pytest.approx(math.log(2) * 1200 / LU177_HALF_LIFE_S / 2, rel=1e-3)


def test_counts_to_activity_refuses_bad_input():
    with pytest.raises(InvalidInputError, match="sensitivity_cps_per_mbq"):
        counts_to_activity(_counts(), sensitivity_cps_per_mbq=0.0, acquisition_duration_s=1.0)
    with pytest.raises(InvalidInputError, match="acquisition_duration_s"):
        counts_to_activity(
            _counts(), sensitivity_cps_per_mbq=1.0, acquisition_duration_s=float("nan")
        )
    with pytest.raises(InvalidInputError, match="counts"):
        counts_to_activity(
            _counts().with_array(np.ones((3, 3, 3)), quantity="dose_gy"),
            sensitivity_cps_per_mbq=1.0,
            acquisition_duration_s=1.0,
        )


def test_decay_correct_volume_one_half_life_halves():
    a = _counts().with_array(np.full((3, 3, 3), 8.0), quantity="activity_bq")
    later = decay_correct_volume(
        a, half_life_s=LU177_HALF_LIFE_S, to_time=T0 + timedelta(seconds=LU177_HALF_LIFE_S)
    )
    np.testing.assert_allclose(later.array, 4.0, rtol=1e-12)
    earlier = decay_correct_volume(
        a, half_life_s=LU177_HALF_LIFE_S, to_time=T0 - timedelta(seconds=LU177_HALF_LIFE_S)
    )
    np.testing.assert_allclose(earlier.array, 16.0, rtol=1e-12)
    assert later.acquisition_time == T0 + timedelta(seconds=LU177_HALF_LIFE_S)
    no_time = Volume.from_spacing(np.ones((2, 2, 2)), spacing_mm=(1, 1, 1), quantity="activity_bq")
    with pytest.raises(InvalidInputError, match="acquisition_time"):
        decay_correct_volume(no_time, half_life_s=1.0, to_time=T0)


def test_activity_concentration_round_trip():
    a = _counts().with_array(np.full((3, 3, 3), 64.0), quantity="activity_bq")
    c = activity_to_concentration(a)
    np.testing.assert_allclose(c.array, 1000.0)  # 64 Bq in 0.064 mL
    np.testing.assert_allclose(concentration_to_activity(c).array, a.array)


def test_sphere_recovery_against_voxelised_blur():
    """Analytic RC of a 10 mL sphere at 10 mm FWHM vs a finely voxelised Gaussian blur (1 mm)."""
    n, r_mm, fwhm = 81, (3 * 10_000 / (4 * math.pi)) ** (1 / 3), 10.0
    x = np.arange(n) - n // 2
    inside = (x[:, None, None] ** 2 + x[None, :, None] ** 2 + x[None, None, :] ** 2) <= r_mm**2
    blurred = ndimage.gaussian_filter(inside.astype(float), sigma=fwhm / 2.3548, mode="constant")
    numeric = blurred[inside].sum() / inside.sum()
    analytic = sphere_recovery_coefficient(volume_ml=10.0, fwhm_mm=fwhm)
    # 1 mm voxelisation of a 13.4 mm radius sphere: agree within 1 %.
    assert analytic == pytest.approx(numeric, rel=0.01)
    assert sphere_recovery_coefficient(volume_ml=1e6, fwhm_mm=fwhm) == pytest.approx(1.0, abs=0.01)


def test_recovery_curve_interpolates_and_refuses_extrapolation_below():
    curve = RecoveryCurve(volumes_ml=(0.5, 5.0, 50.0), coefficients=(0.2, 0.5, 0.8), source="test")
    assert curve.coefficient(volume_ml=5.0) == pytest.approx(0.5)
    assert curve.correct(activity_bq=50.0, volume_ml=5.0) == pytest.approx(100.0)
    with pytest.raises(InvalidInputError, match="smallest calibrated volume"):
        curve.coefficient(volume_ml=0.1)
    with pytest.warns(ExtrapolationWarning):
        assert curve.coefficient(volume_ml=500.0) == pytest.approx(0.8)
    with pytest.raises(InvalidInputError, match="volumes_ml"):
        RecoveryCurve(volumes_ml=(5.0, 1.0), coefficients=(0.5, 0.2), source="x")
    with pytest.raises(InvalidInputError, match="coefficients"):
        RecoveryCurve(volumes_ml=(1.0, 5.0), coefficients=(0.0, 0.2), source="x")


def test_hu_to_density_piecewise_linear():
    cal = HuDensityCalibration(
        hu=(-1000, 0, 1000), density_g_per_ml=(0.001, 1.0, 1.5), source="test table"
    )
    ct = Volume.from_spacing(
        np.array([[[-1000.0, -500.0, 0.0, 500.0, 3000.0]]]), spacing_mm=(1, 1, 1), quantity="hu"
    )
    rho = hu_to_density(ct, calibration=cal)
    np.testing.assert_allclose(rho.array.ravel(), [0.001, 0.5005, 1.0, 1.25, 1.5])
    assert rho.quantity.value == "density_g_per_ml"
    with pytest.raises(InvalidInputError, match="density_g_per_ml"):
        HuDensityCalibration(hu=(-1000, 0), density_g_per_ml=(1.0, 0.5), source="bad")
    with pytest.raises(InvalidInputError, match="ct"):
        hu_to_density(rho, calibration=cal)


_GOOD_TABLE = {"hu": [-1000, 0, 1000], "density_g_per_ml": [0.001, 1.0, 1.6], "source": "s"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hu": [0, None]}, r"t\.hu\[1\]: got None; expected a number"),
        ({"hu": "x"}, r"t\.hu: got 'x'; expected a list of numbers"),
        ({"hu": [[0], [1], [2]]}, r"t\.hu\[0\]: got \[0\]; expected a number"),
        ({"density_g_per_ml": {"a": 1}}, r"t\.density_g_per_ml: got \{'a': 1\}"),
        ({"density_g_per_ml": [0.001, 1.0]}, r"t\.density_g_per_ml: .*3 densities"),
        ({"hu": [0], "density_g_per_ml": [1.0]}, r"t\.hu: got \[0\]; expected .*two or more"),
        ({"hu": [-1000, 1000, 0]}, r"t\.hu: .*strictly increasing"),
        ({"hu": [-1000, True, 1000]}, r"t\.hu\[1\]: got True"),
        ({"density_g_per_ml": [1.2, 1000, 1600]}, r"density_g_per_ml\[1\]: got 1000; .*<= 3\.5"),
        ({"density_g_per_ml": [0.0, 1.0, 1.6]}, r"density_g_per_ml\[0\]: got 0\.0"),
        ({"density_g_per_ml": [0.001, 0.5, 1.6]}, r"water \(0 HU\) at 0\.9-1\.1 g/mL, got 0\.5"),
        ({"density_g_per_ml": [0.001, 1.6, 1.0]}, r"strictly increasing densities"),
        ({"source": ""}, r"t\.source: got ''"),
        ({"source": 3}, r"t\.source: got 3"),
    ],
)
def test_hu_density_table_from_json_refuses_bad_values_as_written(change, message):
    with pytest.raises(InvalidInputError, match=message):
        HuDensityCalibration.from_mapping({**_GOOD_TABLE, **change}, field="t")


def test_hu_density_table_from_json_needs_an_object_with_every_key():
    with pytest.raises(InvalidInputError, match=r"t: got 5; expected a JSON object"):
        HuDensityCalibration.from_mapping(5, field="t")
    with pytest.raises(InvalidInputError, match=r"t\.source: got None"):
        HuDensityCalibration.from_mapping({"hu": [0, 1], "density_g_per_ml": [1, 1.1]}, field="t")


def test_hu_density_table_without_zero_hu_skips_the_water_check():
    # Only bone-like CT numbers: water is not in the table, 2.0 g/mL at 1500 HU is plausible.
    cal = HuDensityCalibration.from_mapping(
        {"hu": [200, 1500], "density_g_per_ml": [1.1, 2.0], "source": "bone insert"}, field="t"
    )
    assert cal.density_g_per_ml_at([850.0]).tolist() == [pytest.approx(1.55)]
