"""Multi-time-point SPECT/CT studies on disk: a JSON manifest plus DICOM files.

:func:`write_synthetic_study` writes a :class:`~prrt.imaging.phantoms.SyntheticPatient`
as DICOM CT slices, one NM file per time point (counts), an RTSTRUCT with every
region and a ``manifest.json`` that also carries the ground truth.
:func:`read_study` reads such a directory (or any directory of DICOM CT + NM +
RTSTRUCT files, with the calibration supplied) into a :class:`Study` that the
voxel-dosimetry command uses.  The manifest format is documented in
``docs/imaging.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from prrt.adapters._files import read_json_document
from prrt.adapters.dicom._common import DicomReference, read_datasets
from prrt.adapters.dicom.nifti import write_nifti
from prrt.adapters.dicom.rtstruct import read_rtstruct, write_rtstruct
from prrt.adapters.dicom.series import NmImage, read_ct_series, read_nm, write_ct_series, write_nm
from prrt.errors import InvalidInputError
from prrt.imaging.phantoms import SyntheticPatient
from prrt.imaging.quantification import concentration_to_activity, counts_to_activity
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.physics import get_nuclide
from prrt.units import parse_timestamp

__all__ = ["MANIFEST_FORMAT", "MANIFEST_NAME", "Study", "read_study", "write_synthetic_study"]

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "prrt-study"
MANIFEST_VERSION = 1


@dataclass(frozen=True, eq=False)
class Study:
    """A SPECT/CT study ready for dosimetry.

    Attributes
    ----------
    ct
        CT in HU.
    spect
        One activity map per time point (Bq per voxel, at acquisition start, with
        ``acquisition_time`` set), in time order.
    injection_time
        Time-zone aware injection time.
    masks
        VOI name → mask on the CT grid.
    nuclide
        Canonical nuclide name (``"Lu-177"``).
    injected_activity_bq
        Administered activity (Bq).
    reference
        Patient/study/frame-of-reference identifiers for writing results.
    ct_files
        CT slice files in slice order (source images for SEG/RTSTRUCT).
    manifest
        The manifest read, if any.
    truth
        Ground truth from a synthetic study's manifest (else empty).
    """

    ct: Volume
    spect: tuple[Volume, ...]
    injection_time: datetime
    masks: dict[str, Volume]
    nuclide: str
    injected_activity_bq: float
    reference: DicomReference
    ct_files: tuple[Path, ...] = ()
    manifest: Path | None = None
    truth: Mapping[str, Any] = field(default_factory=dict)

    @property
    def times_after_injection_s(self) -> tuple[float, ...]:
        """Acquisition start of each time point after injection (s)."""
        return tuple(
            (v.acquisition_time - self.injection_time).total_seconds()
            for v in self.spect
            if v.acquisition_time is not None
        )


def write_synthetic_study(
    patient: SyntheticPatient,
    directory: Path | str,
    *,
    patient_id: str = "PRRT-PHANTOM-001",
    write_truth_maps: bool = True,
) -> Path:
    """Write a synthetic patient as DICOM CT + NM (counts) + RTSTRUCT and a manifest.

    Layout::

        directory/manifest.json
        directory/ct/CT_0001.dcm ...
        directory/nm/NM_tp1.dcm ...          one multi-frame NM file per time point
        directory/rtstruct.dcm
        directory/truth/true_tia_map_bq_s.nii.gz   (when write_truth_maps)

    Returns
    -------
    Path
        The manifest file.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    reference = DicomReference(patient_id=patient_id, patient_name="PRRT^Phantom")
    ct_files = write_ct_series(
        patient.ct_hu,
        root / "ct",
        reference=reference,
        acquisition_time=patient.acquisition_times[0],
    )
    spect_entries = []
    for index, counts in enumerate(patient.counts_maps, start=1):
        path = write_nm(
            counts,
            root / "nm" / f"NM_tp{index}.dcm",
            injection_time=patient.injection_time,
            injected_activity_bq=patient.injected_activity_bq,
            nuclide=patient.nuclide,
            acquisition_duration_s=patient.acquisition_duration_s,
            reference=reference,
            series_description=f"prrt SPECT tp{index}",
            series_number=10 + index,
        )
        when = counts.acquisition_time
        spect_entries.append(
            {
                "file": path.relative_to(root).as_posix(),
                "acquisition_time": when.isoformat() if when else None,
                "acquisition_duration_s": patient.acquisition_duration_s,
            }
        )
    rtstruct = write_rtstruct(
        patient.masks, root / "rtstruct.dcm", reference=reference, referenced_images=ct_files
    )
    truth: dict[str, Any] = {
        "tia_bq_s": dict(patient.truth_tia_bq_s),
        "region_masses_kg": dict(patient.region_masses_kg),
        "region_kinetics": {
            name: [{"amplitude_bq": a, "rate_per_s": k} for a, k in terms]
            for name, terms in patient.region_kinetics.items()
        },
        "fwhm_mm": patient.fwhm_mm,
        "hu_density_calibration": patient.hu_density_calibration.to_dict(),
    }
    if write_truth_maps:
        tia_path = write_nifti(
            patient.true_tia_map_bq_s, root / "truth" / "true_tia_map_bq_s.nii.gz"
        )
        truth["true_tia_map"] = tia_path.relative_to(root).as_posix()
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "patient_id": patient_id,
        "nuclide": patient.nuclide,
        "injected_activity_bq": patient.injected_activity_bq,
        "injection_time": patient.injection_time.isoformat(),
        "camera_sensitivity_cps_per_mbq": patient.camera_sensitivity_cps_per_mbq,
        "ct": {"directory": "ct"},
        "spect": spect_entries,
        "rtstruct": rtstruct.relative_to(root).as_posix(),
        "truth": truth,
    }
    path = root / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    dict: "a JSON object",
    list: "a JSON list",
    int: "an integer",
    float: "a number",
}


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)


