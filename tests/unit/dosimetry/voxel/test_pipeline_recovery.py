"""Tests of prrt.dosimetry.voxel.recovery (geometric transfer matrix, Rousset et al. 1998)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from prrt.dosimetry.voxel.recovery import (
    UNASSIGNED_REGION,
    TransferMatrix,
    check_psf_fwhm,
    geometric_transfer_matrix,
    partition,
)
from prrt.errors import InvalidInputError


def test_gtm_recovers_uniform_region_totals_exactly() -> None:
    """Blurring uniform regions and correcting with the same PSF returns the true totals."""
    shape = (30, 30, 30)
    z, y, x = np.indices(shape)
    sphere = (x - 10) ** 2 + (y - 15) ** 2 + (z - 15) ** 2 <= 25
    cube = np.zeros(shape, bool)
    cube[12:20, 18:26, 12:20] = True
    regions = partition([("sphere", sphere), ("cube", cube)], shape)
    assert [n for n, _ in regions] == ["sphere", "cube", UNASSIGNED_REGION]
    truth = {"sphere": 5e6, "cube": 2e6, UNASSIGNED_REGION: 1e6}
    image = np.zeros(shape)
    for name, mask in regions:
        image[mask] = truth[name] / mask.sum()
    fwhm_mm, spacing = 12.0, 4.0
    sigma = fwhm_mm / (2 * math.sqrt(2 * math.log(2))) / spacing
    blurred = ndimage.gaussian_filter(image, sigma, mode="constant", truncate=4.0)
    observed = np.array([blurred[m].sum() for _, m in regions])
    tm = geometric_transfer_matrix(regions, spacing_mm=(spacing,) * 3, psf_fwhm_mm=fwhm_mm)
    corrected = tm.correct(observed)
    assert observed[0] / truth["sphere"] < 0.8  # real partial-volume loss before correction
    np.testing.assert_allclose(corrected, [truth[n] for n, _ in regions], rtol=1e-4)
    assert 0.0 < tm.recovery_coefficients["sphere"] < 0.8


def test_partition_priority_and_bad_input() -> None:
    """First mask wins where masks overlap; non-positive FWHM and overlapping regions are refused."""
    a = np.zeros((1, 1, 4), bool)
    a[..., :3] = True
    b = np.zeros((1, 1, 4), bool)
    b[..., 2:] = True
    regions = partition([("a", a), ("b", b)], (1, 1, 4))
    assert [m.ravel().tolist() for _, m in regions] == [
        [True, True, True, False],
        [False, False, False, True],
    ]
    with pytest.raises(InvalidInputError, match="psf_fwhm_mm"):
        geometric_transfer_matrix(regions, spacing_mm=(1, 1, 1), psf_fwhm_mm=0.0)
    with pytest.raises(InvalidInputError, match="overlapping"):
        geometric_transfer_matrix([("a", a), ("b", b)], spacing_mm=(1, 1, 1), psf_fwhm_mm=1.0)


@pytest.mark.parametrize(
    ("fwhm_mm", "spacing_mm", "shape", "expected"),
    [
        (500.0, 6.0, 48, "(0, 40] mm"),
        (0.0, 6.0, 48, "(0, 40] mm"),
        (float("nan"), 6.0, 48, "(0, 40] mm"),
        (40.5, 6.0, 48, "(0, 40] mm"),
        (30.0, 1.0, 200, "at most 25 voxels"),
        (30.0, 6.0, 16, "quarter of the largest image extent"),
    ],
)
def test_implausible_psf_fwhm_is_refused(
    fwhm_mm: float, spacing_mm: float, shape: int, expected: str
) -> None:
    """FWHM outside (0, 40] mm, above 25 voxels or above a quarter of the image is refused."""
    with pytest.raises(InvalidInputError, match="psf_fwhm_mm") as info:
        check_psf_fwhm(fwhm_mm, spacing_mm=(spacing_mm,) * 3, shape=(shape,) * 3)
    assert expected in info.value.expected


def test_clinical_psf_fwhm_is_accepted() -> None:
    """8-20 mm on a 4.8 mm grid of 128^3 voxels (a clinical Lu-177 SPECT) passes unchanged."""
    for fwhm_mm in (8.0, 10.0, 20.0, 40.0):
        assert check_psf_fwhm(fwhm_mm, spacing_mm=(4.8,) * 3, shape=(128,) * 3) == fwhm_mm


def test_low_recovery_region_keeps_its_measured_total() -> None:
    """W[i, i] < 0.25: region i keeps O_i; the others solve W_RR X_R = O_R - W_RF O_F (analytic)."""
    matrix = np.array([[0.2, 0.05, 0.0], [0.5, 0.85, 0.1], [0.3, 0.1, 0.9]])
    tm = TransferMatrix(("tumour", "liver", UNASSIGNED_REGION), matrix, 30.0)
    observed = np.array([[2.0, 1.0], [40.0, 20.0], [30.0, 15.0]])  # two time points
    result = tm.correct_checked(observed)
    assert result.uncorrected_regions == ("tumour",)
    np.testing.assert_allclose(result.corrected[0], observed[0])
    rhs = observed[1:] - matrix[1:, :1] @ observed[:1]
    np.testing.assert_allclose(result.corrected[1:], np.linalg.solve(matrix[1:, 1:], rhs))
    assert result.condition_number == pytest.approx(np.linalg.cond(matrix[1:, 1:]))
    assert any("tumour" in w and "0.20 < 0.25" in w and "5x" in w for w in result.warnings)


def test_ill_conditioned_matrix_is_reported() -> None:
    """cond([[0.5, 0.49], [0.49, 0.5]]) = 0.99 / 0.01 = 99 > 10: a warning; identity: none."""
    tm = TransferMatrix(("a", "b"), np.array([[0.5, 0.49], [0.49, 0.5]]), 10.0)
    result = tm.correct_checked(np.array([1.0, 1.0]))
    assert result.condition_number == pytest.approx(99.0)
    assert any("condition number 99" in w for w in result.warnings)
    plain = TransferMatrix(("a", "b"), np.eye(2), 10.0).correct_checked(np.array([1.0, 2.0]))
    assert plain.warnings == ()
    assert plain.condition_number == pytest.approx(1.0)


def test_correction_creating_activity_is_refused() -> None:
    """Columns summing to 0.5 would double the total (ratio 2 > 1.10): refused naming the PSF."""
    tm = TransferMatrix(("a", "b"), np.diag([0.5, 0.5]), 35.0)
    with pytest.raises(InvalidInputError, match="psf_fwhm_mm") as info:
        tm.correct_checked(np.array([1.0, 3.0]))
    assert "2 x the measured total" in str(info.value.value)
    kept = TransferMatrix(("a", "b"), np.diag([0.95, 0.95]), 10.0).correct_checked([1.0, 3.0])
    assert kept.total_ratio == pytest.approx(1 / 0.95)


def test_large_recovery_factor_of_an_organ_is_warned_not_of_a_lesion() -> None:
    """A 4³-voxel organ at FWHM 10 mm (RC < 0.67): warning naming it and its RC; lesions exempt."""
    from datetime import UTC, datetime, timedelta

    from prrt.dosimetry.voxel.pipeline import compute_voxel_tia, is_organ_region
    from prrt.imaging.volume import Volume, VoxelQuantity

    injection = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    shape, spacing, fwhm_mm = (24, 24, 24), 4.0, 10.0
    small = np.zeros(shape, bool)
    small[10:14, 10:14, 10:14] = True
    body = np.zeros(shape, bool)
    body[4:20, 4:20, 4:20] = True
    sigma = fwhm_mm / (2 * math.sqrt(2 * math.log(2))) / spacing
    truth = np.where(small, 1e6, np.where(body, 1e4, 0.0))
    blurred = ndimage.gaussian_filter(truth, sigma, mode="constant", truncate=4.0)
    maps = [
        Volume.from_spacing(
            blurred * np.exp(-1e-5 * h * 3600),
            spacing_mm=(spacing,) * 3,
            quantity=VoxelQuantity.ACTIVITY_BQ,
            acquisition_time=injection + timedelta(hours=h),
        )
        for h in (4.0, 24.0, 96.0, 168.0)
    ]
    results = {}
    for name in ("adrenal", "lesion_1"):
        masks = {
            name: Volume.from_spacing(
                small, spacing_mm=(spacing,) * 3, quantity=VoxelQuantity.MASK
            ),
            "body": Volume.from_spacing(
                body, spacing_mm=(spacing,) * 3, quantity=VoxelQuantity.MASK
            ),
        }
        results[name] = compute_voxel_tia(
            maps, injection_time=injection, nuclide="Lu-177", masks=masks, psf_fwhm_mm=fwhm_mm
        )
    rc = results["adrenal"].recovery_coefficients["adrenal"]
    assert 0.25 <= rc < 1 / 1.5
    assert results["adrenal"].recovery_coefficients["body"] > 1 / 1.5
    assert [w for w in results["adrenal"].warnings if "recovery (GTM)" in w] == [
        f"recovery (GTM) correction multiplies the activity of adrenal by about {1 / rc:.2f} "
        f"(recovery coefficient {rc:.2f} < 0.67); check the PSF FWHM and the VOI"
    ]
    assert not any("recovery (GTM)" in w for w in results["lesion_1"].warnings)
    assert (is_organ_region("adrenal"), is_organ_region("lesion_1")) == (True, False)
