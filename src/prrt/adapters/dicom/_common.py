"""Shared DICOM helpers: identifiers, date/time tags, slice geometry <-> Volume affine.

Geometry follows DICOM PS3.3 C.7.6.2.1.1: Image Orientation (Patient) holds the
direction cosines of the first row (along which the column index grows) and of
the first column; Pixel Spacing is ``[row spacing, column spacing]`` =
``[spacing along the column direction, spacing along the row direction]``.
A prrt :class:`~prrt.imaging.Volume` written as slices has array axis 0 along the
row direction (DICOM column index), axis 1 along the column direction (DICOM row
index) and axis 2 along the slice normal, so ``frame[row, col] = array[col, row, k]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from prrt._typing import FloatArray
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume

__all__ = [
    "IMPLEMENTATION_VERSION",
    "DicomReference",
    "affine_from_slices",
    "canonical_slices",
    "dicom_datetime",
    "format_da_tm",
    "new_dataset",
    "read_datasets",
]

IMPLEMENTATION_VERSION = "PRRT_0_1"
#: Tolerance for geometry read from files (mm): positions and spacings are decimal strings.
GEOMETRY_TOL_MM = 1e-3


@dataclass(frozen=True)
class DicomReference:
    """Patient and study identifiers shared by the objects of one study.

    Results (RTDOSE, SEG, RTSTRUCT) written with the same reference land in the
    same patient, study and frame of reference as the images they derive from.
    """

    patient_id: str = "PRRT-ANON"
    patient_name: str = "PRRT^Anonymous"
    study_instance_uid: str = field(default_factory=generate_uid)
    frame_of_reference_uid: str = field(default_factory=generate_uid)
    study_date: str = ""
    study_time: str = ""
    study_id: str = "1"
    accession_number: str = ""

    @classmethod
    def from_dataset(cls, ds: Dataset) -> DicomReference:
        """Copy the identifiers of an existing image."""
        return cls(
            patient_id=str(getattr(ds, "PatientID", "") or "PRRT-ANON"),
            patient_name=str(getattr(ds, "PatientName", "") or "PRRT^Anonymous"),
            study_instance_uid=str(ds.StudyInstanceUID),
            frame_of_reference_uid=str(getattr(ds, "FrameOfReferenceUID", "") or generate_uid()),
            study_date=str(getattr(ds, "StudyDate", "") or ""),
            study_time=str(getattr(ds, "StudyTime", "") or ""),
            study_id=str(getattr(ds, "StudyID", "") or "1"),
            accession_number=str(getattr(ds, "AccessionNumber", "") or ""),
        )


def new_dataset(
    *,
    sop_class_uid: str,
    modality: str,
    reference: DicomReference,
    series_instance_uid: str,
    series_number: int,
    instance_number: int,
    series_description: str,
    content_time: datetime | None = None,
) -> Dataset:
    """A dataset with file meta, patient, study, series, equipment and SOP common modules."""
    sop_instance_uid = generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = pydicom.uid.UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = pydicom.uid.UID(pydicom.uid.PYDICOM_IMPLEMENTATION_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class_uid
    ds.SOPInstanceUID = sop_instance_uid
    when = content_time or datetime.now(UTC)
    date, time = format_da_tm(when)
    ds.InstanceCreationDate = date
    ds.InstanceCreationTime = time
    ds.TimezoneOffsetFromUTC = _format_offset(when)
    ds.PatientName = reference.patient_name
    ds.PatientID = reference.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = reference.study_instance_uid
    ds.StudyDate = reference.study_date or date
    ds.StudyTime = reference.study_time or time
    ds.StudyID = reference.study_id
    ds.AccessionNumber = reference.accession_number
    ds.ReferringPhysicianName = ""
    ds.Modality = modality
    ds.SeriesInstanceUID = series_instance_uid
    ds.SeriesNumber = int(series_number)
    ds.SeriesDescription = series_description[:64]
    ds.InstanceNumber = int(instance_number)
    ds.FrameOfReferenceUID = reference.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "prrt"
    ds.ManufacturerModelName = "prrt"
    ds.SoftwareVersions = IMPLEMENTATION_VERSION
    ds.ContentDate = date
    ds.ContentTime = time
    return ds


def save(ds: Dataset, path: Path) -> Path:
    """Write ``ds`` as a DICOM Part-10 file (explicit VR little endian)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


