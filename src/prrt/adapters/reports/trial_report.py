"""Report of an in-silico trial: figures (PNG) and one self-contained HTML page.

The figures compare the strategies of a :class:`~prrt.simulation.trial.TrialResult`
on the same virtual patients: number of cycles (with the published median and
range of Sundlöv et al. 2022), total activity, cumulative kidney dose and BED,
red-marrow dose and tumour BED, each with the limits of the profile.  The page
lists the settings, the population parameters with their sources and tags, the
summary per strategy and the comparison with published distributions.  Every
axis is titled and labelled with its unit.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, StrictUndefined, select_autoescape
from matplotlib.figure import Figure

from prrt.simulation.published import PUBLISHED_STATISTICS
from prrt.simulation.summary import StrategySummary
from prrt.simulation.trial import TrialResult

__all__ = ["REPORT_FILE", "trial_figures", "write_trial_report"]

REPORT_FILE = "trial_report.html"
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
_PLOT_BINS = 120
#: (quantity, title, axis label, divisor to the axis unit, limit ids drawn)
_PANELS: tuple[tuple[str, str, str, float, tuple[str, ...]], ...] = (
    ("total_activity_bq", "Total administered activity", "activity (GBq)", 1e9, ()),
    (
        "kidneys_absorbed_dose_gy",
        "Cumulative kidney absorbed dose",
        "dose (Gy)",
        1.0,
        ("kidneys.absorbed_dose",),
    ),
    (
        "kidneys_bed_gy",
        "Cumulative kidney BED",
        "BED (Gy)",
        1.0,
        ("kidneys.bed.no_risk_factors", "kidneys.bed.risk_factors"),
    ),
    (
        "red_marrow_absorbed_dose_gy",
        "Cumulative red-marrow absorbed dose",
        "dose (Gy)",
        1.0,
        ("red_marrow.absorbed_dose",),
    ),
    ("tumour_bed_gy", "Cumulative tumour BED", "BED (Gy)", 1.0, ()),
)

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prrt in-silico trial</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:75em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:0.25em 0.6em;text-align:right;vertical-align:top}
th:first-child,td:first-child,td.text{text-align:left}
td.text{max-width:40em}
.tag{font-family:monospace}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
</style></head><body>
<h1>In-silico trial: fixed vs dosimetry-guided [177Lu]Lu-DOTA-TATE</h1>
<p>{{ settings.n_patients }} virtual patients, seed {{ settings.seed }}, {{ settings.n_chunks }} chunks of
{{ settings.chunk_size }}; population <b>{{ population.name }}</b>: {{ population.description }}</p>
<p>Strategies: {% for s in settings.strategies %}<b>{{ s.name }}</b> (regimen {{ s.regimen }},
{{ "%.3g"|format(s.full_activity_bq / 1e9) }} GBq, at most {{ s.max_cycles }} cycles,
{{ "measured doses and limits of " ~ s.limit_profile if s.uses_dosimetry else "no dosimetry" }}){% if not loop.last %}; {% endif %}{% endfor %}.</p>

<h2>Summary per strategy</h2>
<table><tr><th>quantity</th>{% for name in strategies %}<th>{{ name }}</th>{% endfor %}</tr>
{% for label, key in rows %}<tr><td>{{ label }}</td>{% for name in strategies %}<td>{{ cells[name][key] }}</td>{% endfor %}</tr>
{% endfor %}</table>

<h2>Compared with published distributions</h2>
<table><tr><th>id</th><th>strategy</th><th>statistic</th><th>published</th><th>simulated</th><th>tag</th><th>source and note</th></tr>
{% for c in comparisons %}<tr><td>{{ c.id }}</td><td class="text">{{ c.strategy }}</td><td class="text">{{ c.quantity }} {{ c.statistic }} ({{ c.unit }})</td>
<td>{{ c.published_text }}</td><td>{{ c.simulated_text }}</td><td class="tag">{{ c.tag }}</td><td class="text">{{ c.source }}{% if c.note %} — {{ c.note }}{% endif %}</td></tr>
{% endfor %}</table>

<h2>Figures</h2>
{% for f in figures %}<figure><img alt="{{ f.title }}" src="data:image/png;base64,{{ f.png }}"><figcaption>{{ f.title }}</figcaption></figure>
{% endfor %}

<h2>Population parameters</h2>
<table><tr><th>region</th><th>parameter</th><th>value</th><th>tag</th><th>source</th></tr>
{% for p in parameters %}<tr><td>{{ p.region }}</td><td class="text">{{ p.name }}</td><td>{{ p.value }}</td><td class="tag">{{ p.tag }}</td><td class="text">{{ p.source }}</td></tr>
{% endfor %}</table>
<p>Tags: V verified value, C computed from verified values, L literature abstract, R recalled and not re-checked,
P program assumption (dosimetry-reference.md).</p>
<h2>Notes</h2><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
</body></html>
"""


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _limit_values(result: TrialResult) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in result.settings.strategies:
        for lim in s.limit_profile.limits:
            out.setdefault(lim.id, lim.limit_gy)
    return out


