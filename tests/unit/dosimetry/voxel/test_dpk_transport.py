"""Unit tests of the offline dose-point-kernel transport (electron and photon physics)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.dosimetry.voxel import dpk_electrons as el
from prrt.dosimetry.voxel import dpk_photons as ph
from prrt.dosimetry.voxel.dpk_generate import sample_spectrum_energy_weighted


@pytest.fixture(scope="module")
def physics() -> el.WaterElectronPhysics:
    return el.WaterElectronPhysics.build()


@pytest.mark.parametrize(
    ("t_mev", "computed_in_reference", "estar"),
    [
        # dosimetry-reference.md §3.6.4 c: CSDA ranges [C] 0.01431/0.1765/0.4375/0.982 g/cm²,
        # ESTAR 0.01431/0.1766/0.4367/0.9785 [R].
        (0.1, 0.01431, 0.01431),
        (0.5, 0.1765, 0.1766),
        (1.0, 0.4375, 0.4367),
        (2.0, 0.982, 0.9785),
    ],
)
def test_csda_range_against_reference(
    t_mev: float, computed_in_reference: float, estar: float
) -> None:
    r = el.csda_range_cm(t_mev)
    assert r == pytest.approx(computed_in_reference, rel=0.003)
    assert r == pytest.approx(estar, rel=0.01)


def test_collision_stopping_power_at_1_mev(physics: el.WaterElectronPhysics) -> None:
    # §3.6.4 c: 1.840 MeV·cm²/g [C]; ESTAR 1.849 [R].
    s = float(physics.total_collision_stopping_mev_per_cm(np.array([1.0]))[0])
    assert s == pytest.approx(1.840, rel=0.002)
    assert s == pytest.approx(1.849, rel=0.01)


def test_restricted_stopping_is_below_unrestricted(physics: el.WaterElectronPhysics) -> None:
    t = np.array([0.05, 0.2, 1.0, 2.0])
    restricted = np.interp(np.log(t), np.log(physics.t_grid_mev), physics.restricted_stopping)
    assert np.all(restricted < physics.total_collision_stopping_mev_per_cm(t))


def test_wentzel_sampler_reproduces_the_requested_mean() -> None:
    rng = np.random.default_rng(3)
    for mean in (0.01, 0.05, 0.3):
        x = el._sample_wentzel(np.full(400_000, mean), rng)
        assert float(x.mean()) == pytest.approx(mean, rel=0.03)
        assert float(x.min()) >= 0.0
        assert float(x.max()) <= 2.0


def test_moller_sampler_matches_the_cross_section() -> None:
    # Mean transfer fraction from the Møller differential cross section by quadrature.
    t, cut = 0.5, el.MOLLER_CUT_MEV
    tau = t / el.ELECTRON_REST_MEV
    eps = np.linspace(cut / t, 0.5, 200_001)
    dcs = (
        1 / eps**2
        + 1 / (1 - eps) ** 2
        + (tau / (tau + 1)) ** 2
        - (2 * tau + 1) / (tau + 1) ** 2 / (eps * (1 - eps))
    )
    expected = float(np.trapezoid(eps * dcs, eps) / np.trapezoid(dcs, eps))
    sample = el._sample_moller_fraction(np.full(300_000, t), cut, np.random.default_rng(5))
    assert float(sample.mean()) == pytest.approx(expected, rel=0.01)


def test_klein_nishina_sampler_matches_the_cross_section() -> None:
    k = 0.208366 / el.ELECTRON_REST_MEV  # 177Lu main line
    eps = np.linspace(1 / (1 + 2 * k), 1.0, 200_001)
    cos_t = 1 - (1 - eps) / (eps * k)
    kn = (1 / eps + eps - (1 - cos_t**2)) / k  # dσ/dε ∝ (1/ε + ε − sin²θ), Jacobian 1/(ε²k)·ε²
    expected = float(np.trapezoid(eps * kn, eps) / np.trapezoid(kn, eps))
    sample = ph._sample_klein_nishina(np.full(300_000, k), np.random.default_rng(7))
    assert float(sample.mean()) == pytest.approx(expected, rel=0.005)


def test_rotation_keeps_unit_length_and_angle() -> None:
    rng = np.random.default_rng(2)
    d = el._isotropic(1000, rng)
    cos_t = 2 * rng.random(1000) - 1
    out = el.rotate(d, cos_t, 2 * math.pi * rng.random(1000))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.einsum("ij,ij->i", d, out), cos_t, atol=1e-9)


def test_electron_transport_conserves_energy(physics: el.WaterElectronPhysics) -> None:
    e0 = np.full(300, 0.4)
    tally = el.transport_electrons(
        energies_mev=e0,
        weights=np.ones(300),
        edges_cm=np.linspace(0.0, 0.05, 26),
        rng=np.random.default_rng(11),
        physics=physics,
    )
    total = tally.energy_mev.sum() + tally.beyond_mev + tally.radiated_mev
    assert total == pytest.approx(e0.sum(), rel=1e-9)
    # A 0.4 MeV electron (CSDA range 0.13 cm) leaves part of its energy beyond 0.05 cm.
    assert 0.0 < tally.beyond_mev < e0.sum()


def test_energy_weighted_spectrum_sampling() -> None:
    # N(E) uniform on [0, 1]: energy-weighted density 2E, mean 2/3.
    e = sample_spectrum_energy_weighted([(0.0, 1.0), (1.0, 1.0)], 200_000, np.random.default_rng(1))
    assert float(e.mean()) == pytest.approx(2.0 / 3.0, rel=0.005)
