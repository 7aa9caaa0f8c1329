"""177Lu voxel kernels and dose point kernels against dosimetry-reference.md §3.2, §3.3 and §3.6.

Reference values are quoted from /work/shared/docs/dosimetry-reference.md (section and
table named at each constant) with the tolerance of the voxel-dosimetry issue's
acceptance text where it gives one.  S values in mGy/(MBq·s) = 1e-9 Gy/(Bq·s).
"""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.dpk_tables import DosePointKernel, dose_point_kernel
from prrt.dosimetry.voxel.kernels import EmissionSet, voxel_kernel
from prrt.units import J_PER_MEV

pytestmark = pytest.mark.validation

MGY_PER_MBQ_S = 1e-9  # Gy/(Bq·s) per mGy/(MBq·s)
SOFT_TISSUE = 1.04  # g/mL, §3.6.1
LU177_ELECTRON_MEV = 0.14792  # ICRP-107 electrons per decay, §1.2

# §3.6.8, "S000 all emissions" (computed in the reference from its own 177Lu DPK + photon kernel)
COMPLETE_S000 = {2.21: 1.804, 3.0: 0.752, 4.0: 0.327, 4.42: 0.2442, 6.0: 0.0998}

# §3.6.7, photon sum in 11³ (mGy/(MBq·s)) — the absorbed photon share inside the kernel
PHOTON_SUM_11 = {2.21: 0.0280, 4.42: 0.0068, 6.0: 0.0037}

# §3.2 (VOX-01/02) and Table 3.6-F: published (Lanconelli-format) soft-tissue 177Lu VSVs:
# L: (S000, S001, sum over 11³)
PUBLISHED = {
    2.21: (1.66, 4.83e-2, 2.0001),
    3.0: (0.693, 0.0151, 0.8016),
    4.0: (0.302, 4.98e-3, 0.3401),
    4.42: (0.226, 3.39e-3, 0.25275),
    5.0: (0.158, 2.11e-3, 0.1755),
    6.0: (0.0925, 1.04e-3, 0.1020),
    9.28: (0.0256, 1.98e-4, 0.0281),
}


@pytest.mark.parametrize(("spacing_mm", "reference"), sorted(COMPLETE_S000.items()))
def test_centre_voxel_against_complete_emission_values_of_reference_3_6_8(
    spacing_mm: float, reference: float
) -> None:
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=spacing_mm)
    assert k.centre_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(reference, rel=0.05)


@pytest.mark.parametrize(("spacing_mm", "photon_sum"), sorted(PHOTON_SUM_11.items()))
def test_kernel_sum_against_electron_energy_plus_absorbed_photons(
    spacing_mm: float, photon_sum: float
) -> None:
    # Acceptance: kernel sum within 2 % of Δ_e/(ρV) plus the absorbed photon share (§3.6.8:
    # "a complete kernel's 11³ sum is 2.137, about 1 % above Δ_e/(ρV) = 2.1112").
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=spacing_mm)
    electron_gy_per_bq_s = LU177_ELECTRON_MEV * J_PER_MEV / k.voxel_mass_kg
    expected = electron_gy_per_bq_s + photon_sum * MGY_PER_MBQ_S
    assert k.kernel_sum_gy_per_bq_s == pytest.approx(expected, rel=0.02)


def test_led_equivalent_at_2_21_mm_against_reference_3_6_8() -> None:
    # §3.6.8: Δ_e/(ρV) = 2.1112 mGy/(MBq·s) at 2.21 mm; complete 11³ sum 2.137.
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=2.21)
    assert LU177_ELECTRON_MEV * J_PER_MEV / k.voxel_mass_kg / MGY_PER_MBQ_S == pytest.approx(
        2.1112, rel=1e-3
    )
    assert k.kernel_sum_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(2.137, rel=0.02)


@pytest.mark.parametrize(("spacing_mm", "published"), sorted(PUBLISHED.items()))
def test_betas_photons_variant_against_published_voxel_s_values(
    spacing_mm: float, published: tuple[float, float, float]
) -> None:
    # Acceptance: "betas + photons" within 5 % of §3.2 / Table 3.6-F in the centre and the sum.
    k = voxel_kernel(
        nuclide="Lu-177", spacing_mm=spacing_mm, emission_set=EmissionSet.BETAS_PHOTONS
    )
    s000, s001, total = published
    assert k.centre_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(s000, rel=0.05)
    assert k.kernel_sum_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(total, rel=0.05)
    # Face neighbour: §3.6.8 expects this variant about 5 % low; allow 8 %.
    assert k.value_at((0, 0, 1)) / MGY_PER_MBQ_S == pytest.approx(s001, rel=0.08)


