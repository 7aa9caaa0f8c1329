"""Tests of prrt.dosimetry.voxel.density (post-convolution ρ rescaling, dosimetry-reference §3.5)."""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.density import check_density, density_correct, tissue_mask
from prrt.errors import InvalidInputError


def test_bone_rescaling_against_vox05() -> None:
    """VOX-05: 10 mGy with a ρ = 1.04 kernel in a ρ = 1.92 voxel → 5.42 mGy."""
    out = density_correct(
        np.array([0.010]), density_g_per_ml=np.array([1.92]), kernel_density_g_per_ml=1.04
    )
    assert float(out[0]) * 1e3 == pytest.approx(5.42, abs=0.005)


def test_stays_finite_in_air_and_lung() -> None:
    """Air (0.0012) and vacuum get 0, inflated lung (0.26) gets 1.04/0.26 = 4× the kernel dose."""
    dose = np.full(4, 1.0)
    density = np.array([0.0, 0.0012, 0.26, 1.04])
    out = density_correct(dose, density_g_per_ml=density, kernel_density_g_per_ml=1.04)
    assert np.all(np.isfinite(out))
    assert out.tolist() == pytest.approx([0.0, 0.0, 4.0, 1.0])


def test_tissue_mask_threshold() -> None:
    """The default threshold 0.1 g/mL separates air from lung."""
    assert tissue_mask(np.array([0.05, 0.1, 0.2])).tolist() == [False, True, True]
    assert tissue_mask(np.array([0.05, 0.1, 0.2]), min_density_g_per_ml=0.15).tolist() == [
        False,
        False,
        True,
    ]


def test_bad_density_is_refused() -> None:
    """A density map of another shape, NaN, negative or > 5 g/mL, or a zero kernel density."""
    with pytest.raises(InvalidInputError, match="density_g_per_ml: got 'shape"):
        density_correct(np.ones(3), density_g_per_ml=np.ones(4), kernel_density_g_per_ml=1.04)
    with pytest.raises(InvalidInputError, match="NaN"):
        check_density(np.array([np.nan]), shape=(1,))
    with pytest.raises(InvalidInputError, match="max 7"):
        check_density(np.array([7.0]), shape=(1,))
    with pytest.raises(InvalidInputError, match="kernel_density_g_per_ml"):
        density_correct(np.ones(1), density_g_per_ml=1.0, kernel_density_g_per_ml=0.0)
