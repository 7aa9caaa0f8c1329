"""Voxel dosimetry pipeline: activity maps at several times → TIA map → dose map → VOI statistics.

Steps (``dosimetry-reference.md`` §3 and §4; ``docs/dosimetry-voxel.md``):

1. **Time-integrated activity** (:func:`compute_voxel_tia`), one of

   * ``fit`` — every voxel's TAC is integrated by the vectorised chain of
     :mod:`prrt.dosimetry.voxel.tia` (bi-exponential → uptake–washout →
     mono-exponential → trapezoid with physical tail), counting each method;
   * ``hybrid`` — each region's TAC (sum of the activity in its mask at each
     time) is fitted by the same chain, and its TIA is spread over the region's
     voxels in proportion to the voxel's summed activity over all time points
     ("organ TAC shape × voxel map"); voxels in no mask form one more region.

   With ``psf_fwhm_mm`` the region totals are corrected for partial-volume
   spill-in and spill-out by the geometric transfer matrix
   (:mod:`prrt.dosimetry.voxel.recovery`): for ``hybrid`` the region TACs are
   corrected at each time point before the fit; for ``fit`` the voxel TIA map is
   rescaled region by region so that each region's total equals its corrected
   total. The recovery coefficients are part of the result.
2. **Absorbed dose** (:func:`compute_voxel_dose`) by dose-voxel-kernel
   convolution (kernel from :func:`prrt.dosimetry.voxel.kernels.voxel_kernel`
   at the image's voxel size) or by local energy deposition of the
   non-penetrating energy per decay (electrons, alphas and recoils; §3.4);
   with a density map, ``ρ_kernel / ρ`` rescaling (§3.5), with tissue below
   0.1 g/mL set to 0.
3. **VOI statistics** — mean, min, max, D2, D50, D98 per organ and lesion
   (:mod:`prrt.dosimetry.voxel.dvh`).

Each step appends a provenance :class:`~prrt.provenance.Step` to the history of
the volume it produces.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from prrt._typing import FloatArray
from prrt.dosimetry.voxel.backends import Device, select_backend
from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.density import (
    DEFAULT_MIN_DENSITY_G_PER_ML,
    density_correct,
    tissue_mask,
)
from prrt.dosimetry.voxel.dvh import (
    DoseVolumeHistogram,
    VoiStatistics,
    cumulative_dvh,
    voi_statistics,
)
from prrt.dosimetry.voxel.kernels import EmissionSet, VoxelKernel, voxel_kernel
from prrt.dosimetry.voxel.led import local_energy_deposition
from prrt.dosimetry.voxel.recovery import (
    UNASSIGNED_REGION,
    RecoveryCorrection,
    TransferMatrix,
    check_psf_fwhm,
    geometric_transfer_matrix,
    partition,
)
from prrt.dosimetry.voxel.tia import (
    TiaMethod,
    VoxelFitModel,
    fit_tia_curves,
    fit_voxel_tia,
)
from prrt.errors import FitError, GeometryMismatchError, InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity, check_same_geometry
from prrt.kinetics import TimeActivityCurve, fit_best
from prrt.physics import get_nuclide
from prrt.provenance import Step
from prrt.units import J_PER_MEV, seconds_between

__all__ = [
    "EXTRAPOLATION_WARNING_FRACTION",
    "RECOVERY_FACTOR_WARNING",
    "DoseMethod",
    "RegionFit",
    "TiaApproach",
    "VoxelDoseResult",
    "VoxelTiaMap",
    "compute_voxel_dose",
    "compute_voxel_tia",
    "is_organ_region",
    "voxel_dosimetry",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[str], None]
_REGION_FIT_ITERATIONS = 200
_DVH_BINS = 50
#: Soft tissue, as the kernels (§3.6.1), when LED has no density map.
_DEFAULT_LED_DENSITY = 1.04
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


class TiaApproach(str, Enum):
    """How the voxel TIA map is obtained."""

    FIT = "fit"
    HYBRID = "hybrid"


class RegionFit(str, Enum):
    """How the hybrid method integrates each region's TAC."""

    CHAIN = "chain"
    FIT_BEST = "fit_best"


class DoseMethod(str, Enum):
    """How the TIA map becomes absorbed dose."""

    CONVOLUTION = "convolution"
    LED = "led"


