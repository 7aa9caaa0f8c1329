"""Courses of virtual patients under a dosing strategy, vectorised over patients.

A :class:`CourseStrategy` is a regimen of :mod:`prrt.planning.regimens`, a limit
profile of :mod:`prrt.dosimetry.course` and whether the organ doses of each cycle
are measured and used.  :func:`simulate_course` gives every patient the course
that :func:`prrt.planning.decide_next_cycle` would give, cycle by cycle, with
NumPy arrays over patients instead of a loop:

* cycle 1 is the regimen's full activity (the label's CYC-5 with normal labs);
* without dosimetry (the fixed course, ``LUTATHERA_STANDARD``) every cycle is the
  full activity until the label's number of doses (CYC-0);
* with dosimetry (``DOSIMETRY_GUIDED``) the measured cumulative doses and BEDs are
  checked against the applicable limits (a limit exceeded stops), then each
  limited region is planned as :func:`prrt.dosimetry.course.plan_cycles` plans it
  (dose per activity of the last cycle, ``floor((L − D)/d)`` full cycles per
  limit, BED limits through the per-cycle BED, the binding limit the one allowing
  the fewest cycles and the smallest final activity); with no full cycle left a
  final partial activity below :data:`prrt.planning.next_cycle.MIN_PARTIAL_ACTIVITY_FRACTION`
  of the full activity stops the course, a larger one is given, until the
  regimen's maximum number of cycles.

The arithmetic is written in the same order as the planner's (sums from the
first cycle, ``margin/d·(1 + ε)`` with the planner's ε), so that the activities
are the same floating-point numbers; ``tests/unit/simulation`` checks this
against :func:`~prrt.planning.decide_next_cycle` patient by patient.  Toxicity,
progression and other reasons to stop are not simulated (labs are normal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from prrt._typing import BoolArray, FloatArray, IntArray
from prrt.dosimetry.course import _EPS as _PLANNER_EPS
from prrt.dosimetry.course import (
    Applicability,
    LimitProfile,
    LimitQuantity,
    load_limit_profile,
)
from prrt.dosimetry.radiobiology import radiobiology_parameters
from prrt.errors import InvalidInputError
from prrt.planning.next_cycle import MIN_PARTIAL_ACTIVITY_FRACTION, settings_for_regimen
from prrt.planning.regimens import Regimen, get_regimen
from prrt.simulation.population import VirtualPatients

__all__ = [
    "BED_REGIONS",
    "BLOCK_PATIENTS",
    "COMPLETED",
    "CourseOutcome",
    "CourseStrategy",
    "concatenate_outcomes",
    "dosimetry_guided_course",
    "fixed_course",
    "simulate_course",
]

#: ``stop_region`` of a patient who received the regimen's number of cycles.
COMPLETED = -1
#: Patients simulated together (temporaries of a few tens of kB).
BLOCK_PATIENTS = 2048
#: Tissues whose packaged LQ parameters give a BED (dosimetry-reference.md §5.2).
_BED_TISSUES = {
    "kidneys": "kidneys",
    "red_marrow": "red_marrow",
    "liver": "liver",
    "tumour": "tumour",
}
#: Regions whose cumulative BED is simulated.
BED_REGIONS = tuple(_BED_TISSUES)


@dataclass(frozen=True)
class CourseStrategy:
    """A dosing strategy: regimen, limit profile, and whether cycle doses are measured and used.

    Examples
    --------
    >>> s = dosimetry_guided_course()
    >>> s.name, s.full_activity_bq, s.max_cycles
    ('DOSIMETRY_GUIDED', 7400000000.0, 8)
    """

    regimen: Regimen
    limit_profile: LimitProfile
    uses_dosimetry: bool
    name: str = ""
    #: The label's full activity of the regimen (Bq), from ``settings_for_regimen``.
    full_activity_bq: float = field(init=False)
    #: Doses of the course (CYC-0): the regimen's cycles, or its cycle limit when dosimetry-guided.
    max_cycles: int = field(init=False)
    #: Regions with a limit in the profile, in the planner's (sorted) order.
    limited_regions: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.regimen, Regimen):
            raise InvalidInputError("regimen", self.regimen, "a Regimen")
        # The planner's own reading of the regimen (refuses regimens without one fixed activity).
        label = settings_for_regimen(self.regimen)
        object.__setattr__(self, "full_activity_bq", label.full_activity_bq)
        object.__setattr__(self, "max_cycles", label.doses_per_course)
        regions = tuple(sorted({lim.region for lim in self.limit_profile.limits}))
        object.__setattr__(self, "limited_regions", regions)
        if not self.name:
            object.__setattr__(self, "name", self.regimen.id)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable dictionary."""
        return {
            "name": self.name,
            "regimen": self.regimen.id,
            "limit_profile": self.limit_profile.name,
            "limits": [lim.to_dict() for lim in self.limit_profile.limits],
            "uses_dosimetry": self.uses_dosimetry,
            "full_activity_bq": self.full_activity_bq,
            "max_cycles": self.max_cycles,
            "min_partial_activity_fraction": MIN_PARTIAL_ACTIVITY_FRACTION,
        }


