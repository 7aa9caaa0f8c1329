"""Volumes: a voxel array, its position in the patient and the meaning of its values.

A :class:`Volume` holds a 3-D array, a 4×4 affine that maps a voxel index
``(i, j, k, 1)`` to patient coordinates in DICOM LPS (mm), and a
:class:`VoxelQuantity` that says what the numbers are (counts, Bq per voxel,
Bq/mL, HU, g/mL, Gy, ...).  The design follows highdicom's ``volume.py``
``Volume`` (array + affine + meaning, validated in the constructor, no default
identity affine); foreign conventions such as NIfTI's RAS are converted on
entry in :mod:`prrt.adapters.dicom`.

Combining two volumes needs the same grid: :func:`check_same_geometry` raises
:class:`~prrt.errors.GeometryMismatchError` naming the volume that differs, and
:func:`resample_to` moves a volume onto another grid explicitly.

References
----------
DICOM PS3.3 C.7.6.2.1.1 (Image Position and Orientation, patient LPS system).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from prrt._typing import FloatArray
from prrt.errors import GeometryMismatchError, InvalidInputError
from prrt.imaging.volume_inputs import _validate_affine, _validate_array
from prrt.imaging.volume_quantity import (
    _NONNEGATIVE,
    EXTENSIVE_QUANTITIES,
    VoxelQuantity,
    _as_quantity,
)
from prrt.provenance import History, Step

__all__ = [
    "EXTENSIVE_QUANTITIES",
    "Volume",
    "VoxelQuantity",
    "check_same_geometry",
    "mask_on_grid",
    "resample_to",
]

_ML_PER_MM3 = 1e-3


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D image on a grid in patient space, with the meaning of its values.

    Parameters
    ----------
    array
        The voxel values, indexed ``array[i, j, k]``.  Stored as a read-only
        view: derive new volumes with :meth:`with_array`.
    affine
        4×4 matrix mapping ``(i, j, k, 1)`` to patient LPS coordinates in mm.
        There is no default: the grid must always be stated.
    quantity
        What the values mean (:class:`VoxelQuantity`); a value string such as
        ``"dose_gy"`` is accepted.
    acquisition_time
        Time-zone aware time the values refer to (e.g. SPECT acquisition start).
    history
        Provenance of the values.

    Raises
    ------
    InvalidInputError
        Not a 3-D array, empty, NaN/inf values, negative values of a quantity
        that cannot be negative, a mask that is not 0/1, a singular or malformed
        affine, or a naive ``acquisition_time``.

    Examples
    --------
    >>> import numpy as np
    >>> vol = Volume.from_spacing(np.ones((2, 3, 4)), spacing_mm=(4.0, 4.0, 5.0),
    ...                           quantity=VoxelQuantity.ACTIVITY_BQ)
    >>> vol.shape, vol.spacing_mm, vol.voxel_volume_ml
    ((2, 3, 4), (4.0, 4.0, 5.0), 0.08)
    >>> vol.world_coordinates((1, 0, 0)).tolist()
    [4.0, 0.0, 0.0]
    """

    array: npt.NDArray[Any]
    affine: FloatArray
    quantity: VoxelQuantity
    acquisition_time: datetime | None = None
    history: History = field(default_factory=History)

    def __post_init__(self) -> None:
        quantity = _as_quantity(self.quantity)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "array", _validate_array(self.array, quantity))
        object.__setattr__(self, "affine", _validate_affine(self.affine))
        t = self.acquisition_time
        if t is not None:
            if not isinstance(t, datetime):
                raise InvalidInputError("acquisition_time", t, "a datetime")
            if t.tzinfo is None or t.utcoffset() is None:
                raise InvalidInputError(
                    "acquisition_time",
                    t.isoformat(),
                    "a time-zone aware datetime",
                    hint="attach the site's time zone, e.g. tzinfo=datetime.UTC",
                )
        if not isinstance(self.history, History):
            raise InvalidInputError("history", self.history, "a prrt.provenance.History")

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_spacing(
        cls,
        array: npt.ArrayLike,
        *,
        spacing_mm: Sequence[float],
        origin_mm: Sequence[float] = (0.0, 0.0, 0.0),
        quantity: VoxelQuantity | str,
        acquisition_time: datetime | None = None,
        direction: npt.ArrayLike | None = None,
        history: History | None = None,
    ) -> Volume:
        """Build a volume from voxel spacing, origin and (optionally) direction cosines.

        Parameters
        ----------
        array
            Voxel values ``array[i, j, k]``.
        spacing_mm
            Spacing along array axes 0, 1, 2 (mm), all positive.
        origin_mm
            LPS position of the centre of voxel ``(0, 0, 0)`` (mm).
        quantity
            Meaning of the values.
        acquisition_time
            Time-zone aware time the values refer to.
        direction
            3×3 matrix whose columns are the LPS unit vectors of array axes 0, 1,
            2; identity (axis 0 → L, 1 → P, 2 → S) when omitted.
        history
            Provenance to carry.

        Returns
        -------
        Volume
        """
        spacing = np.asarray(spacing_mm, dtype=np.float64)
        if spacing.shape != (3,) or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
            raise InvalidInputError("spacing_mm", spacing_mm, "three positive spacings in mm")
        origin = np.asarray(origin_mm, dtype=np.float64)
        if origin.shape != (3,) or not np.all(np.isfinite(origin)):
            raise InvalidInputError("origin_mm", origin_mm, "three finite coordinates in mm")
        rotation = np.eye(3) if direction is None else np.asarray(direction, dtype=np.float64)
        if rotation.shape != (3, 3):
            raise InvalidInputError("direction", direction, "a 3x3 matrix of direction cosines")
        norms = np.linalg.norm(rotation, axis=0)
        if not np.allclose(norms, 1.0, atol=1e-6):
            raise InvalidInputError("direction", rotation.tolist(), "columns that are unit vectors")
        affine = np.eye(4)
        affine[:3, :3] = rotation * spacing[np.newaxis, :]
        affine[:3, 3] = origin
        return cls(
            array=np.asarray(array),
            affine=affine,
            quantity=_as_quantity(quantity),
            acquisition_time=acquisition_time,
            history=history if history is not None else History(),
        )

    def with_array(
        self,
        array: npt.ArrayLike,
        *,
        quantity: VoxelQuantity | str | None = None,
        step: Step | None = None,
        acquisition_time: datetime | None = None,
    ) -> Volume:
        """Return a volume on the same grid with new values.

        Parameters
        ----------
        array
            New values; must have this volume's shape.
        quantity
            New meaning; unchanged when omitted.
        step
            Provenance step appended to the history, when given.
        acquisition_time
            New reference time; unchanged when omitted.

        Raises
        ------
        GeometryMismatchError
            The new array's shape differs from this volume's.
        """
        values = np.asarray(array)
        if values.shape != self.shape:
            raise GeometryMismatchError(
                "array", f"shape {values.shape}", f"the volume's shape {self.shape}"
            )
        history = self.history if step is None else self.history.append(step)
        return Volume(
            array=values,
            affine=self.affine,
            quantity=self.quantity if quantity is None else _as_quantity(quantity),
            acquisition_time=(
                self.acquisition_time if acquisition_time is None else acquisition_time
            ),
            history=history,
        )

    def with_step(self, step: Step) -> Volume:
        """Return the same volume with ``step`` appended to its history."""
        return Volume(
            array=self.array,
            affine=self.affine,
            quantity=self.quantity,
            acquisition_time=self.acquisition_time,
            history=self.history.append(step),
        )

    # -- geometry -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """Number of voxels along array axes 0, 1, 2."""
        s = self.array.shape
        return (int(s[0]), int(s[1]), int(s[2]))

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel spacing along array axes 0, 1, 2 (mm)."""
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def origin_mm(self) -> tuple[float, float, float]:
        """LPS position of the centre of voxel ``(0, 0, 0)`` (mm)."""
        o = self.affine[:3, 3]
        return (float(o[0]), float(o[1]), float(o[2]))

    @property
    def direction(self) -> FloatArray:
        """3×3 matrix whose columns are the LPS unit vectors of array axes 0, 1, 2."""
        matrix: FloatArray = self.affine[:3, :3] / np.asarray(self.spacing_mm)[np.newaxis, :]
        return matrix

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel (mL)."""
        if self.is_orthogonal:
            sx, sy, sz = self.spacing_mm
            return sx * sy * sz * _ML_PER_MM3
        return abs(float(np.linalg.det(self.affine[:3, :3]))) * _ML_PER_MM3

    @property
    def is_orthogonal(self) -> bool:
        """Whether the array axes are mutually perpendicular (no shear)."""
        d = self.direction
        return bool(np.allclose(d.T @ d, np.eye(3), atol=1e-6))

    def world_coordinates(self, index: npt.ArrayLike) -> FloatArray:
        """LPS coordinates (mm) of voxel index/indices ``(..., 3)``."""
        idx = np.asarray(index, dtype=np.float64)
        coords: FloatArray = idx @ self.affine[:3, :3].T + self.affine[:3, 3]
        return coords

    def voxel_indices(self, points_mm: npt.ArrayLike) -> FloatArray:
        """Continuous voxel indices of LPS points ``(..., 3)`` (mm)."""
        pts = np.asarray(points_mm, dtype=np.float64)
        inverse = np.linalg.inv(self.affine)
        idx: FloatArray = pts @ inverse[:3, :3].T + inverse[:3, 3]
        return idx

    def geometry_equal(self, other: Volume, *, atol_mm: float = 1e-3) -> bool:
        """Whether ``other`` has the same shape and affine (to ``atol_mm``).

        Examples
        --------
        >>> import numpy as np
        >>> a = Volume.from_spacing(np.zeros((2, 2, 2)), spacing_mm=(1, 1, 1), quantity="dose_gy")
        >>> b = Volume.from_spacing(np.zeros((2, 2, 2)), spacing_mm=(1, 1, 1.01), quantity="dose_gy")
        >>> a.geometry_equal(a), a.geometry_equal(b)
        (True, False)
        """
        return self.shape == other.shape and bool(
            np.allclose(self.affine, other.affine, rtol=0.0, atol=atol_mm)
        )

    def describe_geometry(self) -> str:
        """Short text of shape, spacing, origin and direction (for messages and logs)."""
        spacing = ", ".join(f"{s:.4g}" for s in self.spacing_mm)
        origin = ", ".join(f"{o:.4g}" for o in self.origin_mm)
        direction = np.round(self.direction, 4).tolist()
        return (
            f"shape {self.shape}, spacing ({spacing}) mm, origin ({origin}) mm, "
            f"direction {direction}"
        )

    # -- values ---------------------------------------------------------------------------
    def sum_in(self, mask: Volume) -> float:
        """Sum of the values inside ``mask`` (same grid required, non-empty mask).

        Raises
        ------
        GeometryMismatchError
            ``mask`` is on another grid.
        InvalidInputError
            ``mask`` is not a mask or selects no voxel (empty VOI).
        """
        _check_mask(mask, self)
        return float(np.sum(self.array[mask.array], dtype=np.float64))

    def mean_in(self, mask: Volume) -> float:
        """Mean of the values inside ``mask`` (same grid required, non-empty mask)."""
        _check_mask(mask, self)
        return float(np.mean(self.array[mask.array], dtype=np.float64))


