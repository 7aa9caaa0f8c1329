"""Vectorised fitting of many time-activity curves that share their time points.

:func:`fit_many_biexponential` fits a two-exponential model to every row of an
activity matrix at once: a batched, box-constrained Levenberg–Marquardt in
NumPy with analytic Jacobians, log-linear peeling for starting values and a
per-curve convergence mask (curves that have converged leave the active set).
It solves the same weighted least-squares problem, with the same constraints,
as :class:`~prrt.kinetics.fitters.MonoExponentialUptakeFitter` or
:class:`~prrt.kinetics.fitters.BiExponentialFitter` (every effective rate
≥ λ_phys, dosimetry-reference.md §4.1), and propagates the TIA uncertainty
from the covariance in the same way (EANM, Gear et al. 2018; §4.2).

Use it for many organs/lesions or for voxel TACs; use the fitter classes for a
single curve (they try several starting points and give a summary table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from prrt._typing import BoolArray, FloatArray, IntArray
from prrt.errors import InvalidInputError
from prrt.kinetics._physics import physical_decay_constant_per_s
from prrt.kinetics.fit import TacFit

__all__ = ["BatchModel", "BatchTacFit", "fit_many_biexponential"]

BatchModel = Literal["mono_exponential_uptake", "bi_exponential"]

_MAX_RATE_PER_S = math.log(2.0) / 60.0
_PARAMETER_NAMES: dict[str, tuple[str, ...]] = {
    "mono_exponential_uptake": ("a_bq", "k_washout_per_s", "k_uptake_per_s"),
    "bi_exponential": ("a1_bq", "k1_per_s", "a2_bq", "k2_per_s"),
}
_TRANSFORM: dict[str, FloatArray] = {
    "mono_exponential_uptake": np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 1.0, 1.0]]),
    "bi_exponential": np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 1.0, 0, 1.0]]),
}
#: Internal parameter kinds: amplitude ≥ 0, rate ≥ λ_phys, rate step ≥ 0.
_KINDS: dict[str, tuple[str, ...]] = {
    "mono_exponential_uptake": ("amplitude", "rate", "rate_step"),
    "bi_exponential": ("amplitude", "rate", "amplitude", "rate_step"),
}


@dataclass(frozen=True, eq=False)
class BatchTacFit:
    """Results of :func:`fit_many_biexponential`, one row per curve (canonical units).

    Attributes
    ----------
    model_name, parameter_names
        As in :class:`~prrt.kinetics.fit.TacFit`.
    times_s
        The shared time points.
    parameters
        Shape (n_curves, K).
    covariance
        Shape (n_curves, K, K); NaN where not estimable.
    tia_bq_s, tia_sd_bq_s
        Time-integrated activity and its standard uncertainty (NaN if unknown).
    converged
        Per-curve convergence mask.
    n_iterations
        Levenberg–Marquardt iterations per curve.
    ssr
        Sum of squared (weighted) residuals; Bq² when unweighted.
    extrapolated_fraction
        Fraction of the TIA outside [t₁, tₙ].
    parameters_at_bound
        Shape (n_curves, K).
    nuclide
        Nuclide whose λ_phys bounds the rates.
    """

    model_name: str
    parameter_names: tuple[str, ...]
    times_s: FloatArray
    parameters: FloatArray
    covariance: FloatArray
    tia_bq_s: FloatArray
    tia_sd_bq_s: FloatArray
    converged: BoolArray
    n_iterations: IntArray
    ssr: FloatArray
    extrapolated_fraction: FloatArray
    parameters_at_bound: BoolArray
    weighted: bool
    nuclide: str

    @property
    def n_curves(self) -> int:
        """Number of curves."""
        return int(self.tia_bq_s.size)

    def fit_of(self, index: int, *, region: str = "") -> TacFit:
        """Return curve ``index`` as a :class:`~prrt.kinetics.fit.TacFit` (AICc and R² not computed)."""
        if not 0 <= index < self.n_curves:
            raise InvalidInputError("index", index, f"an index in [0, {self.n_curves})")
        cov = self.covariance[index]
        sd = float(self.tia_sd_bq_s[index])
        return TacFit(
            model_name=self.model_name,
            parameter_names=self.parameter_names,
            parameters=self.parameters[index],
            covariance=None if not np.all(np.isfinite(cov)) else cov,
            time_integrated_activity_bq_s=float(self.tia_bq_s[index]),
            time_integrated_activity_sd_bq_s=sd if math.isfinite(sd) else None,
            aicc=None,
            r_squared=None,
            extrapolated_fraction=float(self.extrapolated_fraction[index]),
            converged=bool(self.converged[index]),
            region=region,
            nuclide=self.nuclide,
            n_points=int(self.times_s.size),
            weighting="uncertainties" if self.weighted else "none",
            ssr=float(self.ssr[index]),
            parameters_at_bound=tuple(bool(b) for b in self.parameters_at_bound[index]),
            message="batched Levenberg-Marquardt (prrt.kinetics.batch)",
        )


def _model(model: str, p: FloatArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return f (n, m) and ∂f/∂p (n, m, K) for reported parameters p (n, K)."""
    if model == "mono_exponential_uptake":
        a, kw, ku = p[:, 0:1], p[:, 1:2], p[:, 2:3]
        ew, eu = np.exp(-kw * t), np.exp(-ku * t)
        f = a * (ew - eu)
        jac = np.stack((ew - eu, -a * t * ew, a * t * eu), axis=-1)
        return f, jac
    a1, k1, a2, k2 = p[:, 0:1], p[:, 1:2], p[:, 2:3], p[:, 3:4]
    e1, e2 = np.exp(-k1 * t), np.exp(-k2 * t)
    f = a1 * e1 + a2 * e2
    jac = np.stack((e1, -a1 * t * e1, e2, -a2 * t * e2), axis=-1)
    return f, jac


