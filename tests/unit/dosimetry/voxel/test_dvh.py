"""Tests of prrt.dosimetry.voxel.dvh (VOI statistics, D2/D50/D98 per ICRU 83)."""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.dvh import cumulative_dvh, dose_at_volume_percent, voi_statistics
from prrt.errors import InvalidInputError


def test_dx_of_one_to_hundred() -> None:
    """Doses 1..100 Gy: the hottest 2 % (2 voxels) get ≥ 99, half ≥ 51, 98 % ≥ 3 (analytic)."""
    doses = np.arange(1.0, 101.0)
    assert dose_at_volume_percent(doses, 2.0) == 99.0
    assert dose_at_volume_percent(doses, 50.0) == 51.0
    assert dose_at_volume_percent(doses, 98.0) == 3.0
    assert dose_at_volume_percent(doses, 100.0) == 1.0


def test_voi_statistics_of_a_ramp() -> None:
    """Mean, min, max, D2/D50/D98, volume, mass and TIA of a 100-voxel ramp."""
    dose = np.arange(1.0, 101.0).reshape(4, 5, 5)
    mask = np.ones_like(dose, dtype=bool)
    stats = voi_statistics(
        dose,
        mask,
        name="kidneys",
        voxel_volume_ml=0.5,
        density_g_per_ml=1.05,
        tia_bq_s=np.ones_like(dose),
    )
    assert (stats.n_voxels, stats.volume_ml) == (100, 50.0)
    assert stats.mass_kg == pytest.approx(0.0525)
    assert (stats.mean_gy, stats.min_gy, stats.max_gy) == (50.5, 1.0, 100.0)
    assert (stats.d2_gy, stats.d50_gy, stats.d98_gy) == (99.0, 51.0, 3.0)
    assert stats.tia_bq_s == 100.0
    assert stats.to_dict()["d98_gy"] == 3.0


def test_cumulative_dvh_is_monotone_and_starts_at_one() -> None:
    """A cumulative DVH starts at 100 % volume and never increases."""
    rng = np.random.default_rng(4)
    dose = rng.gamma(2.0, 1.0, (10, 10, 10))
    dvh = cumulative_dvh(dose, dose > 0.5, name="liver", n_bins=50)
    assert dvh.volume_fraction[0] == 1.0
    assert np.all(np.diff(dvh.volume_fraction) <= 0)
    assert dvh.dose_gy[-1] == pytest.approx(dose[dose > 0.5].max())


def test_empty_voi_is_refused() -> None:
    """An empty mask names the VOI."""
    with pytest.raises(InvalidInputError, match=r"mask\[tumour_1\]: got 'an empty VOI"):
        voi_statistics(
            np.ones((2, 2, 2)), np.zeros((2, 2, 2), bool), name="tumour_1", voxel_volume_ml=1.0
        )


def test_mask_of_another_shape_is_refused() -> None:
    """A mask outside the dose grid is refused."""
    with pytest.raises(InvalidInputError, match=r"mask\[liver\]: got 'shape"):
        voi_statistics(
            np.ones((2, 2, 2)), np.ones((2, 2, 3), bool), name="liver", voxel_volume_ml=1.0
        )


def test_nan_dose_and_bad_percent_are_refused() -> None:
    """NaN doses inside the VOI and a volume percentage outside (0, 100] are refused."""
    dose = np.ones((2, 2, 2))
    dose[0, 0, 0] = np.nan
    with pytest.raises(InvalidInputError, match="dose_gy"):
        voi_statistics(dose, np.ones((2, 2, 2), bool), name="x", voxel_volume_ml=1.0)
    with pytest.raises(InvalidInputError, match="percent"):
        dose_at_volume_percent(np.ones(3), 0.0)
