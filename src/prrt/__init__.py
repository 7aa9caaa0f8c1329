"""prrt: peptide receptor radionuclide therapy, from selection to follow-up.

The public API is re-exported here; everything else is reachable from its
subpackage (:mod:`prrt.physics`, :mod:`prrt.kinetics`, :mod:`prrt.dosimetry`,
:mod:`prrt.imaging`, :mod:`prrt.clinical`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prrt.errors import (
    FitError,
    GeometryMismatchError,
    InvalidInputError,
    PrrtError,
    PrrtWarning,
    UnitError,
)
from prrt.units import Dimension, Quantity, parse_quantity, parse_timestamp

try:
    __version__ = version("prrt")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "Dimension",
    "FitError",
    "GeometryMismatchError",
    "InvalidInputError",
    "PrrtError",
    "PrrtWarning",
    "Quantity",
    "UnitError",
    "__version__",
    "parse_quantity",
    "parse_timestamp",
]
