"""Render the demo record as an HTML page (Jinja2, figures embedded) and a PDF (matplotlib).

The HTML is one self-contained file: the figures are embedded as base64 PNG and
the styles are inline, so it opens offline and can be archived as it is.  The
PDF starts with text pages (summary, eligibility, decisions, instructions) and
then draws every figure as a vector page.
"""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from prrt.dosimetry.course import load_limit_profile
from prrt.planning import InstructionSheet

__all__ = ["render_html", "render_pdf", "response_text"]

_DOSE_REGIONS = ("kidneys", "spleen", "liver")
_VOXEL_NAME = {"kidneys": "kidneys", "spleen": "spleen", "liver": "liver"}


def response_text(record: Mapping[str, Any]) -> str:
    """Best overall response in words, e.g. ``PR on 2027-09-20 (PR on 2027-09-20)``."""
    response = record.get("response")
    best = response.get("best_overall_response") if response else None
    if not best:
        return "not assessed"
    confirmed = {True: ", confirmed", False: ", unconfirmed"}.get(best.get("confirmed"), "")
    return f"{best['response']} on {best['response_date']}{confirmed}"


def _dose_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for cycle in record["cycles"]:
        organ = cycle["organ_dosimetry"]
        mird = {d["region"]: d["absorbed_dose_gy"] for d in organ["organ_doses"]}
        lesions = {d["region"]: d["absorbed_dose_gy"] for d in organ["lesion_doses"]}
        voxel = {r["name"]: r["mean_gy"] for r in cycle["voxel_dosimetry"]["regions"]}
        marrow = organ["red_marrow"]["absorbed_dose_gy"] if organ["red_marrow"] else float("nan")
        rows.append(
            {
                "cycle": cycle["cycle"],
                "activity_gbq": cycle["administered_activity_bq"] / 1e9,
                "mird": {r: mird.get(r, float("nan")) for r in _DOSE_REGIONS},
                "voxel": {r: voxel.get(_VOXEL_NAME[r], float("nan")) for r in _DOSE_REGIONS},
                "marrow": marrow,
                "tumour_1": lesions.get("lesion:tumour_1", lesions.get("tumour_1", float("nan"))),
                "tumour_2": lesions.get("lesion:tumour_2", lesions.get("tumour_2", float("nan"))),
            }
        )
    return rows


def _baseline_sum_mm(record: Mapping[str, Any]) -> str:
    case = record.get("follow_up_case") or {}
    lesions = (case.get("response") or {}).get("baseline_lesions", [])
    total = sum(float(str(x["longest_diameter"]).split()[0]) for x in lesions)
    return f"{total:.0f}"