def fixed_course(limit_profile: LimitProfile | None = None) -> CourseStrategy:
    """The label's fixed course: ``LUTATHERA_STANDARD`` (4 × 7.4 GBq), no dosimetry consulted."""
    return CourseStrategy(
        get_regimen("LUTATHERA_STANDARD"), limit_profile or load_limit_profile(), False
    )


def dosimetry_guided_course(limit_profile: LimitProfile | None = None) -> CourseStrategy:
    """``DOSIMETRY_GUIDED``: 7.4 GBq cycles under the profile's limits, up to 8 cycles."""
    return CourseStrategy(
        get_regimen("DOSIMETRY_GUIDED"), limit_profile or load_limit_profile(), True
    )


@dataclass(frozen=True, eq=False)
class CourseOutcome:
    """Courses of ``n`` patients under one strategy.

    Attributes
    ----------
    strategy
        Strategy name.
    regions
        Region names of the dose columns.
    activity_bq
        Activity of each cycle (0 for cycles not given), shape ``(n, max_cycles)``.
    true_dose_gy, true_bed_gy
        Cumulative delivered absorbed dose and BED per region (BED NaN for regions
        without LQ parameters).
    measured_dose_gy, measured_bed_gy
        Cumulative doses as measured (what the dosimetry-guided rule saw).
    stop_region
        Index into ``limited_regions`` of the limit that stopped the course, or
        :data:`COMPLETED`.
    stop_exceeded
        True when the stop came from a limit already exceeded by the measured dose.
    limit_ids, true_over_limit
        For each applicable limit of the profile: the true cumulative value is
        above it (False where the limit does not apply).
    limited_regions
        Regions with limits, in the planner's order.
    """

    strategy: str
    regions: tuple[str, ...]
    activity_bq: FloatArray
    true_dose_gy: FloatArray
    true_bed_gy: FloatArray
    measured_dose_gy: FloatArray
    measured_bed_gy: FloatArray
    stop_region: IntArray
    stop_exceeded: BoolArray
    limit_ids: tuple[str, ...]
    true_over_limit: BoolArray
    limited_regions: tuple[str, ...]
    full_activity_bq: float

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.activity_bq.shape[0])

    @property
    def cycles_given(self) -> IntArray:
        """Number of cycles given per patient."""
        out: IntArray = np.count_nonzero(self.activity_bq > 0.0, axis=1).astype(np.int64)
        return out

    @property
    def total_activity_bq(self) -> FloatArray:
        """Total administered activity per patient (sum over cycles in order)."""
        total = np.zeros(self.n)
        for c in range(self.activity_bq.shape[1]):
            total = total + self.activity_bq[:, c]
        return total

    @property
    def final_partial(self) -> BoolArray:
        """True where the last cycle given was below the full activity."""
        n = self.cycles_given
        last = self.activity_bq[np.arange(self.n), np.maximum(n - 1, 0)]
        out: BoolArray = (n > 0) & (last < self.full_activity_bq)
        return out


