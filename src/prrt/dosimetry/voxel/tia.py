"""Voxel-wise time-integrated activity (TIA): vectorised curve fits with fallbacks.

Every voxel's time-activity curve (TAC) ``A_i`` at times ``t_i`` after the
administration is integrated with the first method of this chain that succeeds
(models of ``dosimetry-reference.md`` §4.1; all voxels are processed at once,
as arrays, on the CPU with NumPy or on a GPU with PyTorch; the fits are in
:mod:`prrt.dosimetry.voxel._lm`):

1. ``biexp`` (≥ 4 time points) — bi-exponential ``A1·exp(-λ1 t) + A2·exp(-λ2 t)``
   with ``λ1 > λ2 ≥ λphys`` (A1 < 0 describes uptake), ``TIA = A1/λ1 + A2/λ2``.
   Accepted when finite and positive, ``A2 > 0``, ``0 ≤ A(0) ≤ 3·max A_i`` and
   the TIA is at most twice the trapezoid-with-physical-tail value.
2. ``uptake`` (≥ 3 time points) — uptake–washout
   ``A(t) = A0·(exp(-λw t) - exp(-λu t))``, ``TIA = A0·(1/λw - 1/λu)`` (the
   "mono with uptake" model of §4.1); only for voxels where step 1 failed.
3. ``mono`` — mono-exponential fitted (log-linear, weights ``A_i²``, which
   approximates least squares on the activity) to the points from the curve's
   maximum onwards; ``TIA = A0/λ`` when the maximum is the first point,
   otherwise the zero-start trapezoid up to the maximum plus the fitted tail.
   Refused when ``λ < λphys`` (negative biological clearance, §4.1).
4. ``trapezoid`` — trapezoid over the measured points with a linear ramp from
   ``A(0) = 0`` ("zero start") and the physical-decay tail ``A_last/λphys``
   (conservative; §4.1, TIA-05/06 conventions). Always defined.

A voxel whose values are all ≤ 0 gets a TIA of 0 (method ``zero``). The number
of voxels integrated by each method is part of the result. Every effective rate
is kept ≥ ``λphys`` by the parameterisation, so a biological clearance is never
negative.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from prrt._typing import BoolArray, FloatArray
from prrt.dosimetry.voxel._array_ops import ArrayOps, NumpyOps, TorchOps
from prrt.dosimetry.voxel.backends import (
    ComputeBackend,
    Device,
    import_torch,
    select_backend,
    torch_compile_min_curves,
)
from prrt.dosimetry.voxel.tia_chain import _fit_chunk
from prrt.dosimetry.voxel.tia_methods import TiaMethod, VoxelFitModel
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

_CHUNK = 1 << 14
_MAX_THREADS = 16


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
    activity_bq: npt.ArrayLike, *, times_s: npt.ArrayLike, decay_constant_per_s: float
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


def _check_times(times_s: npt.ArrayLike) -> FloatArray:
    try:
        times = np.asarray(times_s, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidInputError("times_s", times_s, "times in s after the administration") from err
    if times.ndim != 1 or times.size < 2:
        raise InvalidInputError(
            "times_s", times.tolist(), "at least two time points after administration"
        )
    if not np.all(np.isfinite(times)):
        raise InvalidInputError(
            "times_s",
            times.tolist(),
            "a time stamp for every time point",
            hint="a time point lacks its time",
        )
    if times[0] <= 0 or np.any(np.diff(times) <= 0):
        raise InvalidInputError(
            "times_s", times.tolist(), "strictly increasing times after the administration (> 0 s)"
        )
    return times


def _check_lambda(decay_constant_per_s: float) -> float:
    lam = float(decay_constant_per_s)
    if not np.isfinite(lam) or lam <= 0:
        raise InvalidInputError(
            "decay_constant_per_s", decay_constant_per_s, "a positive decay constant (1/s)"
        )
    return lam


def fit_tia_curves(
    curves: Any,
    *,
    times_s: npt.ArrayLike,
    decay_constant_per_s: float,
    model: VoxelFitModel | str = VoxelFitModel.BIEXPONENTIAL,
    iterations: int = 12,
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
        # Compiling costs seconds once per process: worth it for large inputs only.
        min_curves = torch_compile_min_curves(curves.device.type)
        ops: ArrayOps = TorchOps(
            import_torch(),
            compile=min_curves is not None and int(curves.shape[1]) >= min_curves,
        )
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

    def run(start: int) -> None:
        # NumPy releases the GIL in element-wise operations: chunks run in parallel.
        t_part, c_part = fit_tia_curves(
            curves[:, start : start + _CHUNK],
            times_s=times_list,
            decay_constant_per_s=lam,
            model=model,
            iterations=iterations,
        )
        tia[start : start + _CHUNK] = t_part
        code[start : start + _CHUNK] = c_part

    starts = range(0, n_vox, _CHUNK)
    workers = min(os.cpu_count() or 1, _MAX_THREADS, len(starts))
    if workers <= 1:
        for start in starts:
            run(start)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, starts))
    return tia, code


def fit_voxel_tia(
    activity_bq: npt.ArrayLike | Sequence[npt.ArrayLike],
    *,
    times_s: npt.ArrayLike,
    decay_constant_per_s: float,
    model: VoxelFitModel | str = VoxelFitModel.BIEXPONENTIAL,
    mask: BoolArray | None = None,
    device: Device | str | None = None,
    iterations: int = 12,
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
    flat = stack.reshape(len(times), -1)
    n_total = flat.shape[1]
    codes = np.full(n_total, TiaMethod.OUTSIDE.code, dtype=np.int8)
    codes[inside.ravel()] = TiaMethod.ZERO.code
    # Only curves with some positive value are integrated (air and empty voxels are 0).
    flat_index = np.flatnonzero(inside.ravel() & (flat.max(axis=0) > 0))
    curves = np.ascontiguousarray(flat[:, flat_index], dtype=np.float32)
    tia = np.zeros(n_total, dtype=np.float64)
    if flat_index.size:
        tia_flat, code_flat = _run_backend(curves, backend, times, lam, fit_model, iterations)
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
