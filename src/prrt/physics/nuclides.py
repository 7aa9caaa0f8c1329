"""Radionuclides used in PRRT: half-lives, decay chains and mean energy emitted per decay.

Half-lives, decay modes, progeny and branching fractions are read from the
``radioactivedecay`` package (data set ``icrp107_ame2020_nubase2020``, i.e.
ICRP Publication 107 decay data), never re-typed.  Mean energies emitted per
decay, split into electrons (beta + internal-conversion + Auger), photons
(gamma + X + annihilation) and alphas (recoiling daughter listed apart), come
from the packaged table ``data/emissions_icrp107.csv`` (ICRP-107 sums as given
in ``dosimetry-reference.md`` §1.2; see ``data/README.md``).

Chain energies (:attr:`Nuclide.chain_emissions`) assume that every daughter
decays where the parent decayed ("daughters decay in situ",
``dosimetry-reference.md`` §1.3): each member's emissions are weighted by the
product of the branching fractions along its path from the parent.

References
----------
ICRP Publication 107, Nuclear decay data for dosimetric calculations. Ann ICRP 2008;38(3).
Malins A, Lemoine T. radioactivedecay: a Python package for radioactive decay calculations.
J Open Source Softw 2022;7(71):3318. doi:10.21105/joss.03318
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import radioactivedecay as rd

from prrt.errors import DataSourceError, InvalidInputError
from prrt.physics._tables import read_csv_file, read_csv_rows, to_float
from prrt.units import J_PER_MEV

__all__ = [
    "DECAY_DATA_SET",
    "DEFAULT_DATA",
    "EMISSIONS_TABLE",
    "ChainMember",
    "ElectronComponents",
    "EmissionEnergies",
    "Nuclide",
    "NuclideData",
    "canonical_nuclide_name",
    "get_nuclide",
    "supported_nuclides",
]

#: Name of the radioactivedecay data set used for half-lives and chains.
DECAY_DATA_SET = "icrp107_ame2020_nubase2020"
#: Packaged emission table (mean energy per decay, MeV).
EMISSIONS_TABLE = "emissions_icrp107.csv"
#: Branches carrying less than this fraction of parent decays may end in a nuclide
#: without emission data (e.g. In-111 -> Cd-111m, 5e-5); they are listed, not summed.
_NEGLIGIBLE_BRANCH = 1e-3
#: Progeny whose half-life exceeds this (about 3e7 years) count as end of chain.
_EFFECTIVELY_STABLE_S = 1e15


@dataclass(frozen=True, slots=True)
class EmissionEnergies:
    """Mean energy emitted per decay, by radiation class, in MeV.

    Parameters
    ----------
    electron_mev
        Beta (mean of each branch) + internal-conversion + Auger electrons.
    photon_mev
        Gamma + X-rays + annihilation photons.
    alpha_mev
        Alpha particles, excluding the recoiling daughter nucleus.
    alpha_recoil_mev
        Kinetic energy of the recoiling daughter after alpha decay.

    Examples
    --------
    >>> e = EmissionEnergies(electron_mev=0.14792, photon_mev=0.03510, alpha_mev=0.0, alpha_recoil_mev=0.0)
    >>> round(e.total_mev, 5)
    0.18302
    >>> f"{e.electron_j:.4e}"
    '2.3699e-14'
    """

    electron_mev: float
    photon_mev: float
    alpha_mev: float
    alpha_recoil_mev: float

    def __post_init__(self) -> None:
        for name in ("electron_mev", "photon_mev", "alpha_mev", "alpha_recoil_mev"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0.0):
                raise InvalidInputError(
                    name, value, "a finite, non-negative energy per decay in MeV"
                )

    @property
    def electron_j(self) -> float:
        """Electron energy per decay in J."""
        return self.electron_mev * J_PER_MEV

    @property
    def photon_j(self) -> float:
        """Photon energy per decay in J."""
        return self.photon_mev * J_PER_MEV

    @property
    def alpha_j(self) -> float:
        """Alpha energy per decay in J (recoil excluded)."""
        return self.alpha_mev * J_PER_MEV

    @property
    def alpha_recoil_j(self) -> float:
        """Alpha-recoil energy per decay in J."""
        return self.alpha_recoil_mev * J_PER_MEV

    @property
    def non_penetrating_mev(self) -> float:
        """Electrons + alphas + recoil per decay in MeV (locally absorbed in MIRD practice)."""
        return self.electron_mev + self.alpha_mev + self.alpha_recoil_mev

    @property
    def total_mev(self) -> float:
        """All energy emitted per decay in MeV (electrons + photons + alphas + recoil)."""
        return self.electron_mev + self.photon_mev + self.alpha_mev + self.alpha_recoil_mev

    @property
    def total_j(self) -> float:
        """All energy emitted per decay in J."""
        return self.total_mev * J_PER_MEV

    def scaled(self, factor: float) -> EmissionEnergies:
        """Return the energies multiplied by a non-negative ``factor`` (e.g. a branching weight)."""
        return EmissionEnergies(
            electron_mev=self.electron_mev * factor,
            photon_mev=self.photon_mev * factor,
            alpha_mev=self.alpha_mev * factor,
            alpha_recoil_mev=self.alpha_recoil_mev * factor,
        )

    def __add__(self, other: EmissionEnergies) -> EmissionEnergies:
        """Sum two emission records class by class."""
        return EmissionEnergies(
            electron_mev=self.electron_mev + other.electron_mev,
            photon_mev=self.photon_mev + other.photon_mev,
            alpha_mev=self.alpha_mev + other.alpha_mev,
            alpha_recoil_mev=self.alpha_recoil_mev + other.alpha_recoil_mev,
        )


@dataclass(frozen=True, slots=True)
class ElectronComponents:
    """The electron energy per decay split by origin, in MeV (ICRP-107 sums)."""

    beta_mev: float
    conversion_electron_mev: float
    auger_mev: float


@dataclass(frozen=True, slots=True)
class ChainMember:
    """A member of a decay chain and how many of its decays follow one parent decay.

    Parameters
    ----------
    name
        Canonical nuclide name, e.g. ``"Bi-212"``.
    decays_per_parent_decay
        Product of the branching fractions along the paths from the parent
        (e.g. 0.6406 for Po-212 in the Pb-212 chain).
    """

    name: str
    decays_per_parent_decay: float


@dataclass(frozen=True, slots=True)
class Nuclide:
    """A radionuclide with its ICRP-107 decay data and mean emissions per decay.

    Build instances with :func:`get_nuclide`; all fields are read-only.

    Examples
    --------
    >>> lu = get_nuclide("177Lu")
    >>> lu.name, round(lu.half_life_s / 86400, 3)
    ('Lu-177', 6.647)
    >>> lu.emissions.electron_mev, lu.emissions.photon_mev
    (0.14792, 0.0351)
    """

    name: str
    half_life_s: float
    decay_constant_per_s: float
    progeny: tuple[str, ...]
    branching_fractions: tuple[float, ...]
    emissions: EmissionEnergies
    chain_emissions: EmissionEnergies
    decay_modes: tuple[str, ...] = ()
    electron_components: ElectronComponents | None = None
    chain: tuple[ChainMember, ...] = ()
    neglected_branches: tuple[ChainMember, ...] = ()
    data_sources: tuple[str, ...] = field(default=())

    @property
    def mean_life_s(self) -> float:
        """Mean life 1/λ in s (also the time-integrated activity per Bq without biology)."""
        return 1.0 / self.decay_constant_per_s

    @property
    def has_radioactive_progeny(self) -> bool:
        """Whether the chain holds more than the nuclide itself."""
        return len(self.chain) > 1

    @property
    def chain_names(self) -> tuple[str, ...]:
        """Names of the chain members, parent first."""
        return tuple(member.name for member in self.chain)


#: Names of the packaged table, for error hints (read without parsing the energies).
_PACKAGED_NAMES = tuple(r["nuclide"].strip() for r in read_csv_rows(EMISSIONS_TABLE))

_NAME_PATTERN = re.compile(
    r"^\s*(?:(?P<mass1>\d{1,3})(?P<meta1>m\d?)?\s*-?\s*(?P<sym1>[A-Za-z]{1,2})"
    r"|(?P<sym2>[A-Za-z]{1,2})\s*-?\s*(?P<mass2>\d{1,3})(?P<meta2>m\d?)?)\s*$"
)


def canonical_nuclide_name(name: str) -> str:
    """Return the canonical spelling ``"Lu-177"`` of a nuclide name.

    Accepts ``"Lu-177"``, ``"177Lu"``, ``"Lu177"``, ``"lu-177"``, ``"177-Lu"``,
    ``"Lu 177"``; does not check that the nuclide is supported.

    Raises
    ------
    InvalidInputError
        If the text is not a nuclide name of that shape.

    Examples
    --------
    >>> canonical_nuclide_name("177lu"), canonical_nuclide_name("PB212")
    ('Lu-177', 'Pb-212')
    """
    match = _NAME_PATTERN.match(name) if isinstance(name, str) else None
    if match is None:
        raise InvalidInputError(
            "nuclide",
            name,
            "a nuclide name such as 'Lu-177' or '177Lu'",
            hint="supported: " + ", ".join(_PACKAGED_NAMES),
        )
    symbol = match.group("sym1") or match.group("sym2")
    mass = match.group("mass1") or match.group("mass2")
    meta = match.group("meta1") or match.group("meta2") or ""
    return f"{symbol.capitalize()}-{int(mass)}{meta.lower()}"


def _supported_hint(data: NuclideData | None = None) -> str:
    return "supported: " + ", ".join(supported_nuclides(data or DEFAULT_DATA))


_EmissionRow = tuple[EmissionEnergies, ElectronComponents, str]


@dataclass(frozen=True, eq=False)
class NuclideData:
    """A table of mean energies emitted per decay, keyed by canonical nuclide name.

    The packaged ICRP-107 table is :data:`DEFAULT_DATA`; another table with the
    same columns (``nuclide, beta_mean_mev, conversion_electron_mev, auger_mev,
    electron_total_mev, photon_total_mev, alpha_mev, alpha_recoil_mev, source``)
    can be loaded with :meth:`from_csv` and passed as ``data=`` to
    :func:`get_nuclide`. Half-lives and chains always come from radioactivedecay.

    Examples
    --------
    >>> DEFAULT_DATA.name
    'emissions_icrp107.csv'
    >>> DEFAULT_DATA.nuclides[:2]
    ('Lu-177', 'Y-90')
    """

    name: str
    rows: Mapping[str, _EmissionRow]

    @property
    def nuclides(self) -> tuple[str, ...]:
        """Canonical names in table order."""
        return tuple(self.rows)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]], *, name: str) -> NuclideData:
        """Build a table from CSV rows (strings), validating every value."""
        parsed: dict[str, _EmissionRow] = {}
        for row in rows:
            raw = dict(row)
            nuclide = canonical_nuclide_name(raw.get("nuclide", "").strip())
            energies = EmissionEnergies(
                electron_mev=to_float(raw, "electron_total_mev", table=name),
                photon_mev=to_float(raw, "photon_total_mev", table=name),
                alpha_mev=to_float(raw, "alpha_mev", table=name),
                alpha_recoil_mev=to_float(raw, "alpha_recoil_mev", table=name),
            )
            components = ElectronComponents(
                beta_mev=to_float(raw, "beta_mean_mev", table=name),
                conversion_electron_mev=to_float(raw, "conversion_electron_mev", table=name),
                auger_mev=to_float(raw, "auger_mev", table=name),
            )
            if nuclide in parsed:
                raise DataSourceError(f"{name}: nuclide {nuclide} is listed twice")
            source = (raw.get("source") or "").strip()
            if not source:
                raise DataSourceError(f"{name}: nuclide {nuclide} has no source")
            parsed[nuclide] = (energies, components, source)
        if not parsed:
            raise DataSourceError(f"{name}: the emission table is empty")
        return cls(name=name, rows=MappingProxyType(parsed))

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> NuclideData:
        """Load an emission table from a CSV file with the packaged table's columns."""
        return cls.from_rows(read_csv_file(path), name=os.fspath(path))


