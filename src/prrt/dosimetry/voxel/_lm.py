"""Batched Levenberg–Marquardt fits of exponential TAC models, one curve per array element.

Every quantity is a 1-D array over curves (voxels); the few time points and
parameters are Python lists, so the same code runs on NumPy and PyTorch
(:mod:`prrt.dosimetry.voxel._array_ops`). Time is scaled (``τ = t / t_last``)
and each curve divided by its maximum before the fit, so that all parameters
are of order one.

Models (rates ``k`` in units of ``1/t_last``; ``kp`` is the physical decay
constant; the parameterisation keeps every effective rate ≥ ``kp``, i.e. the
biological clearance is never negative, ``dosimetry-reference.md`` §4.1):

* bi-exponential ``a_f·exp(-k_f τ) + a_s·exp(-k_s τ)`` with parameters
  ``(a_f, a_s, r, q)``: ``k_s = kp + e^r``, ``k_f = k_s + e^q``; ``a_f < 0``
  describes uptake. Integral ``a_f/k_f + a_s/k_s`` (§4.1 "general").
* uptake–washout ``a·(exp(-k_w τ) - exp(-k_u τ))`` with ``(a, r, q)``:
  ``k_w = kp + e^r``, ``k_u = k_w + e^q``. Integral ``a·(1/k_w - 1/k_u)``.

Levenberg–Marquardt (Marquardt's diagonal scaling; Press et al., Numerical
Recipes, 3rd ed., §15.5.2): a step is kept for a curve only where it lowers
that curve's sum of squared residuals; the damping of each curve adapts
separately. A fixed number of iterations keeps the work predictable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prrt.dosimetry.voxel._array_ops import ArrayOps

__all__ = ["biexponential_fit", "uptake_washout_fit"]

_LOG_RATE_BOUNDS = (-30.0, 8.0)
#: Convergence check every _BLOCK iterations: curves whose sum of squares (of the
#: curve scaled to a maximum of 1) fell by less than _RTOL·SSR + _ATOL in the block
#: stop iterating (an RMS change below ~3e-5 of the peak moves the TIA negligibly).
_BLOCK = 4
_RTOL = 1e-6
_ATOL = 1e-9

# A model maps parameters (1-D arrays over curves) to the values F (T × N) and,
# when asked, the Jacobian columns J[k] (T × N each).
ModelFn = Callable[[Sequence[Any], bool], tuple[Any, list[Any]]]


def _sum_squares(y: Any, values: Any) -> Any:
    res = y - values
    return (res * res).sum(0)


def _lm_iteration(
    ops: ArrayOps,
    y: Any,
    params: list[Any],
    ssr: Any,
    mu: Any,
    active: Any,
    model: ModelFn,
    project: Callable[[list[Any]], list[Any]],
) -> tuple[list[Any], Any, Any]:
    """One damped Gauss–Newton step per curve, kept only where it lowers the SSR.

    ``active`` (a mask, or ``None`` for all curves) freezes converged curves:
    their parameters, SSR and use are unchanged. Element-wise only (the small
    normal equations are solved in closed form), so it fuses under ``torch.compile``.
    """
    size = len(params)
    values, jac = model(params, True)
    res = y - values
    g = [(jac[a] * res).sum(0) for a in range(size)]
    h = [[ssr] * size for _ in range(size)]
    for a in range(size):
        for b in range(a, size):
            h[a][b] = (jac[a] * jac[b]).sum(0)
            h[b][a] = h[a][b]
    # Marquardt scaling of the diagonal; the small floor keeps the matrix regular.
    for a in range(size):
        h[a][a] = h[a][a] * (1.0 + mu) + 1e-12
    step = ops.solve(h, g)
    trial = project([params[k] + step[k] for k in range(size)])
    trial_ssr = _sum_squares(y, model(trial, False)[0])
    accept = (trial_ssr < ssr) & ops.isfinite(trial_ssr)
    if active is not None:
        accept = accept & active
    params = [ops.where(accept, trial[k], params[k]) for k in range(size)]
    ssr = ops.where(accept, trial_ssr, ssr)
    mu = ops.clamp(ops.where(accept, mu * 0.3, mu * 10.0), 1e-10, 1e10)
    return params, ssr, mu


def _levenberg_marquardt(
    ops: ArrayOps,
    y: Any,
    params: list[Any],
    ssr: Any,
    iterations: int,
    step: Callable[..., tuple[list[Any], Any, Any]],
) -> tuple[list[Any], Any]:
    """Run LM on every curve (``y``: T × N); curves that stop improving are set aside.

    Every ``_BLOCK`` iterations, curves whose sum of squares fell by less than
    ``_RTOL·SSR + _ATOL`` during the block are considered converged and keep
    their parameters. On NumPy they are compacted out of the arrays; on torch
    (``ops.fixed_shape``) they are frozen by a mask instead, which avoids a
    device synchronisation and a copy per block and keeps the shapes fixed (the
    results are the same). ``ssr`` is the sum of squares at the start
    ``params``; ``step(y, params, ssr, mu, active)`` is one :func:`_lm_iteration`
    (possibly compiled).
    """
    mu = ops.full_like(ssr, 1e-3)
    if ops.fixed_shape:
        return _lm_masked(y, list(params), ssr, mu, iterations, step)
    size = len(params)
    full = [p + 0.0 for p in params]
    ssr_full = ssr + 0.0
    index: Any = None  # None: all curves active
    y_act = y
    p_act = list(params)
    block_start = ssr
    for iteration in range(iterations):
        p_act, ssr, mu = step(y_act, p_act, ssr, mu, None)
        if (iteration + 1) % _BLOCK == 0 and iteration + 1 < iterations:
            improving = (block_start - ssr) > _RTOL * block_start + _ATOL
            keep = ops.flatnonzero(improving)
            if int(keep.shape[0]) == int(ssr.shape[0]):
                block_start = ssr
                continue
            full, ssr_full = _store(full, ssr_full, p_act, ssr, index)
            if int(keep.shape[0]) == 0:
                return full, ssr_full
            index = keep if index is None else index[keep]
            y_act = y_act[:, keep]
            p_act = [p[keep] for p in p_act[:size]]
            ssr = ssr[keep]
            mu = mu[keep]
            block_start = ssr
    full, ssr_full = _store(full, ssr_full, p_act, ssr, index)
    return full, ssr_full


def _lm_masked(
    y: Any,
    params: list[Any],
    ssr: Any,
    mu: Any,
    iterations: int,
    step: Callable[..., tuple[list[Any], Any, Any]],
) -> tuple[list[Any], Any]:
    """LM with converged curves frozen by a mask (fixed shapes; one sync per block)."""
    # All curves start active (a NaN SSR is never lowered: frozen, as on NumPy, where no
    # step of such a curve is ever accepted).
    active = ssr == ssr
    block_start = ssr
    for iteration in range(iterations):
        params, ssr, mu = step(y, params, ssr, mu, active)
        if (iteration + 1) % _BLOCK == 0 and iteration + 1 < iterations:
            active = active & ((block_start - ssr) > _RTOL * block_start + _ATOL)
            block_start = ssr
            if not bool(active.any()):
                break
    return params, ssr


def _store(
    full: list[Any], ssr_full: Any, p_act: list[Any], ssr: Any, index: Any
) -> tuple[list[Any], Any]:
    """Write the active curves' parameters back into the full arrays."""
    if index is None:
        return list(p_act), ssr
    for k, p in enumerate(p_act):
        full[k][index] = p
    ssr_full[index] = ssr
    return full, ssr_full


