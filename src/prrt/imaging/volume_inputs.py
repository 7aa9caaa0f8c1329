"""Checks of the array and affine of a :class:`~prrt.imaging.volume.Volume`.

Run by the constructor: a 3-D, non-empty array of finite values that fit the
quantity (0/1 masks, integer labels, no negative amounts), and a finite,
non-singular 4×4 affine whose last row is (0, 0, 0, 1).  Both are stored read-only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from prrt._typing import FloatArray
from prrt.errors import InvalidInputError
from prrt.imaging.volume_quantity import _NONNEGATIVE, VoxelQuantity

__all__: list[str] = []


def _validate_affine(affine: Any) -> FloatArray:
    try:
        matrix = np.array(affine, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidInputError("affine", affine, "a 4x4 array of numbers") from err
    if matrix.shape != (4, 4):
        raise InvalidInputError("affine", f"shape {matrix.shape}", "a 4x4 matrix")
    if not np.all(np.isfinite(matrix)):
        raise InvalidInputError("affine", matrix.tolist(), "finite numbers only")
    if not np.allclose(matrix[3], (0.0, 0.0, 0.0, 1.0)):
        raise InvalidInputError("affine", matrix[3].tolist(), "last row (0, 0, 0, 1)")
    if abs(float(np.linalg.det(matrix[:3, :3]))) < 1e-9:
        raise InvalidInputError(
            "affine", matrix[:3, :3].tolist(), "a non-singular 3x3 part (voxel spacing > 0)"
        )
    matrix.flags.writeable = False
    return matrix


def _validate_array(array: Any, quantity: VoxelQuantity) -> npt.NDArray[Any]:
    values = np.asarray(array)
    if values.ndim != 3:
        raise InvalidInputError(
            "array", f"{values.ndim}-D array of shape {values.shape}", "a 3-D array"
        )
    if values.size == 0:
        raise InvalidInputError("array", f"shape {values.shape}", "a non-empty 3-D array")
    if quantity is VoxelQuantity.MASK:
        if values.dtype != np.bool_:
            if not np.issubdtype(values.dtype, np.number) or not np.all(
                (values == 0) | (values == 1)
            ):
                raise InvalidInputError(
                    "array", f"dtype {values.dtype}", "a boolean mask (or only 0 and 1)"
                )
            values = values.astype(np.bool_)
    elif quantity is VoxelQuantity.LABEL:
        if not np.issubdtype(values.dtype, np.integer):
            raise InvalidInputError("array", f"dtype {values.dtype}", "integer labels")
    else:
        if not np.issubdtype(values.dtype, np.number) or np.issubdtype(
            values.dtype, np.complexfloating
        ):
            raise InvalidInputError("array", f"dtype {values.dtype}", "real numbers")
        if np.issubdtype(values.dtype, np.floating):
            bad = ~np.isfinite(values)
            if np.any(bad):
                first = tuple(int(x) for x in np.argwhere(bad)[0])
                raise InvalidInputError(
                    "array",
                    f"{int(bad.sum())} non-finite voxel(s) (NaN or inf), first at index {first}",
                    f"finite {quantity.value} values",
                    hint="mask or replace NaN/inf before building the volume",
                )
    if quantity in _NONNEGATIVE and values.dtype != np.bool_:
        minimum = values.min()
        if minimum < 0:
            first = tuple(int(x) for x in np.argwhere(values < 0)[0])
            raise InvalidInputError(
                "array",
                f"negative value {float(minimum)!r} (first at index {first})",
                f"non-negative {quantity.value} values",
            )
    view = values.view()
    view.flags.writeable = False
    return view
