"""Results of the dosimetry-guided cycle planner (:func:`prrt.dosimetry.course.plan_cycles`).

:class:`CyclePlan` is the prediction of the remaining cycles for one region,
with one :class:`LimitProjection` per applicable limit; :class:`Predictor`
chooses which given cycles predict the dose per activity of the next ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from prrt.dosimetry.course_limits import DoseLimit

__all__ = [
    "BEYOND_LABEL_NOTE",
    "LABEL_CYCLES",
    "LIMIT_REACHED_NOTE",
    "CyclePlan",
    "LimitProjection",
    "Predictor",
]

#: Administrations of the label: 4 × 7.4 GBq every 8 weeks (Lutathera US/EU label,
#: clinical-rules.md §4.1 DOSE-1).  More cycles are a dosimetry-guided extension.
LABEL_CYCLES = 4
BEYOND_LABEL_NOTE = (
    "beyond the label's 4 cycles: dosimetry-guided extension, Garske-Román 2018 / Sundlöv 2022"
)
LIMIT_REACHED_NOTE = "limit reached: no further cycle"


class Predictor(Enum):
    """Which given cycles predict the dose per activity of the next cycles."""

    LAST_CYCLE = "last_cycle"
    MEAN_OF_CYCLES = "mean_of_cycles"


@dataclass(frozen=True, slots=True)
class LimitProjection:
    """How many more cycles fit under one limit."""

    limit: DoseLimit
    delivered_gy: float
    margin_gy: float
    per_cycle_gy: float
    per_cycle_band_gy: tuple[float, float]
    additional_cycles: int
    additional_cycles_band: tuple[int, int]
    partial_cycle_dose_gy: float
    partial_cycle_activity_bq: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "limit_id": self.limit.id,
            "quantity": self.limit.quantity.value,
            "limit_gy": self.limit.limit_gy,
            "delivered_gy": self.delivered_gy,
            "margin_gy": self.margin_gy,
            "per_cycle_gy": self.per_cycle_gy,
            "per_cycle_band_gy": list(self.per_cycle_band_gy),
            "additional_cycles": self.additional_cycles,
            "additional_cycles_band": list(self.additional_cycles_band),
            "partial_cycle_absorbed_dose_gy": self.partial_cycle_dose_gy,
            "partial_cycle_activity_bq": self.partial_cycle_activity_bq,
        }


@dataclass(frozen=True, slots=True)
class CyclePlan:
    """Prediction of the remaining cycles for one region."""

    region: str
    activity_per_cycle_bq: float
    predictor: Predictor
    dose_per_activity_gy_per_bq: float
    dose_per_cycle_gy: float
    uncertainty_fraction: float
    coverage_factor: float
    dose_per_cycle_band_gy: tuple[float, float]
    additional_cycles: int
    additional_cycles_band: tuple[int, int]
    partial_cycle_activity_bq: float
    binding_limit_id: str
    projections: tuple[LimitProjection, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    cycles_given: int = 0
    delivered_lower_bound: bool = False
    fit_uncertainty_fraction: float = 0.0
    reliability_warnings: tuple[str, ...] = ()

    @property
    def reliable(self) -> bool:
        """False when a fit behind the planned region's doses is poor (see ``reliability_warnings``)."""
        return not self.reliability_warnings

    @property
    def limit_reached(self) -> bool:
        """True when the binding limit leaves no full and no partial cycle."""
        return self.additional_cycles == 0 and self.partial_cycle_activity_bq <= 0.0

    @property
    def binding_projection(self) -> LimitProjection:
        """The projection of the binding limit."""
        return next(p for p in self.projections if p.limit.id == self.binding_limit_id)

    @property
    def exceeded_projection(self) -> LimitProjection | None:
        """The limit already exceeded by the doses given (the most, relative to it), if any."""
        over = [p for p in self.projections if p.margin_gy < 0.0]
        return min(over, key=lambda p: p.margin_gy / p.limit.limit_gy, default=None)

    @property
    def limit_exceeded(self) -> bool:
        """True when a limit is already exceeded by the doses given."""
        return self.exceeded_projection is not None

    @property
    def planned_total_cycles(self) -> int:
        """Cycles given plus the full and partial cycles the plan allows."""
        partial = 1 if self.partial_cycle_activity_bq > 0.0 else 0
        return self.cycles_given + self.additional_cycles + partial

    @property
    def beyond_label(self) -> bool:
        """True when the plan adds cycles past the label's :data:`LABEL_CYCLES` administrations."""
        total = self.planned_total_cycles
        return total > LABEL_CYCLES and total > self.cycles_given

    @property
    def summary(self) -> str:
        """One sentence on the remaining cycles, in words a physician reads."""
        prefix = (
            "plan not reliable: " + "; ".join(self.reliability_warnings) + " — "
            if self.reliability_warnings
            else ""
        )
        p = self.exceeded_projection
        if p is not None:
            return (
                f"{prefix}limit exceeded ({p.delivered_gy:.4g} of {p.limit.limit_gy:g} Gy): "
                f"no further cycle ({p.limit.id})"
            )
        if self.limit_reached:
            return f"{prefix}{LIMIT_REACHED_NOTE} ({self.binding_limit_id})"
        lo, hi = self.additional_cycles_band
        text = prefix + (
            f"{self.additional_cycles} more full cycle(s) (band {lo}–{hi})"
            if self.additional_cycles
            else "no further full cycle"
        )
        if self.partial_cycle_activity_bq > 0.0:
            text += f", then a partial cycle of {self.partial_cycle_activity_bq / 1e9:.3g} GBq"
        text += f" ({self.planned_total_cycles} cycles in all)"
        if self.beyond_label:
            text += f"; {BEYOND_LABEL_NOTE}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "region": self.region,
            "activity_per_cycle_bq": self.activity_per_cycle_bq,
            "predictor": self.predictor.value,
            "dose_per_activity_gy_per_bq": self.dose_per_activity_gy_per_bq,
            "dose_per_cycle_gy": self.dose_per_cycle_gy,
            "uncertainty_fraction": self.uncertainty_fraction,
            "coverage_factor": self.coverage_factor,
            "dose_per_cycle_band_gy": list(self.dose_per_cycle_band_gy),
            "additional_cycles": self.additional_cycles,
            "additional_cycles_band": list(self.additional_cycles_band),
            "partial_cycle_activity_bq": self.partial_cycle_activity_bq,
            "binding_limit_id": self.binding_limit_id,
            "projections": [p.to_dict() for p in self.projections],
            "cycles_given": self.cycles_given,
            "planned_total_cycles": self.planned_total_cycles,
            "label_cycles": LABEL_CYCLES,
            "beyond_label": self.beyond_label,
            "limit_reached": self.limit_reached,
            "limit_exceeded": self.limit_exceeded,
            "fit_uncertainty_fraction": self.fit_uncertainty_fraction,
            "reliable": self.reliable,
            "reliability_warnings": list(self.reliability_warnings),
            "delivered_lower_bound": self.delivered_lower_bound,
            "summary": self.summary,
            "notes": list(self.notes),
        }
