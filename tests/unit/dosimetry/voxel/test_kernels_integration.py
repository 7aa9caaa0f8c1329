"""The box-triangle integration of kernels.py against an independent Monte Carlo estimate.

The Monte Carlo follows the published alternative route of dosimetry-reference.md
§3.6.5 (SlicerRadioembolizationDosimetry's dosekernel.py): a random decay point in
the source voxel, a radius drawn from the point kernel's energy per shell and an
isotropic direction; the end point's voxel receives the energy.  Both must give the
same voxel energies from the same shell table (an analytic identity: the exact
integral), within the Monte Carlo's statistical uncertainty.
"""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.dpk_tables import DosePointKernel, dose_point_kernel
from prrt.dosimetry.voxel.kernels import _voxel_energy_mev


def _monte_carlo_voxel_energy(
    tables: list[DosePointKernel],
    spacing_mm: tuple[float, float, float],
    half: int,
    samples: int,
    seed: int,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r_in = np.concatenate([t.r_inner_mm for t in tables])
    r_out = np.concatenate([t.r_outer_mm for t in tables])
    energy = np.concatenate([t.energy_mev for t in tables])
    total = energy.sum()
    shell = rng.choice(energy.size, size=samples, p=energy / total)
    # Uniform in volume within the shell (the shell's dose is uniform there).
    u = rng.random(samples)
    r = np.cbrt(r_in[shell] ** 3 + u * (r_out[shell] ** 3 - r_in[shell] ** 3))
    w = 2.0 * rng.random(samples) - 1.0
    phi = 2.0 * np.pi * rng.random(samples)
    s = np.sqrt(1.0 - w * w)
    direction = np.stack((s * np.cos(phi), s * np.sin(phi), w), axis=1)
    spacing = np.asarray(spacing_mm)
    start = (rng.random((samples, 3)) - 0.5) * spacing
    end = start + r[:, None] * direction
    voxel = np.floor(end / spacing + 0.5).astype(np.int64) + half
    inside = np.all((voxel >= 0) & (voxel <= 2 * half), axis=1)
    size = 2 * half + 1
    flat = np.ravel_multi_index(voxel[inside].T, (size, size, size))
    counts = np.bincount(flat, minlength=size**3).reshape(size, size, size)
    return counts * (total / samples)


@pytest.mark.parametrize(
    ("nuclide", "classes", "spacing_mm"),
    [
        ("Y-90", ("beta",), (4.0, 4.0, 3.0)),
        ("Lu-177", ("beta", "electron"), (2.21, 2.21, 2.21)),
        ("Lu-177", ("beta", "electron"), (1.0, 1.5, 2.0)),
    ],
)
def test_splatting_integral_matches_independent_monte_carlo(
    nuclide: str, classes: tuple[str, ...], spacing_mm: tuple[float, float, float]
) -> None:
    tables = [dose_point_kernel(nuclide=nuclide, emission_class=c) for c in classes]
    half = 3
    exact = _voxel_energy_mev(tables, spacing_mm, (half, half, half))
    mc = _monte_carlo_voxel_energy(tables, spacing_mm, half, 2_000_000, seed=17)
    total = sum(float(t.energy_mev.sum()) for t in tables)
    for offset in [(0, 0, 0), (0, 0, 1), (1, 0, 0), (0, 1, 0), (0, 1, 1), (1, 1, 1)]:
        idx = tuple(half + o for o in offset)
        share = exact[idx] / total
        # Binomial standard error of the Monte Carlo share, 4 sigma plus 0.2 % of the value.
        sigma = np.sqrt(share * (1.0 - share) / 2_000_000) * total
        assert abs(exact[idx] - mc[idx]) <= 4.0 * sigma + 0.002 * exact[idx], offset


def test_direction_count_is_converged() -> None:
    # §3.6.5: results moved by < 0.3 % between 1,500 and 3,000 directions.
    tables = [dose_point_kernel(nuclide="Y-90", emission_class="beta")]
    base = _voxel_energy_mev(tables, (4.0, 4.0, 3.0), (5, 5, 5))
    finer = _voxel_energy_mev(tables, (4.0, 4.0, 3.0), (5, 5, 5), direction_scale=4.0)
    for offset in [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 1, 1), (0, 0, 2), (2, 2, 2)]:
        idx = tuple(5 + o for o in offset)
        assert base[idx] == pytest.approx(finer[idx], rel=0.003), offset
