"""Voxel dosimetry: voxel TIA, local deposition, kernel convolution, density correction, DVH.

The pipeline (:func:`voxel_dosimetry`) turns co-registered activity maps at
several times into a time-integrated activity map (voxel-wise fits or the
hybrid organ-TAC method, with optional partial-volume correction), an absorbed
dose map (dose-voxel-kernel convolution or local energy deposition, with
density correction) and dose statistics per organ and lesion. Kernels come from
:mod:`prrt.dosimetry.voxel.kernels`. A GPU is used through PyTorch when present
(``PRRT_DEVICE=cpu|cuda|auto`` or the ``device`` keyword).

See ``docs/dosimetry-voxel.md`` for the methods, settings and sources.
"""

from prrt.dosimetry.voxel.backends import ComputeBackend, Device, select_backend
from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.density import density_correct
from prrt.dosimetry.voxel.dvh import (
    DoseVolumeHistogram,
    VoiStatistics,
    cumulative_dvh,
    voi_statistics,
)
from prrt.dosimetry.voxel.led import local_energy_deposition
from prrt.dosimetry.voxel.pipeline import (
    DoseMethod,
    RegionFit,
    TiaApproach,
    VoxelDoseResult,
    VoxelTiaMap,
    compute_voxel_dose,
    compute_voxel_tia,
    voxel_dosimetry,
)
from prrt.dosimetry.voxel.tia import TiaMethod, VoxelFitModel, VoxelTiaResult, fit_voxel_tia

__all__ = [
    "ComputeBackend",
    "Device",
    "DoseMethod",
    "DoseVolumeHistogram",
    "RegionFit",
    "TiaApproach",
    "TiaMethod",
    "VoiStatistics",
    "VoxelDoseResult",
    "VoxelFitModel",
    "VoxelTiaMap",
    "VoxelTiaResult",
    "compute_voxel_dose",
    "compute_voxel_tia",
    "convolve_kernel",
    "cumulative_dvh",
    "density_correct",
    "fit_voxel_tia",
    "local_energy_deposition",
    "select_backend",
    "voi_statistics",
    "voxel_dosimetry",
]
