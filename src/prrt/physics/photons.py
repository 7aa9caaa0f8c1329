"""Main photon lines and the Lu-177 dose-rate constants at 1 m.

Photon lines are ICRP-107 energies and yields per decay of the emitting
nuclide (``dosimetry-reference.md`` §1.4, packaged ``photon_lines_icrp107.csv``).
Dose-rate constants for Lu-177 are the point-source values of
``dosimetry-reference.md`` §1.5: Γ = (1/4πr²) Σ yᵢ Eᵢ (µ_en/ρ)_air(Eᵢ) from the
ICRP-107 spectrum (lines ≥ 20 keV) with NIST dry-air coefficients, and the
ICRP-74 H*(10)/K_air conversion; a measured patient dose rate at 1 m
(Bellamy et al., Radiat Prot Dosimetry 2022) is listed beside them because the
point-source constant overestimates a patient's dose rate about twofold.

Canonical units: air-kerma-rate constant in Gy·mm²/(Bq·s) (dose rate in Gy/s
at 1 mm from 1 Bq), ambient-dose-equivalent-rate constant in Sv·mm²/(Bq·s).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from prrt.errors import DataSourceError, InvalidInputError
from prrt.physics._tables import read_csv_file, read_csv_rows, to_float
from prrt.physics.nuclides import Nuclide, get_nuclide
from prrt.units import J_PER_MEV

__all__ = [
    "DEFAULT_PHOTON_LINES",
    "DOSE_RATE_CONSTANTS_TABLE",
    "PHOTON_LINES_TABLE",
    "DoseRateConstant",
    "PhotonLine",
    "PhotonLineTable",
    "dose_rate_constant",
    "photon_lines",
    "point_source_air_kerma_rate_gy_per_s",
]

PHOTON_LINES_TABLE = "photon_lines_icrp107.csv"
DOSE_RATE_CONSTANTS_TABLE = "dose_rate_constants.csv"

# Published units of the constants table → factor to the canonical unit (fixed list, no parsing).
_PER_GBQ_H = 1e9 * 3600.0
_TO_CANONICAL = {
    "uGy m2/(GBq h)": 1e-6 * 1e6 / _PER_GBQ_H,  # → Gy·mm²/(Bq·s)
    "uSv m2/(GBq h)": 1e-6 * 1e6 / _PER_GBQ_H,  # → Sv·mm²/(Bq·s)
    "uSv/h per GBq": 1e-6 / _PER_GBQ_H,  # → Sv/s per Bq (at 1 m)
}


@dataclass(frozen=True, slots=True)
class PhotonLine:
    """One photon line: energy, yield per decay of ``nuclide``, and its use.

    Examples
    --------
    >>> line = photon_lines("Lu-177")[0]
    >>> line.energy_kev, line.yield_per_decay
    (208.37, 0.11)
    """

    nuclide: str
    energy_kev: float
    yield_per_decay: float
    use: str
    source: str

    @property
    def energy_j(self) -> float:
        """Photon energy in J."""
        return self.energy_kev * 1e-3 * J_PER_MEV

    @property
    def energy_per_decay_mev(self) -> float:
        """Energy carried by this line per decay, yield × energy, in MeV."""
        return self.yield_per_decay * self.energy_kev * 1e-3


@dataclass(frozen=True, slots=True)
class PhotonLineTable:
    """A table of photon lines (one yield convention), e.g. ICRP-107 or ENSDF.

    ``dosimetry-reference.md`` §1.4: the program takes yields from a single
    configurable table; load another one with :meth:`from_csv` (columns
    ``nuclide, energy_kev, yield_per_decay, use, source``) and pass it as
    ``table=`` to :func:`photon_lines`.

    Examples
    --------
    >>> DEFAULT_PHOTON_LINES.name
    'photon_lines_icrp107.csv'
    """

    name: str
    lines: tuple[PhotonLine, ...]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]], *, name: str) -> PhotonLineTable:
        """Build a table from CSV rows (strings), validating every value."""
        lines = []
        for row in rows:
            raw = dict(row)
            line = PhotonLine(
                nuclide=get_nuclide(raw.get("nuclide", "").strip()).name,
                energy_kev=to_float(raw, "energy_kev", table=name),
                yield_per_decay=to_float(raw, "yield_per_decay", table=name),
                use=(raw.get("use") or "").strip(),
                source=(raw.get("source") or "").strip(),
            )
            if not (line.energy_kev > 0.0 and line.yield_per_decay >= 0.0 and line.source):
                raise DataSourceError(
                    f"{name}: invalid line {raw} (energy > 0, yield ≥ 0, source required)"
                )
            lines.append(line)
        return cls(name=name, lines=tuple(lines))

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> PhotonLineTable:
        """Load a photon-line table from a CSV file with the packaged table's columns."""
        return cls.from_rows(read_csv_file(path), name=os.fspath(path))


