"""Region kinetics of the voxel dosimetry pipeline: region TACs, ``fit_best`` and warnings.

Helpers of :func:`~prrt.dosimetry.voxel.pipeline.compute_voxel_tia`: the
activity of each region at each time point, the region TIA by
:func:`prrt.kinetics.fit_best`, the share of each region's TIA extrapolated
after the last time point and the notes on extrapolation and partial-volume
(GTM) recovery.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from prrt._typing import FloatArray
from prrt.dosimetry.voxel.recovery import UNASSIGNED_REGION
from prrt.dosimetry.voxel.tia import TiaMethod
from prrt.errors import FitError, InvalidInputError
from prrt.kinetics import TimeActivityCurve, fit_best

__all__ = ["EXTRAPOLATION_WARNING_FRACTION", "RECOVERY_FACTOR_WARNING", "is_organ_region"]

#: The pipeline's logger (these helpers log as :mod:`prrt.dosimetry.voxel.pipeline`).
logger = logging.getLogger("prrt.dosimetry.voxel.pipeline")

#: Warn when more than this share of a VOI's TIA lies after the last time point
#: (the same threshold as the organ-level fits of prrt.kinetics).
EXTRAPOLATION_WARNING_FRACTION = 0.5
#: Warn when the GTM multiplies an organ's activity by more than 1.5 (RC < 1/1.5).
RECOVERY_FACTOR_WARNING = 1.5
#: VOI names that denote lesions (not organs) for the organ-only warnings.
_LESION_PREFIXES = ("tumour", "tumor", "lesion", "met", "node", "gtv")


def is_organ_region(name: str) -> bool:
    """Whether a VOI name denotes an organ (not a lesion, nor the unassigned rest).

    Lesions are VOIs whose name starts with tumour/tumor/lesion/met/node/gtv.

    Examples
    --------
    >>> [is_organ_region(n) for n in ("kidneys", "Tumour_2", "lesion 3", "unassigned")]
    [True, False, False, False]
    """
    lowered = name.strip().lower()
    return name != UNASSIGNED_REGION and not lowered.startswith(_LESION_PREFIXES)


def _zero_start_trapezoid(rows: FloatArray, times_s: FloatArray) -> FloatArray:
    """Area under each row's TAC from A(0) = 0 to the last time point, Bq·s."""
    t = np.concatenate([[0.0], times_s])
    a = np.concatenate([np.zeros((rows.shape[0], 1)), rows], axis=1)
    area: FloatArray = np.sum(0.5 * (a[:, 1:] + a[:, :-1]) * np.diff(t), axis=1)
    return area


def _extrapolated_fractions(
    names: Sequence[str], tac: FloatArray, tia_bq_s: Sequence[float], times_s: FloatArray
) -> dict[str, float]:
    """Share of each region's TIA after the last time point (1 − measured area / TIA).

    The measured area is the zero-start trapezoid of the region TAC up to the last
    time point (the convention of the voxel fit chain); shares are clipped to [0, 1].
    """
    measured = _zero_start_trapezoid(np.asarray(tac, dtype=np.float64), times_s)
    out: dict[str, float] = {}
    for name, area, total in zip(names, measured, tia_bq_s, strict=True):
        out[name] = float(np.clip(1.0 - area / total, 0.0, 1.0)) if total > 0 else 0.0
    return out


def _kinetics_warnings(
    extrapolated: Mapping[str, float],
    times_s: FloatArray,
    recovery: Mapping[str, float] | None,
    uncorrected: Sequence[str],
) -> list[str]:
    notes: list[str] = []
    last_h = float(times_s[-1]) / 3600.0
    for name, share in extrapolated.items():
        if name != UNASSIGNED_REGION and share > EXTRAPOLATION_WARNING_FRACTION:
            notes.append(
                f"{100 * share:.0f} % of the TIA of {name} lies after the last time point "
                f"({last_h:.0f} h), outside the measured interval, and is extrapolated by the "
                "fit; consider a later time point"
            )
    for name, rc in (recovery or {}).items():
        if is_organ_region(name) and name not in uncorrected and rc * RECOVERY_FACTOR_WARNING < 1:
            notes.append(
                f"recovery (GTM) correction multiplies the activity of {name} by about "
                f"{1 / rc:.2f} (recovery coefficient {rc:.2f} < {1 / RECOVERY_FACTOR_WARNING:.2f}); "
                "check the PSF FWHM and the VOI"
            )
    return notes


def _region_tac(stack: npt.NDArray[np.float32], regions: Sequence[tuple[str, Any]]) -> FloatArray:
    """Activity in each region at each time point (rows: regions), Bq."""
    tac: FloatArray = np.array(
        [
            [float(stack[t][m].sum(dtype=np.float64)) for t in range(stack.shape[0])]
            for _, m in regions
        ],
        dtype=np.float64,
    ).reshape(len(regions), stack.shape[0])
    return tac


def _fit_best_region(
    row: FloatArray, times_s: FloatArray, name: str, nuclide: str, fallback: float, method: str
) -> tuple[float, str]:
    """Region TIA by prrt.kinetics.fit_best; the chain's value where it cannot fit."""
    if not np.any(row > 0):
        return 0.0, TiaMethod.ZERO.value
    try:
        curve = TimeActivityCurve(
            times_s=times_s, activities_bq=np.clip(row, 0.0, None), region=name, nuclide=nuclide
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = fit_best(curve)
    except (FitError, InvalidInputError) as err:
        logger.warning(
            "fit_best failed for region %s (%s); using the %s chain result", name, err, method
        )
        return float(fallback), method
    for w in caught:
        logger.info("region %s: %s", name, w.message)
    return float(fit.time_integrated_activity_bq_s), f"fit_best:{fit.model_name}"
