"""Self-dose S values of uniformly filled spheres (lesions, small glands) for 177Lu.

The packaged table (``data/spheres_lu177.csv``) holds total (electron + photon)
self-dose S values of spheres of radius 0.1–6 cm for five soft-tissue/bone
compositions, from qurit/PyTheranostics ``data/s-values/spheres.json``
(Apache-2.0; provenance not stated there, plausibly the MIRDcalc/IDAC sphere
model — treat as a secondary reference, dosimetry-reference.md §2.5).

Between table points S is interpolated linearly in log(S)–log(m)
(dosimetry-reference.md §2.5, case SPH-02).  Below the smallest sphere
(4.3 mg for soft tissue) the value is refused because electron escape grows
quickly; above the largest (932 g) the product S·m is nearly constant
(absorbed energy per decay, §2.5 first-principles check), so S is extrapolated
as ``S_max·m_max/m`` with an :class:`~prrt.errors.ExtrapolationWarning`.
"""

from __future__ import annotations

import csv
import math
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from prrt._typing import FloatArray
from prrt.errors import DataSourceError, ExtrapolationWarning, InvalidInputError

__all__ = [
    "SPHERE_COMPOSITIONS",
    "SPHERE_TABLE_SOURCE",
    "SphereTable",
    "sphere_s_value_gy_per_bq_s",
    "sphere_table",
]

#: Compositions of the packaged sphere table (soft tissue / cortical bone by volume).
SPHERE_COMPOSITIONS = ("soft_tissue", "st75_bone25", "st50_bone50", "st25_bone75", "cortical_bone")
#: Provenance of the packaged sphere table.
SPHERE_TABLE_SOURCE = (
    "Lu-177 sphere S values, qurit/PyTheranostics data/s-values/spheres.json (Apache-2.0)"
)

_G_TO_KG = 1e-3


@dataclass(frozen=True, slots=True)
class SphereTable:
    """Sphere S values of one composition: masses (kg, ascending) and S (Gy/(Bq·s))."""

    composition: str
    density_g_per_cm3: float
    masses_kg: FloatArray
    s_values_gy_per_bq_s: FloatArray


@cache
def _tables() -> dict[str, SphereTable]:
    try:
        text = (
            resources.files("prrt.dosimetry")
            .joinpath("data", "spheres_lu177.csv")
            .read_text(encoding="utf-8")
        )
    except OSError as err:
        raise DataSourceError(f"packaged sphere table cannot be read: {err}") from err
    rows: dict[str, list[tuple[float, float]]] = {}
    density: dict[str, float] = {}
    for row in csv.DictReader(text.splitlines()):
        name = row["composition"]
        rows.setdefault(name, []).append(
            (float(row["mass_g"]) * _G_TO_KG, float(row["s_gy_per_bq_s"]))
        )
        density[name] = float(row["density_g_per_cm3"])
    tables = {}
    for name, points in rows.items():
        points.sort()
        tables[name] = SphereTable(
            composition=name,
            density_g_per_cm3=density[name],
            masses_kg=np.array([p[0] for p in points], dtype=np.float64),
            s_values_gy_per_bq_s=np.array([p[1] for p in points], dtype=np.float64),
        )
    return tables


def sphere_table(composition: str = "soft_tissue") -> SphereTable:
    """Return the packaged sphere table of ``composition``.

    Raises
    ------
    InvalidInputError
        For an unknown composition.
    """
    tables = _tables()
    if composition not in tables:
        raise InvalidInputError(
            "composition", composition, "one of " + ", ".join(SPHERE_COMPOSITIONS)
        )
    return tables[composition]


def sphere_s_value_gy_per_bq_s(*, mass_kg: float, composition: str = "soft_tissue") -> float:
    """Return the 177Lu self-dose S value of a sphere of ``mass_kg``.

    Parameters
    ----------
    mass_kg
        Mass of the sphere (lesion) in kg.
    composition
        One of :data:`SPHERE_COMPOSITIONS`; ``"soft_tissue"`` (ρ = 1.03 g/cm³)
        is the default lesion model.

    Returns
    -------
    float
        S value in Gy/(Bq·s), interpolated in log(S)–log(m).

    Raises
    ------
    InvalidInputError
        Mass not positive or below the smallest tabulated sphere.

    Warns
    -----
    ExtrapolationWarning
        Above the largest tabulated sphere (S·m held constant).

    References
    ----------
    dosimetry-reference.md §2.5 (SPH-01/02).

    Examples
    --------
    SPH-02: 10 g → 2.372e-12 Gy/(Bq·s):

    >>> f"{sphere_s_value_gy_per_bq_s(mass_kg=0.010):.4g}"
    '2.372e-12'
    """
    if isinstance(mass_kg, bool) or not isinstance(mass_kg, int | float):
        raise InvalidInputError("mass_kg", mass_kg, "a lesion mass in kg as a number")
    if not math.isfinite(mass_kg) or mass_kg <= 0.0:
        raise InvalidInputError("mass_kg", mass_kg, "a positive, finite lesion mass")
    table = sphere_table(composition)
    m = table.masses_kg
    s = table.s_values_gy_per_bq_s
    if mass_kg < m[0]:
        raise InvalidInputError(
            "mass_kg",
            mass_kg,
            f"a lesion mass of at least {m[0] * 1e3:g} g (smallest tabulated sphere)",
            hint="smaller objects lose a large, uncertain fraction of their electron energy",
        )
    if mass_kg > m[-1]:
        warnings.warn(
            f"lesion mass {mass_kg * 1e3:g} g is above the largest tabulated sphere "
            f"({m[-1] * 1e3:g} g); S extrapolated with S·m constant",
            ExtrapolationWarning,
            stacklevel=2,
        )
        return float(s[-1] * m[-1] / mass_kg)
    log_s = np.interp(math.log(mass_kg), np.log(m), np.log(s))
    return float(math.exp(log_s))
