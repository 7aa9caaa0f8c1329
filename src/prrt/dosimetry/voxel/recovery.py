"""Partial-volume (recovery) correction of region totals by the geometric transfer matrix.

SPECT blurs activity across region borders: a kidney loses counts to its
surroundings (spill-out) and gains some from the liver (spill-in). With the
camera's point-spread function (PSF, approximated as a Gaussian of the given
FWHM) and the region masks, the geometric transfer matrix (GTM; Rousset,
Ma and Evans, J Nucl Med 1998;39:904–911) ``W[i, j]`` is the fraction of the
activity of region ``j`` — spread uniformly over it — that the blurred image
shows inside region ``i``. Observed totals are then ``O = W · X`` and the true
totals ``X = W⁻¹ · O`` (least squares when ``W`` is ill-conditioned).

The correction is exact when each region's activity is uniform and the PSF is
known; it is linear, so it applies equally to activities at one time point
and to time-integrated activities. Regions must be disjoint; voxels in no
region form one more region (``unassigned``), so that activity that spilled
into the background or air is taken back to where it came from.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from prrt._typing import BoolArray, FloatArray
from prrt.errors import InvalidInputError

__all__ = ["UNASSIGNED_REGION", "TransferMatrix", "geometric_transfer_matrix"]

logger = logging.getLogger(__name__)

#: Name of the region made of the voxels that belong to no mask.
UNASSIGNED_REGION = "unassigned"
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True)
class TransferMatrix:
    """Geometric transfer matrix of a set of disjoint regions.

    Attributes
    ----------
    names
        Region names (the last may be :data:`UNASSIGNED_REGION`).
    matrix
        ``W[i, j]``: fraction of region ``j``'s activity seen in region ``i``.
    psf_fwhm_mm
        FWHM of the Gaussian PSF, mm.
    """

    names: tuple[str, ...]
    matrix: FloatArray
    psf_fwhm_mm: float

    @property
    def recovery_coefficients(self) -> dict[str, float]:
        """Diagonal ``W[i, i]``: share of a region's activity that stays inside it."""
        return {n: float(self.matrix[i, i]) for i, n in enumerate(self.names)}

    def correct(self, observed: npt.ArrayLike) -> FloatArray:
        """True region totals from observed ones (first axis = regions).

        Examples
        --------
        >>> tm = TransferMatrix(("a", "b"), np.array([[0.8, 0.1], [0.2, 0.9]]), 10.0)
        >>> tm.correct(np.array([0.8 * 10 + 0.1 * 5, 0.2 * 10 + 0.9 * 5])).round(6).tolist()
        [10.0, 5.0]
        """
        values = np.asarray(observed, dtype=np.float64)
        if values.shape[0] != len(self.names):
            raise InvalidInputError(
                "observed", f"{values.shape[0]} regions", f"{len(self.names)} regions"
            )
        flat = values.reshape(len(self.names), -1)
        solution, *_ = np.linalg.lstsq(self.matrix, flat, rcond=None)
        out: FloatArray = np.asarray(solution, dtype=np.float64).reshape(values.shape)
        return out


def partition(
    masks: Sequence[tuple[str, npt.ArrayLike]], shape: tuple[int, ...]
) -> list[tuple[str, BoolArray]]:
    """Disjoint regions: each voxel goes to the first mask containing it.

    Voxels in no mask form the region :data:`UNASSIGNED_REGION` (when any).

    Examples
    --------
    >>> a = np.array([[[True, True, False]]]); b = np.array([[[False, True, True]]])
    >>> [(n, m.ravel().tolist()) for n, m in partition([("a", a), ("b", b)], (1, 1, 3))]
    [('a', [True, True, False]), ('b', [False, False, True])]
    """
    taken = np.zeros(shape, dtype=bool)
    regions: list[tuple[str, BoolArray]] = []
    for name, mask in masks:
        own = np.asarray(mask, dtype=bool) & ~taken
        taken |= own
        if np.any(own):
            regions.append((name, own))
    if not np.all(taken):
        regions.append((UNASSIGNED_REGION, ~taken))
    return regions


def geometric_transfer_matrix(
    regions: Sequence[tuple[str, BoolArray]],
    *,
    spacing_mm: Sequence[float],
    psf_fwhm_mm: float,
) -> TransferMatrix:
    """Build the GTM of disjoint regions for a Gaussian PSF.

    Parameters
    ----------
    regions
        ``(name, mask)`` pairs of disjoint boolean masks on one grid.
    spacing_mm
        Voxel spacing, mm.
    psf_fwhm_mm
        FWHM of the (isotropic Gaussian) point-spread function, mm.

    Returns
    -------
    TransferMatrix

    Raises
    ------
    InvalidInputError
        For a non-positive FWHM, an empty region or overlapping regions.

    Examples
    --------
    Two halves of a line: blurring moves some activity across the border.

    >>> left = np.zeros((1, 1, 20), bool); left[..., :10] = True
    >>> tm = geometric_transfer_matrix([("l", left), ("r", ~left)], spacing_mm=(99, 99, 1),
    ...                                psf_fwhm_mm=4.0)
    >>> bool(0.8 < tm.matrix[0, 0] < 1.0), bool(np.isclose(tm.matrix[0, 1], tm.matrix[1, 0]))
    (True, True)
    """
    if not np.isfinite(psf_fwhm_mm) or psf_fwhm_mm <= 0:
        raise InvalidInputError("psf_fwhm_mm", psf_fwhm_mm, "a positive PSF FWHM in mm")
    sigma = [psf_fwhm_mm / _FWHM_PER_SIGMA / float(s) for s in spacing_mm]
    n = len(regions)
    matrix = np.zeros((n, n), dtype=np.float64)
    union = np.zeros(regions[0][1].shape, dtype=np.int32)
    for _, mask in regions:
        union += mask
    if np.any(union > 1):
        raise InvalidInputError(
            "regions", "overlapping masks", "disjoint regions (see partition())"
        )
    labels = np.full(union.shape, -1, dtype=np.int64)
    for i, (name, mask) in enumerate(regions):
        count = int(mask.sum())
        if count == 0:
            raise InvalidInputError(
                f"mask[{name}]", "an empty VOI (0 voxels)", "a VOI with at least one voxel"
            )
        labels[mask] = i
    inside = labels >= 0
    for j, (_, mask) in enumerate(regions):
        blurred = ndimage.gaussian_filter(
            mask.astype(np.float32), sigma=sigma, mode="constant", truncate=4.0
        )
        sums = np.bincount(labels[inside], weights=blurred[inside], minlength=n)
        matrix[:, j] = sums / float(mask.sum())
    logger.info("GTM of %d regions, PSF FWHM %.3g mm", n, psf_fwhm_mm)
    return TransferMatrix(tuple(name for name, _ in regions), matrix, float(psf_fwhm_mm))
