"""Figures of cohort outcomes: Kaplan–Meier curves, waterfall, swimmer and forest plots.

Built with :class:`matplotlib.figure.Figure` (no pyplot state, no display); every
axis has a title and labels with units.  The inputs are the result objects of
:mod:`prrt.outcomes` (or their JSON rows), so the figures can be redrawn from a
saved ``cohort_analysis.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from prrt.outcomes.analysis import EndpointAnalysis, ReferenceComparison
from prrt.outcomes.cox import CoxResult
from prrt.outcomes.meta import ProportionMetaResult
from prrt.outcomes.survival import SurvivalCurve

__all__ = [
    "RESPONSE_COLOURS",
    "cox_forest_figure",
    "forest_figure",
    "km_figure",
    "meta_forest_figure",
    "swimmer_figure",
    "waterfall_figure",
]

_ARM_COLOURS = ("#1f5fa8", "#c0392b", "#2ca02c", "#8e44ad", "#e67e22", "#16a085")
#: Colour of each RECIST 1.1 best response in the waterfall and swimmer plots.
RESPONSE_COLOURS = {
    "CR": "#1b7837",
    "PR": "#5aae61",
    "SD": "#9ecae1",
    "NON_CR_NON_PD": "#c6dbef",
    "PD": "#d6604d",
    "NE": "#bdbdbd",
    None: "#e0e0e0",
}


def _step(ax: Any, curve: SurvivalCurve, colour: str, *, band: bool, style: str = "-") -> None:
    t = np.asarray(curve.time_months)
    ax.step(
        t,
        curve.survival,
        where="post",
        color=colour,
        ls=style,
        lw=1.6,
        label=f"{curve.label} (n={curve.n}, events={curve.events})",
    )
    if band:
        lo = np.asarray(curve.lower, dtype=float)
        hi = np.asarray(curve.upper, dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(t[ok], lo[ok], hi[ok], step="post", color=colour, alpha=0.15, lw=0)
    censored = [i for i, c in enumerate(curve.censored) if c > 0]
    if censored:
        ax.plot(t[censored], np.asarray(curve.survival)[censored], "|", color=colour, ms=7)


def km_figure(
    analysis: EndpointAnalysis,
    *,
    references: Sequence[ReferenceComparison] = (),
    benchmarks: Sequence[Mapping[str, Any]] = (),
    at_risk_step_months: float | None = None,
) -> Figure:
    """Kaplan–Meier curves per arm with confidence bands, censor marks and numbers at risk.

    Reconstructed published arms (``references``) are drawn dashed; published medians
    and landmark rates (``benchmarks`` rows of the analysis) as points with intervals.
    """
    curves = analysis.curves
    horizon = max(c.max_time_months for c in (*curves, *(r.curve for r in references)))
    step = at_risk_step_months or float(max(1, round(horizon / 8 / 3) * 3))
    fig = Figure(figsize=(9, 6.5), layout="constrained")
    ax, risk = fig.subplots(2, 1, height_ratios=(4, 1.3 + 0.25 * len(curves)), sharex=True)
    for i, curve in enumerate(curves):
        _step(ax, curve, _ARM_COLOURS[i % len(_ARM_COLOURS)], band=True)
    for j, ref in enumerate(references):
        colour = _ARM_COLOURS[(len(curves) + j) % len(_ARM_COLOURS)]
        _step(ax, ref.curve, colour, band=False, style="--")
    marks = [b for b in benchmarks if b["endpoint"] == analysis.endpoint.value and b["published"]]
    n_median = 0
    for b in marks:
        colour = "#555555"
        lo, hi = (b.get("published_ci") or [None, None])[:2]
        if b["measure"] == "median_months":
            x = float(b["published"])
            err = None
            if lo is not None and hi is not None:
                err = [[x - float(lo)], [float(hi) - x]]
            ax.errorbar([x], [0.5], xerr=err, fmt="D", color=colour, ms=5, capsize=3)
            ax.annotate(
                f"{b['trial']} median {x:g}",
                (x, 0.5),
                xytext=(0, -16 - 10 * n_median),
                textcoords="offset points",
                fontsize=7,
                color=colour,
                ha="center",
            )
            n_median += 1
        elif b["measure"].startswith("rate_percent_at_"):
            x = float(b["measure"].rsplit("_", 1)[1])
            y = float(b["published"]) / 100.0
            err = None
            if lo is not None and hi is not None:
                err = [[y - float(lo) / 100.0], [float(hi) / 100.0 - y]]
            ax.errorbar([x], [y], yerr=err, fmt="s", color=colour, ms=5, capsize=3)
            ax.annotate(
                f"{b['trial']} {x:g}-month rate",
                (x, y),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize=7,
                color=colour,
            )
    ax.axhline(0.5, color="#999999", lw=0.8, ls=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(-0.03 * horizon, horizon * 1.02)
    level = round(100 * curves[0].confidence_level)
    ax.set_title(
        f"{analysis.endpoint.label}: Kaplan–Meier with {level}% CI ({curves[0].ci_method.value})"
    )
    ax.set_xlabel("time since start (months)")
    ax.set_ylabel("survival probability (fraction)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    grid = np.arange(0.0, horizon + 1e-9, step)
    for i, curve in enumerate(curves):
        for x in grid:
            risk.text(
                x,
                i,
                str(curve.number_at_risk(float(x))),
                ha="center",
                va="center",
                fontsize=8,
                color=_ARM_COLOURS[i % len(_ARM_COLOURS)],
            )
    risk.set_yticks(range(len(curves)), [c.label for c in curves], fontsize=8)
    risk.set_ylim(len(curves) - 0.5, -0.5)
    risk.set_title("number at risk", fontsize=9)
    risk.set_xlabel("time since start (months)")
    risk.set_ylabel("arm")
    risk.tick_params(axis="x", labelbottom=True)
    risk.plot([], [])  # an (empty) artist, so the axis counts as a data axis in checks
    return fig


def waterfall_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Best percentage change of the target-lesion sum per patient, coloured by best response."""
    ordered = sorted(rows, key=lambda r: -float(r["best_percent_change"]))
    fig = Figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(ordered))
    values = [float(r["best_percent_change"]) for r in ordered]
    colours = [RESPONSE_COLOURS.get(r.get("best_response"), "#e0e0e0") for r in ordered]
    ax.bar(x, values, color=colours, width=0.85, edgecolor="none")
    ax.axhline(20, color="#d6604d", ls="--", lw=1, label="+20 % (RECIST progression)")
    ax.axhline(-30, color="#1b7837", ls="--", lw=1, label="−30 % (RECIST partial response)")
    ax.axhline(0, color="#333333", lw=0.8)
    seen = []
    for r in ordered:
        if r.get("best_response") not in seen:
            seen.append(r.get("best_response"))
    handles: list[Any] = [
        Line2D([], [], color="#d6604d", ls="--", lw=1, label="+20 % (RECIST progression)"),
        Line2D([], [], color="#1b7837", ls="--", lw=1, label="−30 % (RECIST partial response)"),
    ]
    handles += [
        Patch(color=RESPONSE_COLOURS.get(resp, "#e0e0e0"), label=f"best response {resp}")
        for resp in seen
    ]
    arms = sorted({str(r.get("arm")) for r in ordered})
    ax.set_title("Waterfall plot of best change in target lesions (" + ", ".join(arms) + ")")
    ax.set_xlabel("patients, ordered by best change (index)")
    ax.set_ylabel("best change in sum of diameters (%)")
    ax.set_xticks([])
    ax.set_ylim(-105, max([25.0, *values]) * 1.1)
    ax.legend(handles=handles, fontsize=7, loc="upper right", ncol=2)
    return fig


