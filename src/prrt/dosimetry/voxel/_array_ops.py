"""Minimal element-wise array operations shared by the NumPy and PyTorch code paths.

The voxel fits are written once against this small interface so that the CPU
(NumPy) and GPU (PyTorch) paths run the same arithmetic and agree within
floating-point rounding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

__all__ = ["ArrayOps", "NumpyOps", "TorchOps", "compile_failures", "solve_unrolled"]

logger = logging.getLogger(__name__)


class ArrayOps(Protocol):
    """Interface: element-wise functions on 1-D arrays of one library."""

    #: Whether iterative fits keep fixed array shapes (masks instead of compaction).
    fixed_shape: bool

    def exp(self, x: Any) -> Any:
        """Return ``exp(x)``."""

    def log(self, x: Any) -> Any:
        """Return ``log(x)``."""

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        """Return ``a`` where ``cond`` else ``b``."""

    def clamp(self, x: Any, lo: float | None, hi: float | None) -> Any:
        """Clip ``x`` to ``[lo, hi]`` (scalars, ``None`` for no bound)."""

    def maximum(self, a: Any, b: Any) -> Any:
        """Element-wise maximum of two arrays."""

    def isfinite(self, x: Any) -> Any:
        """Return the finiteness mask."""

    def full_like(self, x: Any, value: float) -> Any:
        """Array like ``x`` filled with ``value``."""

    def errstate(self) -> Any:
        """Context manager that silences floating-point warnings of the library."""

    def flatnonzero(self, mask: Any) -> Any:
        """Indices of the true elements of a 1-D mask."""

    def stack(self, arrays: Sequence[Any]) -> Any:
        """Stack 1-D arrays of length N into a (len, N) array."""

    def column(self, values: Sequence[float], like: Any) -> Any:
        """A (len, 1) column of ``values`` with the type and device of ``like``."""

    def solve(self, matrix: list[list[Any]], rhs: list[Any]) -> list[Any]:
        """Solve many small SPD systems: ``matrix[a][b]`` and ``rhs[a]`` are arrays over systems."""

    def compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` itself, or a compiled equivalent with the same signature and values."""


class NumpyOps:
    """NumPy implementation."""

    fixed_shape = False

    def exp(self, x: Any) -> Any:
        """Return ``exp(x)``."""
        return np.exp(x)

    def log(self, x: Any) -> Any:
        """Return ``log(x)``."""
        return np.log(x)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        """Return ``a`` where ``cond`` else ``b``."""
        return np.where(cond, a, b)

    def clamp(self, x: Any, lo: float | None, hi: float | None) -> Any:
        """Clip ``x`` to ``[lo, hi]``."""
        if lo is not None:
            x = np.maximum(x, x.dtype.type(lo))
        if hi is not None:
            x = np.minimum(x, x.dtype.type(hi))
        return x

    def maximum(self, a: Any, b: Any) -> Any:
        """Element-wise maximum."""
        return np.maximum(a, b)

    def isfinite(self, x: Any) -> Any:
        """Return the finiteness mask."""
        return np.isfinite(x)

    def full_like(self, x: Any, value: float) -> Any:
        """Array like ``x`` filled with ``value``."""
        return np.full_like(x, value)

    def errstate(self) -> Any:
        """Silence overflow/invalid warnings: invalid voxels are detected and replaced."""
        return np.errstate(all="ignore")

    def flatnonzero(self, mask: Any) -> Any:
        """Indices of the true elements of a 1-D mask."""
        return np.flatnonzero(mask)

    def stack(self, arrays: Sequence[Any]) -> Any:
        """Stack 1-D arrays into a 2-D array."""
        return np.stack(arrays)

    def column(self, values: Sequence[float], like: Any) -> Any:
        """A column array of ``like``'s dtype."""
        return np.asarray(values, dtype=like.dtype).reshape(-1, 1)

    def solve(self, matrix: list[list[Any]], rhs: list[Any]) -> list[Any]:
        """Unrolled Gaussian elimination (NumPy's batched LAPACK is slow for 4×4 systems)."""
        return solve_unrolled(self, matrix, rhs)

    def compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """NumPy has no compiler: ``fn`` itself."""
        return fn


