"""One study of a batch on a worker: voxel and organ dosimetry, keyed by a hash of inputs and settings.

:func:`process_study` runs where a Dask worker runs it.  It hashes every file
of the study folder (SHA-256 of paths and contents) together with the settings,
the study's manifest entry and the prrt version into a *result key*.  When
``studies/<folder>/result.json`` already holds that key, the study is done and
nothing is recomputed; when ``error.json`` holds it, the study failed before
with the same inputs and is reported again without a new attempt (unless
``retry_failed``).  Otherwise the study is read (:func:`prrt.adapters.dicom.read_study`),
checked (the image activity against the injected activity, as ``prrt dosimetry
voxel``), computed by :func:`prrt.dosimetry.voxel.pipeline.voxel_dosimetry`
and by the organ-level MIRD study (:mod:`prrt.adapters.batch.study_organs`), and
its rows — one per region — are written with the key, atomically.  Any error
of the study is caught, written to ``error.json`` with its type, field and
message, and returned: one bad study never stops the batch.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from prrt import __version__
from prrt.adapters.batch.manifest import BatchStudy
from prrt.adapters.batch.study_organs import organ_dosimetry, organ_records
from prrt.errors import InvalidInputError

__all__ = [
    "ERROR_FILE",
    "RESULT_FILE",
    "DosimetrySettings",
    "StudyOutcome",
    "process_study",
    "study_folder",
]

RESULT_FILE = "result.json"
ERROR_FILE = "error.json"
_FIT_MODELS = (
    "auto",
    "mono_exponential",
    "mono_exponential_uptake",
    "bi_exponential",
    "tri_exponential",
    "trapezoid",
)
_CHOICES = {
    "method": ("--method", ("fit", "hybrid")),
    "dose_method": ("--dose-method", ("convolution", "led")),
    "kernel_emissions": ("--kernel-emissions", ("complete", "betas+photons")),
    "region_fit": ("--region-fit", ("chain", "fit_best")),
    "organ_fit_model": ("--organ-fit-model", _FIT_MODELS),
    "lesion_fit_model": ("--lesion-fit-model", _FIT_MODELS),
    "device": ("--device", ("auto", "cpu", "cuda")),
}
_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class DosimetrySettings:
    """Settings of every study of a batch (the options of ``prrt dosimetry voxel``, plus organ fits).

    The organ-level fits default to those of ``prrt demo``: bi-exponential for
    organs (4 points from 4 h miss the fast renal phase otherwise) and
    mono-exponential with uptake for lesions.

    ``hu_density`` is the content of a HU→density table (``--hu-density``), so that
    it travels to the workers and enters the result key; without it a study's
    own table (a synthetic study's manifest) is used when present.
    """

    method: str = "fit"
    dose_method: str = "convolution"
    kernel_emissions: str = "complete"
    region_fit: str = "chain"
    organ_fit_model: str = "bi_exponential"
    lesion_fit_model: str = "mono_exponential_uptake"
    device: str = "cpu"
    psf_fwhm_mm: float | None = None
    density_correction: bool = True
    hu_density: Mapping[str, Any] | None = None
    write_maps: bool = False

    def __post_init__(self) -> None:
        for name, (option, allowed) in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise InvalidInputError(
                    option, getattr(self, name), "one of " + ", ".join(map(repr, allowed))
                )
        if self.psf_fwhm_mm is not None and not self.psf_fwhm_mm > 0.0:
            raise InvalidInputError("--psf-fwhm", self.psf_fwhm_mm, "a positive FWHM")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        out = asdict(self)
        out["hu_density"] = None if self.hu_density is None else dict(self.hu_density)
        return out

    @property
    def digest(self) -> str:
        """SHA-256 of the settings (canonical JSON)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StudyOutcome:
    """What happened to one study: ``done``, ``skipped`` (done before) or ``failed``."""

    study_id: str
    status: str
    result_key: str = ""
    cached: bool = False
    error_type: str | None = None
    error_field: str | None = None
    error_message: str | None = None
    seconds: float = 0.0
    result_file: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> bool:
        """True for a failed study."""
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def study_folder(out_dir: Path, study: BatchStudy) -> Path:
    """Result folder of ``study`` under ``out_dir``."""
    return out_dir / "studies" / study.folder


def _input_digest(study_path: Path, skip: Path) -> str:
    """SHA-256 over the relative path and bytes of every file of the study (outputs excluded)."""
    digest = hashlib.sha256()
    root = study_path if study_path.is_dir() else study_path.parent
    if not study_path.exists():
        digest.update(b"missing:" + str(study_path).encode())
        return digest.hexdigest()
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_relative_to(skip))
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            while block := handle.read(_HASH_BLOCK):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _write_json(path: Path, payload: Mapping[str, Any]) -> None:
    """Write JSON atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_key(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["result_key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _finite(value: Any) -> Any:
    """None for NaN and infinities (Parquet nulls), the value otherwise."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _compute(
    study: BatchStudy, settings: DosimetrySettings, folder: Path
) -> tuple[list[dict[str, Any]], list[str]]:
    from prrt.adapters.dicom import read_study, write_nifti, write_rtdose
    from prrt.adapters.study_inputs import image_activity_check, load_calibration, on_grid
    from prrt.dosimetry.voxel.pipeline import voxel_dosimetry
    from prrt.imaging.quantification import HuDensityCalibration, hu_to_density

    data = read_study(Path(study.path))
    notes: list[str] = []
    activity_note = image_activity_check(data)
    if activity_note is not None:
        notes.append(activity_note)
    grid = data.spect[0]
    calibration: HuDensityCalibration | None
    if settings.hu_density is not None:
        calibration = HuDensityCalibration.from_mapping(settings.hu_density, field="--hu-density")
    else:
        calibration = load_calibration(None, dict(data.truth))
    density = None
    if settings.density_correction and calibration is not None:
        density = on_grid(hu_to_density(data.ct, calibration=calibration), grid)
    elif settings.density_correction:
        notes.append("density_corrected: false (no HU→density table)")
    masks = {name: on_grid(mask, grid) for name, mask in data.masks.items()}
    voxel = voxel_dosimetry(
        data.spect,
        injection_time=data.injection_time,
        nuclide=data.nuclide,
        masks=masks,
        density=density,
        approach=settings.method,
        dose_method=settings.dose_method,
        emission_set=settings.kernel_emissions,
        psf_fwhm_mm=settings.psf_fwhm_mm,
        device=settings.device,
        region_fit=settings.region_fit,
    )
    notes.extend(voxel.warnings)
    organ, regions, organ_notes = organ_dosimetry(
        data,
        sex=study.sex,
        renal_risk_factors=study.renal_risk_factors,
        calibration=calibration,
        psf_fwhm_mm=settings.psf_fwhm_mm,
        organ_fit_model=settings.organ_fit_model,
        lesion_fit_model=settings.lesion_fit_model,
        patient_id=study.patient_id or study.id,
    )
    notes.extend(organ_notes)
    notes.extend(organ.notes)
    if settings.write_maps:
        write_nifti(
            voxel.dose,
            folder / "dose_gy.nii.gz",
            description=voxel.provenance_label.removeprefix("prrt "),
        )
        write_rtdose(
            voxel.dose,
            folder / "dose.dcm",
            reference=data.reference,
            series_description=voxel.provenance_label,
            comment=voxel.provenance_label,
            image_comments=voxel.provenance_text,
        )
    doses = organ_records(organ)
    by_voi = {r.voi: r for r in regions}
    rows = []
    base = {
        "study_id": study.id,
        "centre": study.centre,
        "patient_id": study.patient_id,
        "cycle": study.cycle,
        "study_path": study.path,
        "administered_activity_bq": data.injected_activity_bq,
        "injection_time_utc": data.injection_time.astimezone(UTC).isoformat(),
    }
    voxel_names = [s.name for s in voxel.regions]
    for name in [*voxel_names, *(v for v in by_voi if v not in voxel_names)]:
        stats = next((s for s in voxel.regions if s.name == name), None)
        used = by_voi.get(name)
        record = doses.get(used.name, {}) if used is not None else {}
        dose = record.get("organ_absorbed_dose_gy")
        row = {
            **base,
            "region": name,
            "region_canonical": used.name if used is not None else None,
            "region_kind": used.kind if used is not None else "other",
            "voi_volume_ml": None if stats is None else stats.volume_ml,
            "voi_mass_kg": used.mass_kg if used is not None else None,
            "voxel_mean_dose_gy": None if stats is None else stats.mean_gy,
            "voxel_min_dose_gy": None if stats is None else stats.min_gy,
            "voxel_max_dose_gy": None if stats is None else stats.max_gy,
            "voxel_d2_gy": None if stats is None else stats.d2_gy,
            "voxel_d50_gy": None if stats is None else stats.d50_gy,
            "voxel_d98_gy": None if stats is None else stats.d98_gy,
            "voxel_tia_bq_s": None if stats is None else stats.tia_bq_s,
            "organ_tia_bq_s": record.get("organ_tia_bq_s"),
            "organ_fit_model": record.get("organ_fit_model"),
            "organ_absorbed_dose_gy": dose,
            "organ_self_dose_gy": record.get("organ_self_dose_gy"),
            "organ_cross_dose_gy": record.get("organ_cross_dose_gy"),
            "organ_bed_gy": record.get("organ_bed_gy"),
            "organ_g_factor": record.get("organ_g_factor"),
            "organ_eqd2_gy": record.get("organ_eqd2_gy"),
            "organ_dose_per_activity_gy_per_bq": None
            if dose is None
            else dose / data.injected_activity_bq,
        }
        rows.append({k: _finite(v) for k, v in row.items()})
    return rows, notes