@dataclass(frozen=True)
class VoxelTiaMap:
    """A voxel time-integrated activity map and how it was made.

    Attributes
    ----------
    tia
        TIA per voxel (quantity ``tia_bq_s``), with its provenance.
    approach
        ``fit`` or ``hybrid``.
    model
        First model of the fit chain.
    method_counts
        Voxels per integration method (for ``hybrid``: voxels per method of their region).
    region_methods
        Method of each region's TAC (``hybrid``); empty for ``fit``.
    region_tia_bq_s
        TIA of each disjoint region after any recovery correction, Bq·s.
    recovery_coefficients
        Diagonal of the transfer matrix per region (``None`` without PSF correction).
    psf_fwhm_mm
        PSF FWHM used for the recovery correction, mm (``None``: none).
    times_s
        Times of the maps after the administration, s.
    backend
        Compute backend label.
    recovery_uncorrected
        Regions left uncorrected for their too low recovery coefficient.
    gtm_condition_number
        Condition number of the solved transfer matrix (``None``: no correction).
    warnings
        Notes for the user (partial-volume correction and extrapolation checks).
    region_extrapolated_fraction
        Share of each region's TIA after the last time point (extrapolated).
    """

    tia: Volume
    approach: TiaApproach
    model: VoxelFitModel
    method_counts: Mapping[str, int]
    region_methods: Mapping[str, str]
    region_tia_bq_s: Mapping[str, float]
    recovery_coefficients: Mapping[str, float] | None
    psf_fwhm_mm: float | None
    times_s: tuple[float, ...]
    backend: str
    recovery_uncorrected: tuple[str, ...] = ()
    gtm_condition_number: float | None = None
    warnings: tuple[str, ...] = ()
    region_extrapolated_fraction: Mapping[str, float] = field(default_factory=dict)

    @property
    def most_used_method(self) -> str | None:
        """The integration method of most voxels with activity (``None``: no such voxel).

        Voxels without activity (``zero``) or left out (``outside``) are not counted.
        """
        idle = (TiaMethod.ZERO.value, TiaMethod.OUTSIDE.value)
        used = {k: v for k, v in self.method_counts.items() if v and k not in idle}
        return max(used, key=lambda k: used[k]) if used else None