@pytest.mark.parametrize("spacing_mm", [2.21, 4.42])
def test_complete_kernel_is_above_published_tables_as_reference_3_6_8_finds(
    spacing_mm: float,
) -> None:
    # §3.6.8: complete-emission kernels are about 8 % above VOX-01/02 in the centre voxel.
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=spacing_mm)
    ratio = k.centre_gy_per_bq_s / MGY_PER_MBQ_S / PUBLISHED[spacing_mm][0]
    assert ratio == pytest.approx(1.085, abs=0.03)


# §3.6.7: photon-only VSVs (ρ = 1.04); L: (S000, S001, S011, S111, S002)
PHOTON_ONLY = {
    2.21: (3.48e-3, 5.2e-4, 1.97e-4, 1.14e-4, 7.81e-5),
    4.42: (7.2e-4, 1.03e-4, 4.21e-5, 2.61e-5, 1.88e-5),
    6.0: (3.6e-4, 5.2e-5, 2.24e-5, 1.43e-5, 1.04e-5),
}


@pytest.mark.parametrize(("spacing_mm", "reference"), sorted(PHOTON_ONLY.items()))
def test_photon_only_kernel_against_reference_3_6_7(
    spacing_mm: float, reference: tuple[float, ...]
) -> None:
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=spacing_mm, emission_set=EmissionSet.PHOTONS_ONLY)
    offsets = [(0, 0, 1), (0, 1, 1), (1, 1, 1), (0, 0, 2)]
    for offset, ref in zip(offsets, reference[1:], strict=True):
        assert k.value_at(offset) / MGY_PER_MBQ_S == pytest.approx(ref, rel=0.05), offset
    # The centre depends on where the low-energy X-rays deposit (a few tenths of a mm);
    # it is 0.2 % of the complete centre value.  15 % tolerance.
    assert k.centre_gy_per_bq_s / MGY_PER_MBQ_S == pytest.approx(reference[0], rel=0.15)


def test_photon_point_kernel_against_reference_3_6_7() -> None:
    # §3.6.7: 3.9 % of the photon energy absorbed within 10 mm, 18 % within 50 mm,
    # 37 % within 100 mm; r²·D = 8.9e-5 (10 mm), 1.06e-4 (50 mm), 1.03e-4 (100 mm) MeV·cm²/g.
    dpk = dose_point_kernel(nuclide="Lu-177", emission_class="photon")
    assert dpk.fraction_within(10.0) == pytest.approx(0.039, abs=0.004)
    assert dpk.fraction_within(50.0) == pytest.approx(0.18, abs=0.01)
    assert dpk.fraction_within(100.0) == pytest.approx(0.37, abs=0.015)
    for r_mm, ref in ((10.0, 8.9e-5), (50.0, 1.06e-4), (100.0, 1.03e-4)):
        assert _r2_dose(dpk, r_mm) == pytest.approx(ref, rel=0.07), r_mm


def _r2_dose(dpk: DosePointKernel, r_mm: float) -> float:
    """r²·D(r) in MeV·cm²/g from shells within ±10 % of r (energy / (4π r² dr))."""
    sel = (dpk.r_inner_mm >= 0.9 * r_mm) & (dpk.r_outer_mm <= 1.1 * r_mm)
    width_cm = (dpk.r_outer_mm[sel][-1] - dpk.r_inner_mm[sel][0]) / 10.0
    return float(dpk.energy_mev[sel].sum() / (4.0 * np.pi * width_cm))


# Table 3.6-C: fraction of the 0.14792 MeV electron energy within r (all electrons)
ELECTRON_FRACTIONS = {
    0.1: 0.35,
    0.2: 0.55,
    0.3: 0.69,
    0.4: 0.78,
    0.5: 0.86,
    0.6: 0.91,
    0.8: 0.97,
    1.0: 0.99,
    1.2: 0.997,
    1.5: 0.999,
}