def _field(
    container: Any,
    key: str,
    kind: type | tuple[type, ...],
    where: Path,
    *,
    prefix: str = "manifest",
) -> Any:
    name = f"{prefix}.{key}"
    if not isinstance(container, dict):
        raise InvalidInputError(prefix, container, f"a JSON object with '{key}' in {where}")
    if key not in container:
        raise InvalidInputError(name, None, f"{_type_name(kind)} in {where}")
    value = container[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidInputError(name, value, f"{_type_name(kind)} in {where}")
    if isinstance(value, str) and not value.strip():
        raise InvalidInputError(name, value, f"a non-empty string in {where}")
    return value


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInputError(name, value, "a positive number")
    return float(value)


def _manifest_time(item: Any, index: int) -> datetime | None:
    value = item.get("acquisition_time") if isinstance(item, dict) else None
    if value is None:
        return None
    return parse_timestamp(value, field=f"manifest.spect[{index}].acquisition_time")


def _agree(name: str, value: datetime | None, other_name: str, other: datetime | None) -> None:
    if value is None or other is None:
        return
    if abs((value - other).total_seconds()) > 60.0:
        raise InvalidInputError(
            name,
            value.isoformat(),
            f"the {other_name} {other.isoformat()} within 60 s",
            hint="the two sources of the time disagree; correct one of them",
        )


def read_study(
    path: Path | str,
    *,
    camera_sensitivity_cps_per_mbq: float | None = None,
    injection_time: datetime | None = None,
    injected_activity_bq: float | None = None,
    nuclide: str | None = None,
    timezone: tzinfo | None = None,
    roi_names: Sequence[str] | None = None,
    stated_injection_time: datetime | None = None,
    stated_acquisition_times: Sequence[datetime] | None = None,
    stated_by: str = "argument",
    stated_injection_by: str | None = None,
) -> Study:
    """Read a study from a manifest (file or its directory) or from a DICOM directory.

    Without a manifest the directory must hold one CT series, one or more NM files
    (one per time point) and optionally an RTSTRUCT; values that the headers lack
    are taken from the keyword arguments, which also override the manifest.

    Parameters
    ----------
    path
        ``manifest.json``, a directory holding one, or a DICOM directory.
    camera_sensitivity_cps_per_mbq
        System sensitivity (cps/MBq) to convert counts to activity; required when
        the NM images hold counts and no manifest gives it.
    injection_time, injected_activity_bq, nuclide
        Override or supply what the manifest and headers give.
    timezone
        Time zone of DICOM times that carry no UTC offset.
    roi_names
        RTSTRUCT ROIs to read (all when omitted).
    stated_injection_time, stated_acquisition_times
        Injection time and acquisition start of each time point (in the order of
        the manifest's ``spect`` list, or of the NM file names in a DICOM
        directory) stated by the caller (e.g. the command line): used where the
        DICOM headers lack them, checked against them otherwise (more than 1 min
        apart is refused), like the manifest's ``injection_time`` and
        ``spect[].acquisition_time``, which they must also agree with.
    stated_by, stated_injection_by
        Names of the caller's sources of the acquisition and injection times in
        error messages (e.g. ``"--acquisition-time"``, ``"--injection-time"``;
        the second defaults to the first).

    Returns
    -------
    Study
        SPECT converted to Bq per voxel at acquisition start (decay during the
        acquisition corrected), masks on the CT grid.

    Raises
    ------
    InvalidInputError
        Malformed manifest, missing times/activity/sensitivity (naming what to
        supply), stated times that disagree with the DICOM headers or with each
        other, time points with different injection times, no CT or NM.
    """
    root = Path(path)
    manifest_path: Path | None = None
    if root.is_dir() and (root / MANIFEST_NAME).exists():
        manifest_path = root / MANIFEST_NAME
    elif root.is_file() and root.suffix == ".json":
        manifest_path = root
    if not root.exists():
        raise InvalidInputError("path", str(root), "a study directory or manifest.json")
    manifest: dict[str, Any] = {}
    manifest_injection: datetime | None = None
    manifest_times: list[datetime | None] = []
    if manifest_path is not None:
        manifest = read_json_document(
            manifest_path, field="manifest", expected="a UTF-8 JSON study manifest"
        )
        if not isinstance(manifest, dict):
            raise InvalidInputError("manifest", str(manifest_path), "a JSON object")
        if manifest.get("format") != MANIFEST_FORMAT:
            raise InvalidInputError(
                "manifest.format", manifest.get("format"), f"'{MANIFEST_FORMAT}'"
            )
        if manifest.get("version") != MANIFEST_VERSION:
            raise InvalidInputError(
                "manifest.version", manifest.get("version"), str(MANIFEST_VERSION)
            )
        base = manifest_path.parent
        ct_dir = base / _field(
            _field(manifest, "ct", dict, manifest_path),
            "directory",
            str,
            manifest_path,
            prefix="manifest.ct",
        )
        spect_items = _field(manifest, "spect", list, manifest_path)
        if not spect_items:
            raise InvalidInputError("manifest.spect", [], "one or more time points")
        nm_files = [
            base / _field(item, "file", str, manifest_path, prefix=f"manifest.spect[{index}]")
            for index, item in enumerate(spect_items)
        ]
        rtstruct_path = (
            base / _field(manifest, "rtstruct", str, manifest_path)
            if manifest.get("rtstruct") is not None
            else None
        )
        truth = manifest.get("truth", {})
        if truth is None:
            truth = {}
        if not isinstance(truth, dict):
            raise InvalidInputError(
                "manifest.truth", truth, f"a JSON object (the ground truth) in {manifest_path}"
            )
        if "injection_time" in manifest:
            manifest_injection = parse_timestamp(
                manifest["injection_time"], field="manifest.injection_time"
            )
        manifest_times = [_manifest_time(item, index) for index, item in enumerate(spect_items)]
        if injected_activity_bq is None and "injected_activity_bq" in manifest:
            injected_activity_bq = _positive(
                "manifest.injected_activity_bq", manifest["injected_activity_bq"]
            )
        if nuclide is None and manifest.get("nuclide"):
            nuclide = str(manifest["nuclide"])
        if camera_sensitivity_cps_per_mbq is None and "camera_sensitivity_cps_per_mbq" in manifest:
            camera_sensitivity_cps_per_mbq = _positive(
                "manifest.camera_sensitivity_cps_per_mbq",
                manifest["camera_sensitivity_cps_per_mbq"],
            )
        ct, ct_files, reference = read_ct_series(ct_dir)
    else:
        datasets = read_datasets(root)
        ct, ct_files, reference = read_ct_series(
            [p for p, d in datasets if str(getattr(d, "Modality", "")) == "CT"] or root
        )
        nm_files = [p for p, d in datasets if str(getattr(d, "Modality", "")) == "NM"]
        if not nm_files:
            raise InvalidInputError("path", str(root), "NM (SPECT) files, one per time point")
        structs = [p for p, d in datasets if str(getattr(d, "Modality", "")) == "RTSTRUCT"]
        if len(structs) > 1:
            raise InvalidInputError("path", [str(s) for s in structs], "at most one RTSTRUCT")
        rtstruct_path = structs[0] if structs else None

    if stated_acquisition_times is not None and len(stated_acquisition_times) != len(nm_files):
        raise InvalidInputError(
            stated_by,
            f"{len(stated_acquisition_times)} acquisition times",
            f"one per time point ({len(nm_files)}), in time order",
        )
    stated_times: list[datetime | None] = (
        list(stated_acquisition_times)
        if stated_acquisition_times is not None
        else [None] * len(nm_files)
    )
    manifest_times = manifest_times or [None] * len(nm_files)
    for index, (mine, theirs) in enumerate(zip(stated_times, manifest_times, strict=True)):
        _agree(f"{stated_by}[{index}]", mine, f"manifest.spect[{index}].acquisition_time", theirs)
    injection_by = stated_injection_by or stated_by
    _agree(injection_by, stated_injection_time, "manifest.injection_time", manifest_injection)
    images: list[NmImage] = []
    for f, mine, theirs in zip(nm_files, stated_times, manifest_times, strict=True):
        images.append(
            read_nm(
                f,
                injection_time=injection_time,
                injected_activity_bq=injected_activity_bq,
                timezone=timezone,
                stated_injection_time=stated_injection_time or manifest_injection,
                stated_acquisition_time=mine or theirs,
                stated_by=stated_by if mine is not None else "manifest",
                stated_injection_by=(
                    injection_by if stated_injection_time is not None else "manifest"
                ),
            )
        )
    images.sort(key=lambda im: im.volume.acquisition_time or im.injection_time)
    first = images[0]
    for image in images[1:]:
        if abs((image.injection_time - first.injection_time).total_seconds()) > 60.0:
            raise InvalidInputError(
                f"{image.path.name}: injection_time",
                image.injection_time.isoformat(),
                f"the injection time of the other time points ({first.injection_time.isoformat()})",
                hint="time points from different cycles? pass injection_time=... to override",
            )
    nuclide_name = nuclide or first.nuclide
    if nuclide_name is None:
        raise InvalidInputError(
            "nuclide", None, "the radionuclide (not in the headers)", hint="pass nuclide='Lu-177'"
        )
    nuc = get_nuclide(nuclide_name)
    activity = injected_activity_bq or first.injected_activity_bq
    if activity is None:
        raise InvalidInputError(
            "injected_activity_bq",
            None,
            "the administered activity (RadionuclideTotalDose (0018,1074) is missing)",
            hint="pass injected_activity_bq=...",
        )
    spect: list[Volume] = []
    for image in images:
        vol = image.volume
        if vol.quantity is VoxelQuantity.COUNTS:
            if camera_sensitivity_cps_per_mbq is None:
                raise InvalidInputError(
                    "camera_sensitivity_cps_per_mbq",
                    None,
                    f"the camera sensitivity to convert counts in {image.path.name} to activity",
                    hint="pass camera_sensitivity_cps_per_mbq=... or put it in the manifest",
                )
            if image.acquisition_duration_s is None:
                raise InvalidInputError(
                    f"{image.path.name}: ActualFrameDuration",
                    None,
                    "the acquisition duration (0018,1242)",
                )
            vol = counts_to_activity(
                vol,
                sensitivity_cps_per_mbq=camera_sensitivity_cps_per_mbq,
                acquisition_duration_s=image.acquisition_duration_s,
                half_life_s=nuc.half_life_s,
            )
        elif vol.quantity is VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML:
            vol = concentration_to_activity(vol)
        spect.append(vol)
    masks = read_rtstruct(rtstruct_path, reference=ct, roi_names=roi_names) if rtstruct_path else {}
    return Study(
        ct=ct,
        spect=tuple(spect),
        injection_time=first.injection_time,
        masks=masks,
        nuclide=nuc.name,
        injected_activity_bq=float(activity),
        reference=reference,
        ct_files=ct_files,
        manifest=manifest_path,
        truth=dict(manifest.get("truth") or {}) if manifest else {},
    )
