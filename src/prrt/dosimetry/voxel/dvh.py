"""Dose-volume histograms (DVH) and dose statistics of volumes of interest (VOI).

``D_x`` is the minimum absorbed dose received by the hottest ``x`` % of the VOI
volume (ICRU Report 83, 2010, §3.7 "D_V" notation): with the N voxel doses
sorted in decreasing order, ``D_x = d[ceil(x·N/100) - 1]``. So ``D2`` is a
near-maximum, ``D50`` the median and ``D98`` a near-minimum dose. All voxels of
a VOI have the same volume, so volume fractions are voxel fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from prrt._typing import BoolArray, FloatArray
from prrt.errors import InvalidInputError

__all__ = [
    "DoseVolumeHistogram",
    "VoiStatistics",
    "cumulative_dvh",
    "dose_at_volume_percent",
    "voi_statistics",
]


@dataclass(frozen=True, slots=True)
class VoiStatistics:
    """Absorbed-dose statistics of one volume of interest.

    Attributes
    ----------
    name
        Region name (e.g. ``"kidneys"``, ``"tumour_1"``).
    n_voxels
        Number of voxels in the VOI.
    volume_ml
        VOI volume, mL.
    mass_kg
        VOI mass from the density map, kg (``None`` without a density map).
    mean_gy, min_gy, max_gy
        Mean, minimum and maximum voxel dose, Gy.
    d2_gy, d50_gy, d98_gy
        Dose received by at least 2 %, 50 %, 98 % of the volume, Gy.
    tia_bq_s
        Time-integrated activity inside the VOI, Bq·s (``None`` when not given).
    """

    name: str
    n_voxels: int
    volume_ml: float
    mass_kg: float | None
    mean_gy: float
    min_gy: float
    max_gy: float
    d2_gy: float
    d50_gy: float
    d98_gy: float
    tia_bq_s: float | None = None

    def to_dict(self) -> dict[str, float | int | str | None]:
        """JSON-serialisable dictionary (keys carry their units)."""
        return {
            "name": self.name,
            "n_voxels": self.n_voxels,
            "volume_ml": self.volume_ml,
            "mass_kg": self.mass_kg,
            "mean_gy": self.mean_gy,
            "min_gy": self.min_gy,
            "max_gy": self.max_gy,
            "d2_gy": self.d2_gy,
            "d50_gy": self.d50_gy,
            "d98_gy": self.d98_gy,
            "tia_bq_s": self.tia_bq_s,
        }


@dataclass(frozen=True, slots=True)
class DoseVolumeHistogram:
    """Cumulative DVH: fraction of the VOI receiving at least each dose.

    Attributes
    ----------
    name
        Region name.
    dose_gy
        Dose levels, Gy (increasing, starting at 0).
    volume_fraction
        Fraction of the VOI volume with a dose ≥ each level (1 at 0 Gy).
    """

    name: str
    dose_gy: FloatArray
    volume_fraction: FloatArray


def _voi_doses(
    dose_gy: npt.ArrayLike, mask: npt.ArrayLike, name: str
) -> tuple[FloatArray, BoolArray]:
    dose = np.asarray(dose_gy, dtype=np.float64)
    voi = np.asarray(mask)
    if voi.shape != dose.shape:
        raise InvalidInputError(
            f"mask[{name}]", f"shape {voi.shape}", f"a mask on the dose grid, shape {dose.shape}"
        )
    if voi.dtype != np.bool_:
        voi = voi.astype(bool)
    if not np.any(voi):
        raise InvalidInputError(
            f"mask[{name}]", "an empty VOI (0 voxels)", "a VOI with at least one voxel"
        )
    values = dose[voi]
    if not np.all(np.isfinite(values)):
        raise InvalidInputError(
            "dose_gy", f"NaN or infinite values in VOI {name!r}", "finite doses"
        )
    return values, voi


def dose_at_volume_percent(doses_gy: npt.ArrayLike, percent: float) -> float:
    """Minimum dose of the hottest ``percent`` % of the voxels (``D_x``).

    Examples
    --------
    >>> doses = np.arange(1.0, 101.0)
    >>> [dose_at_volume_percent(doses, x) for x in (2, 50, 98)]
    [99.0, 51.0, 3.0]
    """
    values = np.sort(np.asarray(doses_gy, dtype=np.float64).ravel())[::-1]
    if values.size == 0:
        raise InvalidInputError("doses_gy", "no voxel", "at least one voxel dose")
    if not 0 < percent <= 100:
        raise InvalidInputError("percent", percent, "a volume percentage in (0, 100]")
    index = max(math.ceil(percent * values.size / 100.0 - 1e-9) - 1, 0)
    return float(values[index])


def voi_statistics(
    dose_gy: npt.ArrayLike,
    mask: npt.ArrayLike,
    *,
    name: str,
    voxel_volume_ml: float,
    density_g_per_ml: float | npt.ArrayLike | None = None,
    tia_bq_s: npt.ArrayLike | None = None,
) -> VoiStatistics:
    """Mean, minimum, maximum, D2, D50 and D98 of the dose in a VOI.

    Parameters
    ----------
    dose_gy
        Absorbed dose map, Gy.
    mask
        Boolean VOI on the same grid.
    name
        Region name.
    voxel_volume_ml
        Volume of one voxel, mL.
    density_g_per_ml
        Optional density (one value or a map), g/mL, for the VOI mass.
    tia_bq_s
        Optional TIA map, Bq·s, summed over the VOI.

    Returns
    -------
    VoiStatistics

    Raises
    ------
    InvalidInputError
        For a mask of another shape, an empty VOI or non-finite doses.

    Examples
    --------
    >>> dose = np.arange(1.0, 9.0).reshape(2, 2, 2)
    >>> s = voi_statistics(dose, dose > 2, name="kidneys", voxel_volume_ml=0.5)
    >>> s.n_voxels, s.volume_ml, s.mean_gy, s.min_gy, s.max_gy, s.d50_gy
    (6, 3.0, 5.5, 3.0, 8.0, 6.0)
    """
    values, voi = _voi_doses(dose_gy, mask, name)
    if not np.isfinite(voxel_volume_ml) or voxel_volume_ml <= 0:
        raise InvalidInputError("voxel_volume_ml", voxel_volume_ml, "a positive voxel volume (mL)")
    mass_kg = None
    if density_g_per_ml is not None:
        density = np.broadcast_to(np.asarray(density_g_per_ml, dtype=np.float64), voi.shape)
        mass_kg = float(density[voi].sum() * voxel_volume_ml * 1e-3)
    tia_sum = None
    if tia_bq_s is not None:
        tia_sum = float(np.asarray(tia_bq_s, dtype=np.float64)[voi].sum())
    return VoiStatistics(
        name=name,
        n_voxels=int(values.size),
        volume_ml=float(values.size * voxel_volume_ml),
        mass_kg=mass_kg,
        mean_gy=float(values.mean()),
        min_gy=float(values.min()),
        max_gy=float(values.max()),
        d2_gy=dose_at_volume_percent(values, 2.0),
        d50_gy=dose_at_volume_percent(values, 50.0),
        d98_gy=dose_at_volume_percent(values, 98.0),
        tia_bq_s=tia_sum,
    )


def cumulative_dvh(
    dose_gy: npt.ArrayLike, mask: npt.ArrayLike, *, name: str, n_bins: int = 200
) -> DoseVolumeHistogram:
    """Cumulative dose-volume histogram of a VOI.

    Parameters
    ----------
    dose_gy
        Absorbed dose map, Gy.
    mask
        Boolean VOI on the same grid.
    name
        Region name.
    n_bins
        Number of dose levels between 0 and the maximum dose.

    Returns
    -------
    DoseVolumeHistogram

    Examples
    --------
    >>> dvh = cumulative_dvh(np.array([[[1.0, 2.0, 3.0, 4.0]]]), np.ones((1, 1, 4), bool),
    ...                      name="t", n_bins=4)
    >>> dvh.dose_gy.tolist(), dvh.volume_fraction.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 0.75, 0.5, 0.25])
    """
    values, _ = _voi_doses(dose_gy, mask, name)
    if n_bins < 1:
        raise InvalidInputError("n_bins", n_bins, "at least one bin")
    top = max(float(values.max()), 0.0)
    levels = np.linspace(0.0, top, n_bins + 1)
    ordered = np.sort(values)
    at_least = values.size - np.searchsorted(ordered, levels, side="left")
    return DoseVolumeHistogram(
        name=name, dose_gy=levels, volume_fraction=at_least.astype(np.float64) / values.size
    )
