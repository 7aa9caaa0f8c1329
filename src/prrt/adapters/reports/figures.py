"""Figures of the demo report: every axis titled and labelled with its unit.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no
display needed) and returned as objects, so that the HTML report embeds them as
PNG and the PDF report draws them as vector pages.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from prrt.adapters.reports.demo_course import DemoCourse
from prrt.adapters.reports.synthetic_course import REFERENCE_LIMITS
from prrt.clinical.ctcae import CtcaeTerm, grade_thresholds
from prrt.dosimetry.voxel.dvh import cumulative_dvh
from prrt.kinetics.fit import exponential_terms_of
from prrt.planning import EventKind

__all__ = [
    "cumulative_dose_figure",
    "dvh_figure",
    "lab_trend_figure",
    "png_bytes",
    "tac_figure",
    "timeline_figure",
]

_GRADE_COLOURS = {1: "#fff3b0", 2: "#ffd08a", 3: "#ff9f80", 4: "#e06666"}
_CYCLE_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#17becf",
)


def png_bytes(fig: Figure, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def tac_figure(course: DemoCourse) -> Figure:
    """Time-activity curves (GTM-corrected SPECT points and the fitted model) per region and cycle."""
    assert course.organ_result is not None
    regions = ("kidneys", "liver", "spleen", "tumour_1", "tumour_2")
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    t_fine_h = np.linspace(0.0, 200.0, 300)
    for ax, region in zip(axes, regions, strict=False):
        for i, (cycle, result) in enumerate(
            zip(course.cycles, course.organ_result.cycles, strict=True)
        ):
            colour = _CYCLE_COLOURS[i % len(_CYCLE_COLOURS)]
            ax.plot(
                cycle.times_h,
                np.asarray(cycle.region_tacs_bq[region]) / 1e6,
                "o",
                color=colour,
                label=f"cycle {cycle.number} ({cycle.activity_bq / 1e9:.3g} GBq)",
            )
            record = next((k for k in result.kinetics if k["region"] == region), None)
            if record is not None and "parameters" in record:
                terms = exponential_terms_of(
                    record["model"], np.array(list(record["parameters"].values()), dtype=float)
                )
                curve = sum(a * np.exp(-k * t_fine_h * 3600.0) for a, k in terms)
                ax.plot(t_fine_h, np.asarray(curve) / 1e6, "-", color=colour, lw=1)
        ax.set_title(f"{region.replace('_', ' ')}")
        ax.set_xlabel("time after administration (h)")
        ax.set_ylabel("activity (MBq)")
        ax.set_xlim(0, 200)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    blood_ax = axes[len(regions)]
    for i, cycle in enumerate(course.cycles):
        raw = course.organ_study["cycles"][i]["blood"]["points"]
        t = [float(p["time"].split()[0]) for p in raw]
        c = [float(p["concentration"].split()[0]) for p in raw]
        blood_ax.semilogy(
            t,
            c,
            "o-",
            color=_CYCLE_COLOURS[i % len(_CYCLE_COLOURS)],
            lw=1,
            label=f"cycle {cycle.number}",
        )
    blood_ax.set_title("blood (red-marrow blood method)")
    blood_ax.set_xlabel("time after administration (h)")
    blood_ax.set_ylabel("activity concentration (kBq/mL)")
    blood_ax.grid(alpha=0.3)
    fig.suptitle(
        "Time-activity curves: SPECT/CT points (GTM partial-volume corrected) and fitted models"
    )
    return fig


def cumulative_dose_figure(course: DemoCourse, limits_gy: Mapping[str, float]) -> Figure:
    """Cumulative kidney dose, kidney BED and marrow dose after each cycle against their limits."""
    assert course.organ_result is not None
    cycles = course.organ_result.cycles
    numbers = [c.number for c in cycles]
    kidney = np.cumsum([c.dosimetry.organs["kidneys"].absorbed_dose_gy for c in cycles])
    bed = np.cumsum([c.dosimetry.organs["kidneys"].bed_gy or np.nan for c in cycles])
    marrow = np.cumsum([c.dosimetry.organs["red_marrow"].absorbed_dose_gy for c in cycles])
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for ax, values, name, key in (
        (ax1, kidney, "kidneys: absorbed dose", "kidneys.absorbed_dose"),
        (ax2, bed, "kidneys: BED", "kidneys.bed.no_risk_factors"),
        (ax3, marrow, "red marrow: absorbed dose", "red_marrow.absorbed_dose"),
    ):
        ax.bar(numbers, values, color="#4a90d9", label="cumulative after cycle")
        limit = limits_gy.get(key)
        if limit is not None:
            ax.axhline(limit, color="#c0392b", ls="--", label=f"limit {limit:g} Gy")
            ax.set_ylim(0, max(limit, float(np.nanmax(values))) * 1.15)
        for x, v in zip(numbers, values, strict=True):
            ax.annotate(f"{v:.2f}", (x, v), ha="center", va="bottom", fontsize=8)
        ax.set_title(name)
        ax.set_xlabel("cycle")
        ax.set_ylabel("BED (Gy)" if "BED" in name else "absorbed dose (Gy)")
        ax.set_xticks(numbers)
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle("Cumulative organ doses (organ-level MIRD) against the limit profile")
    return fig


_LAB_PANELS = (
    ("platelets", CtcaeTerm.PLATELET_COUNT_DECREASED, "platelets (10⁹/L)"),
    ("neutrophils", CtcaeTerm.NEUTROPHIL_COUNT_DECREASED, "neutrophils (10⁹/L)"),
    ("haemoglobin", CtcaeTerm.ANEMIA, "haemoglobin (g/L)"),
    ("creatinine", CtcaeTerm.CREATININE_INCREASED, "creatinine (µmol/L)"),
)


def _lab_series(course: DemoCourse, analyte: str) -> tuple[list[date], list[float]]:
    from prrt.adapters.reports.synthetic_course import BASELINE_LABS

    points = [(course.cycles[0].administered_at.date() - timedelta(days=7), BASELINE_LABS[analyte])]
    for draw in course.course_record["lab_draws"]:
        text = draw["labs"][analyte]
        points.append((date.fromisoformat(draw["date"]), float(text.split()[0])))
    points.sort()
    return [p[0] for p in points], [p[1] for p in points]


def lab_trend_figure(course: DemoCourse) -> Figure:
    """Lab trends with the CTCAE v5.0 grade bands shaded and the PRRT days marked."""
    fig = Figure(figsize=(11, 6.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    prrt_days = [c.administered_at.date() for c in course.cycles]
    for ax, (analyte, term, label) in zip(axes, _LAB_PANELS, strict=True):
        days, values = _lab_series(course, analyte)
        limits = REFERENCE_LIMITS[analyte]
        edges = grade_thresholds(term, lln=limits.get("lln"), uln=limits.get("uln"))
        decreasing = "decreased" in term.value or term is CtcaeTerm.ANEMIA
        top = max(max(values) * 1.15, edges[0][1] * 1.2 if edges else 0)
        if decreasing:
            bounds = [e for _, e in edges] + [0.0]
            for (g, hi), lo in zip(edges, bounds[1:], strict=True):
                ax.axhspan(
                    lo, hi, color=_GRADE_COLOURS[g], alpha=0.8, lw=0, label=f"CTCAE grade {g}"
                )
            ax.set_ylim(0, top)
        else:
            tops = [e for _, e in edges[1:]] + [max(top, edges[-1][1] * 1.1)]
            for (g, lo), hi in zip(edges, tops, strict=True):
                ax.axhspan(
                    lo, hi, color=_GRADE_COLOURS[g], alpha=0.8, lw=0, label=f"CTCAE grade {g}"
                )
            ax.set_ylim(0, min(tops[-1], max(values) * 2.5))
        ax.plot(days, values, "o-", color="#1f3b73", label="measured")
        for d in prrt_days:
            ax.axvline(d, color="#555", ls=":", lw=1)
        ax.set_title(f"{label.split(' (')[0]} (PRRT days dotted)")
        ax.set_xlabel("date")
        ax.set_ylabel(label)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        ax.legend(fontsize=7, loc="lower left" if decreasing else "upper left")
    fig.suptitle("Laboratory trends with CTCAE v5.0 grade bands")
    return fig


def dvh_figure(course: DemoCourse) -> Figure:
    """Cumulative DVHs: cycle 1 and the whole course (sum of the cycles' dose maps on one grid)."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    first = course.cycles[0]
    names = ("kidneys", "spleen", "liver", "marrow", "tumour_1", "tumour_2")
    for name in names:
        h = next(d for d in first.voxel.dvhs if d.name == name)
        ax1.plot(h.dose_gy, 100 * h.volume_fraction, label=name.replace("_", " "))
    ax1.set_title("cycle 1 (voxel dosimetry)")
    assert course.cumulative_dose_map_gy is not None
    for name in names:
        mask = first.phantom.masks[name].array.astype(bool)
        h = cumulative_dvh(course.cumulative_dose_map_gy, mask, name=name)
        ax2.plot(h.dose_gy, 100 * h.volume_fraction, label=name.replace("_", " "))
    ax2.set_title(f"whole course ({len(course.cycles)} cycles)")
    for ax in (ax1, ax2):
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlabel("absorbed dose (Gy)")
        ax.set_ylabel("volume receiving ≥ dose (%)")
        ax.set_ylim(0, 102)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Cumulative dose-volume histograms")
    return fig


_TIMELINE_KINDS = (
    EventKind.PRRT,
    EventKind.AMINO_ACIDS,
    EventKind.SSA_LONG_ACTING,
    EventKind.LABS,
    EventKind.IMAGING,
    EventKind.RADIATION_PROTECTION,
    EventKind.FOLLOW_UP,
)


def _utc_naive(times: Sequence[datetime]) -> np.ndarray[Any, Any]:
    """Aware times as naive UTC ``datetime64`` (matplotlib's date axis)."""
    return np.array([t.astimezone(UTC).replace(tzinfo=None) for t in times], dtype="datetime64[s]")


def timeline_figure(events: Sequence[Any], *, actual_prrt: Sequence[datetime] = ()) -> Figure:
    """The course's scheduled events by kind on a date axis (actual PRRT times as diamonds)."""
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    ax = fig.subplots()
    for row, kind in enumerate(_TIMELINE_KINDS):
        when = _utc_naive([e.start for e in events if e.kind is kind])
        ax.plot(when, [row] * len(when), "|", ms=14, mew=2, label=kind.value)
    if actual_prrt:
        given = _utc_naive(actual_prrt)
        ax.plot(given, [0] * len(actual_prrt), "D", color="#c0392b", label="given")
    ax.set_yticks(range(len(_TIMELINE_KINDS)), [k.value.replace("_", " ") for k in _TIMELINE_KINDS])
    ax.set_xlabel("date")
    ax.set_ylabel("event kind")
    ax.set_title("Course schedule (planned events; red diamonds: administrations given)")
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    return fig