#: The packaged ICRP-107 emission table.
DEFAULT_DATA = NuclideData.from_rows(read_csv_rows(EMISSIONS_TABLE), name=EMISSIONS_TABLE)


def supported_nuclides(data: NuclideData = DEFAULT_DATA) -> tuple[str, ...]:
    """Return the canonical names of the nuclides with emission data, in table order.

    Examples
    --------
    >>> supported_nuclides()[:4]
    ('Lu-177', 'Y-90', 'In-111', 'Ga-68')
    >>> len(supported_nuclides())
    17
    """
    return data.nuclides


@dataclass(frozen=True, slots=True)
class _DecayRecord:
    half_life_s: float
    progeny: tuple[str, ...]
    branching_fractions: tuple[float, ...]
    decay_modes: tuple[str, ...]


@lru_cache(maxsize=64)
def _decay_record(name: str) -> _DecayRecord:
    # Explicit unit strings only: radioactivedecay reads free text such as "m" or "Gy"
    # as minutes or giga-years, so no user text ever reaches it (style-guide §3).
    try:
        nuclide = rd.Nuclide(name)
    except ValueError as err:
        raise DataSourceError(f"radioactivedecay has no nuclide {name!r}: {err}") from err
    return _DecayRecord(
        half_life_s=float(nuclide.half_life("s")),
        progeny=tuple(str(p) for p in nuclide.progeny()),
        branching_fractions=tuple(float(b) for b in nuclide.branching_fractions()),
        decay_modes=tuple(str(m) for m in nuclide.decay_modes()),
    )


