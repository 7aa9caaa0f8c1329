"""Density (heterogeneity) correction of kernel dose maps (``dosimetry-reference.md`` §3.5).

Post-convolution mass rescaling, ``D_corr(v) = D_DVK(v) · ρ_kernel / ρ(v)``
(method 1 of §3.5, as PyTheranostics does; exact for local deposition,
approximate for crossfire). Dividing by a density near zero makes the dose
explode in air and gas (the PyTheranostics issue #41 noted in ``peers.md``), so
voxels below ``min_density_g_per_ml`` are treated as outside tissue (dose 0,
counted) and the map stays finite everywhere. The default threshold
0.1 g/mL lies between air (0.0012 g/mL) and inflated lung (about 0.26 g/mL,
ICRU Report 44 [R — recalled, not re-checked]), so lung keeps its (higher)
dose per mass while air and bowel gas are excluded. Check with VOX-05:
10 mGy computed for ρ_kernel = 1.04 in a voxel of ρ = 1.92 becomes 5.42 mGy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from prrt._typing import BoolArray, FloatArray
from prrt.errors import InvalidInputError

__all__ = [
    "DEFAULT_MIN_DENSITY_G_PER_ML",
    "check_density",
    "density_correct",
    "tissue_mask",
]

#: Below this density a voxel holds no tissue (air, gas): dose 0 there.
DEFAULT_MIN_DENSITY_G_PER_ML = 0.1
#: Highest plausible density of body tissue or bone, g/mL (cortical bone ≈ 1.92, §2.5).
_MAX_DENSITY_G_PER_ML = 5.0


def check_density(
    density_g_per_ml: float | npt.ArrayLike,
    *,
    shape: tuple[int, ...],
    field: str = "density_g_per_ml",
) -> FloatArray:
    """Validate a density (one value or a map of ``shape``) and broadcast it.

    Examples
    --------
    >>> check_density(1.04, shape=(2, 2, 2)).mean()
    np.float64(1.04)
    >>> check_density(-1.0, shape=(1,))
    Traceback (most recent call last):
    ...
    prrt.errors.InvalidInputError: density_g_per_ml: got 'min -1'; expected densities between 0 and 5 g/mL
    """
    density = np.asarray(density_g_per_ml, dtype=np.float64)
    if density.ndim != 0 and density.shape != shape:
        raise InvalidInputError(
            field, f"shape {density.shape}", f"one value or a map of shape {shape}"
        )
    if not np.all(np.isfinite(density)):
        raise InvalidInputError(field, "NaN or infinite values", "finite densities (g/mL)")
    low, high = float(density.min()), float(density.max())
    if low < 0 or high > _MAX_DENSITY_G_PER_ML:
        raise InvalidInputError(
            field,
            f"min {low:g}" if low < 0 else f"max {high:g}",
            f"densities between 0 and {_MAX_DENSITY_G_PER_ML:g} g/mL",
        )
    return np.broadcast_to(density, shape).astype(np.float64)


def tissue_mask(
    density_g_per_ml: npt.ArrayLike, *, min_density_g_per_ml: float = DEFAULT_MIN_DENSITY_G_PER_ML
) -> BoolArray:
    """Voxels that hold tissue (density at or above the threshold).

    Examples
    --------
    >>> tissue_mask(np.array([0.0012, 0.26, 1.04])).tolist()
    [False, True, True]
    """
    return np.asarray(density_g_per_ml, dtype=np.float64) >= min_density_g_per_ml


def density_correct(
    dose_gy: npt.ArrayLike,
    *,
    density_g_per_ml: float | npt.ArrayLike,
    kernel_density_g_per_ml: float,
    min_density_g_per_ml: float = DEFAULT_MIN_DENSITY_G_PER_ML,
) -> FloatArray:
    """Rescale a kernel dose map by ``ρ_kernel / ρ(v)``; zero outside tissue.

    Parameters
    ----------
    dose_gy
        Dose computed with a kernel for a medium of ``kernel_density_g_per_ml``, Gy.
    density_g_per_ml
        Mass density of each voxel, g/mL (one value or a map).
    kernel_density_g_per_ml
        Density of the medium the kernel was computed for, g/mL.
    min_density_g_per_ml
        Voxels below this density are not tissue: dose 0 there.

    Returns
    -------
    numpy.ndarray
        Corrected dose, Gy, finite everywhere.

    Raises
    ------
    InvalidInputError
        For a non-positive kernel density, or an invalid density map.

    Examples
    --------
    VOX-05 (``dosimetry-reference.md`` §3.5): 10 mGy at ρ = 1.92 → 5.42 mGy;
    air gets 0 instead of a division by ~0:

    >>> out = density_correct(np.array([0.010, 0.010]), density_g_per_ml=np.array([1.92, 0.0012]),
    ...                       kernel_density_g_per_ml=1.04)
    >>> [round(float(v) * 1e3, 2) for v in out]
    [5.42, 0.0]
    """
    dose = np.asarray(dose_gy, dtype=np.float64)
    if not np.isfinite(kernel_density_g_per_ml) or kernel_density_g_per_ml <= 0:
        raise InvalidInputError(
            "kernel_density_g_per_ml",
            kernel_density_g_per_ml,
            "the positive density of the kernel's medium (g/mL)",
        )
    density = check_density(density_g_per_ml, shape=dose.shape)
    tissue = density >= min_density_g_per_ml
    safe = np.where(tissue, density, 1.0)
    return np.where(tissue, dose * (kernel_density_g_per_ml / safe), 0.0)
