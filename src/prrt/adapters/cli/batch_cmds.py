"""Scale-out commands on Dask: ``prrt batch dosimetry MANIFEST`` and ``prrt batch trial``.

Both run on a local cluster of worker processes by default (``--workers K``,
one per CPU core when omitted) or on a running cluster (``--scheduler
tcp://host:8786``; ``docs/batch.md``), with a progress bar on standard error.

``prrt batch dosimetry`` computes voxel and organ dosimetry for every study of a
batch manifest, skipping studies already done with the same inputs and
settings, reporting each failed study with its error without stopping the
others, and writes ``regions.parquet`` (one row per study × region) and
``failures.parquet``.  Exit codes: 0 all studies done, 3 some studies failed
(listed), 2 bad input (the manifest or an option; the message names it).

``prrt batch trial`` simulates N virtual patients under the fixed 4 × 7.4 GBq
course and the dosimetry-guided course (``prrt.simulation``), prints the
distributions and, with ``--out``, writes ``trial.json`` and an HTML report with
figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from prrt.adapters._files import read_json_document
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
from prrt.errors import InvalidInputError
from prrt.units import Dimension, parse_quantity

__all__ = ["EXIT_STUDIES_FAILED", "register"]

#: Exit code of a batch in which some studies failed (the others are done).
EXIT_STUDIES_FAILED = 3

_SCHEDULER_HELP = (
    "Address of a running Dask scheduler (tcp://host:8786); a local cluster when omitted."
)
_WORKERS_HELP = "Worker processes of the local cluster (default: one per CPU core)."


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console,
        disable=not show,
        transient=True,
    )


def _out_dir(path: Path) -> Path:
    """``prepare_output_dir`` with this command's option name (``--out``)."""
    try:
        return prepare_output_dir(path).resolve()
    except InvalidInputError as err:
        raise InvalidInputError("--out", err.value, err.expected, hint=err.hint) from err


def _render_batch(payload: dict[str, Any]) -> None:
    report = payload["report"]
    stdout_console.print(
        f"Batch dosimetry: {report['studies']} studies — {report['done']} done, "
        f"{report['skipped']} already done (skipped), {report['failed']} failed; "
        f"{report['rows']} rows",
        style="bold",
    )
    failed = [o for o in report["outcomes"] if o["status"] == "failed"]
    if failed:
        table = Table(title="Failed studies", box=box.SIMPLE_HEAD, title_justify="left")
        for column in ("study", "error", "field", "message"):
            table.add_column(column, overflow="fold")
        for o in failed:
            table.add_row(
                o["study_id"],
                str(o["error_type"]) + (" (earlier run)" if o["cached"] else ""),
                o["error_field"] or "-",
                o["error_message"] or "-",
            )
        stdout_console.print(table)
    if report["written"]:
        stdout_console.print("Written: " + ", ".join(report["files"].values()))
    else:
        stdout_console.print(
            "Nothing new: results unchanged (" + ", ".join(report["files"].values()) + ")"
        )


def _run_batch(
    manifest_path: Path,
    out: Path | None,
    scheduler: str | None,
    workers: int | None,
    settings_kwargs: dict[str, Any],
    retry_failed: bool,
    show_progress: bool,
) -> dict[str, Any]:
    from prrt.adapters.batch import (
        DosimetrySettings,
        ParquetResultWriter,
        dask_client,
        read_batch_manifest,
        run_batch_dosimetry,
    )

    if not manifest_path.is_file():
        raise InvalidInputError(
            "MANIFEST", str(manifest_path), "an existing prrt-batch manifest file"
        )
    manifest = read_batch_manifest(manifest_path)
    settings = DosimetrySettings(**settings_kwargs)
    out_dir = _out_dir(out or manifest_path.resolve().parent / "batch_dosimetry")
    progress = _progress(show_progress)
    with progress, dask_client(scheduler, workers) as client:
        task = progress.add_task("studies", total=len(manifest.studies))

        def advance(outcome: Any) -> None:
            progress.update(task, advance=1, description=f"{outcome.study_id}: {outcome.status}")

        report = run_batch_dosimetry(
            manifest,
            settings,
            out_dir,
            client,
            ParquetResultWriter(out_dir),
            retry_failed=retry_failed,
            on_outcome=advance,
        )
    return {"manifest": str(manifest_path), "output": str(out_dir), "report": report.to_dict()}