#: The packaged ICRP-107 photon-line table.
DEFAULT_PHOTON_LINES = PhotonLineTable.from_rows(
    read_csv_rows(PHOTON_LINES_TABLE), name=PHOTON_LINES_TABLE
)


def photon_lines(
    nuclide: Nuclide | str, *, min_yield: float = 0.0, table: PhotonLineTable = DEFAULT_PHOTON_LINES
) -> tuple[PhotonLine, ...]:
    """Return the tabulated main photon lines of ``nuclide``, highest yield first.

    Parameters
    ----------
    nuclide
        Nuclide or its name.
    min_yield
        Keep lines with at least this yield per decay.
    table
        Photon-line table (default: ICRP-107, packaged).

    Returns
    -------
    tuple of PhotonLine
        Empty when no line is tabulated for the nuclide (e.g. Y-90, Po-212).

    Examples
    --------
    >>> [(p.energy_kev, p.yield_per_decay) for p in photon_lines("177Lu", min_yield=0.01)]
    [(208.37, 0.11), (112.95, 0.064)]
    """
    name = get_nuclide(nuclide).name
    if not (math.isfinite(min_yield) and min_yield >= 0.0):
        raise InvalidInputError("min_yield", min_yield, "a yield per decay ≥ 0")
    chosen = [p for p in table.lines if p.nuclide == name and p.yield_per_decay >= min_yield]
    return tuple(sorted(chosen, key=lambda p: -p.yield_per_decay))


@dataclass(frozen=True, slots=True)
class DoseRateConstant:
    """Point-source dose-rate constants of a nuclide, with a measured patient value.

    Parameters
    ----------
    nuclide
        Canonical nuclide name.
    air_kerma_rate_constant_gy_mm2_per_bq_s
        Air-kerma rate (Gy/s) at 1 mm from 1 Bq; divide by distance² in mm².
    ambient_dose_equivalent_rate_constant_sv_mm2_per_bq_s
        Same for H*(10) (Sv/s).
    patient_dose_rate_at_1m_sv_per_s_per_bq
        Measured mean dose-equivalent rate at 1 m from a patient per Bq administered.
    patient_dose_rate_at_1m_interval_sv_per_s_per_bq
        Its 95 % interval (2.5th, 97.5th percentile).
    published
        The values as published: quantity → (value, unit).
    sources
        Quantity → source.

    Examples
    --------
    >>> c = dose_rate_constant("Lu-177")
    >>> round(c.published_value("air_kerma_rate_constant"), 2)
    4.29
    """

    nuclide: str
    air_kerma_rate_constant_gy_mm2_per_bq_s: float
    ambient_dose_equivalent_rate_constant_sv_mm2_per_bq_s: float
    patient_dose_rate_at_1m_sv_per_s_per_bq: float
    patient_dose_rate_at_1m_interval_sv_per_s_per_bq: tuple[float, float]
    published: tuple[tuple[str, float, str], ...]
    sources: tuple[tuple[str, str], ...]

    def published_value(self, quantity: str) -> float:
        """Return a constant in its published unit (see :attr:`published`)."""
        for name, value, _unit in self.published:
            if name == quantity:
                return value
        raise InvalidInputError(
            "quantity", quantity, "one of " + ", ".join(n for n, _, _ in self.published)
        )


