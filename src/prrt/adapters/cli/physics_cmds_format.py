"""Text formatting of the physics commands (:mod:`prrt.adapters.cli.physics_cmds`).

Durations, activities (with the mCi equivalent), percentages and energies as
the text output of ``prrt nuclide``, ``prrt decay`` and ``prrt administered``
shows them.
"""

from __future__ import annotations

from prrt.units import BQ_PER_CI

__all__: list[str] = []

_KEV_PER_MEV = 1000.0

# ----------------------------------------------------------------------------- formatting


def _fmt_duration(seconds: float) -> str:
    """Human duration in the largest convenient unit."""
    magnitude = abs(seconds)
    for limit, unit, size in (
        (2 * 86400.0, "d", 86400.0),
        (2 * 3600.0, "h", 3600.0),
        (120.0, "min", 60.0),
    ):
        if magnitude >= limit:
            return f"{seconds / size:.4g} {unit}"
    if magnitude >= 1.0:
        return f"{seconds:.4g} s"
    if magnitude >= 1e-3:
        return f"{seconds * 1e3:.4g} ms"
    if magnitude >= 1e-6:
        return f"{seconds * 1e6:.4g} µs"
    return f"{seconds * 1e9:.4g} ns"


def _fmt_bq(bq: float) -> str:
    """Activity in GBq/MBq/kBq/Bq, 4 decimals at most; scientific GBq above 1e6 GBq."""
    magnitude = abs(bq)
    if magnitude >= 1e15:
        return f"{bq / 1e9:.4e} GBq"
    unit, shown = "Bq", f"{bq:.4g}"
    for limit, symbol, size in ((1e8, "GBq", 1e9), (1e5, "MBq", 1e6), (1e2, "kBq", 1e3)):
        if magnitude >= limit:
            unit, shown = symbol, f"{bq / size:.4f}".rstrip("0").rstrip(".")
            break
    return f"{shown} {unit}"


def _fmt_percent(fraction: float) -> str:
    """Percentage with 3 significant digits (0.000135 % rather than 0.00 %)."""
    return f"{fraction * 100:#.3g} %"


def _fmt_activity(bq: float) -> str:
    """Activity in GBq/MBq/kBq/Bq with the mCi equivalent."""
    return f"{_fmt_bq(bq)} ({bq / BQ_PER_CI * 1e3:.4g} mCi)"


def _fmt_kev(mev: float) -> str:
    return f"{mev * _KEV_PER_MEV:,.2f}" if mev > 0 else "0"
