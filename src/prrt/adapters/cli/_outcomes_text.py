"""Text (terminal) rendering of the outcomes commands' JSON payloads (:mod:`.outcomes_cmds`)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from prrt.adapters.cli._common import stdout_console

__all__ = [
    "render_cohort",
    "render_evidence_list",
    "render_evidence_show",
    "render_match",
    "render_pool",
]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def render_cohort(payload: dict[str, Any]) -> None:
    console = stdout_console
    console.rule(
        f"{payload['source']} · {payload['n_patients']} patients · {', '.join(payload['arms'])}"
    )
    for ep in payload["endpoints"]:
        table = Table(title=f"{ep['endpoint'].upper()} (months)", title_justify="left")
        for col in ("arm", "n", "events", "median", "CI", "follow-up"):
            table.add_column(col)
        landmarks = {x["arm"]: x["rates"] for x in ep["landmarks"]}
        times = [r["time_months"] for r in next(iter(landmarks.values()))]
        for t in times:
            table.add_column(f"S({t:g}) %")
        for arm in ep["arms"]:
            lo, hi = arm["median_ci_months"]
            rates = [
                "–" if r["survival"] is None else f"{100 * r['survival']:.1f}"
                for r in landmarks[arm["label"]]
            ]
            table.add_row(
                arm["label"],
                str(arm["n"]),
                str(arm["events"]),
                _fmt(arm["median_months"]),
                f"{_fmt(lo)}–{'NR' if hi is None else _fmt(hi)}",
                _fmt(ep["median_follow_up_by_arm_months"].get(arm["label"])),
                *rates,
            )
        console.print(table)
        if ep["log_rank"]:
            lr = ep["log_rank"]
            console.print(
                f"log-rank chi2 {lr['chi2']:.3g} ({lr['df']} df), p = {lr['p_value']:.3g}"
            )
        if ep["cox"]:
            for term in ep["cox"]["terms"]:
                lo, hi = term["hr_ci"]
                console.print(
                    f"Cox HR {term['name']} vs {ep['cox_reference_arm'] or 'per unit'}: "
                    f"{term['hazard_ratio']:.3g} ({lo:.3g}–{hi:.3g}), p = {term['p_value']:.3g}"
                )
    for ref in payload["references"]:
        hr = ref["hazard_ratio_local_vs_published"]
        lr = ref["log_rank"]
        text = (
            f"vs published {ref['label']} ({ref['endpoint'].upper()}, reconstructed n = "
            f"{ref['reconstructed']['n']}, median {_fmt(ref['reconstructed']['median_months'])} months): "
            f"log-rank chi2 {lr['chi2']:.3g}, p = {lr['p_value']:.3g}"
        )
        if hr is not None:
            text += f"; HR {ref['local_arm']} vs published {hr['hazard_ratio']:.3g} "
            text += f"({hr['hr_ci'][0]:.3g}–{hr['hr_ci'][1]:.3g})"
        console.print(text)
    for r in payload["response"]:
        orr, dcr = r["orr"], r["dcr"]
        if orr is None:
            continue
        console.print(
            f"{r['label']}: ORR {100 * orr['rate_fraction']:.1f}% "
            f"({100 * orr['ci_fraction'][0]:.1f}–{100 * orr['ci_fraction'][1]:.1f}), "
            f"DCR {100 * dcr['rate_fraction']:.1f}% "
            f"({100 * dcr['ci_fraction'][0]:.1f}–{100 * dcr['ci_fraction'][1]:.1f}), "
            f"n = {r['n_assessed']} (exact 95% CI)"
        )
    console.print(f"report: {payload['files']['html']}")


def _render_flags(flags: list[dict[str, Any]]) -> None:
    for f in flags:
        stdout_console.print(
            Text.assemble((f"FLAG {f['id']} ({f['kind']}): ", "bold red"), f["text"])
        )


def _render_result(r: dict[str, Any]) -> None:
    console = stdout_console
    refs = ", ".join(f"[{x}]" for x in r["seed_refs"]) or "no seed reference number"
    title = r.get("study") or r.get("quantity")
    console.print(
        Text.assemble((f"{r['id']} ", "bold"), f"{title} — seed ref {refs}; status: {r['status']}")
    )
    for n in r["numbers"]:
        arm = f" [{n['arm']}]" if "arm" in n else ""
        mark = f"  (FLAG {n['flag']})" if n.get("flag") else ""
        console.print(f"   {n['quantity']}{arm}: {n['text']} — {n['status']}{mark}")
    _render_flags(r["flags"])


def render_evidence_show(payload: dict[str, Any]) -> None:
    console = stdout_console
    if payload["record"] == "flag":
        _render_flags([payload])
        console.print(f"applies to: {', '.join(payload['applies_to'])}; {payload['section']}")
        return
    if payload["record"] != "trial":
        _render_result(payload)
        console.print(f"source: {payload['source']}")
        return
    console.rule(f"{payload['id']} ({payload['nct'] or 'no NCT'}) · {payload['role']}")
    _render_flags(payload["flags"])
    design = payload["design"]
    console.print(
        Text.assemble(("Design: ", "bold"), ", ".join(f"{k} {v}" for k, v in design.items()))
    )
    console.print(
        Text.assemble(
            ("Primary endpoint: ", "bold"), str(payload["primary_endpoint"] or "not stated")
        )
    )
    seed_text = payload["population"].get("seed_text")
    if seed_text:
        console.print(Text.assemble(("Population (seed Table 1): ", "bold"), seed_text))
    console.print(Text.assemble(("Source: ", "bold"), payload["source"]))
    elig = {k: v for k, v in payload["eligibility"].items() if k != "not_checked"}
    console.print(Text.assemble(("Eligibility (checkable): ", "bold"), str(elig)))
    for item in payload["eligibility"].get("not_checked", []):
        console.print(f"   not checkable: {item}")
    console.print(Text.assemble(("Results status: ", "bold"), payload["result_status"]))
    for i, res in enumerate(payload["later_results"]):
        console.print(Text(f"Results {i + 1}:", style="bold"))
        for key, value in res.items():
            console.print(f"   {key}: {value}")
    for r in payload["seed_results"]:
        _render_result(r)


def render_evidence_list(payload: dict[str, Any]) -> None:
    console = stdout_console
    if payload["trials"]:
        table = Table(title="Trials (seed Table 1 + reference)", title_justify="left")
        for col in ("trial", "NCT", "row", "results", "flags"):
            table.add_column(col, overflow="fold")
        for t in payload["trials"]:
            table.add_row(
                t["id"],
                t["nct"] or "–",
                _fmt(t["table_row"]),
                t["result_status"],
                ", ".join(t["flags"]),
            )
        console.print(table)
    for key, title in (
        ("results", "Seed results (§1a)"),
        ("practice", "Seed practice numbers (§1b)"),
    ):
        if payload[key]:
            table = Table(title=title, title_justify="left")
            for col in ("id", "seed refs", "study / quantity", "status", "flags"):
                table.add_column(col, overflow="fold")
            for r in payload[key]:
                table.add_row(
                    r["id"],
                    ", ".join(map(str, r["seed_refs"])) or "–",
                    r["title"],
                    r["status"],
                    ", ".join(r["flags"]),
                )
            console.print(table)
    if payload["flags"]:
        _render_flags(payload["flags"])


def render_pool(payload: dict[str, Any]) -> None:
    console = stdout_console
    table = Table(title=f"Pooled proportion ({payload['transform']} scale)", title_justify="left")
    for col in ("study", "events/n", "proportion %", "exact CI %", "weight (RE) %"):
        table.add_column(col)
    for s in payload["studies"]:
        lo, hi = s["ci_exact"]
        table.add_row(
            s["label"],
            f"{s['events']}/{s['n']}",
            f"{100 * s['proportion']:.1f}",
            f"{100 * lo:.1f}–{100 * hi:.1f}",
            f"{s['weight_random_percent']:.1f}",
        )
    console.print(table)
    het = payload["analysis_scale"]["heterogeneity"]
    for key in ("fixed", "random"):
        p = payload[key]
        console.print(
            f"{key}: {100 * p['proportion']:.1f}% ({100 * p['lower']:.1f}–{100 * p['upper']:.1f})"
        )
    lo, hi = payload["prediction_interval"]
    console.print(f"prediction interval: {100 * lo:.1f}–{100 * hi:.1f}%")
    console.print(
        f"Q = {het['q']:.3g} ({het['df']} df, p = {het['q_p_value']:.3g}), I² = {het['i2_percent']:.1f}%, "
        f"τ² = {het['tau2']:.4g} ({payload['analysis_scale']['tau_method']})"
    )
    if payload.get("files"):
        console.print(f"forest plot: {payload['files']['forest']}")


_MATCH_STYLE = {
    "meets_checked_criteria": ("MEETS CHECKED CRITERIA", "bold green"),
    "undecided": ("UNDECIDED", "bold yellow"),
    "fails": ("FAILS", "bold red"),
}


def render_match(payload: dict[str, Any]) -> None:
    console = stdout_console
    console.rule(
        f"{payload['case_id']} · {payload['assessment_date']} · evidence {payload['evidence_version']}"
    )
    console.print(payload["note"], style="dim")
    for m in payload["matches"]:
        label, style = _MATCH_STYLE[m["status"]]
        nct = f" ({m['nct']})" if m["nct"] else ""
        console.print(
            Text.assemble(
                (f"{label}: ", style),
                (m["trial"], "bold"),
                nct,
                f" — results: {m['result_status']}",
            )
        )
        for key, mark, colour in (
            ("failed", "fails", "red"),
            ("undecided", "cannot decide", "yellow"),
            ("met", "meets", "green"),
        ):
            for c in m[key]:
                console.print(
                    Text.assemble(
                        ("   " + mark + ": ", colour),
                        f"{c['rule_id'].split(':', 1)[1]} — {c['message']}",
                    )
                )
        for item in m["not_checked"]:
            console.print(f"   not checked: {item}", style="dim")
        if m["flags"]:
            console.print(
                f"   flags: {', '.join(m['flags'])} (prrt evidence show {m['trial']!r})",
                style="magenta",
            )
