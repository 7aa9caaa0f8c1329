"""Voxel-wise time-integrated activity (TIA): vectorised curve fits with fallbacks.

Every voxel's time-activity curve (TAC) ``A_i`` at times ``t_i`` after the
administration is integrated with the first method of this chain that succeeds
(``dosimetry-reference.md`` §4.1 models; all voxels are processed at once, as
arrays, on the CPU with NumPy or on a GPU with PyTorch):

1. ``biexp`` — bi-exponential with uptake ``A(t) = A0·(exp(-λw t) - exp(-λu t))``
   (the "mono with uptake" model of §4.1, a bi-exponential whose two amplitudes
   are tied so that ``A(0) = 0``; three parameters, identifiable with 3–4 time
   points as §4.2 requires), ``TIA = A0·(1/λw - 1/λu)``. Fitted by batched
   Levenberg–Marquardt (least squares on the activity, each curve scaled to its
   maximum) with ``λw = λphys + exp(r)`` and ``λu = λw + exp(q)``, so that the
   biological clearance is never negative (§4.1 constraint) and uptake is
   faster than washout; initialised from the log-linear tail fit below.
2. ``mono`` — mono-exponential fitted (log-linear, weights ``A_i²``, which
   approximates least squares on the activity) to the points from the curve's
   maximum onwards; ``TIA = A0/λ`` when the maximum is the first point,
   otherwise the zero-start trapezoid up to the maximum plus the fitted tail.
   Refused when ``λ < λphys`` (negative biological clearance).
3. ``trapezoid`` — trapezoid over the measured points with a linear ramp from
   ``A(0) = 0`` ("zero start") and the physical-decay tail ``A_last/λphys``
   (conservative; §4.1, TIA-05/06 conventions). Always defined.

A voxel whose values are all ≤ 0 gets a TIA of 0 (method ``zero``). The number
of voxels integrated by each method is part of the result.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from prrt._typing import BoolArray, FloatArray
from prrt.dosimetry.voxel._array_ops import ArrayOps, NumpyOps, TorchOps
from prrt.dosimetry.voxel.backends import ComputeBackend, Device, import_torch, select_backend
from prrt.errors import InvalidInputError

__all__ = [
    "TiaMethod",
    "VoxelFitModel",
    "VoxelTiaResult",
    "fit_tia_curves",
    "fit_voxel_tia",
    "trapezoid_physical_tail",
]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16


class VoxelFitModel(str, Enum):
    """First model of the per-voxel chain (later ones are the fallbacks)."""

    BIEXPONENTIAL = "biexp"
    MONOEXPONENTIAL = "mono"
    TRAPEZOID = "trapezoid"


class TiaMethod(str, Enum):
    """Method that produced a voxel's TIA; the value is its code in ``method_map``."""

    ZERO = "zero"
    BIEXPONENTIAL = "biexp"
    MONOEXPONENTIAL = "mono"
    TRAPEZOID = "trapezoid"
    OUTSIDE = "outside"

    @property
    def code(self) -> int:
        """Integer code stored in :attr:`VoxelTiaResult.method_map`."""
        return _CODES[self]


_CODES = {
    TiaMethod.ZERO: 0,
    TiaMethod.BIEXPONENTIAL: 1,
    TiaMethod.MONOEXPONENTIAL: 2,
    TiaMethod.TRAPEZOID: 3,
    TiaMethod.OUTSIDE: 4,
}


@dataclass(frozen=True, slots=True)
class VoxelTiaResult:
    """Voxel-wise time-integrated activity.

    Attributes
    ----------
    tia_bq_s
        TIA per voxel, Bq·s (float64, shape of one time point).
    method_map
        Per-voxel code of the method used (:attr:`TiaMethod.code`).
    method_counts
        Number of voxels per method (keys are :class:`TiaMethod` values).
    model
        The first model of the chain that was requested.
    backend
        Backend label, e.g. ``"numpy-cpu"`` or ``"torch-cuda"``.
    """

    tia_bq_s: FloatArray
    method_map: npt.NDArray[np.int8]
    method_counts: Mapping[str, int]
    model: VoxelFitModel
    backend: str
    times_s: tuple[float, ...] = field(default=())

    @property
    def total_tia_bq_s(self) -> float:
        """Sum of the TIA over all voxels, Bq·s."""
        return float(self.tia_bq_s.sum())


