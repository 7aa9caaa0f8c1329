"""Meaning of the values of a :class:`~prrt.imaging.volume.Volume`: :class:`VoxelQuantity`.

Each quantity has a canonical unit; :data:`EXTENSIVE_QUANTITIES` are amounts
per voxel (they sum over a region and scale with the voxel volume when the grid
changes), and some quantities may not be negative.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError

__all__ = ["EXTENSIVE_QUANTITIES", "VoxelQuantity"]


class VoxelQuantity(str, Enum):
    """Meaning (and canonical unit) of the values of a :class:`Volume`."""

    COUNTS = "counts"
    ACTIVITY_BQ = "activity_bq"
    ACTIVITY_CONCENTRATION_BQ_PER_ML = "activity_concentration_bq_per_ml"
    HU = "hu"
    DENSITY_G_PER_ML = "density_g_per_ml"
    DOSE_GY = "dose_gy"
    DOSE_RATE_GY_PER_S = "dose_rate_gy_per_s"
    TIA_BQ_S = "tia_bq_s"
    MASK = "mask"
    LABEL = "label"

    @property
    def unit(self) -> str:
        """Unit symbol of the values (``"1"`` for dimensionless counts, masks and labels)."""
        return _UNITS[self]


_UNITS: dict[VoxelQuantity, str] = {
    VoxelQuantity.COUNTS: "1",
    VoxelQuantity.ACTIVITY_BQ: "Bq",
    VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML: "Bq/mL",
    VoxelQuantity.HU: "HU",
    VoxelQuantity.DENSITY_G_PER_ML: "g/mL",
    VoxelQuantity.DOSE_GY: "Gy",
    VoxelQuantity.DOSE_RATE_GY_PER_S: "Gy/s",
    VoxelQuantity.TIA_BQ_S: "Bq s",
    VoxelQuantity.MASK: "1",
    VoxelQuantity.LABEL: "1",
}

#: Quantities whose voxel value is an amount *per voxel* (it sums over a region and
#: scales with the voxel volume when the grid changes).
EXTENSIVE_QUANTITIES: frozenset[VoxelQuantity] = frozenset(
    {VoxelQuantity.COUNTS, VoxelQuantity.ACTIVITY_BQ, VoxelQuantity.TIA_BQ_S}
)

#: Quantities that may not be negative.
_NONNEGATIVE: frozenset[VoxelQuantity] = frozenset(
    {
        VoxelQuantity.COUNTS,
        VoxelQuantity.ACTIVITY_BQ,
        VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML,
        VoxelQuantity.DENSITY_G_PER_ML,
        VoxelQuantity.DOSE_GY,
        VoxelQuantity.DOSE_RATE_GY_PER_S,
        VoxelQuantity.TIA_BQ_S,
        VoxelQuantity.LABEL,
    }
)


def _as_quantity(value: Any) -> VoxelQuantity:
    if isinstance(value, VoxelQuantity):
        return value
    try:
        return VoxelQuantity(value)
    except ValueError as err:
        allowed = ", ".join(q.value for q in VoxelQuantity)
        raise InvalidInputError("quantity", value, f"one of {allowed}") from err
