"""Treatment courses: cumulative organ dose and BED over cycles, limit checks and a dosimetry-guided planner.

* :func:`cumulative_doses` sums absorbed dose and BED per region over cycles
  (full repair between cycles, no repopulation: BEDs add, dosimetry-reference.md §5.1).
* :func:`check_limits` compares the sums with the limits of a profile
  (``data/dose_limits.json``: kidneys 23 Gy absorbed dose and BED 40/28 Gy
  without/with renal risk factors, red marrow 2 Gy; §5.3).  Missing data never
  passes: a region without dose, a BED that cannot be computed or a cycle
  without a value gives ``INDETERMINATE`` unless the limit is already exceeded.
* :func:`plan_cycles` predicts, from the cycles given, how many more cycles of
  a planned activity keep the region within every applicable limit, with an
  uncertainty band and the activity of a final partial cycle
  (``cycles allowed = floor((limit − dose given)/predicted dose per cycle)``,
  §7, case RB-07; the per-cycle prediction scales the dose per activity of the
  previous cycle, or of the mean of the cycles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from prrt.dosimetry.course_limits import (
    Applicability,
    DoseLimit,
    LimitCheck,
    LimitProfile,
    LimitQuantity,
    LimitStatus,
    _covered,
    load_limit_profile,
)
from prrt.dosimetry.course_plan import (
    BEYOND_LABEL_NOTE,
    LABEL_CYCLES,
    LIMIT_REACHED_NOTE,
    CyclePlan,
    LimitProjection,
    Predictor,
)
from prrt.dosimetry.radiobiology import dose_for_bed_gy, eqd2_gy
from prrt.errors import InvalidInputError

__all__ = [
    "BEYOND_LABEL_NOTE",
    "DEFAULT_DOSE_UNCERTAINTY_FRACTION",
    "LABEL_CYCLES",
    "LIMIT_REACHED_NOTE",
    "Applicability",
    "CumulativeOrganDose",
    "CycleDosimetry",
    "CycleOrganDose",
    "CyclePlan",
    "DoseLimit",
    "LimitCheck",
    "LimitProfile",
    "LimitProjection",
    "LimitQuantity",
    "LimitStatus",
    "Predictor",
    "check_limits",
    "cumulative_doses",
    "load_limit_profile",
    "plan_cycles",
]

#: Relative standard uncertainty of a kidney dose from SPECT/CT at days 1, 4 and 7
#: (~13 %, Staanum et al., EJNMMI Phys 2021;8:78; dosimetry-reference.md §4.2).
DEFAULT_DOSE_UNCERTAINTY_FRACTION = 0.13
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class CycleOrganDose:
    """Absorbed dose (and G factor for BED) of one region in one cycle.

    ``dose_uncertainty_fraction`` is the per-cycle measurement uncertainty
    (reported with the dose; the planner's default otherwise);
    ``fit_uncertainty_fraction`` the relative dose SD from the fitted TIA
    covariance; ``fit_warnings`` short reasons why the fit behind the dose is
    not trustworthy (poor R², no residual degrees of freedom, net uptake).
    """

    region: str
    absorbed_dose_gy: float
    g_factor: float | None = None
    alpha_beta_gy: float | None = None
    dose_uncertainty_fraction: float | None = None
    fit_uncertainty_fraction: float | None = None
    fit_warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (math.isfinite(self.absorbed_dose_gy) and self.absorbed_dose_gy >= 0.0):
            raise InvalidInputError(
                f"{self.region}.absorbed_dose_gy", self.absorbed_dose_gy, "a non-negative dose"
            )
        if self.g_factor is not None and not (0.0 <= self.g_factor <= 1.0):
            raise InvalidInputError(f"{self.region}.g_factor", self.g_factor, "a value in [0, 1]")
        if self.alpha_beta_gy is not None and not self.alpha_beta_gy > 0.0:
            raise InvalidInputError(f"{self.region}.alpha_beta_gy", self.alpha_beta_gy, "> 0 Gy")

    @property
    def bed_gy(self) -> float | None:
        """BED of this cycle, or None without G factor and α/β."""
        if self.g_factor is None or self.alpha_beta_gy is None:
            return None
        d = self.absorbed_dose_gy
        return d * (1.0 + self.g_factor * d / self.alpha_beta_gy)


@dataclass(frozen=True, slots=True)
class CycleDosimetry:
    """Organ doses of one treatment cycle."""

    cycle_number: int
    administered_activity_bq: float
    organs: Mapping[str, CycleOrganDose]

    def __post_init__(self) -> None:
        if isinstance(self.cycle_number, bool) or not isinstance(self.cycle_number, int):
            raise InvalidInputError("cycle_number", self.cycle_number, "an integer ≥ 1")
        if self.cycle_number < 1:
            raise InvalidInputError("cycle_number", self.cycle_number, "an integer ≥ 1")
        a = self.administered_activity_bq
        if not (math.isfinite(a) and a > 0.0):
            raise InvalidInputError("administered_activity_bq", a, "a positive activity in Bq")


@dataclass(frozen=True, slots=True)
class CumulativeOrganDose:
    """Sum over cycles of one region's absorbed dose and BED."""

    region: str
    absorbed_dose_gy: float
    bed_gy: float | None
    eqd2_gy: float | None
    per_cycle_gy: tuple[float, ...]
    cycles_counted: tuple[int, ...]
    missing_cycles: tuple[int, ...] = ()

    @property
    def lower_bound(self) -> bool:
        """True when some cycles have no dose for the region: the sums are lower bounds."""
        return bool(self.missing_cycles)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary (``lower_bound``: some cycles lack a dose)."""
        return {
            "region": self.region,
            "lower_bound": self.lower_bound,
            "absorbed_dose_gy": self.absorbed_dose_gy,
            "bed_gy": self.bed_gy,
            "eqd2_gy": self.eqd2_gy,
            "per_cycle_absorbed_dose_gy": list(self.per_cycle_gy),
            "cycles_counted": list(self.cycles_counted),
            "missing_cycles": list(self.missing_cycles),
        }


def _check_cycles(cycles: Sequence[CycleDosimetry]) -> None:
    numbers = [c.cycle_number for c in cycles]
    if len(set(numbers)) != len(numbers):
        raise InvalidInputError("cycles", numbers, "each cycle number once")


def cumulative_doses(cycles: Sequence[CycleDosimetry]) -> dict[str, CumulativeOrganDose]:
    """Sum absorbed dose and BED per region over ``cycles``.

    BED is summed only when every counted cycle has one (else None); EQD2 uses
    the α/β of the cycles (which must agree).

    Examples
    --------
    RB-05/06: 4 × 5.75 Gy to the kidneys with G = 2.8/52.8 → 23 Gy, BED 25.70 Gy.

    >>> c = [CycleDosimetry(cycle_number=i, administered_activity_bq=7.4e9,
    ...      organs={"kidneys": CycleOrganDose("kidneys", 5.75, 2.8 / 52.8, 2.6)})
    ...      for i in range(1, 5)]
    >>> total = cumulative_doses(c)["kidneys"]
    >>> round(total.absorbed_dose_gy, 2), round(total.bed_gy, 2)
    (23.0, 25.7)
    """
    _check_cycles(cycles)
    numbers = tuple(c.cycle_number for c in cycles)
    regions: list[str] = []
    for cycle in cycles:
        for region in cycle.organs:
            if region not in regions:
                regions.append(region)
    result: dict[str, CumulativeOrganDose] = {}
    for region in regions:
        doses = [(c.cycle_number, c.organs[region]) for c in cycles if region in c.organs]
        beds = [d.bed_gy for _, d in doses]
        bed: float | None = None
        eqd2: float | None = None
        if all(b is not None for b in beds):
            bed = float(sum(b for b in beds if b is not None))
            ratios = {d.alpha_beta_gy for _, d in doses}
            if len(ratios) == 1:
                (ab,) = ratios
                if ab is not None:
                    eqd2 = eqd2_gy(bed_gy=bed, alpha_beta_gy=ab)
        result[region] = CumulativeOrganDose(
            region=region,
            absorbed_dose_gy=float(sum(d.absorbed_dose_gy for _, d in doses)),
            bed_gy=bed,
            eqd2_gy=eqd2,
            per_cycle_gy=tuple(d.absorbed_dose_gy for _, d in doses),
            cycles_counted=tuple(n for n, _ in doses),
            missing_cycles=tuple(n for n in numbers if n not in {m for m, _ in doses}),
        )
    return result


def _check_one(
    limit: DoseLimit, total: CumulativeOrganDose, renal_risk_factors: bool | None
) -> LimitCheck:
    region = total.region
    value = (
        total.absorbed_dose_gy if limit.quantity is LimitQuantity.ABSORBED_DOSE else total.bed_gy
    )
    if value is None:
        return LimitCheck(
            limit,
            None,
            LimitStatus.INDETERMINATE,
            "BED unknown: kinetics (effective half-life or fit) missing for a cycle",
            region,
        )
    if value > limit.limit_gy:
        if renal_risk_factors is None and limit.applies_to is Applicability.WITH_RENAL_RISK_FACTORS:
            return LimitCheck(
                limit,
                value,
                LimitStatus.INDETERMINATE,
                "limit for patients with renal risk factors; risk-factor status unknown",
                region,
            )
        return LimitCheck(limit, value, LimitStatus.EXCEEDED, "", region)
    if total.missing_cycles:
        return LimitCheck(
            limit,
            value,
            LimitStatus.INDETERMINATE,
            f"no dose for cycle(s) {list(total.missing_cycles)}",
            region,
        )
    return LimitCheck(limit, value, LimitStatus.WITHIN, "", region)


def check_limits(
    cumulative: Mapping[str, CumulativeOrganDose],
    profile: LimitProfile,
    *,
    renal_risk_factors: bool | None = None,
) -> tuple[LimitCheck, ...]:
    """Compare cumulative doses with the limits of ``profile``.

    With ``renal_risk_factors=None`` (unknown) both kidney BED limits are
    checked: a BED between 28 and 40 Gy is ``INDETERMINATE`` (within the limit
    without risk factors, above the one with them).  A kidney limit is checked
    for ``kidneys`` or, with per-kidney doses, for each kidney.

    Examples
    --------
    >>> total = {"kidneys": CumulativeOrganDose("kidneys", 19.24, 21.13, None, (), (1, 2, 3, 4))}
    >>> [c.status.value for c in check_limits(total, load_limit_profile())]
    ['within', 'within', 'within', 'indeterminate']
    """
    checks = []
    for limit in profile.limits:
        if not limit.applies(renal_risk_factors):
            continue
        present = [r for r in _covered(limit.region) if r in cumulative]
        if not present:
            checks.append(
                LimitCheck(
                    limit,
                    None,
                    LimitStatus.INDETERMINATE,
                    f"no dose for {limit.region}",
                    limit.region,
                )
            )
            continue
        checks.extend(_check_one(limit, cumulative[r], renal_risk_factors) for r in present)
    return tuple(checks)


def _whole_cycles(margin: float, per_cycle: float) -> int:
    if margin <= 0.0 or per_cycle <= 0.0:
        return 0
    return max(0, math.floor(margin / per_cycle * (1.0 + _EPS)))


def plan_cycles(
    cycles: Sequence[CycleDosimetry],
    *,
    activity_per_cycle_bq: float,
    profile: LimitProfile,
    renal_risk_factors: bool | None = None,
    region: str = "kidneys",
    predictor: Predictor = Predictor.LAST_CYCLE,
    dose_uncertainty_fraction: float = DEFAULT_DOSE_UNCERTAINTY_FRACTION,
    coverage_factor: float = 2.0,
) -> CyclePlan:
    """Predict how many more cycles of ``activity_per_cycle_bq`` stay within the limits.

    The dose per activity (Gy/Bq) of the last cycle (or the mean over cycles)
    times the planned activity is the predicted dose per cycle ``d``.  For an
    absorbed-dose limit ``n = floor((L − D_given)/d)``; for a BED limit the
    per-cycle BED is ``d(1 + G·d/(α/β))`` with the G factor of the predicting
    cycle(s).  The binding limit is the one allowing the fewest cycles; what is
    left after ``n`` cycles gives the activity of a final partial cycle.

    The band uses ``d·(1 ± k·u)``, with ``u² = u_meas² + CV² + u_fit²``
    (``u_meas`` the per-cycle dose uncertainty, 13 % by default after Staanum
    et al. 2021; CV the spread of Gy/Bq between the cycles given; ``u_fit`` the
    largest relative dose SD from the TIA fit covariance of the predicting
    cycle(s)) and ``k`` the coverage factor: its lower cycle count comes from
    the high dose estimate.  Fit warnings of the region's doses in any cycle
    (poor R², no residual degrees of freedom, net uptake) make the plan
    "not reliable": they are listed in ``reliability_warnings``, the notes and
    the summary.

    Raises
    ------
    InvalidInputError
        No cycle with a dose for ``region``, no applicable limit, or invalid settings.

    Examples
    --------
    RB-07/08: 4 × 7.4 GBq at 0.65 Gy/GBq (4.81 Gy per cycle), limit 23 Gy: after
    4 cycles no further full cycle fits; the remaining 3.76 Gy allow 5.78 GBq.

    >>> c = [CycleDosimetry(cycle_number=i, administered_activity_bq=7.4e9,
    ...      organs={"kidneys": CycleOrganDose("kidneys", 4.81)}) for i in range(1, 5)]
    >>> plan = plan_cycles(c, activity_per_cycle_bq=7.4e9, profile=load_limit_profile(),
    ...                    renal_risk_factors=False)
    >>> plan.additional_cycles, round(plan.partial_cycle_activity_bq / 1e9, 2)
    (0, 5.78)
    >>> plan.summary
    "no further full cycle, then a partial cycle of 5.78 GBq (5 cycles in all); beyond the label's 4 cycles: dosimetry-guided extension, Garske-Román 2018 / Sundlöv 2022"
    """
    _check_cycles(cycles)
    if not (math.isfinite(activity_per_cycle_bq) and activity_per_cycle_bq > 0.0):
        raise InvalidInputError(
            "activity_per_cycle_bq", activity_per_cycle_bq, "a positive planned activity"
        )
    if not (math.isfinite(dose_uncertainty_fraction) and 0.0 <= dose_uncertainty_fraction < 1.0):
        raise InvalidInputError(
            "dose_uncertainty_fraction", dose_uncertainty_fraction, "a fraction in [0, 1)"
        )
    if not (math.isfinite(coverage_factor) and 0.0 <= coverage_factor <= 5.0):
        raise InvalidInputError("coverage_factor", coverage_factor, "a number in [0, 5]")
    dosed = [c for c in sorted(cycles, key=lambda c: c.cycle_number) if region in c.organs]
    if not dosed:
        raise InvalidInputError("cycles", region, f"at least one cycle with a dose for {region}")
    ratios = np.array(
        [c.organs[region].absorbed_dose_gy / c.administered_activity_bq for c in dosed]
    )
    predicting = dosed[-1:] if predictor is Predictor.LAST_CYCLE else dosed
    rate = float(ratios[-1]) if predictor is Predictor.LAST_CYCLE else float(ratios.mean())
    if not rate > 0.0:
        raise InvalidInputError("cycles", rate, f"a positive dose per activity for {region}")
    measured = [c.organs[region].dose_uncertainty_fraction for c in predicting]
    u_meas = max((m for m in measured if m is not None), default=dose_uncertainty_fraction)
    cv = float(ratios.std(ddof=1) / ratios.mean()) if ratios.size > 1 else 0.0
    u_fit = max(
        (f for c in predicting if (f := c.organs[region].fit_uncertainty_fraction) is not None),
        default=0.0,
    )
    u = math.sqrt(u_meas**2 + cv**2 + u_fit**2)
    reliability = tuple(
        f"{w} (cycle {c.cycle_number})" for c in dosed for w in c.organs[region].fit_warnings
    )
    d = rate * activity_per_cycle_bq
    d_high = d * (1.0 + coverage_factor * u)
    d_low = d * max(1.0 - coverage_factor * u, 0.05)
    notes = []
    if renal_risk_factors is None:
        notes.append("renal risk factors unknown: the stricter kidney BED limit is applied")
    total = cumulative_doses(cycles)[region]
    if total.lower_bound:
        notes.append(
            f"no {region} dose for cycle(s) {list(total.missing_cycles)}: the dose delivered is a "
            "lower bound and the cycles allowed an upper bound"
        )

    g_values = [c.organs[region].g_factor for c in predicting]
    ab_values = {c.organs[region].alpha_beta_gy for c in predicting}
    projections = []
    for limit in profile.limits:
        if region not in _covered(limit.region) or not limit.applies(renal_risk_factors):
            continue
        if limit.quantity is LimitQuantity.ABSORBED_DOSE:
            delivered = total.absorbed_dose_gy
            margin = limit.limit_gy - delivered
            n = _whole_cycles(margin, d)
            band = (_whole_cycles(margin, d_high), _whole_cycles(margin, d_low))
            partial_dose = max(margin - n * d, 0.0)
            per_cycle, per_band = d, (d_low, d_high)
        else:
            ab = next(iter(ab_values)) if len(ab_values) == 1 else None
            if total.bed_gy is None or any(g is None for g in g_values) or ab is None:
                notes.append(f"{limit.id}: BED not available for every cycle; not projected")
                continue
            g = float(np.mean([x for x in g_values if x is not None]))

            def bed_of(dose: float, g: float = g, ab: float = ab) -> float:
                return dose * (1.0 + g * dose / ab)

            delivered = total.bed_gy
            margin = limit.limit_gy - delivered
            n = _whole_cycles(margin, bed_of(d))
            band = (_whole_cycles(margin, bed_of(d_high)), _whole_cycles(margin, bed_of(d_low)))
            left = max(margin - n * bed_of(d), 0.0)
            partial_dose = dose_for_bed_gy(bed_gy=left, g_factor=g, alpha_beta_gy=ab)
            per_cycle, per_band = bed_of(d), (bed_of(d_low), bed_of(d_high))
        projections.append(
            LimitProjection(
                limit=limit,
                delivered_gy=delivered,
                margin_gy=margin,
                per_cycle_gy=per_cycle,
                per_cycle_band_gy=per_band,
                additional_cycles=n,
                additional_cycles_band=band,
                partial_cycle_dose_gy=partial_dose,
                partial_cycle_activity_bq=min(partial_dose / rate, activity_per_cycle_bq),
            )
        )
    if not projections:
        raise InvalidInputError(
            "limit_profile", profile.name, f"a profile with an applicable limit for {region}"
        )
    binding = min(projections, key=lambda p: (p.additional_cycles, p.partial_cycle_activity_bq))
    return CyclePlan(
        region=region,
        activity_per_cycle_bq=activity_per_cycle_bq,
        predictor=predictor,
        dose_per_activity_gy_per_bq=rate,
        dose_per_cycle_gy=d,
        uncertainty_fraction=u,
        coverage_factor=coverage_factor,
        dose_per_cycle_band_gy=(d_low, d_high),
        additional_cycles=binding.additional_cycles,
        additional_cycles_band=(
            min(p.additional_cycles_band[0] for p in projections),
            min(p.additional_cycles_band[1] for p in projections),
        ),
        partial_cycle_activity_bq=binding.partial_cycle_activity_bq,
        binding_limit_id=binding.limit.id,
        projections=tuple(projections),
        notes=tuple(notes),
        cycles_given=len(cycles),
        delivered_lower_bound=total.lower_bound,
        fit_uncertainty_fraction=u_fit,
        reliability_warnings=reliability,
    )
