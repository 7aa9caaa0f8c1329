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

Plausibility (``docs/dosimetry-voxel.md``, "Partial-volume correction"):

* the FWHM must lie in ``(0, 40] mm`` (clinical Lu-177 SPECT resolves about
  8–20 mm), be at most 25 voxels (largest spacing) and at most a quarter of the
  largest image extent (:func:`check_psf_fwhm`);
* a region whose self-recovery ``W[i, i]`` is below 0.25 is not corrected (the
  correction would multiply its noise by ``1/W[i, i]`` > 4): its measured total
  is kept and used as its spill-in into the others, and a warning names it;
* a condition number of the solved matrix above 10 is reported;
* the corrected total may exceed the measured total only by what the PSF blurs
  out of the image: more than 10 % is refused.
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

__all__ = [
    "MAX_CONDITION_NUMBER",
    "MAX_PSF_FWHM_MM",
    "MAX_TOTAL_GAIN",
    "MIN_RECOVERY_COEFFICIENT",
    "UNASSIGNED_REGION",
    "RecoveryCorrection",
    "TransferMatrix",
    "check_psf_fwhm",
    "geometric_transfer_matrix",
]

logger = logging.getLogger(__name__)

#: Name of the region made of the voxels that belong to no mask.
UNASSIGNED_REGION = "unassigned"
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: Largest accepted PSF FWHM, mm.  Clinical Lu-177 SPECT with medium-energy
#: collimators resolves about 8–20 mm FWHM (resolution recovery included, at
#: clinical radii); 40 mm is twice the worst of that.
MAX_PSF_FWHM_MM = 40.0
#: Largest accepted FWHM in voxels (of the largest spacing).
MAX_PSF_FWHM_VOXELS = 25.0
#: Largest accepted FWHM as a share of the largest image extent.
MAX_PSF_FWHM_EXTENT_SHARE = 0.25
#: Regions with a smaller self-recovery ``W[i, i]`` are left uncorrected: the
#: correction divides by about ``W[i, i]`` and multiplies the noise by ``1/W[i, i]``.
MIN_RECOVERY_COEFFICIENT = 0.25
#: Condition number of the solved GTM above which a warning is given.
MAX_CONDITION_NUMBER = 10.0
#: Largest accepted relative gain of the total activity by the correction.
MAX_TOTAL_GAIN = 0.10


def check_psf_fwhm(
    psf_fwhm_mm: float,
    *,
    spacing_mm: Sequence[float],
    shape: Sequence[int],
    field: str = "psf_fwhm_mm",
) -> float:
    """Refuse an implausible PSF FWHM for the partial-volume correction.

    Parameters
    ----------
    psf_fwhm_mm
        FWHM, mm.
    spacing_mm, shape
        Voxel spacing (mm) and shape of the image grid.
    field
        Name of the input in the error message (e.g. ``"--psf-fwhm"``).

    Returns
    -------
    float
        The FWHM.

    Raises
    ------
    InvalidInputError
        Not finite, not positive, above 40 mm, above 25 voxels or above a quarter
        of the largest image extent.

    Examples
    --------
    >>> check_psf_fwhm(10.0, spacing_mm=(4.8,) * 3, shape=(128,) * 3)
    10.0
    >>> check_psf_fwhm(500.0, spacing_mm=(4.8,) * 3, shape=(128,) * 3)
    Traceback (most recent call last):
    ...
    prrt.errors.InvalidInputError: psf_fwhm_mm: got '500.0 mm'; expected a SPECT resolution (FWHM) in (0, 40] mm (clinical Lu-177 SPECT: about 8-20 mm)
    """
    value = float(psf_fwhm_mm)
    if not math.isfinite(value) or value <= 0 or value > MAX_PSF_FWHM_MM:
        raise InvalidInputError(
            field,
            f"{psf_fwhm_mm} mm",
            f"a SPECT resolution (FWHM) in (0, {MAX_PSF_FWHM_MM:g}] mm "
            "(clinical Lu-177 SPECT: about 8-20 mm)",
        )
    largest = max(float(s) for s in spacing_mm)
    if value > MAX_PSF_FWHM_VOXELS * largest:
        raise InvalidInputError(
            field,
            f"{value:g} mm ({value / largest:.1f} voxels of {largest:g} mm)",
            f"at most {MAX_PSF_FWHM_VOXELS:g} voxels",
            hint="compute the correction on the SPECT grid, not on a finer one",
        )
    extent = max(float(s) * int(n) for s, n in zip(spacing_mm, shape, strict=True))
    if value > MAX_PSF_FWHM_EXTENT_SHARE * extent:
        raise InvalidInputError(
            field,
            f"{value:g} mm",
            f"at most a quarter of the largest image extent ({extent:g} mm)",
        )
    return value