class TorchOps:
    """PyTorch implementation (any device).

    Parameters
    ----------
    torch
        The ``torch`` module.
    compile
        Whether :meth:`compiled` returns ``torch.compile`` versions of functions
        (default: no).
    """

    fixed_shape = True

    def __init__(self, torch: Any, *, compile: bool = False) -> None:
        self._torch = torch
        self._compile = compile

    def exp(self, x: Any) -> Any:
        """Return ``exp(x)``."""
        return self._torch.exp(x)

    def log(self, x: Any) -> Any:
        """Return ``log(x)``."""
        return self._torch.log(x)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        """Return ``a`` where ``cond`` else ``b``."""
        return self._torch.where(cond, a, b)

    def clamp(self, x: Any, lo: float | None, hi: float | None) -> Any:
        """Clip ``x`` to ``[lo, hi]``."""
        return self._torch.clamp(x, min=lo, max=hi)

    def maximum(self, a: Any, b: Any) -> Any:
        """Element-wise maximum."""
        return self._torch.maximum(a, b)

    def isfinite(self, x: Any) -> Any:
        """Return the finiteness mask."""
        return self._torch.isfinite(x)

    def full_like(self, x: Any, value: float) -> Any:
        """Array like ``x`` filled with ``value``."""
        return self._torch.full_like(x, value)

    def errstate(self) -> Any:
        """Torch does not warn on floating-point errors: a null context."""
        import contextlib

        return contextlib.nullcontext()

    def flatnonzero(self, mask: Any) -> Any:
        """Indices of the true elements of a 1-D mask."""
        return self._torch.nonzero(mask).flatten()

    def stack(self, arrays: Sequence[Any]) -> Any:
        """Stack 1-D tensors into a 2-D tensor."""
        return self._torch.stack(list(arrays))

    def column(self, values: Sequence[float], like: Any) -> Any:
        """A column tensor on ``like``'s device and dtype."""
        return self._torch.tensor(list(values), dtype=like.dtype, device=like.device).reshape(-1, 1)

    def solve(self, matrix: list[list[Any]], rhs: list[Any]) -> list[Any]:
        """Unrolled elimination, element-wise: no stacking into (N, P, P) matrices, no
        synchronisation, and it fuses with the surrounding arithmetic when compiled."""
        return solve_unrolled(self, matrix, rhs)

    def compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A ``torch.compile`` version of ``fn`` (element-wise work fused into few
        kernels), falling back to ``fn`` when compiling is off or fails."""
        if not self._compile:
            return fn
        return _compiled(self._torch, fn)


#: Compiled versions of module-level functions, one per function. Shapes are left to
#: dynamo's automatic dynamic mode: the first size is compiled static, a second size
#: recompiles once with the number of curves symbolic; the few time points stay static,
#: so sums over them unroll into the element-wise kernels (``dynamic=True`` would make
#: them symbolic too and store (T, N) intermediates).
_COMPILED: dict[Callable[..., Any], Callable[..., Any]] = {}
_COMPILE_FAILED: list[str] = []


def compile_failures() -> tuple[str, ...]:
    """Errors that made ``torch.compile`` fall back to eager execution in this process."""
    return tuple(_COMPILE_FAILED)


#: torch._dynamo / inductor / triton failures (no C compiler, no triton, unsupported
#: Python, ...) are subclasses of these.
_COMPILE_ERRORS = (RuntimeError, AssertionError, ImportError, OSError, TypeError, ValueError)


def _give_up(err: Exception) -> None:
    _COMPILE_FAILED.append(f"{type(err).__name__}: {err}")
    logger.warning("torch.compile failed, running eagerly: %s", _COMPILE_FAILED[0])


def _compiled(torch: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    if _COMPILE_FAILED:
        return fn
    if fn not in _COMPILED:
        try:
            _COMPILED[fn] = torch.compile(fn)
        except _COMPILE_ERRORS as err:
            _give_up(err)
            return fn
    compiled = _COMPILED[fn]

    def run(*args: Any) -> Any:
        if _COMPILE_FAILED:
            return fn(*args)
        try:
            return compiled(*args)
        except _COMPILE_ERRORS as err:
            # The functions are pure: the eager call computes the same values.
            _give_up(err)
            return fn(*args)

    return run


def solve_unrolled(ops: ArrayOps, matrix: list[list[Any]], rhs: list[Any]) -> list[Any]:
    """Gaussian elimination without pivoting, element-wise over systems (SPD matrices)."""
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
