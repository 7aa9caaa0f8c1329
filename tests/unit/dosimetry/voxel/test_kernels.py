"""Unit tests of prrt.dosimetry.voxel.kernels (input checks, symmetry, scaling, bookkeeping)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from prrt.dosimetry.voxel.dpk_tables import dose_point_kernel
from prrt.dosimetry.voxel.kernels import (
    EmissionSet,
    VoxelKernel,
    half_width_from_shape,
    voxel_kernel,
)
from prrt.errors import InvalidInputError
from prrt.physics.nuclides import get_nuclide
from prrt.units import J_PER_MEV

# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"nuclide": "Xx-999", "spacing_mm": 4.0}, "nuclide"),
        ({"nuclide": "Tc-99m", "spacing_mm": 4.0}, "nuclide"),
        ({"nuclide": "Lu-177", "spacing_mm": 0.0}, "spacing_mm"),
        ({"nuclide": "Lu-177", "spacing_mm": -4.42}, "spacing_mm"),
        ({"nuclide": "Lu-177", "spacing_mm": (4.0, 4.0)}, "spacing_mm"),
        ({"nuclide": "Lu-177", "spacing_mm": (4.0, float("nan"), 4.0)}, "spacing_mm"),
        ({"nuclide": "Lu-177", "spacing_mm": "4 mm"}, "spacing_mm"),
        ({"nuclide": "Lu-177", "spacing_mm": 400.0}, "spacing_mm"),
        ({"nuclide": "Lu-177", "spacing_mm": True}, "spacing_mm"),
        ({"nuclide": "Lu-177", "spacing_mm": 4.0, "half_width_voxels": 0}, "half_width_voxels"),
        ({"nuclide": "Lu-177", "spacing_mm": 4.0, "half_width_voxels": 2.5}, "half_width_voxels"),
        (
            {"nuclide": "Lu-177", "spacing_mm": 4.0, "half_width_voxels": (5, 5)},
            "half_width_voxels",
        ),
        ({"nuclide": "Lu-177", "spacing_mm": 4.0, "emission_set": "betas"}, "emission_set"),
        ({"nuclide": "Lu-177", "spacing_mm": 4.0, "density_g_per_ml": 0.0}, "density_g_per_ml"),
        ({"nuclide": "Lu-177", "spacing_mm": 4.0, "density_g_per_ml": -1.04}, "density_g_per_ml"),
    ],
)
def test_bad_input_is_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        voxel_kernel(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("shape", [(10, 11, 11), (1, 1, 1), (11, 11), (11, 11, 11.0), "11"])
def test_even_or_too_small_kernel_shape_is_refused(shape: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        half_width_from_shape(shape)
    assert info.value.field == "kernel_shape"


def test_odd_shape_gives_half_widths() -> None:
    assert half_width_from_shape((51, 11, 3)) == (25, 5, 1)


# ---------------------------------------------------------------- structure


def test_kernel_shape_centre_and_name_spellings() -> None:
    k = voxel_kernel(nuclide="177Lu", spacing_mm=4.0, half_width_voxels=(5, 4, 3))
    assert k.nuclide == "Lu-177"
    assert k.values_gy_per_bq_s.shape == (11, 9, 7)
    assert k.half_width_voxels == (5, 4, 3)
    # The source voxel holds the largest value.
    assert np.unravel_index(np.argmax(k.values_gy_per_bq_s), (11, 9, 7)) == (5, 4, 3)
    assert k.centre_gy_per_bq_s == k.value_at((0, 0, 0))


def test_kernel_is_cached_and_read_only() -> None:
    a = voxel_kernel(nuclide="Lu-177", spacing_mm=4.0)
    b = voxel_kernel(nuclide="lu177", spacing_mm=(4.0, 4.0, 4.0))
    assert a is b
    with pytest.raises(ValueError):
        a.values_gy_per_bq_s[0, 0, 0] = 1.0


def test_cubic_kernel_has_the_48_cube_symmetries() -> None:
    v = voxel_kernel(nuclide="Y-90", spacing_mm=4.0).values_gy_per_bq_s
    for axes in [(1, 0, 2), (2, 1, 0), (0, 2, 1), (1, 2, 0)]:
        np.testing.assert_allclose(v, np.transpose(v, axes), rtol=1e-12)
    for axis in range(3):
        np.testing.assert_allclose(v, np.flip(v, axis=axis), rtol=1e-12)


def test_anisotropic_kernel_mirror_symmetry_and_short_axis() -> None:
    k = voxel_kernel(nuclide="Y-90", spacing_mm=(4.0, 4.0, 3.0))
    v = k.values_gy_per_bq_s
    for axis in range(3):
        np.testing.assert_allclose(v, np.flip(v, axis=axis), rtol=1e-12)
    # Equal x and y sizes: x and y neighbours are equal; the 3 mm z-neighbour is
    # closer, so it receives more.
    assert k.value_at((1, 0, 0)) == pytest.approx(k.value_at((0, 1, 0)), rel=1e-12)
    assert k.value_at((0, 0, 1)) > 1.2 * k.value_at((1, 0, 0))


def test_values_fall_off_along_an_axis() -> None:
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=3.0)
    axis = [k.value_at((0, 0, i)) for i in range(6)]
    assert all(a > b for a, b in itertools.pairwise(axis))


# ---------------------------------------------------------------- physics identities


def test_density_scaling_rule() -> None:
    # S_rho(n; L) = rho^2 S_1(n; rho L)  (dosimetry-reference.md §3.6.1)
    rho = 1.04
    tissue = voxel_kernel(nuclide="Lu-177", spacing_mm=4.0, density_g_per_ml=rho)
    water = voxel_kernel(nuclide="Lu-177", spacing_mm=4.0 * rho, density_g_per_ml=1.0)
    np.testing.assert_allclose(
        tissue.values_gy_per_bq_s, rho**2 * water.values_gy_per_bq_s, rtol=1e-9
    )


def test_electron_energy_is_conserved_by_the_voxel_integration() -> None:
    # All 177Lu electrons stop within 3 mm, well inside an 11³ kernel of 2.21 mm
    # voxels, and the trilinear weights of every sample sum to one: the kernel
    # must hold exactly the energy the point kernels hold.
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=2.21, emission_set=EmissionSet.ELECTRONS_ONLY)
    in_tables = sum(
        float(dose_point_kernel(nuclide="Lu-177", emission_class=c).energy_mev.sum())
        for c in ("beta", "electron")
    )
    absorbed_mev = k.kernel_sum_gy_per_bq_s * k.voxel_mass_kg / J_PER_MEV
    assert absorbed_mev == pytest.approx(in_tables, rel=1e-9)


def test_absorbed_fraction_definition() -> None:
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=4.42)
    expected = k.kernel_sum_gy_per_bq_s * k.voxel_mass_kg / k.energy_per_decay_j
    assert k.absorbed_energy_fraction == pytest.approx(expected, rel=1e-12)
    # Mass of a 4.42 mm voxel at 1.04 g/mL: 4.42³ mm³ = 0.086350 mL → 8.9804e-5 kg.
    assert k.voxel_mass_kg == pytest.approx(1.04 * 4.42**3 * 1e-6, rel=1e-12)


@pytest.mark.parametrize(
    ("emission_set", "expected_mev"),
    [
        # ICRP-107 sums of dosimetry-reference.md §1.2: electrons 0.14792, photons 0.03510,
        # betas 0.13327 MeV per decay.
        (EmissionSet.COMPLETE, 0.14792 + 0.03510),
        (EmissionSet.BETAS_PHOTONS, 0.13327 + 0.03510),
        (EmissionSet.ELECTRONS_ONLY, 0.14792),
        (EmissionSet.PHOTONS_ONLY, 0.03510),
    ],
)
def test_energy_per_decay_of_each_emission_set(
    emission_set: EmissionSet, expected_mev: float
) -> None:
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=4.42, emission_set=emission_set)
    assert k.energy_per_decay_j / J_PER_MEV == pytest.approx(expected_mev, rel=2e-4)


def test_complete_energy_matches_the_physics_nuclide_table() -> None:
    for name in ("Lu-177", "Y-90"):
        emissions = get_nuclide(name).emissions
        k = voxel_kernel(nuclide=name, spacing_mm=4.42)
        expected = (emissions.electron_mev + emissions.photon_mev) * J_PER_MEV
        assert k.energy_per_decay_j == pytest.approx(expected, rel=1e-3)


def test_provenance_records_emission_set_and_energy() -> None:
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=4.42, emission_set="betas+photons")  # type: ignore[arg-type]
    p = k.provenance()
    assert p["emission_set"] == "betas+photons"
    assert p["emissions_included"] == ["beta", "photon"]
    assert p["energy_per_decay_mev"] == pytest.approx(0.13327 + 0.03510, rel=2e-4)
    assert p["spacing_mm"] == [4.42, 4.42, 4.42]
    assert p["density_g_per_ml"] == 1.04
    assert p["kernel_sum_gy_per_bq_s"] == pytest.approx(k.kernel_sum_gy_per_bq_s)
    assert "ICRP" in str(p["decay_data"])
    assert isinstance(k, VoxelKernel)


def test_value_at_outside_the_kernel_is_refused() -> None:
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=4.42)
    with pytest.raises(InvalidInputError) as info:
        k.value_at((6, 0, 0))
    assert info.value.field == "offset"
