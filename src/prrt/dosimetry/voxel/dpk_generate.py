"""Generate the packaged dose-point-kernel shell tables (offline tool, run once).

Usage (from a checkout, with the generation-only packages installed)::

    pip install icrp107-database==0.0.3 xraylib==4.3.0     # read at generation time only
    python -m prrt.dosimetry.voxel.dpk_generate --out src/prrt/dosimetry/voxel/data

It reads the ICRP Publication 107 emissions of 177Lu and 90Y (beta spectra
``b-spectra``, beta branches ``beta-``, conversion electrons ``IE``, Auger
electrons, gamma and X lines) from the ``icrp107-database`` package
(OpenGATE collaboration; ``dosimetry-reference.md`` §1.1 and §3.6.3), transports
electrons with :mod:`prrt.dosimetry.voxel.dpk_electrons` and photons with
:mod:`prrt.dosimetry.voxel.dpk_photons` (cross sections of water from the
``xraylib`` package) and writes one CSV per nuclide and emission class:

* ``<nuclide>_beta_dpk_water.csv`` — beta particles;
* ``<nuclide>_electron_dpk_water.csv`` — conversion + Auger electrons;
* ``<nuclide>_photon_dpk_water.csv`` — gamma + X photons,

with columns ``r_inner_mm, r_outer_mm, energy_mev_per_decay,
relative_uncertainty`` (energy deposited per decay of the nuclide in each
spherical shell of unit-density water), plus ``dpk_manifest.json`` with the
emitted energy per decay, histories, seed and energy bookkeeping.

Sampling: source energies are drawn in proportion to the *energy* they carry
(``E·N(E)`` for the beta spectrum, ``y_i E_i`` for lines) and each deposit is
weighted by ``Ē/E``, so every history carries the same energy and the
table sums to the ICRP-107 mean energy per decay of the class (§3.6.3: the
beta spectrum normalised to the emission-list mean).  Nothing here runs during
a dose calculation.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from prrt._typing import FloatArray
from prrt.dosimetry.voxel.dpk_electrons import (
    ABSORPTION_CUTOFF_MEV,
    MOLLER_CUT_MEV,
    STEP_ENERGY_LOSS_FRACTION,
    WaterElectronPhysics,
    transport_electrons,
)
from prrt.dosimetry.voxel.dpk_photons import (
    PHOTON_CUTOFF_MEV,
    PhotonCrossSections,
    transport_photons,
)

__all__ = ["GENERATOR_VERSION", "EmissionData", "main", "sample_spectrum_energy_weighted"]

_LOG = logging.getLogger(__name__)

#: Version of the generator recorded in the manifest.
GENERATOR_VERSION = "1.1"

#: Radial shell edges (mm) per nuclide and class.
_ELECTRON_EDGES_MM = {
    "Lu-177": np.linspace(0.0, 3.0, 601),  # 0.005 mm shells (§3.6.5: ≤ L/10; 0.02 mm used there)
    "Y-90": np.linspace(0.0, 15.0, 301),  # 0.05 mm shells
}
_PHOTON_EDGES_MM = np.concatenate(
    (np.linspace(0.0, 5.0, 101), np.linspace(5.25, 50.0, 180), np.linspace(51.0, 600.0, 550))
)
_ICRP_FILE = {"Lu-177": "Lu-177.json", "Y-90": "Y-90.json"}
#: xraylib's cross sections stop at 800 keV; heavier lines (90Y 2186 keV gamma,
#: 3e-8 MeV per decay) are left out and their energy is recorded in the manifest.
_MAX_PHOTON_MEV = 0.8


@dataclass(frozen=True)
class EmissionData:
    """ICRP-107 emissions of one nuclide as read from the ``icrp107-database`` package.

    Energies in MeV; yields per decay.
    """

    nuclide: str
    beta_branches: tuple[tuple[float, float], ...]
    beta_spectrum: tuple[tuple[float, float], ...]
    conversion_lines: tuple[tuple[float, float], ...]
    auger_lines: tuple[tuple[float, float], ...]
    photon_lines: tuple[tuple[float, float], ...]

    @staticmethod
    def _energy(lines: Sequence[tuple[float, float]]) -> float:
        return float(sum(e * y for e, y in lines))

    @property
    def beta_mev(self) -> float:
        """Mean beta energy per decay (emission list)."""
        return self._energy(self.beta_branches)

    @property
    def electron_lines_mev(self) -> float:
        """Conversion + Auger energy per decay."""
        return self._energy(self.conversion_lines) + self._energy(self.auger_lines)

    @property
    def photon_mev(self) -> float:
        """Gamma + X energy per decay."""
        return self._energy(self.photon_lines)


def read_icrp107(nuclide: str) -> EmissionData:
    """Read the ICRP-107 emissions of ``nuclide`` from the ``icrp107-database`` package."""
    package: Any = importlib.import_module("icrp107_database")
    path = Path(package.__file__).parent / "icrp107" / _ICRP_FILE[nuclide]
    raw: Any = json.loads(path.read_text())
    if isinstance(raw, str):  # the package stores a JSON string inside the JSON file
        raw = json.loads(raw)
    em = raw["emissions"]

    def lines(key: str) -> tuple[tuple[float, float], ...]:
        return tuple((float(e), float(y)) for e, y in em[key])

    return EmissionData(
        nuclide=nuclide,
        beta_branches=lines("beta-"),
        beta_spectrum=lines("b-spectra"),
        conversion_lines=lines("IE"),
        auger_lines=lines("auger"),
        photon_lines=lines("gamma") + lines("X"),
    )


def sample_spectrum_energy_weighted(
    spectrum: Sequence[tuple[float, float]], n: int, rng: np.random.Generator
) -> FloatArray:
    """Draw ``n`` energies from the density ∝ E·N(E) of a piecewise-linear spectrum N(E).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> e = sample_spectrum_energy_weighted([(0.0, 2.0), (1.0, 0.0)], 200_000, rng)
    >>> round(float(e.mean()), 2)  # E·(2-2E) on [0,1]: mean 1/2
    0.5
    """
    pts = np.asarray(spectrum, dtype=np.float64)
    fine = np.unique(
        np.concatenate(
            [np.linspace(a, b, 64) for a, b in zip(pts[:-1, 0], pts[1:, 0], strict=True)]
        )
    )
    density = fine * np.interp(fine, pts[:, 0], pts[:, 1])
    cdf = np.concatenate(([0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(fine))))
    cdf /= cdf[-1]
    return np.asarray(np.interp(rng.random(n), cdf, fine), dtype=np.float64)


def _sample_lines(
    lines: Sequence[tuple[float, float]], n: int, rng: np.random.Generator
) -> FloatArray:
    arr = np.asarray(lines, dtype=np.float64)
    p = arr[:, 0] * arr[:, 1]
    return np.asarray(arr[rng.choice(arr.shape[0], size=n, p=p / p.sum()), 0], dtype=np.float64)


def _water_cross_sections() -> PhotonCrossSections:
    """Water cross sections from xraylib (cm²/g) and Rayleigh angular tables."""
    xrl: Any = importlib.import_module("xraylib")
    energy = np.geomspace(2.0e-3, _MAX_PHOTON_MEV, 160)
    kev = energy * 1.0e3
    pe = np.array([xrl.CS_Photo_CP("H2O", float(k)) for k in kev])
    co = np.array([xrl.CS_Compt_CP("H2O", float(k)) for k in kev])
    ra = np.array([xrl.CS_Rayl_CP("H2O", float(k)) for k in kev])
    theta = np.linspace(0.0, math.pi, 4001)
    n_u = 501
    table = np.empty((energy.size, n_u))
    for i, k in enumerate(kev):
        q = np.array([xrl.MomentTransf(float(k), float(t)) for t in theta])
        ff2 = (
            2.0 * np.array([xrl.FF_Rayl(1, float(x)) for x in q]) ** 2
            + np.array([xrl.FF_Rayl(8, float(x)) for x in q]) ** 2
        )
        pdf = (1.0 + np.cos(theta) ** 2) * ff2 * np.sin(theta)
        cdf = np.concatenate(([0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(theta))))
        cdf /= cdf[-1]
        table[i] = np.cos(np.interp(np.linspace(0.0, 1.0, n_u), cdf, theta))
    return PhotonCrossSections(energy, pe, co, ra, table)


def _relative_uncertainty(total: FloatArray, sq: FloatArray, n_blocks: int) -> FloatArray:
    mean_b = total / n_blocks
    var_b = np.maximum(sq / n_blocks - mean_b * mean_b, 0.0) * n_blocks / max(n_blocks - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.sqrt(var_b * n_blocks) / total
    return np.asarray(np.where(total > 0, rel, 0.0), dtype=np.float64)


def _write_table(path: Path, edges_mm: FloatArray, energy: FloatArray, rel: FloatArray) -> None:
    last = int(np.flatnonzero(energy > 0).max()) + 1 if np.any(energy > 0) else 1
    rows = ["r_inner_mm,r_outer_mm,energy_mev_per_decay,relative_uncertainty"]
    for i in range(last):
        rows.append(f"{edges_mm[i]:.4f},{edges_mm[i + 1]:.4f},{energy[i]:.6e},{rel[i]:.3e}")
    path.write_text("\n".join(rows) + "\n")


def generate(*, nuclide: str, out: Path, scale: float, seed: int) -> dict[str, Any]:
    """Run the transports for one nuclide and write its tables; return manifest entries."""
    data = read_icrp107(nuclide)
    histories = {
        "Lu-177": {"beta": 400_000, "electron": 200_000, "photon": 2_000_000},
        "Y-90": {"beta": 200_000, "electron": 20_000, "photon": 100_000},
    }[nuclide]
    entries: dict[str, Any] = {}
    phys = WaterElectronPhysics.build()
    stem = nuclide.replace("-", "").lower()
    for klass in ("beta", "electron", "photon"):
        n = max(int(histories[klass] * scale), 1000)
        rng = np.random.default_rng(
            [seed, ["beta", "electron", "photon"].index(klass), int(nuclide.split("-")[1])]
        )
        start = time.perf_counter()
        omitted: dict[str, float] = {}
        if klass == "beta":
            emitted = data.beta_mev
            e0 = sample_spectrum_energy_weighted(data.beta_spectrum, n, rng)
        elif klass == "electron":
            emitted = data.electron_lines_mev
            e0 = _sample_lines(data.conversion_lines + data.auger_lines, n, rng)
        else:
            kept = tuple(line for line in data.photon_lines if line[0] <= _MAX_PHOTON_MEV)
            emitted = EmissionData._energy(kept)
            omitted = {"photon_lines_not_transported_mev_per_decay": data.photon_mev - emitted}
            e0 = _sample_lines(kept, n, rng)
        weights = emitted / e0
        if klass == "photon":
            edges_mm = _PHOTON_EDGES_MM
            ptally = transport_photons(
                energies_mev=e0,
                weights=weights,
                edges_cm=edges_mm / 10.0,
                cross_sections=_water_cross_sections(),
                rng=rng,
            )
            total, sq, lost = (
                ptally.energy_mev,
                ptally.energy_sq_mev2,
                {"escaped_mev_per_decay": ptally.escaped_mev / n, **omitted},
            )
            n_blocks = math.ceil(n / 1000)
        else:
            edges_mm = _ELECTRON_EDGES_MM[nuclide]
            etally = transport_electrons(
                energies_mev=e0, weights=weights, edges_cm=edges_mm / 10.0, rng=rng, physics=phys
            )
            total, sq = etally.energy_mev, etally.energy_sq_mev2
            lost = {
                "beyond_table_mev_per_decay": etally.beyond_mev / n,
                "bremsstrahlung_mev_per_decay": etally.radiated_mev / n,
            }
            n_blocks = math.ceil(n / 100)
        energy = total / n
        rel = _relative_uncertainty(total, sq, n_blocks)
        name = f"{stem}_{klass}_dpk_water.csv"
        _write_table(out / name, edges_mm, energy, rel)
        entries[f"{nuclide}/{klass}"] = {
            "file": name,
            "nuclide": nuclide,
            "emission_class": klass,
            "emitted_energy_mev_per_decay": emitted,
            "deposited_in_table_mev_per_decay": float(energy.sum()),
            **lost,
            "histories": n,
            "seed": [seed, ["beta", "electron", "photon"].index(klass), int(nuclide.split("-")[1])],
            "cpu_seconds": round(time.perf_counter() - start, 1),
        }
        _LOG.info(
            "%s %s: %d histories, %.6f of %.6f MeV/decay in table",
            nuclide,
            klass,
            n,
            energy.sum(),
            emitted,
        )
    return entries


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m prrt.dosimetry.voxel.dpk_generate``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="output folder for CSV + manifest")
    parser.add_argument("--nuclide", action="append", choices=sorted(_ICRP_FILE), default=None)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the default history counts"
    )
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "dpk_manifest.json"
    manifest: dict[str, Any] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    tables = dict(manifest.get("tables", {}))
    for nuclide in args.nuclide or sorted(_ICRP_FILE):
        tables.update(generate(nuclide=nuclide, out=out, scale=args.scale, seed=args.seed))
    manifest = {
        "generator": "prrt.dosimetry.voxel.dpk_generate",
        "generator_version": GENERATOR_VERSION,
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "medium": "liquid water, 1 g/cm3 (infinite)",
        "decay_data": "ICRP Publication 107 via icrp107-database 0.0.3 (OpenGATE, LGPL-3)",
        "photon_cross_sections": "xraylib 4.3.0 (photoelectric, incoherent, Rayleigh; form factors)",
        "electron_physics": {
            "collision_stopping": "Bethe restricted, I = 75 eV, Sternheimer density effect",
            "moller_cut_mev": MOLLER_CUT_MEV,
            "step_energy_loss_fraction": STEP_ENERGY_LOSS_FRACTION,
            "absorption_cutoff_mev": ABSORPTION_CUTOFF_MEV,
            "multiple_scattering": "Wentzel per step, mean from Moliere-screened Rutherford lambda1 with McKinley-Feshbach factor, random hinge",
            "bremsstrahlung": "removed (not deposited)",
        },
        "photon_cutoff_mev": PHOTON_CUTOFF_MEV,
        "tables": dict(sorted(tables.items())),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
