"""Radionuclide physics: nuclides, decay, emissions and radiopharmaceuticals (ICRP-107 via radioactivedecay).

Everything is in canonical units (Bq, s, MeV/J per decay); parse users' units
with :mod:`prrt.units` at the edges.
"""

from prrt.physics.decay import activity_after, decay_correct, decay_factor, elapsed_for_factor
from prrt.physics.nuclides import (
    DECAY_DATA_SET,
    ChainMember,
    ElectronComponents,
    EmissionEnergies,
    Nuclide,
    canonical_nuclide_name,
    get_nuclide,
    supported_nuclides,
)

__all__ = [
    "DECAY_DATA_SET",
    "ChainMember",
    "ElectronComponents",
    "EmissionEnergies",
    "Nuclide",
    "activity_after",
    "canonical_nuclide_name",
    "decay_correct",
    "decay_factor",
    "elapsed_for_factor",
    "get_nuclide",
    "supported_nuclides",
]
