"""Minimal element-wise array operations shared by the NumPy and PyTorch code paths.

The voxel fits are written once against this small interface so that the CPU
(NumPy) and GPU (PyTorch) paths run the same arithmetic and agree within
floating-point rounding.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

__all__ = ["ArrayOps", "NumpyOps", "TorchOps"]


class ArrayOps(Protocol):
    """Interface: element-wise functions on 1-D arrays of one library."""

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


class NumpyOps:
    """NumPy implementation."""

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


class TorchOps:
    """PyTorch implementation (any device)."""

    def __init__(self, torch: Any) -> None:
        self._torch = torch

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