def _walk_chain(
    parent: str, known: Iterable[str]
) -> tuple[tuple[ChainMember, ...], tuple[ChainMember, ...]]:
    """Accumulate decays per parent decay over every path of the chain (Bateman weights)."""
    known_set = set(known)
    weights: dict[str, float] = {parent: 1.0}
    neglected: dict[str, float] = {}
    stack: list[tuple[str, float]] = [(parent, 1.0)]
    while stack:
        name, weight = stack.pop()
        record = _decay_record(name)
        for daughter, fraction in zip(record.progeny, record.branching_fractions, strict=True):
            path_weight = weight * fraction
            daughter_record = _decay_record(daughter)
            if daughter_record.half_life_s > _EFFECTIVELY_STABLE_S:
                continue
            if daughter not in known_set:
                if path_weight >= _NEGLIGIBLE_BRANCH:
                    raise DataSourceError(
                        f"{EMISSIONS_TABLE} lacks {daughter}, which follows "
                        f"{path_weight:.4g} of {parent} decays; add its emissions to the table"
                    )
                neglected[daughter] = neglected.get(daughter, 0.0) + path_weight
                continue
            weights[daughter] = weights.get(daughter, 0.0) + path_weight
            stack.append((daughter, path_weight))
    # Keep chain order: parent first, then by decreasing half-life-independent discovery order.
    order = _chain_order(parent, set(weights))
    members = tuple(ChainMember(n, weights[n]) for n in order)
    dropped = tuple(ChainMember(n, w) for n, w in neglected.items())
    return members, dropped


