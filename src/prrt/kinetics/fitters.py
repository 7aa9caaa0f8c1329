"""Time-activity-curve fitters (lifelines-style family) and model selection by AICc.

Models (dosimetry-reference.md §4.1; every effective rate k ≥ λ_phys unless
``allow_net_uptake=True``):

=========================== ======================================================= ==========
class                        A(t)                                                    Ã
=========================== ======================================================= ==========
MonoExponentialFitter        a0·e^(−k t)                                             a0/k
MonoExponentialUptakeFitter  a·(e^(−k_w t) − e^(−k_u t)), k_u ≥ k_w                  a(1/k_w − 1/k_u)
BiExponentialFitter          a1·e^(−k1 t) + a2·e^(−k2 t), k2 ≥ k1 (term 1 slower)    a1/k1 + a2/k2
TriExponentialFitter         a1·e^(−k1 t) + a2·e^(−k2 t) − (a1+a2)·e^(−k_u t),       Σ a/k
                             k1 ≤ k2 ≤ k_u (uptake + two clearances, A(0) = 0)
TrapezoidFitter              measured points joined linearly + physical/fitted tail  see module
=========================== ======================================================= ==========

:func:`fit_best` fits the candidates and selects by AICc with the preference
rules of §4.2; :func:`fit_many_biexponential` is the vectorised path for many
curves sharing their time points.

Examples
--------
>>> import numpy as np
>>> from prrt.kinetics.tac import TimeActivityCurve
>>> h = 3600.0
>>> t = np.array([4, 24, 96, 168]) * h
>>> tac = TimeActivityCurve(times_s=t, activities_bq=100e6 * np.exp(-np.log(2) / (50 * h) * t))
>>> fit = MonoExponentialFitter().fit(tac)
>>> round(float(fit.time_integrated_activity_bq_s / (100e6 * 50 * h / np.log(2))), 9)
1.0
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from prrt._typing import FloatArray
from prrt.errors import FitError, InvalidInputError
from prrt.kinetics._fitter_base import TacFitter
from prrt.kinetics.batch import BatchTacFit, fit_many_biexponential
from prrt.kinetics.fit import TacFit
from prrt.kinetics.tac import TimeActivityCurve
from prrt.kinetics.trapezoid import TrapezoidFitter

__all__ = [
    "BatchTacFit",
    "BiExponentialFitter",
    "MonoExponentialFitter",
    "MonoExponentialUptakeFitter",
    "TacFitter",
    "TrapezoidFitter",
    "TriExponentialFitter",
    "default_candidates",
    "fit_best",
    "fit_many_biexponential",
]


def _loglinear(t: FloatArray, y: FloatArray, rate_min: float) -> tuple[float, float] | None:
    """Fit ln y = ln a − k t over the positive points; return (a, k) with k ≥ rate_min."""
    keep = y > 0
    if np.count_nonzero(keep) < 2:
        return None
    slope, intercept = np.polyfit(t[keep], np.log(y[keep]), 1)
    rate = max(-float(slope), rate_min * 1.05)
    # Refit the amplitude with the clamped rate (least squares in linear space).
    e = np.exp(-rate * t[keep])
    amplitude = float(np.sum(y[keep] * e) / np.sum(e * e))
    if not (math.isfinite(amplitude) and amplitude > 0):
        amplitude = math.exp(float(intercept))
    return amplitude, rate


def _tail(t: FloatArray, y: FloatArray, rate_min: float, n_last: int) -> tuple[float, float]:
    start = max(len(t) - n_last, 0)
    peeled = _loglinear(t[start:], y[start:], rate_min)
    if peeled is None:
        peeled = _loglinear(t, y, rate_min)
    if peeled is None:
        i = int(np.argmax(y))
        rate = 2.0 * rate_min
        return float(y[i]) * math.exp(rate * float(t[i])), rate
    return peeled


class MonoExponentialFitter(TacFitter):
    """A(t) = a0·exp(−k t); Ã = a0/k (dosimetry-reference.md §4.1).

    Examples
    --------
    >>> import numpy as np
    >>> from prrt.kinetics.tac import TimeActivityCurve
    >>> tac = TimeActivityCurve(times_s=[0.0, 6 * 3600.0], activities_bq=[100.0, 1.5625])
    >>> fit = MonoExponentialFitter().fit(tac)  # half-life 1 h: Ã = 100 Bq · 3600 s / ln 2
    >>> round(fit.parameter_dict["a0_bq"], 6), round(fit.time_integrated_activity_bq_s, 1)
    (100.0, 519370.2)
    """

    model_name = "mono_exponential"
    parameter_names = ("a0_bq", "k_per_s")
    internal_kinds = ("amplitude", "rate")
    internal_to_reported = ((1.0, 0.0), (0.0, 1.0))

    def curve(self, p: FloatArray, t: FloatArray) -> FloatArray:
        return np.asarray(p[0] * np.exp(-p[1] * t), dtype=np.float64)

    def curve_jacobian(self, p: FloatArray, t: FloatArray) -> FloatArray:
        e = np.exp(-p[1] * t)
        return np.column_stack((e, -p[0] * t * e))

    def tia(self, p: FloatArray) -> float:
        return float(p[0] / p[1])

    def tia_gradient(self, p: FloatArray) -> FloatArray:
        return np.array([1.0 / p[1], -p[0] / p[1] ** 2])

    def starting_points(self, t: FloatArray, y: FloatArray, rate_min: float) -> list[FloatArray]:
        starts = []
        for n_last in (len(t), 2):
            a, k = _tail(t, y, rate_min, n_last)
            starts.append(np.array([a, k]))
        return starts


class MonoExponentialUptakeFitter(TacFitter):
    """A(t) = a·[exp(−k_w t) − exp(−k_u t)] (uptake k_u, washout k_w); Ã = a(1/k_w − 1/k_u).

    "Mono with uptake" of dosimetry-reference.md §4.1; internally k_u = k_w + δ
    with δ ≥ 0 so the uptake is never slower than the washout.
    """

    model_name = "mono_exponential_uptake"
    parameter_names = ("a_bq", "k_washout_per_s", "k_uptake_per_s")
    internal_kinds = ("amplitude", "rate", "rate_step")
    internal_to_reported = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 1.0, 1.0))

    def curve(self, p: FloatArray, t: FloatArray) -> FloatArray:
        return np.asarray(p[0] * (np.exp(-p[1] * t) - np.exp(-p[2] * t)), dtype=np.float64)

    def curve_jacobian(self, p: FloatArray, t: FloatArray) -> FloatArray:
        ew, eu = np.exp(-p[1] * t), np.exp(-p[2] * t)
        return np.column_stack((ew - eu, -p[0] * t * ew, p[0] * t * eu))

    def tia(self, p: FloatArray) -> float:
        return float(p[0] * (1.0 / p[1] - 1.0 / p[2]))

    def tia_gradient(self, p: FloatArray) -> FloatArray:
        return np.array([1.0 / p[1] - 1.0 / p[2], -p[0] / p[1] ** 2, p[0] / p[2] ** 2])

    def starting_points(self, t: FloatArray, y: FloatArray, rate_min: float) -> list[FloatArray]:
        a, kw = _tail(t, y, rate_min, max(2, len(t) // 2))
        uptakes = [kw * f for f in (3.0, 10.0, 30.0, 100.0)]
        first = float(a * math.exp(-kw * t[0]) - y[0])
        if t[0] > 0 and first > 0:
            uptakes.insert(0, kw - math.log(first / a) / float(t[0]))
        return [np.array([a, kw, max(ku, kw * 1.01)]) for ku in uptakes]


class BiExponentialFitter(TacFitter):
    """A(t) = a1·exp(−k1 t) + a2·exp(−k2 t), two clearance phases; Ã = a1/k1 + a2/k2.

    "Bi-exponential clearance" of dosimetry-reference.md §4.1.  Term 1 is the
    slower phase (k1 ≤ k2, internally k2 = k1 + δ), so labels never swap.
    """

    model_name = "bi_exponential"
    parameter_names = ("a1_bq", "k1_per_s", "a2_bq", "k2_per_s")
    internal_kinds = ("amplitude", "rate", "amplitude", "rate_step")
    internal_to_reported = (
        (1.0, 0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0, 0.0),
        (0.0, 0.0, 1.0, 0.0),
        (0.0, 1.0, 0.0, 1.0),
    )

    def curve(self, p: FloatArray, t: FloatArray) -> FloatArray:
        return np.asarray(p[0] * np.exp(-p[1] * t) + p[2] * np.exp(-p[3] * t), dtype=np.float64)

    def curve_jacobian(self, p: FloatArray, t: FloatArray) -> FloatArray:
        e1, e2 = np.exp(-p[1] * t), np.exp(-p[3] * t)
        return np.column_stack((e1, -p[0] * t * e1, e2, -p[2] * t * e2))

    def tia(self, p: FloatArray) -> float:
        return float(p[0] / p[1] + p[2] / p[3])

    def tia_gradient(self, p: FloatArray) -> FloatArray:
        return np.array([1.0 / p[1], -p[0] / p[1] ** 2, 1.0 / p[3], -p[2] / p[3] ** 2])

    def starting_points(self, t: FloatArray, y: FloatArray, rate_min: float) -> list[FloatArray]:
        return [np.asarray(s[:4]) for s in _bi_peel(t, y, rate_min)]


def _bi_peel(t: FloatArray, y: FloatArray, rate_min: float) -> list[FloatArray]:
    """Curve peeling: slow phase from the last two points, fast phase from the residual."""
    a1, k1 = _tail(t, y, rate_min, 2)
    early = slice(0, max(len(t) - 2, 1))
    residual = y[early] - a1 * np.exp(-k1 * t[early])
    starts: list[FloatArray] = []
    peeled = _loglinear(t[early], residual, k1)
    if peeled is not None and peeled[1] > k1 * 1.05:
        starts.append(np.array([a1, k1, peeled[0], peeled[1]]))
    r0 = float(max(residual[0], 0.05 * y[0]))
    for factor in (5.0, 20.0):
        k2 = k1 * factor
        starts.append(np.array([a1, k1, r0 * math.exp(k2 * float(t[0])), k2]))
    return starts


class TriExponentialFitter(TacFitter):
    """Uptake and two clearances: A(t) = a1·e^(−k1 t) + a2·e^(−k2 t) − (a1+a2)·e^(−k_u t).

    The uptake term makes A(0) = 0 (Σ amplitudes = 0, dosimetry-reference.md
    §4.1, as the VRAK/Jackson tri-exponential); internally k1 ≤ k2 ≤ k_u.
    Needs at least 5 points to fit and 7 for AICc model selection.
    """

    model_name = "tri_exponential"
    parameter_names = ("a1_bq", "k1_per_s", "a2_bq", "k2_per_s", "k_uptake_per_s")
    internal_kinds = ("amplitude", "rate", "amplitude", "rate_step", "rate_step")
    internal_to_reported = (
        (1.0, 0.0, 0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0, 0.0, 0.0),
        (0.0, 0.0, 1.0, 0.0, 0.0),
        (0.0, 1.0, 0.0, 1.0, 0.0),
        (0.0, 1.0, 0.0, 1.0, 1.0),
    )

    def curve(self, p: FloatArray, t: FloatArray) -> FloatArray:
        return np.asarray(
            p[0] * np.exp(-p[1] * t) + p[2] * np.exp(-p[3] * t) - (p[0] + p[2]) * np.exp(-p[4] * t),
            dtype=np.float64,
        )

    def curve_jacobian(self, p: FloatArray, t: FloatArray) -> FloatArray:
        e1, e2, eu = np.exp(-p[1] * t), np.exp(-p[3] * t), np.exp(-p[4] * t)
        return np.column_stack(
            (e1 - eu, -p[0] * t * e1, e2 - eu, -p[2] * t * e2, (p[0] + p[2]) * t * eu)
        )

    def tia(self, p: FloatArray) -> float:
        return float(p[0] / p[1] + p[2] / p[3] - (p[0] + p[2]) / p[4])

    def tia_gradient(self, p: FloatArray) -> FloatArray:
        return np.array(
            [
                1.0 / p[1] - 1.0 / p[4],
                -p[0] / p[1] ** 2,
                1.0 / p[3] - 1.0 / p[4],
                -p[2] / p[3] ** 2,
                (p[0] + p[2]) / p[4] ** 2,
            ]
        )

    def starting_points(self, t: FloatArray, y: FloatArray, rate_min: float) -> list[FloatArray]:
        starts = []
        for bi in _bi_peel(t, y, rate_min):
            for factor in (3.0, 10.0, 30.0):
                starts.append(np.array([bi[0], bi[1], bi[2], bi[3], bi[3] * factor]))
        return starts


def default_candidates() -> tuple[TacFitter, ...]:
    """Return the default candidate models of :func:`fit_best`, simplest first."""
    return (
        MonoExponentialFitter(),
        MonoExponentialUptakeFitter(),
        BiExponentialFitter(),
        TriExponentialFitter(),
    )


#: Models within this AICc distance of the best one count as equally supported (§4.2).
DELTA_AICC_PREFER_SIMPLER = 2.0
#: With N ≤ this many points at most two parameters are identifiable (EANM/MIRD, §4.2).
FEW_POINTS = 4


def fit_best(tac: TimeActivityCurve, *, candidates: Sequence[TacFitter] | None = None) -> TacFit:
    """Fit candidate models and select one by AICc with the preference rules of §4.2.

    Rules (dosimetry-reference.md §4.2: Glatting et al., Med Phys 2007;
    Kletting et al., Med Phys 2013; EANM 2022; PyTheranostics' selection):

    1. A candidate competes only if its fit converged, it has K ≤ N parameters,
       and K ≤ 2 when N ≤ 4 ("with N = 3–4 points at most 2 parameters are
       identifiable").
    2. Among competitors with a defined AICc (N − K − 1 > 0) the lowest AICc
       wins, but the model with the fewest parameters whose AICc is within
       2 of the lowest is preferred ("fit the simplest model the data support").
    3. If no competitor has a defined AICc (e.g. N = 2 or 3), the simplest
       converged competitor is returned.

    Candidate fits' warnings are re-issued only for the selected fit.  Every
    candidate's AICc is recorded in ``TacFit.candidates_aicc``.

    Raises
    ------
    InvalidInputError
        If the curve has fewer than 2 points (use :mod:`prrt.kinetics.stp`).
    FitError
        If no candidate converged.

    Examples
    --------
    >>> import numpy as np
    >>> h = 3600.0
    >>> t = np.array([1, 4, 24, 48, 96, 168]) * h
    >>> a = 100e6 * (np.exp(-0.012 * t / h) - np.exp(-0.5 * t / h))
    >>> fit_best(TimeActivityCurve(times_s=t, activities_bq=a)).model_name
    'mono_exponential_uptake'
    """
    if not isinstance(tac, TimeActivityCurve):
        raise InvalidInputError("tac", tac, "a TimeActivityCurve")
    if tac.n_points < 2:
        raise InvalidInputError(
            "tac.times_s",
            f"{tac.n_points} time point",
            "at least 2 time points for a fitted model",
            hint="use prrt.kinetics.stp.hanscheid_tia or madsen_tia for a single time point",
        )
    fitters = tuple(candidates) if candidates is not None else default_candidates()
    if not fitters:
        raise InvalidInputError("candidates", [], "at least one TacFitter")
    n = tac.n_points
    results: list[tuple[TacFitter, TacFit | None, list[warnings.WarningMessage]]] = []
    for fitter in fitters:
        if not isinstance(fitter, TacFitter):
            raise InvalidInputError("candidates", fitter, "TacFitter instances")
        k = fitter.n_parameters
        if k > n or (n <= FEW_POINTS and k > 2):
            results.append((fitter, None, []))
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = fitter.fit(tac)
            except FitError:
                fit = None
        results.append((fitter, fit, list(caught)))
    competing = [(f, fit, w) for f, fit, w in results if fit is not None and fit.converged]
    if not competing:
        raise FitError(
            f"no candidate model converged for region {tac.region or '-'} "
            f"({n} points); inspect the curve or fit a model explicitly"
        )
    with_aicc = [(f, fit, w) for f, fit, w in competing if fit.aicc is not None]
    if with_aicc:
        best_aicc = min(float(fit.aicc) for _, fit, _ in with_aicc if fit.aicc is not None)
        near = [
            item
            for item in with_aicc
            if item[1].aicc is not None and item[1].aicc <= best_aicc + DELTA_AICC_PREFER_SIMPLER
        ]
        chosen = min(near, key=lambda item: (item[0].n_parameters, item[1].aicc or 0.0))
    else:
        chosen = min(competing, key=lambda item: item[0].n_parameters)
    table = tuple(
        (
            f.model_name,
            float(fit.aicc)
            if fit is not None and fit.converged and fit.aicc is not None
            else math.nan,
        )
        for f, fit, _ in results
    )
    _, selected, caught = chosen
    for message in caught:
        warnings.warn_explicit(message.message, message.category, message.filename, message.lineno)
    return replace(selected, candidates_aicc=table)