def _render_trial(payload: dict[str, Any]) -> None:
    result = payload["result"]
    settings = result["settings"]
    stdout_console.print(
        f"In-silico trial: {settings['n_patients']} virtual patients, seed {settings['seed']}, "
        f"population {settings['population']} ({payload['seconds']:.1f} s on {payload['workers']})",
        style="bold",
    )
    names = list(result["strategies"])
    table = Table(
        box=box.SIMPLE_HEAD,
        title="Per strategy (median, 5th–95th percentile)",
        title_justify="left",
    )
    table.add_column("quantity")
    for name in names:
        table.add_column(name, justify="right")

    def row(label: str, cell: Any) -> None:
        table.add_row(label, *(cell(result["strategies"][n]) for n in names))

    def spread(key: str, scale: float = 1.0) -> Any:
        def cell(s: dict[str, Any]) -> str:
            x = s["quantities"][key]
            return f"{x['p50'] / scale:.3g} ({x['p05'] / scale:.3g}–{x['p95'] / scale:.3g})"

        return cell

    row(
        "cycles: median (range)",
        lambda s: f"{s['cycles']['median']} ({s['cycles']['min']}–{s['cycles']['max']})",
    )
    row("more than 4 cycles", lambda s: f"{100 * s['cycles']['fraction_more_than_4']:.1f} %")
    row("stopped by a dose limit", lambda s: f"{100 * s['stopped_by_limits_fraction']:.1f} %")
    row("total activity (GBq)", spread("total_activity_bq", 1e9))
    row("kidney dose (Gy)", spread("kidneys_absorbed_dose_gy"))
    row("kidney BED (Gy)", spread("kidneys_bed_gy"))
    row("red-marrow dose (Gy)", spread("red_marrow_absorbed_dose_gy"))
    row("tumour BED (Gy)", spread("tumour_bed_gy"))
    row(
        "true kidney dose > 23 Gy",
        lambda s: (
            f"{100 * s['true_dose_over_limit_fractions'].get('kidneys.absorbed_dose', 0.0):.2f} %"
        ),
    )
    row(
        "true marrow dose > 2 Gy",
        lambda s: (
            f"{100 * s['true_dose_over_limit_fractions'].get('red_marrow.absorbed_dose', 0.0):.2f} %"
        ),
    )
    stdout_console.print(table)
    stdout_console.print("Published vs simulated")
    for c in result["published_comparison"]:
        pub, sim = c["published"], c["simulated"]
        show = (
            (lambda v: "–".join(f"{x:g}" for x in v))
            if isinstance(pub, list)
            else (lambda v: f"{v:.3g}")
        )
        stdout_console.print(
            Text(
                f"  {c['id']}: published {show(pub)}, simulated {show(sim)} {c['unit']} [{c['tag']}]"
            )
        )
    if payload["files"]:
        stdout_console.print("Written: " + ", ".join(payload["files"].values()))


def _run_trial(
    patients: int,
    seed: int,
    scheduler: str | None,
    workers: int | None,
    out: Path | None,
    population: str | None,
    show_progress: bool,
) -> dict[str, Any]:
    import time

    from prrt.adapters.batch import dask_client, run_trial_on_cluster
    from prrt.simulation import TrialSettings, load_population_model

    if isinstance(patients, bool) or patients < 1:
        raise InvalidInputError("--patients", patients, "a number of virtual patients ≥ 1")
    if seed < 0:
        raise InvalidInputError("--seed", seed, "a non-negative integer")
    try:
        model = load_population_model(population)
    except InvalidInputError as err:
        raise InvalidInputError("--population", population, err.expected) from err
    settings = TrialSettings(n_patients=patients, seed=seed, population=model)
    out_dir = _out_dir(out) if out is not None else None
    progress = _progress(show_progress)
    with progress, dask_client(scheduler, workers) as client:
        task = progress.add_task("virtual patients (chunks)", total=settings.n_chunks)
        start = time.perf_counter()
        result = run_trial_on_cluster(
            settings, client, progress=lambda done, _total: progress.update(task, completed=done)
        )
        seconds = time.perf_counter() - start
        where = scheduler or f"{len(client.scheduler_info(n_workers=-1)['workers'])} local workers"
    payload = result.to_dict()
    files: dict[str, str] = {}
    if out_dir is not None:
        from prrt.adapters.reports.trial_report import write_trial_report

        path = out_dir / "trial.json"
        path.write_text(
            json.dumps(_jsonable(payload), indent=1, allow_nan=False) + "\n", encoding="utf-8"
        )
        files["trial"] = str(path)
        files.update(write_trial_report(result, out_dir))
    return {"result": payload, "seconds": seconds, "workers": where, "files": files}


