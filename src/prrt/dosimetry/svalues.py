"""Organ S values for the MIRD schema: packaged tables, region names, mass scaling, remainder of body.

The packaged table holds 177Lu S values for the ICRP-89 adult male and female
phantoms in OLINDA/EXM layout (rows are targets, columns sources), as
distributed in qurit/PyTheranostics (Apache-2.0); see
``prrt/dosimetry/data/README.md``.  Values are kept in the file in the unit of
the source, mGy/(MBq·s), and converted once on loading to the canonical
Gy/(Bq·s) (1 mGy/(MBq·s) = 1e-9 Gy/(Bq·s)).

Formulas (MIRD Pamphlet 21, Bolch et al., J Nucl Med 2009;50:477;
dosimetry-reference.md §2.1):

* self-dose mass scaling, ``S_self(m_pt) = S_self,ph · m_ph/m_pt`` (linear), or
  the electron/photon split ``S_np · m_ph/m_pt + S_p · (m_ph/m_pt)^(2/3)`` with
  ``S_np = Δ_e/m_ph``; cross-dose S values are never scaled;
* remainder of body (Cristy/MIRD):
  ``S(t←RB) = [M_TB·S(t←TB) − Σ_s M_s·S(t←s)] / (M_TB − Σ_s M_s)``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources

from prrt.errors import DataSourceError, InvalidInputError
from prrt.physics import canonical_nuclide_name

__all__ = [
    "LEFT_KIDNEY",
    "REMAINDER_OF_BODY",
    "RIGHT_KIDNEY",
    "SVALUE_TABLE_SOURCE",
    "TOTAL_BODY",
    "MassScaling",
    "Phantom",
    "SValueTable",
    "Sex",
    "canonical_region",
    "load_svalue_table",
    "scale_self_s_value",
]

#: Region name of the whole body as a source or target.
TOTAL_BODY = "total_body"
#: Region name of the whole body minus the segmented source regions.
REMAINDER_OF_BODY = "remainder_of_body"
#: Per-kidney region names (used with the per-kidney convention only).
LEFT_KIDNEY = "left_kidney"
RIGHT_KIDNEY = "right_kidney"

#: Provenance of the packaged S-value table.
SVALUE_TABLE_SOURCE = (
    "Lu-177 S values, ICRP-89 adult phantoms (OLINDA/EXM layout), qurit/PyTheranostics "
    "Lu177-Male/Female-Svalues.csv (Apache-2.0); masses ICRP-89 via PyTheranostics "
    "human_phantom_masses.csv"
)

_MGY_PER_MBQ_S_TO_GY_PER_BQ_S = 1e-9
_G_TO_KG = 1e-3

_ALIASES: dict[str, str] = {
    "kidney": "kidneys",
    "both_kidneys": "kidneys",
    "kidney_left": LEFT_KIDNEY,
    "l_kidney": LEFT_KIDNEY,
    "kidney_l": LEFT_KIDNEY,
    "kidney_right": RIGHT_KIDNEY,
    "r_kidney": RIGHT_KIDNEY,
    "kidney_r": RIGHT_KIDNEY,
    "marrow": "red_marrow",
    "bone_marrow": "red_marrow",
    "red_bone_marrow": "red_marrow",
    "whole_body": TOTAL_BODY,
    "body": TOTAL_BODY,
    "tb": TOTAL_BODY,
    "wb": TOTAL_BODY,
    "rest_of_body": REMAINDER_OF_BODY,
    "remainder": REMAINDER_OF_BODY,
    "rob": REMAINDER_OF_BODY,
    "salivary": "salivary_glands",
    "bladder_contents": "urinary_bladder_contents",
    "bladder_wall": "urinary_bladder_wall",
    "oesophagus": "esophagus",
    "lung": "lungs",
}


class Sex(Enum):
    """Sex of the reference phantom."""

    MALE = "male"
    FEMALE = "female"


class Phantom(Enum):
    """Reference phantom of an S-value table."""

    ICRP89_AM = "ICRP89_AM"
    ICRP89_AF = "ICRP89_AF"

    @classmethod
    def for_sex(cls, sex: Sex) -> Phantom:
        """Return the ICRP-89 adult phantom of ``sex``.

        Examples
        --------
        >>> Phantom.for_sex(Sex.FEMALE)
        <Phantom.ICRP89_AF: 'ICRP89_AF'>
        """
        return cls.ICRP89_AM if sex is Sex.MALE else cls.ICRP89_AF


class MassScaling(Enum):
    """How a phantom self-dose S value is scaled to the patient's organ mass (§2.1)."""

    LINEAR = "linear"
    ELECTRON_PHOTON_SPLIT = "electron_photon_split"