def _cycles_figure(summaries: Mapping[str, StrategySummary]) -> Figure:
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(len(summaries), 1)
    top = max(s.cycle_counts.size for s in summaries.values())
    k = np.arange(top)
    for i, (name, s) in enumerate(summaries.items()):
        share = np.zeros(top)
        share[: s.cycle_counts.size] = s.cycle_counts / s.n_patients
        ax.bar(
            k + (i - (len(summaries) - 1) / 2) * width,
            100 * share,
            width,
            label=f"{name} (median {s.cycles_median})",
            color=_COLOURS[i % len(_COLOURS)],
        )
    published = {p.id: p.value for p in PUBLISHED_STATISTICS}
    median, span = published["SUNDLOV-2022-CYCLES-MEDIAN"], published["SUNDLOV-2022-CYCLES-RANGE"]
    if not isinstance(median, tuple) and isinstance(span, tuple):
        ax.axvline(median, color="k", ls="--", lw=1, label=f"Sundlöv 2022: median {median:g}")
        ax.axvspan(
            span[0] - 0.5,
            span[1] + 0.5,
            color="0.92",
            zorder=0,
            label=f"Sundlöv 2022: range {span[0]:g}–{span[1]:g}",
        )
    ax.set_xticks(np.arange(0, max(top, 10)))
    ax.set_xlabel("cycles given")
    ax.set_ylabel("patients (%)")
    ax.set_title("Number of cycles")
    ax.legend(fontsize=8)
    return fig


