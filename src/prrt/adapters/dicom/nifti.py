"""NIfTI-1 files <-> prrt volumes (nibabel), converting RAS <-> LPS on the way.

NIfTI's world space is RAS+ and DICOM's is LPS+: RAS x = −LPS x, RAS y = −LPS y,
z unchanged, so the stored affine is ``diag(−1, −1, 1, 1) @ affine_LPS`` (NIfTI-1
header documentation, "qform/sform"; nibabel "Coordinate systems and affines").
The array is written in its own dtype (masks as uint8) so a round trip is exact;
the quantity is stored in the header description as ``prrt:<quantity>`` (followed
by ``; <description>`` when one is given, e.g. the dose kernel's emission set and
energy per decay; 80 bytes at most) and the reference time, when set, in
``aux_file`` (whole seconds, with UTC offset).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.provenance import History, Step

__all__ = ["LPS_TO_RAS", "read_nifti", "write_nifti"]

#: Flips x and y: LPS <-> RAS (its own inverse).
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
_PREFIX = "prrt:"
_DESCRIP_BYTES = 80


def write_nifti(volume: Volume, path: Path | str, *, description: str = "") -> Path:
    """Write a volume as NIfTI-1 (``.nii`` or ``.nii.gz``) with a RAS affine.

    Parameters
    ----------
    volume
        The volume.
    path
        Output file.
    description
        Provenance appended to the header description after the quantity
        (``prrt:<quantity>; <description>``, ASCII, 80 bytes in all).

    Raises
    ------
    InvalidInputError
        The file name does not end in ``.nii`` or ``.nii.gz``, or the description
        is not ASCII or does not fit in 80 bytes.
    """
    out = Path(path)
    if not (out.name.endswith(".nii") or out.name.endswith(".nii.gz")):
        raise InvalidInputError("path", str(out), "a file name ending in .nii or .nii.gz")
    array = (
        volume.array.astype(np.uint8)
        if volume.quantity is VoxelQuantity.MASK
        else np.asarray(volume.array)
    )
    ras = LPS_TO_RAS @ volume.affine
    image = nib.Nifti1Image(array, ras)
    image.set_qform(ras, code=1)  # scanner-based anatomical coordinates
    image.set_sform(ras, code=1)
    header = image.header
    header.set_xyzt_units(xyz="mm", t="sec")
    text = f"{_PREFIX}{volume.quantity.value}" + (f"; {description}" if description else "")
    if not text.isascii() or len(text) > _DESCRIP_BYTES:
        raise InvalidInputError(
            "description", description, f"ASCII text of at most {_DESCRIP_BYTES} bytes in all"
        )
    header["descrip"] = text.encode("ascii")
    if volume.acquisition_time is not None:
        header["aux_file"] = volume.acquisition_time.strftime("%Y%m%dT%H%M%S%z").encode()[:24]
    out.parent.mkdir(parents=True, exist_ok=True)
    nib.save(image, str(out))
    return out


def read_nifti(path: Path | str, *, quantity: VoxelQuantity | str | None = None) -> Volume:
    """Read a NIfTI-1/2 file into a volume with an LPS affine.

    Parameters
    ----------
    path
        ``.nii`` or ``.nii.gz`` file.
    quantity
        Meaning of the values; required unless the file was written by prrt
        (description ``prrt:<quantity>``), and must agree with it when both are given.

    Raises
    ------
    InvalidInputError
        Not 3-D, unknown quantity, or values refused by :class:`Volume` (NaN, ...).
    """
    loaded = nib.load(str(path))
    if not isinstance(loaded, nib.Nifti1Image | nib.Nifti2Image):
        raise InvalidInputError("path", str(path), "a NIfTI-1 or NIfTI-2 image")
    image: Any = loaded
    header: Any = image.header
    descrip = (
        bytes(header["descrip"]).rstrip(b"\x00").decode(errors="replace")
        if "descrip" in header
        else ""
    )
    stored, _, provenance = (
        descrip[len(_PREFIX) :].partition(";") if descrip.startswith(_PREFIX) else (None, "", "")
    )
    stored = stored.strip() if stored is not None else None
    chosen = quantity if quantity is not None else stored
    if chosen is None:
        raise InvalidInputError(
            "quantity", None, "the meaning of the values", hint="pass quantity=... (e.g. 'dose_gy')"
        )
    chosen_q = VoxelQuantity(chosen) if not isinstance(chosen, VoxelQuantity) else chosen
    if stored is not None and quantity is not None and VoxelQuantity(stored) is not chosen_q:
        raise InvalidInputError("quantity", chosen_q.value, f"the file's quantity '{stored}'")
    data = np.asanyarray(image.dataobj)
    slope, intercept = (
        header.get_slope_inter() if hasattr(header, "get_slope_inter") else (None, None)
    )
    if slope not in (None, 1.0) or intercept not in (None, 0.0):
        data = image.get_fdata(dtype=np.float64)
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    acquisition_time = None
    aux = (
        bytes(header["aux_file"]).rstrip(b"\x00").decode(errors="replace")
        if "aux_file" in header
        else ""
    )
    if aux and stored is not None:
        try:
            acquisition_time = datetime.strptime(aux, "%Y%m%dT%H%M%S%z")
        except ValueError:
            acquisition_time = None
    parameters: dict[str, Any] = {"path": str(path)}
    if provenance.strip():
        parameters["description"] = provenance.strip()
    step = Step(name="read_nifti", method="nibabel; RAS to LPS", parameters=parameters)
    return Volume(
        array=data,
        affine=LPS_TO_RAS @ np.asarray(image.affine, dtype=np.float64),
        quantity=chosen_q,
        acquisition_time=acquisition_time,
        history=History().append(step),
    )