def _clamp_log_rates(p: list[Any], first: int, ops: ArrayOps) -> list[Any]:
    lo, hi = _LOG_RATE_BOUNDS
    return p[:first] + [ops.clamp(v, lo, hi) for v in p[first:]]


def _biexp_model(
    ops: ArrayOps, p: Sequence[Any], t: Any, kp: float, with_jac: bool
) -> tuple[Any, list[Any]]:
    a_f, a_s, r, q = p
    er = ops.exp(r)
    eq = ops.exp(q)
    k_s = kp + er
    k_f = k_s + eq
    e_f = ops.exp(t * -k_f)
    e_s = ops.exp(t * -k_s)
    fast = a_f * e_f
    values = fast + a_s * e_s
    if not with_jac:
        return values, []
    return values, [e_f, e_s, (t * -er) * values, (t * -eq) * fast]


def _uptake_model(
    ops: ArrayOps, p: Sequence[Any], t: Any, kp: float, with_jac: bool
) -> tuple[Any, list[Any]]:
    a, r, q = p
    er = ops.exp(r)
    eq = ops.exp(q)
    k_w = kp + er
    k_u = k_w + eq
    e_w = ops.exp(t * -k_w)
    e_u = ops.exp(t * -k_u)
    shape = e_w - e_u
    values = a * shape
    if not with_jac:
        return values, []
    return values, [shape, (t * -er) * values, (t * eq) * (a * e_u)]


