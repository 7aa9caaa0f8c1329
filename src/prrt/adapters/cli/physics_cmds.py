"""Physics commands: ``prrt nuclide``, ``prrt decay``, ``prrt administered``.

Users' units are parsed here, explicitly (``7.4 GBq``, ``96 h``, ISO-8601
timestamps with a time zone); the core works in Bq and s.  Every command
accepts ``--format json``; the JSON shapes are documented in ``docs/physics.md``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from prrt.adapters.cli._common import FORMAT_HELP, OutputFormat, emit, handle_errors, stdout_console
from prrt.adapters.cli.physics_cmds_format import (
    _fmt_activity,
    _fmt_bq,
    _fmt_duration,
    _fmt_percent,
)
from prrt.adapters.cli.physics_cmds_nuclide import _nuclide_payload, _render_nuclide
from prrt.errors import InvalidInputError
from prrt.physics import (
    ActivityMeasurement,
    AdministeredActivityResult,
    administered_activity,
    decay_factor,
    get_nuclide,
)
from prrt.physics.administered import PATIENT_ACTIVITY_PLAUSIBLE_MAX_BQ, patient_activity_note
from prrt.units import Dimension, parse_quantity, parse_timestamp, seconds_between

__all__ = ["ACTIVITY_INPUT_MAX_BQ", "MAX_DECAY_HALF_LIVES", "register"]

#: 1e20 Bq (1e11 GBq, ~2.7 GCi): far above any stock handled in nuclear medicine; a larger
#: input is a unit slip, and larger results would not be meaningful.
ACTIVITY_INPUT_MAX_BQ = 1e20
#: Decay corrections span at most 50 half-lives (factor 2**-50 ≈ 9e-16): more is a date slip.
MAX_DECAY_HALF_LIVES = 50.0

_ACTIVITY_HELP = "Activity with its unit, e.g. '7.4 GBq', '7400MBq', '200 mCi'."
_TIMESTAMP_HELP = "ISO-8601 timestamp with a time zone, e.g. 2026-03-02T10:00+01:00 or ...Z."
_FormatOption = Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)]
_NuclideOption = Annotated[
    str, typer.Option("--nuclide", "-n", help="Nuclide, e.g. Lu-177, 177Lu.")
]


# ----------------------------------------------------------------------------- decay


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        stdout_console.print(Text.assemble(("note: ", "bold yellow"), note))


def _render_decay(p: dict[str, Any]) -> None:
    table = Table(
        title=f"Decay of {p['nuclide']}", title_justify="left", show_edge=False, show_header=False
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Initial activity", _fmt_activity(p["initial_activity_bq"]))
    if p["from"] is not None:
        table.add_row("From", p["from"])
        table.add_row("To", p["to"])
    table.add_row(
        "Elapsed", f"{_fmt_duration(p['elapsed_s'])} ({p['half_lives_elapsed']:.4g} half-lives)"
    )
    table.add_row("Decay factor", f"{p['decay_factor']:.6g}")
    table.add_row("Activity", Text(_fmt_activity(p["activity_bq"]), style="bold green"))
    stdout_console.print(table)
    _print_notes(p["notes"])


def _decay(
    activity: str,
    nuclide: str,
    after: str | None,
    start: str | None,
    end: str | None,
) -> dict[str, Any]:
    resolved = get_nuclide(nuclide)
    activity_bq = parse_quantity(activity, Dimension.ACTIVITY, field="activity", positive=True)
    if activity_bq > ACTIVITY_INPUT_MAX_BQ:
        raise InvalidInputError(
            "activity",
            activity,
            f"at most {ACTIVITY_INPUT_MAX_BQ:.0e} Bq ({ACTIVITY_INPUT_MAX_BQ / 1e9:.0e} GBq)",
            hint="no source handled in nuclear medicine comes near this; check the unit",
        )
    moments: tuple[datetime, datetime] | None = None
    back = False
    if after is not None:
        if start is not None or end is not None:
            raise InvalidInputError(
                "after", after, "either --after or both --from and --to, not both"
            )
        elapsed_s = parse_quantity(after, Dimension.TIME, field="after", nonnegative=True)
    elif start is not None and end is not None:
        moments = (parse_timestamp(start, field="from"), parse_timestamp(end, field="to"))
        elapsed_s = seconds_between(*moments)
        back = elapsed_s < 0.0
        if -elapsed_s / resolved.half_life_s > MAX_DECAY_HALF_LIVES:
            raise InvalidInputError(
                "from/to",
                f"--from {start} --to {end}",
                f"a back-correction of at most {MAX_DECAY_HALF_LIVES:g} half-lives of "
                f"{resolved.name} ({_fmt_duration(MAX_DECAY_HALF_LIVES * resolved.half_life_s)}); "
                f"this is {-elapsed_s / resolved.half_life_s:.4g} half-lives",
                hint="check the dates: --to is far before --from",
            )
    else:
        missing = "to" if start is not None else "from" if end is not None else "after"
        raise InvalidInputError(
            missing, None, "--after DURATION (e.g. 96h) or both --from and --to timestamps"
        )
    factor = decay_factor(resolved, elapsed_s)
    result_bq = activity_bq * factor
    if not math.isfinite(result_bq) or result_bq > ACTIVITY_INPUT_MAX_BQ:
        raise InvalidInputError(
            "from/to" if moments else "after",
            f"--from {start} --to {end}" if moments else after,
            f"a time span giving a finite, plausible activity (at most {ACTIVITY_INPUT_MAX_BQ:.0e} Bq)",
            hint="check the dates and the activity",
        )
    notes = [
        n
        for n in (
            patient_activity_note(activity_bq, field="activity"),
            patient_activity_note(activity_bq * factor, field="result")
            if back and activity_bq <= PATIENT_ACTIVITY_PLAUSIBLE_MAX_BQ
            else None,
        )
        if n is not None
    ]
    if back:
        notes.insert(0, "back-correction: activity at the earlier time (--to is before --from)")
    return {
        "nuclide": resolved.name,
        "half_life_s": resolved.half_life_s,
        "initial_activity_bq": activity_bq,
        "from": moments[0].isoformat() if moments else None,
        "to": moments[1].isoformat() if moments else None,
        "elapsed_s": elapsed_s,
        "half_lives_elapsed": elapsed_s / resolved.half_life_s,
        "decay_factor": factor,
        "activity_bq": result_bq,
        "back_correction": back,
        "notes": notes,
    }


# ----------------------------------------------------------------------------- administered

_FIELD_NAMES = {
    "assay_bq": "assay",
    "assay_at": "assay_time",
    "injection_at": "injection_time",
    "residual_bq": "residual",
}


def _cli_field(field: str) -> str:
    if field.startswith("residuals[") and field.endswith(".measured_at"):
        return "residual_time"
    if field.startswith("residuals["):
        return "residual"
    return _FIELD_NAMES.get(field, field)


def _administered(
    nuclide: str,
    assay: str,
    assay_time: str | None,
    residuals: list[str],
    residual_times: list[str],
    labels: list[str],
    injection_time: str | None,
) -> AdministeredActivityResult:
    resolved = get_nuclide(nuclide)
    assay_bq = parse_quantity(assay, Dimension.ACTIVITY, field="assay", positive=True)
    residual_bqs = [
        parse_quantity(r, Dimension.ACTIVITY, field="residual", nonnegative=True) for r in residuals
    ]
    if residual_times and len(residual_times) != len(residuals):
        raise InvalidInputError(
            "residual_time",
            residual_times,
            f"one --residual-time per --residual ({len(residuals)} given)",
        )
    if labels and len(labels) != len(residuals):
        raise InvalidInputError(
            "residual_label", labels, f"one --residual-label per --residual ({len(residuals)})"
        )
    times: list[datetime | None] = [
        parse_timestamp(t, field="residual_time") for t in residual_times
    ]
    if not times:
        times = [None] * len(residuals)
    names = labels or (
        ["residual"]
        if len(residuals) == 1
        else [f"residual {i + 1}" for i in range(len(residuals))]
    )
    measurements = [
        ActivityMeasurement(activity_bq=a, measured_at=t, label=n)
        for a, t, n in zip(residual_bqs, times, names, strict=True)
    ]
    try:
        return administered_activity(
            nuclide=resolved,
            assay_bq=assay_bq,
            assay_at=parse_timestamp(assay_time, field="assay_time") if assay_time else None,
            injection_at=parse_timestamp(injection_time, field="injection_time")
            if injection_time
            else None,
            residuals=measurements,
        )
    except InvalidInputError as err:
        raise InvalidInputError(_cli_field(err.field), err.value, err.expected, err.hint) from err


def _administered_payload(result: AdministeredActivityResult) -> dict[str, Any]:
    def reading(m: ActivityMeasurement, at_injection: float) -> dict[str, Any]:
        return {
            "label": m.label,
            "activity_bq": m.activity_bq,
            "measured_at": m.measured_at.isoformat() if m.measured_at else None,
            "activity_at_injection_bq": at_injection,
        }

    return {
        "nuclide": result.nuclide,
        "injection_time": result.injection_at.isoformat() if result.injection_at else None,
        "decay_corrected": result.decay_corrected,
        "assay": reading(result.assay, result.assay_at_injection_bq),
        "residuals": [
            reading(m, v)
            for m, v in zip(result.residuals, result.residuals_at_injection_bq, strict=True)
        ],
        "residual_measured": result.residual_measured,
        "residual_at_injection_bq": result.residual_at_injection_bq
        if result.residual_measured
        else None,
        "residual_fraction": result.residual_fraction if result.residual_measured else None,
        "administered_bq": result.administered_bq,
        "notes": list(result.notes),
        "steps": result.history.to_list(),
    }


def _fmt_moment(iso: str | None) -> str:
    if iso is None:
        return "—"
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


def _render_administered(p: dict[str, Any]) -> None:
    table = Table(
        title=f"Administered activity, {p['nuclide']}", title_justify="left", show_edge=False
    )
    for column in ("Reading", "Measured at", "Measured", "At injection"):
        table.add_column(
            column, justify="left" if column in ("Reading", "Measured at") else "right"
        )
    rows = [("assay", p["assay"])] + [("− " + r["label"], r) for r in p["residuals"]]
    for label, r in rows:
        table.add_row(
            label,
            _fmt_moment(r["measured_at"]),
            _fmt_bq(r["activity_bq"]),
            _fmt_bq(r["activity_at_injection_bq"]),
        )
    table.add_section()
    table.add_row(
        Text("= administered", style="bold"),
        _fmt_moment(p["injection_time"]),
        "",
        Text(_fmt_bq(p["administered_bq"]), style="bold green"),
    )
    stdout_console.print(table)
    stdout_console.print(
        Text.assemble(
            ("Administered activity: ", "bold"),
            (_fmt_activity(p["administered_bq"]), "bold green"),
            f"; residual {_fmt_percent(p['residual_fraction'])} of the assay"
            if p["residual_measured"]
            else "",
        )
    )
    if not p["residual_measured"]:
        stdout_console.print(
            Text(
                "residual: not measured (the administered activity is the assay, an upper bound)",
                style="yellow",
            )
        )
    _print_notes(p["notes"])
    if not p["decay_corrected"]:
        stdout_console.print(
            Text(
                "No timestamps given: readings taken as simultaneous, no decay correction.",
                style="yellow",
            )
        )


# ----------------------------------------------------------------------------- registration


def register(app: typer.Typer) -> None:
    """Add ``nuclide``, ``decay`` and ``administered`` to the root ``app``."""

    @app.command("nuclide")
    def nuclide_cmd(
        name: Annotated[str, typer.Argument(help="Nuclide, e.g. Lu-177, 177Lu, Ac225.")],
        fmt: _FormatOption = OutputFormat.TEXT,
    ) -> None:
        """Half-life, energy emitted per decay, photon lines and decay chain of a nuclide.

        Supported: Lu-177, Y-90, In-111, Ga-68, F-18, Tb-161, Ac-225 (+ chain), Pb-212 (+ chain), Bi-213.
        """
        with handle_errors(fmt):
            payload = _nuclide_payload(get_nuclide(name))
        emit(payload, fmt, _render_nuclide)

    @app.command("decay", context_settings={"ignore_unknown_options": True})
    def decay_cmd(
        activity: Annotated[str, typer.Argument(help=_ACTIVITY_HELP)],
        nuclide: _NuclideOption,
        after: Annotated[
            str | None, typer.Option("--after", help="Elapsed time with its unit, e.g. 96h, 7 d.")
        ] = None,
        start: Annotated[
            str | None, typer.Option("--from", help="Time of the activity. " + _TIMESTAMP_HELP)
        ] = None,
        end: Annotated[
            str | None,
            typer.Option(
                "--to", help="Time to decay to (earlier = correct back). " + _TIMESTAMP_HELP
            ),
        ] = None,
        fmt: _FormatOption = OutputFormat.TEXT,
    ) -> None:
        """Activity left after a time (--after) or between two timestamps (--from/--to)."""
        with handle_errors(fmt):
            payload = _decay(activity, nuclide, after, start, end)
        emit(payload, fmt, _render_decay)

    @app.command("administered")
    def administered_cmd(
        assay: Annotated[
            str,
            typer.Option("--assay", help="Calibrator reading before injection. " + _ACTIVITY_HELP),
        ],
        nuclide: _NuclideOption,
        residual: Annotated[
            list[str] | None,
            typer.Option(
                "--residual",
                help="Residual reading after injection (vial, syringe, line); repeatable.",
            ),
        ] = None,
        assay_time: Annotated[
            str | None, typer.Option("--assay-time", help=_TIMESTAMP_HELP)
        ] = None,
        residual_time: Annotated[
            list[str] | None,
            typer.Option(
                "--residual-time",
                help="Time of each residual reading, same order. " + _TIMESTAMP_HELP,
            ),
        ] = None,
        residual_label: Annotated[
            list[str] | None,
            typer.Option(
                "--residual-label", help="Name of each residual reading, e.g. vial, line."
            ),
        ] = None,
        injection_time: Annotated[
            str | None, typer.Option("--injection-time", help=_TIMESTAMP_HELP)
        ] = None,
        fmt: _FormatOption = OutputFormat.TEXT,
    ) -> None:
        """Administered activity = assay − residuals, each decay-corrected to the injection time.

        Give all times (assay, each residual, injection) or none (readings taken as simultaneous).
        """
        with handle_errors(fmt):
            result = _administered(
                nuclide,
                assay,
                assay_time,
                residual or [],
                residual_time or [],
                residual_label or [],
                injection_time,
            )
            payload = _administered_payload(result)
        emit(payload, fmt, _render_administered)