def trapezoid_physical_tail(
    activity_bq: npt.ArrayLike, *, times_s: Sequence[float], decay_constant_per_s: float
) -> FloatArray:
    """Zero-start trapezoid plus physical-decay tail, along the first axis.

    Parameters
    ----------
    activity_bq
        Activities, first axis = time points.
    times_s
        Times after the administration, s, strictly increasing.
    decay_constant_per_s
        Physical decay constant of the nuclide, 1/s.

    Returns
    -------
    numpy.ndarray
        TIA, Bq·s (negative activities count as 0).

    Examples
    --------
    The kidney-like curve of ``dosimetry-reference.md`` §4.1 (TIA-05: 4, 24, 96,
    168 h; 60, 55, 30, 18 MBq): zero-start trapezoid 6058 MBq·h plus physical
    tail 4142.7 MBq·h (Lu-177, T½ = 6.647 d):

    >>> lam = np.log(2) / (6.647 * 86400)
    >>> tia = trapezoid_physical_tail(
    ...     np.array([60e6, 55e6, 30e6, 18e6]),
    ...     times_s=[4 * 3600, 24 * 3600, 96 * 3600, 168 * 3600],
    ...     decay_constant_per_s=lam,
    ... )
    >>> round(float(tia) / 3600e6, 1)
    10200.7
    """
    values = np.clip(np.asarray(activity_bq, dtype=np.float64), 0.0, None)
    times = _check_times(times_s)
    lam = _check_lambda(decay_constant_per_s)
    total = 0.5 * times[0] * values[0]
    for i in range(1, len(times)):
        total = total + 0.5 * (times[i] - times[i - 1]) * (values[i - 1] + values[i])
    return np.asarray(total + values[-1] / lam, dtype=np.float64)


def _check_times(times_s: Sequence[float]) -> FloatArray:
    times = np.asarray([float(t) for t in times_s], dtype=np.float64)
    if times.ndim != 1 or times.size < 2:
        raise InvalidInputError(
            "times_s", list(times_s), "at least two time points after administration"
        )
    if not np.all(np.isfinite(times)):
        raise InvalidInputError(
            "times_s",
            list(times_s),
            "a time stamp for every time point",
            hint="a time point lacks its time",
        )
    if times[0] <= 0 or np.any(np.diff(times) <= 0):
        raise InvalidInputError(
            "times_s", list(times_s), "strictly increasing times after the administration (> 0 s)"
        )
    return times