def _check_mask(mask: Volume, image: Volume, name: str = "mask") -> None:
    if mask.quantity is not VoxelQuantity.MASK:
        raise InvalidInputError(name, mask.quantity.value, "a volume of quantity 'mask'")
    check_same_geometry(image, mask, names=("image", name))
    if not np.any(mask.array):
        raise InvalidInputError(name, "an empty mask (0 voxels)", "a VOI with at least one voxel")


def check_same_geometry(*volumes: Volume, names: Sequence[str] | None = None) -> None:
    """Refuse to combine volumes that are not on the same grid.

    Parameters
    ----------
    *volumes
        Two or more volumes; each is compared with the first.
    names
        Names used in the message, one per volume (default ``volume[0]``, ...).

    Raises
    ------
    GeometryMismatchError
        Naming the first volume whose shape or affine differs from the first
        volume's, with both geometries.

    Examples
    --------
    >>> import numpy as np
    >>> ct = Volume.from_spacing(np.zeros((4, 4, 4)), spacing_mm=(1, 1, 1), quantity="hu")
    >>> spect = Volume.from_spacing(np.zeros((2, 2, 2)), spacing_mm=(2, 2, 2), quantity="counts")
    >>> check_same_geometry(ct, spect, names=("ct", "spect"))
    Traceback (most recent call last):
    ...
    prrt.errors.GeometryMismatchError: spect: got 'shape (2, 2, 2), ...
    """
    if names is not None and len(names) != len(volumes):
        raise InvalidInputError("names", list(names), f"{len(volumes)} names, one per volume")
    labels = list(names) if names is not None else [f"volume[{i}]" for i in range(len(volumes))]
    if not volumes:
        return
    first = volumes[0]
    for label, other in zip(labels[1:], volumes[1:], strict=True):
        if not first.geometry_equal(other):
            raise GeometryMismatchError(
                label,
                other.describe_geometry(),
                f"the grid of {labels[0]}: {first.describe_geometry()}",
                hint="resample explicitly with prrt.imaging.resample_to",
            )


