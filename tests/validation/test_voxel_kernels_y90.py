"""90Y voxel kernels and dose point kernel against dosimetry-reference.md §3.6.

Reference values are quoted from /work/shared/docs/dosimetry-reference.md (table named
at each constant); tolerances are those of the voxel-dosimetry issue's acceptance text
where it gives one.  S values in mGy/(MBq·s) = 1e-9 Gy/(Bq·s).
"""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.dpk_tables import dose_point_kernel
from prrt.dosimetry.voxel.kernels import voxel_kernel

pytestmark = pytest.mark.validation

MGY_PER_MBQ_S = 1e-9

# Table 3.6-E, published (Lanconelli-format, soft tissue): L: (S000, S001, S011, sum 11³)
PUBLISHED = {
    3.0: (1.59, 0.275, 0.0950, 5.330),
    4.0: (0.858, 0.129, 0.0362, 2.252),
    4.42: (0.689, 0.0973, 0.0248, 1.670),
    5.0: (0.522, 0.0675, 0.0151, 1.153),
    6.0: (0.342, 0.0380, 0.00686, 0.666),
}


@pytest.mark.parametrize(("spacing_mm", "published"), sorted(PUBLISHED.items()))
def test_voxel_s_values_against_published_table_3_6_e(
    spacing_mm: float, published: tuple[float, float, float, float]
) -> None:
    k = voxel_kernel(nuclide="Y-90", spacing_mm=spacing_mm)
    s000, s001, s011, total = published
    # Acceptance: centre within 3 %, face neighbour within 5 %.
    assert k.centre_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(s000, rel=0.03)
    assert k.value_at((0, 0, 1)) / MGY_PER_MBQ_S == pytest.approx(s001, rel=0.05)
    # Not in the acceptance: edge neighbour within 8 %, 11³ sum within 2 % (the published
    # sums equal local deposition within 0.3 %, §3.6.6).
    assert k.value_at((0, 1, 1)) / MGY_PER_MBQ_S == pytest.approx(s011, rel=0.08)
    assert k.kernel_sum_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(total, rel=0.02)


@pytest.mark.parametrize(("spacing_mm", "reference"), [(3.0, 1.61), (6.0, 0.346)])
def test_centre_voxel_against_mird_pamphlet_17(spacing_mm: float, reference: float) -> None:
    # §3.6.6: MIRD Pamphlet 17 S000 1.61 (3 mm) and 0.346 (6 mm) [V, as transcribed in
    # Mikell's tests]; 3 % as for the published tables.
    k = voxel_kernel(nuclide="Y-90", spacing_mm=spacing_mm)
    assert k.centre_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(reference, rel=0.03)


def test_anisotropic_voxel_against_reference_3_6_5() -> None:
    # §3.6.5: 4 × 4 × 3 mm, water (Graves kernel): the source voxel keeps 0.3375 of the
    # energy, a z-neighbour gets 0.0681, an x-neighbour 0.0488; S000 = 1.048 mGy/(MBq·s)
    # (Dose Planning Method 1.013).  Tolerances: 3 % centre, 5 % neighbours.
    k = voxel_kernel(nuclide="Y-90", spacing_mm=(4.0, 4.0, 3.0), density_g_per_ml=1.0)
    share = k.voxel_mass_kg / k.energy_per_decay_j
    assert k.value_at((0, 0, 0)) * share == pytest.approx(0.3375, rel=0.03)
    assert k.value_at((0, 0, 1)) * share == pytest.approx(0.0681, rel=0.05)
    assert k.value_at((1, 0, 0)) * share == pytest.approx(0.0488, rel=0.05)
    assert k.value_at((0, 1, 0)) * share == pytest.approx(0.0488, rel=0.05)
    assert k.centre_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(1.048, rel=0.03)


@pytest.mark.parametrize(("density", "reference"), [(1.0, 0.400), (1.05, 0.416)])
def test_density_scaled_self_fraction_against_reference_3_6_5(
    density: float, reference: float
) -> None:
    # §3.6.5: a 4.42 mm voxel keeps 0.400 at ρ = 1 and 0.416 at ρ = 1.05 (Slicer module
    # tests: ± 0.01).
    k = voxel_kernel(nuclide="Y-90", spacing_mm=4.42, density_g_per_ml=density)
    share = k.centre_gy_per_bq_s * k.voxel_mass_kg / k.energy_per_decay_j
    assert share == pytest.approx(reference, abs=0.01)


# Table 3.6-B: Graves et al. 2019 90Y beta DPK in water: outer shell radius (mm):
# (D in MeV/g per decay for the 0.1 mm shell ending there, fraction of 0.9336 MeV within r)
GRAVES = {
    0.5: (81.74, 0.110),
    1.0: (18.09, 0.221),
    2.0: (3.860, 0.430),
    3.0: (1.411, 0.610),
    4.0: (0.6131, 0.755),
    5.0: (0.2719, 0.863),
    6.0: (0.1145, 0.933),
    7.0: (0.04197, 0.971),
    8.0: (0.01262, 0.989),
    9.0: (0.002669, 0.995),
}


def test_beta_point_kernel_against_graves_table_3_6_b() -> None:
    dpk = dose_point_kernel(nuclide="Y-90", emission_class="beta")
    edges = np.concatenate(([0.0], dpk.r_outer_mm))
    cum = np.concatenate(([0.0], np.cumsum(dpk.energy_mev)))
    for r_mm, (dose, fraction) in GRAVES.items():
        inner = r_mm - 0.1
        energy = np.interp(r_mm, edges, cum) - np.interp(inner, edges, cum)
        mass_g = 4.0 / 3.0 * np.pi * (r_mm**3 - inner**3) * 1e-3
        # Fractions of the Graves normalisation 0.9336 MeV: ± 0.02 absolute.
        assert np.interp(r_mm, edges, cum) / 0.9336 == pytest.approx(fraction, abs=0.02), r_mm
        # Shell dose: 4 % out to 3 mm; at 4–7 mm prrt's transport is known to be 4–7 %
        # low (data/README.md; §3.6.4 c reports 6–9 % low at 5–8 mm for its transport),
        # 9 % there; 15 % in the last 2 mm of the range (0.1 % of the energy).
        tolerance = 0.04 if r_mm <= 3.0 else 0.09 if r_mm <= 7.0 else 0.15
        assert energy / mass_g == pytest.approx(dose, rel=tolerance), r_mm


def test_x90_against_graves_table_3_6_b() -> None:
    # §3.6.2: X50 = 2.37 mm, X90 = 5.47 mm in water (Graves file).
    dpk = dose_point_kernel(nuclide="Y-90", emission_class="beta")
    edges = np.concatenate(([0.0], dpk.r_outer_mm))
    cum = np.concatenate(([0.0], np.cumsum(dpk.energy_mev))) / 0.9336
    assert np.interp(0.9, cum, edges) == pytest.approx(5.47, rel=0.02)
    assert np.interp(0.5, cum, edges) == pytest.approx(2.37, rel=0.03)
