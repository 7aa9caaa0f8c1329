"""RT Dose (RTDOSE) files <-> absorbed-dose volumes.

Written as one multi-frame RT Dose Storage instance (DICOM PS3.3 A.18, C.8.8.3):
32-bit unsigned pixels, ``dose_gy = pixel × Dose Grid Scaling (3004,000E)`` with
the scaling ``max_dose / (2³² − 1)``, so every dose is stored within
``scaling / 2 = max_dose / 8 589 934 590`` (≈ 1.2e-10 of the maximum) of its
value.  Frames lie along the slice normal; Grid Frame Offset Vector (3004,000C)
holds each frame's offset (mm) from Image Position (Patient) of the first frame,
starting at 0, and Frame Increment Pointer points at it.  Dose Units GY, Dose
Type PHYSICAL, Dose Summation Type PLAN (no RT Plan exists for a radiopharmaceutical
therapy, so none is referenced).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydicom.multival import MultiValue
from pydicom.uid import RTDoseStorage, generate_uid

from prrt.adapters.dicom._common import (
    DicomReference,
    affine_from_slices,
    canonical_slices,
    new_dataset,
    position_string,
    read_datasets,
    save,
    slice_geometry,
)
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.provenance import History, Step

__all__ = ["RTDOSE_MAX_PIXEL", "read_rtdose", "write_rtdose"]

#: Largest stored pixel value (32-bit unsigned).
RTDOSE_MAX_PIXEL = 2**32 - 1


def write_rtdose(
    dose: Volume,
    path: Path | str,
    *,
    reference: DicomReference | None = None,
    series_description: str = "prrt absorbed dose",
    comment: str = "",
    image_comments: str = "",
) -> Path:
    """Write an absorbed-dose volume (Gy) as a DICOM RTDOSE file.

    Parameters
    ----------
    dose
        Volume of quantity ``dose_gy`` (non-negative).
    path
        Output file.
    reference
        Patient/study/frame-of-reference identifiers of the images the dose was
        computed from (e.g. ``Study.reference`` from :func:`read_study`); new ones
        when omitted.
    series_description
        Series Description.
    comment
        Dose Comment (3004,0006), LO: at most 64 characters, e.g. the nuclide,
        kernel emission set and energy per decay.
    image_comments
        Image Comments (0020,4000) of the General Image module, LT (at most
        10240 characters): the longer provenance.

    Returns
    -------
    Path

    Raises
    ------
    InvalidInputError
        Not an absorbed dose (dose rates and other quantities cannot be stored as
        RTDOSE with unit GY), a sheared grid, a comment over 64 characters or a
        series description over 64 characters.
    """
    for name, text, limit in (
        ("comment", comment, 64),
        ("series_description", series_description, 64),
        ("image_comments", image_comments, 10240),
    ):
        if len(text) > limit or "\\" in text:
            raise InvalidInputError(name, text, f"at most {limit} characters without backslash")
    if dose.quantity is not VoxelQuantity.DOSE_GY:
        raise InvalidInputError(
            "dose", dose.quantity.value, "a volume of quantity 'dose_gy' (RTDOSE stores Gy only)"
        )
    ref = reference or DicomReference()
    array, affine = canonical_slices(dose)
    values = np.asarray(array, dtype=np.float64)
    maximum = float(values.max())
    # The scaling is written as a decimal string (DS, <= 16 characters); the pixels are
    # computed with the value that will be read back, rounded up so that the maximum
    # still fits in 32 bits.  Then every dose is within scaling/2 of its value.
    exact = maximum / RTDOSE_MAX_PIXEL if maximum > 0 else 1.0
    scaling_text = f"{exact * (1.0 + 1e-9):.9e}"
    scaling = float(scaling_text)
    stored = np.rint(values / scaling)
    stored = np.clip(stored, 0, RTDOSE_MAX_PIXEL).astype("<u4")
    geometry = slice_geometry(affine)
    ds = new_dataset(
        sop_class_uid=RTDoseStorage,
        modality="RTDOSE",
        reference=ref,
        series_instance_uid=generate_uid(),
        series_number=100,
        instance_number=1,
        series_description=series_description,
    )
    nz = array.shape[2]
    step_mm = geometry["slice_spacing_mm"]
    ds.ImagePositionPatient = position_string(affine[:3, 3])
    ds.ImageOrientationPatient = geometry["ImageOrientationPatient"]
    ds.PixelSpacing = geometry["PixelSpacing"]
    ds.SliceThickness = f"{step_mm:.10g}"
    ds.NumberOfFrames = nz
    ds.FrameIncrementPointer = 0x3004000C
    ds.GridFrameOffsetVector = [f"{k * step_mm:.10g}" for k in range(nz)]
    ds.DoseUnits = "GY"
    ds.DoseType = "PHYSICAL"
    ds.DoseSummationType = "PLAN"
    ds.DoseGridScaling = scaling_text
    if comment:
        ds.DoseComment = comment
    if image_comments:
        ds.ImageComments = image_comments
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = int(array.shape[1])
    ds.Columns = int(array.shape[0])
    ds.BitsAllocated = 32
    ds.BitsStored = 32
    ds.HighBit = 31
    ds.PixelRepresentation = 0
    frames = np.stack([stored[:, :, k].T for k in range(nz)], axis=0)
    ds.PixelData = np.ascontiguousarray(frames).tobytes()
    return save(ds, Path(path))


def read_rtdose(path: Path | str) -> Volume:
    """Read an RTDOSE file into an absorbed-dose volume (Gy).

    Raises
    ------
    InvalidInputError
        Not an RTDOSE file, units other than GY, or missing/irregular frame offsets.
    """
    items = read_datasets(Path(path))
    ds = items[0][1]
    if str(getattr(ds, "Modality", "")) != "RTDOSE":
        raise InvalidInputError("path", str(path), "an RTDOSE file")
    units = str(getattr(ds, "DoseUnits", "")).upper()
    if units != "GY":
        raise InvalidInputError("DoseUnits", units, "'GY' (relative doses cannot be used)")
    nz = int(getattr(ds, "NumberOfFrames", 1) or 1)
    offsets_raw = getattr(ds, "GridFrameOffsetVector", None)
    if offsets_raw is None or offsets_raw == "":
        if nz > 1:
            raise InvalidInputError("GridFrameOffsetVector", None, "one offset per frame")
        offsets = [0.0]
    else:
        many = isinstance(offsets_raw, MultiValue | list | tuple)
        offsets = [float(v) for v in (offsets_raw if many else [offsets_raw])]
    if len(offsets) != nz:
        raise InvalidInputError(
            "GridFrameOffsetVector", len(offsets), f"{nz} offsets, one per frame"
        )
    iop = [float(v) for v in ds.ImageOrientationPatient]
    normal = np.cross(iop[:3], iop[3:])
    origin = np.array([float(v) for v in ds.ImagePositionPatient])
    # Image Position (Patient) is the first frame's position.  Offsets are relative to it
    # when the first is 0, else absolute along the normal (PS3.3 C.8.8.3.2); either way
    # frame k lies at origin + (offset_k - offset_0) along the normal.
    positions = [origin + (off - offsets[0]) * normal for off in offsets]
    order = np.argsort(offsets)
    pixels: Any = ds.pixel_array.reshape(nz, int(ds.Rows), int(ds.Columns))
    scaling = float(ds.DoseGridScaling)
    affine = affine_from_slices(
        orientation=iop,
        pixel_spacing=[float(v) for v in ds.PixelSpacing],
        positions=[positions[i] for i in order],
        what="rtdose",
        single_slice_thickness_mm=float(getattr(ds, "SliceThickness", 0) or 0) or None,
    )
    array = np.stack([pixels[i].T.astype(np.float64) * scaling for i in order], axis=2)
    step = Step(
        name="read_rtdose",
        method="pydicom",
        parameters={
            "path": str(path),
            "dose_grid_scaling": scaling,
            "frames": nz,
            "dose_comment": str(getattr(ds, "DoseComment", "") or ""),
            "series_description": str(getattr(ds, "SeriesDescription", "") or ""),
            "image_comments": str(getattr(ds, "ImageComments", "") or ""),
        },
    )
    return Volume(
        array=array,
        affine=affine,
        quantity=VoxelQuantity.DOSE_GY,
        history=History().append(step),
    )
