"""Whole-cohort analysis: what ``prrt cohort analyze`` reports, as one result object.

:func:`analyze_cohort` runs, for each endpoint present (PFS, OS): Kaplan–Meier per arm
with medians and landmark rates, median follow-up (reverse Kaplan–Meier), the
log-rank test and a Cox model of the arms (and chosen covariates), and restricted
mean survival times; then ORR/DCR per arm with exact intervals, the waterfall and
swimmer data, a comparison with published benchmarks of the evidence base
(NETTER-1, NETTER-2, COMPETE, OCCLURANDOM), and optional overlays of published curves
reconstructed with :func:`prrt.outcomes.ipd.reconstruct_ipd`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prrt.errors import InvalidInputError
from prrt.outcomes.cohort import Cohort, Endpoint
from prrt.outcomes.cox import CoxResult, cox_model
from prrt.outcomes.evidence import EvidenceBase, flatten_results, load_evidence
from prrt.outcomes.ipd import ReconstructedIpd
from prrt.outcomes.rates import ResponseRates, response_rates
from prrt.outcomes.survival import (
    ConfidenceMethod,
    LogRankResult,
    RmstDifference,
    RmstResult,
    SurvivalAt,
    SurvivalCurve,
    kaplan_meier,
    log_rank_test,
    median_follow_up,
    restricted_mean_survival_time,
    rmst_difference,
)

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "CohortAnalysis",
    "EndpointAnalysis",
    "ReferenceComparison",
    "ReferenceCurve",
    "analyze_cohort",
]


@dataclass(frozen=True, slots=True)
class Benchmark:
    """A published number a local PRRT cohort can be set against."""

    trial: str
    endpoint: str  # "pfs", "os" or "response"
    measure: str  # "median_months", "rate_percent_at_<t>", "orr_percent", "dcr_percent"
    path: str  # dotted path in the trial's later results, or "<result id>:<quantity>"
    ci_path: str | None = None
    ci_level: float = 0.95


#: Benchmarks of the PRRT arm of the reference trials (paths into the evidence base).
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("NETTER-1", "pfs", "rate_percent_at_20", "E2:pfs_rate_month20_percent"),
    Benchmark("NETTER-1", "os", "median_months", "E3:os_median_months"),
    Benchmark("NETTER-1", "response", "orr_percent", "E2:orr_percent"),
    Benchmark(
        "NETTER-2",
        "pfs",
        "median_months",
        "pfs_median_months.experimental",
        "pfs_median_ci95.experimental",
    ),
    Benchmark("NETTER-2", "response", "orr_percent", "orr_percent.experimental"),
    Benchmark("NETTER-2", "response", "dcr_percent", "dcr_percent.experimental"),
    Benchmark("COMPETE", "pfs", "median_months", "pfs_median_months.experimental"),
    Benchmark("COMPETE", "os", "median_months", "os_median_months.experimental"),
    Benchmark("COMPETE", "response", "orr_percent", "orr_percent.experimental"),
    Benchmark(
        "OCCLURANDOM",
        "pfs",
        "rate_percent_at_12",
        "pfs12_rate.experimental.percent",
        "pfs12_rate.experimental.ci90",
        0.90,
    ),
    Benchmark(
        "OCCLURANDOM",
        "pfs",
        "median_months",
        "pfs_median_months.experimental",
        "pfs_median_ci90.experimental",
        0.90,
    ),
)


@dataclass(frozen=True, slots=True)
class ReferenceCurve:
    """A published arm reconstructed from its digitised KM curve, to overlay and compare."""

    endpoint: Endpoint
    ipd: ReconstructedIpd


@dataclass(frozen=True, slots=True)
class ReferenceComparison:
    """A local arm against a reconstructed published arm."""

    label: str
    endpoint: Endpoint
    local_arm: str
    curve: SurvivalCurve
    log_rank: LogRankResult
    cox: CoxResult | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary (HR: local arm vs the published arm)."""
        return {
            "label": self.label,
            "endpoint": self.endpoint.value,
            "local_arm": self.local_arm,
            "reconstructed": self.curve.to_dict(with_curve=False),
            "log_rank": self.log_rank.to_dict(),
            "hazard_ratio_local_vs_published": None
            if self.cox is None
            else self.cox.terms[0].to_dict(),
        }


