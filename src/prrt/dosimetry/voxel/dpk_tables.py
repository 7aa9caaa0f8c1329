"""Packaged dose point kernels (energy per decay in spherical shells of water).

The tables in ``data/`` were produced once, offline, by
:mod:`prrt.dosimetry.voxel.dpk_generate` (own condensed-history electron and
photon transport, ICRP-107 emissions; see ``data/README.md``).  This module
only reads them; nothing here runs a Monte Carlo.

Examples
--------
>>> dpk = dose_point_kernel(nuclide="Lu-177", emission_class="beta")
>>> round(dpk.emitted_energy_mev, 5)  # ICRP-107 mean beta energy per decay (§1.2)
0.13327
>>> round(dpk.radius_containing_mm(0.9), 2)  # X90 of the 177Lu betas, §3.6.2: 0.61 mm
0.61
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from prrt._typing import FloatArray
from prrt.errors import DataSourceError, InvalidInputError
from prrt.physics.nuclides import canonical_nuclide_name

__all__ = [
    "DATA_DIR",
    "EMISSION_CLASSES",
    "MANIFEST_FILE",
    "DosePointKernel",
    "dose_point_kernel",
    "kernel_manifest",
    "kernel_nuclide",
    "supported_kernel_nuclides",
]

#: Folder of the packaged kernel tables.
DATA_DIR = Path(__file__).resolve().parent / "data"
#: Manifest written by the generator (energies, histories, seeds).
MANIFEST_FILE = "dpk_manifest.json"
#: Emission classes with a table per nuclide.
EMISSION_CLASSES = ("beta", "electron", "photon")


@dataclass(frozen=True)
class DosePointKernel:
    """Energy deposited per decay in spherical shells around a point source in water (ρ = 1).

    Parameters
    ----------
    nuclide
        Canonical nuclide name.
    emission_class
        ``"beta"``, ``"electron"`` (conversion + Auger) or ``"photon"``.
    r_inner_mm, r_outer_mm
        Shell boundaries (mm of unit-density water).
    energy_mev
        Energy deposited in each shell per decay of the nuclide (MeV).
    relative_uncertainty
        One standard deviation (statistical) of each shell's energy.
    emitted_energy_mev
        Energy emitted per decay in this class (ICRP-107).
    histories
        Monte Carlo histories behind the table.
    """

    nuclide: str
    emission_class: str
    r_inner_mm: FloatArray
    r_outer_mm: FloatArray
    energy_mev: FloatArray
    relative_uncertainty: FloatArray
    emitted_energy_mev: float
    histories: int

    @property
    def shell_mass_g(self) -> FloatArray:
        """Mass of each shell of unit-density water (g)."""
        return np.asarray(4.0 / 3.0 * np.pi * (self.r_outer_mm**3 - self.r_inner_mm**3) * 1e-3)

    @property
    def dose_mev_per_g(self) -> FloatArray:
        """Mean absorbed dose per decay in each shell, D(r) (MeV/g)."""
        return np.asarray(self.energy_mev / self.shell_mass_g)

    def fraction_within(self, radius_mm: float) -> float:
        """Fraction of the emitted energy absorbed inside a sphere of ``radius_mm``."""
        cum = np.concatenate(([0.0], np.cumsum(self.energy_mev)))
        edges = np.concatenate(([self.r_inner_mm[0]], self.r_outer_mm))
        return float(np.interp(radius_mm, edges, cum) / self.emitted_energy_mev)

    def radius_containing_mm(self, fraction: float) -> float:
        """Radius of the sphere absorbing ``fraction`` of the emitted energy (e.g. X90)."""
        cum = np.concatenate(([0.0], np.cumsum(self.energy_mev))) / self.emitted_energy_mev
        edges = np.concatenate(([self.r_inner_mm[0]], self.r_outer_mm))
        if not 0.0 < fraction < cum[-1]:
            raise InvalidInputError(
                "fraction", fraction, f"a fraction in (0, {cum[-1]:.4f}) of the emitted energy"
            )
        return float(np.interp(fraction, cum, edges))


@lru_cache(maxsize=1)
def kernel_manifest() -> dict[str, Any]:
    """The generator's manifest (method, histories, seeds, energy bookkeeping)."""
    path = DATA_DIR / MANIFEST_FILE
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataSourceError(f"dose point kernel manifest unreadable: {path}: {exc}") from exc
    return manifest


def supported_kernel_nuclides() -> tuple[str, ...]:
    """Nuclides with packaged kernels.

    Examples
    --------
    >>> supported_kernel_nuclides()
    ('Lu-177', 'Y-90')
    """
    return tuple(sorted({entry["nuclide"] for entry in kernel_manifest()["tables"].values()}))


def kernel_nuclide(name: str) -> str:
    """Canonical name of a nuclide with packaged kernels, or :class:`InvalidInputError`."""
    canonical = canonical_nuclide_name(name)
    supported = supported_kernel_nuclides()
    if canonical not in supported:
        raise InvalidInputError(
            "nuclide", name, "a nuclide with voxel kernels: " + ", ".join(supported)
        )
    return canonical


@lru_cache(maxsize=16)
def dose_point_kernel(*, nuclide: str, emission_class: str) -> DosePointKernel:
    """Load the packaged shell table of ``nuclide`` and ``emission_class``.

    Raises
    ------
    InvalidInputError
        Unknown nuclide or emission class.
    DataSourceError
        The packaged table is missing or malformed.
    """
    canonical = kernel_nuclide(nuclide)
    if emission_class not in EMISSION_CLASSES:
        raise InvalidInputError(
            "emission_class", emission_class, "one of " + ", ".join(EMISSION_CLASSES)
        )
    entry = kernel_manifest()["tables"].get(f"{canonical}/{emission_class}")
    if entry is None:
        raise DataSourceError(f"no dose point kernel table for {canonical} {emission_class}")
    path = DATA_DIR / str(entry["file"])
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        cols = {
            key: np.array([float(row[key]) for row in rows], dtype=np.float64)
            for key in ("r_inner_mm", "r_outer_mm", "energy_mev_per_decay", "relative_uncertainty")
        }
    except (OSError, KeyError, ValueError) as exc:
        raise DataSourceError(f"dose point kernel table unreadable: {path}: {exc}") from exc
    for arr in cols.values():
        arr.setflags(write=False)
    return DosePointKernel(
        nuclide=canonical,
        emission_class=emission_class,
        r_inner_mm=cols["r_inner_mm"],
        r_outer_mm=cols["r_outer_mm"],
        energy_mev=cols["energy_mev_per_decay"],
        relative_uncertainty=cols["relative_uncertainty"],
        emitted_energy_mev=float(entry["emitted_energy_mev_per_decay"]),
        histories=int(entry["histories"]),
    )