def _distribution_figure(
    summaries: Mapping[str, StrategySummary],
    quantity: str,
    title: str,
    label: str,
    scale: float,
    limits: Sequence[tuple[str, float]],
) -> Figure:
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    high = max(s.maxima[quantity] for s in summaries.values())
    for i, (name, s) in enumerate(summaries.items()):
        spec = s.spec(quantity)
        counts = s.histograms[quantity][: spec.bins]
        used = max(1, min(spec.bins, int(np.ceil(high / spec.bin_width)) + 1))
        group = max(1, -(-used // _PLOT_BINS))
        n_groups = -(-used // group)
        padded = np.zeros(n_groups * group)
        padded[:used] = counts[:used]
        grouped = padded.reshape(n_groups, group).sum(axis=1)
        width = spec.bin_width * group
        edges = np.arange(n_groups + 1) * width
        density = grouped / (s.n_patients * width / scale)
        ax.stairs(
            density,
            edges / scale,
            label=f"{name} (median {s.quantile(quantity, 0.5) / scale:.3g})",
            color=_COLOURS[i % len(_COLOURS)],
            lw=1.5,
        )
    for lim_id, value in limits:
        ax.axvline(value / scale, color="0.3", ls=":", lw=1)
        ax.annotate(
            f"{lim_id} {value:g} Gy",
            (value / scale, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
        )
    ax.set_xlabel(label)
    unit = label[label.find("(") + 1 : label.find(")")] if "(" in label else "unit"
    ax.set_ylabel(f"patients per {unit}")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def trial_figures(result: TrialResult) -> list[tuple[str, str, Figure]]:
    """The report's figures: (file stem, title, figure)."""
    summaries = result.summaries
    limits = _limit_values(result)
    figures = [("cycles", "Number of cycles per patient", _cycles_figure(summaries))]
    for quantity, title, label, scale, limit_ids in _PANELS:
        if not all(quantity in s.histograms for s in summaries.values()):
            continue
        shown = [(i, limits[i]) for i in limit_ids if i in limits]
        figures.append(
            (quantity, title, _distribution_figure(summaries, quantity, title, label, scale, shown))
        )
    return figures


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return "–".join(_fmt(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cells(summary: Mapping[str, Any]) -> dict[str, str]:
    q = summary["quantities"]
    cycles = summary["cycles"]

    def spread(key: str, scale: float = 1.0) -> str:
        x = q[key]
        return f"{x['p50'] / scale:.3g} ({x['p05'] / scale:.3g}–{x['p95'] / scale:.3g})"

    over = summary["true_dose_over_limit_fractions"]
    return {
        "cycles": f"{cycles['median']} ({cycles['min']}–{cycles['max']}), mean {cycles['mean']:.2f}",
        "more4": f"{100 * cycles['fraction_more_than_4']:.1f} %",
        "stopped": f"{100 * summary['stopped_by_limits_fraction']:.1f} %",
        "stops": ", ".join(f"{k} {100 * v:.1f} %" for k, v in summary["stop_fractions"].items()),
        "partial": f"{100 * summary['final_partial_cycle_fraction']:.1f} %",
        "activity": spread("total_activity_bq", 1e9),
        "kidney": spread("kidneys_absorbed_dose_gy"),
        "kidney_bed": spread("kidneys_bed_gy"),
        "marrow": spread("red_marrow_absorbed_dose_gy"),
        "tumour": spread("tumour_absorbed_dose_gy"),
        "tumour_bed": spread("tumour_bed_gy"),
        "over": ", ".join(f"{k} {100 * v:.2f} %" for k, v in over.items()),
    }


_ROWS = (
    ("cycles: median (range), mean", "cycles"),
    ("patients with more than 4 cycles", "more4"),
    ("course stopped by a dose limit", "stopped"),
    ("how courses ended", "stops"),
    ("final partial cycle", "partial"),
    ("total activity, GBq: median (5th–95th percentile)", "activity"),
    ("kidney absorbed dose, Gy", "kidney"),
    ("kidney BED, Gy", "kidney_bed"),
    ("red-marrow absorbed dose, Gy", "marrow"),
    ("tumour absorbed dose, Gy", "tumour"),
    ("tumour BED, Gy", "tumour_bed"),
    ("true cumulative value above the limit", "over"),
)


def _parameters(population: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key in ("measurement_cv_fraction", "intercycle_cv_fraction", "renal_risk_factor_fraction"):
        p = population[key]
        rows.append(
            {
                "region": "all",
                "name": key,
                "value": _fmt(p["value"]),
                "tag": p["tag"],
                "source": p["source"],
            }
        )
    for organ in population["organs"]:
        for key, value in organ.items():
            if isinstance(value, dict) and "source" in value:
                rows.append(
                    {
                        "region": organ["region"],
                        "name": key,
                        "value": _fmt(value["value"]),
                        "tag": value["tag"],
                        "source": value["source"],
                    }
                )
    return rows


def write_trial_report(result: TrialResult, out_dir: Path) -> dict[str, str]:
    """Write ``figures/*.png`` and :data:`REPORT_FILE` into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    payload = result.to_dict()
    files: dict[str, str] = {}
    embedded = []
    for stem, title, fig in trial_figures(result):
        png = _png(fig)
        path = figures_dir / f"{stem}.png"
        path.write_bytes(png)
        files[f"figure_{stem}"] = str(path)
        embedded.append({"title": title, "png": base64.b64encode(png).decode("ascii")})
    comparisons = [
        {**c, "published_text": _fmt(c["published"]), "simulated_text": _fmt(c["simulated"])}
        for c in payload["published_comparison"]
    ]
    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    html = env.from_string(_TEMPLATE).render(
        settings=payload["settings"],
        population=payload["population"],
        strategies=list(payload["strategies"]),
        rows=_ROWS,
        cells={name: _cells(s) for name, s in payload["strategies"].items()},
        comparisons=comparisons,
        figures=embedded,
        parameters=_parameters(payload["population"]),
        notes=payload["notes"],
    )
    report = out_dir / REPORT_FILE
    report.write_text(html, encoding="utf-8")
    files["report"] = str(report)
    return files