@dataclass(frozen=True, slots=True)
class EndpointAnalysis:
    """Survival results of one endpoint."""

    endpoint: Endpoint
    curves: tuple[SurvivalCurve, ...]
    overall: SurvivalCurve
    landmarks: tuple[tuple[str, tuple[SurvivalAt | None, ...]], ...]
    landmark_months: tuple[float, ...]
    follow_up: SurvivalCurve
    follow_up_by_arm: tuple[tuple[str, float | None], ...]
    log_rank: LogRankResult | None
    cox: CoxResult | None
    cox_reference_arm: str | None
    rmst: tuple[RmstResult, ...]
    rmst_difference: RmstDifference | None

    def curve(self, arm: str) -> SurvivalCurve:
        """The Kaplan–Meier curve of ``arm``."""
        for c in self.curves:
            if c.label == arm:
                return c
        raise InvalidInputError("arm", arm, "one of " + ", ".join(c.label for c in self.curves))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "endpoint": self.endpoint.value,
            "arms": [c.to_dict() for c in self.curves],
            "overall": self.overall.to_dict(with_curve=False),
            "landmarks": [
                {
                    "arm": arm,
                    "rates": [
                        {"time_months": t, **(r.to_dict() if r else {"survival": None})}
                        for t, r in zip(self.landmark_months, rates, strict=True)
                    ],
                }
                for arm, rates in self.landmarks
            ],
            "median_follow_up_months": self.follow_up.median_months,
            "median_follow_up_ci_months": [
                self.follow_up.median_lower_months,
                self.follow_up.median_upper_months,
            ],
            "median_follow_up_by_arm_months": dict(self.follow_up_by_arm),
            "follow_up_method": "reverse Kaplan-Meier (Schemper & Smith 1996)",
            "log_rank": None if self.log_rank is None else self.log_rank.to_dict(),
            "cox": None if self.cox is None else self.cox.to_dict(),
            "cox_reference_arm": self.cox_reference_arm,
            "rmst": [r.to_dict() for r in self.rmst],
            "rmst_difference": None
            if self.rmst_difference is None
            else self.rmst_difference.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CohortAnalysis:
    """Everything ``prrt cohort analyze`` reports."""

    source: str
    n_patients: int
    arms: tuple[str, ...]
    endpoints: tuple[EndpointAnalysis, ...]
    response: tuple[ResponseRates, ...]
    waterfall: tuple[dict[str, Any], ...]
    swimmer: tuple[dict[str, Any], ...]
    benchmarks: tuple[dict[str, Any], ...]
    references: tuple[ReferenceComparison, ...]
    settings: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    def endpoint(self, endpoint: Endpoint) -> EndpointAnalysis | None:
        """The analysis of ``endpoint`` (``None`` when the cohort has no such data)."""
        return next((e for e in self.endpoints if e.endpoint is endpoint), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (documented in ``docs/outcomes.md``)."""
        return {
            "source": self.source,
            "n_patients": self.n_patients,
            "arms": list(self.arms),
            "settings": self.settings,
            "endpoints": [e.to_dict() for e in self.endpoints],
            "response": [r.to_dict() for r in self.response],
            "waterfall": list(self.waterfall),
            "swimmer": list(self.swimmer),
            "benchmarks": list(self.benchmarks),
            "references": [r.to_dict() for r in self.references],
            "notes": list(self.notes),
        }


def _endpoint(
    cohort: Cohort,
    endpoint: Endpoint,
    *,
    landmarks: tuple[float, ...],
    tau_months: float | None,
    level: float,
    method: ConfidenceMethod,
    reference_arm: str,
    covariates: Sequence[str],
) -> EndpointAnalysis | None:
    t, e, arms = cohort.endpoint_data(endpoint)
    if t.size == 0:
        return None
    names = tuple(a for a in cohort.arms if a in arms)
    curves = []
    for arm in names:
        mask = np.array([a == arm for a in arms])
        curves.append(
            kaplan_meier(t[mask], e[mask], label=arm, confidence_level=level, ci_method=method)
        )
    overall = kaplan_meier(t, e, label="all", confidence_level=level, ci_method=method)
    follow = median_follow_up(t, e, confidence_level=level, ci_method=method)
    follow_arm = []
    for arm in names:
        mask = np.array([a == arm for a in arms])
        follow_arm.append((arm, median_follow_up(t[mask], e[mask]).median_months))
    rank = log_rank_test(t, e, arms) if len(names) > 1 else None
    cox = None
    ref = reference_arm if reference_arm in names else names[0]
    if (len(names) > 1 or covariates) and int(e.sum()) >= 2:
        keep = np.ones(t.size, dtype=bool)
        rows = [p for p in cohort.patients if p.time_months(endpoint) is not None]
        values: dict[str, Any] = {}
        for arm in names:
            if arm != ref:
                values[f"arm[{arm}]"] = np.array([float(a == arm) for a in arms])
        for name in covariates:
            col = np.array(
                [np.nan if p.covariate(name) is None else p.covariate(name) for p in rows],
                dtype=np.float64,
            )
            keep &= np.isfinite(col)
            values[name] = col
        values = {k: v[keep] for k, v in values.items()}
        cox = cox_model(t[keep], e[keep], values, confidence_level=level)
    tau = tau_months if tau_months is not None else min(c.max_time_months for c in curves)
    rmst = tuple(restricted_mean_survival_time(c, tau) for c in curves)
    diff = None
    if len(curves) == 2:
        first = next(c for c in curves if c.label != ref)
        diff = rmst_difference(first, next(c for c in curves if c.label == ref), tau)
    return EndpointAnalysis(
        endpoint=endpoint,
        curves=tuple(curves),
        overall=overall,
        landmarks=tuple((c.label, tuple(c.survival_at(x) for x in landmarks)) for c in curves),
        landmark_months=landmarks,
        follow_up=follow,
        follow_up_by_arm=tuple(follow_arm),
        log_rank=rank,
        cox=cox,
        cox_reference_arm=ref if cox is not None and len(names) > 1 else None,
        rmst=rmst,
        rmst_difference=diff,
    )


def _published(base: EvidenceBase, b: Benchmark) -> tuple[Any, Any, str, tuple[str, ...]]:
    trial = base.trial(b.trial)
    if ":" in b.path:
        rid, quantity = b.path.split(":")
        rec = base.result(rid)
        number = next(n for n in rec.numbers if n.quantity == quantity and n.arm == "experimental")
        ci = list(number.ci95) if number.ci95 else None
        return number.value, ci, rec.source, tuple(rec.flags)
    first = trial.later_results[0]
    leaves = dict(flatten_results(first))
    ci = leaves.get(b.ci_path) if b.ci_path else None
    source = str(first.get("publication") or first.get("status") or trial.source)
    return leaves.get(b.path), ci, source, trial.flags


def _local(
    analysis: Sequence[EndpointAnalysis], rates: Sequence[ResponseRates], b: Benchmark, arm: str
) -> tuple[float | None, list[float | None] | None]:
    if b.endpoint == "response":
        rate = next((r for r in rates if r.label == arm), None)
        est = None if rate is None else (rate.orr if b.measure == "orr_percent" else rate.dcr)
        if est is None:
            return None, None
        return est.percent, [100 * est.lower, 100 * est.upper]
    ep = next((a for a in analysis if a.endpoint.value == b.endpoint), None)
    if ep is None or arm not in {c.label for c in ep.curves}:
        return None, None
    curve = ep.curve(arm)
    if b.measure == "median_months":
        return curve.median_months, [curve.median_lower_months, curve.median_upper_months]
    at = curve.survival_at(float(b.measure.rsplit("_", 1)[1]))
    if at is None:
        return None, None
    return 100 * at.survival, [
        None if at.lower is None else 100 * at.lower,
        None if at.upper is None else 100 * at.upper,
    ]


def _reference(
    ref: ReferenceCurve, cohort: Cohort, arm: str, level: float, method: ConfidenceMethod
) -> ReferenceComparison | None:
    t_loc, e_loc, _ = cohort.endpoint_data(ref.endpoint, arm)
    if t_loc.size == 0:
        return None
    t_ref, e_ref = ref.ipd.arrays()
    t = np.concatenate((t_loc, t_ref))
    e = np.concatenate((e_loc, e_ref))
    groups = [f"local {arm}"] * t_loc.size + [ref.ipd.label] * t_ref.size
    cox = None
    if int(e.sum()) >= 2:
        cox = cox_model(
            t,
            e,
            {"local_vs_published": np.r_[np.ones(t_loc.size), np.zeros(t_ref.size)]},
            confidence_level=level,
            test_proportional_hazards=False,
        )
    curve = kaplan_meier(
        t_ref, e_ref, label=ref.ipd.label, confidence_level=level, ci_method=method
    )
    return ReferenceComparison(
        ref.ipd.label, ref.endpoint, arm, curve, log_rank_test(t, e, groups), cox
    )


def analyze_cohort(
    cohort: Cohort,
    *,
    landmarks_months: Sequence[float] = (12.0, 20.0, 24.0),
    rmst_tau_months: float | None = None,
    confidence_level: float = 0.95,
    ci_method: ConfidenceMethod = ConfidenceMethod.LOG_LOG,
    reference_arm: str | None = None,
    prrt_arm: str | None = None,
    covariates: Sequence[str] = (),
    references: Sequence[ReferenceCurve] = (),
    evidence: EvidenceBase | None = None,
) -> CohortAnalysis:
    """Analyse a cohort (survival, response, benchmarks, published-curve overlays).

    Parameters
    ----------
    landmarks_months
        Landmark times of the survival rates (NETTER-1 reports PFS at month 20).
    rmst_tau_months
        Restriction time of the RMST; by default the shortest of the arms' last
        follow-up times (the largest time all arms are observed to).
    reference_arm
        Arm the Cox hazard ratios are relative to (default: the last arm, e.g. the
        control arm listed after the PRRT arm; the first arm when only one).
    prrt_arm
        Arm compared with the published PRRT arms (default: the first arm).
    covariates
        Numeric covariate columns added to the Cox model.
    references
        Reconstructed published arms to overlay and compare with ``prrt_arm``.

    Raises
    ------
    InvalidInputError
        Unknown arm or covariate, a text covariate, non-positive landmark times.
    """
    arms = cohort.arms
    for name, value in (("reference_arm", reference_arm), ("prrt_arm", prrt_arm)):
        if value is not None and value not in arms:
            raise InvalidInputError(name, value, "one of the arms: " + ", ".join(arms))
    for name in covariates:
        if name not in cohort.numeric_covariates:
            raise InvalidInputError(
                "covariates",
                name,
                "a numeric covariate column: " + (", ".join(cohort.numeric_covariates) or "none"),
            )
    landmarks = tuple(float(x) for x in landmarks_months)
    if any(not math.isfinite(x) or x <= 0 for x in landmarks):
        raise InvalidInputError("landmarks_months", list(landmarks), "landmark times > 0")
    ref = reference_arm or arms[-1]
    prrt = prrt_arm or arms[0]
    base = evidence or load_evidence()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eps = tuple(
            a
            for ep in Endpoint
            if (
                a := _endpoint(
                    cohort,
                    ep,
                    landmarks=landmarks,
                    tau_months=rmst_tau_months,
                    level=confidence_level,
                    method=ci_method,
                    reference_arm=ref,
                    covariates=covariates,
                )
            )
            is not None
        )
        rates = tuple(
            response_rates(
                [p.best_response for p in cohort.patients_of(arm)],
                label=arm,
                confidence_level=confidence_level,
            )
            for arm in arms
        )
        comparisons = tuple(
            c
            for r in references
            if (c := _reference(r, cohort, prrt, confidence_level, ci_method)) is not None
        )
    notes = tuple(dict.fromkeys(str(w.message) for w in caught))
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    bench = []
    for b in BENCHMARKS:
        value, ci, source, flags = _published(base, b)
        local, local_ci = _local(eps, rates, b, prrt)
        bench.append(
            {
                "trial": b.trial,
                "endpoint": b.endpoint,
                "measure": b.measure,
                "published": value,
                "published_ci": ci,
                "published_ci_level": b.ci_level,
                "local_arm": prrt,
                "local": local,
                "local_ci": local_ci,
                "source": source,
                "flags": list(flags),
            }
        )
    with_change = sorted(
        (p for p in cohort.patients if p.best_percent_change is not None),
        key=lambda p: -(p.best_percent_change or 0.0),
    )
    waterfall = [
        {
            "patient_id": p.patient_id,
            "arm": p.arm,
            "best_percent_change": p.best_percent_change,
            "best_response": None if p.best_response is None else p.best_response.value,
        }
        for p in with_change
    ]
    swimmer = tuple(
        {
            "patient_id": p.patient_id,
            "arm": p.arm,
            "follow_up_months": max(
                (x for x in (p.os_months, p.pfs_months) if x is not None), default=None
            ),
            "course_start_months": p.course_start_months,
            "course_end_months": p.course_end_months,
            "retreatment_start_months": p.retreatment_start_months,
            "retreatment_end_months": p.retreatment_end_months,
            "progression_months": p.pfs_months if p.pfs_event else None,
            "death_months": p.os_months if p.os_event else None,
            "ongoing": p.os_event is False,
            "best_response": None if p.best_response is None else p.best_response.value,
        }
        for p in cohort.patients
    )
    return CohortAnalysis(
        source=cohort.source,
        n_patients=len(cohort),
        arms=arms,
        endpoints=eps,
        response=rates,
        waterfall=tuple(waterfall),
        swimmer=swimmer,
        benchmarks=tuple(bench),
        references=comparisons,
        settings={
            "landmarks_months": list(landmarks),
            "rmst_tau_months": rmst_tau_months,
            "confidence_level": confidence_level,
            "ci_method": ci_method.value,
            "reference_arm": ref,
            "prrt_arm": prrt,
            "covariates": list(covariates),
            "time_unit": "months (365.25/12 days)",
            "evidence_version": base.version,
        },
        notes=notes,
    )
