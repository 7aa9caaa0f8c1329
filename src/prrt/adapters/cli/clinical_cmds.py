"""Clinical commands: ``prrt evaluate CASE.json [...] [--profile NAME] [--format json|text]``.

Each case file (format: ``docs/clinical.md``, schema
``prrt/clinical/schemas/case.schema.json``) is validated, then evaluated under one
decision profile: WHO grade, SSTR/FDG scores, eligibility with every rule
outcome (or the re-treatment rules after a prior PRRT course), CrCl/eGFR, CTCAE
lab grades, the next-cycle decision when a course is given and RECIST per time
point with the best response.  Bad input (unknown unit, implausible value,
missing required field, wrong type, unknown profile) exits with code 2 and names
the file, the JSON path, the value and what was expected.

The text output puts the verdict first, then the rules that fired or could not be
decided, then the details; ``--format json`` gives ``{"profile": ..., "cases": [...]}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from prrt.adapters._files import read_text_document
from prrt.adapters.cli._common import (
    FORMAT_HELP,
    OutputFormat,
    emit,
    handle_errors,
    stdout_console,
)
from prrt.clinical.case import load_case
from prrt.clinical.evaluate import evaluate_case
from prrt.clinical.profiles import DEFAULT_PROFILE_NAME, Profile, get_profile, list_profiles
from prrt.errors import InvalidInputError

__all__ = ["register"]

_VERDICT_STYLE = {
    "eligible": ("ELIGIBLE", "bold green"),
    "needs_multidisciplinary_review": ("NEEDS MULTIDISCIPLINARY REVIEW", "bold yellow"),
    "not_eligible": ("NOT ELIGIBLE", "bold red"),
}
_SEVERITY_ORDER = {"exclusion": 0, "caution": 1, "warning": 2, "information": 3}
_STATUS_MARK = {
    "fail": ("FIRED", "red"),
    "indeterminate": ("?", "yellow"),
    "pass": ("ok", "green"),
    "not_applicable": ("n/a", "dim"),
}


def _evaluate_file(path: Path, profile: Profile) -> dict[str, Any]:
    """Read, validate and evaluate one case file; errors name the file in their hint."""
    text = read_text_document(path, field="CASE", expected="a readable UTF-8 JSON case file")
    try:
        return evaluate_case(load_case(text, source=str(path)), profile).to_dict()
    except RecursionError as err:
        raise InvalidInputError(
            "CASE", str(path), "a JSON case file", hint="JSON nested too deeply"
        ) from err
    except InvalidInputError as err:
        hint = f"in {path}" + (f"; {err.hint}" if err.hint else "")
        raise type(err)(err.field, err.value, err.expected, hint=hint) from err


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_OPEN_MARK = {
    ("fail", "exclusion"): ("EXCLUDES", "bold red"),
    ("fail", "caution"): ("MDT", "bold yellow"),
    ("fail", "warning"): ("warning", "magenta"),
    ("indeterminate", "exclusion"): ("no data", "yellow"),
    ("indeterminate", "caution"): ("no data", "yellow"),
    ("indeterminate", "warning"): ("no data", "dim"),
}
_SUMMARY_WORDS = {
    "EXCLUDES": "exclusion(s)",
    "MDT": "caution(s) for MDT review",
    "warning": "warning(s)",
    "no data": "rule(s) undecided for missing data",
}


def _summary(open_rules: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for o in open_rules:
        label = _OPEN_MARK[(o["status"], o["severity"])][0]
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} {_SUMMARY_WORDS[label]}" for label, n in counts.items())


def _rule_row(table: Table, outcome: dict[str, Any]) -> None:
    mark, style = _OPEN_MARK[(outcome["status"], outcome["severity"])]
    requirement = ""
    if outcome.get("operator") and outcome.get("threshold") is not None:
        requirement = f"{outcome['operator']} {_fmt(outcome['threshold'])} {outcome.get('unit') or ''}".strip()
    table.add_row(
        Text(mark, style=style),
        outcome["rule_id"],
        outcome["severity"],
        outcome["message"],
        requirement,
        outcome["source"],
    )


def _render_case(report: dict[str, Any]) -> None:
    console = stdout_console
    label, style = _VERDICT_STYLE[report["verdict"]]
    pathway = "re-treatment (§8)" if report["pathway"] == "retreatment" else "first course"
    console.rule(
        f"{report['case_id']} · {report['assessment_date']} · profile {report['profile']['name']}"
    )
    outcomes = report["outcomes"]
    open_rules = [
        o
        for o in outcomes
        if o["status"] in ("fail", "indeterminate") and o["severity"] != "information"
    ]
    open_rules.sort(key=lambda o: (_SEVERITY_ORDER[o["severity"]], o["status"] != "fail"))
    summary = _summary(open_rules)
    console.print(
        Text.assemble(
            ("VERDICT: ", "bold"),
            (label, style),
            f"   (pathway: {pathway}{'; ' + summary if summary else ''})",
        )
    )
    nxt = report.get("next_cycle")
    if nxt is not None:
        activity = nxt.get("activity_bq")
        dose = f" ({activity / 1e9:g} GBq)" if activity else ""
        console.print(
            Text.assemble(
                ("NEXT CYCLE: ", "bold"),
                f"{nxt['decision']}{dose} — {', '.join(nxt['reason_codes'])}",
            )
        )
    recist = report.get("recist")
    if recist is not None and recist.get("best_overall_response"):
        bor = recist["best_overall_response"]
        flags = f" [{', '.join(bor['flags'])}]" if bor["flags"] else ""
        console.print(
            Text.assemble(("BEST RESPONSE (RECIST 1.1): ", "bold"), f"{bor['response']}{flags}")
        )
    retreatment = report.get("retreatment")
    if retreatment is not None:
        interval = next(o for o in retreatment["outcomes"] if o["rule_id"].startswith("RETX-1"))
        console.print(Text.assemble(("RE-TREATMENT INTERVAL: ", "bold"), interval["message"]))
    for note in report.get("notes", []):
        console.print(f"note: {note}", style="yellow")

    if open_rules:
        table = Table(
            title="Rules that fired or could not be decided", title_justify="left", expand=False
        )
        for column in ("", "rule", "class", "finding", "requirement", "source"):
            # Status and rule id are never broken: a clinician searches for the id.
            table.add_column(column, overflow="fold", no_wrap=column in ("", "rule"))
        for outcome in open_rules:
            _rule_row(table, outcome)
        console.print(table)
    else:
        console.print("No rule fired and none is undecided.", style="green")

    grade = report["grade"]
    console.print(
        Text.assemble(
            ("Grade: ", "bold"),
            f"{grade['category']} (Ki-67 G{_fmt(grade['grade_by_ki67'])}, mitoses G{_fmt(grade['grade_by_mitoses'])}; "
            f"{grade['scheme']})",
        )
    )
    for note in grade["notes"]:
        console.print(f"  {note}", style="dim")
    scores = report["scores"]
    expression = scores["sstr_expression"]["pattern"] if scores["sstr_expression"] else "-"
    console.print(
        Text.assemble(
            ("Imaging: ", "bold"),
            f"NETPET {scores['netpet']['label']}; SSTR expression {expression}; "
            f"target threshold score >= {_fmt(scores['sstr_min_score'])}; "
            f"FDG+/SSTR- mismatch: {', '.join(scores['mismatch_lesions']) or 'none'}",
        )
    )
    if scores["lesions"]:
        lesions = Table(show_edge=False, box=None, padding=(0, 1))
        for column in (
            "lesion",
            "target",
            "size mm",
            "SSTR",
            "meets",
            "FDG",
            "FDG vs SSTR",
            "mismatch",
        ):
            lesions.add_column(column)
        for row in scores["lesions"]:
            lesions.add_row(
                row["id"],
                "yes" if row["target"] else "no",
                _fmt(row["size_mm"]),
                _fmt(row["sstr_score"]),
                _fmt(row["meets_threshold"]),
                _fmt(row["fdg"]),
                _fmt(row["fdg_vs_sstr"]),
                "YES" if row["mismatch"] else "",
            )
        console.print(lesions)
    renal = report["renal"]
    console.print(
        Text.assemble(
            ("Renal: ", "bold"),
            f"CrCl {_fmt(renal['crcl_ml_per_min'])} mL/min (Cockcroft-Gault, actual weight; drives the rules); "
            f"eGFR {_fmt(renal['egfr_ml_per_min_1_73m2'])} mL/min/1.73 m² (CKD-EPI 2021; CTCAE only)",
        )
    )
    if report["lab_grades"]:
        labs = Table(
            title="CTCAE v5.0 laboratory grades",
            title_justify="left",
            show_edge=False,
            box=None,
            padding=(0, 1),
        )
        for column in ("term", "value", "unit", "grade", "band"):
            labs.add_column(column)
        for g in report["lab_grades"]:
            shown = (
                _fmt(g["grade"])
                if g["grade"] is not None
                else f"? (>= {g['grade_at_least']}; needs {', '.join(g['missing'])})"
            )
            labs.add_row(g["term"], _fmt(g["value"]), g["unit"], shown, g["band"])
        console.print(labs)
    if nxt is not None and nxt["reasons"]:
        console.print(Text("Next-cycle reasons:", style="bold"))
        for reason in nxt["reasons"]:
            console.print(f"  {reason}")
    if recist is not None and recist["time_points"]:
        tps = Table(
            title="RECIST 1.1 per time point",
            title_justify="left",
            show_edge=False,
            box=None,
            padding=(0, 1),
        )
        for column in (
            "date",
            "overall",
            "target",
            "non-target",
            "new",
            "sum mm",
            "vs baseline %",
            "vs nadir %",
        ):
            tps.add_column(column)
        for tp in recist["time_points"]:
            tps.add_row(
                tp["assessment_date"],
                tp["overall"],
                _fmt(tp["target_response"]),
                _fmt(tp["non_target_response"]),
                tp["new_lesions"],
                _fmt(tp["sum_mm"]),
                _fmt(tp["change_from_baseline_percent"]),
                _fmt(tp["change_from_nadir_percent"]),
            )
        console.print(tps)
    rest = [o for o in outcomes if o not in open_rules]
    if rest:
        parts = []
        for o in rest:
            mark, style = (
                ("info", "cyan") if o["severity"] == "information" else _STATUS_MARK[o["status"]]
            )
            parts.append(Text.assemble((f"{mark} ", style), o["rule_id"]))
        console.print(Text("Other rules: ", style="bold"), Text("  ").join(parts))
    console.print()


def _render(payload: dict[str, Any]) -> None:
    for report in payload["cases"]:
        _render_case(report)


def evaluate_command(
    cases: Annotated[
        list[Path],
        typer.Argument(
            help="One or more JSON case files (format: docs/clinical.md).",
            show_default=False,
            metavar="CASE.json",
        ),
    ],
    profile: Annotated[
        str,
        typer.Option("--profile", help="Decision profile: " + ", ".join(list_profiles()) + "."),
    ] = DEFAULT_PROFILE_NAME,
    fmt: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.TEXT,
) -> None:
    """Evaluate PRRT cases: grade, scores, eligibility with every rule, lab grades, next cycle, RECIST."""
    with handle_errors(fmt):
        chosen = get_profile(profile)
        reports = [_evaluate_file(path, chosen) for path in cases]
        payload = {
            "profile": chosen.to_dict()["name"],
            "profile_version": chosen.version,
            "cases": reports,
        }
        emit(payload, fmt, _render)


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command("evaluate")(evaluate_command)