def concatenate_outcomes(outcomes: list[CourseOutcome]) -> CourseOutcome:
    """The outcomes of consecutive groups of patients of one strategy, as one outcome."""
    first = outcomes[0]
    if any(o.strategy != first.strategy for o in outcomes):
        raise InvalidInputError(
            "outcomes", [o.strategy for o in outcomes], "outcomes of one strategy"
        )
    return CourseOutcome(
        strategy=first.strategy,
        regions=first.regions,
        activity_bq=np.concatenate([o.activity_bq for o in outcomes]),
        true_dose_gy=np.concatenate([o.true_dose_gy for o in outcomes]),
        true_bed_gy=np.concatenate([o.true_bed_gy for o in outcomes]),
        measured_dose_gy=np.concatenate([o.measured_dose_gy for o in outcomes]),
        measured_bed_gy=np.concatenate([o.measured_bed_gy for o in outcomes]),
        stop_region=np.concatenate([o.stop_region for o in outcomes]),
        stop_exceeded=np.concatenate([o.stop_exceeded for o in outcomes]),
        limit_ids=first.limit_ids,
        true_over_limit=np.concatenate([o.true_over_limit for o in outcomes]),
        limited_regions=first.limited_regions,
        full_activity_bq=first.full_activity_bq,
    )


@dataclass(frozen=True)
class _Limit:
    id: str
    column: int  # index among the limited regions
    quantity: LimitQuantity
    limit_gy: float
    applies_to: Applicability

    def applies(self, risk: BoolArray) -> BoolArray:
        if self.applies_to is Applicability.ALL:
            return np.ones(risk.shape, dtype=bool)
        if self.applies_to is Applicability.WITH_RENAL_RISK_FACTORS:
            return risk.copy()
        out: BoolArray = ~risk
        return out


def _compile_limits(strategy: CourseStrategy, patients: VirtualPatients) -> list[_Limit]:
    limited = strategy.limited_regions
    for region in limited:
        if region not in patients.regions:
            raise InvalidInputError(
                "limit_profile",
                strategy.limit_profile.name,
                "limits on simulated regions only: " + ", ".join(patients.regions),
                hint=f"the profile limits {region!r}",
            )
    limits = []
    for lim in strategy.limit_profile.limits:
        if lim.quantity is LimitQuantity.BED and lim.region not in _BED_TISSUES:
            raise InvalidInputError(
                "limit_profile",
                lim.id,
                "BED limits on regions with packaged LQ parameters: " + ", ".join(_BED_TISSUES),
            )
        limits.append(
            _Limit(lim.id, limited.index(lim.region), lim.quantity, lim.limit_gy, lim.applies_to)
        )
    return limits


def _g_factors(patients: VirtualPatients) -> tuple[FloatArray, FloatArray]:
    """Per patient and region: G = T_rep/(T_rep + T_eff) (§5.1, instant uptake) and α/β (NaN: none)."""
    g = np.full(patients.mass_kg.shape, np.nan)
    ab = np.full(len(patients.regions), np.nan)
    for k, region in enumerate(patients.regions):
        tissue = _BED_TISSUES.get(region)
        if tissue is None:
            continue
        p = radiobiology_parameters(tissue)
        t_rep = p.repair_half_time_s
        g[:, k] = t_rep / (t_rep + patients.effective_half_life_s[:, k])
        ab[k] = p.alpha_beta_gy
    return g, ab


