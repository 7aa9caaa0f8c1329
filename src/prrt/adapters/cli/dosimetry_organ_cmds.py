"""Organ-level dosimetry command: ``prrt dosimetry organ STUDY.json [STUDY.json ...]``.

Reads one or more studies (each) in the documented JSON format (JSON Schema shipped as
``prrt/dosimetry/schemas/organ_study.schema.json``; ``docs/dosimetry-organ.md``),
fits the time-activity curves and prints TIAs, organ/lesion/marrow doses,
BED, the cumulative course with limit margins and the cycle plan.  Bad input
(missing field, value without unit, unknown organ or nuclide, mass of zero)
exits with code 2 and names the JSON path and the file.  The JSON output is
always ``{"studies": [{"file": ..., <study payload>}, ...]}``, one entry per file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from prrt.adapters._files import read_json_document
from prrt.adapters.cli._common import (
    FORMAT_HELP,
    OutputFormat,
    emit,
    handle_errors,
    stdout_console,
)
from prrt.dosimetry.study import parse_study, run_study
from prrt.errors import InvalidInputError

__all__ = ["register"]

_H = 3600.0


def _read_study(path: Path) -> Any:
    return read_json_document(path, field="STUDY", expected="a readable UTF-8 study JSON file")


def _study_file(path: Path) -> dict[str, Any]:
    """Read and compute one study file; errors keep their JSON path and name the file."""
    data = _read_study(path)
    try:
        payload = run_study(parse_study(data)).to_dict()
    except InvalidInputError as err:
        hint = f"in {path}" + (f"; {err.hint}" if err.hint else "")
        raise type(err)(err.field, err.value, err.expected, hint=hint) from err
    return {"file": str(path), **payload}


def _table(*columns: str, title: str) -> Table:
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left"
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _gy(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _render_text(payload: dict[str, Any]) -> None:
    for index, entry in enumerate(payload["studies"]):
        if index:
            stdout_console.print()
        _render_study(entry)


def _render_study(payload: dict[str, Any]) -> None:
    study = payload["study"]
    stdout_console.print(Text(payload["file"], style="bold underline"))
    stdout_console.print(
        f"Organ dosimetry patient {study['patient_id'] or '-'} · {study['nuclide']} · "
        f"{study['phantom']} · kidneys {study['kidney_convention']} · limits {study['limit_profile']}"
    )
    for cycle in payload["cycles"]:
        stdout_console.print(
            f"\nCycle {cycle['cycle']} — {cycle['administered_activity_bq'] / 1e9:.3g} GBq",
            style="bold",
        )
        kin = _table("Region", "Model", "TIA (MBq·h)", "± SD", "R²", "extrap.", title="Kinetics")
        for k in cycle["kinetics"]:
            sd = k.get("time_integrated_activity_sd_bq_s")
            r2 = k.get("r_squared")
            ex = k.get("extrapolated_fraction")
            dof = k.get("residual_dof")
            kin.add_row(
                k["region"],
                k["model"],
                f"{k['time_integrated_activity_bq_s'] / 1e6 / _H:.5g}",
                "-" if sd is None else f"{sd / 1e6 / _H:.3g}",
                f"n/a ({dof} dof)"
                if dof is not None and dof <= 0
                else ("-" if r2 is None else f"{r2:.3f}"),
                "-" if ex is None else f"{ex:.0%}",
            )
        if cycle["kinetics"]:
            stdout_console.print(kin)
        for k in cycle["kinetics"]:
            for warning in k.get("fit_warnings", []):
                stdout_console.print(Text.assemble(("fit warning: ", "bold yellow"), warning))
        doses = _table(
            "Region", "Dose (Gy)", "±TIA", "Cross", "RBE-wt", "G", "BED (Gy)", "EQD2", title="Doses"
        )
        rows = [*cycle["organ_doses"], *cycle["lesion_doses"]]
        for d in rows:
            bed = d.get("bed")
            sd = d.get("absorbed_dose_sd_from_tia_gy")
            doses.add_row(
                d["region"],
                _gy(d["absorbed_dose_gy"]),
                _gy(sd),
                _gy(d["cross_dose_gy"]),
                _gy(d["rbe_weighted_dose_gy"]),
                "-" if bed is None else f"{bed['g_factor']:.4f}",
                _gy(None if bed is None else bed["bed_gy"]),
                _gy(None if bed is None else bed["eqd2_gy"]),
            )
        marrow = cycle["red_marrow"]
        if marrow is not None:
            bed = marrow.get("bed")
            doses.add_row(
                "red_marrow (blood)",
                _gy(marrow["absorbed_dose_gy"], 4),
                "-",
                _gy(marrow["organ_cross_dose_gy"] + marrow["remainder_dose_gy"], 4),
                _gy(marrow["absorbed_dose_gy"], 4),
                "-" if bed is None else f"{bed['g_factor']:.4f}",
                _gy(None if bed is None else bed["bed_gy"], 4),
                _gy(None if bed is None else bed["eqd2_gy"], 4),
            )
        for r in cycle["reported_doses"]:
            bed = r.get("bed")
            doses.add_row(
                f"{r['region']} (reported)",
                _gy(r["absorbed_dose_gy"]),
                "-",
                "-",
                "-",
                "-" if bed is None else f"{bed['g_factor']:.4f}",
                _gy(None if bed is None else bed["bed_gy"]),
                _gy(None if bed is None else bed["eqd2_gy"]),
            )
        stdout_console.print(doses)
    course = payload["course"]
    total = _table("Region", "Cumulative (Gy)", "BED (Gy)", "EQD2 (Gy)", "Cycles", title="Course")
    lower_bounds = []
    for c in course["cumulative"]:
        mark = "≥ " if c["lower_bound"] else ""
        if c["lower_bound"]:
            lower_bounds.append(f"{c['region']} (no dose for cycle(s) {c['missing_cycles']})")
        total.add_row(
            c["region"],
            mark + _gy(c["absorbed_dose_gy"]),
            "-" if c["bed_gy"] is None else mark + _gy(c["bed_gy"]),
            "-" if c["eqd2_gy"] is None else mark + _gy(c["eqd2_gy"]),
            ",".join(str(n) for n in c["cycles_counted"]),
        )
    stdout_console.print(total)
    if lower_bounds:
        stdout_console.print(Text.assemble(("lower bounds: ", "yellow"), "; ".join(lower_bounds)))
    stdout_console.print("Limits")
    for c in course["limit_checks"]:
        region = f" ({c['region']})" if c["region"] != c["limit_region"] else ""
        stdout_console.print(
            f"  {c['status']:<13} {c['id']}{region}: {_gy(c['value_gy'])} of {c['limit_gy']:g} Gy, "
            f"margin {_gy(c['margin_gy'])} Gy" + (f" — {c['note']}" if c["note"] else "")
        )
    plan = course["plan"]
    if plan is not None:
        d_lo, d_hi = plan["dose_per_cycle_band_gy"]
        stdout_console.print(
            f"Plan ({plan['region']}, {plan['activity_per_cycle_bq'] / 1e9:.3g} GBq per cycle): "
            f"predicted {plan['dose_per_cycle_gy']:.3f} Gy per cycle "
            f"(band {d_lo:.3f}–{d_hi:.3f} Gy, k = {plan['coverage_factor']:g}); "
            f"{plan['summary']}; binding limit {plan['binding_limit_id']}."
        )
        for note in plan["notes"]:
            stdout_console.print(Text.assemble(("plan note: ", "yellow"), str(note)))
    for note in payload["notes"]:
        stdout_console.print(Text.assemble(("note: ", "yellow"), str(note)))


def register(app: typer.Typer) -> None:
    """Add ``organ`` to the ``prrt dosimetry`` sub-application."""

    @app.command("organ")
    def organ(
        studies: Annotated[
            list[Path],
            typer.Argument(
                help="One or more study JSON files (format: docs/dosimetry-organ.md).",
                metavar="STUDY.json",
                show_default=False,
            ),
        ],
        fmt: Annotated[
            OutputFormat, typer.Option("--format", help=FORMAT_HELP)
        ] = OutputFormat.TEXT,
    ) -> None:
        """Organ-level dosimetry of studies: TAC fits, TIA, doses, BED, course and limit margins."""
        with handle_errors(fmt):
            emit({"studies": [_study_file(path) for path in studies]}, fmt, _render_text)
