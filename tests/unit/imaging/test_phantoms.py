"""Tests of prrt.imaging.phantoms: the synthetic patient's truth is self-consistent and analytic."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from prrt.errors import InvalidInputError
from prrt.imaging.phantoms import (
    PHANTOM_HU_DENSITY_CALIBRATION,
    REGION_NAMES,
    make_synthetic_patient,
    tia_of_exponentials,
)
from prrt.imaging.volume import VoxelQuantity
from prrt.physics import get_nuclide

LU177_HALF_LIFE_H = 6.647 * 24.0  # ICRP-107 (dosimetry-reference §1.2)


@pytest.fixture(scope="module")
def clean():
    return make_synthetic_patient(fwhm_mm=None, poisson_noise=False)


@pytest.fixture(scope="module")
def noisy():
    return make_synthetic_patient(rng=np.random.default_rng(7))


def test_regions_are_disjoint_and_named(clean):
    assert tuple(clean.masks) == REGION_NAMES
    total = sum(m.array.astype(int) for m in clean.masks.values())
    assert int(total.max()) == 1
    assert {"kidneys", "liver", "spleen", "marrow", "tumour_1", "tumour_2"} <= set(clean.masks)


def test_region_masses_equal_density_times_voxel_volume(clean):
    voxel_ml = 4.42**3 / 1000.0
    for name, mask in clean.masks.items():
        rho = clean.density_g_per_ml.array[mask.array]
        assert np.ptp(rho) == 0.0  # one density per region
        expected_kg = float(mask.array.sum()) * voxel_ml * float(rho[0]) / 1000.0
        assert clean.region_masses_kg[name] == pytest.approx(expected_kg, rel=1e-12)


@pytest.mark.parametrize(
    ("region", "analytic_g", "rel_tol"),
    [
        # Two ellipsoids 28 x 22 x 55 mm at 1.05 g/mL: 2 * 4/3 pi abc rho = 297.9 g.
        ("kidneys", 2 * 4 / 3 * math.pi * 28 * 22 * 55 / 1000 * 1.05, 0.03),
        # Sphere r = 15 mm at 1.04 g/mL: 14.70 g; voxelisation at 4.42 mm is coarse, 5 %.
        ("tumour_1", 4 / 3 * math.pi * 15**3 / 1000 * 1.04, 0.05),
        # Ellipsoid 32 x 25 x 42 mm at 1.06 g/mL: 149.2 g.
        ("spleen", 4 / 3 * math.pi * 32 * 25 * 42 / 1000 * 1.06, 0.03),
    ],
)
def test_region_masses_against_analytic_shapes(clean, region, analytic_g, rel_tol):
    assert clean.region_masses_kg[region] * 1000.0 == pytest.approx(analytic_g, rel=rel_tol)


def test_each_kidney_is_about_150_g(clean):
    assert 0.140 < clean.region_masses_kg["kidneys"] / 2.0 < 0.160


def test_truth_tia_is_sum_of_amplitude_over_rate_and_matches_numeric_integral(clean):
    for name, terms in clean.region_kinetics.items():
        analytic = sum(a / k for a, k in terms)
        assert clean.truth_tia_bq_s[name] == pytest.approx(analytic, rel=1e-12)
        # Numeric integral in hours over 0..20 000 h (> 100 physical half-lives).
        numeric_bq_h, _ = integrate.quad(
            lambda t_h, tt=terms: sum(a * math.exp(-k * t_h * 3600) for a, k in tt),
            0,
            20000,
            points=[10, 100, 1000],
            limit=500,
        )
        assert clean.truth_tia_bq_s[name] == pytest.approx(numeric_bq_h * 3600, rel=1e-6)


def test_tia_of_exponentials_refuses_non_positive_rate():
    assert tia_of_exponentials([(2.0, 0.5)]) == 4.0
    with pytest.raises(InvalidInputError, match="rate_per_s"):
        tia_of_exponentials([(1.0, 0.0)])


def test_kidney_kinetics_are_lu_dotatate_like(clean):
    lam_phys = math.log(2) / (LU177_HALF_LIFE_H * 3600)
    assert get_nuclide("Lu-177").decay_constant_per_s == pytest.approx(lam_phys, rel=1e-3)
    slow_amplitude, slow_rate = clean.region_kinetics["kidneys"][-1]
    # effective half-life of the slow kidney component ~50 h
    assert math.log(2) / slow_rate / 3600 == pytest.approx(50.0, rel=0.01)
    # a few per cent of the injected activity
    assert 0.01 < slow_amplitude / clean.injected_activity_bq < 0.05
    # no term clears slower than physical decay
    for terms in clean.region_kinetics.values():
        assert all(rate >= lam_phys for _, rate in terms)


def test_true_maps_carry_region_activity_and_tia(clean):
    for t_s, true_map in zip(clean.times_s, clean.true_activity_maps_bq, strict=True):
        for name, mask in clean.masks.items():
            assert true_map.sum_in(mask) == pytest.approx(
                clean.true_activity_bq(name, float(t_s)), rel=1e-9
            )
    for name, mask in clean.masks.items():
        assert clean.true_tia_map_bq_s.sum_in(mask) == pytest.approx(
            clean.truth_tia_bq_s[name], rel=1e-9
        )
    assert clean.true_tia_map_bq_s.quantity is VoxelQuantity.TIA_BQ_S


def test_clean_maps_equal_truth_and_times_are_set(clean):
    for imaged, true, when in zip(
        clean.activity_maps_bq, clean.true_activity_maps_bq, clean.acquisition_times, strict=True
    ):
        np.testing.assert_allclose(imaged.array, true.array, rtol=1e-12)
        assert imaged.acquisition_time == when
    assert (clean.acquisition_times[0] - clean.injection_time).total_seconds() == 4 * 3600


def test_ct_and_density_follow_calibration(clean):
    np.testing.assert_allclose(
        PHANTOM_HU_DENSITY_CALIBRATION.density_g_per_ml_at(clean.ct_hu.array),
        clean.density_g_per_ml.array,
    )
    kidney_hu = clean.ct_hu.array[clean.masks["kidneys"].array]
    assert set(np.unique(kidney_hu)) == {50.0}
    assert clean.density_g_per_ml.array[clean.masks["kidneys"].array][0] == pytest.approx(1.05)
    assert clean.ct_hu.array[0, 0, 0] == -1000.0  # air outside the body


def test_noise_is_poisson_on_counts_and_reproducible(noisy):
    again = make_synthetic_patient(rng=np.random.default_rng(7))
    np.testing.assert_array_equal(noisy.counts_maps[0].array, again.counts_maps[0].array)
    counts = noisy.counts_maps[-1].array
    assert np.array_equal(counts, np.round(counts))
    # Activity = counts / (S T f): f for 1200 s of Lu-177 is 1 - 4.2e-5.
    f = -math.expm1(-math.log(2) * 1200 / (LU177_HALF_LIFE_H * 3600)) / (
        math.log(2) * 1200 / (LU177_HALF_LIFE_H * 3600)
    )
    np.testing.assert_allclose(
        noisy.activity_maps_bq[-1].array, counts / (10e-6 * 1200 * f), rtol=1e-6
    )


def test_blur_keeps_total_activity_and_noise_is_unbiased(noisy):
    blur_only = make_synthetic_patient(poisson_noise=False)
    # Only activity blurred past the z ends of the field of view is lost.
    for blurred, true in zip(
        blur_only.activity_maps_bq, blur_only.true_activity_maps_bq, strict=True
    ):
        assert blurred.array.sum() == pytest.approx(true.array.sum(), rel=0.01)
    # Poisson noise is unbiased: liver total within 4 sigma of the expected counts.
    liver = noisy.masks["liver"]
    expected = blur_only.counts_maps[-1].sum_in(liver)
    assert abs(noisy.counts_maps[-1].sum_in(liver) - expected) < 4 * math.sqrt(expected)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"shape": (32, 32, 32)}, "shape"),
        ({"spacing_mm": (4.42, 0.0, 4.42)}, "spacing_mm"),
        ({"times_h": (24.0, 4.0)}, "times_h"),
        ({"injected_activity_bq": -1.0}, "injected_activity_bq"),
        ({"fwhm_mm": 0.0}, "fwhm_mm"),
        ({"nuclide": "Xx-999"}, "nuclide"),
    ],
)
def test_bad_arguments_are_refused(kwargs, field):
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        make_synthetic_patient(**kwargs)
