"""Tests of prrt.dosimetry.voxel.led (local energy deposition, dosimetry-reference §3.4)."""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.led import local_energy_deposition
from prrt.errors import InvalidInputError
from prrt.units import J_PER_MEV

# ICRP-107 mean electron energy per Lu-177 decay (dosimetry-reference §2.2 sanity check).
DELTA_E_LU177_J = 0.14792 * J_PER_MEV


def test_lu177_one_mbq_h_in_one_gram_against_org09() -> None:
    """ORG-09: 1 MBq·h of Lu-177 in 1 g deposits 0.0853 Gy."""
    dose = local_energy_deposition(
        np.full((1, 1, 1), 3600e6),
        energy_per_decay_j=DELTA_E_LU177_J,
        voxel_volume_ml=1.0,
        density_g_per_ml=1.0,
    )
    assert float(dose[0, 0, 0]) == pytest.approx(0.0853, abs=5e-5)


def test_total_deposited_energy_is_conserved() -> None:
    """Σ D·m = Δ·Σ Ã exactly (within 1e-12) over a heterogeneous phantom without air."""
    rng = np.random.default_rng(2)
    tia = rng.random((6, 7, 8)) * 1e10
    density = rng.uniform(0.3, 1.9, (6, 7, 8))
    dose = local_energy_deposition(
        tia, energy_per_decay_j=DELTA_E_LU177_J, voxel_volume_ml=0.0864, density_g_per_ml=density
    )
    energy_j = float(np.sum(dose * density * 0.0864e-3))
    assert energy_j == pytest.approx(DELTA_E_LU177_J * tia.sum(), rel=1e-12)


def test_air_gets_zero_dose_not_infinity() -> None:
    """Below 0.1 g/mL (air 0.0012 g/mL) the dose is 0 and finite; tissue keeps Δ·Ã/m."""
    density = np.array([[[0.0012, 0.0, 1.04]]])
    dose = local_energy_deposition(
        np.full((1, 1, 3), 1e9),
        energy_per_decay_j=DELTA_E_LU177_J,
        voxel_volume_ml=1.0,
        density_g_per_ml=density,
    )
    assert np.all(np.isfinite(dose))
    assert dose[0, 0, :2].tolist() == [0.0, 0.0]
    assert dose[0, 0, 2] == pytest.approx(1e9 * DELTA_E_LU177_J / 1.04e-3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"energy_per_decay_j": 0.0}, "energy_per_decay_j"),
        ({"voxel_volume_ml": -1.0}, "voxel_volume_ml"),
        ({"density_g_per_ml": np.ones((2, 2, 2))}, "density_g_per_ml"),
        ({"density_g_per_ml": -1.0}, "density_g_per_ml"),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, object], field: str) -> None:
    """Zero energy, negative volume, a density map of another shape or a negative density."""
    arguments: dict[str, object] = {
        "energy_per_decay_j": DELTA_E_LU177_J,
        "voxel_volume_ml": 1.0,
        "density_g_per_ml": 1.0,
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidInputError, match=field):
        local_energy_deposition(np.ones((1, 1, 1)), **arguments)  # type: ignore[arg-type]


def test_nan_tia_is_refused() -> None:
    """NaN in the TIA map names the map."""
    with pytest.raises(InvalidInputError, match="tia"):
        local_energy_deposition(
            np.full((1, 1, 1), np.nan),
            energy_per_decay_j=1e-14,
            voxel_volume_ml=1.0,
            density_g_per_ml=1.0,
        )
