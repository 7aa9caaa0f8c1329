"""Frozen results of time-activity-curve fits (:class:`TacFit`) and their summary table.

A :class:`TacFit` is returned by every fitter of :mod:`prrt.kinetics.fitters`
and by the single-time-point methods of :mod:`prrt.kinetics.stp`; it never
refers back to the fitter, so it can be cached, stored and compared.  The
time-integrated activity (TIA, MIRD Pamphlet 21: Ã = ∫₀^∞ A(t) dt) and its
standard uncertainty are computed at fit time; the uncertainty follows the law
of propagation of uncertainty with the fit covariance (EANM uncertainty
guidance, Gear et al., EJNMMI 2018;45:2456, doi 10.1007/s00259-018-4136-7;
dosimetry-reference.md §4.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from prrt._typing import FloatArray
from prrt.errors import FitError, InvalidInputError
from prrt.provenance import Step

__all__ = ["FitSummary", "ParameterEstimate", "TacFit", "exponential_terms_of"]

#: Two-sided 95 % quantile of the standard normal distribution (Wald intervals).
Z_95 = 1.959963984540054

Terms = tuple[tuple[float, float], ...]


def _mono(p: FloatArray) -> Terms:
    return ((float(p[0]), float(p[1])),)


def _mono_uptake(p: FloatArray) -> Terms:
    return ((float(p[0]), float(p[1])), (-float(p[0]), float(p[2])))


def _bi(p: FloatArray) -> Terms:
    return ((float(p[0]), float(p[1])), (float(p[2]), float(p[3])))


def _tri(p: FloatArray) -> Terms:
    return (
        (float(p[0]), float(p[1])),
        (float(p[2]), float(p[3])),
        (-float(p[0]) - float(p[2]), float(p[4])),
    )


#: Model name -> function giving ((amplitude_bq, rate_per_s), ...) of A(t) = Σ a·exp(-λt).
_TERMS: dict[str, Callable[[FloatArray], Terms]] = {
    "mono_exponential": _mono,
    "mono_exponential_uptake": _mono_uptake,
    "bi_exponential": _bi,
    "tri_exponential": _tri,
    "stp_hanscheid_2018": _mono,
    "stp_madsen_2018": _mono,
}


def exponential_terms_of(model_name: str, parameters: FloatArray) -> Terms:
    """Return the exponential terms of a sum-of-exponentials model.

    Raises
    ------
    FitError
        If ``model_name`` is not a sum of exponentials (e.g. ``"trapezoid"``).

    Examples
    --------
    >>> exponential_terms_of("mono_exponential_uptake", np.array([10.0, 0.1, 1.0]))
    ((10.0, 0.1), (-10.0, 1.0))
    """
    try:
        to_terms = _TERMS[model_name]
    except KeyError as err:
        raise FitError(
            f"model {model_name!r} is not a sum of exponentials; "
            "use predict() or the time-integrated activity instead"
        ) from err
    return to_terms(np.asarray(parameters, dtype=np.float64))


@dataclass(frozen=True, slots=True)
class ParameterEstimate:
    """One row of a fit summary: estimate, standard error and Wald 95 % interval."""

    name: str
    value: float
    standard_error: float | None
    ci95_lower: float | None
    ci95_upper: float | None
    at_bound: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "name": self.name,
            "value": self.value,
            "standard_error": self.standard_error,
            "ci95_lower": self.ci95_lower,
            "ci95_upper": self.ci95_upper,
            "at_bound": self.at_bound,
        }


@dataclass(frozen=True, slots=True)
class FitSummary:
    """Summary table of a :class:`TacFit` (one row per parameter plus the TIA row)."""

    model_name: str
    region: str
    rows: tuple[ParameterEstimate, ...]
    aicc: float | None
    r_squared: float | None
    extrapolated_fraction: float
    converged: bool

    def as_dicts(self) -> list[dict[str, Any]]:
        """Return the rows as a list of dictionaries (parameters, then the TIA)."""
        return [row.as_dict() for row in self.rows]

    def __str__(self) -> str:
        """Render a plain-text table (canonical units)."""
        lines = [
            f"model: {self.model_name}  region: {self.region or '-'}  converged: {self.converged}",
            f"AICc: {_fmt(self.aicc)}  R²: {_fmt(self.r_squared)}  "
            f"extrapolated fraction: {self.extrapolated_fraction:.3f}",
            f"{'parameter':<34}{'value':>14}{'std. error':>14}{'95% CI lower':>14}{'95% CI upper':>14}",
        ]
        for row in self.rows:
            flag = " (at bound)" if row.at_bound else ""
            lines.append(
                f"{row.name + flag:<34}{_fmt(row.value):>14}{_fmt(row.standard_error):>14}"
                f"{_fmt(row.ci95_lower):>14}{_fmt(row.ci95_upper):>14}"
            )
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _readonly(array: Any) -> FloatArray | None:
    if array is None:
        return None
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out


def _same(a: FloatArray | None, b: FloatArray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


@dataclass(frozen=True, eq=False)
class TacFit:
    """A fitted time-activity curve and its time-integrated activity (TIA).

    Parameters
    ----------
    model_name
        ``"mono_exponential"``, ``"mono_exponential_uptake"``, ``"bi_exponential"``,
        ``"tri_exponential"``, ``"trapezoid"``, ``"stp_hanscheid_2018"`` or
        ``"stp_madsen_2018"``.
    parameter_names
        Names with unit suffixes (amplitudes ``*_bq``, rates ``*_per_s``).
    parameters
        Estimates in canonical units, in the order of ``parameter_names``.
    covariance
        Covariance of ``parameters`` (``None`` when not estimable: zero degrees
        of freedom without given uncertainties, singular information matrix,
        or a method without a statistical model).
    time_integrated_activity_bq_s
        Ã = ∫₀^∞ A(t) dt in Bq·s.
    time_integrated_activity_sd_bq_s
        Standard uncertainty of Ã propagated from ``covariance`` (or from the
        activity uncertainties for the trapezoid method); ``None`` if unknown.
    aicc
        Corrected Akaike information criterion (``None`` if N − K − 1 ≤ 0).
    r_squared
        Coefficient of determination of the (weighted) fit.
    extrapolated_fraction
        Fraction of Ã outside the measured interval [t₁, tₙ].
    converged
        Whether the optimiser reported convergence.
    region, nuclide
        Copied from the curve.
    n_points
        Number of measurements used.
    weighting
        ``"uncertainties"`` (1/u² weights, absolute covariance) or ``"none"``
        (unweighted; covariance scaled by the residual variance).
    ssr
        Sum of squared (weighted) residuals; Bq² when unweighted.
    parameters_at_bound
        For each parameter, whether it ended on a constraint (e.g. a clearance
        rate equal to the physical decay constant).  Wald intervals are then
        only indicative.
    area_components_bq_s
        ``(("before_first", ...), ("measured", ...), ("after_last", ...))``.
    knot_times_s, knot_activities_bq
        Measured points, kept for the piecewise-linear ``"trapezoid"`` model.
    options
        Method options as ``(name, value)`` text pairs (e.g. ``("tail", "physical")``).
    candidates_aicc
        When chosen by :func:`~prrt.kinetics.fitters.fit_best`: every candidate's
        model name and AICc (``nan`` if undefined or not converged).
    message
        Optimiser message or notes.

    Examples
    --------
    >>> fit = TacFit(
    ...     model_name="mono_exponential", parameter_names=("a0_bq", "k_per_s"),
    ...     parameters=np.array([100.0, 0.01]), covariance=None,
    ...     time_integrated_activity_bq_s=10000.0, time_integrated_activity_sd_bq_s=None,
    ...     aicc=None, r_squared=None, extrapolated_fraction=1.0, converged=True,
    ... )
    >>> fit.exponential_terms()
    ((100.0, 0.01),)
    >>> float(fit.predict(np.array([100.0]))[0])  # 100 · exp(-1)
    36.787944117144235
    """

    model_name: str
    parameter_names: tuple[str, ...]
    parameters: FloatArray
    covariance: FloatArray | None
    time_integrated_activity_bq_s: float
    time_integrated_activity_sd_bq_s: float | None
    aicc: float | None
    r_squared: float | None
    extrapolated_fraction: float
    converged: bool
    region: str = ""
    nuclide: str = "Lu-177"
    n_points: int = 0
    weighting: str = "none"
    ssr: float | None = None
    parameters_at_bound: tuple[bool, ...] = ()
    area_components_bq_s: tuple[tuple[str, float], ...] = ()
    knot_times_s: FloatArray | None = None
    knot_activities_bq: FloatArray | None = None
    options: tuple[tuple[str, str], ...] = ()
    candidates_aicc: tuple[tuple[str, float], ...] = ()
    message: str = ""

    def __post_init__(self) -> None:
        parameters = _readonly(self.parameters)
        if parameters is None or parameters.shape != (len(self.parameter_names),):
            raise InvalidInputError(
                "parameters", self.parameters, f"{len(self.parameter_names)} values"
            )
        object.__setattr__(self, "parameters", parameters)
        object.__setattr__(self, "covariance", _readonly(self.covariance))
        object.__setattr__(self, "knot_times_s", _readonly(self.knot_times_s))
        object.__setattr__(self, "knot_activities_bq", _readonly(self.knot_activities_bq))

    def __eq__(self, other: object) -> bool:
        """Equal when every field is equal (arrays element-wise)."""
        if not isinstance(other, TacFit):
            return NotImplemented
        arrays = ("parameters", "covariance", "knot_times_s", "knot_activities_bq")
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if name in arrays:
                if not _same(mine, theirs):
                    return False
            elif not _equal_values(mine, theirs):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    @property
    def parameter_dict(self) -> dict[str, float]:
        """Parameters by name (canonical units)."""
        return {n: float(v) for n, v in zip(self.parameter_names, self.parameters, strict=True)}

    @property
    def standard_errors(self) -> FloatArray | None:
        """Square roots of the covariance diagonal (``None`` without covariance)."""
        if self.covariance is None:
            return None
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    def option(self, name: str) -> str | None:
        """Return the value of a method option (e.g. ``"tail"``) or ``None``."""
        return dict(self.options).get(name)

    def exponential_terms(self) -> Terms:
        """Return ``((amplitude_bq, rate_per_s), ...)`` with A(t) = Σ a·exp(-λt) for t ≥ 0.

        Uptake terms have a negative amplitude.

        Raises
        ------
        FitError
            For models that are not sums of exponentials (``"trapezoid"``).
        """
        return exponential_terms_of(self.model_name, self.parameters)

    def predict(self, t_s: Any) -> FloatArray:
        """Return the fitted activity (Bq) at times after injection ``t_s`` (s, ``>= 0``)."""
        times = np.asarray(t_s, dtype=np.float64)
        if not np.all(np.isfinite(times)) or np.any(times < 0):
            raise InvalidInputError("t_s", t_s, "finite times after injection >= 0 s")
        if self.model_name == "trapezoid":
            return self._predict_trapezoid(times)
        out = np.zeros_like(times)
        for amplitude, rate in self.exponential_terms():
            out = out + amplitude * np.exp(-rate * times)
        return out

    def _predict_trapezoid(self, times: FloatArray) -> FloatArray:
        if self.knot_times_s is None or self.knot_activities_bq is None:
            raise FitError("trapezoid fit without knots cannot be evaluated")
        kt, ka = self.knot_times_s, self.knot_activities_bq
        start = self.option("start") or "zero"
        xs = np.concatenate(([0.0], kt)) if kt[0] > 0 else kt
        if kt[0] > 0:
            first = 0.0 if start == "zero" else float(ka[0])
            ys = np.concatenate(([first], ka))
        else:
            ys = ka
        inside = np.interp(times, xs, ys)
        if start == "rect":
            inside = np.where(times < kt[0], ka[0], inside)
        rate = float(self.parameters[0])
        tail = ka[-1] * np.exp(-rate * np.clip(times - kt[-1], 0.0, None))
        return np.asarray(np.where(times > kt[-1], tail, inside), dtype=np.float64)

    def summary(self) -> FitSummary:
        """Return the summary table: parameters with standard errors and Wald 95 % intervals, then the TIA.

        Examples
        --------
        >>> fit = TacFit(
        ...     model_name="mono_exponential", parameter_names=("a0_bq", "k_per_s"),
        ...     parameters=np.array([100.0, 0.01]), covariance=np.diag([25.0, 1e-6]),
        ...     time_integrated_activity_bq_s=10000.0, time_integrated_activity_sd_bq_s=1118.0,
        ...     aicc=None, r_squared=None, extrapolated_fraction=1.0, converged=True,
        ... )
        >>> [row.name for row in fit.summary().rows]
        ['a0_bq', 'k_per_s', 'time_integrated_activity_bq_s']
        >>> fit.summary().rows[0].standard_error
        5.0
        """
        errors = self.standard_errors
        at_bound = self.parameters_at_bound or (False,) * len(self.parameter_names)
        rows: list[ParameterEstimate] = []
        for i, name in enumerate(self.parameter_names):
            value = float(self.parameters[i])
            se = None if errors is None else float(errors[i])
            rows.append(_row(name, value, se, at_bound[i]))
        rows.append(
            _row(
                "time_integrated_activity_bq_s",
                self.time_integrated_activity_bq_s,
                self.time_integrated_activity_sd_bq_s,
                False,
            )
        )
        return FitSummary(
            model_name=self.model_name,
            region=self.region,
            rows=tuple(rows),
            aicc=self.aicc,
            r_squared=self.r_squared,
            extrapolated_fraction=self.extrapolated_fraction,
            converged=self.converged,
        )

    def provenance_step(self) -> Step:
        """Return a provenance :class:`~prrt.provenance.Step` describing this fit.

        Examples
        --------
        >>> fit = TacFit(
        ...     model_name="mono_exponential", parameter_names=("a0_bq", "k_per_s"),
        ...     parameters=np.array([100.0, 0.01]), covariance=None,
        ...     time_integrated_activity_bq_s=10000.0, time_integrated_activity_sd_bq_s=None,
        ...     aicc=None, r_squared=None, extrapolated_fraction=0.1, converged=True,
        ... )
        >>> fit.provenance_step().name
        'time_integrated_activity'
        """
        return Step(
            name="time_integrated_activity",
            method=_METHODS.get(self.model_name, self.model_name),
            parameters={
                "model_name": self.model_name,
                "region": self.region,
                "nuclide": self.nuclide,
                "n_points": self.n_points,
                "weighting": self.weighting,
                "converged": self.converged,
                "options": dict(self.options),
            },
            data_sources=("ICRP-107 half-life (prrt.physics)",),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary of the fit (canonical units)."""
        return {
            "model_name": self.model_name,
            "region": self.region,
            "nuclide": self.nuclide,
            "parameters": self.parameter_dict,
            "covariance": None if self.covariance is None else self.covariance.tolist(),
            "time_integrated_activity_bq_s": self.time_integrated_activity_bq_s,
            "time_integrated_activity_sd_bq_s": self.time_integrated_activity_sd_bq_s,
            "aicc": self.aicc,
            "r_squared": self.r_squared,
            "extrapolated_fraction": self.extrapolated_fraction,
            "converged": self.converged,
            "n_points": self.n_points,
            "weighting": self.weighting,
            "parameters_at_bound": list(self.parameters_at_bound),
            "area_components_bq_s": dict(self.area_components_bq_s),
            "options": dict(self.options),
            "message": self.message,
        }


