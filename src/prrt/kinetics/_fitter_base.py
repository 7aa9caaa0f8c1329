"""Base class of the parametric TAC fitters (optimisation, covariance, goodness of fit, TIA).

Modelled on lifelines' ``ParametricUnivariateFitter``: a subclass declares only
its parameter names, how its internal (optimised) parameters map to the
reported ones, its curve with the analytic Jacobian, its TIA with gradient and
its starting values; everything else lives here.  Departure from lifelines:
:meth:`TacFitter.fit` returns a frozen :class:`~prrt.kinetics.fit.TacFit` and
leaves the fitter unchanged.

Numerics: the problem is solved in scaled units (time / last measurement time,
activity / largest activity) by SciPy's bounded trust-region-reflective least
squares from several starting points; results are converted back exactly.
Weighted least squares with weights 1/u² when uncertainties are given (EANM,
Sjögreen Gleisner et al., EJNMMI 2022;49:1778), covariance (JᵀWJ)⁻¹ (absolute)
or scaled by SSR/(N−K) when unweighted, AICc = N·ln(SSR/N) + 2K +
2K(K+1)/(N−K−1) (Glatting et al., Med Phys 2007; dosimetry-reference.md §4.2).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

import numpy as np
from scipy.optimize import least_squares

from prrt._typing import FloatArray
from prrt.errors import ExtrapolationWarning, FitError, FitQualityWarning, InvalidInputError
from prrt.kinetics._physics import physical_decay_constant_per_s
from prrt.kinetics.fit import TacFit
from prrt.kinetics.tac import TimeActivityCurve

Kind = Literal["amplitude", "rate", "rate_step"]

#: Fastest rate allowed to any phase: half-life of one minute (keeps runaway uptake finite).
MAX_RATE_PER_S = math.log(2.0) / 60.0
#: With ``allow_net_uptake`` a clearance rate may fall below λ_phys, down to this fraction of it.
NET_UPTAKE_RATE_FLOOR_FRACTION = 1e-3
#: Relative tolerances of the optimiser (ftol, xtol, gtol) in scaled units.
_TOLERANCE = 1e-10
#: Function evaluations per starting point before the best start is continued.
_START_BUDGET = 200
#: Matrices with a larger condition number are treated as singular (no covariance).
_MAX_CONDITION = 1e14


def check_common_settings(
    *, physical_decay_constant_per_s: float | None, extrapolation_warning_fraction: float
) -> None:
    """Validate the settings shared by every fitter (decay constant, warning fraction)."""
    if physical_decay_constant_per_s is not None and not (
        math.isfinite(physical_decay_constant_per_s) and physical_decay_constant_per_s > 0
    ):
        raise InvalidInputError(
            "physical_decay_constant_per_s",
            physical_decay_constant_per_s,
            "a positive decay constant in 1/s",
        )
    if not 0.0 < extrapolation_warning_fraction <= 1.0:
        raise InvalidInputError(
            "extrapolation_warning_fraction",
            extrapolation_warning_fraction,
            "a fraction in (0, 1]",
        )


class TacFitter(ABC):
    """Base class of the sum-of-exponentials fitters; subclasses declare only the model.

    Parameters
    ----------
    allow_net_uptake
        Let a clearance rate fall below the physical decay constant (negative
        biological clearance, i.e. net uptake).  Off by default: every effective
        rate is constrained to λ ≥ λ_phys (dosimetry-reference.md §4.1).
    physical_decay_constant_per_s
        Override λ_phys (default: from the curve's nuclide, ICRP-107).
    extrapolation_warning_fraction
        Warn (:class:`~prrt.errors.ExtrapolationWarning`) when more than this
        fraction of the TIA lies outside the measured interval.
    max_evaluations
        Function evaluations per start of the optimiser.

    Notes
    -----
    Subclasses define ``model_name``, ``parameter_names`` (reported, canonical
    units), ``internal_kinds`` (one per optimised parameter: ``"amplitude"``
    ≥ 0, ``"rate"`` ≥ λ_phys, ``"rate_step"`` ≥ 0 added to the previous rate),
    ``internal_to_reported`` (matrix T with reported = T · internal) and the
    methods :meth:`curve`, :meth:`curve_jacobian`, :meth:`tia`,
    :meth:`tia_gradient` and :meth:`starting_points`, all in reported
    parameters and scaled units.
    """

    model_name: ClassVar[str]
    parameter_names: ClassVar[tuple[str, ...]]
    internal_kinds: ClassVar[tuple[Kind, ...]]
    internal_to_reported: ClassVar[tuple[tuple[float, ...], ...]]

    def __init__(
        self,
        *,
        allow_net_uptake: bool = False,
        physical_decay_constant_per_s: float | None = None,
        extrapolation_warning_fraction: float = 0.5,
        max_evaluations: int = 2000,
    ) -> None:
        check_common_settings(
            physical_decay_constant_per_s=physical_decay_constant_per_s,
            extrapolation_warning_fraction=extrapolation_warning_fraction,
        )
        if max_evaluations < 10:
            raise InvalidInputError("max_evaluations", max_evaluations, "an integer >= 10")
        self.allow_net_uptake = allow_net_uptake
        self.physical_decay_constant_per_s = physical_decay_constant_per_s
        self.extrapolation_warning_fraction = extrapolation_warning_fraction
        self.max_evaluations = max_evaluations

    def __repr__(self) -> str:
        """Show the class and its settings."""
        return (
            f"{type(self).__name__}(allow_net_uptake={self.allow_net_uptake}, "
            f"physical_decay_constant_per_s={self.physical_decay_constant_per_s})"
        )

    @property
    def n_parameters(self) -> int:
        """Number of fitted parameters K."""
        return len(self.parameter_names)

    # ---- model definition (subclasses) -------------------------------------------------
    @abstractmethod
    def curve(self, p: FloatArray, t: FloatArray) -> FloatArray:
        """Return A(t) for reported parameters ``p``."""

    @abstractmethod
    def curve_jacobian(self, p: FloatArray, t: FloatArray) -> FloatArray:
        """Return ∂A(t_i)/∂p_j, shape (len(t), K)."""

    @abstractmethod
    def tia(self, p: FloatArray) -> float:
        """Return ∫₀^∞ A(t) dt."""

    @abstractmethod
    def tia_gradient(self, p: FloatArray) -> FloatArray:
        """Return ∂Ã/∂p_j."""

    @abstractmethod
    def starting_points(self, t: FloatArray, y: FloatArray, rate_min: float) -> list[FloatArray]:
        """Return candidate starting values (reported parameters, scaled units)."""

    def integrate(self, parameters: Any, covariance: Any = None) -> tuple[float, float | None]:
        """Return (Ã, u(Ã)) of this model for given parameters (canonical units).

        u²(Ã) = Σᵢ Σⱼ (∂Ã/∂pᵢ)(∂Ã/∂pⱼ) cov(pᵢ, pⱼ), the law of propagation of
        uncertainty of the EANM guidance (Gear et al., EJNMMI 2018;45:2456;
        dosimetry-reference.md §4.2).  The model functions are homogeneous, so
        canonical units (Bq, 1/s) give Ã in Bq·s.

        Examples
        --------
        TIA-08 of dosimetry-reference.md §4.2 (A0 = 100 ± 5 MBq, λ = 0.0139 ±
        0.0007 h⁻¹, no covariance → 7194 ± 511 MBq·h):

        >>> import numpy as np
        >>> h = 3600.0
        >>> from prrt.kinetics.fitters import MonoExponentialFitter
        >>> tia, sd = MonoExponentialFitter().integrate(
        ...     [100e6, 0.0139 / h], np.diag([5e6**2, (0.0007 / h) ** 2])
        ... )
        >>> round(tia / 1e6 / h), round(sd / 1e6 / h)
        (7194, 511)
        """
        p = np.asarray(parameters, dtype=np.float64)
        if p.shape != (self.n_parameters,) or not np.all(np.isfinite(p)):
            raise InvalidInputError(
                "parameters",
                parameters,
                f"{self.n_parameters} finite values {self.parameter_names}",
            )
        tia = self.tia(p)
        if covariance is None:
            return tia, None
        cov = np.asarray(covariance, dtype=np.float64)
        if cov.shape != (self.n_parameters, self.n_parameters) or not np.all(np.isfinite(cov)):
            raise InvalidInputError(
                "covariance", covariance, f"a finite {self.n_parameters}×{self.n_parameters} matrix"
            )
        gradient = self.tia_gradient(p)
        return tia, math.sqrt(max(float(gradient @ cov @ gradient), 0.0))

    # ---- shared machinery -------------------------------------------------------------------
    def _transform(self) -> FloatArray:
        return np.array(self.internal_to_reported, dtype=np.float64)

    def _bounds(self, rate_min: float, rate_max: float) -> tuple[FloatArray, FloatArray]:
        lower = np.empty(len(self.internal_kinds))
        upper = np.empty(len(self.internal_kinds))
        for i, kind in enumerate(self.internal_kinds):
            if kind == "amplitude":
                lower[i], upper[i] = 0.0, np.inf
            elif kind == "rate":
                lower[i], upper[i] = rate_min, rate_max
            else:
                lower[i], upper[i] = 0.0, rate_max
        return lower, upper

    def _scale_vector(self, activity_scale: float, time_scale: float) -> FloatArray:
        """Factor from scaled to canonical units per reported parameter."""
        return np.array(
            [
                activity_scale if name.endswith("_bq") else 1.0 / time_scale
                for name in self.parameter_names
            ]
        )

    def fit(self, tac: TimeActivityCurve) -> TacFit:
        """Fit the model to ``tac`` by (weighted) least squares and integrate it.

        Parameters
        ----------
        tac
            The measured curve; needs at least K points (K parameters).

        Returns
        -------
        TacFit
            Parameters, covariance, TIA with its standard uncertainty, AICc, R²,
            extrapolated fraction and convergence flag.

        Raises
        ------
        InvalidInputError
            Fewer points than parameters, or no positive activity.

        Warns
        -----
        FitQualityWarning
            The optimiser did not converge, or a clearance rate ended on the
            physical-decay bound.
        ExtrapolationWarning
            More than ``extrapolation_warning_fraction`` of the TIA lies outside
            the measured interval.
        """
        if not isinstance(tac, TimeActivityCurve):
            raise InvalidInputError("tac", tac, "a TimeActivityCurve")
        k = self.n_parameters
        n = tac.n_points
        if n < k:
            raise InvalidInputError(
                "tac.times_s",
                f"{n} time point(s)",
                f"at least {k} time points for the {self.model_name} model ({k} parameters)",
                hint="use a model with fewer parameters or a single-time-point method",
            )
        if not np.any(tac.activities_bq > 0):
            raise InvalidInputError(
                "tac.activities_bq", tac.activities_bq.tolist(), "at least one positive activity"
            )
        lam_phys = (
            self.physical_decay_constant_per_s
            if self.physical_decay_constant_per_s is not None
            else physical_decay_constant_per_s(tac.nuclide)
        )
        time_scale = float(tac.times_s[-1])
        activity_scale = float(np.max(tac.activities_bq))
        t = tac.times_s / time_scale
        y = tac.activities_bq / activity_scale
        weighted = tac.uncertainties_bq is not None
        w = (
            activity_scale / tac.uncertainties_bq
            if tac.uncertainties_bq is not None
            else np.ones_like(y)
        )
        lam_s = lam_phys * time_scale
        rate_min = lam_s * NET_UPTAKE_RATE_FLOOR_FRACTION if self.allow_net_uptake else lam_s
        rate_max = MAX_RATE_PER_S * time_scale
        lower, upper = self._bounds(rate_min, rate_max)
        transform = self._transform()
        inverse = np.linalg.inv(transform)

        def residuals(q: FloatArray) -> FloatArray:
            return np.asarray(w * (self.curve(transform @ q, t) - y), dtype=np.float64)

        def jacobian(q: FloatArray) -> FloatArray:
            return np.asarray(
                w[:, None] * (self.curve_jacobian(transform @ q, t) @ transform), dtype=np.float64
            )

        def solve(q0: FloatArray, budget: int) -> Any:
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                result = least_squares(
                    residuals,
                    q0,
                    jac=jacobian,
                    bounds=(lower, upper),
                    method="trf",
                    x_scale="jac",
                    ftol=_TOLERANCE,
                    xtol=_TOLERANCE,
                    gtol=_TOLERANCE,
                    max_nfev=budget,
                )
            if not np.all(np.isfinite(result.x)) or not math.isfinite(result.cost):
                return None
            return result

        # Multi-start with a short budget per start, then the best one is continued with the
        # full budget if it has not converged yet (bounds the time of ill-posed fits).
        best: Any = None
        short = min(_START_BUDGET, self.max_evaluations)
        for start in self.starting_points(t, y, rate_min):
            q0 = np.clip(inverse @ np.asarray(start, dtype=np.float64), lower, upper)
            result = solve(q0, short)
            if result is None:
                continue
            if best is None or result.cost < best.cost * (1 - 1e-12) - 1e-300:
                best = result
        if best is not None and best.status == 0 and self.max_evaluations > short:
            continued = solve(np.asarray(best.x, dtype=np.float64), self.max_evaluations)
            if continued is not None and continued.cost <= best.cost:
                best = continued
        if best is None:
            raise FitError(
                f"{self.model_name}: no starting point gave a finite fit for region "
                f"{tac.region or '-'}; check the data or use a simpler model"
            )
        return self._make_fit(
            tac, best, transform, lower, upper, t, y, w, weighted, activity_scale, time_scale
        )

    def _make_fit(
        self,
        tac: TimeActivityCurve,
        result: Any,
        transform: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        t: FloatArray,
        y: FloatArray,
        w: FloatArray,
        weighted: bool,
        activity_scale: float,
        time_scale: float,
    ) -> TacFit:
        k = self.n_parameters
        n = tac.n_points
        q = np.asarray(result.x, dtype=np.float64)
        p_scaled = transform @ q
        residual = np.asarray(result.fun, dtype=np.float64)
        ssr_scaled = float(residual @ residual)
        converged = bool(result.status > 0)
        span = np.maximum(np.abs(q), 1.0) * 1e-9
        at_bound = tuple(
            bool(q[i] - lower[i] <= span[i] or upper[i] - q[i] <= span[i]) for i in range(k)
        )

        cov_scaled = self._covariance(np.asarray(result.jac), transform, ssr_scaled, n, weighted)
        scale = self._scale_vector(activity_scale, time_scale)
        parameters = p_scaled * scale
        covariance = None if cov_scaled is None else cov_scaled * np.outer(scale, scale)

        tia_unit = activity_scale * time_scale
        tia = self.tia(p_scaled) * tia_unit
        tia_sd: float | None = None
        if cov_scaled is not None:
            gradient = self.tia_gradient(p_scaled)
            variance = float(gradient @ cov_scaled @ gradient)
            tia_sd = math.sqrt(max(variance, 0.0)) * tia_unit

        terms = self._terms(p_scaled)
        t_first, t_last = float(t[0]), float(t[-1])
        before = sum(a / lam * (1.0 - math.exp(-lam * t_first)) for a, lam in terms) * tia_unit
        after = sum(a / lam * math.exp(-lam * t_last) for a, lam in terms) * tia_unit
        if not (math.isfinite(tia) and tia > 0):
            raise FitError(
                f"{self.model_name}: fitted curve of region {tac.region or '-'} has a "
                f"non-positive or infinite integral ({tia} Bq·s)"
            )
        extrapolated = min(max((before + after) / tia, 0.0), 1.0)

        ssr = ssr_scaled if weighted else ssr_scaled * activity_scale**2
        # A floor keeps exact (noise-free) fits finite; model differences stay meaningful.
        ssr_for_aicc = max(ssr_scaled, 1e-30 * n) * (1.0 if weighted else activity_scale**2)
        aicc = _aicc(ssr_for_aicc, n, k)
        r_squared = _r_squared(residual, y, w)

        message = str(result.message)
        if not converged:
            warnings.warn(
                f"{self.model_name} fit of region {tac.region or '-'} did not converge "
                f"({message}); check starting values, the time points or use a simpler model",
                FitQualityWarning,
                stacklevel=3,
            )
        rate_at_floor = [
            self.parameter_names[i]
            for i, kind in enumerate(self.internal_kinds)
            if kind == "rate" and at_bound[i] and q[i] <= lower[i] + span[i]
        ]
        if rate_at_floor:
            floor = (
                "the net-uptake floor" if self.allow_net_uptake else "the physical decay constant"
            )
            warnings.warn(
                f"{self.model_name} fit of region {tac.region or '-'}: {', '.join(rate_at_floor)} "
                f"ended on {floor} (the data suggest slower clearance than allowed); "
                "the TIA is an upper estimate under this constraint",
                FitQualityWarning,
                stacklevel=3,
            )
        if extrapolated > self.extrapolation_warning_fraction:
            warnings.warn(
                f"{self.model_name} fit of region {tac.region or '-'}: {100 * extrapolated:.0f} % "
                "of the time-integrated activity lies outside the measured interval "
                f"[{tac.times_s[0]:.0f} s, {tac.times_s[-1]:.0f} s]; consider a later time point",
                ExtrapolationWarning,
                stacklevel=3,
            )
        return TacFit(
            model_name=self.model_name,
            parameter_names=self.parameter_names,
            parameters=parameters,
            covariance=covariance,
            time_integrated_activity_bq_s=tia,
            time_integrated_activity_sd_bq_s=tia_sd,
            aicc=aicc,
            r_squared=r_squared,
            extrapolated_fraction=extrapolated,
            converged=converged,
            region=tac.region,
            nuclide=tac.nuclide,
            n_points=n,
            weighting="uncertainties" if weighted else "none",
            ssr=ssr,
            parameters_at_bound=at_bound,
            area_components_bq_s=(
                ("before_first", before),
                ("measured", tia - before - after),
                ("after_last", after),
            ),
            options=(("allow_net_uptake", str(self.allow_net_uptake).lower()),),
            message=message,
        )

    def _terms(self, p: FloatArray) -> tuple[tuple[float, float], ...]:
        from prrt.kinetics.fit import exponential_terms_of

        return exponential_terms_of(self.model_name, p)

    @staticmethod
    def _covariance(
        jac_internal: FloatArray, transform: FloatArray, ssr: float, n: int, weighted: bool
    ) -> FloatArray | None:
        k = jac_internal.shape[1]
        if not weighted and n <= k:
            return None
        information = jac_internal.T @ jac_internal
        if not np.all(np.isfinite(information)):
            return None
        try:
            condition = np.linalg.cond(information)
        except np.linalg.LinAlgError:
            return None
        if not math.isfinite(condition) or condition > _MAX_CONDITION:
            return None
        cov_internal = np.linalg.inv(information)
        if not weighted:
            cov_internal = cov_internal * (ssr / (n - k))
        cov = transform @ cov_internal @ transform.T
        return np.asarray(0.5 * (cov + cov.T), dtype=np.float64)


def _aicc(ssr: float, n: int, k: int) -> float | None:
    """AICc = N·ln(SSR/N) + 2K + 2K(K+1)/(N−K−1); ``None`` when N − K − 1 ≤ 0."""
    if n - k - 1 <= 0:
        return None
    if ssr <= 0:
        return None
    return n * math.log(ssr / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _r_squared(residual: FloatArray, y: FloatArray, w: FloatArray) -> float | None:
    weights = w**2
    mean = float(np.sum(weights * y) / np.sum(weights))
    total = float(np.sum(weights * (y - mean) ** 2))
    if total <= 0:
        return None
    return 1.0 - float(residual @ residual) / total
