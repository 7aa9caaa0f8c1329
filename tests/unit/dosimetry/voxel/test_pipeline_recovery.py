"""Tests of prrt.dosimetry.voxel.recovery (geometric transfer matrix, Rousset et al. 1998)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from prrt.dosimetry.voxel.recovery import UNASSIGNED_REGION, geometric_transfer_matrix, partition
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
        geometric_transfer_matrix([("a", a), ("b", b)], spacing_mm=(1, 1, 1), psf_fwhm_mm=2.0)
