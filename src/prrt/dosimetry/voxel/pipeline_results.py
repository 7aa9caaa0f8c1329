"""Results of the voxel dosimetry pipeline: the TIA map and the dose with its statistics.

:class:`VoxelTiaMap` is returned by
:func:`~prrt.dosimetry.voxel.pipeline.compute_voxel_tia` and
:class:`VoxelDoseResult` by :func:`~prrt.dosimetry.voxel.pipeline.compute_voxel_dose`
(and :func:`~prrt.dosimetry.voxel.pipeline.voxel_dosimetry`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prrt.dosimetry.voxel.dvh import DoseVolumeHistogram, VoiStatistics
from prrt.dosimetry.voxel.pipeline_inputs import DoseMethod, TiaApproach
from prrt.dosimetry.voxel.tia import TiaMethod, VoxelFitModel
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume
from prrt.units import J_PER_MEV

__all__ = ["VoxelDoseResult", "VoxelTiaMap"]


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
