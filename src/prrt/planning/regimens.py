"""PRRT regimens: what is given, how much, how often, with which chemotherapy.

Each :class:`Regimen` carries its published timing and its source with a
confidence tag (clinical-rules.md §0.1: V verified, R recalled/unverified,
S seed review, P program policy):

=========================  ===========================================================================
``LUTATHERA_STANDARD``     7.4 GBq 177Lu-DOTATATE every 8 (± 1) weeks × 4; up to 16 weeks when a
                           dose-modifying toxicity must resolve; reduced dose 3.7 GBq (DOSE-1..3) [V]
``DOSIMETRY_GUIDED``       7.4 GBq cycles while the cumulative kidney dose/BED and marrow dose stay
                           under the profile's limits (default 23 Gy kidneys, 2 Gy marrow); final
                           partial activity; up to 8 cycles [P] (dosimetry-reference.md §5.3, §7)
``RETREATMENT``            2 × 7.4 GBq at 8–12-week intervals (RETX-4) [V]
``TANDEM_Y90_LU177``       90Y- and 177Lu-DOTATATE 1:1, 3.7 GBq/m² in all per cycle, 3–5 cycles
                           (Kunikowska et al., EJNMMI 2011, COMBO-1) [V]; interval not stated, 12 weeks
                           by default [R]
``CAPTEM_PRRT``            177Lu-octreotate ~7.8 GBq every 8 weeks × 4, capecitabine 1,500 mg/m²/day
                           days 1–14, temozolomide 200 mg/m²/day days 10–14 (Claringbold 2012,
                           COMBO-2) [R]; PRRT on day 10 [R]
``CAPECITABINE_PRRT``      7.4 GBq × 4 every 8 weeks, capecitabine 1,650 mg/m²/day for 14 days from each
                           PRRT day (Erasmus pilot, COMBO-2) [V]
``SANDWICH_CAPTEM``        PRRT 7.4 GBq every 8 weeks × 4 with a CAPTEM cycle between PRRT cycles
                           (Parghane 2021, COMBO-2) [S]; CAPTEM start 4 weeks after each PRRT [P]
``AC225_DOTATATE``         [225Ac]Ac-DOTATATE 100 kBq/kg every 8 weeks (Ballal et al., EJNMMI 2020) [R]
``PB212_DOTAMTATE``        [212Pb]Pb-DOTAMTATE 2.50 MBq/kg × 4 every 8 weeks (Delpassand et al.,
                           J Nucl Med 2022;63:1326, RP2D) [V]
=========================  ===========================================================================

Combination and alpha regimens are protocol-defined and off-label: the program
shows their schedule and sources; chemotherapy-specific dose rules (and DPD
testing before fluoropyrimidines) stay with the oncology protocol.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError

__all__ = [
    "REGIMENS",
    "ChemotherapyComponent",
    "DosingBasis",
    "Intent",
    "RadiopharmaceuticalComponent",
    "Regimen",
    "body_surface_area_m2",
    "get_regimen",
]

_GBQ = 1e9
_MBQ = 1e6
_KBQ = 1e3


class Intent(str, Enum):
    """Why the course is given; recorded with the plan (seed review: first-line and neoadjuvant PRRT)."""

    PALLIATIVE = "palliative"
    FIRST_LINE = "first_line"
    NEOADJUVANT = "neoadjuvant"
    RETREATMENT = "retreatment"


class DosingBasis(str, Enum):
    """How the activity of a component is prescribed."""

    FIXED = "fixed"
    PER_KG = "per_kg"
    PER_M2 = "per_m2"


@dataclass(frozen=True, slots=True)
class RadiopharmaceuticalComponent:
    """One radiopharmaceutical of a cycle.

    ``amount`` is in Bq (``FIXED``), Bq/kg (``PER_KG``) or Bq/m² (``PER_M2``).
    ``max_activity_bq`` is the largest activity per cycle the regimen accepts
    (the nominal activity plus the dispensing tolerance of the profile).
    """

    agent: str
    nuclide: str
    amount: float
    basis: DosingBasis
    max_activity_bq: float

    def activity_bq(self, *, weight_kg: float | None, bsa_m2: float | None) -> float:
        """Activity of one cycle for a patient (Bq), capped by nothing: callers check the maximum."""
        if self.basis is DosingBasis.FIXED:
            return self.amount
        if self.basis is DosingBasis.PER_KG:
            if weight_kg is None:
                raise InvalidInputError(
                    "patient.weight", None, f"a body weight: {self.agent} is dosed per kg"
                )
            return self.amount * weight_kg
        if bsa_m2 is None:
            raise InvalidInputError(
                "patient.height",
                None,
                f"height and weight (body surface area): {self.agent} is dosed per m²",
            )
        return self.amount * bsa_m2

    def describe(self) -> str:
        """The prescription in words (``7.4 GBq``, ``2.5 MBq/kg``)."""
        if self.basis is DosingBasis.FIXED:
            return f"{self.amount / _GBQ:g} GBq"
        if self.basis is DosingBasis.PER_KG:
            if self.amount < _MBQ:
                return f"{self.amount / _KBQ:g} kBq/kg"
            return f"{self.amount / _MBQ:g} MBq/kg"
        return f"{self.amount / _GBQ:g} GBq/m²"


@dataclass(frozen=True, slots=True)
class ChemotherapyComponent:
    """An oral chemotherapy block of a cycle.

    Days are counted from ``anchor_day`` 1 (day 1 = first day of the block's
    cycle; see :attr:`Regimen.prrt_day` for the day PRRT is given on);
    ``offset_days_after_prrt`` moves the whole block after the PRRT day (for
    "sandwich" chemotherapy given between PRRT cycles).
    """

    drug: str
    dose_mg_per_m2_per_day: float
    first_day: int
    last_day: int
    divided_doses_per_day: int = 2
    offset_days_after_prrt: int | None = None
    source: str = ""

    @property
    def days(self) -> int:
        """Number of treatment days."""
        return self.last_day - self.first_day + 1


@dataclass(frozen=True, slots=True)
class Regimen:
    """A course template with its published timing.

    Attributes
    ----------
    id, name
        Identifier and display name.
    components
        Radiopharmaceuticals given together in each cycle.
    cycles
        Planned number of cycles; ``max_cycles`` the most the regimen allows
        (dosimetry-guided courses continue while under the limits).
    interval_days, min_interval_days, max_interval_days
        Nominal, earliest and latest interval between PRRT days (the latest only
        when a toxicity must resolve).
    reduced_activity_fraction
        Reduced activity as a fraction of the nominal (3.7/7.4 for Lutathera),
        None when the regimen defines no reduction.
    chemotherapy
        Oral chemotherapy blocks of each cycle; ``prrt_day`` is the day of the
        cycle PRRT is given on (day 1 unless the protocol starts chemotherapy first).
    dosimetry_guided
        Cycles continue while cumulative organ doses stay under the limit profile.
    default_intent
        Intent recorded when none is given.
    source, confidence
        Where the schedule comes from and its tag (V/R/S/P, clinical-rules.md §0.1).
    notes
        What the user must know (off-label, protocol-defined, DPD testing).
    """

    id: str
    name: str
    components: tuple[RadiopharmaceuticalComponent, ...]
    cycles: int
    interval_days: int
    min_interval_days: int
    max_interval_days: int
    source: str
    confidence: str
    max_cycles: int | None = None
    reduced_activity_fraction: float | None = None
    chemotherapy: tuple[ChemotherapyComponent, ...] = ()
    prrt_day: int = 1
    dosimetry_guided: bool = False
    default_intent: Intent = Intent.PALLIATIVE
    amino_acids: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cycle_limit(self) -> int:
        """Most cycles the regimen allows."""
        return self.max_cycles if self.max_cycles is not None else self.cycles

    @property
    def nuclides(self) -> tuple[str, ...]:
        """Nuclides of the components."""
        return tuple(c.nuclide for c in self.components)

    def activities_bq(
        self, *, weight_kg: float | None = None, bsa_m2: float | None = None
    ) -> dict[str, float]:
        """Nominal activity per cycle of each nuclide (Bq) for a patient."""
        return {
            c.nuclide: c.activity_bq(weight_kg=weight_kg, bsa_m2=bsa_m2) for c in self.components
        }

    def max_activities_bq(
        self, *, weight_kg: float | None = None, bsa_m2: float | None = None
    ) -> dict[str, float]:
        """Largest accepted activity per cycle of each nuclide (Bq)."""
        out = {}
        for c in self.components:
            if c.basis is DosingBasis.FIXED:
                out[c.nuclide] = c.max_activity_bq
            else:
                nominal = c.activity_bq(weight_kg=weight_kg, bsa_m2=bsa_m2)
                out[c.nuclide] = min(c.max_activity_bq, nominal * _DISPENSING_TOLERANCE)
        return out

    def check_activity(
        self,
        nuclide: str,
        activity_bq: float,
        *,
        field_name: str,
        weight_kg: float | None = None,
        bsa_m2: float | None = None,
    ) -> float:
        """Refuse an activity that is not positive or above the regimen's maximum for the nuclide."""
        limits = self.max_activities_bq(weight_kg=weight_kg, bsa_m2=bsa_m2)
        if nuclide not in limits:
            raise InvalidInputError(
                field_name, nuclide, "one of the regimen's nuclides: " + ", ".join(limits)
            )
        if not (isinstance(activity_bq, int | float) and math.isfinite(activity_bq)):
            raise InvalidInputError(field_name, activity_bq, "an activity in Bq")
        if activity_bq <= 0:
            raise InvalidInputError(field_name, activity_bq, "a positive activity")
        if activity_bq > limits[nuclide] * (1 + 1e-9):
            raise InvalidInputError(
                field_name,
                f"{activity_bq / _GBQ:.4g} GBq",
                f"at most {limits[nuclide] / _GBQ:.4g} GBq of {nuclide} per cycle "
                f"(regimen {self.id}: {self.components[self.nuclides.index(nuclide)].describe()}"
                f" + {(_DISPENSING_TOLERANCE - 1) * 100:.0f} % dispensing tolerance)",
                hint="check the unit (GBq vs MBq) and the regimen",
            )
        return float(activity_bq)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description."""
        return {
            "id": self.id,
            "name": self.name,
            "components": [
                {
                    "agent": c.agent,
                    "nuclide": c.nuclide,
                    "prescription": c.describe(),
                    "basis": c.basis.value,
                    "amount": c.amount,
                    "max_activity_bq": c.max_activity_bq,
                }
                for c in self.components
            ],
            "cycles": self.cycles,
            "max_cycles": self.cycle_limit,
            "interval_days": self.interval_days,
            "min_interval_days": self.min_interval_days,
            "max_interval_days": self.max_interval_days,
            "reduced_activity_fraction": self.reduced_activity_fraction,
            "chemotherapy": [
                {
                    "drug": c.drug,
                    "dose_mg_per_m2_per_day": c.dose_mg_per_m2_per_day,
                    "first_day": c.first_day,
                    "last_day": c.last_day,
                    "offset_days_after_prrt": c.offset_days_after_prrt,
                    "source": c.source,
                }
                for c in self.chemotherapy
            ],
            "prrt_day": self.prrt_day,
            "dosimetry_guided": self.dosimetry_guided,
            "default_intent": self.default_intent.value,
            "source": self.source,
            "confidence": self.confidence,
            "notes": list(self.notes),
        }


#: Accepted excess of a dispensed activity over the prescription [P]: the
#: measured activity of a patient dose may exceed the nominal by up to 10 %.
_DISPENSING_TOLERANCE = 1.10

_LU = "Lu-177"
_LUTATHERA = RadiopharmaceuticalComponent(
    "[177Lu]Lu-DOTA-TATE", _LU, 7.4 * _GBQ, DosingBasis.FIXED, 7.4 * _GBQ * _DISPENSING_TOLERANCE
)
_LABEL_SOURCE = "Lutathera US label 2.1/2.4 and EU SmPC 4.2 (clinical-rules.md §4.1 DOSE-1..3)"
_FLUOROPYRIMIDINE_NOTE = (
    "test for DPD deficiency before capecitabine; chemotherapy dose rules follow the oncology "
    "protocol (clinical-rules.md COMBO-2)"
)
_CAPE_CLARINGBOLD = ChemotherapyComponent(
    "capecitabine", 1500.0, 1, 14, 2, source="Claringbold et al., Neuroendocrinology 2012 [R]"
)
_TMZ_CLARINGBOLD = ChemotherapyComponent(
    "temozolomide", 200.0, 10, 14, 1, source="Claringbold et al., Neuroendocrinology 2012 [R]"
)

REGIMENS: Mapping[str, Regimen] = {
    r.id: r
    for r in (
        Regimen(
            id="LUTATHERA_STANDARD",
            name="Lutathera label: 4 × 7.4 GBq every 8 weeks",
            components=(_LUTATHERA,),
            cycles=4,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=112,
            reduced_activity_fraction=0.5,
            source=_LABEL_SOURCE,
            confidence="V",
        ),
        Regimen(
            id="DOSIMETRY_GUIDED",
            name="Dosimetry-guided: 7.4 GBq cycles until the kidney/marrow limits",
            components=(_LUTATHERA,),
            cycles=4,
            max_cycles=8,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=112,
            reduced_activity_fraction=0.5,
            dosimetry_guided=True,
            source=(
                "cumulative limits of dosimetry-reference.md §5.3 (kidneys 23 Gy, BED 40/28 Gy; "
                "marrow 2 Gy); per-cycle SPECT/CT dosimetry; 8-cycle ceiling is program policy"
            ),
            confidence="P",
            notes=("cycles beyond 4 are beyond the label; MDT decision",),
        ),
        Regimen(
            id="RETREATMENT",
            name="Re-treatment: 2 × 7.4 GBq at 8–12 weeks",
            components=(_LUTATHERA,),
            cycles=2,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=84,
            reduced_activity_fraction=0.5,
            default_intent=Intent.RETREATMENT,
            source="clinical-rules.md RETX-4 (Erasmus MC, van der Zwan et al., EJNMMI 2019)",
            confidence="V",
            notes=("re-treatment is off-label; MDT decision",),
        ),
        Regimen(
            id="TANDEM_Y90_LU177",
            name="Tandem 90Y/177Lu-DOTATATE 1:1, 3.7 GBq/m² per cycle",
            components=(
                RadiopharmaceuticalComponent(
                    "[90Y]Y-DOTA-TATE", "Y-90", 1.85 * _GBQ, DosingBasis.PER_M2, 4.0 * _GBQ
                ),
                RadiopharmaceuticalComponent(
                    "[177Lu]Lu-DOTA-TATE", _LU, 1.85 * _GBQ, DosingBasis.PER_M2, 4.0 * _GBQ
                ),
            ),
            cycles=4,
            max_cycles=5,
            interval_days=84,
            min_interval_days=56,
            max_interval_days=112,
            source="Kunikowska et al., EJNMMI 2011 (clinical-rules.md COMBO-1); interval [R]",
            confidence="V",
            notes=("off-label; 3–5 cycles; interval not stated in the source (8–12 weeks common)",),
        ),
        Regimen(
            id="CAPTEM_PRRT",
            name="CAPTEM-PRRT: 7.8 GBq every 8 weeks with capecitabine and temozolomide",
            components=(
                RadiopharmaceuticalComponent(
                    "[177Lu]Lu-DOTA-TATE",
                    _LU,
                    7.8 * _GBQ,
                    DosingBasis.FIXED,
                    7.8 * _GBQ * _DISPENSING_TOLERANCE,
                ),
            ),
            cycles=4,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=112,
            chemotherapy=(_CAPE_CLARINGBOLD, _TMZ_CLARINGBOLD),
            prrt_day=10,
            source="Claringbold et al., Neuroendocrinology 2012; CONTROL-NET (clinical-rules.md COMBO-2)",
            confidence="R",
            notes=(
                _FLUOROPYRIMIDINE_NOTE,
                "PRRT on day 10 of each cycle [R]: confirm in the protocol",
            ),
        ),
        Regimen(
            id="CAPECITABINE_PRRT",
            name="PRRT with capecitabine radiosensitisation (1,650 mg/m²/day × 14 days)",
            components=(_LUTATHERA,),
            cycles=4,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=112,
            reduced_activity_fraction=0.5,
            chemotherapy=(
                ChemotherapyComponent(
                    "capecitabine", 1650.0, 1, 14, 2, source="Erasmus MC pilot (COMBO-2) [V]"
                ),
            ),
            source="Erasmus MC pilot, 7.4 GBq × 4 (clinical-rules.md COMBO-2)",
            confidence="V",
            notes=(_FLUOROPYRIMIDINE_NOTE,),
        ),
        Regimen(
            id="SANDWICH_CAPTEM",
            name="Sandwich chemo-PRRT: CAPTEM between 7.4 GBq PRRT cycles",
            components=(_LUTATHERA,),
            cycles=4,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=112,
            reduced_activity_fraction=0.5,
            chemotherapy=(
                ChemotherapyComponent(
                    "capecitabine", 1500.0, 1, 14, 2, 28, "Parghane et al. 2021 [S]; timing [P]"
                ),
                ChemotherapyComponent(
                    "temozolomide", 200.0, 10, 14, 1, 28, "Parghane et al. 2021 [S]; timing [P]"
                ),
            ),
            source="Parghane et al. 2021 as cited by the seed review (clinical-rules.md COMBO-2)",
            confidence="S",
            notes=(
                _FLUOROPYRIMIDINE_NOTE,
                "CAPTEM block starts 4 weeks after each PRRT cycle (program default; protocol-defined)",
            ),
        ),
        Regimen(
            id="AC225_DOTATATE",
            name="[225Ac]Ac-DOTATATE 100 kBq/kg every 8 weeks",
            components=(
                RadiopharmaceuticalComponent(
                    "[225Ac]Ac-DOTA-TATE", "Ac-225", 100.0 * _KBQ, DosingBasis.PER_KG, 15.0 * _MBQ
                ),
            ),
            cycles=4,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=112,
            source="Ballal et al., EJNMMI 2020 (seed ref 46; evidence E22)",
            confidence="R",
            notes=("investigational alpha therapy; activity per kg as recalled: verify",),
        ),
        Regimen(
            id="PB212_DOTAMTATE",
            name="[212Pb]Pb-DOTAMTATE 2.50 MBq/kg × 4 every 8 weeks",
            components=(
                RadiopharmaceuticalComponent(
                    "[212Pb]Pb-DOTAM-TATE", "Pb-212", 2.50 * _MBQ, DosingBasis.PER_KG, 300.0 * _MBQ
                ),
            ),
            cycles=4,
            interval_days=56,
            min_interval_days=49,
            max_interval_days=112,
            source="Delpassand et al., J Nucl Med 2022;63:1326 (NCT03466216 RP2D; evidence.md)",
            confidence="V",
            notes=("investigational alpha therapy (AlphaMedix)",),
        ),
    )
}


def get_regimen(regimen_id: str) -> Regimen:
    """Return a regimen by id (case-insensitive, ``-`` or ``_``).

    >>> get_regimen("lutathera-standard").cycles
    4
    """
    key = str(regimen_id).strip().upper().replace("-", "_")
    if key not in REGIMENS:
        raise InvalidInputError("regimen", regimen_id, "one of " + ", ".join(REGIMENS))
    return REGIMENS[key]


def body_surface_area_m2(*, weight_kg: float, height_cm: float) -> float:
    """Body surface area by Mosteller: sqrt(height_cm × weight_kg / 3600) (m²).

    >>> round(body_surface_area_m2(weight_kg=70.0, height_cm=175.0), 3)
    1.845
    """
    if not (math.isfinite(weight_kg) and 2.0 <= weight_kg <= 400.0):
        raise InvalidInputError("patient.weight", weight_kg, "a weight between 2 and 400 kg")
    if not (math.isfinite(height_cm) and 40.0 <= height_cm <= 250.0):
        raise InvalidInputError("patient.height", height_cm, "a height between 40 and 250 cm")
    return math.sqrt(height_cm * weight_kg / 3600.0)