def render_html(
    record: Mapping[str, Any],
    pngs: Mapping[str, bytes],
    sheets: Sequence[InstructionSheet],
    path: Path,
) -> Path:
    """Write the HTML report to ``path``."""
    env = Environment(
        loader=PackageLoader("prrt.adapters.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    html = template.render(
        r=record,
        img={k: base64.b64encode(v).decode("ascii") for k, v in pngs.items()},
        sheets=sheets,
        total_gbq=sum(c["administered_activity_bq"] for c in record["cycles"]) / 1e9,
        response_text=response_text(record),
        dose_regions=_DOSE_REGIONS,
        dose_rows=_dose_rows(record),
        limit_profile=load_limit_profile().name,
        baseline_sum_mm=_baseline_sum_mm(record),
    )
    path.write_text(html, "utf-8")
    return path


_A4_INCHES = (8.27, 11.69)
_LINES_PER_PAGE = 62
_WRAP = 105


def _text_pages(title: str, lines: Sequence[str]) -> list[Figure]:
    wrapped: list[str] = []
    for line in lines:
        if not line:
            wrapped.append("")
            continue
        indent = "    " if line.startswith(("  ", "- ")) else ""
        wrapped.extend(textwrap.wrap(line, _WRAP, subsequent_indent=indent) or [""])
    pages = []
    for start in range(0, max(len(wrapped), 1), _LINES_PER_PAGE):
        fig = Figure(figsize=_A4_INCHES)
        fig.text(0.06, 0.965, title, fontsize=13, weight="bold", va="top")
        fig.text(
            0.06,
            0.935,
            "\n".join(wrapped[start : start + _LINES_PER_PAGE]),
            fontsize=7.6,
            family="monospace",
            va="top",
        )
        pages.append(fig)
    return pages


def _summary_lines(record: Mapping[str, Any]) -> list[str]:
    p, sel = record["patient"], record["selection"]
    lines = [
        record["disclaimer"],
        "",
        f"Patient {p['patient_id']}: {p['sex']}, {p['age_years']} years, {p['weight_kg']} kg, {p['height_cm']} cm",
        f"Grade: {sel['grade']['category']} ({sel['grade']['scheme']})",
        f"Eligibility: {sel['verdict']} (profile {sel['profile']['name']} v{sel['profile']['version']});"
        f" fired: {', '.join(sel['fired']) or 'none'}; undecided: {', '.join(sel['undecided']) or 'none'}",
        f"Regimen: {record['plan']['regimen']['name']}",
        f"Best overall response (RECIST 1.1): {response_text(record)}",
        "",
        "ELIGIBILITY RULES",
    ]
    for o in sel["outcomes"]:
        lines.append(f"- {o['rule_id']:<28} {o['status']:<15} {o['message']}")
    lines += ["", "DOSES PER CYCLE (Gy; MIRD / voxel mean)"]
    for row in _dose_rows(record):
        parts = [f"{r} {row['mird'][r]:.2f}/{row['voxel'][r]:.2f}" for r in _DOSE_REGIONS]
        lines.append(
            f"- cycle {row['cycle']}: {row['activity_gbq']:.3g} GBq; "
            + "; ".join(parts)
            + f"; red marrow {row['marrow']:.3f}; tumour 1 {row['tumour_1']:.1f}; tumour 2 {row['tumour_2']:.1f}"
        )
    lines += ["", "CUMULATIVE DOSES AGAINST LIMITS (after the last cycle)"]
    for c in record["cycles"][-1]["next_cycle_decision"]["limit_checks"]:
        value = "—" if c["value_gy"] is None else f"{c['value_gy']:.2f}"
        lines.append(f"- {c['id']:<32} {value:>7} Gy of {c['limit_gy']:g} Gy: {c['status']}")
    lines += ["", "DECISIONS"]
    for cycle in record["cycles"]:
        d = cycle["next_cycle_decision"]
        lines.append(
            f"- after cycle {cycle['cycle']} (assessed {d['assessment_date']}): {d['summary']}"
        )
        for reason in d["reasons"]:
            lines.append(f"    {reason['code']}: {reason['text']} ({reason['source']})")
    lines += ["", "COHORT"]
    for m in record["cohort"]:
        lines.append(
            f"- {m['case_id']} {m['description']}: {m['verdict']}; {m['cycles_given']} cycles, "
            f"{m['total_activity_gbq']:.1f} GBq, kidneys {m['cumulative_kidney_dose_gy']:.1f} Gy"
            + (f" — {m['final_decision']['summary']}" if m["final_decision"] else "")
        )
    return lines


def render_pdf(
    record: Mapping[str, Any],
    figures: Mapping[str, Figure],
    sheets: Sequence[InstructionSheet],
    path: Path,
) -> Path:
    """Write the PDF report to ``path``."""
    with PdfPages(path) as pdf:
        for page in _text_pages(
            f"PRRT course report: {record['patient']['patient_id']} (synthetic)",
            _summary_lines(record),
        ):
            pdf.savefig(page)
        for fig in figures.values():
            pdf.savefig(fig)
        if sheets:
            lines: list[str] = []
            for heading, items in sheets[0].sections:
                lines += ["", heading.upper()] + [f"- {item}" for item in items]
            for page in _text_pages(sheets[0].title, lines):
                pdf.savefig(page)
        info = pdf.infodict()
        info["Title"] = f"prrt demo report {record['patient']['patient_id']}"
        info["Creator"] = f"prrt {record['prrt_version']}"
    return path
