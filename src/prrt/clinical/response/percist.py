"""PERCIST 1.0 basics (clinical-rules.md §7.2).

PER-2 measurability (tumour SULpeak ≥ 1.5 × liver SULmean + 2 SD, or 2.0 ×
blood-pool SULmean + 2 SD), PER-2 technical consistency between two scans (liver
SULmean within 20 % and < 0.3 SUL; uptake times 50–70 min and within 15 min of each other) and the PER-3
categories CMR/PMR/SMD/PMD.  PERCIST is an FDG method: SSTR PET changes are to be
reported descriptively.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from prrt.clinical.response._validation import _dec
from prrt.errors import InvalidInputError

__all__ = [
    "PercistAssessment",
    "PercistConsistency",
    "PercistResponse",
    "percist_consistency",
    "percist_measurability_threshold",
    "percist_response",
]


class PercistResponse(str, Enum):
    """PERCIST 1.0 categories (clinical-rules.md §10)."""

    CMR = "CMR"
    PMR = "PMR"
    SMD = "SMD"
    PMD = "PMD"


def _sul(value: Any, field: str, *, positive: bool = False) -> Decimal:
    expected = "a non-negative SUL value (dimensionless) below 100"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, expected)
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number < 100.0 or (positive and number <= 0):
        raise InvalidInputError(field, value, expected)
    return _dec(number)


def percist_measurability_threshold(
    *, liver_sul_mean: float, liver_sul_sd: float, use_blood_pool: bool = False
) -> float:
    """Minimum measurable tumour SULpeak (PER-2).

    1.5 × liver SULmean + 2 × liver SD (3 cm sphere in the normal right lobe); with
    ``use_blood_pool`` (abnormal liver) 2.0 × blood-pool SULmean + 2 × SD, where the
    two arguments then hold the blood-pool values.

    Examples
    --------
    >>> percist_measurability_threshold(liver_sul_mean=2.0, liver_sul_sd=0.3)
    3.6
    """
    factor = Decimal(2) if use_blood_pool else Decimal("1.5")
    mean = _sul(liver_sul_mean, "liver_sul_mean", positive=True)
    sd = _sul(liver_sul_sd, "liver_sul_sd")
    return float(factor * mean + 2 * sd)


@dataclass(frozen=True, slots=True)
class PercistConsistency:
    """Technical comparability of two FDG PET scans (PER-2)."""

    liver_consistent: bool
    uptake_time_consistent: bool
    reasons: tuple[str, ...]

    @property
    def comparable(self) -> bool:
        """True when every consistency check passes."""
        return self.liver_consistent and self.uptake_time_consistent


def percist_consistency(
    *,
    baseline_liver_sul_mean: float,
    followup_liver_sul_mean: float,
    baseline_uptake_time_s: float,
    followup_uptake_time_s: float,
) -> PercistConsistency:
    """Check PER-2 consistency: liver SULmean within 20 % and < 0.3 SUL; uptake times 50–70 min and within 15 min.

    Examples
    --------
    >>> percist_consistency(baseline_liver_sul_mean=2.0, followup_liver_sul_mean=2.2,
    ...     baseline_uptake_time_s=3600, followup_uptake_time_s=3900).comparable
    True
    """
    base = _sul(baseline_liver_sul_mean, "baseline_liver_sul_mean", positive=True)
    follow = _sul(followup_liver_sul_mean, "followup_liver_sul_mean", positive=True)
    diff = abs(follow - base)
    liver_ok = diff <= base * Decimal("0.2") and diff < Decimal("0.3")
    times = []
    for name, value in (
        ("baseline_uptake_time_s", baseline_uptake_time_s),
        ("followup_uptake_time_s", followup_uptake_time_s),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise InvalidInputError(name, value, "a positive uptake time in seconds")
        times.append(_dec(value))
    in_window = all(Decimal(3000) <= t <= Decimal(4200) for t in times)
    close = abs(times[0] - times[1]) <= Decimal(900)
    reasons = [
        f"liver SULmean {float(base):g} -> {float(follow):g} ({'within' if liver_ok else 'outside'} 20 % and < 0.3 SUL)",
        f"uptake times {float(times[0]) / 60:g} and {float(times[1]) / 60:g} min "
        f"({'within' if in_window and close else 'outside'} 50-70 min and 15 min of each other)",
    ]
    return PercistConsistency(liver_ok, in_window and close, tuple(reasons))


@dataclass(frozen=True, slots=True)
class PercistAssessment:
    """PERCIST 1.0 category with the change of the hottest-lesion SULpeak."""

    response: PercistResponse
    change_percent: float
    change_sul: float
    reasons: tuple[str, ...]


def percist_response(
    *,
    baseline_sul_peak: float,
    followup_sul_peak: float,
    new_lesions: bool,
    complete_metabolic_response: bool = False,
    tlg_increase_percent: float | None = None,
    measurability_threshold: float | None = None,
) -> PercistAssessment:
    """PERCIST 1.0 response (PER-3) from the hottest lesion's SULpeak at each scan.

    * CMR: ``complete_metabolic_response`` (uptake ≤ liver mean and indistinguishable
      from blood pool — a reader's judgement) and no new lesions;
    * PMD: new FDG-avid lesions, or SULpeak rise > 30 % **and** ≥ 0.8 SUL, or a TLG
      rise ≥ 75 % without SULpeak fall ("visible extension") [P operators];
    * PMR: SULpeak fall ≥ 30 % **and** ≥ 0.8 SUL, no new lesions;
    * SMD: none of these.

    Raises
    ------
    InvalidInputError
        Invalid SUL values, or a baseline below ``measurability_threshold`` (PER-2).

    Examples
    --------
    >>> percist_response(baseline_sul_peak=10.0, followup_sul_peak=7.0, new_lesions=False).response.value
    'PMR'
    >>> percist_response(baseline_sul_peak=2.0, followup_sul_peak=1.2, new_lesions=False).response.value
    'PMR'
    >>> percist_response(baseline_sul_peak=2.0, followup_sul_peak=1.3, new_lesions=False).response.value
    'SMD'
    """
    base = _sul(baseline_sul_peak, "baseline_sul_peak", positive=True)
    follow = _sul(followup_sul_peak, "followup_sul_peak")
    if measurability_threshold is not None and base < _sul(
        measurability_threshold, "measurability_threshold"
    ):
        raise InvalidInputError(
            "baseline_sul_peak",
            baseline_sul_peak,
            f"a measurable SULpeak >= {measurability_threshold:g} (PER-2)",
        )
    change = follow - base
    percent = change / base * 100
    reasons: list[str] = []
    tlg_progression = False
    if tlg_increase_percent is not None:
        tlg = _dec(tlg_increase_percent)
        tlg_progression = tlg >= 75 and change >= 0
    if complete_metabolic_response and not new_lesions:
        response = PercistResponse.CMR
        reasons.append("uptake <= liver and indistinguishable from blood pool; no new lesions")
    elif new_lesions:
        response = PercistResponse.PMD
        reasons.append("new FDG-avid lesion(s) typical of cancer")
    elif percent > 30 and change >= Decimal("0.8"):
        response = PercistResponse.PMD
        reasons.append(
            f"SULpeak rise {float(percent):.1f} % > 30 % and +{float(change):g} >= 0.8 SUL"
        )
    elif tlg_progression:
        response = PercistResponse.PMD
        reasons.append("TLG rise >= 75 % without SULpeak fall (visible extension)")
    elif percent <= -30 and -change >= Decimal("0.8"):
        response = PercistResponse.PMR
        reasons.append(
            f"SULpeak fall {float(-percent):.1f} % >= 30 % and {float(-change):g} >= 0.8 SUL"
        )
    else:
        response = PercistResponse.SMD
        reasons.append("neither PMR nor PMD")
    return PercistAssessment(response, float(percent), float(change), tuple(reasons))