@lru_cache(maxsize=8)
def _constants(name: str) -> DoseRateConstant | None:
    rows = [r for r in read_csv_rows(DOSE_RATE_CONSTANTS_TABLE) if r["nuclide"].strip() == name]
    if not rows:
        return None
    published = tuple(
        (
            r["quantity"].strip(),
            to_float(r, "value", table=DOSE_RATE_CONSTANTS_TABLE),
            r["unit"].strip(),
        )
        for r in rows
    )
    canonical: dict[str, float] = {}
    for quantity, value, unit in published:
        if unit in _TO_CANONICAL:
            canonical[quantity] = value * _TO_CANONICAL[unit]
    needed = (
        "air_kerma_rate_constant",
        "ambient_dose_equivalent_rate_constant",
        "patient_dose_rate_at_1m_mean",
        "patient_dose_rate_at_1m_p2.5",
        "patient_dose_rate_at_1m_p97.5",
    )
    missing = [q for q in needed if q not in canonical]
    if missing:
        raise DataSourceError(f"{DOSE_RATE_CONSTANTS_TABLE}: {name} lacks {', '.join(missing)}")
    return DoseRateConstant(
        nuclide=name,
        air_kerma_rate_constant_gy_mm2_per_bq_s=canonical["air_kerma_rate_constant"],
        ambient_dose_equivalent_rate_constant_sv_mm2_per_bq_s=canonical[
            "ambient_dose_equivalent_rate_constant"
        ],
        patient_dose_rate_at_1m_sv_per_s_per_bq=canonical["patient_dose_rate_at_1m_mean"],
        patient_dose_rate_at_1m_interval_sv_per_s_per_bq=(
            canonical["patient_dose_rate_at_1m_p2.5"],
            canonical["patient_dose_rate_at_1m_p97.5"],
        ),
        published=published,
        sources=tuple((r["quantity"].strip(), r["source"].strip()) for r in rows),
    )


def dose_rate_constant(nuclide: Nuclide | str) -> DoseRateConstant:
    """Return the tabulated dose-rate constants of ``nuclide`` (Lu-177 only for now).

    Raises
    ------
    InvalidInputError
        ``field="nuclide"`` for a nuclide without tabulated constants.

    Examples
    --------
    >>> c = dose_rate_constant("Lu-177")
    >>> f"{c.air_kerma_rate_constant_gy_mm2_per_bq_s:.4e}"
    '1.1917e-12'
    """
    name = get_nuclide(nuclide).name
    constants = _constants(name)
    if constants is None:
        raise InvalidInputError(
            "nuclide", name, "a nuclide with a tabulated dose-rate constant: Lu-177"
        )
    return constants


def point_source_air_kerma_rate_gy_per_s(
    nuclide: Nuclide | str, *, activity_bq: float, distance_mm: float
) -> float:
    """Return the unshielded point-source air-kerma rate in Gy/s (inverse-square law).

    This is an upper estimate for a patient (self-absorption halves it, Bellamy 2022).

    Examples
    --------
    >>> rate = point_source_air_kerma_rate_gy_per_s("Lu-177", activity_bq=7.4e9, distance_mm=1000.0)
    >>> round(rate * 3600 * 1e6, 2)  # µGy/h at 1 m from 7.4 GBq
    31.75
    """
    if not (math.isfinite(activity_bq) and activity_bq >= 0.0):
        raise InvalidInputError("activity_bq", activity_bq, "a finite, non-negative activity in Bq")
    if not (math.isfinite(distance_mm) and distance_mm > 0.0):
        raise InvalidInputError("distance_mm", distance_mm, "a positive distance in mm")
    constant = dose_rate_constant(nuclide).air_kerma_rate_constant_gy_mm2_per_bq_s
    return constant * activity_bq / distance_mm**2
