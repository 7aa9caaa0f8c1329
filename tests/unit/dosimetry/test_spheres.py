"""Unit tests of prrt.dosimetry.spheres."""

from __future__ import annotations

import math

import pytest

from prrt.dosimetry.spheres import SPHERE_COMPOSITIONS, sphere_s_value_gy_per_bq_s, sphere_table
from prrt.errors import ExtrapolationWarning, InvalidInputError


def test_five_compositions_of_fifteen_spheres() -> None:
    for name in SPHERE_COMPOSITIONS:
        table = sphere_table(name)
        assert table.masses_kg.size == 15
        assert all(table.masses_kg[1:] > table.masses_kg[:-1])


def test_sphere_mass_matches_density_and_radius() -> None:
    """§2.5: mass = ρ·4/3·π·r³ (soft tissue 1.03 g/cm³, r = 1 cm → 4.31 g), 0.2 %."""
    table = sphere_table("soft_tissue")
    assert table.masses_kg[8] * 1e3 == pytest.approx(1.03 * 4 / 3 * math.pi, rel=2e-3)


def test_interpolation_is_linear_in_log_log() -> None:
    """Analytic: at the geometric mean of two table masses S is the geometric mean of their S."""
    t = sphere_table("soft_tissue")
    m = math.sqrt(t.masses_kg[3] * t.masses_kg[4])
    expected = math.sqrt(t.s_values_gy_per_bq_s[3] * t.s_values_gy_per_bq_s[4])
    assert sphere_s_value_gy_per_bq_s(mass_kg=m) == pytest.approx(expected, rel=1e-12)


def test_bone_sphere_has_lower_s_than_soft_tissue_of_same_radius() -> None:
    """Same radius, denser sphere: more mass, lower S (table 100 % bone at 1 cm: 2.98e-12)."""
    assert sphere_s_value_gy_per_bq_s(mass_kg=8.04e-3, composition="cortical_bone") == (
        pytest.approx(2.98e-12, rel=1e-3)
    )


def test_below_smallest_sphere_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^mass_kg: .*at least 0.00431 g"):
        sphere_s_value_gy_per_bq_s(mass_kg=1e-6)


@pytest.mark.parametrize("mass", [0.0, -1.0, float("nan")])
def test_zero_mass_refused(mass: float) -> None:
    with pytest.raises(InvalidInputError, match=r"^mass_kg"):
        sphere_s_value_gy_per_bq_s(mass_kg=mass)


def test_above_largest_sphere_extrapolates_s_times_m_constant() -> None:
    """§2.5: S·m nearly constant for large spheres; 1864 g → half the 932 g value."""
    with pytest.warns(ExtrapolationWarning, match=r"largest tabulated sphere"):
        s = sphere_s_value_gy_per_bq_s(mass_kg=1.864)
    assert s == pytest.approx(2.65e-14 / 2, rel=1e-9)


def test_unknown_composition_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^composition"):
        sphere_s_value_gy_per_bq_s(mass_kg=0.01, composition="lung")