def swimmer_figure(rows: Sequence[Mapping[str, Any]], *, max_patients: int = 120) -> Figure:
    """Follow-up per patient with PRRT courses, progression, death and ongoing follow-up.

    Patients are grouped by arm (in order of appearance), longest follow-up first; at most
    ``max_patients`` are drawn (the title says how many were left out).
    """
    shown = [r for r in rows if r.get("follow_up_months") is not None]
    order = list(dict.fromkeys(str(r["arm"]) for r in shown))
    shown.sort(key=lambda r: (order.index(str(r["arm"])), -float(r["follow_up_months"])))
    left_out = max(len(shown) - max_patients, 0)
    shown = shown[:max_patients]
    fig = Figure(figsize=(10, max(3.5, 0.16 * len(shown) + 1.5)), layout="constrained")
    ax = fig.subplots()
    arms = list(dict.fromkeys(str(r["arm"]) for r in shown))
    for y, r in enumerate(shown):
        colour = _ARM_COLOURS[arms.index(str(r["arm"])) % len(_ARM_COLOURS)]
        ax.barh(y, float(r["follow_up_months"]), color=colour, alpha=0.35, height=0.7)
        for start, end, shade in (
            ("course_start_months", "course_end_months", "#f1c40f"),
            ("retreatment_start_months", "retreatment_end_months", "#e67e22"),
        ):
            if r.get(start) is not None and r.get(end) is not None:
                width = max(float(r[end]) - float(r[start]), 0.2)
                ax.barh(y, width, left=float(r[start]), color=shade, height=0.35)
        if r.get("progression_months") is not None:
            ax.plot(float(r["progression_months"]), y, "v", color="#d6604d", ms=5)
        if r.get("death_months") is not None:
            ax.plot(float(r["death_months"]), y, "x", color="#000000", ms=5)
        if r.get("ongoing"):
            ax.annotate(
                "",
                xy=(float(r["follow_up_months"]) + 1.5, y),
                xytext=(float(r["follow_up_months"]), y),
                arrowprops={"arrowstyle": "->", "color": colour, "lw": 0.8},
            )
    handles: list[Any] = [
        Patch(color=_ARM_COLOURS[i % len(_ARM_COLOURS)], alpha=0.35, label=f"follow-up: {arm}")
        for i, arm in enumerate(arms)
    ]
    handles += [
        Patch(color="#f1c40f", label="PRRT course (first to last cycle)"),
        Patch(color="#e67e22", label="re-treatment course"),
        Line2D([], [], marker="v", ls="", color="#d6604d", label="progression"),
        Line2D([], [], marker="x", ls="", color="#000000", label="death"),
    ]
    ax.set_yticks(range(len(shown)), [str(r["patient_id"]) for r in shown], fontsize=6)
    ax.invert_yaxis()
    extra = f", {left_out} more not shown" if left_out else ""
    ax.set_title(f"Swimmer plot: {len(shown)} patients{extra} (arrow = alive at last contact)")
    ax.set_xlabel("time since study entry (months)")
    ax.set_ylabel("patient")
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    return fig


