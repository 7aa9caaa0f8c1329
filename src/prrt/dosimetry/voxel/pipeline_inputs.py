"""Input checks of the voxel dosimetry pipeline (:mod:`prrt.dosimetry.voxel.pipeline`).

The settings enumerations (:class:`TiaApproach`, :class:`RegionFit`,
:class:`DoseMethod`) and the checks of the activity maps, masks and kernel that
:func:`~prrt.dosimetry.voxel.pipeline.compute_voxel_tia` and
:func:`~prrt.dosimetry.voxel.pipeline.compute_voxel_dose` run before computing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from prrt._typing import FloatArray
from prrt.dosimetry.voxel.kernels import EmissionSet, VoxelKernel, voxel_kernel
from prrt.errors import GeometryMismatchError, InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity, check_same_geometry
from prrt.physics import get_nuclide
from prrt.units import seconds_between

__all__ = ["DoseMethod", "RegionFit", "TiaApproach"]


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
