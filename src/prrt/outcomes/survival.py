"""Survival analysis of a cohort: Kaplan–Meier, median follow-up, RMST, log-rank and Cox models.

A thin layer over lifelines that returns frozen result objects (as lifelines'
``statistics.logrank_test`` returns a ``StatisticalResult``) with times in months.

* :func:`kaplan_meier` — product-limit estimate (lifelines ``KaplanMeierFitter``) with
  Greenwood pointwise confidence intervals on a chosen scale: ``log-log`` (lifelines,
  SAS and Stata default; Kalbfleisch & Prentice 1980), ``log`` (R ``survfit`` default)
  or ``plain``.  The median and its confidence interval follow R ``survival``: the
  median is the first time the curve is at or below 0.5 (the midpoint of a flat
  segment lying exactly at 0.5), and its limits are the same quantile of the
  confidence bands (Brookmeyer & Crowley 1982).
* :func:`median_follow_up` — reverse Kaplan–Meier (Schemper & Smith, Control Clin
  Trials 1996;17:343), deaths censored and censorings counted as events.
* :func:`restricted_mean_survival_time` — area under the curve up to τ with the
  Klein & Moeschberger (2003, §4.5) variance; :func:`rmst_difference` between arms.
* :func:`log_rank_test` — k-group log-rank test (Mantel 1966; lifelines
  ``multivariate_logrank_test``) with observed and expected events per group as in R
  ``survdiff``.

Cox models are in :mod:`prrt.outcomes.cox`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from scipy import stats

from prrt._typing import ArrayLike, FloatArray
from prrt.errors import InvalidInputError

__all__ = [
    "ConfidenceMethod",
    "LogRankResult",
    "RmstDifference",
    "RmstResult",
    "SurvivalAt",
    "SurvivalCurve",
    "kaplan_meier",
    "log_rank_test",
    "median_follow_up",
    "restricted_mean_survival_time",
    "rmst_difference",
]

_TOL = 1e-9


class ConfidenceMethod(str, Enum):
    """Scale of the pointwise Greenwood confidence interval of a Kaplan–Meier curve."""

    LOG_LOG = "log-log"
    LOG = "log"
    PLAIN = "plain"


def _inputs(time_months: ArrayLike, event: ArrayLike) -> tuple[FloatArray, FloatArray]:
    t = np.asarray(time_months, dtype=np.float64).ravel()
    e = np.asarray(event, dtype=np.float64).ravel()
    if t.size == 0:
        raise InvalidInputError("time_months", "no observations", "at least one survival time")
    if t.shape != e.shape:
        raise InvalidInputError("event", e.size, f"{t.size} event indicators, one per time")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        bad = int(np.flatnonzero(~np.isfinite(t) | (t < 0))[0])
        raise InvalidInputError(f"time_months[{bad}]", float(t[bad]), "a finite time >= 0")
    if not np.all(np.isin(e, (0.0, 1.0))):
        bad = int(np.flatnonzero(~np.isin(e, (0.0, 1.0)))[0])
        raise InvalidInputError(f"event[{bad}]", float(e[bad]), "0 (censored) or 1 (event)")
    return t, e


def _z(confidence_level: float) -> float:
    if not 0.0 < confidence_level < 1.0:
        raise InvalidInputError("confidence_level", confidence_level, "a level between 0 and 1")
    return float(stats.norm.isf((1.0 - confidence_level) / 2.0))


def _bands(
    s: FloatArray, greenwood: FloatArray, z: float, method: ConfidenceMethod
) -> tuple[FloatArray, FloatArray]:
    """Greenwood pointwise limits (Kalbfleisch & Prentice 1980, eqs. 1.18-1.20)."""
    lower = np.full_like(s, np.nan)
    upper = np.full_like(s, np.nan)
    se = np.sqrt(greenwood)
    one = s >= 1.0 - _TOL
    lower[one] = upper[one] = 1.0
    inner = (~one) & (s > 0.0) & np.isfinite(se)
    si, sei = s[inner], se[inner]
    if method is ConfidenceMethod.LOG_LOG:
        theta = np.log(-np.log(si))
        width = z * sei / np.abs(np.log(si))
        lower[inner] = np.exp(-np.exp(theta + width))
        upper[inner] = np.exp(-np.exp(theta - width))
    elif method is ConfidenceMethod.LOG:
        lower[inner] = si * np.exp(-z * sei)
        upper[inner] = np.minimum(1.0, si * np.exp(z * sei))
    else:
        lower[inner] = np.maximum(0.0, si - z * si * sei)
        upper[inner] = np.minimum(1.0, si + z * si * sei)
    return lower, upper


def _quantile_time(times: FloatArray, curve: FloatArray, level: float) -> float | None:
    """First time the step curve is <= ``level``; midpoint of a flat segment exactly at it (R)."""
    valid = np.isfinite(curve)
    hits = np.flatnonzero(valid & (curve <= level + _TOL))
    if hits.size == 0:
        return None
    k = int(hits[0])
    if abs(curve[k] - level) <= _TOL:
        later = np.flatnonzero(valid[k + 1 :] & (curve[k + 1 :] < curve[k] - _TOL))
        if later.size:
            return float((times[k] + times[k + 1 + int(later[0])]) / 2.0)
    return float(times[k])


@dataclass(frozen=True, slots=True)
class SurvivalAt:
    """Survival probability at one time with its pointwise confidence interval."""

    time_months: float
    survival: float
    lower: float | None
    upper: float | None
    at_risk: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "time_months": self.time_months,
            "survival": self.survival,
            "lower": self.lower,
            "upper": self.upper,
            "at_risk": self.at_risk,
        }


@dataclass(frozen=True, slots=True)
class SurvivalCurve:
    """A Kaplan–Meier estimate: step curve, confidence band, median and numbers at risk.

    ``time_months[0]`` is 0 with survival 1; each later entry is a distinct observed
    time, with ``at_risk`` just before it and the events and censorings at it.
    """

    label: str
    n: int
    events: int
    confidence_level: float
    ci_method: ConfidenceMethod
    time_months: tuple[float, ...]
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    at_risk: tuple[int, ...]
    observed: tuple[int, ...]
    censored: tuple[int, ...]
    median_months: float | None
    median_lower_months: float | None
    median_upper_months: float | None
    durations_months: tuple[float, ...]

    @property
    def max_time_months(self) -> float:
        """Longest observed time (event or censoring)."""
        return self.time_months[-1]

    def number_at_risk(self, time_months: float) -> int:
        """Patients still under observation at ``time_months`` (time >= t)."""
        return int(np.sum(np.asarray(self.durations_months) >= time_months))

    def survival_at(self, time_months: float) -> SurvivalAt | None:
        """Survival at a landmark time; ``None`` beyond the last observation (not estimable)."""
        if time_months < 0:
            raise InvalidInputError("time_months", time_months, "a landmark time >= 0")
        times = np.asarray(self.time_months)
        k = int(np.searchsorted(times, time_months, side="right") - 1)
        if time_months > times[-1] + _TOL and self.survival[-1] > 0.0:
            return None
        lo, hi = self.lower[k], self.upper[k]
        return SurvivalAt(
            time_months=float(time_months),
            survival=self.survival[k],
            lower=None if math.isnan(lo) else lo,
            upper=None if math.isnan(hi) else hi,
            at_risk=self.number_at_risk(time_months),
        )

    def to_dict(self, *, with_curve: bool = True) -> dict[str, Any]:
        """JSON-serialisable summary (and the step curve when ``with_curve``)."""
        out: dict[str, Any] = {
            "label": self.label,
            "n": self.n,
            "events": self.events,
            "median_months": self.median_months,
            "median_ci_months": [self.median_lower_months, self.median_upper_months],
            "confidence_level": self.confidence_level,
            "ci_method": self.ci_method.value,
        }
        if with_curve:

            def clean(values: Sequence[float]) -> list[float | None]:
                return [None if math.isnan(v) else v for v in values]

            out["curve"] = {
                "time_months": list(self.time_months),
                "survival": list(self.survival),
                "lower": clean(self.lower),
                "upper": clean(self.upper),
                "at_risk": list(self.at_risk),
                "observed": list(self.observed),
                "censored": list(self.censored),
            }
        return out


def kaplan_meier(
    time_months: ArrayLike,
    event: ArrayLike,
    *,
    label: str = "all",
    confidence_level: float = 0.95,
    ci_method: ConfidenceMethod = ConfidenceMethod.LOG_LOG,
) -> SurvivalCurve:
    """Kaplan–Meier estimate with Greenwood confidence intervals.

    Parameters
    ----------
    time_months
        Follow-up times (any consistent unit; months in prrt).
    event
        1 = event, 0 = censored.
    label
        Name of the group.
    confidence_level
        Level of the pointwise intervals and of the median's interval.
    ci_method
        Scale of the Greenwood interval; R ``survfit`` uses ``LOG`` by default,
        lifelines ``LOG_LOG``.

    Raises
    ------
    InvalidInputError
        Negative or non-finite times, events other than 0/1, lengths that differ.

    References
    ----------
    Kaplan EL, Meier P. J Am Stat Assoc 1958;53:457-81. doi:10.1080/01621459.1958.10501452.
    Brookmeyer R, Crowley J. Biometrics 1982;38:29-41. doi:10.2307/2530286.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 3, 4], [1, 1, 0, 1])
    >>> [round(s, 12) for s in km.survival], km.median_months
    ([1.0, 0.75, 0.5, 0.5, 0.0], 3.0)
    """
    t, e = _inputs(time_months, event)
    z = _z(confidence_level)
    fitter = KaplanMeierFitter().fit(t, e)
    table = fitter.event_table
    times = np.asarray(table.index, dtype=np.float64)
    at_risk = np.asarray(table["at_risk"], dtype=np.int64)
    observed = np.asarray(table["observed"], dtype=np.int64)
    censored = np.asarray(table["censored"], dtype=np.int64)
    survival = np.asarray(fitter.survival_function_.iloc[:, 0], dtype=np.float64)
    if times[0] > 0.0:
        times = np.concatenate(([0.0], times))
        at_risk = np.concatenate(([t.size], at_risk))
        observed = np.concatenate(([0], observed))
        censored = np.concatenate(([0], censored))
        survival = np.concatenate(([1.0], survival))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(
            observed > 0, observed / (at_risk * (at_risk - observed).astype(np.float64)), 0.0
        )
    greenwood = np.cumsum(terms)
    lower, upper = _bands(survival, greenwood, z, ci_method)
    return SurvivalCurve(
        label=label,
        n=int(t.size),
        events=int(e.sum()),
        confidence_level=confidence_level,
        ci_method=ci_method,
        time_months=tuple(float(x) for x in times),
        survival=tuple(float(x) for x in survival),
        lower=tuple(float(x) for x in lower),
        upper=tuple(float(x) for x in upper),
        at_risk=tuple(int(x) for x in at_risk),
        observed=tuple(int(x) for x in observed),
        censored=tuple(int(x) for x in censored),
        median_months=_quantile_time(times, survival, 0.5),
        median_lower_months=_quantile_time(times, lower, 0.5),
        median_upper_months=_quantile_time(times, upper, 0.5),
        durations_months=tuple(float(x) for x in np.sort(t)),
    )


def median_follow_up(
    time_months: ArrayLike,
    event: ArrayLike,
    *,
    confidence_level: float = 0.95,
    ci_method: ConfidenceMethod = ConfidenceMethod.LOG_LOG,
) -> SurvivalCurve:
    """Median follow-up by the reverse Kaplan–Meier method (censorings are the "events").

    Returns the reverse curve; its ``median_months`` is the median potential follow-up.

    References
    ----------
    Schemper M, Smith TL. Control Clin Trials 1996;17:343-6. doi:10.1016/0197-2456(96)00075-x.

    Examples
    --------
    >>> median_follow_up([2, 4, 6, 8], [1, 0, 0, 1]).median_months
    6.0
    """
    t, e = _inputs(time_months, event)
    return kaplan_meier(
        t,
        1.0 - e,
        label="reverse Kaplan-Meier",
        confidence_level=confidence_level,
        ci_method=ci_method,
    )


@dataclass(frozen=True, slots=True)
class RmstResult:
    """Restricted mean survival time up to ``tau_months``."""

    label: str
    tau_months: float
    rmst_months: float
    se_months: float
    lower_months: float
    upper_months: float
    confidence_level: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "label": self.label,
            "tau_months": self.tau_months,
            "rmst_months": self.rmst_months,
            "se_months": self.se_months,
            "ci_months": [self.lower_months, self.upper_months],
        }


def restricted_mean_survival_time(
    curve: SurvivalCurve, tau_months: float, *, confidence_level: float | None = None
) -> RmstResult:
    """Area under a Kaplan–Meier curve from 0 to τ, with its standard error.

    Var = Σ_{t_j ≤ τ} A_j² d_j / (n_j (n_j − d_j)), A_j = ∫_{t_j}^{τ} S(u) du
    (Klein JP, Moeschberger ML. Survival Analysis, 2nd ed. 2003, eq. 4.5.2).

    Raises
    ------
    InvalidInputError
        τ is not positive or lies beyond the last observation of a curve that has not
        reached 0 (the area would be extrapolated).

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 3], [1, 1, 1])
    >>> round(restricted_mean_survival_time(km, 3.0).rmst_months, 12)
    2.0
    """
    if not tau_months > 0 or not math.isfinite(tau_months):
        raise InvalidInputError("tau_months", tau_months, "a restriction time > 0")
    if tau_months > curve.max_time_months + _TOL and curve.survival[-1] > 0.0:
        raise InvalidInputError(
            "tau_months",
            tau_months,
            f"at most the last observed time of {curve.label!r} ({curve.max_time_months:.4g} months)",
            hint="beyond the last observation the curve, and its area, are not estimable",
        )
    level = curve.confidence_level if confidence_level is None else confidence_level
    z = _z(level)
    times = np.asarray(curve.time_months)
    surv = np.asarray(curve.survival)
    grid = np.append(times[times < tau_months], tau_months)
    widths = np.diff(grid)
    areas = surv[: widths.size] * widths  # S is constant on [t_k, t_{k+1})
    rmst = float(areas.sum())
    tail = np.cumsum(areas[::-1])[::-1]  # A_k = ∫_{t_k}^{τ} S
    variance = 0.0
    for k in range(1, widths.size):
        d, n = curve.observed[k], curve.at_risk[k]
        if d > 0 and n > d:
            variance += tail[k] ** 2 * d / (n * (n - d))
    se = math.sqrt(variance)
    return RmstResult(
        label=curve.label,
        tau_months=float(tau_months),
        rmst_months=rmst,
        se_months=se,
        lower_months=rmst - z * se,
        upper_months=rmst + z * se,
        confidence_level=level,
    )


@dataclass(frozen=True, slots=True)
class RmstDifference:
    """Difference of restricted mean survival times between two arms (first minus second)."""

    first: RmstResult
    second: RmstResult
    difference_months: float
    lower_months: float
    upper_months: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "first": self.first.to_dict(),
            "second": self.second.to_dict(),
            "difference_months": self.difference_months,
            "ci_months": [self.lower_months, self.upper_months],
            "p_value": self.p_value,
        }


def rmst_difference(
    first: SurvivalCurve, second: SurvivalCurve, tau_months: float
) -> RmstDifference:
    """RMST difference with a normal-approximation interval (independent arms).

    Examples
    --------
    >>> a = kaplan_meier([2, 4, 6], [1, 1, 1]); b = kaplan_meier([1, 2, 3], [1, 1, 1])
    >>> round(rmst_difference(a, b, 3.0).difference_months, 12)
    0.666666666667
    """
    r1 = restricted_mean_survival_time(first, tau_months)
    r2 = restricted_mean_survival_time(second, tau_months)
    z = _z(first.confidence_level)
    diff = r1.rmst_months - r2.rmst_months
    se = math.hypot(r1.se_months, r2.se_months)
    p = float(2.0 * stats.norm.sf(abs(diff) / se)) if se > 0 else float("nan")
    return RmstDifference(r1, r2, diff, diff - z * se, diff + z * se, p)


@dataclass(frozen=True, slots=True)
class LogRankResult:
    """k-group log-rank test, with observed and expected events per group (R ``survdiff``)."""

    groups: tuple[str, ...]
    n: tuple[int, ...]
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    chi2: float
    df: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "groups": [
                {"group": g, "n": n, "observed": o, "expected": e}
                for g, n, o, e in zip(
                    self.groups, self.n, self.observed, self.expected, strict=True
                )
            ],
            "chi2": self.chi2,
            "df": self.df,
            "p_value": self.p_value,
        }


def log_rank_test(time_months: ArrayLike, event: ArrayLike, group: Sequence[str]) -> LogRankResult:
    """Log-rank test of equal survival across groups.

    Expected events per group are Σ_j d_j n_gj / n_j over the distinct event times
    (Mantel 1966); the statistic is lifelines' ``multivariate_logrank_test``.

    Raises
    ------
    InvalidInputError
        Fewer than two groups, or lengths that differ.
    """
    t, e = _inputs(time_months, event)
    labels = [str(g) for g in group]
    if len(labels) != t.size:
        raise InvalidInputError("group", len(labels), f"{t.size} group labels, one per time")
    names = tuple(dict.fromkeys(labels))
    if len(names) < 2:
        raise InvalidInputError("group", list(names), "at least two groups to compare")
    codes = np.array([names.index(x) for x in labels])
    event_times = np.unique(t[e == 1.0])
    expected = np.zeros(len(names))
    for tj in event_times:
        risk = t >= tj
        d = float(np.sum((t == tj) & (e == 1.0)))
        n_risk = float(np.sum(risk))
        for g in range(len(names)):
            expected[g] += d * np.sum(risk & (codes == g)) / n_risk
    result = multivariate_logrank_test(t, np.array(labels), e)
    return LogRankResult(
        groups=names,
        n=tuple(int(np.sum(codes == g)) for g in range(len(names))),
        observed=tuple(int(np.sum(e[codes == g])) for g in range(len(names))),
        expected=tuple(float(x) for x in expected),
        chi2=float(result.test_statistic),
        df=len(names) - 1,
        p_value=float(result.p_value),
    )
