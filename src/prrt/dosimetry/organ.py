"""Organ-level absorbed doses: MIRD schema with S values, lesions as spheres, local deposition.

* :func:`mird_organ_doses` — ``D(t) = Σ_s Ã(s)·S(t←s)`` with the packaged 177Lu
  ICRP-89 S values (MIRD Pamphlet 21, Bolch et al., J Nucl Med 2009;50:477),
  self-dose S scaled to the patient's organ mass, the remainder-of-body
  correction whenever a total-body TIA accompanies segmented sources, and an
  explicit kidney convention (both kidneys as one region, or each kidney with
  its own mass: mixing them is a factor-2 error, dosimetry-reference.md §2.3).
* :func:`lesion_dose` — unit-density (soft-tissue, 1.03 g/cm³) sphere model for
  177Lu lesions, local deposition for other nuclides.
* :func:`local_deposition_dose` — ``D = Ã·Δ/m`` for 90Y and alpha emitters: the
  non-penetrating energy of the whole chain (daughters decaying in situ) is
  absorbed locally, photons escape; alpha and low-LET doses are kept apart and
  combined into the RBE-weighted dose ``RBE·D_α + D_low-LET`` (RBE 5 by default,
  MIRD Pamphlet 22, Sgouros et al., J Nucl Med 2010;51:311).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from prrt.dosimetry.spheres import SPHERE_TABLE_SOURCE, sphere_s_value_gy_per_bq_s
from prrt.dosimetry.svalues import (
    LEFT_KIDNEY,
    REMAINDER_OF_BODY,
    RIGHT_KIDNEY,
    TOTAL_BODY,
    MassScaling,
    Phantom,
    SValueTable,
    canonical_region,
    load_svalue_table,
    scale_self_s_value,
)
from prrt.errors import InvalidInputError
from prrt.physics import Nuclide, get_nuclide
from prrt.provenance import History, Step

__all__ = [
    "DEFAULT_RBE_ALPHA",
    "DoseContribution",
    "KidneyConvention",
    "OrganDose",
    "lesion_dose",
    "local_deposition_dose",
    "mird_organ_doses",
]

#: RBE of alpha particles for deterministic effects (MIRD Pamphlet 22, Sgouros et al. 2010).
DEFAULT_RBE_ALPHA = 5.0
_RBE_RANGE = (1.0, 10.0)
_KIDNEY = "kidneys"


class KidneyConvention(Enum):
    """How kidneys enter the MIRD calculation (dosimetry-reference.md §2.3)."""

    #: Both kidneys are one source and one target region (``"kidneys"``, 310 g AM).
    COMBINED = "combined"
    #: Each kidney is its own source and target (``"left_kidney"``, ``"right_kidney"``).
    PER_KIDNEY = "per_kidney"


@dataclass(frozen=True, slots=True)
class DoseContribution:
    """Dose to a target from one source region."""

    source: str
    time_integrated_activity_bq_s: float
    s_value_gy_per_bq_s: float
    absorbed_dose_gy: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "source": self.source,
            "time_integrated_activity_bq_s": self.time_integrated_activity_bq_s,
            "s_value_gy_per_bq_s": self.s_value_gy_per_bq_s,
            "absorbed_dose_gy": self.absorbed_dose_gy,
        }


@dataclass(frozen=True, slots=True)
class OrganDose:
    """Mean absorbed dose to one region, with its contributions and method.

    ``alpha_dose_gy`` is the part delivered by alpha particles (and their
    recoil nuclei when included); ``rbe_weighted_dose_gy`` weights it with
    ``rbe_alpha``.  For beta emitters both equal the absorbed dose.
    """

    region: str
    absorbed_dose_gy: float
    mass_kg: float | None
    method: str
    contributions: tuple[DoseContribution, ...] = ()
    alpha_dose_gy: float = 0.0
    rbe_alpha: float = DEFAULT_RBE_ALPHA
    data_sources: tuple[str, ...] = ()
    history: History = field(default_factory=History)

    @property
    def low_let_dose_gy(self) -> float:
        """Absorbed dose from electrons (and photons), excluding alphas."""
        return self.absorbed_dose_gy - self.alpha_dose_gy

    @property
    def rbe_weighted_dose_gy(self) -> float:
        """``RBE_α·D_α + D_low-LET`` (Gy; MIRD Pamphlet 22)."""
        return self.rbe_alpha * self.alpha_dose_gy + self.low_let_dose_gy

    @property
    def self_dose_gy(self) -> float:
        """Contribution of the region to itself."""
        return sum(c.absorbed_dose_gy for c in self.contributions if c.source == self.region)

    @property
    def cross_dose_gy(self) -> float:
        """Contributions of all other sources (including the remainder of body)."""
        return self.absorbed_dose_gy - self.self_dose_gy if self.contributions else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "region": self.region,
            "absorbed_dose_gy": self.absorbed_dose_gy,
            "self_dose_gy": self.self_dose_gy if self.contributions else self.absorbed_dose_gy,
            "cross_dose_gy": self.cross_dose_gy,
            "alpha_dose_gy": self.alpha_dose_gy,
            "low_let_dose_gy": self.low_let_dose_gy,
            "rbe_alpha": self.rbe_alpha,
            "rbe_weighted_dose_gy": self.rbe_weighted_dose_gy,
            "mass_kg": self.mass_kg,
            "method": self.method,
            "contributions": [c.to_dict() for c in self.contributions],
            "data_sources": list(self.data_sources),
        }


def _check_tia(value: float, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field_name, value, "a time-integrated activity in Bq·s as a number")
    if not math.isfinite(value) or value < 0.0:
        raise InvalidInputError(
            field_name, value, "a finite, non-negative time-integrated activity"
        )
    return float(value)


def _check_mass(value: float, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field_name, value, "a mass in kg as a number")
    if not math.isfinite(value) or value <= 0.0:
        raise InvalidInputError(field_name, value, "a positive, finite mass in kg")
    if value > 500.0:
        raise InvalidInputError(field_name, value, "a plausible mass (≤ 500 kg)")
    return float(value)


def _check_rbe(rbe_alpha: float) -> float:
    low, high = _RBE_RANGE
    if isinstance(rbe_alpha, bool) or not isinstance(rbe_alpha, int | float):
        raise InvalidInputError("rbe_alpha", rbe_alpha, "a number")
    if not (math.isfinite(rbe_alpha) and low <= rbe_alpha <= high):
        raise InvalidInputError(
            "rbe_alpha",
            rbe_alpha,
            f"an RBE for deterministic effects between {low:g} and {high:g} (5 recommended)",
            hint="the radiation weighting factor 20 is for stochastic risk and must not be used",
        )
    return float(rbe_alpha)


def _normalise(mapping: Mapping[str, float] | None, name: str, check: Any) -> dict[str, float]:
    result: dict[str, float] = {}
    for key, value in (mapping or {}).items():
        region = canonical_region(key, field=f"{name}.{key}")
        if region in result:
            raise InvalidInputError(f"{name}.{key}", key, "each region listed once")
        result[region] = check(value, f"{name}.{key}")
    return result


def _check_kidney_names(regions: Iterable[str], convention: KidneyConvention, name: str) -> None:
    for region in regions:
        if convention is KidneyConvention.COMBINED and region in (LEFT_KIDNEY, RIGHT_KIDNEY):
            raise InvalidInputError(
                f"{name}.{region}",
                region,
                "'kidneys' (both kidneys as one region) under the combined kidney convention",
                hint="set kidney_convention to 'per_kidney' to give each kidney separately",
            )
        if convention is KidneyConvention.PER_KIDNEY and region == _KIDNEY:
            raise InvalidInputError(
                f"{name}.{region}",
                region,
                "'left_kidney' and 'right_kidney' under the per-kidney convention",
                hint="set kidney_convention to 'combined' to treat both kidneys as one region",
            )


def _table_region(region: str) -> str:
    return _KIDNEY if region in (LEFT_KIDNEY, RIGHT_KIDNEY) else region


def _phantom_mass_kg(table: SValueTable, region: str) -> float | None:
    mass = table.masses_kg.get(_table_region(region))
    if mass is None:
        return None
    # Per-kidney convention: the phantom's kidney pair is split into two equal kidneys.
    return mass / 2.0 if region in (LEFT_KIDNEY, RIGHT_KIDNEY) else mass


def mird_organ_doses(
    *,
    tia_bq_s: Mapping[str, float],
    phantom: Phantom,
    targets: Iterable[str] | None = None,
    patient_masses_kg: Mapping[str, float] | None = None,
    kidney_convention: KidneyConvention = KidneyConvention.COMBINED,
    mass_scaling: MassScaling = MassScaling.LINEAR,
    nuclide: str = "Lu-177",
) -> dict[str, OrganDose]:
    """Compute organ absorbed doses with the MIRD schema.

    Parameters
    ----------
    tia_bq_s
        Time-integrated activity per source region in Bq·s.  A
        ``"total_body"`` entry given together with segmented regions is turned
        into the remainder of body, ``Ã(RB) = Ã(TB) − Σ_s Ã(s)``, with the
        corrected ``S(t←RB)``; a ``"remainder_of_body"`` entry is used as is.
    phantom
        Reference phantom of the S values (``ICRP89_AM`` or ``ICRP89_AF``).
    targets
        Target regions; by default every segmented source region.
    patient_masses_kg
        Patient organ masses; self-dose S values of these regions are scaled
        from the phantom mass (cross-dose S values are not).
    kidney_convention
        ``COMBINED`` (``"kidneys"``) or ``PER_KIDNEY`` (``"left_kidney"``,
        ``"right_kidney"``, each half of the phantom's kidney mass; the small
        photon cross-dose between the two kidneys is neglected).
    mass_scaling
        Linear or electron/photon-split scaling of self-dose S values.
    nuclide
        Only ``"Lu-177"`` has packaged S values.

    Returns
    -------
    dict
        :class:`OrganDose` per target region.

    Raises
    ------
    InvalidInputError
        Unknown region, nuclide without table, negative TIA, mass not
        positive, total-body TIA below the sum of its parts, or a kidney name
        that does not match ``kidney_convention``.

    References
    ----------
    Bolch WE et al., MIRD Pamphlet 21, J Nucl Med 2009;50:477 (doi 10.2967/jnumed.108.056226);
    dosimetry-reference.md §2.1–2.3.

    Examples
    --------
    1000 MBq·h in the kidneys of the adult male phantom (S = 7.76e-5 mGy/(MBq·s)):

    >>> doses = mird_organ_doses(tia_bq_s={"kidneys": 1000e6 * 3600}, phantom=Phantom.ICRP89_AM)
    >>> round(doses["kidneys"].absorbed_dose_gy, 4)
    0.2794
    """
    table = load_svalue_table(phantom, nuclide)
    tia = _normalise(tia_bq_s, "tia_bq_s", _check_tia)
    masses = _normalise(patient_masses_kg, "patient_masses_kg", _check_mass)
    if not tia:
        raise InvalidInputError("tia_bq_s", tia_bq_s, "at least one source region with its TIA")
    _check_kidney_names(tia, kidney_convention, "tia_bq_s")
    _check_kidney_names(masses, kidney_convention, "patient_masses_kg")
    if TOTAL_BODY in tia and REMAINDER_OF_BODY in tia:
        raise InvalidInputError(
            "tia_bq_s",
            sorted(tia),
            "either 'total_body' or 'remainder_of_body', not both",
        )
    segmented = [r for r in tia if r not in (TOTAL_BODY, REMAINDER_OF_BODY)]
    for region in segmented:
        if _table_region(region) not in table.sources:
            raise InvalidInputError(
                f"tia_bq_s.{region}",
                region,
                f"a source region of the {phantom.value} {table.nuclide} S-value table",
                hint="known: " + ", ".join((*table.sources, REMAINDER_OF_BODY)),
            )
    for region in masses:
        if _table_region(region) not in table.targets:
            raise InvalidInputError(
                f"patient_masses_kg.{region}",
                region,
                f"a target region of the {phantom.value} {table.nuclide} S-value table",
                hint="known: " + ", ".join(table.targets),
            )
    steps = []
    if TOTAL_BODY in tia and segmented:
        remainder = tia.pop(TOTAL_BODY) - sum(tia[r] for r in segmented)
        if remainder < 0.0:
            raise InvalidInputError(
                "tia_bq_s.total_body",
                remainder + sum(tia[r] for r in segmented),
                "at least the sum of the TIAs of the segmented regions",
            )
        tia[REMAINDER_OF_BODY] = remainder
        steps.append("remainder of body = total body − segmented regions")
    rob_sources = tuple(dict.fromkeys(_table_region(r) for r in segmented))

    target_list = list(segmented)
    for target in targets or ():
        name = canonical_region(target, field="targets")
        if name not in target_list:
            target_list.append(name)
    if not target_list:
        target_list = [TOTAL_BODY]
    _check_kidney_names(target_list, kidney_convention, "targets")

    electron_j = get_nuclide(nuclide).emissions.electron_j
    method = (
        f"MIRD schema, {phantom.value} {table.nuclide} S values, "
        f"{mass_scaling.value} self-dose mass scaling, {kidney_convention.value} kidneys"
    )
    results: dict[str, OrganDose] = {}
    for target in target_list:
        table_target = _table_region(target)
        if table_target not in table.targets:
            raise InvalidInputError(
                "targets",
                target,
                f"a target region of the {phantom.value} {table.nuclide} S-value table",
                hint="known: " + ", ".join(table.targets),
            )
        phantom_mass = _phantom_mass_kg(table, target)
        contributions = []
        for source, activity in tia.items():
            if source == REMAINDER_OF_BODY:
                s_value = table.remainder_of_body_s_gy_per_bq_s(
                    target=table_target, sources=rob_sources
                )
            elif source == target:
                s_value = table.s_gy_per_bq_s(target=table_target, source=table_target)
                if target in (LEFT_KIDNEY, RIGHT_KIDNEY):
                    s_value = scale_self_s_value(
                        s_phantom_gy_per_bq_s=s_value,
                        phantom_mass_kg=table.mass_kg(_KIDNEY),
                        patient_mass_kg=table.mass_kg(_KIDNEY) / 2.0,
                        method=mass_scaling,
                        electron_energy_j=electron_j,
                    )
                if target in masses:
                    s_value = scale_self_s_value(
                        s_phantom_gy_per_bq_s=s_value,
                        phantom_mass_kg=table.mass_kg(
                            table_target, field=f"patient_masses_kg.{target}"
                        )
                        / (2.0 if target in (LEFT_KIDNEY, RIGHT_KIDNEY) else 1.0),
                        patient_mass_kg=masses[target],
                        method=mass_scaling,
                        electron_energy_j=electron_j,
                    )
            elif {source, target} == {LEFT_KIDNEY, RIGHT_KIDNEY}:
                # Contralateral kidney: photon cross-dose only, < 0.1 % of the self-dose.
                s_value = 0.0
            else:
                s_value = table.s_gy_per_bq_s(target=table_target, source=_table_region(source))
            contributions.append(
                DoseContribution(
                    source=source,
                    time_integrated_activity_bq_s=activity,
                    s_value_gy_per_bq_s=s_value,
                    absorbed_dose_gy=activity * s_value,
                )
            )
        step = Step(
            name="mird_organ_dose",
            method=method,
            parameters={"target": target, "sources": sorted(tia), "notes": steps},
            data_sources=(table.data_source,),
        )
        results[target] = OrganDose(
            region=target,
            absorbed_dose_gy=sum(c.absorbed_dose_gy for c in contributions),
            mass_kg=masses.get(target, phantom_mass),
            method=method,
            contributions=tuple(contributions),
            data_sources=(table.data_source,),
            history=History().append(step),
        )
    return results


def local_deposition_dose(
    *,
    tia_bq_s: float,
    mass_kg: float,
    nuclide: str | Nuclide,
    region: str = "region",
    rbe_alpha: float = DEFAULT_RBE_ALPHA,
    include_alpha_recoil: bool = True,
    daughters_in_situ: bool = True,
) -> OrganDose:
    """Absorbed dose with all non-penetrating energy deposited in the region.

    ``D_low-LET = Ã·Δ_e/m`` and ``D_α = Ã·(Δ_α [+ Δ_recoil])/m``; photons are
    assumed to escape.  With ``daughters_in_situ`` the energies per parent
    decay of the whole chain are used (dosimetry-reference.md §1.3).

    Parameters
    ----------
    tia_bq_s
        Time-integrated activity of the parent in Bq·s.
    mass_kg
        Mass of the region.
    nuclide
        Parent nuclide.
    region
        Name given to the result.
    rbe_alpha
        RBE of alpha particles for deterministic effects (1–10; 5 by default).
    include_alpha_recoil
        Count the recoil energy with the alpha component (deposited locally).
    daughters_in_situ
        Use chain energies (daughters decay where the parent decayed).

    Raises
    ------
    InvalidInputError
        Mass not positive, negative TIA, unknown nuclide or RBE out of range.

    References
    ----------
    dosimetry-reference.md §2.4 (ORG-08), §3.4 (ORG-09), §5.4 (RB-09).

    Examples
    --------
    ORG-08: complete decay of 1 GBq of Y-90 in 1 kg deposits 49.77 Gy.

    >>> y90 = get_nuclide("Y-90")
    >>> dose = local_deposition_dose(tia_bq_s=1e9 / y90.decay_constant_per_s, mass_kg=1.0,
    ...                              nuclide=y90)
    >>> round(dose.absorbed_dose_gy, 2)
    49.77
    """
    activity = _check_tia(tia_bq_s, "tia_bq_s")
    mass = _check_mass(mass_kg, "mass_kg")
    rbe = _check_rbe(rbe_alpha)
    parent = get_nuclide(nuclide)
    energies = parent.chain_emissions if daughters_in_situ else parent.emissions
    alpha_j = energies.alpha_j + (energies.alpha_recoil_j if include_alpha_recoil else 0.0)
    low_let_gy = activity * energies.electron_j / mass
    alpha_gy = activity * alpha_j / mass
    method = (
        f"local deposition of {'chain' if daughters_in_situ else 'parent'} "
        f"non-penetrating energy ({parent.name}); photons escape; alpha recoil "
        f"{'included with alpha' if include_alpha_recoil else 'excluded'}"
    )
    step = Step(
        name="local_deposition_dose",
        method=method,
        parameters={"region": region, "rbe_alpha": rbe, "mass_kg": mass},
        data_sources=parent.data_sources,
    )
    return OrganDose(
        region=region,
        absorbed_dose_gy=low_let_gy + alpha_gy,
        mass_kg=mass,
        method=method,
        alpha_dose_gy=alpha_gy,
        rbe_alpha=rbe,
        data_sources=parent.data_sources,
        history=History().append(step),
    )


def lesion_dose(
    *,
    tia_bq_s: float,
    mass_kg: float,
    nuclide: str | Nuclide = "Lu-177",
    region: str = "lesion",
    composition: str = "soft_tissue",
    rbe_alpha: float = DEFAULT_RBE_ALPHA,
) -> OrganDose:
    """Self-dose to a lesion: 177Lu sphere S values, local deposition for other nuclides.

    The 177Lu sphere model interpolates the packaged sphere table in
    log(S)–log(m) (dosimetry-reference.md §2.5); cross-dose from organs is not
    included.

    Examples
    --------
    SPH-02: 10 g soft-tissue sphere, 1 MBq·h → 8.54 mGy.

    >>> dose = lesion_dose(tia_bq_s=1e6 * 3600, mass_kg=0.010)
    >>> round(dose.absorbed_dose_gy * 1e3, 2)
    8.54
    """
    activity = _check_tia(tia_bq_s, "tia_bq_s")
    mass = _check_mass(mass_kg, "mass_kg")
    parent = get_nuclide(nuclide)
    if parent.name != "Lu-177":
        return local_deposition_dose(
            tia_bq_s=activity, mass_kg=mass, nuclide=parent, region=region, rbe_alpha=rbe_alpha
        )
    s_value = sphere_s_value_gy_per_bq_s(mass_kg=mass, composition=composition)
    method = f"sphere model ({composition}), log-log interpolation of Lu-177 sphere S values"
    step = Step(
        name="lesion_dose",
        method=method,
        parameters={"region": region, "mass_kg": mass},
        data_sources=(SPHERE_TABLE_SOURCE,),
    )
    return OrganDose(
        region=region,
        absorbed_dose_gy=activity * s_value,
        mass_kg=mass,
        method=method,
        contributions=(
            DoseContribution(
                source=region,
                time_integrated_activity_bq_s=activity,
                s_value_gy_per_bq_s=s_value,
                absorbed_dose_gy=activity * s_value,
            ),
        ),
        rbe_alpha=_check_rbe(rbe_alpha),
        data_sources=(SPHERE_TABLE_SOURCE,),
        history=History().append(step),
    )
