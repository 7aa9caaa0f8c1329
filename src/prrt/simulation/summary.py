"""Mergeable summaries of simulated courses: exact counts, fixed-bin histograms and sums.

A trial of millions of virtual patients is simulated in chunks; each chunk is
reduced to a :class:`StrategySummary` (counts of cycles, of stops per region,
of true doses above each limit; histograms on fixed bins; sums, sums of squares,
minima and maxima), and the summaries of all chunks are merged in chunk order.
Counts are integers, so the merged counts do not depend on how the chunks were
spread over workers; the floating-point sums are added in chunk order, so they
do not either.  Quantiles are read off the histograms (linear within a bin: the
error is at most one bin width, stated as ``bin_width``) and clipped to the
exact minimum and maximum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from prrt._typing import FloatArray, IntArray
from prrt.errors import InvalidInputError
from prrt.simulation.strategies import COMPLETED, CourseOutcome

__all__ = [
    "HISTOGRAM_BINS",
    "QUANTILES",
    "HistogramSpec",
    "StrategySummary",
    "histogram_specs",
    "summarise_outcome",
]

#: Bins of every histogram (plus one overflow bin).
HISTOGRAM_BINS = 4000
#: Quantiles reported for each quantity.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Upper edge of the absorbed-dose histogram per region (Gy); BED uses twice this.
_DOSE_UPPER_GY = {
    "kidneys": 100.0,
    "red_marrow": 10.0,
    "liver": 250.0,
    "spleen": 150.0,
    "tumour": 1000.0,
}
_DEFAULT_DOSE_UPPER_GY = 500.0


@dataclass(frozen=True, slots=True)
class HistogramSpec:
    """Fixed bins ``[0, upper)`` in ``bins`` equal steps, and one overflow bin."""

    quantity: str
    upper: float
    bins: int = HISTOGRAM_BINS

    @property
    def bin_width(self) -> float:
        """Width of one bin."""
        return self.upper / self.bins

    def counts(self, values: FloatArray) -> IntArray:
        """Counts per bin (index ``bins`` holds values ≥ ``upper``)."""
        index = np.clip(np.floor(values / self.bin_width), 0, self.bins).astype(np.int64)
        out: IntArray = np.bincount(index, minlength=self.bins + 1).astype(np.int64)
        return out

    def quantile(self, counts: IntArray, q: float, lowest: float, highest: float) -> float:
        """Quantile ``q`` from the counts, linear within a bin, clipped to [lowest, highest]."""
        total = int(counts.sum())
        if total == 0:
            return math.nan
        if q <= 0.0:
            return lowest
        if q >= 1.0:
            return highest
        target = q * total
        cumulative = np.cumsum(counts)
        i = int(np.searchsorted(cumulative, target, side="left"))
        if i >= self.bins:
            return highest
        before = float(cumulative[i - 1]) if i > 0 else 0.0
        inside = float(counts[i])
        value = (i + (target - before) / inside) * self.bin_width
        return float(min(max(value, lowest), highest))


def histogram_specs(
    regions: Sequence[str], bed_regions: Sequence[str], max_activity_bq: float
) -> tuple[HistogramSpec, ...]:
    """Histograms of a trial: total activity, each region's dose and, where defined, BED."""
    specs = [HistogramSpec("total_activity_bq", max_activity_bq * (1.0 + 1e-9))]
    for region in regions:
        upper = _DOSE_UPPER_GY.get(region, _DEFAULT_DOSE_UPPER_GY)
        specs.append(HistogramSpec(f"{region}_absorbed_dose_gy", upper))
        if region in bed_regions:
            specs.append(HistogramSpec(f"{region}_bed_gy", 2.0 * upper))
    return tuple(specs)


