"""Physical decay data used by the kinetics package (one place that reaches into prrt.physics)."""

from __future__ import annotations

from prrt.physics.nuclides import get_nuclide


def canonical_nuclide(name: str) -> str:
    """Return the canonical nuclide name (``"Lu-177"``); raise InvalidInputError if unknown."""
    return get_nuclide(name).name


def physical_decay_constant_per_s(name: str) -> float:
    """Return the physical decay constant λ_phys in 1/s (ICRP-107 half-life via prrt.physics)."""
    return get_nuclide(name).decay_constant_per_s