def forest_figure(
    rows: Sequence[tuple[str, float, float, float]],
    pooled: Sequence[tuple[str, float, float, float]] = (),
    *,
    title: str,
    xlabel: str,
    reference: float | None = None,
    log_scale: bool = False,
    weights_percent: Sequence[float] | None = None,
) -> Figure:
    """Forest plot: one estimate with its interval per row, pooled estimates as diamonds."""
    n = len(rows) + len(pooled)
    fig = Figure(figsize=(8.5, 1.2 + 0.38 * n), layout="constrained")
    ax = fig.subplots()
    for i, (_label, est, lo, hi) in enumerate(rows):
        y = float(i)
        size = 5.0 if weights_percent is None else 3.0 + 0.4 * float(weights_percent[i])
        ax.plot([lo, hi], [y, y], color="#333333", lw=1)
        ax.plot([est], [y], "s", color="#1f5fa8", ms=min(size, 14))
    for j, (_label, est, lo, hi) in enumerate(pooled):
        y = len(rows) + j + 0.5
        ax.fill([lo, est, hi, est], [y, y - 0.3, y, y + 0.3], color="#c0392b", alpha=0.8)
    labels = [r[0] for r in rows] + [p[0] for p in pooled]
    ticks = list(range(len(rows))) + [len(rows) + j + 0.5 for j in range(len(pooled))]
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.invert_yaxis()
    if reference is not None:
        ax.axvline(reference, color="#777777", ls="--", lw=0.8)
    if log_scale:
        ax.set_xscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("study or covariate")
    ax.grid(axis="x", alpha=0.3)
    return fig


def meta_forest_figure(result: ProportionMetaResult) -> Figure:
    """Forest plot of a pooled proportion (exact per-study intervals, pooled diamonds)."""
    rows = [
        (f"{s.label} ({s.events}/{s.n})", 100 * r.rate, 100 * r.lower, 100 * r.upper)
        for s, r in zip(result.studies, result.study_rates, strict=True)
    ]
    a = result.analysis
    fe, re_ = result.fixed, result.random
    pooled = [
        ("fixed effect", 100 * fe[0], 100 * fe[1], 100 * fe[2]),
        (
            f"random effects ({a.tau_method.value}; I² {a.i2_percent:.0f}%, τ² {a.tau2:.3g})",
            100 * re_[0],
            100 * re_[1],
            100 * re_[2],
        ),
    ]
    return forest_figure(
        rows,
        pooled,
        title=f"Pooled proportion ({result.transform.value} scale; back-transform: {result.back_transform})",
        xlabel="proportion (%)",
        weights_percent=a.weights_random_percent,
    )


def cox_forest_figure(cox: CoxResult, *, title: str) -> Figure:
    """Forest plot of the hazard ratios of a Cox model (log scale, reference line at 1)."""
    rows = [(t.name, t.hazard_ratio, t.hr_lower, t.hr_upper) for t in cox.terms]
    level = round(100 * cox.confidence_level)
    return forest_figure(
        rows,
        title=title,
        xlabel=f"hazard ratio with {level}% CI (ratio, log scale)",
        reference=1.0,
        log_scale=True,
    )