def _chain_order(parent: str, members: set[str]) -> list[str]:
    order: list[str] = []
    queue = [parent]
    while queue:
        name = queue.pop(0)
        if name in order or name not in members:
            continue
        order.append(name)
        queue.extend(_decay_record(name).progeny)
    return order


@lru_cache(maxsize=128)
def _build(name: str, data: NuclideData) -> Nuclide:
    rows = data.rows
    emissions, components, source = rows[name]
    record = _decay_record(name)
    chain, neglected = _walk_chain(name, rows)
    chain_emissions = emissions
    for member in chain[1:]:
        chain_emissions = chain_emissions + rows[member.name][0].scaled(
            member.decays_per_parent_decay
        )
    return Nuclide(
        name=name,
        half_life_s=record.half_life_s,
        decay_constant_per_s=math.log(2.0) / record.half_life_s,
        progeny=record.progeny,
        branching_fractions=record.branching_fractions,
        emissions=emissions,
        chain_emissions=chain_emissions,
        decay_modes=record.decay_modes,
        electron_components=components,
        chain=chain,
        neglected_branches=neglected,
        data_sources=(f"radioactivedecay {rd.__version__} ({DECAY_DATA_SET})", source),
    )


def get_nuclide(name: str | Nuclide, *, data: NuclideData = DEFAULT_DATA) -> Nuclide:
    """Return the :class:`Nuclide` for a name such as ``"Lu-177"``, ``"177Lu"`` or ``"lu177"``.

    Parameters
    ----------
    name
        Nuclide name in any common spelling (a :class:`Nuclide` is returned unchanged).
    data
        Emission table (default: the packaged ICRP-107 table).

    Returns
    -------
    Nuclide
        Half-life and chain from radioactivedecay (ICRP-107); emissions from
        the packaged ICRP-107 table.

    Raises
    ------
    InvalidInputError
        ``field="nuclide"`` when the name is malformed or not supported; the
        message lists the supported nuclides.

    Examples
    --------
    >>> pb = get_nuclide("Pb212")
    >>> pb.chain_names
    ('Pb-212', 'Bi-212', 'Po-212', 'Tl-208')
    >>> round(pb.chain_emissions.alpha_mev, 3)
    7.802
    """
    if isinstance(name, Nuclide):
        return name
    canonical = canonical_nuclide_name(name)
    if canonical not in data.rows:
        raise InvalidInputError(
            "nuclide", name, "one of the supported nuclides", hint=_supported_hint(data)
        )
    return _build(canonical, data)
