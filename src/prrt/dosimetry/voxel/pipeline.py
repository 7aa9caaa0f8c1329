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
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from prrt._typing import FloatArray
from prrt.dosimetry.voxel.backends import Device, select_backend
from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.density import (
    DEFAULT_MIN_DENSITY_G_PER_ML,
    density_correct,
    tissue_mask,
)
from prrt.dosimetry.voxel.dvh import cumulative_dvh, voi_statistics
from prrt.dosimetry.voxel.kernels import EmissionSet, VoxelKernel
from prrt.dosimetry.voxel.led import local_energy_deposition
from prrt.dosimetry.voxel.pipeline_inputs import (
    DoseMethod,
    RegionFit,
    TiaApproach,
    _activity_stack,
    _check_masks,
    _kernel_for,
    _parse_enum,
)
from prrt.dosimetry.voxel.pipeline_kinetics import (
    EXTRAPOLATION_WARNING_FRACTION,
    RECOVERY_FACTOR_WARNING,
    _extrapolated_fractions,
    _fit_best_region,
    _kinetics_warnings,
    _region_tac,
    is_organ_region,
)
from prrt.dosimetry.voxel.pipeline_results import VoxelDoseResult, VoxelTiaMap
from prrt.dosimetry.voxel.recovery import (
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
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity, check_same_geometry
from prrt.physics import get_nuclide
from prrt.provenance import Step
from prrt.units import J_PER_MEV

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


def _percent(share: float) -> str:
    """A share as a percentage that never prints a non-zero share as 0.00 %.

    Examples
    --------
    >>> _percent(0.1234), _percent(3e-7)
    ('12.34%', '<0.01%')
    """
    return "<0.01%" if 0 < share < 5e-5 else f"{share:.2%}"


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


# ----------------------------------------------------------------------------- dose


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
