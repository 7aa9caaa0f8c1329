"""CT image series and NM (SPECT reconstruction) images <-> prrt volumes.

* CT: one CT Image Storage instance per slice, stored values ``HU = pixel × slope +
  intercept`` (slope 1, intercept −1024, unsigned 16 bit on writing: HU are
  rounded to integers).
* NM: one multi-frame NM Image Storage instance ("RECON TOMO"), frames along
  Slice Vector (0054,0080), geometry in the Detector Information Sequence.
  Values are unsigned 16 bit; the meaning is given by a Real World Value Mapping
  (0040,9096) item (UCUM ``{counts}`` or ``Bq/mL`` and the slope), so
  non-integer counts and activity concentrations keep their scale.  Reading also
  accepts NM or PT reconstructions stored as one slice per file.
* Times: acquisition start from Acquisition Date/Time (0008,0022/0032) or
  Acquisition DateTime (0008,002A); injection from Radiopharmaceutical Start
  DateTime (0018,1078) in the Radiopharmaceutical Information Sequence
  (0054,0016); injected activity from Radionuclide Total Dose (0018,1074), which
  is in **MBq for NM** and in **Bq for PET** (DICOM PS3.3 C.8.4.10 and C.8.9.2).
  A missing value raises :class:`~prrt.errors.InvalidInputError` naming the tag
  and the argument that supplies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import CTImageStorage, NuclearMedicineImageStorage, generate_uid

from prrt.adapters.dicom._common import (
    DicomReference,
    affine_from_slices,
    canonical_slices,
    dicom_datetime,
    format_da_tm,
    format_dt,
    new_dataset,
    position_string,
    read_datasets,
    save,
    slice_geometry,
)
from prrt.adapters.dicom.series_nm_header import (
    SUPPLY_ACQUISITION_TIME,
    SUPPLY_INJECTION_TIME,
    _header_injection_time,
    _header_tz,
    _nm_values,
    _nuclide_of,
    _stated_or_header,
)
from prrt.adapters.dicom.series_nm_header import TIME_TOLERANCE_S as TIME_TOLERANCE_S
from prrt.adapters.dicom.series_pixels import _group_series, _set_pixels, _stack_slices
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.physics import get_nuclide
from prrt.provenance import History, Step

__all__ = [
    "NmImage",
    "read_ct_series",
    "read_nm",
    "write_ct_series",
    "write_nm",
]

_CT_INTERCEPT = -1024.0
_UINT16_MAX = 65535
_UCUM_COUNTS = ("{counts}", "UCUM", "Counts")
_UCUM_BQ_PER_ML = ("Bq/mL", "UCUM", "Becquerels/milliliter")
_PET_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.128"


# -- CT ---------------------------------------------------------------------------------------
def write_ct_series(
    ct: Volume,
    directory: Path | str,
    *,
    reference: DicomReference | None = None,
    series_description: str = "prrt CT",
    series_number: int = 1,
    acquisition_time: datetime | None = None,
) -> tuple[Path, ...]:
    """Write a CT volume (HU) as one CT Image Storage file per slice.

    HU are rounded to integers (the stored resolution of CT); slices follow the
    normal of the first two array axes.

    Returns
    -------
    tuple of Path
        The files written, in slice order.

    Raises
    ------
    InvalidInputError
        Not HU, HU outside [−1024, 64511], or a sheared grid.
    """
    if ct.quantity is not VoxelQuantity.HU:
        raise InvalidInputError("ct", ct.quantity.value, "a volume of quantity 'hu'")
    ref = reference or DicomReference()
    array, affine = canonical_slices(ct)
    stored = np.rint(array - _CT_INTERCEPT)
    if stored.min() < 0 or stored.max() > _UINT16_MAX:
        raise InvalidInputError(
            "ct", f"HU from {array.min()} to {array.max()}", "HU within [-1024, 64511]"
        )
    geometry = slice_geometry(affine)
    normal = affine[:3, 2] / np.linalg.norm(affine[:3, 2])
    out_dir = Path(directory)
    series_uid = generate_uid()
    when = acquisition_time or ct.acquisition_time
    paths: list[Path] = []
    for k in range(array.shape[2]):
        ds = new_dataset(
            sop_class_uid=CTImageStorage,
            modality="CT",
            reference=ref,
            series_instance_uid=series_uid,
            series_number=series_number,
            instance_number=k + 1,
            series_description=series_description,
        )
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
        if when is not None:
            ds.AcquisitionDate, ds.AcquisitionTime = format_da_tm(when)
        ds.ImagePositionPatient = position_string(affine[:3, 3] + k * affine[:3, 2])
        ds.ImageOrientationPatient = geometry["ImageOrientationPatient"]
        ds.PixelSpacing = geometry["PixelSpacing"]
        ds.SliceThickness = f"{geometry['slice_spacing_mm']:.6g}"
        ds.SliceLocation = f"{float(np.dot(affine[:3, 3] + k * affine[:3, 2], normal)):.6f}"
        ds.KVP = "120"
        ds.RescaleIntercept = f"{_CT_INTERCEPT:g}"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        _set_pixels(ds, stored[:, :, k].T.astype(np.uint16))
        paths.append(save(ds, out_dir / f"CT_{k + 1:04d}.dcm"))
    return tuple(paths)


def read_ct_series(
    path: Path | str | Iterable[Path | str],
    *,
    series_uid: str | None = None,
) -> tuple[Volume, tuple[Path, ...], DicomReference]:
    """Read a CT series into a volume in HU.

    Parameters
    ----------
    path
        A directory (searched recursively), one file or a list of files.
    series_uid
        Series Instance UID to pick when the directory holds several CT series.

    Returns
    -------
    tuple
        The CT volume (array axes: column, row, slice), its files in slice order
        and the patient/study reference.

    Raises
    ------
    InvalidInputError
        No CT, several series, inconsistent orientation/matrix, or a missing slice.
    """
    files = _group_series(read_datasets(path), modality={"CT"}, series_uid=series_uid, what="ct")
    array, affine, ordered = _stack_slices(files, what="ct")
    volume = Volume(
        array=array,
        affine=affine,
        quantity=VoxelQuantity.HU,
        history=History().append(
            Step(
                name="read_ct_series",
                method="pydicom",
                parameters={"files": len(files), "series_uid": str(files[0][1].SeriesInstanceUID)},
            )
        ),
    )
    return volume, tuple(p for p, _ in ordered), DicomReference.from_dataset(files[0][1])


# -- NM ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NmImage:
    """A SPECT reconstruction with the times and activity from its header.

    ``volume`` is in counts (``counts``) or activity concentration (``Bq/mL``) as
    stored, with ``acquisition_time`` = acquisition start.
    """

    volume: Volume
    injection_time: datetime
    injected_activity_bq: float | None
    nuclide: str | None
    acquisition_duration_s: float | None
    path: Path
    reference: DicomReference


def write_nm(
    volume: Volume,
    path: Path | str,
    *,
    injection_time: datetime,
    injected_activity_bq: float,
    nuclide: str,
    acquisition_duration_s: float,
    reference: DicomReference | None = None,
    series_description: str = "prrt SPECT",
    series_number: int = 2,
) -> Path:
    """Write a SPECT reconstruction as one multi-frame NM Image Storage file.

    Parameters
    ----------
    volume
        Counts, activity per voxel (written as Bq/mL) or activity concentration,
        with ``acquisition_time`` (acquisition start) set.
    path
        Output file.
    injection_time
        Time-zone aware injection time.
    injected_activity_bq
        Administered activity (Bq); written in MBq as NM requires.
    nuclide
        Radionuclide (e.g. ``"Lu-177"``), written as text with its half-life.
    acquisition_duration_s
        Acquisition duration (s), written as Actual Frame Duration (ms).
    reference
        Patient/study identifiers (new ones when omitted).

    Returns
    -------
    Path

    Raises
    ------
    InvalidInputError
        Wrong quantity, no acquisition time, negative values or bad arguments.
    """
    if volume.acquisition_time is None:
        raise InvalidInputError("volume.acquisition_time", None, "the acquisition start time")
    if injection_time.tzinfo is None:
        raise InvalidInputError(
            "injection_time", injection_time.isoformat(), "a time-zone aware datetime"
        )
    if not injected_activity_bq > 0:
        raise InvalidInputError(
            "injected_activity_bq", injected_activity_bq, "a positive activity in Bq"
        )
    if not acquisition_duration_s > 0:
        raise InvalidInputError(
            "acquisition_duration_s", acquisition_duration_s, "a positive duration in s"
        )
    nuc = get_nuclide(nuclide)
    if volume.quantity is VoxelQuantity.COUNTS:
        values_vol, unit = volume, _UCUM_COUNTS
    elif volume.quantity is VoxelQuantity.ACTIVITY_BQ:
        values_vol = volume.with_array(
            volume.array / volume.voxel_volume_ml,
            quantity=VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML,
        )
        unit = _UCUM_BQ_PER_ML
    elif volume.quantity is VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML:
        values_vol, unit = volume, _UCUM_BQ_PER_ML
    else:
        raise InvalidInputError(
            "volume",
            volume.quantity.value,
            "counts, activity_bq or activity_concentration_bq_per_ml",
        )
    array, affine = canonical_slices(values_vol)
    values = np.asarray(array, dtype=np.float64)
    maximum = float(values.max())
    integral = bool(np.all(values == np.rint(values)))
    slope = (
        1.0
        if (integral and maximum <= _UINT16_MAX)
        else (maximum / _UINT16_MAX if maximum > 0 else 1.0)
    )
    stored = np.rint(values / slope).astype(np.uint16)
    geometry = slice_geometry(affine)
    ref = reference or DicomReference()
    ds = new_dataset(
        sop_class_uid=NuclearMedicineImageStorage,
        modality="NM",
        reference=ref,
        series_instance_uid=generate_uid(),
        series_number=series_number,
        instance_number=1,
        series_description=series_description,
    )
    when = volume.acquisition_time
    ds.ImageType = ["ORIGINAL", "PRIMARY", "RECON TOMO", "EMISSION"]
    ds.AcquisitionDate, ds.AcquisitionTime = format_da_tm(when)
    ds.SeriesDate, ds.SeriesTime = ds.AcquisitionDate, ds.AcquisitionTime
    ds.ActualFrameDuration = round(acquisition_duration_s * 1000.0)
    nz = array.shape[2]
    ds.NumberOfFrames = nz
    ds.FrameIncrementPointer = [0x00540080]
    ds.SliceVector = list(range(1, nz + 1))
    ds.NumberOfSlices = nz
    ds.PixelSpacing = geometry["PixelSpacing"]
    ds.SliceThickness = f"{geometry['slice_spacing_mm']:.10g}"
    ds.SpacingBetweenSlices = f"{geometry['slice_spacing_mm']:.10g}"
    detector = Dataset()
    detector.ImagePositionPatient = position_string(affine[:3, 3])
    detector.ImageOrientationPatient = geometry["ImageOrientationPatient"]
    ds.DetectorInformationSequence = DicomSequence([detector])
    rotation = Dataset()
    rotation.StartAngle = "0"
    rotation.AngularStep = "3"
    rotation.RotationDirection = "CW"
    ds.RotationInformationSequence = DicomSequence([rotation])
    ds.NumberOfDetectors = 1
    ds.NumberOfRotations = 1
    energy = Dataset()
    ds.EnergyWindowInformationSequence = DicomSequence([energy])
    ds.NumberOfEnergyWindows = 1
    radio = Dataset()
    radio.Radiopharmaceutical = nuc.name
    radio.RadiopharmaceuticalStartDateTime = format_dt(injection_time)
    radio.RadiopharmaceuticalStartTime = format_da_tm(injection_time)[1]
    radio.RadionuclideTotalDose = f"{injected_activity_bq / 1e6:.10g}"  # MBq in NM
    radio.RadionuclideHalfLife = f"{nuc.half_life_s:.10g}"
    radio.RadionuclideCodeSequence = DicomSequence([])
    ds.RadiopharmaceuticalInformationSequence = DicomSequence([radio])
    ds.PatientOrientationCodeSequence = DicomSequence([])
    ds.PatientGantryRelationshipCodeSequence = DicomSequence([])
    ds.Units = "BQML" if unit is _UCUM_BQ_PER_ML else "CNTS"
    mapping = Dataset()
    mapping.RealWorldValueFirstValueMapped = 0
    mapping.RealWorldValueLastValueMapped = _UINT16_MAX
    mapping.RealWorldValueIntercept = 0.0
    mapping.RealWorldValueSlope = float(slope)
    mapping.LUTExplanation = "counts" if unit is _UCUM_COUNTS else "activity concentration"
    mapping.LUTLabel = "COUNTS" if unit is _UCUM_COUNTS else "BQML"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = unit
    mapping.MeasurementUnitsCodeSequence = DicomSequence([code])
    ds.RealWorldValueMappingSequence = DicomSequence([mapping])
    frames = np.stack([stored[:, :, k].T for k in range(nz)], axis=0)
    _set_pixels(ds, frames)
    return save(ds, Path(path))


def read_nm(
    path: Path | str | Iterable[Path | str],
    *,
    injection_time: datetime | None = None,
    injected_activity_bq: float | None = None,
    acquisition_time: datetime | None = None,
    timezone: tzinfo | None = None,
    series_uid: str | None = None,
    stated_injection_time: datetime | None = None,
    stated_acquisition_time: datetime | None = None,
    stated_by: str = "argument",
    stated_injection_by: str | None = None,
) -> NmImage:
    """Read a SPECT reconstruction (NM multi-frame, or NM/PT one slice per file).

    Parameters
    ----------
    path
        The NM file, or a directory / list of single-slice files.
    injection_time
        Injection time, used when the header does not give a full date-time (or
        to override it).
    injected_activity_bq
        Administered activity (Bq) when the header lacks it (or to override it).
    acquisition_time
        Acquisition start when the header lacks it (or to override it).
    timezone
        Time zone of header times that carry no UTC offset.
    series_uid
        Series to pick in a directory with several series.
    stated_injection_time, stated_acquisition_time
        Times stated elsewhere (manifest, command line): used when the header
        lacks them, else checked against it (more than 1 min apart is refused).
    stated_by, stated_injection_by
        Where the stated acquisition and injection times come from, for the
        error messages (``stated_injection_by`` defaults to ``stated_by``).

    Raises
    ------
    InvalidInputError
        Missing acquisition or injection time (naming the tag and the argument to
        pass), no time zone, unknown units, inconsistent geometry.
    """
    datasets = read_datasets(path)
    nm = [(p, d) for p, d in datasets if str(getattr(d, "Modality", "")) in ("NM", "PT")]
    if series_uid is not None:
        nm = [(p, d) for p, d in nm if str(d.SeriesInstanceUID) == series_uid]
    if not nm:
        raise InvalidInputError("path", str(path), "an NM (or PT) SPECT reconstruction")
    first_path, first = nm[0]
    multi = int(getattr(first, "NumberOfFrames", 1) or 1) > 1
    if multi:
        if len({str(d.SeriesInstanceUID) for _, d in nm}) > 1 or len(nm) > 1:
            raise InvalidInputError(
                "path",
                [str(p) for p, _ in nm],
                "one NM file",
                hint="read each time point separately",
            )
        detector = (
            first.DetectorInformationSequence[0]
            if "DetectorInformationSequence" in first
            else first
        )
        if "ImagePositionPatient" not in detector or "ImageOrientationPatient" not in detector:
            raise InvalidInputError(
                "nm.DetectorInformationSequence",
                None,
                "ImagePositionPatient and ImageOrientationPatient of the reconstruction",
            )
        nz = int(first.NumberOfFrames)
        step_mm = float(
            getattr(first, "SpacingBetweenSlices", 0) or getattr(first, "SliceThickness", 0) or 0
        )
        if step_mm == 0:
            raise InvalidInputError(
                "nm.SpacingBetweenSlices", step_mm, "a non-zero slice spacing in mm"
            )
        iop = [float(v) for v in detector.ImageOrientationPatient]
        normal = np.cross(iop[:3], iop[3:])
        origin = np.array([float(v) for v in detector.ImagePositionPatient])
        # A negative Spacing Between Slices stacks frames against the normal: reorder them.
        order = list(range(nz)) if step_mm > 0 else list(range(nz - 1, -1, -1))
        positions = [origin + k * step_mm * normal for k in order]
        affine = affine_from_slices(
            orientation=iop,
            pixel_spacing=[float(v) for v in first.PixelSpacing],
            positions=positions,
            what="nm",
        )
        raw = first.pixel_array.reshape(nz, int(first.Rows), int(first.Columns))
        values, quantity = _nm_values(first, raw)
        array = np.stack([values[k].T for k in order], axis=2)
    else:
        uids = {str(d.SeriesInstanceUID) for _, d in nm}
        if len(uids) > 1:
            raise InvalidInputError("path", sorted(uids), "one series", hint="pass series_uid=...")
        has_mapping = "RealWorldValueMappingSequence" in first
        stacked, affine, _ = _stack_slices(nm, what="nm", rescale=not has_mapping)
        if has_mapping:
            array, quantity = _nm_values(first, stacked)
        else:
            array = stacked
            units = str(getattr(first, "Units", "") or "").upper()
            quantity = (
                VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML
                if units == "BQML"
                else VoxelQuantity.COUNTS
            )
    radio = (
        first.RadiopharmaceuticalInformationSequence[0]
        if getattr(first, "RadiopharmaceuticalInformationSequence", None)
        else None
    )
    t_acq = acquisition_time or _stated_or_header(
        lambda: dicom_datetime(
            first,
            datetime_keyword="AcquisitionDateTime",
            date_keyword="AcquisitionDate",
            time_keyword="AcquisitionTime",
            what="acquisition_time",
            timezone_=timezone,
            supply_as=SUPPLY_ACQUISITION_TIME,
        ),
        stated=stated_acquisition_time,
        stated_by=stated_by,
        what=f"{Path(first_path).name}: acquisition_time",
        tag="AcquisitionDateTime (0008,002A)",
    )
    if injection_time is None and stated_injection_time is not None:
        injection_time = _stated_or_header(
            lambda: _header_injection_time(first, radio, timezone),
            stated=stated_injection_time,
            stated_by=stated_injection_by or stated_by,
            what=f"{Path(first_path).name}: injection_time",
            tag="RadiopharmaceuticalStartDateTime (0018,1078)",
        )
    if injection_time is None:
        if radio is None:
            raise InvalidInputError(
                "injection_time",
                None,
                "the injection date and time (RadiopharmaceuticalInformationSequence (0054,0016) is missing)",
                hint=f"supply it with {SUPPLY_INJECTION_TIME}",
            )
        if not str(getattr(radio, "RadiopharmaceuticalStartDateTime", "") or ""):
            raise InvalidInputError(
                "injection_time",
                str(getattr(radio, "RadiopharmaceuticalStartTime", "") or None),
                "the injection date and time in RadiopharmaceuticalStartDateTime (0018,1078)",
                hint=f"the header has no injection date; supply it with {SUPPLY_INJECTION_TIME}",
            )
        injection_time = dicom_datetime(
            radio,
            datetime_keyword="RadiopharmaceuticalStartDateTime",
            date_keyword=None,
            time_keyword=None,
            what="injection_time",
            timezone_=timezone or _header_tz(first),
            supply_as=SUPPLY_INJECTION_TIME,
        )
    elif injection_time.tzinfo is None:
        raise InvalidInputError(
            "injection_time", injection_time.isoformat(), "a time-zone aware datetime"
        )
    if injection_time > t_acq:
        raise InvalidInputError(
            "injection_time",
            injection_time.isoformat(),
            f"a time before the acquisition ({t_acq.isoformat()})",
        )
    activity = injected_activity_bq
    if (
        activity is None
        and radio is not None
        and str(getattr(radio, "RadionuclideTotalDose", "") or "")
    ):
        total = float(radio.RadionuclideTotalDose)
        # NM stores MBq, PET stores Bq (DICOM PS3.3 C.8.4.10 / C.8.9.2).
        activity = total * 1e6 if str(first.Modality) == "NM" else total
    duration_ms = getattr(first, "ActualFrameDuration", None)
    duration_s = float(duration_ms) / 1000.0 if duration_ms not in (None, "") else None
    step = Step(
        name="read_nm",
        method="pydicom",
        parameters={
            "path": str(first_path),
            "series_uid": str(first.SeriesInstanceUID),
            "quantity": quantity.value,
        },
    )
    volume = Volume(
        array=array,
        affine=affine,
        quantity=quantity,
        acquisition_time=t_acq,
        history=History().append(step),
    )
    return NmImage(
        volume=volume,
        injection_time=injection_time,
        injected_activity_bq=activity,
        nuclide=_nuclide_of(radio),
        acquisition_duration_s=duration_s,
        path=first_path,
        reference=DicomReference.from_dataset(first),
    )
