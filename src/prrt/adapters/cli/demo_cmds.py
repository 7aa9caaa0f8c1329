"""``prrt demo``: the main job — the whole pathway on a synthetic patient, with its report.

With no arguments it writes ``prrt-demo/`` in the current directory: the HTML
and PDF reports, one RTDOSE per cycle, the plan as iCalendar and JSON, the
course record and ``record.json`` (documented in ``docs/demo.md``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from prrt.adapters.cli._common import (
    FORMAT_HELP,
    OutputFormat,
    emit,
    handle_errors,
    prepare_output_dir,
    stderr_console,
    stdout_console,
)

__all__ = ["register"]


def _render(payload: dict[str, Any]) -> None:
    table = Table(title="prrt demo: synthetic patient DEMO-001", box=box.SIMPLE_HEAVY)
    table.add_column("step")
    table.add_column("result")
    table.add_row("selection", payload["verdict"])
    for line in payload["decisions"]:
        table.add_row("decision", line)
    table.add_row("cumulative doses", payload["cumulative_doses"])
    table.add_row("best response", payload["best_response"])
    table.add_row("cohort", payload["cohort"])
    table.add_row("time", f"{payload['timings_s']['total_s']:.1f} s")
    stdout_console.print(table)
    stdout_console.print(f"HTML report: {payload['files']['report_html']}")
    stdout_console.print(f"PDF report:  {payload['files']['report_pdf']}")
    stdout_console.print(f"All outputs: {payload['output_dir']}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""

    @app.command("demo")
    def demo(
        output: Annotated[
            Path, typer.Option("--output", "-o", help="Output folder (created).")
        ] = Path("prrt-demo"),
        start: Annotated[
            str | None,
            typer.Option(
                "--start",
                help="First PRRT (ISO 8601 with UTC offset), default 2027-01-11T09:00+01:00.",
            ),
        ] = None,
        seed: Annotated[
            int, typer.Option(help="Seed of the synthetic images and cohort.")
        ] = 20270111,
        cohort: Annotated[
            bool, typer.Option("--cohort/--no-cohort", help="Also run the small cohort.")
        ] = True,
        fmt: Annotated[
            OutputFormat, typer.Option("--format", help=FORMAT_HELP)
        ] = OutputFormat.TEXT,
    ) -> None:
        """The main job: a synthetic patient and cohort through the whole pathway, with its report.

        Selection → plan → 4 cycles (SPECT/CT, dosimetry, labs, decisions) → response; writes the
        HTML/PDF report, RTDOSE files, the plan (.ics) and a JSON record.
        """
        from prrt.adapters.reports.demo import (
            COHORT_STEPS,
            DEFAULT_FIRST_ADMINISTRATION,
            DEMO_STEPS,
            run_demo,
        )
        from prrt.adapters.reports.render import response_text
        from prrt.units import parse_timestamp

        with handle_errors(fmt):
            first: datetime = DEFAULT_FIRST_ADMINISTRATION
            if start is not None:
                parse_timestamp(
                    start, field="--start"
                )  # refuses text that is not ISO or has no offset
                first = datetime.fromisoformat(start.strip())
            out = prepare_output_dir(output)
            progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=stderr_console,
                disable=fmt is OutputFormat.JSON,
                transient=True,
            )
            with progress:
                task = progress.add_task(
                    "starting", total=DEMO_STEPS + (COHORT_STEPS if cohort else 0)
                )

                def step(text: str) -> None:
                    progress.update(task, description=text, advance=1)

                result = run_demo(
                    out, first_administration=first, seed=seed, cohort=cohort, progress=step
                )
        record = result.record
        cumulative = {c["region"]: c for c in record["organ_dosimetry_course"]["cumulative"]}
        doses = "; ".join(
            f"{r.replace('_', ' ')} {cumulative[r]['absorbed_dose_gy']:.2f} Gy"
            for r in ("kidneys", "red_marrow", "spleen")
            if r in cumulative
        )
        treated = [m for m in record["cohort"] if m["cycles_given"]]
        payload = {
            "output_dir": str(out),
            "verdict": record["selection"]["verdict"],
            "decisions": [c["next_cycle_decision"]["summary"] for c in record["cycles"]],
            "cumulative_doses": doses,
            "best_response": response_text(record),
            "cohort": f"{len(record['cohort'])} cases, {len(treated)} treated (dosimetry-guided)",
            "files": {k: str(out / v) for k, v in record["files"].items()},
            "timings_s": record["timings_s"],
        }
        emit(payload, fmt, _render)