# -- dates and times --------------------------------------------------------------------------
def _format_offset(when: datetime) -> str:
    offset = when.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def format_da_tm(when: datetime) -> tuple[str, str]:
    """DICOM DA and TM strings of an aware datetime (in its own time zone)."""
    if when.tzinfo is None:
        raise InvalidInputError("time", when.isoformat(), "a time-zone aware datetime")
    return when.strftime("%Y%m%d"), when.strftime("%H%M%S.%f")


def format_dt(when: datetime) -> str:
    """DICOM DT string with the UTC offset."""
    if when.tzinfo is None:
        raise InvalidInputError("time", when.isoformat(), "a time-zone aware datetime")
    return when.strftime("%Y%m%d%H%M%S.%f") + _format_offset(when)


_OFFSET = re.compile(r"^([+-])(\d{2})(\d{2})$")
_DT = re.compile(r"^(\d{8})(\d{2})?(\d{2})?(\d{2})?(\.\d{1,6})?([+-]\d{4})?$")


def parse_offset(text: str, *, field_name: str) -> tzinfo:
    match = _OFFSET.match(text.strip())
    if match is None:
        raise InvalidInputError(field_name, text, "a UTC offset such as '+0100'")
    sign = 1 if match.group(1) == "+" else -1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def _parse_tm(text: str, *, field_name: str) -> tuple[int, int, int, int]:
    t = text.strip().replace(":", "")
    match = re.match(r"^(\d{2})(\d{2})?(\d{2})?(\.\d{1,6})?$", t)
    if match is None:
        raise InvalidInputError(field_name, text, "a DICOM time HHMMSS.FFFFFF")
    hour = int(match.group(1))
    minute = int(match.group(2) or 0)
    second = int(match.group(3) or 0)
    micro = round(float(match.group(4)) * 1e6) if match.group(4) else 0
    return hour, minute, second, min(micro, 999_999)


