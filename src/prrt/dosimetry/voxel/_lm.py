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

# A model maps parameters to (values f_i, Jacobian columns J_i[k]) or values only.
ModelFn = Callable[[Sequence[Any], bool], tuple[list[Any], list[list[Any]]]]


def _solve(ops: ArrayOps, matrix: list[list[Any]], rhs: list[Any]) -> list[Any]:
    """Gaussian elimination without pivoting (the damped normal matrix is SPD)."""
    size = len(rhs)
    m = [row[:] for row in matrix]
    b = rhs[:]
    for i in range(size):
        pivot = m[i][i]
        pivot = ops.where(pivot > 0, pivot, ops.full_like(pivot, 1.0))
        m[i][i] = pivot
        for j in range(i + 1, size):
            factor = m[j][i] / pivot
            for c in range(i + 1, size):
                m[j][c] = m[j][c] - factor * m[i][c]
            b[j] = b[j] - factor * b[i]
    x: list[Any] = [None] * size
    for i in range(size - 1, -1, -1):
        acc = b[i]
        for c in range(i + 1, size):
            acc = acc - m[i][c] * x[c]
        x[i] = acc / m[i][i]
    return x


def _sum_squares(y: Sequence[Any], values: Sequence[Any]) -> Any:
    total = 0.0 * y[0]
    for yi, fi in zip(y, values, strict=True):
        res = yi - fi
        total = total + res * res
    return total


def _levenberg_marquardt(
    ops: ArrayOps,
    y: Sequence[Any],
    params: list[Any],
    model: ModelFn,
    project: Callable[[list[Any]], list[Any]],
    iterations: int,
) -> tuple[list[Any], Any]:
    """Run LM on every curve; curves that stop improving are set aside (compaction).

    Every ``_BLOCK`` iterations, curves whose sum of squares fell by less than
    ``_RTOL·SSR + _ATOL`` during the block are considered converged: their
    parameters are stored and later iterations work on the others only.
    """
    size = len(params)
    full = [p + 0.0 for p in params]
    ssr_full = _sum_squares(y, model(params, False)[0])
    index: Any = None  # None: all curves active
    y_act = list(y)
    p_act = list(params)
    ssr = ssr_full + 0.0
    mu = ops.full_like(y[0], 1e-3)
    block_start = ssr
    for iteration in range(iterations):
        values, jac = model(p_act, True)
        h = [[0.0 * y_act[0] for _ in range(size)] for _ in range(size)]
        g = [0.0 * y_act[0] for _ in range(size)]
        for i, yi in enumerate(y_act):
            res = yi - values[i]
            for a in range(size):
                ja = jac[i][a]
                g[a] = g[a] + ja * res
                for b in range(a, size):
                    h[a][b] = h[a][b] + ja * jac[i][b]
        damped = [[h[min(a, b)][max(a, b)] for b in range(size)] for a in range(size)]
        for a in range(size):
            damped[a][a] = h[a][a] * (1.0 + mu) + 1e-12
        step = _solve(ops, damped, g)
        trial = project([p_act[k] + step[k] for k in range(size)])
        trial_ssr = _sum_squares(y_act, model(trial, False)[0])
        accept = (trial_ssr < ssr) & ops.isfinite(trial_ssr)
        p_act = [ops.where(accept, trial[k], p_act[k]) for k in range(size)]
        ssr = ops.where(accept, trial_ssr, ssr)
        mu = ops.clamp(ops.where(accept, mu * 0.3, mu * 10.0), 1e-10, 1e10)
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
            y_act = [v[keep] for v in y_act]
            p_act = [p[keep] for p in p_act]
            ssr = ssr[keep]
            mu = mu[keep]
            block_start = ssr
    full, ssr_full = _store(full, ssr_full, p_act, ssr, index)
    return full, ssr_full


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


def biexponential_fit(
    ops: ArrayOps,
    y: Sequence[Any],
    tau: Sequence[float],
    kp: float,
    init: tuple[Any, Any, Any, Any],
    iterations: int,
) -> tuple[Any, Any, Any]:
    """Fit ``a_f·e^(-k_f τ) + a_s·e^(-k_s τ)``; return (integral, A(0), ssr)."""
    lo, hi = _LOG_RATE_BOUNDS

    def model(p: Sequence[Any], with_jac: bool) -> tuple[list[Any], list[list[Any]]]:
        a_f, a_s, r, q = p
        er = ops.exp(r)
        eq = ops.exp(q)
        k_s = kp + er
        k_f = k_s + eq
        values: list[Any] = []
        jac: list[list[Any]] = []
        for t in tau:
            e_f = ops.exp(-k_f * t)
            e_s = ops.exp(-k_s * t)
            fast = a_f * e_f
            f = fast + a_s * e_s
            values.append(f)
            if with_jac:
                jac.append([e_f, e_s, -(t * er) * f, -(t * eq) * fast])
        return values, jac

    def project(p: list[Any]) -> list[Any]:
        return [p[0], p[1], ops.clamp(p[2], lo, hi), ops.clamp(p[3], lo, hi)]

    (a_f, a_s, r, q), ssr = _levenberg_marquardt(ops, y, list(init), model, project, iterations)
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
    lo, hi = _LOG_RATE_BOUNDS

    def model(p: Sequence[Any], with_jac: bool) -> tuple[list[Any], list[list[Any]]]:
        a, r, q = p
        er = ops.exp(r)
        eq = ops.exp(q)
        k_w = kp + er
        k_u = k_w + eq
        values: list[Any] = []
        jac: list[list[Any]] = []
        for t in tau:
            e_w = ops.exp(-k_w * t)
            e_u = ops.exp(-k_u * t)
            shape = e_w - e_u
            values.append(a * shape)
            if with_jac:
                jac.append([shape, -(t * er) * a * shape, (t * eq) * a * e_u])
        return values, jac

    def project(p: list[Any]) -> list[Any]:
        return [p[0], ops.clamp(p[1], lo, hi), ops.clamp(p[2], lo, hi)]

    (a, r, q), ssr = _levenberg_marquardt(ops, y, list(init), model, project, iterations)
    k_w = kp + ops.exp(r)
    eq = ops.exp(q)
    k_u = k_w + eq
    return a * eq / (k_w * k_u), a, ssr
