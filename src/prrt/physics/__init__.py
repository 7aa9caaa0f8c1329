"""Radionuclide physics: nuclides, decay, emissions and radiopharmaceuticals (ICRP-107 via radioactivedecay).

Everything is in canonical units (Bq, s, MeV/J per decay); parse users' units
with :mod:`prrt.units` at the edges.

Examples
--------
>>> from prrt.physics import get_nuclide, activity_after
>>> lu = get_nuclide("177Lu")
>>> activity_after(7.4e9, lu, lu.half_life_s) / 1e9
3.7
"""

from prrt.physics.administered import (
    ActivityMeasurement,
    AdministeredActivityResult,
    administered_activity,
)
from prrt.physics.chain import ChainActivities, chain_activities, equilibrium_activity_ratios
from prrt.physics.decay import activity_after, decay_correct, decay_factor, elapsed_for_factor
from prrt.physics.nuclides import (
    DECAY_DATA_SET,
    DEFAULT_DATA,
    ChainMember,
    ElectronComponents,
    EmissionEnergies,
    Nuclide,
    NuclideData,
    canonical_nuclide_name,
    get_nuclide,
    supported_nuclides,
)
from prrt.physics.photons import (
    DEFAULT_PHOTON_LINES,
    DoseRateConstant,
    PhotonLine,
    PhotonLineTable,
    dose_rate_constant,
    photon_lines,
    point_source_air_kerma_rate_gy_per_s,
)
from prrt.physics.radiopharmaceuticals import (
    NONE_ESTABLISHED,
    Radiopharmaceutical,
    ReceptorAction,
    RegulatoryStatus,
    StudiedRegimen,
    get_radiopharmaceutical,
    radiopharmaceuticals,
    radiopharmaceuticals_with,
)

__all__ = [
    "DECAY_DATA_SET",
    "DEFAULT_DATA",
    "DEFAULT_PHOTON_LINES",
    "NONE_ESTABLISHED",
    "ActivityMeasurement",
    "AdministeredActivityResult",
    "ChainActivities",
    "ChainMember",
    "DoseRateConstant",
    "ElectronComponents",
    "EmissionEnergies",
    "Nuclide",
    "NuclideData",
    "PhotonLine",
    "PhotonLineTable",
    "Radiopharmaceutical",
    "ReceptorAction",
    "RegulatoryStatus",
    "StudiedRegimen",
    "activity_after",
    "administered_activity",
    "canonical_nuclide_name",
    "chain_activities",
    "decay_correct",
    "decay_factor",
    "dose_rate_constant",
    "elapsed_for_factor",
    "equilibrium_activity_ratios",
    "get_nuclide",
    "get_radiopharmaceutical",
    "photon_lines",
    "point_source_air_kerma_rate_gy_per_s",
    "radiopharmaceuticals",
    "radiopharmaceuticals_with",
    "supported_nuclides",
]