def _check_lambda(decay_constant_per_s: float) -> float:
    lam = float(decay_constant_per_s)
    if not np.isfinite(lam) or lam <= 0:
        raise InvalidInputError(
            "decay_constant_per_s", decay_constant_per_s, "a positive decay constant (1/s)"
        )
    return lam


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
    """
    n = len(tau)
    peak_value = y_raw[0]
    for v in y_raw[1:]:
        peak_value = ops.maximum(peak_value, v)
    positive = peak_value > 0
    scale = ops.where(positive, peak_value, ops.full_like(peak_value, 1.0))
    y = [v / scale for v in y_raw]
    yc = [ops.clamp(v, 0.0, None) for v in y]

    # Zero-start cumulative trapezoid C_i and the physical tail (fallback 3).
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

    # Mono-exponential tail: weighted log-linear least squares (fallback 2).
    sw = swt = swtt = swl = swtl = count = 0.0 * y[0]
    for i in range(n):
        use = after[i] & (y[i] > 0)
        w = ops.where(use, y[i] * y[i], 0.0 * y[i])
        logy = ops.log(ops.where(use, y[i], ops.full_like(y[i], 1.0)))
        sw = sw + w
        swt = swt + w * tau[i]
        swtt = swtt + w * (tau[i] * tau[i])
        swl = swl + w * logy
        swtl = swtl + w * (tau[i] * logy)
        count = count + ops.where(use, ops.full_like(y[i], 1.0), 0.0 * y[i])
    den = sw * swtt - swt * swt
    den_safe = ops.where(den > 0, den, ops.full_like(den, 1.0))
    slope = (sw * swtl - swt * swl) / den_safe
    sw_safe = ops.where(sw > 0, sw, ops.full_like(sw, 1.0))
    log_a0 = (swl - slope * swt) / sw_safe
    k_mono = -slope
    k_mono_safe = ops.where(k_mono > 0, k_mono, ops.full_like(k_mono, kp))
    tau_peak = 0.0 * y[0]
    cum_peak = 0.0 * y[0]
    for i in range(n):
        tau_peak = tau_peak + ops.where(peak[i], ops.full_like(y[i], tau[i]), 0.0 * y[i])
        cum_peak = cum_peak + ops.where(peak[i], cum[i], 0.0 * y[i])
    tail = ops.exp(ops.clamp(log_a0 - k_mono_safe * tau_peak, None, 80.0)) / k_mono_safe
    tia_mono = ops.where(
        peak[0], ops.exp(ops.clamp(log_a0, None, 80.0)) / k_mono_safe, cum_peak + tail
    )
    mono_ok = (
        positive
        & (count >= 2)
        & (den > 0)
        & (k_mono >= kp * (1.0 - 1e-4))
        & ops.isfinite(tia_mono)
        & (tia_mono > 0)
    )

    code = ops.where(mono_ok, ops.full_like(y[0], 2.0), ops.full_like(y[0], 3.0))
    tia = ops.where(mono_ok, tia_mono, tia_trap)
    if model is VoxelFitModel.TRAPEZOID:
        code = ops.full_like(y[0], 3.0)
        tia = tia_trap
    elif model is VoxelFitModel.BIEXPONENTIAL and n >= 3:
        tia_bi, bi_ok = _fit_uptake_washout(ops, y, tau, kp, k_mono, mono_ok, tau_peak, iterations)
        bi_ok = bi_ok & positive
        code = ops.where(bi_ok, ops.full_like(y[0], 1.0), code)
        tia = ops.where(bi_ok, tia_bi, tia)
    code = ops.where(positive, code, ops.full_like(y[0], 0.0))
    tia = ops.where(positive, tia * scale, 0.0 * y[0])
    return tia, code


def _fit_uptake_washout(
    ops: ArrayOps,
    y: Sequence[Any],
    tau: Sequence[float],
    kp: float,
    k_mono: Any,
    mono_ok: Any,
    tau_peak: Any,
    iterations: int,
) -> tuple[Any, Any]:
    """Batched Levenberg–Marquardt for ``A·(exp(-kw τ) - exp(-ku τ))``.

    Parameters ``(A, r, q)`` with ``kw = kp + exp(r)``, ``ku = kw + exp(q)``.
    Returns the integral ``A·(1/kw - 1/ku)`` and the validity mask.
    """
    n = len(tau)
    one = ops.full_like(y[0], 1.0)
    kw0 = ops.where(mono_ok, ops.clamp(k_mono, kp * 1.001, None), one * (1.5 * kp))
    tau_first = ops.clamp(tau_peak, tau[0], None)
    r = ops.log(kw0 - kp)
    q = ops.log(2.0 / tau_first)

    def curves(r_: Any, q_: Any) -> tuple[Any, Any, list[Any], list[Any]]:
        er = ops.exp(r_)
        d = ops.exp(q_)
        kw = kp + er
        ku = kw + d
        ew = [ops.exp(-kw * t) for t in tau]
        eu = [ops.exp(-ku * t) for t in tau]
        return er, d, ew, eu

    er, d, ew, eu = curves(r, q)
    g = [ew[i] - eu[i] for i in range(n)]
    syg = sgg = 0.0 * y[0]
    for i in range(n):
        syg = syg + y[i] * g[i]
        sgg = sgg + g[i] * g[i]
    a = ops.clamp(syg / ops.clamp(sgg, 1e-30, None), 1e-12, None)
    ssr = 0.0 * y[0]
    for i in range(n):
        res = y[i] - a * g[i]
        ssr = ssr + res * res
    mu = one * 1e-3
    for _ in range(iterations):
        h00 = h01 = h02 = h11 = h12 = h22 = b0 = b1 = b2 = 0.0 * y[0]
        for i in range(n):
            gi = ew[i] - eu[i]
            res = y[i] - a * gi
            j0 = gi
            j1 = -(a * tau[i]) * gi * er
            j2 = (a * tau[i]) * eu[i] * d
            h00 = h00 + j0 * j0
            h01 = h01 + j0 * j1
            h02 = h02 + j0 * j2
            h11 = h11 + j1 * j1
            h12 = h12 + j1 * j2
            h22 = h22 + j2 * j2
            b0 = b0 + j0 * res
            b1 = b1 + j1 * res
            b2 = b2 + j2 * res
        # Marquardt scaling of the diagonal; the small floor keeps the matrix regular.
        m00 = h00 * (1.0 + mu) + 1e-12
        m11 = h11 * (1.0 + mu) + 1e-12
        m22 = h22 * (1.0 + mu) + 1e-12
        c00 = m11 * m22 - h12 * h12
        c01 = h02 * h12 - h01 * m22
        c02 = h01 * h12 - h02 * m11
        c11 = m00 * m22 - h02 * h02
        c12 = h01 * h02 - m00 * h12
        c22 = m00 * m11 - h01 * h01
        det = m00 * c00 + h01 * c01 + h02 * c02
        det_safe = ops.where(det != 0, det, one)
        da = (c00 * b0 + c01 * b1 + c02 * b2) / det_safe
        dr = (c01 * b0 + c11 * b1 + c12 * b2) / det_safe
        dq = (c02 * b0 + c12 * b1 + c22 * b2) / det_safe
        a_new = ops.clamp(a + da, 1e-12, None)
        r_new = ops.clamp(r + dr, -30.0, 8.0)
        q_new = ops.clamp(q + dq, -30.0, 8.0)
        er_new, d_new, ew_new, eu_new = curves(r_new, q_new)
        ssr_new = 0.0 * y[0]
        for i in range(n):
            res = y[i] - a_new * (ew_new[i] - eu_new[i])
            ssr_new = ssr_new + res * res
        accept = (ssr_new < ssr) & ops.isfinite(ssr_new) & (det != 0)
        a = ops.where(accept, a_new, a)
        r = ops.where(accept, r_new, r)
        q = ops.where(accept, q_new, q)
        ssr = ops.where(accept, ssr_new, ssr)
        er = ops.where(accept, er_new, er)
        d = ops.where(accept, d_new, d)
        ew = [ops.where(accept, ew_new[i], ew[i]) for i in range(n)]
        eu = [ops.where(accept, eu_new[i], eu[i]) for i in range(n)]
        mu = ops.where(accept, mu * 0.3, mu * 10.0)
        mu = ops.clamp(mu, 1e-9, 1e9)
    kw = kp + er
    ku = kw + d
    tia = a * d / (kw * ku)
    ok = ops.isfinite(tia) & (tia > 0) & ops.isfinite(ssr)
    return tia, ok


def fit_tia_curves(
    curves: Any,
    *,
    times_s: Sequence[float],
    decay_constant_per_s: float,
    model: VoxelFitModel | str = VoxelFitModel.BIEXPONENTIAL,
    iterations: int = 20,
) -> tuple[Any, Any]:
    """Integrate many TACs at once; the array library of ``curves`` is kept.

    Parameters
    ----------
    curves
        Activities, shape ``(T, N)``: T time points of N curves, Bq (NumPy
        array, or a torch tensor, which keeps the computation on its device).
    times_s
        Times after the administration, s, strictly increasing.
    decay_constant_per_s
        Physical decay constant, 1/s.
    model
        ``"biexp"`` (default), ``"mono"`` or ``"trapezoid"``: first model of the chain.
    iterations
        Levenberg–Marquardt iterations of the bi-exponential fit.

    Returns
    -------
    tuple
        ``(tia_bq_s, method_code)``, each of shape ``(N,)``, same library and
        floating type as ``curves``.

    Examples
    --------
    A mono-exponential curve with 20 % biological clearance per day on top of
    Lu-177 decay integrates to ``A0/λ``:

    >>> lam_p = np.log(2) / (6.647 * 86400); lam = lam_p + 0.2 / 86400
    >>> t = np.array([4.0, 24.0, 96.0, 168.0]) * 3600
    >>> curve = 1e6 * np.exp(-lam * t)[:, None]
    >>> tia, code = fit_tia_curves(curve, times_s=t, decay_constant_per_s=lam_p, model="mono")
    >>> round(float(tia[0] / (1e6 / lam)), 6), int(code[0])
    (1.0, 2)
    """
    times = _check_times(times_s)
    lam = _check_lambda(decay_constant_per_s)
    fit_model = _parse_model(model)
    t_scale = float(times[-1])
    tau = [float(t) / t_scale for t in times]
    kp = lam * t_scale
    if type(curves).__module__.startswith("torch"):
        ops: ArrayOps = TorchOps(import_torch())
    else:
        ops = NumpyOps()
    if int(curves.shape[0]) != len(tau):
        raise InvalidInputError(
            "activity",
            f"{int(curves.shape[0])} time points",
            f"{len(tau)} time points, one per time",
        )
    with ops.errstate():
        tia, code = _fit_chunk(
            ops, [curves[i] for i in range(len(tau))], tau, kp, fit_model, iterations
        )
    return tia * t_scale, code


def _parse_model(model: VoxelFitModel | str) -> VoxelFitModel:
    if isinstance(model, VoxelFitModel):
        return model
    try:
        return VoxelFitModel(str(model).strip().lower())
    except ValueError as err:
        raise InvalidInputError(
            "model", model, "one of " + ", ".join(repr(m.value) for m in VoxelFitModel)
        ) from err


def _run_backend(
    curves: npt.NDArray[np.float32],
    backend: ComputeBackend,
    times: FloatArray,
    lam: float,
    model: VoxelFitModel,
    iterations: int,
) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    n_vox = curves.shape[1]
    times_list = [float(t) for t in times]
    tia = np.empty(n_vox, dtype=np.float64)
    code = np.empty(n_vox, dtype=np.int8)
    if backend.uses_torch:
        torch = import_torch()
        chunk = n_vox if backend.device == "cuda" else 1 << 18
        for start in range(0, n_vox, max(chunk, 1)):
            part = torch.from_numpy(curves[:, start : start + chunk]).to(backend.torch_device())
            t_part, c_part = fit_tia_curves(
                part,
                times_s=times_list,
                decay_constant_per_s=lam,
                model=model,
                iterations=iterations,
            )
            tia[start : start + chunk] = t_part.double().cpu().numpy()
            code[start : start + chunk] = c_part.to(torch.int8).cpu().numpy()
        return tia, code
    for start in range(0, n_vox, _CHUNK):
        t_part, c_part = fit_tia_curves(
            curves[:, start : start + _CHUNK],
            times_s=times_list,
            decay_constant_per_s=lam,
            model=model,
            iterations=iterations,
        )
        tia[start : start + _CHUNK] = t_part
        code[start : start + _CHUNK] = c_part
    return tia, code


def fit_voxel_tia(
    activity_bq: npt.ArrayLike | Sequence[npt.ArrayLike],
    *,
    times_s: Sequence[float],
    decay_constant_per_s: float,
    model: VoxelFitModel | str = VoxelFitModel.BIEXPONENTIAL,
    mask: BoolArray | None = None,
    device: Device | str | None = None,
    iterations: int = 20,
) -> VoxelTiaResult:
    """Voxel-wise TIA of a series of co-registered activity maps.

    Parameters
    ----------
    activity_bq
        Activity per voxel at each time point, Bq: an array of shape
        ``(T, X, Y, Z)`` or a sequence of T arrays of one shape.
    times_s
        Times of the maps after the administration, s, strictly increasing.
    decay_constant_per_s
        Physical decay constant of the nuclide, 1/s.
    model
        First model of the per-voxel chain: ``"biexp"`` (default), ``"mono"``
        or ``"trapezoid"`` (see the module docstring).
    mask
        Voxels to integrate (e.g. the body); others get 0 and the method
        ``outside``. Default: every voxel.
    device
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"torch-cpu"``; ``None`` reads ``PRRT_DEVICE``.
    iterations
        Levenberg–Marquardt iterations of the bi-exponential fit.

    Returns
    -------
    VoxelTiaResult
        TIA map (Bq·s), per-voxel method codes and counts.

    Raises
    ------
    InvalidInputError
        On mismatched shapes, NaN/infinite activities, missing or non-increasing
        times, or a non-positive decay constant.

    Examples
    --------
    >>> lam = np.log(2) / (6.647 * 86400)
    >>> t = np.array([4.0, 24.0, 96.0, 168.0]) * 3600
    >>> maps = np.exp(-2 * lam * t)[:, None, None, None] * np.ones((4, 2, 2, 2))
    >>> result = fit_voxel_tia(maps, times_s=t, decay_constant_per_s=lam, model="mono", device="cpu")
    >>> round(float(result.tia_bq_s[0, 0, 0] * 2 * lam), 5), dict(result.method_counts)["mono"]
    (1.0, 8)
    """
    times = _check_times(times_s)
    lam = _check_lambda(decay_constant_per_s)
    fit_model = _parse_model(model)
    stack = _stack(activity_bq, len(times))
    shape = stack.shape[1:]
    if mask is None:
        inside = np.ones(shape, dtype=bool)
    else:
        inside = np.asarray(mask, dtype=bool)
        if inside.shape != shape:
            raise InvalidInputError(
                "mask", f"shape {inside.shape}", f"the shape of the activity maps {shape}"
            )
    backend = select_backend(device)
    flat_index = np.flatnonzero(inside)
    curves = np.ascontiguousarray(stack.reshape(len(times), -1)[:, flat_index], dtype=np.float32)
    tia_flat, code_flat = _run_backend(curves, backend, times, lam, fit_model, iterations)
    tia = np.zeros(int(np.prod(shape)), dtype=np.float64)
    codes = np.full(int(np.prod(shape)), TiaMethod.OUTSIDE.code, dtype=np.int8)
    tia[flat_index] = tia_flat
    codes[flat_index] = code_flat
    counts = {m.value: int(np.count_nonzero(codes == m.code)) for m in TiaMethod}
    logger.info("voxel TIA (%s, %s): %s", fit_model.value, backend.label, counts)
    return VoxelTiaResult(
        tia_bq_s=tia.reshape(shape),
        method_map=codes.reshape(shape),
        method_counts=counts,
        model=fit_model,
        backend=backend.label,
        times_s=tuple(float(t) for t in times),
    )


def _stack(activity_bq: npt.ArrayLike | Sequence[npt.ArrayLike], n_times: int) -> FloatArray:
    if isinstance(activity_bq, np.ndarray):
        stack = activity_bq
    else:
        maps = [np.asarray(a) for a in activity_bq]  # type: ignore[union-attr]
        shapes = {m.shape for m in maps}
        if len(shapes) != 1:
            raise InvalidInputError(
                "activity", f"shapes {sorted(shapes)}", "maps of one grid at every time point"
            )
        stack = np.stack(maps)
    if stack.ndim != 4 or stack.shape[0] != n_times:
        raise InvalidInputError(
            "activity",
            f"shape {stack.shape}",
            f"{n_times} co-registered 3-D maps, one per time in times_s",
        )
    for i in range(n_times):
        if not np.all(np.isfinite(stack[i])):
            raise InvalidInputError(
                f"activity[{i}]", "NaN or infinite values", "finite activities in every voxel"
            )
    return np.asarray(stack, dtype=np.float64) if stack.dtype.kind != "f" else stack