@dataclass(frozen=True, eq=False)
class StrategySummary:
    """Summary of the courses of some patients under one strategy (mergeable with :meth:`merge`)."""

    strategy: str
    n_patients: int
    cycle_counts: IntArray
    stop_counts: Mapping[str, int]
    exceeded_stop_counts: Mapping[str, int]
    over_limit_counts: Mapping[str, int]
    final_partial_count: int
    specs: tuple[HistogramSpec, ...]
    histograms: Mapping[str, IntArray]
    sums: Mapping[str, float]
    sums_of_squares: Mapping[str, float]
    minima: Mapping[str, float]
    maxima: Mapping[str, float]
    full_activity_bq: float

    def merge(self, other: StrategySummary) -> StrategySummary:
        """The summary of both sets of patients (self first, then other)."""
        if other.strategy != self.strategy or tuple(other.specs) != tuple(self.specs):
            raise InvalidInputError(
                "other", other.strategy, f"a summary of {self.strategy} on the same bins"
            )
        return StrategySummary(
            strategy=self.strategy,
            n_patients=self.n_patients + other.n_patients,
            cycle_counts=self.cycle_counts + other.cycle_counts,
            stop_counts={k: v + other.stop_counts[k] for k, v in self.stop_counts.items()},
            exceeded_stop_counts={
                k: v + other.exceeded_stop_counts[k] for k, v in self.exceeded_stop_counts.items()
            },
            over_limit_counts={
                k: v + other.over_limit_counts[k] for k, v in self.over_limit_counts.items()
            },
            final_partial_count=self.final_partial_count + other.final_partial_count,
            specs=self.specs,
            histograms={k: v + other.histograms[k] for k, v in self.histograms.items()},
            sums={k: v + other.sums[k] for k, v in self.sums.items()},
            sums_of_squares={
                k: v + other.sums_of_squares[k] for k, v in self.sums_of_squares.items()
            },
            minima={k: min(v, other.minima[k]) for k, v in self.minima.items()},
            maxima={k: max(v, other.maxima[k]) for k, v in self.maxima.items()},
            full_activity_bq=self.full_activity_bq,
        )

    def spec(self, quantity: str) -> HistogramSpec:
        """The histogram spec of ``quantity``."""
        for s in self.specs:
            if s.quantity == quantity:
                return s
        raise InvalidInputError(
            "quantity", quantity, "one of " + ", ".join(s.quantity for s in self.specs)
        )

    def quantile(self, quantity: str, q: float) -> float:
        """Quantile ``q`` of ``quantity``."""
        spec = self.spec(quantity)
        return spec.quantile(
            self.histograms[quantity], q, self.minima[quantity], self.maxima[quantity]
        )

    def mean(self, quantity: str) -> float:
        """Mean of ``quantity``."""
        return self.sums[quantity] / self.n_patients

    def sd(self, quantity: str) -> float:
        """Standard deviation (ddof 1) of ``quantity``."""
        n = self.n_patients
        if n < 2:
            return math.nan
        mean = self.sums[quantity] / n
        return math.sqrt(max(self.sums_of_squares[quantity] - n * mean * mean, 0.0) / (n - 1))

    @property
    def cycles_median(self) -> int:
        """Median number of cycles (the smallest k with at least half the patients at ≤ k)."""
        cumulative = np.cumsum(self.cycle_counts)
        return int(np.searchsorted(cumulative, self.n_patients / 2.0, side="left"))

    @property
    def cycles_range(self) -> tuple[int, int]:
        """Fewest and most cycles given."""
        given = np.flatnonzero(self.cycle_counts)
        return int(given[0]), int(given[-1])

    @property
    def cycles_mean(self) -> float:
        """Mean number of cycles."""
        k = np.arange(self.cycle_counts.size)
        return float((k * self.cycle_counts).sum() / self.n_patients)

    def fraction_more_cycles_than(self, k: int) -> float:
        """Fraction of patients with more than ``k`` cycles."""
        return float(self.cycle_counts[k + 1 :].sum() / self.n_patients)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary: distributions of cycles, stops, limits and quantities."""
        n = self.n_patients
        stopped = sum(v for k, v in self.stop_counts.items() if k != "completed")
        low, high = self.cycles_range
        quantities = {}
        for spec in self.specs:
            q = spec.quantity
            quantities[q] = {
                "mean": self.mean(q),
                "sd": self.sd(q),
                "min": self.minima[q],
                "max": self.maxima[q],
                **{f"p{round(p * 100):02d}": self.quantile(q, p) for p in QUANTILES},
                "bin_width": spec.bin_width,
            }
        return {
            "strategy": self.strategy,
            "n_patients": n,
            "cycles": {
                "counts": {str(k): int(v) for k, v in enumerate(self.cycle_counts) if v},
                "fractions": {str(k): float(v / n) for k, v in enumerate(self.cycle_counts) if v},
                "median": self.cycles_median,
                "mean": self.cycles_mean,
                "min": low,
                "max": high,
                "fraction_more_than_4": self.fraction_more_cycles_than(4),
            },
            "stopped_by_limits_fraction": stopped / n,
            "stop_fractions": {k: v / n for k, v in self.stop_counts.items()},
            "stopped_on_exceeded_limit_fractions": {
                k: v / n for k, v in self.exceeded_stop_counts.items()
            },
            "final_partial_cycle_fraction": self.final_partial_count / n,
            "true_dose_over_limit_fractions": {k: v / n for k, v in self.over_limit_counts.items()},
            "quantities": quantities,
        }


def _values(outcome: CourseOutcome) -> dict[str, FloatArray]:
    values = {"total_activity_bq": outcome.total_activity_bq}
    for k, region in enumerate(outcome.regions):
        values[f"{region}_absorbed_dose_gy"] = outcome.true_dose_gy[:, k]
        bed = outcome.true_bed_gy[:, k]
        if not np.isnan(bed).all():
            values[f"{region}_bed_gy"] = bed
    return values


def summarise_outcome(
    outcome: CourseOutcome, specs: Sequence[HistogramSpec], max_cycles: int
) -> StrategySummary:
    """Reduce a :class:`CourseOutcome` to a :class:`StrategySummary` on ``specs``.

    Examples
    --------
    >>> from prrt.simulation.population import draw_patients, load_population_model
    >>> from prrt.simulation.strategies import fixed_course, simulate_course
    >>> p = draw_patients(load_population_model(), 500, max_cycles=8, rng=np.random.default_rng(2))
    >>> out = simulate_course(p, fixed_course())
    >>> specs = histogram_specs(out.regions, ("kidneys", "tumour"), 8 * 7.4e9)
    >>> s = summarise_outcome(out, specs, 8)
    >>> s.cycles_median, s.cycles_range, round(s.quantile("total_activity_bq", 0.5) / 1e9, 1)
    (4, (4, 4), 29.6)
    """
    values = _values(outcome)
    cycles = outcome.cycles_given
    stop_counts = {"completed": int(np.count_nonzero(outcome.stop_region == COMPLETED))}
    exceeded = {}
    for j, region in enumerate(outcome.limited_regions):
        stop_counts[region] = int(np.count_nonzero(outcome.stop_region == j))
        exceeded[region] = int(np.count_nonzero((outcome.stop_region == j) & outcome.stop_exceeded))
    histograms, sums, squares, minima, maxima = {}, {}, {}, {}, {}
    for spec in specs:
        v = values[spec.quantity]
        histograms[spec.quantity] = spec.counts(v)
        sums[spec.quantity] = float(v.sum())
        # Elementwise square and NumPy's pairwise sum (no BLAS threads): the same bits everywhere.
        squares[spec.quantity] = float((v * v).sum())
        minima[spec.quantity] = float(v.min())
        maxima[spec.quantity] = float(v.max())
    return StrategySummary(
        strategy=outcome.strategy,
        n_patients=outcome.n,
        cycle_counts=np.bincount(cycles, minlength=max_cycles + 1).astype(np.int64),
        stop_counts=stop_counts,
        exceeded_stop_counts=exceeded,
        over_limit_counts={
            lim: int(np.count_nonzero(outcome.true_over_limit[:, j]))
            for j, lim in enumerate(outcome.limit_ids)
        },
        final_partial_count=int(np.count_nonzero(outcome.final_partial)),
        specs=tuple(specs),
        histograms=histograms,
        sums=sums,
        sums_of_squares=squares,
        minima=minima,
        maxima=maxima,
        full_activity_bq=outcome.full_activity_bq,
    )