def dicom_datetime(
    ds: Dataset,
    *,
    datetime_keyword: str | None,
    date_keyword: str | None,
    time_keyword: str | None,
    what: str,
    timezone_: tzinfo | None,
    supply_as: str,
) -> datetime:
    """Read an aware datetime from a DT tag, or from DA + TM tags.

    The time zone comes from the DT value's offset, else Timezone Offset From UTC
    (0008,0201), else ``timezone_``; without any of them the time is refused
    rather than guessed.

    Raises
    ------
    InvalidInputError
        The tags are missing or malformed, or no time zone is known; the message
        names the tags and the argument (``supply_as``) that can supply the value.
    """
    dt_text = str(getattr(ds, datetime_keyword, "") or "") if datetime_keyword else ""
    offset_text = str(getattr(ds, "TimezoneOffsetFromUTC", "") or "")
    header_tz = (
        parse_offset(offset_text, field_name="TimezoneOffsetFromUTC") if offset_text else None
    )
    if dt_text:
        match = _DT.match(dt_text.strip())
        if match is None or match.group(2) is None:
            raise InvalidInputError(what, dt_text, f"a DICOM date-time in {datetime_keyword}")
        date = datetime.strptime(match.group(1), "%Y%m%d")
        frac = float(match.group(5)) if match.group(5) else 0.0
        tz = (
            parse_offset(match.group(6), field_name=str(datetime_keyword))
            if match.group(6)
            else header_tz or timezone_
        )
        if tz is None:
            raise InvalidInputError(
                what,
                dt_text,
                "a time with a known time zone",
                hint="the header has no UTC offset; pass timezone=... (e.g. datetime.UTC or ZoneInfo('Europe/Berlin'))",
            )
        return datetime(
            date.year,
            date.month,
            date.day,
            int(match.group(2) or 0),
            int(match.group(3) or 0),
            int(match.group(4) or 0),
            min(round(frac * 1e6), 999_999),
            tzinfo=tz,
        )
    date_text = str(getattr(ds, date_keyword, "") or "") if date_keyword else ""
    time_text = str(getattr(ds, time_keyword, "") or "") if time_keyword else ""
    if not date_text or not time_text:
        tags = " / ".join(k for k in (datetime_keyword, date_keyword, time_keyword) if k)
        missing = "date" if not date_text else "time"
        raise InvalidInputError(
            what,
            None,
            f"the {what} in the DICOM header ({tags})",
            hint=f"the {missing} is missing; supply it with {supply_as}",
        )
    tz = header_tz or timezone_
    if tz is None:
        raise InvalidInputError(
            what,
            f"{date_text} {time_text}",
            "a time with a known time zone",
            hint="the header has no TimezoneOffsetFromUTC; pass timezone=... "
            "(e.g. datetime.UTC or ZoneInfo('Europe/Berlin'))",
        )
    try:
        date = datetime.strptime(date_text.strip(), "%Y%m%d")
    except ValueError as err:
        raise InvalidInputError(
            what, date_text, f"a DICOM date YYYYMMDD in {date_keyword}"
        ) from err
    hour, minute, second, micro = _parse_tm(time_text, field_name=str(time_keyword))
    return datetime(date.year, date.month, date.day, hour, minute, second, micro, tzinfo=tz)


# -- reading files ----------------------------------------------------------------------------
def read_datasets(paths: Path | str | Iterable[Path | str]) -> list[tuple[Path, Dataset]]:
    """Read DICOM files from a file, a directory (recursively) or a list of files.

    Files that are not DICOM are skipped in directories and refused when named.
    """
    if isinstance(paths, str | Path):
        root = Path(paths)
        if not root.exists():
            raise InvalidInputError("path", str(root), "an existing DICOM file or directory")
        if root.is_dir():
            candidates = sorted(p for p in root.rglob("*") if p.is_file())
            named = False
        else:
            candidates = [root]
            named = True
    else:
        candidates = [Path(p) for p in paths]
        named = True
    out: list[tuple[Path, Dataset]] = []
    for path in candidates:
        try:
            ds = pydicom.dcmread(path, force=named)
        except (pydicom.errors.InvalidDicomError, OSError) as err:
            if named:
                raise InvalidInputError("path", str(path), "a readable DICOM file") from err
            continue
        if "SOPClassUID" not in ds:
            if named:
                raise InvalidInputError("path", str(path), "a DICOM file with a SOP Class UID")
            continue
        out.append((path, ds))
    return out


# -- geometry ---------------------------------------------------------------------------------
def canonical_slices(volume: Volume) -> tuple[np.ndarray[Any, Any], FloatArray]:
    """Array and affine with axis 2 along +(row × column) direction, as DICOM slices stack.

    A volume whose axis 2 points against the slice normal is flipped along axis 2
    (same image, same voxels in space).
    """
    if not volume.is_orthogonal:
        raise InvalidInputError(
            "volume",
            volume.describe_geometry(),
            "orthogonal voxel axes (DICOM slices have no shear)",
        )
    direction = volume.direction
    normal = np.cross(direction[:, 0], direction[:, 1])
    array = np.asarray(volume.array)
    affine = np.array(volume.affine)
    if float(np.dot(normal, direction[:, 2])) < 0:
        array = array[:, :, ::-1]
        affine[:3, 3] = volume.world_coordinates((0, 0, volume.shape[2] - 1))
        affine[:3, 2] = -affine[:3, 2]
    return array, affine