@dataclass(frozen=True)
class RecoveryCorrection:
    """Region totals corrected by a transfer matrix, with the plausibility checks.

    Attributes
    ----------
    corrected
        Corrected totals (first axis = regions), clipped at 0.
    uncorrected_regions
        Regions whose self-recovery is below the minimum: measured totals kept.
    condition_number
        2-norm condition number of the solved (reduced) matrix.
    total_ratio
        Largest ratio corrected total / measured total (over time points).
    warnings
        Notes for the user.
    """

    corrected: FloatArray
    uncorrected_regions: tuple[str, ...]
    condition_number: float
    total_ratio: float
    warnings: tuple[str, ...]


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

    def correct_checked(
        self,
        observed: npt.ArrayLike,
        *,
        min_recovery: float = MIN_RECOVERY_COEFFICIENT,
        max_condition: float = MAX_CONDITION_NUMBER,
        max_total_gain: float = MAX_TOTAL_GAIN,
    ) -> RecoveryCorrection:
        """Corrected totals, leaving out regions of too low recovery, with checks.

        Regions ``F`` with ``W[i, i] < min_recovery`` keep their measured totals
        ``O_F``; the others solve ``W[R, R] · X_R = O_R − W[R, F] · O_F``.

        Raises
        ------
        InvalidInputError
            The corrected total exceeds the measured total by more than
            ``max_total_gain`` (field ``psf_fwhm_mm``).

        Examples
        --------
        >>> tm = TransferMatrix(("a", "b"), np.array([[0.8, 0.1], [0.2, 0.9]]), 10.0)
        >>> tm.correct_checked(np.array([8.5, 6.5])).corrected.round(6).tolist()
        [10.0, 5.0]
        >>> tm = TransferMatrix(("a", "b"), np.array([[0.1, 0.05], [0.2, 0.95]]), 30.0)
        >>> r = tm.correct_checked(np.array([1.25, 6.75]))
        >>> r.uncorrected_regions, r.corrected.round(6).tolist()
        (('a',), [1.25, 6.842105])
        """
        values = np.asarray(observed, dtype=np.float64)
        n = len(self.names)
        if values.shape[0] != n:
            raise InvalidInputError("observed", f"{values.shape[0]} regions", f"{n} regions")
        flat = values.reshape(n, -1)
        rc = np.diag(self.matrix)
        free = rc >= min_recovery
        fixed = ~free
        corrected = flat.copy()
        condition = 1.0
        if np.any(free):
            sub = self.matrix[np.ix_(free, free)]
            rhs = flat[free] - self.matrix[np.ix_(free, fixed)] @ flat[fixed]
            solution, *_ = np.linalg.lstsq(sub, rhs, rcond=None)
            corrected[free] = solution
            condition = float(np.linalg.cond(sub))
        corrected = np.clip(corrected, 0.0, None)
        measured = np.clip(flat, 0.0, None).sum(axis=0)
        totals = corrected.sum(axis=0)
        ratios = np.where(measured > 0, totals / np.where(measured > 0, measured, 1.0), 1.0)
        ratio = float(ratios.max()) if ratios.size else 1.0
        fwhm = f"{self.psf_fwhm_mm:g} mm"
        if ratio > 1.0 + max_total_gain:
            raise InvalidInputError(
                "psf_fwhm_mm",
                f"{fwhm} (corrected total activity {ratio:.3g} x the measured total)",
                f"a PSF for which the partial-volume correction changes the total activity "
                f"by at most {max_total_gain:.0%} (only activity blurred out of the image "
                "can be recovered)",
                hint="check the SPECT resolution and that the body lies inside the image",
            )
        notes: list[str] = []
        uncorrected = tuple(name for name, low in zip(self.names, fixed, strict=True) if low)
        for name, value, low in zip(self.names, rc, fixed, strict=True):
            if low:
                notes.append(
                    f"partial-volume correction not applied to {name}: recovery coefficient "
                    f"{value:.2f} < {min_recovery:g} at PSF FWHM {fwhm} (the correction would "
                    f"amplify its noise {1.0 / max(float(value), 1e-12):.0f}x); measured total kept"
                )
        if condition > max_condition:
            notes.append(
                f"geometric transfer matrix ill-conditioned at PSF FWHM {fwhm}: condition "
                f"number {condition:.3g} > {max_condition:g}; corrected totals are sensitive "
                "to noise and to the masks"
            )
        if ratio > 1.0 + 0.5 * max_total_gain:
            notes.append(
                f"partial-volume correction raised the total activity by {ratio - 1.0:.1%} "
                f"at PSF FWHM {fwhm} (activity blurred out of the image)"
            )
        return RecoveryCorrection(
            corrected=corrected.reshape(values.shape),
            uncorrected_regions=uncorrected,
            condition_number=condition,
            total_ratio=ratio,
            warnings=tuple(notes),
        )

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
        For an implausible FWHM (:func:`check_psf_fwhm`), an empty region or
        overlapping regions.

    Examples
    --------
    Two halves of a line: blurring moves some activity across the border.

    >>> left = np.zeros((1, 1, 20), bool); left[..., :10] = True
    >>> tm = geometric_transfer_matrix([("l", left), ("r", ~left)], spacing_mm=(99, 99, 1),
    ...                                psf_fwhm_mm=4.0)
    >>> bool(0.8 < tm.matrix[0, 0] < 1.0), bool(np.isclose(tm.matrix[0, 1], tm.matrix[1, 0]))
    (True, True)
    """
    if not regions:
        raise InvalidInputError("regions", [], "one or more regions")
    check_psf_fwhm(psf_fwhm_mm, spacing_mm=spacing_mm, shape=regions[0][1].shape)
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
