"""Element-wise stages of the voxel TIA fit chain (:mod:`prrt.dosimetry.voxel.tia`).

The stages of the chain (scaling, trapezoid and mono-exponential fallbacks and
the start of the Levenberg–Marquardt fits, then the acceptance of the
bi-exponential and uptake–washout fits) are module-level functions that
``ops.compiled`` may compile (torch on CUDA); :func:`_fit_chunk` runs them on
one chunk of curves.  The acceptance rules are those of the module docstring of
:mod:`prrt.dosimetry.voxel.tia`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prrt.dosimetry.voxel._array_ops import ArrayOps
from prrt.dosimetry.voxel._lm import biexponential_fit, uptake_washout_fit
from prrt.dosimetry.voxel.tia_methods import TiaMethod, VoxelFitModel

__all__: list[str] = []


def _prepare(
    ops: ArrayOps, y_raw: Sequence[Any], tau: tuple[float, ...], kp: float, model: str
) -> tuple[Any, ...]:
    """Element-wise start of :func:`_fit_chunk`: scaling, trapezoid, mono fit, LM start.

    Returns ``(y, positive, scale, tia, code, tia_trap, tau_peak, k_s0, init)``
    (``y`` and ``init`` are lists); ``k_s0`` and ``init`` are ``None`` when no
    bi-exponential/uptake fit follows.
    """
    n = len(tau)
    peak_value = y_raw[0]
    for v in y_raw[1:]:
        peak_value = ops.maximum(peak_value, v)
    positive = peak_value > 0
    one = ops.full_like(peak_value, 1.0)
    zero = 0.0 * peak_value
    scale = ops.where(positive, peak_value, one)
    y = [v / scale for v in y_raw]
    yc = [ops.clamp(v, 0.0, None) for v in y]

    # Zero-start cumulative trapezoid C_i and the physical tail (last fallback).
    cum = [0.5 * tau[0] * yc[0]]
    for i in range(1, n):
        cum.append(cum[-1] + 0.5 * (tau[i] - tau[i - 1]) * (yc[i - 1] + yc[i]))
    tia_trap = cum[-1] + yc[-1] / kp

    # First index of the maximum (one-hot) and the points from it onwards.
    found = y[0] >= 1.0
    peak = [found]
    after = [found]
    for i in range(1, n):
        is_peak = (y[i] >= 1.0) & ~found
        found = found | is_peak
        peak.append(is_peak)
        after.append(found)

    # Mono-exponential tail: weighted log-linear least squares.
    sw = swt = swtt = swl = swtl = count = zero
    for i in range(n):
        use = after[i] & (y[i] > 0)
        w = ops.where(use, y[i] * y[i], zero)
        logy = ops.log(ops.where(use, y[i], one))
        sw = sw + w
        swt = swt + w * tau[i]
        swtt = swtt + w * (tau[i] * tau[i])
        swl = swl + w * logy
        swtl = swtl + w * (tau[i] * logy)
        count = count + ops.where(use, one, zero)
    den = sw * swtt - swt * swt
    slope = (sw * swtl - swt * swl) / ops.where(den > 0, den, one)
    log_a0 = (swl - slope * swt) / ops.where(sw > 0, sw, one)
    k_mono = -slope
    k_mono_safe = ops.where(k_mono > 0, k_mono, one * kp)
    tau_peak = zero
    cum_peak = zero
    for i in range(n):
        tau_peak = tau_peak + ops.where(peak[i], one * tau[i], zero)
        cum_peak = cum_peak + ops.where(peak[i], cum[i], zero)
    tail = ops.exp(ops.clamp(log_a0 - k_mono_safe * tau_peak, None, 80.0)) / k_mono_safe
    tia_mono = ops.where(
        peak[0], ops.exp(ops.clamp(log_a0, None, 80.0)) / k_mono_safe, cum_peak + tail
    )
    mono_ok = (
        (count >= 2)
        & (den > 0)
        & (k_mono >= kp * (1.0 - 1e-4))
        & ops.isfinite(tia_mono)
        & (tia_mono > 0)
    )

    if model == VoxelFitModel.TRAPEZOID.value:
        code = one * float(TiaMethod.TRAPEZOID.code)
        tia = tia_trap
    else:
        code = ops.where(mono_ok, one * float(TiaMethod.MONOEXPONENTIAL.code), one * 3.0)
        tia = ops.where(mono_ok, tia_mono, tia_trap)
    k_s0: Any = None
    init: Any = None
    if model == VoxelFitModel.BIEXPONENTIAL.value and n >= 3:
        # Slow rate from the last two points (≥ physical decay), fast term from the first point.
        k_s0 = ops.log(ops.clamp(yc[-2], 1e-6, None) / ops.clamp(yc[-1], 1e-6, None))
        k_s0 = ops.clamp(k_s0 / (tau[-1] - tau[-2]), kp * 1.01, None)
        k_s0 = ops.where(ops.isfinite(k_s0), k_s0, one * (1.5 * kp))
        if n >= 4:
            a_s0 = ops.clamp(yc[-1], 1e-6, None) * ops.exp(ops.clamp(k_s0 * tau[-1], None, 60.0))
            k_f0 = k_s0 + 1.0 / tau[0]
            a_f0 = (y[0] - a_s0 * ops.exp(-k_s0 * tau[0])) * ops.exp(k_f0 * tau[0] - k_s0 * 0.0)
            a_f0 = ops.where(ops.isfinite(a_f0), a_f0, zero)
            init = [a_f0, a_s0, ops.log(k_s0 - kp), ops.log(k_f0 - k_s0)]
    return y, positive, scale, tia, code, tia_trap, tau_peak, k_s0, init


def _take_biexp(
    ops: ArrayOps,
    tia: Any,
    code: Any,
    tia_bi: Any,
    a_zero: Any,
    ssr: Any,
    tia_trap: Any,
    tau0: float,
) -> tuple[Any, Any, Any]:
    """Acceptance of the bi-exponential fit (module docstring), element-wise."""
    fit_ok = (
        ops.isfinite(tia_bi)
        & (tia_bi > 0)
        & ops.isfinite(ssr)
        & (a_zero >= -0.05)
        & (a_zero <= 3.0)
        & (tia_bi <= 2.0 * (tia_trap + tau0))
    )
    code = ops.where(fit_ok, 0.0 * code + float(TiaMethod.BIEXPONENTIAL.code), code)
    tia = ops.where(fit_ok, tia_bi, tia)
    return tia, code, fit_ok


def _uptake_init(
    ops: ArrayOps, ys: Sequence[Any], k_s0s: Any, tau_peak: Any, tau: tuple[float, ...], kp: float
) -> list[Any]:
    """Start of the uptake–washout fit: rates from the bi-exponential start, amplitude
    by linear least squares."""
    k_u0 = k_s0s + 2.0 / ops.clamp(tau_peak, tau[0], None)
    shape0 = [ops.exp(-k_s0s * t) - ops.exp(-k_u0 * t) for t in tau]
    syg = sgg = 0.0 * ys[0]
    for i in range(len(tau)):
        syg = syg + ys[i] * shape0[i]
        sgg = sgg + shape0[i] * shape0[i]
    a0 = ops.clamp(syg / ops.clamp(sgg, 1e-30, None), 1e-6, None)
    return [a0, ops.log(k_s0s - kp), ops.log(k_u0 - k_s0s)]


def _take_uptake(
    ops: ArrayOps,
    tia: Any,
    code: Any,
    tia_up: Any,
    a_up: Any,
    ssr_up: Any,
    tia_trap: Any,
    tau0: float,
) -> tuple[Any, Any]:
    """Acceptance of the uptake–washout fit, element-wise."""
    up_ok = (
        ops.isfinite(tia_up)
        & (tia_up > 0)
        & (a_up > 0)
        & ops.isfinite(ssr_up)
        & (tia_up <= 2.0 * (tia_trap + tau0))
    )
    code = ops.where(up_ok, 0.0 * tia_up + float(TiaMethod.UPTAKE_WASHOUT.code), code)
    return ops.where(up_ok, tia_up, tia), code


def _fit_chunk(
    ops: ArrayOps,
    y_raw: Sequence[Any],
    tau: Sequence[float],
    kp: float,
    model: VoxelFitModel,
    iterations: int,
) -> tuple[Any, Any]:
    """Integrate curves (scaled time ``tau``, scaled decay constant ``kp``).

    Returns the TIA in units of (activity × scaled time) and the method code.
    The element-wise stages are module-level functions that ``ops.compiled``
    may compile (torch on CUDA); the uptake–washout fit runs on the subset of
    curves the bi-exponential left (compacted: one synchronisation).
    """
    taus = tuple(float(t) for t in tau)
    y, positive, scale, tia, code, tia_trap, tau_peak, k_s0, init = ops.compiled(_prepare)(
        ops, list(y_raw), taus, kp, model.value
    )
    if k_s0 is not None:
        fit_ok = positive & ~positive
        if init is not None:
            tia_bi, a_zero, ssr = biexponential_fit(ops, y, taus, kp, tuple(init), iterations)
            tia, code, fit_ok = ops.compiled(_take_biexp)(
                ops, tia, code, tia_bi, a_zero, ssr, tia_trap, taus[0]
            )
        # Uptake-washout only where the bi-exponential failed (compacted subset).
        todo = ops.flatnonzero(~fit_ok & positive)
        n_todo = int(todo.shape[0])
        if n_todo > 0:
            ys = [v[todo] for v in y]
            init_up = ops.compiled(_uptake_init)(ops, ys, k_s0[todo], tau_peak[todo], taus, kp)
            tia_up, a_up, ssr_up = uptake_washout_fit(ops, ys, taus, kp, tuple(init_up), iterations)
            tia_sub, code_sub = ops.compiled(_take_uptake)(
                ops, tia[todo], code[todo], tia_up, a_up, ssr_up, tia_trap[todo], taus[0]
            )
            code[todo] = code_sub
            tia[todo] = tia_sub
    code = ops.where(positive, code, 0.0 * code)
    tia = ops.where(positive, tia * scale, 0.0 * tia)
    return tia, code
