"""Pixel data and single-slice series of :mod:`prrt.adapters.dicom.series`.

Writing 16-bit unsigned monochrome pixel data, choosing one series among DICOM
files, and stacking single-slice files (CT, or NM/PT one slice per file) along
the slice normal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from prrt.adapters.dicom._common import affine_from_slices
from prrt.errors import InvalidInputError

__all__: list[str] = []


def _set_pixels(ds: Dataset, frames: np.ndarray[Any, Any]) -> None:
    """Set 16-bit unsigned monochrome pixel data (frames × rows × columns or rows × columns)."""
    data = np.ascontiguousarray(frames, dtype="<u2")
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = int(data.shape[-2])
    ds.Columns = int(data.shape[-1])
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = data.tobytes()


def _group_series(
    datasets: list[tuple[Path, Dataset]], *, modality: set[str], series_uid: str | None, what: str
) -> list[tuple[Path, Dataset]]:
    chosen = [(p, d) for p, d in datasets if str(getattr(d, "Modality", "")) in modality]
    if series_uid is not None:
        chosen = [(p, d) for p, d in chosen if str(d.SeriesInstanceUID) == series_uid]
    if not chosen:
        raise InvalidInputError(
            what, "no matching files", f"DICOM files of modality {sorted(modality)}"
        )
    uids = sorted({str(d.SeriesInstanceUID) for _, d in chosen})
    if len(uids) > 1:
        raise InvalidInputError(
            what,
            f"{len(uids)} series: {uids}",
            "one series",
            hint="pass series_uid=... to choose one",
        )
    return chosen


def _stack_slices(
    files: list[tuple[Path, Dataset]], *, what: str, rescale: bool = True
) -> tuple[np.ndarray[Any, Any], Any, list[tuple[Path, Dataset]]]:
    """Stack single-slice files along the normal; returns array, affine and files in order."""
    first = files[0][1]
    iop = [float(v) for v in first.ImageOrientationPatient]
    for path, ds in files:
        if not np.allclose([float(v) for v in ds.ImageOrientationPatient], iop, atol=1e-4):
            raise InvalidInputError(
                f"{what}.ImageOrientationPatient", str(path), "the same orientation in every slice"
            )
        if (int(ds.Rows), int(ds.Columns)) != (int(first.Rows), int(first.Columns)):
            raise InvalidInputError(
                f"{what}.Rows/Columns", str(path), "the same matrix in every slice"
            )
    normal = np.cross(iop[:3], iop[3:])
    ordered = sorted(
        files,
        key=lambda item: float(np.dot([float(v) for v in item[1].ImagePositionPatient], normal)),
    )
    affine = affine_from_slices(
        orientation=iop,
        pixel_spacing=[float(v) for v in first.PixelSpacing],
        positions=[[float(v) for v in ds.ImagePositionPatient] for _, ds in ordered],
        what=what,
        single_slice_thickness_mm=float(getattr(first, "SliceThickness", 0) or 0) or None,
    )
    planes = []
    for _, ds in ordered:
        plane = ds.pixel_array.astype(np.float64)
        if rescale:
            slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
            intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
            plane = plane * slope + intercept
        planes.append(plane.T)
    return np.stack(planes, axis=2), affine, ordered
