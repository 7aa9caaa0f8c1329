"""prrt: peptide receptor radionuclide therapy, from selection to follow-up.

The public API is re-exported here; everything else is reachable from its
subpackage (:mod:`prrt.physics`, :mod:`prrt.kinetics`, :mod:`prrt.dosimetry`,
:mod:`prrt.imaging`, :mod:`prrt.clinical`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prrt.clinical.case import load_case
from prrt.clinical.evaluate import evaluate_case
from prrt.clinical.profiles import get_profile
from prrt.dosimetry.organ import mird_organ_doses
from prrt.dosimetry.radiobiology import bed_gy, eqd2_gy
from prrt.errors import (
    FitError,
    GeometryMismatchError,
    InvalidInputError,
    PrrtError,
    PrrtWarning,
    UnitError,
)
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.kinetics import TimeActivityCurve, fit_best
from prrt.physics import activity_after, administered_activity, decay_correct, get_nuclide
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
    "TimeActivityCurve",
    "UnitError",
    "Volume",
    "VoxelQuantity",
    "__version__",
    "activity_after",
    "administered_activity",
    "bed_gy",
    "decay_correct",
    "eqd2_gy",
    "evaluate_case",
    "fit_best",
    "get_nuclide",
    "get_profile",
    "load_case",
    "mird_organ_doses",
    "parse_quantity",
    "parse_timestamp",
]
