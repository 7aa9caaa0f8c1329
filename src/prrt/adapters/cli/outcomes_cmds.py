"""Outcomes and evidence commands: ``prrt cohort analyze``, ``prrt evidence …``, ``prrt trials match``.

* ``prrt cohort analyze COHORT.csv --out DIR`` — Kaplan–Meier PFS/OS per arm (medians,
  landmark rates, reverse-KM follow-up, log-rank, Cox, RMST), ORR/DCR with exact
  intervals, waterfall and swimmer plots, published benchmarks; optionally a published
  curve reconstructed from digitised points (``--reference-curve`` +
  ``--reference-at-risk``).  Writes ``report.html``, the figures as PNG and
  ``cohort_analysis.json`` into DIR.  CSV columns: ``docs/outcomes.md``.
* ``prrt evidence list`` / ``prrt evidence show NETTER-1`` — the evidence base (seed
  results with reference numbers and status, Table 1 trials with later results,
  flags shown, never hidden).
* ``prrt evidence pool STUDIES.csv`` — pooled proportion (logit, Freeman–Tukey or
  arcsine; DerSimonian–Laird or Paule–Mandel) with a forest plot.
* ``prrt trials match CASE.json`` — every trial's criteria met, failed or undecided.

Bad input (missing column, negative time, event not 0/1, proportion above 1, unknown
trial) exits with code 2 and names the row and column (or the field).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from prrt.adapters._files import read_text_document
from prrt.adapters.cli._common import (
    FORMAT_HELP,
    OutputFormat,
    emit,
    handle_errors,
    prepare_output_dir,
    stderr_console,
)
from prrt.adapters.cli._outcomes_text import (
    render_cohort,
    render_evidence_list,
    render_evidence_show,
    render_match,
    render_pool,
)
from prrt.errors import InvalidInputError, PrrtWarning

__all__ = ["register"]


class CiMethod(str, Enum):
    """Scale of the Kaplan–Meier confidence interval (CLI spelling)."""

    LOG_LOG = "log-log"
    LOG = "log"
    PLAIN = "plain"


class Transform(str, Enum):
    """Scale of a pooled proportion (CLI spelling)."""

    LOGIT = "logit"
    FREEMAN_TUKEY = "freeman-tukey"
    ARCSINE = "arcsine"


class TauEstimator(str, Enum):
    """Between-study variance estimator (CLI spelling)."""

    DL = "dersimonian-laird"
    PM = "paule-mandel"


class ListKind(str, Enum):
    """What ``prrt evidence list`` lists."""

    ALL = "all"
    TRIALS = "trials"
    RESULTS = "results"
    PRACTICE = "practice"
    FLAGS = "flags"


class EndpointName(str, Enum):
    """Endpoint of a reference curve."""

    PFS = "pfs"
    OS = "os"


@contextmanager
def _collect_warnings(payload_notes: list[str]) -> Iterator[None]:
    """Turn prrt warnings into notes (stderr and JSON) instead of Python warning lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrrtWarning)
        yield
    for w in caught:
        if issubclass(w.category, PrrtWarning):
            payload_notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _print_notes(notes: list[str]) -> None:
    for note in dict.fromkeys(notes):
        stderr_console.print(Text.assemble(("warning: ", "bold yellow"), note))


def _read(path: Path, field: str, expected: str) -> str:
    return read_text_document(path, field=field, expected=expected)


# --- cohort analyze ---------------------------------------------------------------------------


