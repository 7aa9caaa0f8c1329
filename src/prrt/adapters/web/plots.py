"""PNG plots of the patient page: lab trends with CTCAE v5.0 grade bands, cumulative doses against limits."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from prrt.clinical.ctcae import CtcaeTerm, grade_thresholds

__all__ = ["cumulative_doses_png", "lab_trends_png"]

_PANELS = (
    ("platelets", CtcaeTerm.PLATELET_COUNT_DECREASED, "platelets (10⁹/L)", True),
    ("neutrophils", CtcaeTerm.NEUTROPHIL_COUNT_DECREASED, "neutrophils (10⁹/L)", True),
    ("haemoglobin", CtcaeTerm.ANEMIA, "haemoglobin (g/L)", True),
    ("creatinine", CtcaeTerm.CREATININE_INCREASED, "creatinine (µmol/L)", False),
)
_COLOURS = {1: "#fff3b0", 2: "#ffd08a", 3: "#ff9f80", 4: "#e06666"}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def lab_trends_png(rows: Sequence[Any]) -> bytes:
    """Four panels (platelets, neutrophils, haemoglobin, creatinine) with their grade bands."""
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    for ax, (analyte, term, label, decreasing) in zip(axes, _PANELS, strict=True):
        points = [
            (r.drawn_on, r.value_canonical, r.lln, r.uln) for r in rows if r.analyte == analyte
        ]
        ax.set_title(label.split(" (")[0])
        ax.set_xlabel("date")
        ax.set_ylabel(label)
        if not points:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
            continue
        lln = next((p[2] for p in reversed(points) if p[2]), None)
        uln = next((p[3] for p in reversed(points) if p[3]), None)
        edges = grade_thresholds(term, lln=lln, uln=uln)
        values = [p[1] for p in points]
        top = max(max(values) * 1.2, (edges[0][1] * 1.2) if edges else 0.0)
        if decreasing:
            lows = [e for _, e in edges[1:]] + [0.0]
            for (g, hi), lo in zip(edges, lows, strict=True):
                ax.axhspan(lo, hi, color=_COLOURS[g], lw=0, label=f"CTCAE grade {g}")
        else:
            highs = [e for _, e in edges[1:]] + [max(top, edges[-1][1] * 1.1) if edges else top]
            for (g, lo), hi in zip(edges, highs, strict=True):
                ax.axhspan(lo, hi, color=_COLOURS[g], lw=0, label=f"CTCAE grade {g}")
            top = min(highs[-1], max(values) * 2.5) if edges else top
        ax.plot([p[0] for p in points], values, "o-", color="#1f3b73", label="measured")
        ax.set_ylim(0, top)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        ax.legend(fontsize=7)
    fig.suptitle("Laboratory trends with CTCAE v5.0 grade bands")
    return _png(fig)


def cumulative_doses_png(decision: Mapping[str, Any]) -> bytes:
    """Bars of the cumulative value of each limit check against its limit."""
    checks = [c for c in decision.get("limit_checks", []) if c.get("value_gy") is not None]
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.subplots()
    names = [c["id"] for c in checks]
    ax.barh(names, [c["value_gy"] for c in checks], color="#4a90d9", label="cumulative")
    for i, c in enumerate(checks):
        ax.plot(
            [c["limit_gy"], c["limit_gy"]],
            [i - 0.4, i + 0.4],
            color="#c0392b",
            lw=2,
            label="limit" if i == 0 else None,
        )
    ax.set_xlabel("absorbed dose or BED (Gy)")
    ax.set_ylabel("limit")
    ax.set_title("Cumulative organ doses against the limit profile")
    if checks:
        ax.legend(fontsize=8)
    return _png(fig)