def _terms(model: str, p: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Amplitudes (n, J) and rates (n, J) of the exponential terms."""
    if model == "mono_exponential_uptake":
        return np.stack((p[:, 0], -p[:, 0]), axis=1), np.stack((p[:, 1], p[:, 2]), axis=1)
    return np.stack((p[:, 0], p[:, 2]), axis=1), np.stack((p[:, 1], p[:, 3]), axis=1)


def _tia_and_gradient(model: str, p: FloatArray) -> tuple[FloatArray, FloatArray]:
    if model == "mono_exponential_uptake":
        a, kw, ku = p[:, 0], p[:, 1], p[:, 2]
        tia = a * (1.0 / kw - 1.0 / ku)
        grad = np.stack((1.0 / kw - 1.0 / ku, -a / kw**2, a / ku**2), axis=1)
        return tia, grad
    a1, k1, a2, k2 = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    tia = a1 / k1 + a2 / k2
    grad = np.stack((1.0 / k1, -a1 / k1**2, 1.0 / k2, -a2 / k2**2), axis=1)
    return tia, grad


def _peel_rate(t: FloatArray, y: FloatArray, i: int, j: int, floor: float) -> FloatArray:
    """Log-linear rate between points i and j for every row (≥ floor; floor where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.log(y[:, i] / y[:, j]) / (t[j] - t[i])
    return np.where(np.isfinite(rate), np.maximum(rate, floor), floor)


def _starting_values(
    model: str, t: FloatArray, y: FloatArray, rate_min: float, rate_max: float
) -> FloatArray:
    """Batched curve peeling in scaled units; returns reported parameters (n, K)."""
    m = t.size
    k_slow = _peel_rate(t, y, m - 2, m - 1, rate_min * 1.05)
    a_slow = np.maximum(y[:, -1], 1e-12) * np.exp(k_slow * t[-1])
    # Residual of the early point after removing the slow phase.
    residual = a_slow * np.exp(-k_slow * t[0]) - y[:, 0]
    if model == "mono_exponential_uptake":
        with np.errstate(divide="ignore", invalid="ignore"):
            ku = -np.log(1.0 - y[:, 0] / (a_slow * np.exp(-k_slow * t[0]))) / t[0] + k_slow
        ku = np.where(np.isfinite(ku) & (residual > 0), ku, 10.0 * k_slow)
        ku = np.clip(ku, 1.5 * k_slow, rate_max)
        return np.stack((a_slow, k_slow, ku), axis=1)
    fast_amp = np.maximum(-residual, 0.05 * y[:, 0])
    if m >= 3:
        early = y[:, 1] - a_slow * np.exp(-k_slow * t[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            k_fast = np.log(fast_amp / early) / (t[1] - t[0])
        k_fast = np.where(np.isfinite(k_fast) & (early > 0), k_fast, 10.0 * k_slow)
    else:
        k_fast = 10.0 * k_slow
    k_fast = np.clip(k_fast, 1.5 * k_slow, rate_max)
    a_fast = fast_amp * np.exp(k_fast * t[0])
    return np.stack((a_slow, k_slow, a_fast, k_fast), axis=1)


def _validate(
    times_s: Any, activities_bq: Any, uncertainties_bq: Any, n_parameters: int
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    t = np.asarray(times_s, dtype=np.float64)
    if t.ndim != 1 or t.size < n_parameters:
        raise InvalidInputError(
            "times_s", f"shape {t.shape}", f"a 1-D array of at least {n_parameters} time points"
        )
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0) or t[0] <= 0:
        raise InvalidInputError(
            "times_s", t.tolist(), "finite, positive, strictly increasing times after injection (s)"
        )
    a = np.asarray(activities_bq, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != t.size:
        raise InvalidInputError(
            "activities_bq", f"shape {a.shape}", f"a 2-D array (n_curves, {t.size})"
        )
    if not np.all(np.isfinite(a)):
        raise InvalidInputError("activities_bq", "non-finite values", "finite activities (Bq)")
    if np.any(a < 0):
        raise InvalidInputError("activities_bq", "negative values", "activities >= 0 Bq")
    u = None
    if uncertainties_bq is not None:
        u = np.asarray(uncertainties_bq, dtype=np.float64)
        if u.shape != a.shape:
            raise InvalidInputError(
                "uncertainties_bq", f"shape {u.shape}", f"the shape of activities_bq {a.shape}"
            )
        if not np.all(np.isfinite(u)) or np.any(u <= 0):
            raise InvalidInputError(
                "uncertainties_bq",
                "non-positive or non-finite values",
                "finite uncertainties > 0 Bq",
            )
    return t, a, u


def fit_many_biexponential(
    times_s: Any,
    activities_bq: Any,
    *,
    uncertainties_bq: Any = None,
    model: BatchModel = "mono_exponential_uptake",
    nuclide: str = "Lu-177",
    physical_decay_constant_per_s: float | None = None,
    max_iterations: int = 200,
) -> BatchTacFit:
    """Fit a two-exponential model to many curves sharing their time points.

    Parameters
    ----------
    times_s
        Shared measurement times after injection (s), shape (n_t,), all > 0.
    activities_bq
        Activities (Bq), shape (n_curves, n_t), ≥ 0.
    uncertainties_bq
        Optional standard uncertainties (Bq), same shape; weights 1/u².
    model
        ``"mono_exponential_uptake"`` (default): A = a·(e^(−k_w t) − e^(−k_u t)),
        the bi-exponential uptake-and-washout curve (3 parameters, so 4 time
        points leave one degree of freedom), or ``"bi_exponential"``:
        A = a1·e^(−k1 t) + a2·e^(−k2 t) (4 parameters).
    nuclide
        Nuclide whose physical decay constant bounds the rates from below.
    physical_decay_constant_per_s
        Override λ_phys.
    max_iterations
        Iteration limit per curve.

    Returns
    -------
    BatchTacFit
        Parameters, covariance, TIA and uncertainty, convergence mask.
        Curves that are zero everywhere get a = 0, TIA 0 and count as converged.

    Raises
    ------
    InvalidInputError
        Bad shapes, non-finite or negative values, fewer time points than parameters.

    Examples
    --------
    >>> import numpy as np
    >>> h = 3600.0
    >>> t = np.array([4.0, 24.0, 96.0, 168.0]) * h
    >>> a = 50e6 * (np.exp(-np.log(2) / (50 * h) * t) - np.exp(-np.log(2) / (2 * h) * t))
    >>> batch = fit_many_biexponential(t, np.vstack([a, 2 * a]))
    >>> truth = 50e6 * (50 * h - 2 * h) / np.log(2)
    >>> np.round(batch.tia_bq_s / truth, 6).tolist(), batch.converged.tolist()
    ([1.0, 2.0], [True, True])
    """
    if model not in _PARAMETER_NAMES:
        raise InvalidInputError("model", model, "'mono_exponential_uptake' or 'bi_exponential'")
    names = _PARAMETER_NAMES[model]
    k = len(names)
    t_s, act, unc = _validate(times_s, activities_bq, uncertainties_bq, k)
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int)
        or max_iterations < 1
    ):
        raise InvalidInputError("max_iterations", max_iterations, "a positive integer")
    if physical_decay_constant_per_s is not None:
        if not (math.isfinite(physical_decay_constant_per_s) and physical_decay_constant_per_s > 0):
            raise InvalidInputError(
                "physical_decay_constant_per_s",
                physical_decay_constant_per_s,
                "a positive decay constant in 1/s",
            )
        lam_phys = physical_decay_constant_per_s
    else:
        lam_phys = physical_decay_constant_per_s_for(nuclide)
    m = act.shape[1]
    time_scale = float(t_s[-1])
    scale = act.max(axis=1)
    zero = scale <= 0
    scale = np.where(zero, 1.0, scale)
    t = t_s / time_scale
    y = act / scale[:, None]
    w = np.ones_like(y) if unc is None else scale[:, None] / unc
    rate_min = lam_phys * time_scale
    rate_max = _MAX_RATE_PER_S * time_scale
    transform = _TRANSFORM[model]
    inverse = np.linalg.inv(transform)
    lower = np.array([rate_min if kd == "rate" else 0.0 for kd in _KINDS[model]])
    upper = np.array([np.inf if kd == "amplitude" else rate_max for kd in _KINDS[model]])

    q = np.clip(_starting_values(model, t, y, rate_min, rate_max) @ inverse.T, lower, upper)
    q, n_iter, converged = _levenberg_marquardt(
        model, q, t, y, w, transform, lower, upper, max_iterations
    )

    p_scaled = q @ transform.T
    f, jac_rep = _model(model, p_scaled, t)
    residual = w * (f - y)
    ssr_scaled = np.sum(residual**2, axis=1)
    jac_int = (w[:, :, None] * jac_rep) @ transform
    cov_scaled = _batched_covariance(jac_int, transform, ssr_scaled, m, weighted=unc is not None)

    unit = np.array([1.0 if nm.endswith("_bq") else 0.0 for nm in names])
    factor = np.where(unit[None, :] > 0, scale[:, None], 1.0 / time_scale)
    parameters = p_scaled * factor
    covariance = cov_scaled * factor[:, :, None] * factor[:, None, :]
    tia_scaled, grad = _tia_and_gradient(model, p_scaled)
    var = np.einsum("ni,nij,nj->n", grad, cov_scaled, grad)
    tia = tia_scaled * scale * time_scale
    tia_sd = np.sqrt(np.maximum(var, 0.0)) * scale * time_scale
    amps, rates = _terms(model, p_scaled)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.sum(amps / rates * (1.0 - np.exp(-rates * t[0])), axis=1)
        after = np.sum(amps / rates * np.exp(-rates * t[-1]), axis=1)
        extrapolated = np.clip((before + after) / tia_scaled, 0.0, 1.0)
    span = np.maximum(np.abs(q), 1.0) * 1e-9
    at_bound = (q - lower <= span) | (upper - q <= span)

    # Curves that are zero everywhere: the least-squares solution is a = 0.
    if np.any(zero):
        parameters[zero] = np.where(unit > 0, 0.0, lam_phys)
        covariance[zero] = np.nan
        tia[zero], tia_sd[zero], extrapolated[zero] = 0.0, np.nan, 0.0
        converged[zero] = True
    ssr = ssr_scaled if unc is not None else ssr_scaled * scale**2
    return BatchTacFit(
        model_name=model,
        parameter_names=names,
        times_s=t_s,
        parameters=parameters,
        covariance=covariance,
        tia_bq_s=tia,
        tia_sd_bq_s=tia_sd,
        converged=converged,
        n_iterations=n_iter,
        ssr=ssr,
        extrapolated_fraction=extrapolated,
        parameters_at_bound=at_bound,
        weighted=unc is not None,
        nuclide=nuclide,
    )


def physical_decay_constant_per_s_for(nuclide: str) -> float:
    """λ_phys of ``nuclide`` (1/s), ICRP-107 via prrt.physics."""
    return physical_decay_constant_per_s(nuclide)


def _levenberg_marquardt(
    model: str,
    q: FloatArray,
    t: FloatArray,
    y: FloatArray,
    w: FloatArray,
    transform: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    max_iterations: int,
) -> tuple[FloatArray, IntArray, BoolArray]:
    """Batched projected Levenberg–Marquardt; returns (q, iterations, converged)."""
    n, k = q.shape
    q = q.copy()
    damping = np.full(n, 1e-3)
    iterations = np.zeros(n, dtype=np.int64)
    converged = np.zeros(n, dtype=bool)
    active = np.arange(n)
    eye = np.eye(k)

    f, _ = _model(model, q @ transform.T, t)
    cost = np.sum((w * (f - y)) ** 2, axis=1)
    for _ in range(max_iterations):
        if active.size == 0:
            break
        qa, ya, wa = q[active], y[active], w[active]
        fa, jac_rep = _model(model, qa @ transform.T, t)
        r = wa * (fa - ya)
        jac = (wa[:, :, None] * jac_rep) @ transform
        jac_t = jac.transpose(0, 2, 1)
        grad = (jac_t @ r[:, :, None])[:, :, 0]
        hess = jac_t @ jac
        # Variables on a bound with the gradient pushing outwards are held fixed.
        tol = np.maximum(np.abs(qa), 1.0) * 1e-12
        held = ((qa - lower <= tol) & (grad > 0)) | ((upper - qa <= tol) & (grad < 0))
        free = ~held
        grad_f = np.where(free, grad, 0.0)
        hess_f = hess * (free[:, :, None] & free[:, None, :]) + held[:, :, None] * eye
        diag = np.diagonal(hess_f, axis1=1, axis2=2)
        system = hess_f + (damping[active][:, None, None] * (diag[:, :, None] * eye + 1e-15 * eye))
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(system, -grad_f[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step = -grad_f / np.maximum(diag + damping[active][:, None], 1e-300)
        step = np.where(np.isfinite(step), step, 0.0)
        q_new = np.clip(qa + step, lower, upper)
        f_new, _ = _model(model, q_new @ transform.T, t)
        cost_new = np.sum((wa * (f_new - ya)) ** 2, axis=1)
        cost_old = cost[active]
        accept = np.isfinite(cost_new) & (cost_new <= cost_old)
        iterations[active] += 1

        moved = np.abs(q_new - qa)
        small_step = np.all(moved <= 1e-10 * (np.abs(qa) + 1e-10), axis=1)
        small_gain = (cost_old - cost_new) <= 1e-14 * cost_old + 1e-30
        small_grad = np.max(np.abs(grad_f), axis=1) <= 1e-13 * (1.0 + cost_old)
        done = (accept & (small_step | small_gain)) | small_grad

        q[active[accept]] = q_new[accept]
        cost[active[accept]] = cost_new[accept]
        damping[active] = np.where(
            accept, np.maximum(damping[active] * 0.3, 1e-12), damping[active] * 10.0
        )
        stalled = damping[active] > 1e12
        converged[active[done]] = True
        active = active[~(done | stalled)]
    return q, iterations, converged


def _batched_covariance(
    jac: FloatArray, transform: FloatArray, ssr: FloatArray, m: int, *, weighted: bool
) -> FloatArray:
    """(JᵀJ)⁻¹ per curve, in reported parameters; NaN when singular or not estimable."""
    n, _, k = jac.shape
    info = jac.transpose(0, 2, 1) @ jac
    with np.errstate(all="ignore"):
        u, s, vt = np.linalg.svd(info)
        ok = np.isfinite(s).all(axis=1) & (s[:, -1] > s[:, 0] * 1e-14) & (s[:, 0] > 0)
        inv_s = np.where(ok[:, None], 1.0 / np.where(s > 0, s, 1.0), 0.0)
        cov = np.einsum("nji,nj,nkj->nik", vt, inv_s, u)
    if not weighted:
        if m <= k:
            ok = np.zeros(n, dtype=bool)
        else:
            cov = cov * (ssr / (m - k))[:, None, None]
    cov = transform @ cov @ transform.T
    cov[~ok] = np.nan
    return np.asarray(cov, dtype=np.float64)
