"""Report of ``prrt cohort analyze``: one HTML page, the figures as PNG and the JSON results.

The HTML is self-contained (figures embedded as base64 PNG, inline styles) and is
rendered with Jinja2 (autoescaping on) from the template in this module; the same
figures are written next to it as PNG files, and ``cohort_analysis.json`` holds every
number of the page (documented in ``docs/outcomes.md``).  ``write_meta_outputs`` does
the same for a pooled proportion (``prrt evidence pool``): forest plot and JSON.
"""

from __future__ import annotations

import base64
import io
import json
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape
from matplotlib.figure import Figure

from prrt.adapters.reports.outcome_figures import (
    cox_forest_figure,
    km_figure,
    meta_forest_figure,
    swimmer_figure,
    waterfall_figure,
)
from prrt.outcomes.analysis import CohortAnalysis
from prrt.outcomes.meta import ProportionMetaResult

__all__ = ["cohort_figures", "jsonable", "png_bytes", "write_cohort_report", "write_meta_outputs"]

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f4f7; }
.note { color: #7a5b00; background: #fff8e1; padding: 0.4em 0.8em; }
.flag { color: #a33; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
</style></head><body>
<h1>{{ title }}</h1>
<p>Source: <code>{{ a.source }}</code> · {{ a.n_patients }} patients · arms: {{ a.arms | join(", ") }} ·
confidence level {{ (100 * a.settings.confidence_level) | round | int }}% ({{ a.settings.ci_method }} Kaplan–Meier
intervals) · times in {{ a.settings.time_unit }} · evidence base {{ a.settings.evidence_version }}.</p>
{% for note in a.notes %}<p class="note">{{ note }}</p>{% endfor %}
{% for ep in a.endpoints %}
<h2>{{ ep.label }}</h2>
<table><tr><th>arm</th><th>n</th><th>events</th><th>median (months)</th><th>CI (months)</th>
{% for t in ep.landmark_months %}<th>rate at {{ t | fmt }} months (%)</th>{% endfor %}
<th>median follow-up (months)</th><th>RMST to {{ ep.tau | fmt }} months</th></tr>
{% for row in ep.rows %}<tr><td>{{ row.arm }}</td><td>{{ row.n }}</td><td>{{ row.events }}</td>
<td>{{ row.median | fmt }}</td><td>{{ row.median_ci }}</td>
{% for r in row.rates %}<td>{{ r }}</td>{% endfor %}
<td>{{ row.follow_up | fmt }}</td><td>{{ row.rmst }}</td></tr>{% endfor %}
</table>
{% if ep.log_rank %}<p>Log-rank test: χ² = {{ ep.log_rank.chi2 | fmt }} on {{ ep.log_rank.df }} df, p = {{ ep.log_rank.p_value | fmt }}.</p>{% endif %}
{% if ep.cox %}<table><tr><th>Cox term (reference arm {{ ep.cox_reference }})</th><th>HR</th><th>CI</th><th>p</th><th>PH test p</th></tr>
{% for t in ep.cox.terms %}<tr><td>{{ t.name }}</td><td>{{ t.hazard_ratio | fmt }}</td>
<td>{{ t.hr_ci[0] | fmt }}–{{ t.hr_ci[1] | fmt }}</td><td>{{ t.p_value | fmt }}</td><td>{{ t.ph_test_p_value | fmt }}</td></tr>{% endfor %}
</table>{% endif %}
{% if ep.rmst_difference %}<p>RMST difference ({{ ep.rmst_difference.first.label }} − {{ ep.rmst_difference.second.label }}):
{{ ep.rmst_difference.difference_months | fmt }} months ({{ ep.rmst_difference.ci_months[0] | fmt }} to {{ ep.rmst_difference.ci_months[1] | fmt }}), p = {{ ep.rmst_difference.p_value | fmt }}.</p>{% endif %}
{% for r in ep.references %}<p>Published curve <b>{{ r.label }}</b> (reconstructed, Guyot 2012; n = {{ r.reconstructed.n }}, events = {{ r.reconstructed.events }}, median {{ r.reconstructed.median_months | fmt }} months):
log-rank χ² {{ r.log_rank.chi2 | fmt }}, p = {{ r.log_rank.p_value | fmt }}{% if r.hazard_ratio_local_vs_published %}; HR local vs published {{ r.hazard_ratio_local_vs_published.hazard_ratio | fmt }}
({{ r.hazard_ratio_local_vs_published.hr_ci[0] | fmt }}–{{ r.hazard_ratio_local_vs_published.hr_ci[1] | fmt }}){% endif %}.</p>{% endfor %}
{% for name in ep.figures %}<img alt="{{ name }}" src="data:image/png;base64,{{ images[name] }}">{% endfor %}
{% endfor %}
<h2>Response (RECIST 1.1 best overall response)</h2>
<table><tr><th>arm</th><th>assessed</th><th>CR</th><th>PR</th><th>SD</th><th>PD</th><th>NE</th><th>ORR (%)</th><th>DCR (%)</th></tr>
{% for r in a.response %}<tr><td>{{ r.label }}</td><td>{{ r.n_assessed }}</td>{% for k in ["CR", "PR", "SD", "PD", "NE"] %}<td>{{ r.counts[k] }}</td>{% endfor %}
<td>{{ r.orr_text }}</td><td>{{ r.dcr_text }}</td></tr>{% endfor %}
</table>
<p>Exact (Clopper–Pearson) intervals; NE counts as assessed without response.</p>
{% for name in response_figures %}<img alt="{{ name }}" src="data:image/png;base64,{{ images[name] }}">{% endfor %}
<h2>Published benchmarks (PRRT arm of reference trials vs local arm {{ a.settings.prrt_arm }})</h2>
<table><tr><th>trial</th><th>endpoint</th><th>measure</th><th>published</th><th>local</th><th>source</th><th>flags</th></tr>
{% for b in benchmarks %}<tr><td>{{ b.trial }}</td><td>{{ b.endpoint }}</td><td>{{ b.measure }}</td><td>{{ b.published_text }}</td>
<td>{{ b.local_text }}</td><td style="text-align:left">{{ b.source }}</td><td class="flag">{{ b.flags | join(", ") }}</td></tr>{% endfor %}
</table>
<p>Trials differ in population, line of therapy and follow-up: benchmarks are context, not a test.</p>
</body></html>
"""


def png_bytes(fig: Figure, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _ci(lo: Any, hi: Any) -> str:
    """An interval; a missing upper limit of a median is "not reached" (NR)."""
    if lo is None and hi is None:
        return "–"
    return f"{_fmt(lo)}–{'NR' if hi is None else _fmt(hi)}"


def jsonable(obj: Any) -> Any:
    """Replace non-finite floats by ``None`` (strict JSON), recursively."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj


def cohort_figures(analysis: CohortAnalysis) -> dict[str, Figure]:
    """Every figure of the report, by file stem."""
    figs: dict[str, Figure] = {}
    bench = [dict(b) for b in analysis.benchmarks]
    for ep in analysis.endpoints:
        refs = [r for r in analysis.references if r.endpoint is ep.endpoint]
        figs[f"km_{ep.endpoint.value}"] = km_figure(ep, references=refs, benchmarks=bench)
        if ep.cox is not None:
            figs[f"cox_forest_{ep.endpoint.value}"] = cox_forest_figure(
                ep.cox, title=f"{ep.endpoint.label}: Cox model hazard ratios"
            )
    if analysis.waterfall:
        figs["waterfall"] = waterfall_figure(analysis.waterfall)
    if any(r.get("follow_up_months") is not None for r in analysis.swimmer):
        figs["swimmer"] = swimmer_figure(analysis.swimmer)
    return figs


def _context(analysis: CohortAnalysis, data: dict[str, Any]) -> dict[str, Any]:
    endpoints = []
    for ep, raw in zip(analysis.endpoints, data["endpoints"], strict=True):
        rows = []
        rates = {x["arm"]: x["rates"] for x in raw["landmarks"]}
        rmst = {x["label"]: x for x in raw["rmst"]}
        for arm in raw["arms"]:
            r = rmst[arm["label"]]
            rows.append(
                {
                    "arm": arm["label"],
                    "n": arm["n"],
                    "events": arm["events"],
                    "median": arm["median_months"],
                    "median_ci": _ci(*arm["median_ci_months"]),
                    "rates": [
                        "–"
                        if x["survival"] is None
                        else f"{100 * x['survival']:.1f} ({_ci(*(None if v is None else 100 * v for v in (x['lower'], x['upper'])))})"
                        for x in rates[arm["label"]]
                    ],
                    "follow_up": raw["median_follow_up_by_arm_months"].get(arm["label"]),
                    "rmst": f"{_fmt(r['rmst_months'])} ({_ci(*r['ci_months'])})",
                }
            )
        endpoints.append(
            {
                "label": ep.endpoint.label,
                "landmark_months": ep.landmark_months,
                "tau": ep.rmst[0].tau_months if ep.rmst else None,
                "rows": rows,
                "log_rank": raw["log_rank"],
                "cox": raw["cox"],
                "cox_reference": raw["cox_reference_arm"] or "–",
                "rmst_difference": raw["rmst_difference"],
                "references": [
                    {**r, "reconstructed": {**r["reconstructed"]}}
                    for r in data["references"]
                    if r["endpoint"] == ep.endpoint.value
                ],
                "figures": [f"km_{ep.endpoint.value}"]
                + ([f"cox_forest_{ep.endpoint.value}"] if ep.cox is not None else []),
            }
        )
    response = []
    for r in data["response"]:

        def text(est: dict[str, Any] | None) -> str:
            if est is None:
                return "–"
            lo, hi = est["ci_fraction"]
            return f"{100 * est['rate_fraction']:.1f} ({100 * lo:.1f}–{100 * hi:.1f})"

        response.append({**r, "orr_text": text(r["orr"]), "dcr_text": text(r["dcr"])})
    benchmarks = []
    for b in data["benchmarks"]:
        unit = " months" if b["measure"] == "median_months" else " %"
        ci = b["published_ci"]
        pub = (
            str(b["published"])
            + unit
            + (
                f" ({round(100 * b['published_ci_level'])}% CI {ci[0]}–"
                f"{'NR' if ci[1] is None else ci[1]})"
                if ci
                else ""
            )
        )
        local = (
            "–"
            if b["local"] is None
            else _fmt(b["local"]) + unit + (f" ({_ci(*b['local_ci'])})" if b["local_ci"] else "")
        )
        benchmarks.append({**b, "published_text": pub, "local_text": local})
    return {"endpoints": endpoints, "response": response, "benchmarks": benchmarks}


def write_cohort_report(
    analysis: CohortAnalysis, out_dir: Path, *, title: str = "PRRT cohort outcomes"
) -> dict[str, Path]:
    """Write ``report.html``, one PNG per figure and ``cohort_analysis.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = jsonable(analysis.to_dict())
    written: dict[str, Path] = {}
    json_path = out_dir / "cohort_analysis.json"
    json_path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written["json"] = json_path
    images: dict[str, str] = {}
    for name, fig in cohort_figures(analysis).items():
        png = png_bytes(fig)
        path = out_dir / f"{name}.png"
        path.write_bytes(png)
        written[name] = path
        images[name] = base64.b64encode(png).decode("ascii")
    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    env.filters["fmt"] = _fmt
    ctx = _context(analysis, data)
    a = {**data, "response": ctx["response"], "endpoints": ctx["endpoints"]}
    html = env.from_string(_TEMPLATE).render(
        title=title,
        a=a,
        images=images,
        benchmarks=ctx["benchmarks"],
        response_figures=[n for n in ("waterfall", "swimmer") if n in images],
    )
    html_path = out_dir / "report.html"
    html_path.write_text(html, encoding="utf-8")
    written["html"] = html_path
    return written


def write_meta_outputs(result: ProportionMetaResult, out_dir: Path) -> dict[str, Path]:
    """Write ``forest.png`` and ``meta_analysis.json`` for a pooled proportion."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "meta_analysis.json"
    json_path.write_text(
        json.dumps(jsonable(result.to_dict()), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    png_path = out_dir / "forest.png"
    png_path.write_bytes(png_bytes(meta_forest_figure(result)))
    return {"json": json_path, "forest": png_path}
