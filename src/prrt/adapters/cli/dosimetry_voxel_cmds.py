"""Voxel dosimetry command: ``prrt dosimetry voxel STUDY_DIR_OR_MANIFEST``.

Reads a multi-time-point SPECT/CT study (a directory with ``manifest.json``, the
manifest itself, or a DICOM directory; see ``docs/imaging.md``), computes the
voxel time-integrated activity and absorbed dose (``docs/dosimetry-voxel.md``)
with a progress bar, and writes into ``--output``:

* ``dose.dcm`` — DICOM RTDOSE (Gy) in the study's frame of reference;
* ``vois_seg.dcm`` — DICOM SEG of the VOIs used (when the study has masks and a CT);
* ``dose_gy.nii.gz`` and ``tia_bq_s.nii.gz`` — NIfTI maps;
* ``summary.json`` — organ and lesion doses (mean, min, max, D2, D50, D98), TIA,
  methods, kernel provenance.

The summary is also printed (``--format json`` for programs, ``text`` for people).
Bad input (missing time stamp, mismatched grids, empty VOI, NaN, unknown option
value, a value without its unit) exits with code 2 and names what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from prrt.adapters.cli._common import (
    FORMAT_HELP,
    OutputFormat,
    _jsonable,
    emit,
    handle_errors,
    prepare_output_dir,
    stderr_console,
    stdout_console,
)
from prrt.adapters.study_inputs import image_activity_check, load_calibration, on_grid
from prrt.errors import InvalidInputError
from prrt.units import Dimension, parse_quantity, parse_timestamp

__all__ = ["register"]

_STEPS = ("read study", "time-integrated activity", "absorbed dose", "write results")


def _cli_hint(text: str | None) -> str | None:
    """Write Python keyword hints (``device='cpu'``) as command-line options (``--device cpu``)."""
    if not text:
        return text
    text = re.sub(r"device='([\w+-]+)' or '([\w+-]+)'", r"--device \1 or --device \2", text)
    return re.sub(r"device='([\w+-]+)'", r"--device \1", text)


@contextmanager
def _cli_words() -> Iterator[None]:
    """Re-raise device errors of the core with command-line names."""
    try:
        yield
    except InvalidInputError as err:
        if err.field != "device":
            raise
        raise type(err)("--device", err.value, err.expected, hint=_cli_hint(err.hint)) from err


def _timestamps(texts: Sequence[str] | None, field: str) -> list[datetime] | None:
    if not texts:
        return None
    return [parse_timestamp(text, field=field) for text in texts]


def _table(*columns: str, title: str) -> Table:
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left"
    )
    for column in columns:
        table.add_column(column, no_wrap=True, justify="left" if column == columns[0] else "right")
    return table


def _render_recovery(summary: dict[str, Any]) -> None:
    """State the recovery (GTM) correction: FWHM, RC per region, condition number."""
    coefficients = summary.get("recovery_coefficients")
    if not coefficients:
        stdout_console.print("Recovery correction: not applied (no --psf-fwhm)")
        return
    skipped = set(summary.get("recovery_uncorrected_regions") or [])
    parts = ", ".join(
        f"{name} {rc:.2f}" + (" (not corrected)" if name in skipped else "")
        for name, rc in coefficients.items()
    )
    cond = summary.get("gtm_condition_number")
    stdout_console.print(
        f"Recovery correction applied (GTM, PSF FWHM {summary.get('psf_fwhm_mm'):g} mm; "
        f"condition number {cond:.1f}); recovery coefficients: {parts}"
        if cond is not None
        else f"Recovery correction applied (GTM); recovery coefficients: {parts}"
    )


def _render_text(payload: dict[str, Any]) -> None:
    summary = payload["summary"]
    counts = summary.get("tia_method_counts") or {}
    total = sum(v for k, v in counts.items() if v and k not in ("zero", "outside"))
    most = summary.get("fit_model_most_used")
    model = (
        f"mostly {most}, {counts[most] / total:.0%} of voxels with activity"
        if most and total
        else "no voxel with activity"
    )
    stdout_console.print(
        f"Voxel dosimetry {summary['nuclide']} · TIA {summary['tia_method']} "
        f"({model}) · dose {summary['dose_method']} · {summary['backend']}",
        style="bold",
    )
    used = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    stdout_console.print(f"TIA methods (voxels): {used or '-'}")
    _render_recovery(summary)
    table = _table(
        "VOI",
        "mL",
        "TIA MBq·h",
        "Mean Gy",
        "Min",
        "Max",
        "D2",
        "D50",
        "D98",
        title="Absorbed dose (Gy; D2/D50/D98: minimum dose to the hottest 2/50/98 % of the VOI)",
    )
    for r in summary["regions"]:
        tia = r.get("tia_bq_s")
        table.add_row(
            r["name"],
            f"{r['volume_ml']:.1f}",
            "-" if tia is None else f"{tia / 3.6e9:.0f}",
            f"{r['mean_gy']:.3f}",
            f"{r['min_gy']:.2f}",
            f"{r['max_gy']:.2f}",
            f"{r['d2_gy']:.2f}",
            f"{r['d50_gy']:.2f}",
            f"{r['d98_gy']:.2f}",
        )
    stdout_console.print(table)
    for warning in summary.get("warnings") or []:
        stdout_console.print(Text.assemble(("note: ", "yellow"), str(warning)))
    if not summary.get("density_corrected"):
        why = summary.get("density_note") or "no HU→density table"
        stdout_console.print(
            Text.assemble(
                ("note: ", "yellow"),
                f"density_corrected: false ({why}); doses assume the kernel's soft tissue "
                "(1.04 g/mL) everywhere, air and lung included",
            )
        )
    stdout_console.print("Files: " + ", ".join(payload["files"].values()))


def _run(
    study_path: Path,
    output: Path | None,
    method: str,
    emissions: str,
    dose_method: str,
    device: str,
    psf_fwhm: str | None,
    hu_density: Path | None,
    density_correction: bool,
    show_progress: bool,
    region_fit: str = "chain",
    injection_time: str | None = None,
    acquisition_times: Sequence[str] | None = None,
) -> dict[str, Any]:
    from prrt.adapters.dicom import read_study, write_nifti, write_rtdose, write_seg
    from prrt.dosimetry.voxel.pipeline import voxel_dosimetry
    from prrt.dosimetry.voxel.recovery import check_psf_fwhm
    from prrt.imaging.quantification import hu_to_density

    psf_fwhm_mm = (
        parse_quantity(psf_fwhm, Dimension.LENGTH, field="--psf-fwhm", positive=True)
        if psf_fwhm is not None
        else None
    )
    if not study_path.exists():
        raise InvalidInputError(
            "STUDY", str(study_path), "an existing study directory or manifest.json"
        )
    out_dir = prepare_output_dir(
        output or (study_path if study_path.is_dir() else study_path.parent) / "voxel_dosimetry"
    )
    stated_injection = _timestamps([injection_time] if injection_time else None, "--injection-time")
    stated_times = _timestamps(acquisition_times, "--acquisition-time")
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=stderr_console,
        disable=not show_progress,
        transient=True,
    )
    with progress:
        task = progress.add_task(_STEPS[0], total=len(_STEPS))
        study = read_study(
            study_path,
            stated_injection_time=stated_injection[0] if stated_injection else None,
            stated_acquisition_times=stated_times,
            stated_by="--acquisition-time",
            stated_injection_by="--injection-time",
        )
        activity_note = image_activity_check(study)
        spect_grid = study.spect[0]
        if psf_fwhm_mm is not None:
            check_psf_fwhm(
                psf_fwhm_mm,
                spacing_mm=spect_grid.spacing_mm,
                shape=spect_grid.shape,
                field="--psf-fwhm",
            )
        masks = {name: on_grid(mask, spect_grid) for name, mask in study.masks.items()}
        density = None
        calibration = (
            load_calibration(hu_density, dict(study.truth)) if density_correction else None
        )
        if calibration is not None:
            density = on_grid(hu_to_density(study.ct, calibration=calibration), spect_grid)

        def step(name: str) -> None:
            if name in _STEPS:
                progress.update(task, description=name, completed=_STEPS.index(name))

        with _cli_words():
            result = voxel_dosimetry(
                study.spect,
                injection_time=study.injection_time,
                nuclide=study.nuclide,
                masks=masks,
                density=density,
                approach=method,
                dose_method=dose_method,
                emission_set=emissions,
                psf_fwhm_mm=psf_fwhm_mm,
                device=device,
                progress=step,
                region_fit=region_fit,
            )
        step("write results")
        files = {
            "rtdose": str(
                write_rtdose(
                    result.dose,
                    out_dir / "dose.dcm",
                    reference=study.reference,
                    series_description=result.provenance_label,
                    comment=result.provenance_label,
                    image_comments=result.provenance_text,
                )
            ),
            "dose_nifti": str(
                write_nifti(
                    result.dose,
                    out_dir / "dose_gy.nii.gz",
                    description=result.provenance_label.removeprefix("prrt "),
                )
            ),
            "tia_nifti": str(write_nifti(result.tia, out_dir / "tia_bq_s.nii.gz")),
        }
        if (
            masks
            and study.ct_files
            and all(m.geometry_equal(study.ct) for m in study.masks.values())
        ):
            files["seg"] = str(
                write_seg(study.masks, out_dir / "vois_seg.dcm", source_images=list(study.ct_files))
            )
        summary = result.summary()
        summary["study"] = str(study_path)
        summary["hu_density_calibration"] = (
            calibration.to_dict() if calibration is not None else None
        )
        if calibration is None:
            summary["density_note"] = (
                "--no-density-correction"
                if not density_correction
                else "no HU→density table: give --hu-density FILE"
            )
        if activity_note is not None:
            summary["warnings"] = [activity_note, *summary["warnings"]]
        summary_path = out_dir / "summary.json"
        files["summary"] = str(summary_path)
        summary_path.write_text(
            json.dumps(_jsonable({"summary": summary, "files": files}), indent=2) + "\n",
            encoding="utf-8",
        )
        progress.update(task, completed=len(_STEPS))
    return {"summary": summary, "files": files}


def register(app: typer.Typer) -> None:
    """Add the ``voxel`` command to the ``dosimetry`` sub-application."""

    @app.command("voxel")
    def voxel(
        study: Annotated[
            Path,
            typer.Argument(
                help="Study directory (with manifest.json), the manifest, or a DICOM directory."
            ),
        ],
        output: Annotated[
            Path | None,
            typer.Option(
                "--output", "-o", help="Output directory (default: STUDY/voxel_dosimetry)."
            ),
        ] = None,
        method: Annotated[
            str,
            typer.Option(
                "--method",
                help="TIA method: 'fit' (voxel-wise) or 'hybrid' (organ TAC × voxel map).",
            ),
        ] = "fit",
        kernel_emissions: Annotated[
            str,
            typer.Option(
                "--kernel-emissions", help="Kernel emissions: 'complete' or 'betas+photons'."
            ),
        ] = "complete",
        dose_method: Annotated[
            str,
            typer.Option(
                "--dose-method",
                help="'convolution' (dose-voxel kernel) or 'led' (local deposition).",
            ),
        ] = "convolution",
        device: Annotated[
            str, typer.Option("--device", help="'auto' (GPU when present), 'cpu' or 'cuda'.")
        ] = "auto",
        psf_fwhm: Annotated[
            str | None,
            typer.Option(
                "--psf-fwhm",
                help="SPECT resolution for recovery correction, e.g. '10 mm' (off when omitted).",
            ),
        ] = None,
        hu_density: Annotated[
            Path | None,
            typer.Option(
                "--hu-density", help="JSON HU→density table {hu, density_g_per_ml, source}."
            ),
        ] = None,
        density_correction: Annotated[
            bool,
            typer.Option(
                "--density-correction/--no-density-correction",
                help="Rescale the dose by ρ_kernel/ρ (needs a HU→density table).",
            ),
        ] = True,
        region_fit: Annotated[
            str,
            typer.Option(
                "--region-fit",
                help="hybrid: region TACs by the voxel 'chain' or prrt.kinetics 'fit_best' (AICc).",
            ),
        ] = "chain",
        injection_time: Annotated[
            str | None,
            typer.Option(
                "--injection-time",
                help="Injection time, ISO 8601 with UTC offset; used where the DICOM lacks it, "
                "checked against it otherwise (refused if more than 1 min apart).",
            ),
        ] = None,
        acquisition_time: Annotated[
            list[str] | None,
            typer.Option(
                "--acquisition-time",
                help="Acquisition start of a time point, ISO 8601 with UTC offset; repeat once "
                "per time point in the manifest's order; used where the DICOM lacks it, "
                "checked against it otherwise.",
            ),
        ] = None,
        fmt: Annotated[
            OutputFormat, typer.Option("--format", help=FORMAT_HELP)
        ] = OutputFormat.TEXT,
    ) -> None:
        """Voxel dosimetry of a multi-time-point SPECT/CT study: RTDOSE, SEG, NIfTI and a JSON summary."""
        with handle_errors(fmt):
            if method not in ("fit", "hybrid"):
                raise InvalidInputError("--method", method, "'fit' or 'hybrid'")
            if kernel_emissions not in ("complete", "betas+photons"):
                raise InvalidInputError(
                    "--kernel-emissions", kernel_emissions, "'complete' or 'betas+photons'"
                )
            if dose_method not in ("convolution", "led"):
                raise InvalidInputError("--dose-method", dose_method, "'convolution' or 'led'")
            if region_fit not in ("chain", "fit_best"):
                raise InvalidInputError("--region-fit", region_fit, "'chain' or 'fit_best'")
            if device not in ("auto", "cpu", "cuda"):
                raise InvalidInputError("--device", device, "'auto', 'cpu' or 'cuda'")
            payload = _run(
                study,
                output,
                method,
                kernel_emissions,
                dose_method,
                device,
                psf_fwhm,
                hu_density,
                density_correction,
                show_progress=fmt is OutputFormat.TEXT,
                region_fit=region_fit,
                injection_time=injection_time,
                acquisition_times=acquisition_time,
            )
            emit(payload, fmt, _render_text)
