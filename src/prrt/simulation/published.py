"""Published course distributions an in-silico trial is compared with (dosimetry-reference.md §5.3, §6.2, §7).

Each :class:`PublishedStatistic` names the strategy it belongs to, the statistic
(median, range, mean, fraction), the published value, its source and
reliability tag; :func:`compare_with_published` puts the simulated statistic
beside it.  The comparison is descriptive: the simulated population does not
model progression, toxicity or death, which also end courses in the clinic
(Sundlöv et al. 2022 report courses of a single cycle).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prrt.simulation.summary import StrategySummary

__all__ = ["PUBLISHED_STATISTICS", "PublishedStatistic", "compare_with_published"]


@dataclass(frozen=True, slots=True)
class PublishedStatistic:
    """One published statistic of a course distribution."""

    id: str
    strategy: str
    quantity: str
    statistic: str
    value: float | tuple[float, float]
    unit: str
    source: str
    tag: str
    note: str = ""


PUBLISHED_STATISTICS: tuple[PublishedStatistic, ...] = (
    PublishedStatistic(
        "SUNDLOV-2022-CYCLES-MEDIAN",
        "DOSIMETRY_GUIDED",
        "cycles",
        "median",
        5.0,
        "cycles",
        "Sundlöv et al., EJNMMI 2022: 7.4 GBq cycles until a predefined kidney dose, 96 evaluable "
        "patients, median 5 cycles (dosimetry-reference.md §7)",
        "V",
        "the kidney limit used and the kidney dose per GBq are not in the abstract",
    ),
    PublishedStatistic(
        "SUNDLOV-2022-CYCLES-RANGE",
        "DOSIMETRY_GUIDED",
        "cycles",
        "range",
        (1.0, 9.0),
        "cycles",
        "Sundlöv et al., EJNMMI 2022: range 1–9 cycles (dosimetry-reference.md §7)",
        "V",
        "DOSIMETRY_GUIDED stops at 8 cycles (program policy); single-cycle courses come from "
        "reasons not simulated",
    ),
    PublishedStatistic(
        "GARSKE-ROMAN-2018-MORE-THAN-4",
        "DOSIMETRY_GUIDED",
        "cycles",
        "fraction_more_than_4",
        0.5,
        "fraction",
        "Garske-Román et al., EJNMMI 2018;45:970 / Sandström et al., J Nucl Med 2013;54:33: "
        "a majority could receive more than four 7.4 GBq cycles before 23 Gy (dosimetry-reference.md §7)",
        "R",
        "'a majority' read as a fraction above 0.5; the distribution itself was not retrieved",
    ),
    PublishedStatistic(
        "RUDISILE-2019-KIDNEY-MEAN",
        "DOSIMETRY_GUIDED",
        "kidneys_absorbed_dose_gy",
        "mean",
        23.8,
        "Gy",
        "Rudisile et al., BMC Cancer 2019: salvage PRRT, 35 patients, mean cumulative kidney dose "
        "23.8 Gy after a median of 6 cycles (dosimetry-reference.md §7)",
        "V",
        "a salvage population, not dosimetry-guided to 23 Gy",
    ),
    PublishedStatistic(
        "RB-07-FIXED-KIDNEY",
        "LUTATHERA_STANDARD",
        "kidneys_absorbed_dose_gy",
        "median",
        19.24,
        "Gy",
        "worked case RB-07: 4 × 7.4 GBq at 0.65 Gy/GBq (Lutathera label kidney dose) → 19.24 Gy "
        "(dosimetry-reference.md §5.3)",
        "C",
        "computed from the label's mean kidney dose per GBq [R]",
    ),
    PublishedStatistic(
        "SANTORO-2018-FIXED-MARROW",
        "LUTATHERA_STANDARD",
        "red_marrow_absorbed_dose_gy",
        "mean",
        1.2,
        "Gy",
        "typical red-marrow dose 0.04 Gy/GBq (Santoro 2018 [V]) → ~1.2 Gy after 4 × 7.4 GBq "
        "(dosimetry-reference.md §6.2)",
        "C",
    ),
)


def _simulated(summary: StrategySummary, item: PublishedStatistic) -> float | tuple[float, float]:
    if item.quantity == "cycles":
        if item.statistic == "median":
            return float(summary.cycles_median)
        if item.statistic == "range":
            low, high = summary.cycles_range
            return (float(low), float(high))
        if item.statistic == "fraction_more_than_4":
            return summary.fraction_more_cycles_than(4)
        return summary.cycles_mean
    if item.statistic == "median":
        return summary.quantile(item.quantity, 0.5)
    return summary.mean(item.quantity)


def compare_with_published(
    summaries: Mapping[str, StrategySummary],
    statistics: Sequence[PublishedStatistic] = PUBLISHED_STATISTICS,
) -> list[dict[str, Any]]:
    """Simulated beside published statistics for the strategies that were simulated.

    Returns one dictionary per statistic with ``published``, ``simulated`` and,
    for single numbers, ``difference`` (simulated − published).
    """
    rows = []
    for item in statistics:
        summary = summaries.get(item.strategy)
        if summary is None:
            continue
        simulated = _simulated(summary, item)
        difference = (
            None
            if isinstance(simulated, tuple) or isinstance(item.value, tuple)
            else simulated - item.value
        )
        rows.append(
            {
                "id": item.id,
                "strategy": item.strategy,
                "quantity": item.quantity,
                "statistic": item.statistic,
                "unit": item.unit,
                "published": list(item.value) if isinstance(item.value, tuple) else item.value,
                "simulated": list(simulated) if isinstance(simulated, tuple) else simulated,
                "difference": None if difference is None or math.isnan(difference) else difference,
                "source": item.source,
                "tag": item.tag,
                "note": item.note,
            }
        )
    return rows