def _all_electrons_cumulative() -> tuple[np.ndarray, np.ndarray]:
    beta = dose_point_kernel(nuclide="Lu-177", emission_class="beta")
    lines = dose_point_kernel(nuclide="Lu-177", emission_class="electron")
    energy = beta.energy_mev.copy()
    energy[: lines.energy_mev.size] += lines.energy_mev
    edges = np.concatenate(([0.0], beta.r_outer_mm))
    return edges, np.concatenate(([0.0], np.cumsum(energy)))


def test_electron_energy_fractions_against_table_3_6_c() -> None:
    edges, cum = _all_electrons_cumulative()
    for r_mm, ref in ELECTRON_FRACTIONS.items():
        assert np.interp(r_mm, edges, cum) / LU177_ELECTRON_MEV == pytest.approx(ref, abs=0.015), (
            r_mm
        )


def test_x90_and_x50_against_reference_3_6_2() -> None:
    # §3.6.2: betas X90 0.61 mm, X50 0.20 mm; all electrons X90 0.58 mm, X50 0.17 mm.
    beta = dose_point_kernel(nuclide="Lu-177", emission_class="beta")
    assert beta.radius_containing_mm(0.9) == pytest.approx(0.61, abs=0.02)
    assert beta.radius_containing_mm(0.5) == pytest.approx(0.20, abs=0.015)
    edges, cum = _all_electrons_cumulative()
    assert np.interp(0.9 * LU177_ELECTRON_MEV, cum, edges) == pytest.approx(0.58, abs=0.02)
    assert np.interp(0.5 * LU177_ELECTRON_MEV, cum, edges) == pytest.approx(0.17, abs=0.015)


# Table 3.6-C: D(r), all electrons and betas only (MeV/g per decay)
DOSE_AT_R = {
    0.1: (3.29e3, 2.49e3),
    0.2: (458.0, 448.0),
    0.3: (149.0, 148.0),
    0.5: (28.4, 28.4),
    0.8: (3.42, 3.42),
    1.0: (0.770, 0.770),
}


def test_point_kernel_dose_against_table_3_6_c() -> None:
    beta = dose_point_kernel(nuclide="Lu-177", emission_class="beta")
    lines = dose_point_kernel(nuclide="Lu-177", emission_class="electron")
    mid = 0.5 * (beta.r_inner_mm + beta.r_outer_mm)
    d_beta = beta.dose_mev_per_g
    d_all = d_beta.copy()
    d_all[: lines.energy_mev.size] += lines.dose_mev_per_g
    for r_mm, (ref_all, ref_beta) in DOSE_AT_R.items():
        window = np.abs(mid - r_mm) <= 0.0201  # 9 shells of 0.005 mm, log-linear fit
        fit_all = np.polyfit(mid[window], np.log(d_all[window]), 1)
        fit_beta = np.polyfit(mid[window], np.log(d_beta[window]), 1)
        assert np.exp(np.polyval(fit_all, r_mm)) == pytest.approx(ref_all, rel=0.10), r_mm
        assert np.exp(np.polyval(fit_beta, r_mm)) == pytest.approx(ref_beta, rel=0.10), r_mm


def test_point_at_centre_kernel_is_not_a_voxel_s_value_reference_3_3() -> None:
    # §3.3: PyTheranostics' 4.7952 mm kernel has centre 0.2066 (= Δ_e/m at ρ = 1.04, full
    # local absorption) and face neighbour 2.257e-3 mGy/(MBq·s): a point source at the
    # voxel centre, not a uniform-voxel S value.  A uniform source voxel loses the
    # electrons emitted near its faces: a lower centre and a higher face neighbour.
    k = voxel_kernel(nuclide="Lu-177", spacing_mm=4.7952)
    full_local = LU177_ELECTRON_MEV * J_PER_MEV / k.voxel_mass_kg / MGY_PER_MBQ_S
    assert full_local == pytest.approx(0.2066, rel=0.005)
    assert k.centre_gy_per_bq_s / MGY_PER_MBQ_S < 0.95 * 0.2066
    assert k.value_at((0, 0, 1)) / MGY_PER_MBQ_S > 1.04 * 2.257e-3
