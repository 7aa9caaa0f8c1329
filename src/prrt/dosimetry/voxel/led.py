"""Local energy deposition (LED): all emitted energy is absorbed in the source voxel.

``D(v) = A~(v) · Δ / m(v)`` with ``m(v) = ρ(v) · V`` (``dosimetry-reference.md``
§3.4; for Lu-177, 1 MBq·h in 1 g gives 0.0853 Gy with the ICRP-107 electron
energy, case ORG-09). Adequate for Lu-177 at SPECT voxel sizes (≥ 3–5 mm)
because the electron range is far below the voxel size; it omits the photon
crossfire. The energy per decay ``Δ`` is chosen by the caller (electrons only is
the usual choice, §3.4).

Energy is conserved exactly: ``Σ D(v)·m(v) = Δ · Σ A~(v)`` over the voxels
inside tissue. Voxels whose density is below ``min_density_g_per_ml`` (air,
gas) hold no tissue: their dose is set to 0 and the energy emitted there is
reported, so the map stays finite (``density.py``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from prrt._typing import FloatArray
from prrt.dosimetry.voxel.density import DEFAULT_MIN_DENSITY_G_PER_ML, check_density
from prrt.errors import InvalidInputError

__all__ = ["local_energy_deposition"]

_KG_PER_G = 1e-3


def local_energy_deposition(
    tia_bq_s: npt.ArrayLike,
    *,
    energy_per_decay_j: float,
    voxel_volume_ml: float,
    density_g_per_ml: float | npt.ArrayLike,
    min_density_g_per_ml: float = DEFAULT_MIN_DENSITY_G_PER_ML,
) -> FloatArray:
    """Absorbed dose by local energy deposition.

    Parameters
    ----------
    tia_bq_s
        Time-integrated activity per voxel, Bq·s.
    energy_per_decay_j
        Energy deposited locally per decay Δ, J (e.g. the mean electron energy).
    voxel_volume_ml
        Volume of one voxel, mL.
    density_g_per_ml
        Mass density, g/mL: one value or a map of the same shape.
    min_density_g_per_ml
        Voxels below this density are not tissue: dose 0 there.

    Returns
    -------
    numpy.ndarray
        Absorbed dose, Gy.

    Raises
    ------
    InvalidInputError
        For non-finite activities, a non-positive energy or voxel volume, or a
        density map of another shape.

    Examples
    --------
    ORG-09 (``dosimetry-reference.md`` §3.4): 1 MBq·h of Lu-177 in 1 g with
    Δ_e = 0.14792 MeV gives 0.0853 Gy:

    >>> dose = local_energy_deposition(
    ...     np.array([[[1e6 * 3600.0]]]), energy_per_decay_j=0.14792 * 1.602176634e-13,
    ...     voxel_volume_ml=1.0, density_g_per_ml=1.0)
    >>> round(float(dose[0, 0, 0]), 4)
    0.0853
    """
    tia = np.asarray(tia_bq_s, dtype=np.float64)
    if not np.all(np.isfinite(tia)):
        raise InvalidInputError(
            "tia", "NaN or infinite values", "finite time-integrated activities"
        )
    if not np.isfinite(energy_per_decay_j) or energy_per_decay_j <= 0:
        raise InvalidInputError(
            "energy_per_decay_j", energy_per_decay_j, "a positive energy per decay (J)"
        )
    if not np.isfinite(voxel_volume_ml) or voxel_volume_ml <= 0:
        raise InvalidInputError("voxel_volume_ml", voxel_volume_ml, "a positive voxel volume (mL)")
    density = check_density(density_g_per_ml, shape=tia.shape)
    tissue = density >= min_density_g_per_ml
    mass_kg = np.where(tissue, density, 1.0) * voxel_volume_ml * _KG_PER_G
    return np.where(tissue, tia * energy_per_decay_j / mass_kg, 0.0)
