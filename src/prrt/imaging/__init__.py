"""Images as volumes with geometry and meaning; quantification, resampling, registration and synthetic phantoms.

The public surface: :class:`Volume`, :class:`VoxelQuantity`,
:func:`check_same_geometry` and :func:`resample_to` (module :mod:`prrt.imaging.volume`);
quantification in :mod:`prrt.imaging.quantification`; rigid registration in
:mod:`prrt.imaging.registration`; synthetic patients with known truth in
:mod:`prrt.imaging.phantoms`.  File formats (DICOM, NIfTI) live in
:mod:`prrt.adapters.dicom`, never here.
"""

from __future__ import annotations

from prrt.imaging.volume import (
    EXTENSIVE_QUANTITIES,
    Volume,
    VoxelQuantity,
    check_same_geometry,
    mask_on_grid,
    resample_to,
)

__all__ = [
    "EXTENSIVE_QUANTITIES",
    "Volume",
    "VoxelQuantity",
    "check_same_geometry",
    "mask_on_grid",
    "resample_to",
]