def resample_to(
    volume: Volume,
    reference: Volume,
    *,
    order: int = 1,
    transform: npt.ArrayLike | None = None,
) -> Volume:
    """Resample ``volume`` onto the grid of ``reference``.

    Intensive quantities (Bq/mL, HU, g/mL, Gy, Gy/s) are interpolated.  Amounts per
    voxel (counts, Bq, Bq·s) are converted to an amount per mL, interpolated and
    multiplied by the new voxel volume, so that a region's total is kept (up to
    interpolation error).  Masks and labels use nearest-neighbour interpolation
    whatever ``order`` is.  Points outside ``volume`` get 0 (air: -1000 HU for HU).

    Parameters
    ----------
    volume
        The volume to move.
    reference
        The volume whose grid is wanted (its values are not used).
    order
        Spline order for continuous quantities: 0 (nearest), 1 (trilinear) or 3.
    transform
        Optional 4×4 matrix mapping a point of the reference's LPS space to the
        volume's LPS space (mm), e.g. a rigid registration result; identity when
        omitted.

    Returns
    -------
    Volume
        On ``reference``'s grid, same quantity and acquisition time, with a
        ``resample_to`` step in its history.

    Examples
    --------
    >>> import numpy as np
    >>> fine = Volume.from_spacing(np.ones((4, 4, 4)), spacing_mm=(1, 1, 1),
    ...                            origin_mm=(0.5, 0.5, 0.5), quantity="activity_bq")
    >>> coarse = Volume.from_spacing(np.zeros((2, 2, 2)), spacing_mm=(2, 2, 2),
    ...                              origin_mm=(1.0, 1.0, 1.0), quantity="activity_bq")
    >>> float(resample_to(fine, coarse).array.sum())  # total activity kept
    64.0
    """
    if order not in (0, 1, 3):
        raise InvalidInputError("order", order, "0 (nearest), 1 (trilinear) or 3 (cubic)")
    # Maps reference voxel index -> source voxel index: inv(A_src) @ T @ A_ref.
    point_map = np.eye(4) if transform is None else np.asarray(transform, dtype=np.float64)
    if point_map.shape != (4, 4) or not np.all(np.isfinite(point_map)):
        raise InvalidInputError(
            "transform", transform, "a finite 4x4 matrix (reference → volume, mm)"
        )
    mapping = np.linalg.inv(volume.affine) @ point_map @ reference.affine
    discrete = volume.quantity in (VoxelQuantity.MASK, VoxelQuantity.LABEL)
    spline = 0 if discrete else order
    cval = -1000.0 if volume.quantity is VoxelQuantity.HU else 0.0
    source: npt.NDArray[Any]
    if volume.quantity is VoxelQuantity.MASK:
        source = volume.array.astype(np.uint8)
    elif volume.quantity is VoxelQuantity.LABEL:
        source = volume.array
    elif volume.quantity in EXTENSIVE_QUANTITIES:
        source = volume.array.astype(np.float64)
    else:
        source = volume.array.astype(np.float64)
    out = ndimage.affine_transform(
        source,
        mapping[:3, :3],
        offset=mapping[:3, 3],
        output_shape=reference.shape,
        order=spline,
        # "grid-constant": the grid extends half a voxel beyond the edge centres, so
        # points that round-off puts a hair outside the last centre keep their value.
        mode="grid-constant",
        cval=cval,
        prefilter=spline > 1,
    )
    if volume.quantity is VoxelQuantity.MASK:
        out = out.astype(np.bool_)
    elif volume.quantity in EXTENSIVE_QUANTITIES:
        out = out * (reference.voxel_volume_ml / volume.voxel_volume_ml)
    if not discrete and volume.quantity in _NONNEGATIVE:
        # Cubic splines overshoot below zero next to sharp edges; an amount cannot be negative.
        out = np.clip(out, 0.0, None)
    step = Step(
        name="resample_to",
        method="scipy.ndimage.affine_transform"
        + (
            " (amount per mL, then x new voxel volume)"
            if volume.quantity in EXTENSIVE_QUANTITIES
            else ""
        ),
        parameters={
            "order": spline,
            "transform_lps_mm": None if transform is None else point_map.tolist(),
            "from_geometry": volume.describe_geometry(),
            "to_geometry": reference.describe_geometry(),
        },
    )
    return Volume(
        array=out,
        affine=reference.affine,
        quantity=volume.quantity,
        acquisition_time=volume.acquisition_time,
        history=volume.history.append(step),
    )