def _error_fields(err: BaseException) -> tuple[str, str | None, str]:
    field_name = err.field if isinstance(err, InvalidInputError) else None
    return type(err).__name__, field_name, str(err)


def process_study(
    study: BatchStudy, settings: DosimetrySettings, out_dir: str, retry_failed: bool = False
) -> StudyOutcome:
    """Compute one study unless its result (or error) for the same inputs and settings exists.

    Never raises for a problem of the study: the error is returned (and written
    to ``error.json``).
    """
    start = time.perf_counter()
    out = Path(out_dir)
    folder = study_folder(out, study)
    result_path, error_path = folder / RESULT_FILE, folder / ERROR_FILE
    try:
        inputs = _input_digest(Path(study.path), out.resolve())
    except OSError as err:
        inputs = hashlib.sha256(f"unreadable:{study.path}:{err}".encode()).hexdigest()
    key = hashlib.sha256(
        json.dumps(
            {
                "inputs": inputs,
                "settings": settings.digest,
                "study": study.to_dict(),
                "prrt": __version__,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    if _read_key(result_path) == key:
        return StudyOutcome(study.id, "skipped", key, result_file=str(result_path))
    if not retry_failed and _read_key(error_path) == key:
        cached = json.loads(error_path.read_text(encoding="utf-8"))
        return StudyOutcome(
            study.id,
            "failed",
            key,
            cached=True,
            error_type=cached.get("error_type"),
            error_field=cached.get("error_field"),
            error_message=cached.get("error_message"),
        )
    header = {
        "result_key": key,
        "study_id": study.id,
        "input_sha256": inputs,
        "settings_sha256": settings.digest,
        "prrt_version": __version__,
        "settings": settings.to_dict(),
        "study": study.to_dict(),
    }
    try:
        rows, notes = _compute(study, settings, folder)
    except Exception as err:  # one bad study is reported, never stops the batch
        kind, field_name, message = _error_fields(err)
        result_path.unlink(missing_ok=True)  # an older result is stale for these inputs
        _write_json(
            error_path,
            {
                **header,
                "error_type": kind,
                "error_field": field_name,
                "error_message": message,
                "traceback": traceback.format_exc(),
            },
        )
        return StudyOutcome(
            study.id,
            "failed",
            key,
            error_type=kind,
            error_field=field_name,
            error_message=message,
            seconds=time.perf_counter() - start,
        )
    stamp = {
        "input_sha256": inputs,
        "settings_sha256": settings.digest,
        "result_key": key,
        "prrt_version": __version__,
    }
    _write_json(result_path, {**header, "notes": notes, "rows": [{**r, **stamp} for r in rows]})
    error_path.unlink(missing_ok=True)
    return StudyOutcome(
        study.id,
        "done",
        key,
        seconds=time.perf_counter() - start,
        result_file=str(result_path),
        notes=tuple(notes),
    )
