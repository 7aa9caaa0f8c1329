"""Models and integration methods of the voxel TIA chain (:mod:`prrt.dosimetry.voxel.tia`).

:class:`VoxelFitModel` is the first model of the per-voxel chain;
:class:`TiaMethod` is the method that produced a voxel's TIA, with its integer
code in the method map.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["TiaMethod", "VoxelFitModel"]


class VoxelFitModel(str, Enum):
    """First model of the per-voxel chain (later ones are the fallbacks)."""

    BIEXPONENTIAL = "biexp"
    MONOEXPONENTIAL = "mono"
    TRAPEZOID = "trapezoid"


class TiaMethod(str, Enum):
    """Method that produced a voxel's TIA; the value is its code in ``method_map``."""

    ZERO = "zero"
    BIEXPONENTIAL = "biexp"
    MONOEXPONENTIAL = "mono"
    TRAPEZOID = "trapezoid"
    OUTSIDE = "outside"
    UPTAKE_WASHOUT = "uptake"

    @property
    def code(self) -> int:
        """Integer code stored in :attr:`VoxelTiaResult.method_map`."""
        return _CODES[self]


_CODES = {
    TiaMethod.ZERO: 0,
    TiaMethod.BIEXPONENTIAL: 1,
    TiaMethod.MONOEXPONENTIAL: 2,
    TiaMethod.TRAPEZOID: 3,
    TiaMethod.OUTSIDE: 4,
    TiaMethod.UPTAKE_WASHOUT: 5,
}