def _biexp_step(
    ops: ArrayOps, y: Any, p: list[Any], ssr: Any, mu: Any, active: Any, t: Any, kp: float
) -> tuple[list[Any], Any, Any]:
    """One LM iteration of the bi-exponential (module level: compiled once, reused)."""
    return _lm_iteration(
        ops,
        y,
        p,
        ssr,
        mu,
        active,
        lambda q, jac: _biexp_model(ops, q, t, kp, jac),
        lambda q: _clamp_log_rates(q, 2, ops),
    )


def _uptake_step(
    ops: ArrayOps, y: Any, p: list[Any], ssr: Any, mu: Any, active: Any, t: Any, kp: float
) -> tuple[list[Any], Any, Any]:
    """One LM iteration of the uptake–washout model."""
    return _lm_iteration(
        ops,
        y,
        p,
        ssr,
        mu,
        active,
        lambda q, jac: _uptake_model(ops, q, t, kp, jac),
        lambda q: _clamp_log_rates(q, 1, ops),
    )


def _fit(
    ops: ArrayOps,
    y: Sequence[Any],
    tau: Sequence[float],
    kp: float,
    init: Sequence[Any],
    iterations: int,
    model: Callable[..., tuple[Any, list[Any]]],
    step_fn: Callable[..., tuple[list[Any], Any, Any]],
) -> tuple[list[Any], Any]:
    t = ops.column(tau, y[0])
    compiled = ops.compiled(step_fn)
    stacked = ops.stack(y)
    ssr = ops.compiled(_start_ssr)(ops, stacked, list(init), t, kp, model)

    def step(y_act: Any, p: list[Any], ssr: Any, mu: Any, active: Any) -> Any:
        return compiled(ops, y_act, p, ssr, mu, active, t, kp)

    return _levenberg_marquardt(
        ops,
        stacked,
        list(init),
        ssr,
        iterations,
        step,
    )


def _start_ssr(
    ops: ArrayOps,
    y: Any,
    p: list[Any],
    t: Any,
    kp: float,
    model: Callable[..., tuple[Any, list[Any]]],
) -> Any:
    return _sum_squares(y, model(ops, p, t, kp, False)[0])


def biexponential_fit(
    ops: ArrayOps,
    y: Sequence[Any],
    tau: Sequence[float],
    kp: float,
    init: tuple[Any, Any, Any, Any],
    iterations: int,
) -> tuple[Any, Any, Any]:
    """Fit ``a_f·e^(-k_f τ) + a_s·e^(-k_s τ)``; return (integral, A(0), ssr)."""
    (a_f, a_s, r, q), ssr = _fit(ops, y, tau, kp, init, iterations, _biexp_model, _biexp_step)
    k_s = kp + ops.exp(r)
    k_f = k_s + ops.exp(q)
    return a_f / k_f + a_s / k_s, a_f + a_s, ssr


def uptake_washout_fit(
    ops: ArrayOps,
    y: Sequence[Any],
    tau: Sequence[float],
    kp: float,
    init: tuple[Any, Any, Any],
    iterations: int,
) -> tuple[Any, Any, Any]:
    """Fit ``a·(e^(-k_w τ) - e^(-k_u τ))``; return (integral, amplitude a, ssr)."""
    (a, r, q), ssr = _fit(ops, y, tau, kp, init, iterations, _uptake_model, _uptake_step)
    k_w = kp + ops.exp(r)
    eq = ops.exp(q)
    k_u = k_w + eq
    return a * eq / (k_w * k_u), a, ssr
