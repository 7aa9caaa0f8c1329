"""Compute backends of voxel dosimetry: NumPy/SciPy on the CPU, PyTorch on a GPU.

The architecture asks that a GPU is used when present and that results equal
those of the CPU path within float32 tolerance (``docs/dosimetry-voxel.md``).
PyTorch is an optional dependency (``pip install prrt[gpu]``) and is imported
lazily, only when a torch backend is selected; the core never needs it.

Selection
---------
``device`` (keyword of every voxel function, or the environment variable
``PRRT_DEVICE`` when the keyword is ``None``) is one of

* ``"auto"`` (default): CUDA through PyTorch when ``torch`` is importable and
  ``torch.cuda.is_available()``; otherwise NumPy on the CPU;
* ``"cpu"``: NumPy/SciPy on the CPU, whatever is installed;
* ``"cuda"``: PyTorch on the first CUDA device; an error when none is present;
* ``"torch-cpu"``: PyTorch on the CPU, to test the torch code path on machines
  without a GPU.

Compilation
-----------
On CUDA, the iterations of the voxel curve fits of at least 2^20 curves are
compiled with ``torch.compile`` (element-wise arithmetic fused into few
kernels; the first call of a process pays the compile time, later calls and
later processes reuse it). The environment variable ``PRRT_TORCH_COMPILE``
overrides this: ``"0"`` never compiles, ``"1"`` always compiles (any device and
size, e.g. to test the compiled path on the CPU), ``"auto"`` (default) as
described. A failed compilation falls back to the same arithmetic run eagerly.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from dataclasses import dataclass
from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError

__all__ = [
    "COMPILE_ENV_VAR",
    "DEVICE_ENV_VAR",
    "ComputeBackend",
    "Device",
    "select_backend",
    "torch_available",
    "torch_compile_min_curves",
]

logger = logging.getLogger(__name__)

#: Environment variable read when no device is given explicitly.
DEVICE_ENV_VAR = "PRRT_DEVICE"
#: Environment variable switching ``torch.compile`` of the voxel fits (0, 1, auto).
COMPILE_ENV_VAR = "PRRT_TORCH_COMPILE"
#: Fewer curves than this are fitted eagerly on CUDA (compiling costs seconds once).
_COMPILE_MIN_CURVES = 1 << 20


class Device(str, Enum):
    """Requested compute device."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"
    TORCH_CPU = "torch-cpu"


@dataclass(frozen=True, slots=True)
class ComputeBackend:
    """Resolved backend: the array library and the device it runs on.

    Parameters
    ----------
    library
        ``"numpy"`` or ``"torch"``.
    device
        ``"cpu"`` or ``"cuda"``.

    Examples
    --------
    >>> select_backend("cpu")
    ComputeBackend(library='numpy', device='cpu')
    >>> select_backend("cpu").label
    'numpy-cpu'
    """

    library: str
    device: str

    @property
    def uses_torch(self) -> bool:
        """Whether the torch code path is used."""
        return self.library == "torch"

    @property
    def label(self) -> str:
        """Short name recorded in provenance, e.g. ``"torch-cuda"``."""
        return f"{self.library}-{self.device}"

    def torch_device(self) -> Any:
        """Return the ``torch.device`` of this backend (imports torch)."""
        torch = import_torch()
        return torch.device(self.device)


def import_torch() -> Any:
    """Import and return the ``torch`` module, or raise a clear error.

    Raises
    ------
    InvalidInputError
        When PyTorch is not installed.
    """
    try:
        import torch
    except ImportError as err:
        raise InvalidInputError(
            "device",
            "torch",
            "an installed PyTorch for the GPU backend",
            hint="install it with 'pip install prrt[gpu]' or use device='cpu'",
        ) from err
    return torch


@functools.cache
def torch_available() -> bool:
    """Return whether PyTorch can be imported (cached)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def torch_compile_min_curves(device_type: str) -> int | None:
    """Smallest number of curves whose fit is compiled on this device; ``None``: never.

    Parameters
    ----------
    device_type
        ``torch.device.type`` of the data, e.g. ``"cuda"`` or ``"cpu"``.

    Returns
    -------
    int or None
        Threshold read from ``PRRT_TORCH_COMPILE`` (see the module docstring).

    Raises
    ------
    InvalidInputError
        For a value of ``PRRT_TORCH_COMPILE`` other than 0, 1 or auto.

    Examples
    --------
    >>> import os
    >>> os.environ.get("PRRT_TORCH_COMPILE") is None and torch_compile_min_curves("cpu") is None
    True
    """
    text = os.environ.get(COMPILE_ENV_VAR, "auto").strip().lower()
    if text in ("0", "off", "false"):
        return None
    if text in ("1", "on", "true"):
        return 1
    if text != "auto":
        raise InvalidInputError(COMPILE_ENV_VAR, text, "one of '0', '1', 'auto'")
    if device_type != "cuda" or importlib.util.find_spec("triton") is None:
        return None
    return _COMPILE_MIN_CURVES


def _cuda_available() -> bool:
    if not torch_available():
        return False
    torch = import_torch()
    return bool(torch.cuda.is_available())


def _parse_device(device: Device | str | None) -> Device:
    field = "device"
    if device is None:
        device = os.environ.get(DEVICE_ENV_VAR, Device.AUTO.value)
        field = DEVICE_ENV_VAR
    if isinstance(device, Device):
        return device
    text = str(device).strip().lower()
    try:
        return Device(text)
    except ValueError as err:
        raise InvalidInputError(
            field, device, "one of " + ", ".join(repr(d.value) for d in Device)
        ) from err


def select_backend(device: Device | str | None = None) -> ComputeBackend:
    """Resolve a requested device to a :class:`ComputeBackend`.

    Parameters
    ----------
    device
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"torch-cpu"``; ``None`` reads the
        environment variable ``PRRT_DEVICE`` (default ``"auto"``).

    Returns
    -------
    ComputeBackend
        The library and device to compute with.

    Raises
    ------
    InvalidInputError
        For an unknown device name, ``"cuda"`` without a CUDA device, or a torch
        device without PyTorch installed.

    Examples
    --------
    >>> select_backend("cpu").library
    'numpy'
    >>> select_backend("tpu")
    Traceback (most recent call last):
    ...
    prrt.errors.InvalidInputError: device: got 'tpu'; expected one of 'auto', 'cpu', 'cuda', 'torch-cpu'
    """
    requested = _parse_device(device)
    if requested is Device.CPU:
        return ComputeBackend("numpy", "cpu")
    if requested is Device.TORCH_CPU:
        import_torch()
        return ComputeBackend("torch", "cpu")
    if requested is Device.CUDA:
        import_torch()
        if not _cuda_available():
            raise InvalidInputError(
                "device", "cuda", "a machine with a CUDA GPU", hint="use device='auto' or 'cpu'"
            )
        return ComputeBackend("torch", "cuda")
    if _cuda_available():
        logger.info("CUDA device found: voxel computations run on the GPU through PyTorch")
        return ComputeBackend("torch", "cuda")
    return ComputeBackend("numpy", "cpu")
