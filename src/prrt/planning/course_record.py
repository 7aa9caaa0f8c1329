"""A patient's course so far, read from JSON with explicit units, and its next-cycle decision.

A course record holds the regimen, the patient, the pre-cycle-1 baseline, the
administrations (time and activity), the lab draws (each tagged with the cycle
it is meant for), clinician-graded toxicities and the organ doses of the cycles
given.  :meth:`CourseRecord.from_dict` refuses, naming the field:

* administrations out of order or dated on or before the previous one
  (``administrations[i].time``);
* an activity above the regimen's maximum (``administrations[i].activity``);
* a lab draw dated after the administration of the cycle it is meant for, or
  before the previous administration (``lab_draws[i].date``);
* unknown units, implausible values and missing required fields.

``pregnant`` and ``mds_or_aml`` (true, false or null) feed the label's stop rules;
not recorded means unknown, so a female patient's course without ``pregnant`` is
indeterminate rather than given a dose.

Organ doses are ``{"cycle": 1, "regions": {"kidneys": "4.1 Gy"}}`` or, so that the
BED limits can be checked, ``{"kidneys": {"absorbed_dose": "4.1 Gy",
"effective_half_life": "50 h"}}`` (or ``g_factor`` with ``alpha_beta``).

:meth:`CourseRecord.decide` replays the earlier intervals (so that a toxicity
seen again is recognised as recurrent), then decides the next cycle with
:func:`prrt.planning.next_cycle.decide_next_cycle`.  The worst values since the
last dose are the worst of the draws of the interval (lowest counts, albumin
and PT %; highest creatinine, bilirubin, INR, AST and ALT).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from prrt.clinical.dose_modification import (
    Administration,
    CourseBaseline,
    CourseHistory,
    CycleAssessment,
    Episode,
    LabPanel,
    Toxicity,
    next_cycle_decision,
)
from prrt.clinical.renal import Sex
from prrt.dosimetry.course import CycleDosimetry, CycleOrganDose
from prrt.dosimetry.radiobiology import g_factor_mono_exponential, radiobiology_parameters
from prrt.errors import InvalidInputError
from prrt.planning.next_cycle import NextCycleDecision, decide_next_cycle, settings_for_regimen
from prrt.planning.regimens import Regimen, get_regimen
from prrt.units import Dimension, parse_quantity, parse_timestamp

__all__ = ["CourseRecord", "GivenCycle", "LabDraw", "parse_organ_dose", "worst_of"]

_LOWEST = {
    "haemoglobin_g_per_l",
    "platelets_10e9_per_l",
    "neutrophils_10e9_per_l",
    "lymphocytes_10e9_per_l",
    "white_cells_10e9_per_l",
    "albumin_g_per_l",
    "prothrombin_percent",
}


def worst_of(panels: Sequence[LabPanel]) -> LabPanel | None:
    """Worst value of each analyte over the panels (None when there are none).

    >>> worst_of([LabPanel(platelets_10e9_per_l=150.0), LabPanel(platelets_10e9_per_l=68.0)]).platelets_10e9_per_l
    68.0
    """
    if not panels:
        return None
    out: dict[str, float] = {}
    for f in fields(LabPanel):
        values = [getattr(p, f.name) for p in panels if getattr(p, f.name) is not None]
        if not values:
            continue
        out[f.name] = min(values) if f.name in _LOWEST else max(values)
    return LabPanel(**out)


@dataclass(frozen=True, slots=True)
class GivenCycle:
    """An administration of the course."""

    cycle_number: int
    time: datetime
    activity_bq: float


@dataclass(frozen=True, slots=True)
class LabDraw:
    """A lab draw for a cycle (before its administration, after the previous one)."""

    drawn_on: date
    for_cycle: int
    panel: LabPanel


def _require(doc: Mapping[str, Any], key: str, prefix: str) -> Any:
    if key not in doc or doc[key] is None:
        raise InvalidInputError(f"{prefix}{key}", None, "a value (required)")
    return doc[key]


def _date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as err:
        raise InvalidInputError(field, value, "a date YYYY-MM-DD") from err


def _flag(value: Any, field: str, *, allow_none: bool = True) -> bool | None:
    """A JSON boolean (``null`` = unknown where allowed); strings such as "false" are refused."""
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        expected = "true, false or null (unknown)" if allow_none else "true or false"
        raise InvalidInputError(field, value, expected)
    return value


def _local_time(raw: Any, utc_time: datetime) -> datetime:
    """The time at the offset it was given with (dates of draws are compared with its local date)."""
    if isinstance(raw, datetime):
        return raw
    text = str(raw).strip()
    moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return moment if moment.utcoffset() is not None else utc_time


def _number(value: Any, field: str, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInputError(field, value, f"{what} between {low:g} and {high:g}")
    return float(value)


def _panel(doc: Any, field: str) -> LabPanel:
    if not isinstance(doc, Mapping):
        raise InvalidInputError(
            field, doc, "an object of lab values such as {'platelets': '210 10^9/L'}"
        )
    return LabPanel.parse({k: str(v) for k, v in doc.items()}, field_prefix=field)


def parse_organ_dose(region: str, value: Any, field: str) -> CycleOrganDose:
    """A region's dose of one cycle: ``"4.1 Gy"`` or an object with its kinetics for the BED.

    The object form is ``{"absorbed_dose": "4.1 Gy", "effective_half_life": "50 h"}``
    (G factor of a mono-exponential clearance with the tissue's repair half-time and
    α/β from ``radiobiology_parameters``) or ``{"absorbed_dose": ..., "g_factor": 0.053,
    "alpha_beta": "2.6 Gy"}``.
    """
    if not isinstance(value, Mapping):
        dose = parse_quantity(str(value), Dimension.ABSORBED_DOSE, field=field, nonnegative=True)
        return CycleOrganDose(region, dose)
    dose = parse_quantity(
        str(_require(value, "absorbed_dose", field + ".")),
        Dimension.ABSORBED_DOSE,
        field=f"{field}.absorbed_dose",
        nonnegative=True,
    )
    known = {"absorbed_dose", "effective_half_life", "g_factor", "alpha_beta"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise InvalidInputError(
            f"{field}.{unknown[0]}", value[unknown[0]], "one of " + ", ".join(sorted(known))
        )
    g: float | None = None
    alpha_beta: float | None = None
    if "effective_half_life" in value:
        if "g_factor" in value:
            raise InvalidInputError(
                f"{field}.g_factor",
                value["g_factor"],
                "either g_factor or effective_half_life, not both",
            )
        t_eff_s = parse_quantity(
            str(value["effective_half_life"]),
            Dimension.TIME,
            field=f"{field}.effective_half_life",
            positive=True,
        )
        try:
            params = radiobiology_parameters(region)
        except InvalidInputError as err:
            raise InvalidInputError(
                f"{field}.effective_half_life",
                value["effective_half_life"],
                "a region with known radiobiology parameters, or g_factor and alpha_beta",
            ) from err
        g = g_factor_mono_exponential(
            effective_half_life_s=t_eff_s, repair_half_time_s=params.repair_half_time_s
        )
        alpha_beta = params.alpha_beta_gy
    if "g_factor" in value:
        g = _number(value["g_factor"], f"{field}.g_factor", 0.0, 1.0, "a G factor")
    if "alpha_beta" in value:
        alpha_beta = parse_quantity(
            str(value["alpha_beta"]),
            Dimension.ABSORBED_DOSE,
            field=f"{field}.alpha_beta",
            positive=True,
        )
    elif g is not None and alpha_beta is None:
        raise InvalidInputError(
            f"{field}.alpha_beta", None, "α/β in Gy with a g_factor (e.g. '2.6 Gy')"
        )
    return CycleOrganDose(region, dose, g_factor=g, alpha_beta_gy=alpha_beta)


@dataclass(frozen=True, slots=True)
class CourseRecord:
    """A course so far (see the module docstring for the JSON layout)."""

    regimen: Regimen
    sex: Sex
    age_years: float
    weight_kg: float
    baseline: LabPanel
    given: tuple[GivenCycle, ...]
    lab_draws: tuple[LabDraw, ...]
    toxicities: Mapping[int, tuple[Toxicity, ...]]
    dosimetry: tuple[CycleDosimetry, ...]
    renal_risk_factors: bool | None = None
    pregnant: bool | None = None
    mds_or_aml: bool | None = None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> CourseRecord:
        """Parse and check a course record.

        Examples
        --------
        >>> rec = CourseRecord.from_dict({
        ...   "regimen": "LUTATHERA_STANDARD",
        ...   "patient": {"sex": "female", "age_years": 64, "weight": "68 kg"},
        ...   "baseline_labs": {"creatinine": "75 umol/L"},
        ...   "administrations": [{"cycle": 1, "time": "2026-03-02T09:00Z", "activity": "7.4 GBq"},
        ...                       {"cycle": 2, "time": "2026-02-27T09:00Z", "activity": "7.4 GBq"}]})
        Traceback (most recent call last):
        ...
        prrt.errors.InvalidInputError: administrations[1].time: got '2026-02-27T09:00:00+00:00'; expected a time after cycle 1 (2026-03-02T09:00:00+00:00)
        """
        if not isinstance(doc, Mapping):
            raise InvalidInputError("course", doc, "a JSON object")
        regimen = get_regimen(_require(doc, "regimen", ""))
        patient = _require(doc, "patient", "")
        if not isinstance(patient, Mapping):
            raise InvalidInputError("patient", patient, "an object")
        raw_sex = _require(patient, "sex", "patient.")
        try:
            sex = Sex(raw_sex)
        except ValueError as err:
            raise InvalidInputError(
                "patient.sex", patient.get("sex"), "'female' or 'male'"
            ) from err
        age = _number(
            _require(patient, "age_years", "patient."),
            "patient.age_years",
            0,
            130,
            "an age in years",
        )
        weight_kg = parse_quantity(
            str(_require(patient, "weight", "patient.")),
            Dimension.MASS,
            field="patient.weight",
            positive=True,
        )
        if not 2.0 <= weight_kg <= 400.0:
            raise InvalidInputError(
                "patient.weight", patient["weight"], "a weight between 2 and 400 kg"
            )
        baseline = _panel(_require(doc, "baseline_labs", ""), "baseline_labs")
        given: list[GivenCycle] = []
        for i, a in enumerate(doc.get("administrations") or ()):
            prefix = f"administrations[{i}]"
            if not isinstance(a, Mapping):
                raise InvalidInputError(prefix, a, "an object with cycle, time and activity")
            cycle = a.get("cycle")
            if isinstance(cycle, bool) or cycle != i + 1:
                raise InvalidInputError(
                    f"{prefix}.cycle", cycle, f"{i + 1} (administrations in cycle order)"
                )
            raw_time = _require(a, "time", prefix + ".")
            when = _local_time(raw_time, parse_timestamp(raw_time, field=f"{prefix}.time"))
            if given and when <= given[-1].time:
                raise InvalidInputError(
                    f"{prefix}.time",
                    when.isoformat(),
                    f"a time after cycle {i} ({given[-1].time.isoformat()})",
                )
            activity = parse_quantity(
                str(_require(a, "activity", prefix + ".")),
                Dimension.ACTIVITY,
                field=f"{prefix}.activity",
                positive=True,
            )
            regimen.check_activity(
                regimen.nuclides[0], activity, field_name=f"{prefix}.activity", weight_kg=weight_kg
            )
            if i + 1 > regimen.cycle_limit:
                raise InvalidInputError(
                    prefix, a, f"at most {regimen.cycle_limit} cycles for {regimen.id}"
                )
            given.append(GivenCycle(i + 1, when, activity))
        draws = cls._draws(doc.get("lab_draws") or (), given)
        toxicities: dict[int, tuple[Toxicity, ...]] = {}
        for i, t in enumerate(doc.get("toxicities") or ()):
            prefix = f"toxicities[{i}]"
            cycle = t.get("for_cycle") if isinstance(t, Mapping) else None
            if not isinstance(cycle, int) or not 2 <= cycle <= len(given) + 1:
                raise InvalidInputError(
                    f"{prefix}.for_cycle", cycle, f"a cycle 2..{len(given) + 1}"
                )
            tox = Toxicity(
                term=str(_require(t, "term", prefix + ".")),
                worst_grade=_require(t, "worst_grade", prefix + "."),
                current_grade=t.get("current_grade"),
                related=bool(_flag(t.get("related", True), f"{prefix}.related", allow_none=False)),
            )
            toxicities[cycle] = (*toxicities.get(cycle, ()), tox)
        dosimetry = cls._dosimetry(doc.get("organ_doses") or (), given)
        risk = _flag(doc.get("renal_risk_factors"), "renal_risk_factors")
        # Not recorded = unknown (the stop rule is then indeterminate, never "no").
        pregnant = False if sex is Sex.MALE else _flag(doc.get("pregnant"), "pregnant")
        mds_or_aml = _flag(doc.get("mds_or_aml"), "mds_or_aml")
        return cls(
            regimen,
            sex,
            age,
            weight_kg,
            baseline,
            tuple(given),
            draws,
            toxicities,
            dosimetry,
            risk,
            pregnant,
            mds_or_aml,
        )

    @staticmethod
    def _draws(items: Sequence[Any], given: Sequence[GivenCycle]) -> tuple[LabDraw, ...]:
        out = []
        for i, d in enumerate(items):
            prefix = f"lab_draws[{i}]"
            if not isinstance(d, Mapping):
                raise InvalidInputError(prefix, d, "an object with date, for_cycle and labs")
            cycle = d.get("for_cycle")
            if (
                isinstance(cycle, bool)
                or not isinstance(cycle, int)
                or not 1 <= cycle <= len(given) + 1
            ):
                raise InvalidInputError(
                    f"{prefix}.for_cycle", cycle, f"a cycle number 1..{len(given) + 1}"
                )
            drawn = _date(_require(d, "date", prefix + "."), f"{prefix}.date")
            if cycle <= len(given) and drawn > given[cycle - 1].time.date():
                raise InvalidInputError(
                    f"{prefix}.date",
                    drawn.isoformat(),
                    f"a date on or before the administration of cycle {cycle} "
                    f"({given[cycle - 1].time.date().isoformat()}) it is meant for",
                )
            if cycle >= 2 and drawn < given[cycle - 2].time.date():
                raise InvalidInputError(
                    f"{prefix}.date",
                    drawn.isoformat(),
                    f"a date after the administration of cycle {cycle - 1} "
                    f"({given[cycle - 2].time.date().isoformat()})",
                )
            out.append(
                LabDraw(drawn, cycle, _panel(_require(d, "labs", prefix + "."), f"{prefix}.labs"))
            )
        return tuple(sorted(out, key=lambda x: (x.drawn_on, x.for_cycle)))

    @staticmethod
    def _dosimetry(items: Sequence[Any], given: Sequence[GivenCycle]) -> tuple[CycleDosimetry, ...]:
        out = []
        for i, d in enumerate(items):
            prefix = f"organ_doses[{i}]"
            if not isinstance(d, Mapping):
                raise InvalidInputError(prefix, d, "an object with cycle and regions")
            cycle = d.get("cycle")
            if not isinstance(cycle, int) or not 1 <= cycle <= len(given):
                raise InvalidInputError(
                    f"{prefix}.cycle", cycle, f"a cycle given (1..{len(given)})"
                )
            organs = {}
            regions = d.get("regions")
            if not isinstance(regions, Mapping) or not regions:
                raise InvalidInputError(
                    f"{prefix}.regions", regions, "an object such as {'kidneys': '4.1 Gy'}"
                )
            for name, value in regions.items():
                organs[name] = parse_organ_dose(name, value, f"{prefix}.regions.{name}")
            out.append(CycleDosimetry(cycle, given[cycle - 1].activity_bq, organs))
        return tuple(out)

    def _assessment(self, cycle: int, on: date | None) -> CycleAssessment:
        draws = [d for d in self.lab_draws if d.for_cycle == cycle]
        if on is not None:
            draws = [d for d in draws if d.drawn_on <= on]
        if not draws:
            raise InvalidInputError(
                "lab_draws", None, f"at least one lab draw for cycle {cycle} (MON-1)"
            )
        when = on or (
            self.given[cycle - 1].time.date() if cycle <= len(self.given) else draws[-1].drawn_on
        )
        return CycleAssessment(
            assessment_date=when,
            labs=draws[-1].panel,
            worst_since_last_dose=worst_of([d.panel for d in draws]) if cycle > 1 else None,
            weight_kg=self.weight_kg,
            age_years=self.age_years,
            toxicities=self.toxicities.get(cycle, ()),
            pregnant=self.pregnant,
            mds_or_aml=self.mds_or_aml,
        )

    @property
    def course_baseline(self) -> CourseBaseline:
        """Pre-cycle-1 values for the label's renal rule."""
        return CourseBaseline(self.sex, self.baseline, self.weight_kg, self.age_years)

    def history(self) -> CourseHistory:
        """Administrations and the DMT episodes of each earlier interval (categories that occurred)."""
        admins = tuple(
            Administration(g.cycle_number, g.time.date(), g.activity_bq) for g in self.given
        )
        settings = settings_for_regimen(self.regimen)
        episodes: list[Episode] = []
        for k in range(1, len(admins)):
            earlier = CourseHistory(self.course_baseline, admins[:k], tuple(episodes))
            visit = self._assessment(k + 1, None)
            occurred = next_cycle_decision(earlier, visit, settings).occurred
            episodes.extend(Episode(c, k) for c in sorted(occurred, key=lambda c: c.value))
        return CourseHistory(self.course_baseline, admins, tuple(episodes))

    def decide(self, assessment_date: date | None = None) -> NextCycleDecision:
        """Decide the next cycle from the latest draws for it (dated ``assessment_date``)."""
        nxt = len(self.given) + 1
        current = self._assessment(nxt, assessment_date)
        return decide_next_cycle(
            self.regimen,
            self.history(),
            current,
            dosimetry=self.dosimetry,
            renal_risk_factors=self.renal_risk_factors,
        )