def mask_on_grid(mask: Volume, reference: Volume, *, name: str = "mask") -> Volume:
    """Put ``mask`` on ``reference``'s grid (nearest neighbour), refusing voxels outside it.

    Parameters
    ----------
    mask
        A mask on any grid in the same frame of reference.
    reference
        The image whose grid is wanted.
    name
        Name used in error messages (e.g. ``"masks['kidneys']"``).

    Raises
    ------
    InvalidInputError
        Not a mask, mask voxels whose centres lie outside the reference image
        ("mask outside the image"), or a mask that is empty on the new grid.

    Examples
    --------
    >>> import numpy as np
    >>> image = Volume.from_spacing(np.zeros((4, 4, 4)), spacing_mm=(2, 2, 2), quantity="hu")
    >>> m = np.zeros((8, 8, 8), dtype=bool); m[0:4, 0:4, 0:4] = True
    >>> fine = Volume.from_spacing(m, spacing_mm=(1, 1, 1), origin_mm=(-0.5, -0.5, -0.5),
    ...                            quantity="mask")
    >>> int(mask_on_grid(fine, image).array.sum())
    8
    """
    if mask.quantity is not VoxelQuantity.MASK:
        raise InvalidInputError(name, mask.quantity.value, "a volume of quantity 'mask'")
    if mask.geometry_equal(reference):
        if not np.any(mask.array):
            raise InvalidInputError(
                name, "an empty mask (0 voxels)", "a VOI with at least one voxel"
            )
        return mask
    centres = mask.world_coordinates(np.argwhere(mask.array))
    idx = reference.voxel_indices(centres)
    upper = np.asarray(reference.shape, dtype=np.float64) - 0.5
    outside = np.any((idx < -0.5 - 1e-6) | (idx > upper + 1e-6), axis=1)
    if np.any(outside):
        raise InvalidInputError(
            name,
            f"{int(outside.sum())} of {len(idx)} mask voxels outside the image",
            f"a mask inside the image ({reference.describe_geometry()})",
        )
    moved = resample_to(mask, reference, order=0)
    if not np.any(moved.array):
        raise InvalidInputError(
            name, "an empty mask on the image grid", "a VOI with at least one voxel"
        )
    return moved