def register(app: typer.Typer) -> None:
    """Add the ``batch`` sub-application (``dosimetry``, ``trial``) to ``app``."""
    batch_app = typer.Typer(
        help="Scale-out on Dask: batch cohort dosimetry and in-silico trials.", no_args_is_help=True
    )
    app.add_typer(batch_app, name="batch")

    @batch_app.command("dosimetry")
    def dosimetry(
        manifest: Annotated[
            Path,
            typer.Argument(
                help="Batch manifest (prrt-batch JSON; docs/batch.md).", show_default=False
            ),
        ],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", "-o", help="Output folder (default: MANIFEST's folder/batch_dosimetry)."
            ),
        ] = None,
        scheduler: Annotated[str | None, typer.Option("--scheduler", help=_SCHEDULER_HELP)] = None,
        workers: Annotated[int | None, typer.Option("--workers", help=_WORKERS_HELP)] = None,
        method: Annotated[
            str, typer.Option("--method", help="Voxel TIA: 'fit' or 'hybrid'.")
        ] = "fit",
        dose_method: Annotated[
            str, typer.Option("--dose-method", help="'convolution' or 'led'.")
        ] = "convolution",
        kernel_emissions: Annotated[
            str, typer.Option("--kernel-emissions", help="'complete' or 'betas+photons'.")
        ] = "complete",
        region_fit: Annotated[
            str, typer.Option("--region-fit", help="hybrid: region TACs by 'chain' or 'fit_best'.")
        ] = "chain",
        organ_fit_model: Annotated[
            str, typer.Option("--organ-fit-model", help="Organ TAC model of the MIRD dosimetry.")
        ] = "bi_exponential",
        lesion_fit_model: Annotated[
            str, typer.Option("--lesion-fit-model", help="Lesion TAC model of the MIRD dosimetry.")
        ] = "mono_exponential_uptake",
        device: Annotated[str, typer.Option("--device", help="'cpu', 'cuda' or 'auto'.")] = "cpu",
        psf_fwhm: Annotated[
            str | None,
            typer.Option(
                "--psf-fwhm", help="SPECT resolution for recovery correction, e.g. '10 mm'."
            ),
        ] = None,
        hu_density: Annotated[
            Path | None, typer.Option("--hu-density", help="JSON HU→density table for every study.")
        ] = None,
        density_correction: Annotated[
            bool,
            typer.Option(
                "--density-correction/--no-density-correction", help="Voxel dose ρ rescaling."
            ),
        ] = True,
        maps: Annotated[
            bool,
            typer.Option(
                "--maps/--no-maps", help="Also write each study's dose as NIfTI and RTDOSE."
            ),
        ] = False,
        retry_failed: Annotated[
            bool,
            typer.Option(
                "--retry-failed", help="Try again studies that failed with the same inputs."
            ),
        ] = False,
        fmt: Annotated[
            OutputFormat, typer.Option("--format", help=FORMAT_HELP)
        ] = OutputFormat.TEXT,
    ) -> None:
        """Voxel and organ dosimetry of every study of a manifest on Dask (resumable)."""
        with handle_errors(fmt):
            psf_mm = (
                parse_quantity(psf_fwhm, Dimension.LENGTH, field="--psf-fwhm", positive=True)
                if psf_fwhm is not None
                else None
            )
            table = (
                read_json_document(
                    hu_density, field="--hu-density", expected="a JSON HU→density table"
                )
                if hu_density is not None
                else None
            )
            payload = _run_batch(
                manifest,
                out,
                scheduler,
                workers,
                {
                    "method": method,
                    "dose_method": dose_method,
                    "kernel_emissions": kernel_emissions,
                    "region_fit": region_fit,
                    "organ_fit_model": organ_fit_model,
                    "lesion_fit_model": lesion_fit_model,
                    "device": device,
                    "psf_fwhm_mm": psf_mm,
                    "density_correction": density_correction,
                    "hu_density": table,
                    "write_maps": maps,
                },
                retry_failed,
                show_progress=fmt is OutputFormat.TEXT,
            )
            emit(payload, fmt, _render_batch)
        if payload["report"]["failed"]:
            raise typer.Exit(EXIT_STUDIES_FAILED)

    @batch_app.command("trial")
    def trial(
        patients: Annotated[
            int, typer.Option("--patients", help="Number of virtual patients.", show_default=False)
        ],
        seed: Annotated[
            int,
            typer.Option(
                "--seed", help="Seed (the same seed gives the same trial).", show_default=False
            ),
        ],
        scheduler: Annotated[str | None, typer.Option("--scheduler", help=_SCHEDULER_HELP)] = None,
        workers: Annotated[int | None, typer.Option("--workers", help=_WORKERS_HELP)] = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", help="Folder for trial.json and the HTML report."),
        ] = None,
        population: Annotated[
            str | None,
            typer.Option(
                "--population", help="Population model (default LU177_DOTATATE_SANTORO_2018)."
            ),
        ] = None,
        fmt: Annotated[
            OutputFormat, typer.Option("--format", help=FORMAT_HELP)
        ] = OutputFormat.TEXT,
    ) -> None:
        """In-silico trial: fixed 4 × 7.4 GBq vs dosimetry-guided cycles on N virtual patients."""
        with handle_errors(fmt):
            payload = _run_trial(
                patients,
                seed,
                scheduler,
                workers,
                out,
                population,
                show_progress=fmt is OutputFormat.TEXT,
            )
            emit(payload, fmt, _render_trial)
