"""Property-based tests (hypothesis) of voxel dose: linearity, shift invariance, energy balance."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.led import local_energy_deposition
from prrt.dosimetry.voxel.tia import fit_tia_curves

_Z = np.arange(-2, 3)
_KERNEL = np.exp(-(_Z[:, None, None] ** 2 + _Z[None, :, None] ** 2 + _Z[None, None, :] ** 2) / 2.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e6))
def test_dose_is_linear_in_activity(seed: int, scale: float) -> None:
    """D(s·A) = s·D(A) for any positive scale (linearity of MIRD 17 convolution)."""
    rng = np.random.default_rng(seed)
    tia = rng.random((8, 9, 7))
    base = convolve_kernel(tia, _KERNEL, device="cpu", precision="float64")
    scaled = convolve_kernel(scale * tia, _KERNEL, device="cpu", precision="float64")
    np.testing.assert_allclose(scaled, scale * base, rtol=1e-9, atol=1e-12 * scale * base.max())


@settings(max_examples=25, deadline=None)
@given(i=st.integers(2, 9), j=st.integers(2, 9), k=st.integers(2, 9))
def test_point_source_anywhere_gives_the_kernel(i: int, j: int, k: int) -> None:
    """Shift invariance: a point source at any interior voxel gives the kernel around it."""
    tia = np.zeros((12, 12, 12))
    tia[i, j, k] = 1.0
    dose = convolve_kernel(tia, _KERNEL, device="cpu", precision="float64")
    np.testing.assert_allclose(
        dose[i - 2 : i + 3, j - 2 : j + 3, k - 2 : k + 3], _KERNEL, atol=1e-12
    )
    assert abs(dose.sum() - _KERNEL.sum()) < 1e-9


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), energy_mev=st.floats(0.01, 5.0))
def test_led_deposits_all_emitted_energy(seed: int, energy_mev: float) -> None:
    """Σ D·m = Δ·ΣÃ for any tissue densities (local deposition conserves energy)."""
    rng = np.random.default_rng(seed)
    tia = rng.random((5, 5, 5)) * 1e9
    density = rng.uniform(0.2, 2.0, (5, 5, 5))
    delta_j = energy_mev * 1.602176634e-13
    dose = local_energy_deposition(
        tia, energy_per_decay_j=delta_j, voxel_volume_ml=0.1, density_g_per_ml=density
    )
    deposited = float(np.sum(dose * density * 0.1e-3))
    assert abs(deposited / (delta_j * tia.sum()) - 1.0) < 1e-12


@settings(max_examples=25, deadline=None)
@given(
    half_life_h=st.floats(5.0, 150.0),
    amplitude_bq=st.floats(1e3, 1e9),
)
def test_mono_exponential_voxel_tia_is_a0_over_lambda(
    half_life_h: float, amplitude_bq: float
) -> None:
    """For every effective half-life shorter than physical decay, TIA = A0/λ (§4.1)."""
    lam_phys = np.log(2) / (6.647 * 86400)
    lam = max(np.log(2) / (half_life_h * 3600), lam_phys * 1.01)
    times = np.array([4.0, 24.0, 96.0, 168.0]) * 3600
    curve = (amplitude_bq * np.exp(-lam * times))[:, None]
    tia, _ = fit_tia_curves(curve, times_s=times, decay_constant_per_s=lam_phys, model="mono")
    assert abs(float(tia[0]) * lam / amplitude_bq - 1.0) < 1e-4
