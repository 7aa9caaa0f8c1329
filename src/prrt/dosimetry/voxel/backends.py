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
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError

__all__ = [
    "DEVICE_ENV_VAR",
    "ComputeBackend",
    "Device",
    "select_backend",
    "torch_available",
]

logger = logging.getLogger(__name__)

#: Environment variable read when no device is given explicitly.
DEVICE_ENV_VAR = "PRRT_DEVICE"


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