def slice_geometry(affine: FloatArray) -> dict[str, Any]:
    """ImageOrientationPatient, PixelSpacing and slice spacing of a canonical affine."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    row_dir = affine[:3, 0] / spacing[0]
    col_dir = affine[:3, 1] / spacing[1]
    return {
        "ImageOrientationPatient": [_ds(v) for v in (*row_dir, *col_dir)],
        "PixelSpacing": [_ds(spacing[1]), _ds(spacing[0])],
        "slice_spacing_mm": float(spacing[2]),
    }


def _ds(value: float) -> str:
    """Decimal string of at most 16 characters, as DS requires."""
    text = f"{float(value):.10g}"
    if len(text) > 16:
        text = f"{float(value):.8e}"
    return "0" if text == "-0" else text


def position_string(point: Sequence[float] | np.ndarray[Any, Any]) -> list[str]:
    """ImagePositionPatient as DS strings."""
    return [_ds(v) for v in point]


def affine_from_slices(
    *,
    orientation: Sequence[float],
    pixel_spacing: Sequence[float],
    positions: Sequence[Sequence[float]] | Sequence[np.ndarray[Any, Any]],
    what: str,
    single_slice_thickness_mm: float | None = None,
) -> FloatArray:
    """Affine of a stack of equally spaced slices (array axes: column, row, slice).

    Raises
    ------
    InvalidInputError
        Non-unit or non-perpendicular orientation, slices not on one line along
        the normal, or unequal slice spacing (a gap).
    """
    iop = np.asarray([float(v) for v in orientation], dtype=np.float64)
    if iop.shape != (6,):
        raise InvalidInputError(f"{what}.ImageOrientationPatient", list(orientation), "6 numbers")
    row_dir, col_dir = iop[:3], iop[3:]
    if not (
        math.isclose(np.linalg.norm(row_dir), 1.0, abs_tol=1e-4)
        and math.isclose(np.linalg.norm(col_dir), 1.0, abs_tol=1e-4)
        and abs(float(np.dot(row_dir, col_dir))) < 1e-4
    ):
        raise InvalidInputError(
            f"{what}.ImageOrientationPatient", iop.tolist(), "two perpendicular unit vectors"
        )
    normal = np.cross(row_dir, col_dir)
    spacing_rc = [float(v) for v in pixel_spacing]
    if len(spacing_rc) != 2 or min(spacing_rc) <= 0:
        raise InvalidInputError(
            f"{what}.PixelSpacing", list(pixel_spacing), "two positive spacings"
        )
    pts = np.asarray([[float(c) for c in p] for p in positions], dtype=np.float64)
    affine = np.eye(4)
    affine[:3, 0] = row_dir * spacing_rc[1]
    affine[:3, 1] = col_dir * spacing_rc[0]
    affine[:3, 3] = pts[0]
    if len(pts) == 1:
        thickness = single_slice_thickness_mm or min(spacing_rc)
        affine[:3, 2] = normal * float(thickness)
        return affine
    distances = (pts - pts[0]) @ normal
    steps = np.diff(distances)
    if np.any(steps <= 0):
        raise InvalidInputError(
            f"{what}.ImagePositionPatient",
            "slices not strictly ordered along the normal",
            "distinct slices",
        )
    if np.ptp(steps) > max(GEOMETRY_TOL_MM * 10, 1e-3 * float(np.mean(steps))):
        raise InvalidInputError(
            f"{what}.ImagePositionPatient",
            f"slice spacings from {steps.min():.4f} to {steps.max():.4f} mm",
            "equally spaced slices (no missing slice)",
            hint="a slice may be missing from the series",
        )
    in_plane = (pts - pts[0]) - np.outer(distances, normal)
    if np.max(np.abs(in_plane)) > 0.01:
        raise InvalidInputError(
            f"{what}.ImagePositionPatient",
            "slice origins not on a line along the normal",
            "an unsheared stack",
        )
    affine[:3, 2] = normal * float(np.mean(steps))
    return affine