_LSQ = "least squares, AICc (Glatting 2007), TIA uncertainty by EANM (Gear 2018)"
_METHODS = {
    "mono_exponential": f"mono-exponential fit; {_LSQ}",
    "mono_exponential_uptake": f"mono-exponential with uptake fit; {_LSQ}",
    "bi_exponential": f"bi-exponential fit; {_LSQ}",
    "tri_exponential": f"tri-exponential (uptake + two clearances) fit; {_LSQ}",
    "trapezoid": "trapezoid + analytic tail (dosimetry-reference.md §4.1)",
    "stp_hanscheid_2018": "single time point, Hänscheid et al. J Nucl Med 2018;59:75",
    "stp_madsen_2018": "single time point, Madsen et al. Med Phys 2018;45:2318",
}


def _row(name: str, value: float, se: float | None, at_bound: bool) -> ParameterEstimate:
    if se is None or not math.isfinite(se):
        return ParameterEstimate(name, value, None, None, None, at_bound)
    return ParameterEstimate(name, value, se, value - Z_95 * se, value + Z_95 * se, at_bound)


def _isnan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _equal_values(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to NaN, also inside nested tuples."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_equal_values(x, y) for x, y in zip(a, b, strict=True))
    if _isnan(a) and _isnan(b):
        return True
    return bool(a == b)