def _projection(margin: FloatArray, per_cycle: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Full cycles ``n`` and what is left after them (the planner's ``_whole_cycles``)."""
    ok = (margin > 0.0) & (per_cycle > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(ok, np.maximum(0.0, np.floor(margin / per_cycle * (1.0 + _PLANNER_EPS))), 0.0)
    left = np.maximum(margin - n * per_cycle, 0.0)
    return n, left


def _guided_activity(
    limits: list[_Limit],
    n_regions: int,
    full_bq: float,
    risk: BoolArray,
    cum_dose: FloatArray,
    cum_bed: FloatArray,
    last_dose: FloatArray,
    last_activity: FloatArray,
    g: FloatArray,
    ab: FloatArray,
) -> tuple[FloatArray, IntArray, BoolArray]:
    """Activity of the next cycle (0: stop), stop region and 'exceeded' flag, for patients still on course.

    Arrays are over the patients still on course; region columns are the limited regions.
    """
    m = risk.shape[0]
    stopped = np.zeros(m, dtype=bool)
    stop_region = np.full(m, COMPLETED, dtype=np.int64)
    # Limits already exceeded stop the course (planner: DOS-LIMIT-EXCEEDED-*).
    for lim in limits:
        value = (
            cum_dose[:, lim.column]
            if lim.quantity is LimitQuantity.ABSORBED_DOSE
            else cum_bed[:, lim.column]
        )
        over = lim.applies(risk) & (value > lim.limit_gy) & ~stopped
        stop_region[over] = lim.column
        stopped |= over
    exceeded = stopped.copy()
    rate = last_dose / last_activity[:, None]
    d = rate * full_bq
    allowed = np.full(m, full_bq)
    for column in range(n_regions):
        best_n = np.full(m, np.inf)
        best_p = np.full(m, np.inf)
        for lim in (x for x in limits if x.column == column):
            margin_source = cum_dose if lim.quantity is LimitQuantity.ABSORBED_DOSE else cum_bed
            margin = lim.limit_gy - margin_source[:, column]
            if lim.quantity is LimitQuantity.ABSORBED_DOSE:
                n, partial_dose = _projection(margin, d[:, column])
            else:
                gk, abk = g[:, column], float(ab[column])
                per_cycle_bed = d[:, column] * (1.0 + gk * d[:, column] / abk)
                n, left = _projection(margin, per_cycle_bed)
                k = gk / abk
                # dose_for_bed_gy: stable positive root of k D² + D − BED = 0.
                partial_dose = np.where(
                    gk <= 0.0, left, 2.0 * left / (1.0 + np.sqrt(1.0 + 4.0 * k * left))
                )
            partial = np.minimum(partial_dose / rate[:, column], full_bq)
            applies = lim.applies(risk)
            better = applies & ((n < best_n) | ((n == best_n) & (partial < best_p)))
            best_n = np.where(better, n, best_n)
            best_p = np.where(better, partial, best_p)
        if np.isinf(best_n).any():
            raise InvalidInputError(
                "limit_profile", column, "an applicable limit for every limited region and patient"
            )
        no_full = best_n < 1.0
        stop_here = ~stopped & no_full & (best_p < MIN_PARTIAL_ACTIVITY_FRACTION * full_bq)
        stop_region[stop_here] = column
        stopped |= stop_here
        cut = ~stopped & no_full & (best_p < allowed)
        allowed = np.where(cut, best_p, allowed)
    activity = np.where(stopped, 0.0, allowed)
    return activity, stop_region, exceeded & stopped


@dataclass(frozen=True, eq=False)
class _Block:
    """Output views of one block of patients."""

    activity: FloatArray
    out: dict[str, FloatArray]
    stop_region: IntArray
    stop_exceeded: BoolArray


def _simulate_block(
    patients: VirtualPatients,
    strategy: CourseStrategy,
    limits: list[_Limit],
    columns: IntArray,
    g: FloatArray,
    ab: FloatArray,
    into: _Block,
) -> None:
    """Courses of one block of patients, written into ``into`` (views of the outputs)."""
    n, n_regions = patients.mass_kg.shape
    cycles = strategy.max_cycles
    full = strategy.full_activity_bq
    n_limited = len(strategy.limited_regions)
    # State of the patients still on course, compacted as courses stop (rows of ``on``).
    on = np.arange(n)
    state = {k: np.zeros((n, n_regions)) for k in into.out}
    last_measured = np.zeros((n, n_regions))
    g_on, risk_on = g, patients.renal_risk_factors
    a = np.full(n, full)
    for c in range(cycles):
        if c > 0 and strategy.uses_dosimetry:
            a, region, exceeded = _guided_activity(
                limits,
                n_limited,
                full,
                risk_on,
                state["measured"][:, columns],
                state["measured_bed"][:, columns],
                last_measured[:, columns],
                a,
                g_on[:, columns],
                ab[columns],
            )
            stop = a <= 0.0
            if stop.any():
                gone = on[stop]
                into.stop_region[gone] = region[stop]
                into.stop_exceeded[gone] = exceeded[stop]
                for k, v in into.out.items():
                    v[gone] = state[k][stop]
                keep = ~stop
                on, a, g_on, risk_on = on[keep], a[keep], g_on[keep], risk_on[keep]
                state = {k: v[keep] for k, v in state.items()}
                last_measured = last_measured[keep]
        if on.size == 0:
            break
        into.activity[on, c] = a
        everyone = on.size == n
        true_rate = patients.true_dose_per_activity_gy_per_bq[:, c, :]
        measured_rate = patients.measured_dose_per_activity_gy_per_bq[:, c, :]
        true_d = (true_rate if everyone else true_rate[on]) * a[:, None]
        measured_d = (measured_rate if everyone else measured_rate[on]) * a[:, None]
        # Per-cycle BED d(1 + G·d/(α/β)) (CycleOrganDose.bed_gy), summed over cycles (§5.1).
        state["true_bed"] += true_d * (1.0 + g_on * true_d / ab)
        state["measured_bed"] += measured_d * (1.0 + g_on * measured_d / ab)
        state["true"] += true_d
        state["measured"] += measured_d
        last_measured = measured_d
    for k, v in into.out.items():
        v[on] = state[k]


def simulate_course(patients: VirtualPatients, strategy: CourseStrategy) -> CourseOutcome:
    """Simulate the course of every patient under ``strategy``.

    Patients are simulated in blocks of :data:`BLOCK_PATIENTS` (each patient's
    course depends on that patient alone, so the blocks do not change a bit of
    the result; small blocks keep the temporaries in the allocator's heap, which
    matters on Dask workers that trim memory eagerly).

    Raises
    ------
    InvalidInputError
        When the patients have fewer cycles drawn than the strategy allows, or the
        profile limits a region that is not simulated.

    Examples
    --------
    >>> from prrt.simulation.population import draw_patients, load_population_model
    >>> p = draw_patients(load_population_model(), 1000, max_cycles=8, rng=np.random.default_rng(3))
    >>> fixed = simulate_course(p, fixed_course())
    >>> sorted(set(fixed.cycles_given.tolist())), float(fixed.total_activity_bq[0])
    ([4], 29600000000.0)
    """
    cycles = strategy.max_cycles
    if patients.max_cycles < cycles:
        raise InvalidInputError(
            "patients.max_cycles", patients.max_cycles, f"at least the strategy's {cycles} cycles"
        )
    limits = _compile_limits(strategy, patients)
    limited = strategy.limited_regions
    columns = np.array([patients.region_index(r) for r in limited], dtype=np.int64)
    n, n_regions = patients.mass_kg.shape
    full = strategy.full_activity_bq
    g, ab = _g_factors(patients)
    risk = patients.renal_risk_factors
    activity = np.zeros((n, cycles))
    out = {k: np.zeros((n, n_regions)) for k in ("true", "true_bed", "measured", "measured_bed")}
    stop_region = np.full(n, COMPLETED, dtype=np.int64)
    stop_exceeded = np.zeros(n, dtype=bool)
    for lo in range(0, n, BLOCK_PATIENTS):
        hi = min(lo + BLOCK_PATIENTS, n)
        block = _Block(
            activity[lo:hi],
            {k: v[lo:hi] for k, v in out.items()},
            stop_region[lo:hi],
            stop_exceeded[lo:hi],
        )
        _simulate_block(patients.rows(lo, hi), strategy, limits, columns, g[lo:hi], ab, block)
    true_dose, true_bed = out["true"], out["true_bed"]
    measured_dose, measured_bed = out["measured"], out["measured_bed"]
    limit_ids = tuple(lim.id for lim in limits)
    over = np.zeros((n, len(limits)), dtype=bool)
    for j, lim in enumerate(limits):
        source = true_dose if lim.quantity is LimitQuantity.ABSORBED_DOSE else true_bed
        over[:, j] = lim.applies(risk) & (source[:, columns[lim.column]] > lim.limit_gy)
    return CourseOutcome(
        strategy=strategy.name,
        regions=patients.regions,
        activity_bq=activity,
        true_dose_gy=true_dose,
        true_bed_gy=true_bed,
        measured_dose_gy=measured_dose,
        measured_bed_gy=measured_bed,
        stop_region=stop_region,
        stop_exceeded=stop_exceeded,
        limit_ids=limit_ids,
        true_over_limit=over,
        limited_regions=limited,
        full_activity_bq=full,
    )