def cohort_analyze_command(
    cohort: Annotated[
        Path,
        typer.Argument(
            help="Cohort CSV (columns: docs/outcomes.md).", metavar="COHORT.csv", show_default=False
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output directory (created).")],
    landmark: Annotated[
        list[float] | None,
        typer.Option("--landmark", help="Landmark time in months (repeat; default 12, 20, 24)."),
    ] = None,
    tau_months: Annotated[
        float | None,
        typer.Option(
            "--tau-months", help="RMST restriction time (default: shortest arm follow-up)."
        ),
    ] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level.")] = 0.95,
    ci_method: Annotated[CiMethod, typer.Option("--ci-method", help="KM interval scale.")] = (
        CiMethod.LOG_LOG
    ),
    reference_arm: Annotated[
        str | None,
        typer.Option("--reference-arm", help="Arm the hazard ratios refer to (default: last arm)."),
    ] = None,
    prrt_arm: Annotated[
        str | None,
        typer.Option(
            "--prrt-arm", help="Arm compared with published PRRT arms (default: first arm)."
        ),
    ] = None,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", help="Numeric column added to the Cox model (repeat)."),
    ] = None,
    reference_curve: Annotated[
        Path | None,
        typer.Option(
            "--reference-curve", help="Digitised published KM curve CSV (time_<unit>, survival)."
        ),
    ] = None,
    reference_at_risk: Annotated[
        Path | None,
        typer.Option(
            "--reference-at-risk", help="Its numbers-at-risk CSV (time_<unit>, n_at_risk)."
        ),
    ] = None,
    reference_label: Annotated[
        str, typer.Option("--reference-label", help="Name of the published arm.")
    ] = "published",
    reference_endpoint: Annotated[
        EndpointName, typer.Option("--reference-endpoint", help="Endpoint of the published curve.")
    ] = EndpointName.PFS,
    reference_events: Annotated[
        int | None,
        typer.Option("--reference-events", help="Published total events of that arm, if known."),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.TEXT,
) -> None:
    """Analyse a cohort: KM PFS/OS, follow-up, log-rank, Cox, RMST, ORR/DCR; HTML + PNG + JSON."""
    notes: list[str] = []
    with handle_errors(fmt):
        from prrt.adapters.reports.cohort_report import write_cohort_report
        from prrt.outcomes.analysis import ReferenceCurve, analyze_cohort
        from prrt.outcomes.cohort import Endpoint, read_cohort_csv
        from prrt.outcomes.ipd import read_at_risk_csv, read_digitised_curve_csv, reconstruct_ipd
        from prrt.outcomes.survival import ConfidenceMethod

        if (reference_curve is None) != (reference_at_risk is None):
            raise InvalidInputError(
                "--reference-at-risk" if reference_at_risk is None else "--reference-curve",
                None,
                "both --reference-curve and --reference-at-risk (Guyot needs the at-risk table)",
            )
        prepare_output_dir(out)
        with _collect_warnings(notes):
            data = read_cohort_csv(
                _read(cohort, "COHORT", "a readable UTF-8 CSV file"), source=str(cohort)
            )
            references = []
            if reference_curve is not None and reference_at_risk is not None:
                ct, cs = read_digitised_curve_csv(
                    _read(reference_curve, "--reference-curve", "a CSV file"),
                    source=str(reference_curve),
                )
                rt, nr = read_at_risk_csv(
                    _read(reference_at_risk, "--reference-at-risk", "a CSV file"),
                    source=str(reference_at_risk),
                )
                ipd = reconstruct_ipd(
                    ct, cs, rt, nr, total_events=reference_events, label=reference_label
                )
                references.append(ReferenceCurve(Endpoint(reference_endpoint.value), ipd))
            analysis = analyze_cohort(
                data,
                landmarks_months=tuple(landmark) if landmark else (12.0, 20.0, 24.0),
                rmst_tau_months=tau_months,
                confidence_level=confidence,
                ci_method=ConfidenceMethod(ci_method.value),
                reference_arm=reference_arm,
                prrt_arm=prrt_arm,
                covariates=tuple(covariate or ()),
                references=references,
            )
            files = write_cohort_report(analysis, out)
        payload = analysis.to_dict()
        payload["files"] = {k: str(v) for k, v in files.items()}
        payload["warnings"] = list(dict.fromkeys(notes))
        if fmt is OutputFormat.TEXT:
            _print_notes(notes)
        emit(payload, fmt, render_cohort)


# --- evidence ---------------------------------------------------------------------------------


def _trial_payload(base: Any, trial: Any) -> dict[str, Any]:
    from prrt.outcomes.evidence import flatten_results

    return {
        "record": "trial",
        "id": trial.trial_id,
        "nct": trial.nct,
        "role": trial.role,
        "table_row": trial.table_row,
        "source": trial.source,
        "design": dict(trial.design),
        "population": dict(trial.population),
        "primary_endpoint": trial.primary_endpoint,
        "eligibility": dict(trial.eligibility),
        "result_status": trial.result_status,
        "later_results": [dict(flatten_results(r)) for r in trial.later_results],
        "seed_results": [_result_payload(base, r) for r in base.results_for_trial(trial)],
        "flags": [f.to_dict() for f in base.flags_for(trial.trial_id)],
    }


def _result_payload(base: Any, rec: Any) -> dict[str, Any]:
    flags = {f.flag_id: f for f in base.flags_for(rec.result_id)}
    for n in rec.numbers:
        if n.flag:
            flags.setdefault(n.flag, base.flag(n.flag))
    out = {
        "record": "seed_result" if rec.result_id.startswith("E") else "practice_number",
        "id": rec.result_id,
        "seed_refs": list(rec.seed_refs),
        "status": rec.status,
        "source": rec.source,
        "numbers": [dict(n.to_dict(), text=n.text()) for n in rec.numbers],
        "flags": [f.to_dict() for f in flags.values()],
    }
    if out["record"] == "seed_result":
        out.update(
            study=rec.study,
            efficacy=rec.efficacy,
            toxicity=rec.toxicity,
            n=rec.n_text,
            population=rec.population,
            regimen=rec.regimen,
        )
    else:
        out.update(quantity=rec.quantity, value=rec.value_text)
    return out


def evidence_show_command(
    name: Annotated[
        str,
        typer.Argument(
            help="Trial name or NCT, result id (E2, P6) or flag id (F4).", show_default=False
        ),
    ],
    fmt: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.TEXT,
) -> None:
    """Show one record of the evidence base with its sources, status and flags."""
    with handle_errors(fmt):
        from prrt.outcomes.evidence import EvidenceFlag, Trial, load_evidence

        base = load_evidence()
        rec = base.lookup(name)
        if isinstance(rec, Trial):
            payload = _trial_payload(base, rec)
        elif isinstance(rec, EvidenceFlag):
            payload = {"record": "flag", **rec.to_dict()}
        else:
            payload = _result_payload(base, rec)
        payload["evidence_version"] = base.version
        emit(payload, fmt, render_evidence_show)


def evidence_list_command(
    kind: Annotated[ListKind, typer.Option("--kind", help="What to list.")] = ListKind.ALL,
    fmt: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.TEXT,
) -> None:
    """List the trials, seed results, practice numbers and flags of the evidence base."""
    with handle_errors(fmt):
        from prrt.outcomes.evidence import load_evidence

        base = load_evidence()
        want = (
            {kind.value} if kind is not ListKind.ALL else {"trials", "results", "practice", "flags"}
        )

        def flag_ids(rec: Any) -> list[str]:
            ids = {f.flag_id for f in base.flags_for(rec.result_id)}
            ids |= {n.flag for n in rec.numbers if n.flag}
            return sorted(ids, key=lambda x: int(x[1:]))

        payload = {
            "evidence_version": base.version,
            "seed": base.seed.get("citation"),
            "trials": [
                {
                    "id": t.trial_id,
                    "nct": t.nct,
                    "table_row": t.table_row,
                    "role": t.role,
                    "result_status": t.result_status,
                    "flags": list(t.flags),
                }
                for t in base.trials
            ]
            if "trials" in want
            else [],
            "results": [
                {
                    "id": r.result_id,
                    "seed_refs": list(r.seed_refs),
                    "title": r.study,
                    "status": r.status,
                    "flags": flag_ids(r),
                }
                for r in base.results
            ]
            if "results" in want
            else [],
            "practice": [
                {
                    "id": p.result_id,
                    "seed_refs": list(p.seed_refs),
                    "title": p.quantity,
                    "status": p.status,
                    "flags": flag_ids(p),
                }
                for p in base.practice
            ]
            if "practice" in want
            else [],
            "flags": [f.to_dict() for f in base.flags] if "flags" in want else [],
        }
        emit(payload, fmt, render_evidence_list)


def evidence_pool_command(
    studies: Annotated[
        Path,
        typer.Argument(
            help="Study CSV: study, n, events or proportion (0-1).",
            metavar="STUDIES.csv",
            show_default=False,
        ),
    ],
    transform: Annotated[
        Transform, typer.Option("--transform", help="Pooling scale.")
    ] = Transform.LOGIT,
    tau_method: Annotated[
        TauEstimator, typer.Option("--tau-method", help="τ² estimator.")
    ] = TauEstimator.DL,
    hartung_knapp: Annotated[bool, typer.Option("--hartung-knapp", help="HKSJ interval.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for forest.png + JSON.")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.TEXT,
) -> None:
    """Pool single proportions (ORR, DCR) across studies; fixed and random effects, forest plot."""
    notes: list[str] = []
    with handle_errors(fmt):
        from prrt.outcomes.meta import (
            ProportionTransform,
            TauMethod,
            pool_proportions,
            read_studies_csv,
        )

        if out is not None:
            prepare_output_dir(out)
        with _collect_warnings(notes):
            table = read_studies_csv(
                _read(studies, "STUDIES", "a readable CSV file"), source=str(studies)
            )
            result = pool_proportions(
                table,
                transform=ProportionTransform(transform.value),
                tau_method=TauMethod(tau_method.value),
                hartung_knapp=hartung_knapp,
            )
        payload = result.to_dict()
        payload["warnings"] = list(dict.fromkeys(notes))
        if out is not None:
            from prrt.adapters.reports.cohort_report import write_meta_outputs

            payload["files"] = {k: str(v) for k, v in write_meta_outputs(result, out).items()}
        if fmt is OutputFormat.TEXT:
            _print_notes(notes)
        emit(payload, fmt, render_pool)


# --- trials match -----------------------------------------------------------------------------


def trials_match_command(
    case: Annotated[
        Path,
        typer.Argument(
            help="JSON case file (format: docs/clinical.md).",
            metavar="CASE.json",
            show_default=False,
        ),
    ],
    fmt: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.TEXT,
) -> None:
    """Match a case against every trial of the evidence base: criteria met, failed, undecided."""
    with handle_errors(fmt):
        from prrt.clinical.case import load_case
        from prrt.outcomes.trial_matching import match_trials

        text = _read(case, "CASE", "a readable UTF-8 JSON case file")
        try:
            report = match_trials(load_case(text, source=str(case)))
        except InvalidInputError as err:
            hint = f"in {case}" + (f"; {err.hint}" if err.hint else "")
            raise type(err)(err.field, err.value, err.expected, hint=hint) from err
        emit(report.to_dict(), fmt, render_match)


def register(app: typer.Typer) -> None:
    """Add ``cohort analyze``, ``evidence show|list|pool`` and ``trials match`` to ``app``."""
    cohort_app = typer.Typer(
        help="Cohort outcomes: survival, response, report.", no_args_is_help=True
    )
    cohort_app.command("analyze")(cohort_analyze_command)
    evidence_app = typer.Typer(
        help="Evidence base: seed review results, Table 1 trials, later results, flags.",
        no_args_is_help=True,
    )
    evidence_app.command("show")(evidence_show_command)
    evidence_app.command("list")(evidence_list_command)
    evidence_app.command("pool")(evidence_pool_command)
    trials_app = typer.Typer(
        help="Trials of the evidence base for a patient case.", no_args_is_help=True
    )
    trials_app.command("match")(trials_match_command)
    app.add_typer(cohort_app, name="cohort")
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(trials_app, name="trials")