@dataclass(frozen=True)
class VoxelDoseResult:
    """Voxel absorbed dose and its statistics per organ and lesion.

    Attributes
    ----------
    dose
        Absorbed dose per voxel (quantity ``dose_gy``), with its provenance.
    tia
        The TIA map it came from.
    nuclide
        Canonical nuclide name.
    dose_method
        ``convolution`` or ``led``.
    regions
        :class:`~prrt.dosimetry.voxel.dvh.VoiStatistics` per mask, in the order given.
    kernel
        Kernel provenance (``None`` for local deposition).
    energy_per_decay_j
        Energy per decay deposited locally (LED) or represented by the kernel, J.
    density_corrected
        Whether ``ρ_kernel/ρ`` rescaling was applied.
    voxels_outside_tissue
        Voxels below the tissue density threshold (dose set to 0).
    tia_map
        How the TIA map was made (``None`` when a TIA volume was given directly).
    backend
        Compute backend label of the convolution.
    warnings
        Notes for the user (e.g. activity in air set to 0 dose).
    dvhs
        Cumulative dose-volume histogram per mask (50 dose bins).
    """

    dose: Volume
    tia: Volume
    nuclide: str
    dose_method: DoseMethod
    regions: tuple[VoiStatistics, ...]
    kernel: Mapping[str, Any] | None
    energy_per_decay_j: float
    density_corrected: bool
    voxels_outside_tissue: int
    tia_map: VoxelTiaMap | None = None
    backend: str = "numpy-cpu"
    warnings: tuple[str, ...] = field(default=())
    dvhs: tuple[DoseVolumeHistogram, ...] = field(default=())

    @property
    def provenance_label(self) -> str:
        """Short provenance (≤ 64 characters): nuclide, kernel emission set, energy per decay.

        Written into the RTDOSE Dose Comment and the NIfTI description.
        """
        energy_mev = self.energy_per_decay_j / J_PER_MEV
        if self.kernel is not None:
            what = f"kernel {self.kernel.get('emission_set', '?')}"
        else:
            what = "LED non-penetrating"
        return f"prrt {self.nuclide} {what} {energy_mev:.4f} MeV/decay"[:64]

    @property
    def provenance_text(self) -> str:
        """Longer provenance: method, emissions included, energy per decay, density correction."""
        energy_mev = self.energy_per_decay_j / J_PER_MEV
        parts = [f"prrt voxel dosimetry {self.nuclide}", f"dose method {self.dose_method.value}"]
        if self.kernel is not None:
            parts.append(f"kernel emission set {self.kernel.get('emission_set')}")
            included = self.kernel.get("emissions_included")
            if included:
                parts.append("emissions " + "+".join(str(c) for c in included))
        else:
            parts.append("local deposition of electrons, alphas and recoils")
        parts.append(f"energy per decay {energy_mev:.6g} MeV ({self.energy_per_decay_j:.6g} J)")
        parts.append(f"density corrected {'yes' if self.density_corrected else 'no'}")
        if self.tia_map is not None:
            parts.append(f"TIA {self.tia_map.approach.value}")
            if self.tia_map.psf_fwhm_mm is not None:
                parts.append(f"GTM recovery PSF FWHM {self.tia_map.psf_fwhm_mm:g} mm")
        return "; ".join(parts)

    def region(self, name: str) -> VoiStatistics:
        """Statistics of the VOI called ``name``."""
        for stats in self.regions:
            if stats.name == name:
                return stats
        raise InvalidInputError("region", name, "one of " + ", ".join(s.name for s in self.regions))

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable summary of organ and lesion doses (keys carry units)."""
        tia_map = self.tia_map
        return {
            "nuclide": self.nuclide,
            "dose_method": self.dose_method.value,
            "tia_method": tia_map.approach.value if tia_map else None,
            "fit_model": tia_map.model.value if tia_map else None,
            "fit_model_most_used": tia_map.most_used_method if tia_map else None,
            "tia_method_counts": dict(tia_map.method_counts) if tia_map else None,
            "region_tac_methods": dict(tia_map.region_methods) if tia_map else None,
            "psf_fwhm_mm": tia_map.psf_fwhm_mm if tia_map else None,
            "recovery_coefficients": (
                dict(tia_map.recovery_coefficients)
                if tia_map and tia_map.recovery_coefficients
                else None
            ),
            "recovery_uncorrected_regions": (
                list(tia_map.recovery_uncorrected) if tia_map else None
            ),
            "gtm_condition_number": tia_map.gtm_condition_number if tia_map else None,
            "times_s": list(tia_map.times_s) if tia_map else None,
            "region_extrapolated_fraction": (
                dict(tia_map.region_extrapolated_fraction) if tia_map else None
            ),
            "backend": self.backend,
            "grid": {
                "shape": list(self.dose.shape),
                "spacing_mm": list(self.dose.spacing_mm),
                "voxel_volume_ml": self.dose.voxel_volume_ml,
            },
            "total_tia_bq_s": float(self.tia.array.sum()),
            "max_dose_gy": float(self.dose.array.max()),
            "energy_per_decay_j": self.energy_per_decay_j,
            "energy_per_decay_mev": self.energy_per_decay_j / J_PER_MEV,
            "emission_set": self.kernel.get("emission_set") if self.kernel else None,
            "provenance": self.provenance_label,
            "density_corrected": self.density_corrected,
            "voxels_outside_tissue": self.voxels_outside_tissue,
            "kernel": dict(self.kernel) if self.kernel else None,
            "regions": [s.to_dict() for s in self.regions],
            "dvh": {
                h.name: {
                    "dose_gy": h.dose_gy.tolist(),
                    "volume_fraction": h.volume_fraction.tolist(),
                }
                for h in self.dvhs
            },
            "warnings": list(self.warnings),
        }


# ----------------------------------------------------------------------------- inputs


def _percent(share: float) -> str:
    """A share as a percentage that never prints a non-zero share as 0.00 %.

    Examples
    --------
    >>> _percent(0.1234), _percent(3e-7)
    ('12.34%', '<0.01%')
    """
    return "<0.01%" if 0 < share < 5e-5 else f"{share:.2%}"


def _parse_enum(enum: type[Enum], value: Any, field_name: str) -> Any:
    if isinstance(value, enum):
        return value
    try:
        return enum(str(value).strip().lower())
    except ValueError as err:
        allowed = ", ".join(repr(m.value) for m in enum)
        raise InvalidInputError(field_name, value, f"one of {allowed}") from err


def _check_masks(masks: Mapping[str, Volume] | None, reference: Volume) -> list[tuple[str, Volume]]:
    checked: list[tuple[str, Volume]] = []
    for name, mask in (masks or {}).items():
        label = f"masks[{name}]"
        if not isinstance(mask, Volume) or mask.quantity is not VoxelQuantity.MASK:
            got = mask.quantity.value if isinstance(mask, Volume) else type(mask).__name__
            raise InvalidInputError(label, got, "a Volume of quantity 'mask'")
        if not mask.geometry_equal(reference):
            raise GeometryMismatchError(
                label,
                mask.describe_geometry(),
                f"a mask on the grid of the activity maps: {reference.describe_geometry()}",
                hint="the mask lies (partly) outside the image grid; resample it onto the SPECT grid",
            )
        if not np.any(mask.array):
            raise InvalidInputError(
                label, "an empty VOI (0 voxels)", "a VOI with at least one voxel"
            )
        checked.append((name, mask))
    return checked


def _activity_stack(
    activity_maps: Sequence[Volume], injection_time: datetime
) -> tuple[list[Volume], FloatArray, npt.NDArray[np.float32]]:
    if not isinstance(injection_time, datetime) or injection_time.tzinfo is None:
        raise InvalidInputError(
            "injection_time", injection_time, "a time-zone aware datetime of the administration"
        )
    maps = list(activity_maps)
    if len(maps) < 2:
        raise InvalidInputError(
            "activity_maps", f"{len(maps)} map(s)", "activity maps at two or more time points"
        )
    times: list[float] = []
    for i, vol in enumerate(maps):
        if not isinstance(vol, Volume):
            raise InvalidInputError(f"activity_maps[{i}]", type(vol).__name__, "a prrt Volume")
        if vol.quantity not in (
            VoxelQuantity.ACTIVITY_BQ,
            VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML,
        ):
            raise InvalidInputError(
                f"activity_maps[{i}]",
                vol.quantity.value,
                "an activity map (activity_bq or activity_concentration_bq_per_ml)",
                hint="calibrate counts to activity first (prrt.imaging.quantification)",
            )
        if vol.acquisition_time is None:
            raise InvalidInputError(
                f"activity_maps[{i}].acquisition_time",
                None,
                "the acquisition time of every activity map",
                hint="a time point lacks its time stamp",
            )
        times.append(seconds_between(injection_time, vol.acquisition_time))
    check_same_geometry(*maps, names=[f"activity_maps[{i}]" for i in range(len(maps))])
    order = np.argsort(times, kind="stable")
    maps = [maps[i] for i in order]
    times_s = np.asarray([times[i] for i in order], dtype=np.float64)
    if times_s[0] <= 0:
        raise InvalidInputError(
            "activity_maps.acquisition_time",
            f"{times_s[0]:g} s after the administration",
            "acquisitions after the injection time",
        )
    if np.any(np.diff(times_s) <= 0):
        raise InvalidInputError(
            "activity_maps.acquisition_time",
            "two maps at the same time",
            "distinct acquisition times",
        )
    stack = np.empty((len(maps), *maps[0].shape), dtype=np.float32)
    for i, vol in enumerate(maps):
        values = np.asarray(vol.array, dtype=np.float64)
        if vol.quantity is VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML:
            values = values * vol.voxel_volume_ml
        if not np.all(np.isfinite(values)):
            raise InvalidInputError(
                f"activity_maps[{i}]", "NaN or infinite values", "finite activities in every voxel"
            )
        stack[i] = values
    return maps, times_s, stack


# ----------------------------------------------------------------------------- TIA


def compute_voxel_tia(
    activity_maps: Sequence[Volume],
    *,
    injection_time: datetime,
    nuclide: str,
    masks: Mapping[str, Volume] | None = None,
    approach: TiaApproach | str = TiaApproach.FIT,
    model: VoxelFitModel | str = VoxelFitModel.BIEXPONENTIAL,
    psf_fwhm_mm: float | None = None,
    device: Device | str | None = None,
    iterations: int = 12,
    region_fit: RegionFit | str = RegionFit.CHAIN,
) -> VoxelTiaMap:
    """Voxel time-integrated activity from co-registered activity maps.

    Parameters
    ----------
    activity_maps
        Activity (Bq per voxel, or Bq/mL) at two or more times, on one grid,
        each with its ``acquisition_time``.
    injection_time
        Time-zone aware time of the administration.
    nuclide
        Radionuclide, e.g. ``"Lu-177"`` (physical decay constant for the tail).
    masks
        Organ and lesion masks on the same grid (needed for ``hybrid`` and the
        recovery correction).
    approach
        ``"fit"`` (voxel-wise) or ``"hybrid"`` (region TAC × voxel map).
    model
        First model of the fit chain: ``"biexp"``, ``"mono"`` or ``"trapezoid"``.
    psf_fwhm_mm
        FWHM of the SPECT resolution, mm, for the GTM recovery correction;
        ``None`` for none.
    device
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"torch-cpu"`` (``None``: ``PRRT_DEVICE``).
    iterations
        Levenberg–Marquardt iterations of the voxel fits.
    region_fit
        ``hybrid`` only: how region TACs are integrated — ``"chain"`` (default,
        the voxel fit chain) or ``"fit_best"`` (:func:`prrt.kinetics.fit_best`,
        AICc selection among at most 2-parameter models for 4 points, as the
        organ-level dosimetry does; the chain is used where it fails).

    Returns
    -------
    VoxelTiaMap

    Raises
    ------
    InvalidInputError
        Fewer than two maps, a map without acquisition time, maps before the
        injection or at the same time, NaN values, a mask that is empty, not a
        mask or on another grid (:class:`~prrt.errors.GeometryMismatchError`),
        ``hybrid`` without masks.
    """
    tia_approach: TiaApproach = _parse_enum(TiaApproach, approach, "approach")
    fit_model: VoxelFitModel = _parse_enum(VoxelFitModel, model, "model")
    fitter: RegionFit = _parse_enum(RegionFit, region_fit, "region_fit")
    maps, times_s, stack = _activity_stack(activity_maps, injection_time)
    reference = maps[0]
    checked = _check_masks(masks, reference)
    lam = get_nuclide(nuclide).decay_constant_per_s
    if psf_fwhm_mm is not None:
        check_psf_fwhm(psf_fwhm_mm, spacing_mm=reference.spacing_mm, shape=reference.shape)
    if tia_approach is TiaApproach.HYBRID and not checked:
        raise InvalidInputError("masks", None, "organ/lesion masks for the hybrid method")
    if psf_fwhm_mm is not None and not checked:
        raise InvalidInputError("masks", None, "organ/lesion masks for the recovery correction")
    regions = partition([(n, m.array) for n, m in checked], reference.shape) if checked else []
    transfer: TransferMatrix | None = None
    if psf_fwhm_mm is not None:
        transfer = geometric_transfer_matrix(
            regions, spacing_mm=reference.spacing_mm, psf_fwhm_mm=psf_fwhm_mm
        )
    backend = select_backend(device).label
    region_methods: dict[str, str] = {}
    correction: RecoveryCorrection | None = None
    if tia_approach is TiaApproach.FIT:
        result = fit_voxel_tia(
            stack,
            times_s=times_s,
            decay_constant_per_s=lam,
            model=fit_model,
            device=device,
            iterations=iterations,
        )
        tia = result.tia_bq_s
        counts = dict(result.method_counts)
        backend = result.backend
        observed = np.array([tia[m].sum() for _, m in regions])
        extrapolated = _extrapolated_fractions(
            [n for n, _ in regions], _region_tac(stack, regions), list(observed), times_s
        )
        if transfer is not None:
            correction = transfer.correct_checked(observed)
            corrected = correction.corrected
            tia = tia.copy()
            for (_, m), obs, cor in zip(regions, observed, corrected, strict=True):
                tia[m] *= cor / obs if obs > 0 else 0.0
    else:
        tac = _region_tac(stack, regions)
        if transfer is not None:
            correction = transfer.correct_checked(tac)
            tac = correction.corrected
        region_tia, codes = fit_tia_curves(
            tac.T.copy(),
            times_s=times_s,
            decay_constant_per_s=lam,
            model=fit_model,
            iterations=_REGION_FIT_ITERATIONS,
        )
        weights = np.clip(stack, 0.0, None).sum(axis=0, dtype=np.float64)
        tia = np.zeros(reference.shape, dtype=np.float64)
        code_names = {m.code: m.value for m in TiaMethod}
        counts = {m.value: 0 for m in TiaMethod}
        for (name, m), row, value, code in zip(regions, tac, region_tia, codes, strict=True):
            method = code_names[int(code)]
            if fitter is RegionFit.FIT_BEST:
                value, method = _fit_best_region(row, times_s, name, nuclide, value, method)
            w = weights[m]
            total = w.sum()
            tia[m] = value * (w / total if total > 0 else np.full(w.shape, 1.0 / w.size))
            region_methods[name] = method
            counts[method] = counts.get(method, 0) + int(m.sum())
        extrapolated = _extrapolated_fractions(
            [n for n, _ in regions],
            tac,
            [float(tia[m].sum()) for _, m in regions],
            times_s,
        )
    region_tia = {name: float(tia[m].sum()) for name, m in regions}
    notes = list(correction.warnings) if correction else []
    notes += _kinetics_warnings(
        extrapolated,
        times_s,
        transfer.recovery_coefficients if transfer else None,
        correction.uncorrected_regions if correction else (),
    )
    step = Step(
        name="voxel_tia",
        method=(
            "voxel-wise fit chain biexp→uptake→mono→trapezoid+physical tail"
            if tia_approach is TiaApproach.FIT
            else "hybrid: region TAC fit × voxel map (sum over time points)"
        ),
        parameters={
            "approach": tia_approach.value,
            "model": fit_model.value,
            "times_s": [float(t) for t in times_s],
            "decay_constant_per_s": lam,
            "psf_fwhm_mm": psf_fwhm_mm,
            "recovery": "geometric transfer matrix (Rousset 1998)" if transfer else None,
            "recovery_uncorrected_regions": (
                list(correction.uncorrected_regions) if correction else None
            ),
            "method_counts": counts,
            "backend": backend,
        },
        data_sources=("dosimetry-reference.md §4.1",),
    )
    tia_volume = reference.with_array(
        tia, quantity=VoxelQuantity.TIA_BQ_S, step=step, acquisition_time=injection_time
    )
    return VoxelTiaMap(
        tia=tia_volume,
        approach=tia_approach,
        model=fit_model,
        method_counts=counts,
        region_methods=region_methods,
        region_tia_bq_s=region_tia,
        recovery_coefficients=transfer.recovery_coefficients if transfer else None,
        psf_fwhm_mm=psf_fwhm_mm,
        times_s=tuple(float(t) for t in times_s),
        backend=backend,
        recovery_uncorrected=correction.uncorrected_regions if correction else (),
        gtm_condition_number=correction.condition_number if correction else None,
        warnings=tuple(notes),
        region_extrapolated_fraction=extrapolated,
    )


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


# ----------------------------------------------------------------------------- dose


def _kernel_for(
    tia: Volume,
    nuclide: str,
    kernel: VoxelKernel | None,
    emission_set: EmissionSet | str,
    half_width_voxels: int,
) -> VoxelKernel:
    if kernel is None:
        return voxel_kernel(
            nuclide=nuclide,
            spacing_mm=tia.spacing_mm,
            half_width_voxels=half_width_voxels,
            emission_set=_parse_enum(EmissionSet, emission_set, "emission_set"),
        )
    if not np.allclose(kernel.spacing_mm, tia.spacing_mm, rtol=0.0, atol=1e-3):
        raise GeometryMismatchError(
            "kernel.spacing_mm",
            list(kernel.spacing_mm),
            f"the voxel size of the TIA map {list(tia.spacing_mm)} mm",
            hint="build the kernel at the image voxel size (§3.1: never interpolate kernel values)",
        )
    if get_nuclide(kernel.nuclide).name != get_nuclide(nuclide).name:
        raise InvalidInputError("kernel.nuclide", kernel.nuclide, f"a kernel of {nuclide}")
    return kernel


def compute_voxel_dose(
    tia: Volume | VoxelTiaMap,
    *,
    nuclide: str,
    masks: Mapping[str, Volume] | None = None,
    density: Volume | None = None,
    dose_method: DoseMethod | str = DoseMethod.CONVOLUTION,
    kernel: VoxelKernel | None = None,
    emission_set: EmissionSet | str = EmissionSet.COMPLETE,
    kernel_half_width_voxels: int = 5,
    min_density_g_per_ml: float = DEFAULT_MIN_DENSITY_G_PER_ML,
    device: Device | str | None = None,
) -> VoxelDoseResult:
    """Absorbed dose map and per-VOI statistics from a TIA map.

    Parameters
    ----------
    tia
        TIA map (quantity ``tia_bq_s``) or the result of :func:`compute_voxel_tia`.
    nuclide
        Radionuclide of the kernel / energy per decay.
    masks
        Organ and lesion masks on the same grid, for the statistics.
    density
        Mass density map (``density_g_per_ml``) on the same grid; enables the
        ``ρ_kernel/ρ`` correction (convolution) or per-voxel masses (LED).
    dose_method
        ``"convolution"`` (default) or ``"led"``.
    kernel
        A kernel at the image voxel size; built with
        :func:`~prrt.dosimetry.voxel.kernels.voxel_kernel` when omitted.
    emission_set
        Emissions of the built kernel: ``"complete"`` or ``"betas+photons"`` (§3.6.8).
    kernel_half_width_voxels
        Half-width of the built kernel (11³ by default).
    min_density_g_per_ml
        Voxels below this density hold no tissue: dose 0 there.
    device
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"torch-cpu"`` for the convolution.

    Returns
    -------
    VoxelDoseResult

    Raises
    ------
    InvalidInputError
        A TIA volume of another quantity, masks or density on another grid
        (:class:`~prrt.errors.GeometryMismatchError`), an empty VOI, a kernel of
        another voxel size or nuclide.
    """
    tia_map = tia if isinstance(tia, VoxelTiaMap) else None
    tia_volume = tia.tia if isinstance(tia, VoxelTiaMap) else tia
    if not isinstance(tia_volume, Volume) or tia_volume.quantity is not VoxelQuantity.TIA_BQ_S:
        got = (
            tia_volume.quantity.value
            if isinstance(tia_volume, Volume)
            else type(tia_volume).__name__
        )
        raise InvalidInputError("tia", got, "a Volume of quantity 'tia_bq_s'")
    method: DoseMethod = _parse_enum(DoseMethod, dose_method, "dose_method")
    checked = _check_masks(masks, tia_volume)
    density_map: FloatArray | None = None
    if density is not None:
        if density.quantity is not VoxelQuantity.DENSITY_G_PER_ML:
            raise InvalidInputError("density", density.quantity.value, "a density_g_per_ml volume")
        check_same_geometry(tia_volume, density, names=("tia", "density"))
        density_map = np.asarray(density.array, dtype=np.float64)
    nuc = get_nuclide(nuclide)
    values = np.asarray(tia_volume.array, dtype=np.float64)
    kernel_info: dict[str, Any] | None = None
    backend = "numpy-cpu"
    outside = 0
    warnings: list[str] = list(tia_map.warnings) if tia_map else []
    if method is DoseMethod.CONVOLUTION:
        used = _kernel_for(tia_volume, nuc.name, kernel, emission_set, kernel_half_width_voxels)
        backend = select_backend(device).label
        dose = convolve_kernel(values, used.values_gy_per_bq_s, device=device)
        kernel_info = dict(used.provenance())
        energy_j = used.energy_per_decay_j
        if density_map is not None:
            dose = density_correct(
                dose,
                density_g_per_ml=density_map,
                kernel_density_g_per_ml=used.density_g_per_ml,
                min_density_g_per_ml=min_density_g_per_ml,
            )
        parameters: dict[str, Any] = {"kernel": kernel_info, "backend": backend}
        description = "dose-voxel-kernel convolution (MIRD Pamphlet 17), zero-padded real FFT"
    else:
        energy_j = nuc.chain_emissions.non_penetrating_mev * J_PER_MEV
        rho: float | FloatArray = density_map if density_map is not None else _DEFAULT_LED_DENSITY
        dose = local_energy_deposition(
            values,
            energy_per_decay_j=energy_j,
            voxel_volume_ml=tia_volume.voxel_volume_ml,
            density_g_per_ml=rho,
            min_density_g_per_ml=min_density_g_per_ml,
        )
        parameters = {
            "energy_per_decay_j": energy_j,
            "density_g_per_ml": "map" if density_map is not None else _DEFAULT_LED_DENSITY,
        }
        description = "local energy deposition of electrons, alphas and recoils (§3.4)"
    if density_map is not None:
        not_tissue = ~tissue_mask(density_map, min_density_g_per_ml=min_density_g_per_ml)
        outside = int(np.count_nonzero(not_tissue))
        lost = float(values[not_tissue].sum())
        if lost > 0:
            share = lost / max(float(values.sum()), 1e-300)
            warnings.append(
                f"{_percent(share)} of the TIA lies in {outside} voxels below "
                f"{min_density_g_per_ml:g} g/mL (air/gas); their dose is set to 0"
            )
    parameters.update(
        {
            "density_corrected": density_map is not None,
            "min_density_g_per_ml": min_density_g_per_ml,
            "voxels_outside_tissue": outside,
        }
    )
    step = Step(
        name=f"voxel_dose_{method.value}",
        method=description,
        parameters=parameters,
        data_sources=("ICRP-107", "dosimetry-reference.md §3"),
    )
    dose_volume = tia_volume.with_array(dose, quantity=VoxelQuantity.DOSE_GY, step=step)
    stats = tuple(
        voi_statistics(
            dose,
            mask.array,
            name=name,
            voxel_volume_ml=tia_volume.voxel_volume_ml,
            density_g_per_ml=density_map,
            tia_bq_s=values,
        )
        for name, mask in checked
    )
    dvhs = tuple(
        cumulative_dvh(dose, mask.array, name=name, n_bins=_DVH_BINS) for name, mask in checked
    )
    return VoxelDoseResult(
        dose=dose_volume,
        tia=tia_volume,
        nuclide=nuc.name,
        dose_method=method,
        regions=stats,
        kernel=kernel_info,
        energy_per_decay_j=energy_j,
        density_corrected=density_map is not None,
        voxels_outside_tissue=outside,
        tia_map=tia_map,
        backend=backend,
        warnings=tuple(warnings),
        dvhs=dvhs,
    )


def voxel_dosimetry(
    activity_maps: Sequence[Volume],
    *,
    injection_time: datetime,
    nuclide: str,
    masks: Mapping[str, Volume] | None = None,
    density: Volume | None = None,
    approach: TiaApproach | str = TiaApproach.FIT,
    model: VoxelFitModel | str = VoxelFitModel.BIEXPONENTIAL,
    dose_method: DoseMethod | str = DoseMethod.CONVOLUTION,
    emission_set: EmissionSet | str = EmissionSet.COMPLETE,
    kernel_half_width_voxels: int = 5,
    psf_fwhm_mm: float | None = None,
    device: Device | str | None = None,
    progress: ProgressCallback | None = None,
    region_fit: RegionFit | str = RegionFit.CHAIN,
) -> VoxelDoseResult:
    """Whole voxel pipeline: :func:`compute_voxel_tia` then :func:`compute_voxel_dose`.

    Parameters are those of the two functions; ``progress`` (optional) is
    called with the name of each step as it starts (for a progress bar).

    Returns
    -------
    VoxelDoseResult
    """
    report = progress or (lambda _step: None)
    report("time-integrated activity")
    tia_map = compute_voxel_tia(
        activity_maps,
        injection_time=injection_time,
        nuclide=nuclide,
        masks=masks,
        approach=approach,
        model=model,
        psf_fwhm_mm=psf_fwhm_mm,
        device=device,
        region_fit=region_fit,
    )
    report("absorbed dose")
    result = compute_voxel_dose(
        tia_map,
        nuclide=nuclide,
        masks=masks,
        density=density,
        dose_method=dose_method,
        emission_set=emission_set,
        kernel_half_width_voxels=kernel_half_width_voxels,
        device=device,
    )
    report("done")
    return result