def canonical_region(name: str, *, field: str = "region") -> str:
    """Return the canonical snake_case name of a region (``"Left Kidney"`` → ``"left_kidney"``).

    Only spelling is normalised here; whether a table knows the region is
    checked where the region is used.

    Raises
    ------
    InvalidInputError
        If ``name`` is not a non-empty string.

    Examples
    --------
    >>> canonical_region("Red Marrow")
    'red_marrow'
    >>> canonical_region("whole-body")
    'total_body'
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(field, name, "a region name such as 'kidneys' or 'liver'")
    key = name.strip().lower().replace("-", "_").replace(" ", "_").replace(".", "")
    while "__" in key:
        key = key.replace("__", "_")
    return _ALIASES.get(key, key)


def _check_mass_kg(mass_kg: float, field: str) -> float:
    if isinstance(mass_kg, bool) or not isinstance(mass_kg, int | float):
        raise InvalidInputError(field, mass_kg, "a mass in kg as a number")
    if not math.isfinite(mass_kg) or mass_kg <= 0.0:
        raise InvalidInputError(field, mass_kg, "a positive, finite mass in kg")
    return float(mass_kg)


def scale_self_s_value(
    *,
    s_phantom_gy_per_bq_s: float,
    phantom_mass_kg: float,
    patient_mass_kg: float,
    method: MassScaling = MassScaling.LINEAR,
    electron_energy_j: float | None = None,
) -> float:
    """Scale a phantom self-dose S value to the patient's organ mass.

    Parameters
    ----------
    s_phantom_gy_per_bq_s
        Self-dose S value of the phantom organ.
    phantom_mass_kg, patient_mass_kg
        Organ masses of the phantom and of the patient.
    method
        ``LINEAR``: ``S·m_ph/m_pt``.  ``ELECTRON_PHOTON_SPLIT``: the electron
        part ``Δ_e/m_ph`` scales with ``m_ph/m_pt`` and the rest (photons) with
        ``(m_ph/m_pt)^(2/3)``; if the table value is below ``Δ_e/m_ph`` (small
        organs lose electrons) all of it is scaled linearly.
    electron_energy_j
        Mean electron energy per decay, required for the split method.

    Returns
    -------
    float
        Patient self-dose S value in Gy/(Bq·s).

    References
    ----------
    MIRD Pamphlet 21 (doi 10.2967/jnumed.108.056226); dosimetry-reference.md §2.1, case ORG-05.

    Examples
    --------
    Kidneys 310 g → 250 g (ORG-05: 9.622e-5 mGy/(MBq·s)):

    >>> s = scale_self_s_value(s_phantom_gy_per_bq_s=7.76e-14, phantom_mass_kg=0.310,
    ...                        patient_mass_kg=0.250)
    >>> f"{s * 1e9:.4g}"
    '9.622e-05'
    """
    phantom = _check_mass_kg(phantom_mass_kg, "phantom_mass_kg")
    patient = _check_mass_kg(patient_mass_kg, "patient_mass_kg")
    if not math.isfinite(s_phantom_gy_per_bq_s) or s_phantom_gy_per_bq_s <= 0.0:
        raise InvalidInputError(
            "s_phantom_gy_per_bq_s", s_phantom_gy_per_bq_s, "a positive S value in Gy/(Bq·s)"
        )
    ratio = phantom / patient
    if method is MassScaling.LINEAR:
        return s_phantom_gy_per_bq_s * ratio
    if electron_energy_j is None or not math.isfinite(electron_energy_j) or electron_energy_j < 0:
        raise InvalidInputError(
            "electron_energy_j",
            electron_energy_j,
            "the mean electron energy per decay in J (needed by the electron/photon split)",
        )
    s_electron = electron_energy_j / phantom
    if s_electron >= s_phantom_gy_per_bq_s:
        return s_phantom_gy_per_bq_s * ratio
    s_photon = s_phantom_gy_per_bq_s - s_electron
    return float(s_electron * ratio + s_photon * ratio ** (2.0 / 3.0))


@dataclass(frozen=True, slots=True)
class SValueTable:
    """Organ S values of one phantom and nuclide, in Gy/(Bq·s), with phantom masses in kg.

    Build with :func:`load_svalue_table`.  Rows are targets and columns
    sources: ``s_gy_per_bq_s(target="kidneys", source="spleen")`` is the dose
    to the kidneys per decay in the spleen.
    """

    phantom: Phantom
    nuclide: str
    values_gy_per_bq_s: Mapping[tuple[str, str], float]
    masses_kg: Mapping[str, float]
    targets: tuple[str, ...]
    sources: tuple[str, ...]
    data_source: str = SVALUE_TABLE_SOURCE

    def _check(self, region: str, known: tuple[str, ...], field: str) -> str:
        name = canonical_region(region, field=field)
        if name not in known:
            raise InvalidInputError(
                field,
                region,
                f"a {field} region of the {self.phantom.value} {self.nuclide} table",
                hint="known: " + ", ".join(known),
            )
        return name

    def s_gy_per_bq_s(self, *, target: str, source: str) -> float:
        """Return S(target ← source) in Gy/(Bq·s).

        Examples
        --------
        >>> table = load_svalue_table(Phantom.ICRP89_AM)
        >>> f"{table.s_gy_per_bq_s(target='kidneys', source='spleen'):.3g}"
        '2.65e-16'
        """
        t = self._check(target, self.targets, "target")
        s = self._check(source, self.sources, "source")
        return self.values_gy_per_bq_s[(t, s)]

    def mass_kg(self, region: str, *, field: str = "region") -> float:
        """Return the phantom mass of ``region`` in kg.

        Raises
        ------
        InvalidInputError
            If the table has no mass for the region (e.g. organ contents).
        """
        name = canonical_region(region, field=field)
        if name not in self.masses_kg:
            raise InvalidInputError(
                field,
                region,
                f"a region with an ICRP-89 reference mass in the {self.phantom.value} phantom",
                hint="known: " + ", ".join(sorted(self.masses_kg)),
            )
        return self.masses_kg[name]

    def remainder_of_body_s_gy_per_bq_s(self, *, target: str, sources: Iterable[str]) -> float:
        """Return S(target ← remainder of body) for the given segmented ``sources``.

        ``S(t←RB) = [M_TB·S(t←TB) − Σ_s M_s·S(t←s)] / M_RB`` with
        ``M_RB = M_TB − Σ_s M_s`` (MIRD/Cristy remainder-of-body correction,
        dosimetry-reference.md §2.1, case ORG-10).  Computed in double precision.

        Examples
        --------
        ORG-10 (kidneys ← RB with kidneys, liver and spleen segmented, AM): 2.58e-8 mGy/(MBq·s).

        >>> table = load_svalue_table(Phantom.ICRP89_AM)
        >>> s = table.remainder_of_body_s_gy_per_bq_s(
        ...     target="kidneys", sources=["kidneys", "liver", "spleen"])
        >>> f"{s * 1e9:.3g}"
        '2.58e-08'
        """
        names = self._remainder_sources(sources)
        m_tb = self.mass_kg(TOTAL_BODY)
        numerator = m_tb * self.s_gy_per_bq_s(target=target, source=TOTAL_BODY)
        for name in names:
            numerator -= self.mass_kg(name, field="source") * self.s_gy_per_bq_s(
                target=target, source=name
            )
        return numerator / self.remainder_mass_kg(names)

    def remainder_mass_kg(self, sources: Iterable[str]) -> float:
        """Return ``M_TB − Σ_s M_s`` for the segmented ``sources`` (ORG-10: 70.74 kg).

        Examples
        --------
        >>> round(load_svalue_table(Phantom.ICRP89_AM).remainder_mass_kg(
        ...     ["kidneys", "liver", "spleen"]), 5)
        70.74
        """
        names = self._remainder_sources(sources)
        remainder = self.mass_kg(TOTAL_BODY) - sum(self.mass_kg(n, field="source") for n in names)
        if remainder <= 0.0:
            raise InvalidInputError(
                "sources", names, "segmented regions lighter than the whole body"
            )
        return remainder

    def _remainder_sources(self, sources: Iterable[str]) -> tuple[str, ...]:
        names: list[str] = []
        for source in sources:
            name = self._check(source, self.sources, "source")
            if name == TOTAL_BODY:
                raise InvalidInputError(
                    "source", source, "a segmented region, not the total body itself"
                )
            if name in names:
                raise InvalidInputError("source", source, "each segmented region listed once")
            names.append(name)
        return tuple(names)


def _data_text(name: str) -> str:
    try:
        return resources.files("prrt.dosimetry").joinpath("data", name).read_text(encoding="utf-8")
    except OSError as err:
        raise DataSourceError(f"packaged table {name} cannot be read: {err}") from err


@cache
def _phantom_masses() -> dict[Phantom, dict[str, float]]:
    masses: dict[Phantom, dict[str, float]] = {Phantom.ICRP89_AM: {}, Phantom.ICRP89_AF: {}}
    for row in csv.DictReader(_data_text("phantom_masses_icrp89.csv").splitlines()):
        for phantom, column in ((Phantom.ICRP89_AM, "male_g"), (Phantom.ICRP89_AF, "female_g")):
            if row[column]:
                masses[phantom][row["region"]] = float(row[column]) * _G_TO_KG
    return masses


@cache
def _load(phantom: Phantom) -> SValueTable:
    values: dict[tuple[str, str], float] = {}
    targets: list[str] = []
    sources: list[str] = []
    for row in csv.DictReader(_data_text("svalues_lu177_icrp89.csv").splitlines()):
        if row["phantom"] != phantom.value:
            continue
        target, source = row["target"], row["source"]
        values[(target, source)] = float(row["s_mgy_per_mbq_s"]) * _MGY_PER_MBQ_S_TO_GY_PER_BQ_S
        if target not in targets:
            targets.append(target)
        if source not in sources:
            sources.append(source)
    if len(values) != len(targets) * len(sources):
        raise DataSourceError(f"S-value table of {phantom.value} is not a full matrix")
    return SValueTable(
        phantom=phantom,
        nuclide="Lu-177",
        values_gy_per_bq_s=values,
        masses_kg=_phantom_masses()[phantom],
        targets=tuple(targets),
        sources=tuple(sources),
    )


def load_svalue_table(phantom: Phantom, nuclide: str = "Lu-177") -> SValueTable:
    """Return the packaged S-value table of ``phantom`` for ``nuclide``.

    Parameters
    ----------
    phantom
        ``Phantom.ICRP89_AM`` or ``Phantom.ICRP89_AF``.
    nuclide
        Only ``"Lu-177"`` has packaged organ S values; other nuclides use local
        deposition (:func:`prrt.dosimetry.organ.local_deposition_dose`).

    Raises
    ------
    InvalidInputError
        For a nuclide without a packaged table.

    Examples
    --------
    >>> table = load_svalue_table(Phantom.ICRP89_AF)
    >>> f"{table.s_gy_per_bq_s(target='kidneys', source='kidneys') * 1e9:.3g}"
    '8.7e-05'
    >>> table.mass_kg("kidneys")
    0.275
    """
    canonical = canonical_nuclide_name(nuclide)
    if canonical != "Lu-177":
        raise InvalidInputError(
            "nuclide",
            nuclide,
            "Lu-177 (the only nuclide with packaged organ S values)",
            hint="use local deposition for Y-90 and alpha emitters",
        )
    return _load(phantom)
