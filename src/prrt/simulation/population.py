"""Virtual patients: log-normal population kinetics of [177Lu]Lu-DOTA-TATE by organ.

Each region (kidneys, red marrow, liver, spleen, a tumour) of a virtual patient
has a mass ``m``, an uptake fraction ``u`` (instant uptake) and an effective
half-life ``T_eff``, each log-normal and independent; the absorbed dose per
administered activity of one cycle is the MIRD self-dose of a mono-exponential
clearance (dosimetry-reference.md §2.1, §4.1, §5.1):

    D/A = u · T_eff/ln2 · S_ref · m_ref/m        (linear self-dose mass scaling, §2.1)

with ``S_ref`` the S value of the reference mass ``m_ref`` (ICRP-89 adult male
table for organs, §2.2; 177Lu soft-tissue sphere for the tumour, §2.5).  The
published absorbed dose per activity of each organ (mean ± SD, §7) fixes the
log-normal distribution of ``D/A`` (``σ_D² = ln(1 + CV²)``, median = mean/√(1 + CV²));
the spreads of mass and half-life (from §2.2/§4.3 where published, program
assumptions [P] otherwise) are taken out of it, and the rest is the uptake
spread: ``σ_u² = σ_D² − σ_T² − σ_m²``, ``u_median = D_median·ln2/(T_median·S_ref)``.
So the dose distribution is that of the publication whatever the split; the
split matters for the BED (through ``T_eff``) and for the reported uptakes.
``T_eff`` is capped at the physical half-life (no negative biological
clearance, §9).

Cycle to cycle a patient's true dose per activity varies by a mean-one
log-normal factor (``intercycle_cv_fraction``), and the dose a clinic measures
is the true dose times a mean-one log-normal error (``measurement_cv_fraction``,
13 % after Staanum et al. 2021, §4.2); the dosimetry-guided rule sees only
measured doses.

Parameters, each with its source and reliability tag, are in
``data/population_models.json`` (README beside it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from prrt._typing import BoolArray, FloatArray
from prrt.dosimetry.spheres import sphere_s_value_gy_per_bq_s
from prrt.dosimetry.svalues import Phantom, load_svalue_table
from prrt.errors import DataSourceError, InvalidInputError
from prrt.physics import get_nuclide

__all__ = [
    "REGIONS",
    "OrganPopulation",
    "PopulationModel",
    "SourcedValue",
    "VirtualPatients",
    "draw_patients",
    "load_population_model",
    "population_model_names",
]

#: Regions of every virtual patient, in the order of the arrays.
REGIONS = ("kidneys", "red_marrow", "liver", "spleen", "tumour")
_LN2 = math.log(2.0)
_SECONDS_PER_HOUR = 3600.0
_BQ_PER_GBQ = 1e9
_TAGS = ("V", "C", "L", "R", "P")
_REFERENCES = ("ICRP89_AM", "SPHERE_SOFT_TISSUE")


@dataclass(frozen=True, slots=True)
class SourcedValue:
    """A model parameter with its source and reliability tag (V, C, L, R, P; dosimetry-reference.md)."""

    value: float
    source: str
    tag: str

    def __post_init__(self) -> None:
        if not (isinstance(self.value, int | float) and math.isfinite(self.value)):
            raise InvalidInputError("value", self.value, "a finite number")
        if self.tag not in _TAGS:
            raise InvalidInputError("tag", self.tag, "one of " + ", ".join(_TAGS))
        if not self.source.strip():
            raise InvalidInputError("source", self.source, "a non-empty source")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {"value": self.value, "source": self.source, "tag": self.tag}


def _log_sd_of_cv(cv: float) -> float:
    """σ of a log-normal with coefficient of variation ``cv``: √ln(1 + CV²)."""
    return math.sqrt(math.log1p(cv * cv))


@dataclass(frozen=True, slots=True)
class OrganPopulation:
    """Population distribution of one region's mass, uptake and effective half-life.

    Attributes
    ----------
    region
        Region name (``kidneys``, ``red_marrow``, ``liver``, ``spleen``, ``tumour``).
    reference_mass_kg, self_s_value_gy_per_bq_s
        Reference mass and its self-dose S value.
    mass_log_sd
        σ of ln(mass).
    effective_half_life_median_s, effective_half_life_log_sd
        Median and σ of ln(T_eff).
    dose_per_activity_mean_gy_per_bq, dose_per_activity_sd_gy_per_bq
        Published mean and SD of the absorbed dose per activity.

    Examples
    --------
    Kidneys of the default model: 0.43 ± 0.13 Gy/GBq (Santoro et al. 2018) with
    T_eff 50 h and the ICRP-89 310 g kidney S value give a median uptake of 2 %:

    >>> kidneys = load_population_model().organ("kidneys")
    >>> round(kidneys.dose_per_activity_median_gy_per_bq * 1e9, 4), round(kidneys.uptake_median_fraction, 4)
    (0.4116, 0.0204)
    """

    region: str
    reference_mass_kg: SourcedValue
    self_s_value_gy_per_bq_s: SourcedValue
    mass_log_sd: SourcedValue
    effective_half_life_median_s: SourcedValue
    effective_half_life_log_sd: SourcedValue
    dose_per_activity_mean_gy_per_bq: SourcedValue
    dose_per_activity_sd_gy_per_bq: SourcedValue

    def __post_init__(self) -> None:
        for name in (
            "reference_mass_kg",
            "self_s_value_gy_per_bq_s",
            "effective_half_life_median_s",
            "dose_per_activity_mean_gy_per_bq",
            "dose_per_activity_sd_gy_per_bq",
        ):
            if not getattr(self, name).value > 0.0:
                raise InvalidInputError(f"{self.region}.{name}", getattr(self, name).value, "> 0")
        for name in ("mass_log_sd", "effective_half_life_log_sd"):
            if not getattr(self, name).value >= 0.0:
                raise InvalidInputError(f"{self.region}.{name}", getattr(self, name).value, "≥ 0")
        if self.uptake_log_sd_squared < 0.0:
            raise InvalidInputError(
                f"{self.region}.mass_log_sd/effective_half_life_log_sd",
                (self.mass_log_sd.value, self.effective_half_life_log_sd.value),
                f"spreads whose squares sum to at most the published dose spread "
                f"σ_D² = {self.dose_log_sd**2:.4g}",
                hint="the mass and half-life spreads cannot exceed the spread of the dose",
            )

    @property
    def dose_log_sd(self) -> float:
        """σ of ln(D/A) from the published coefficient of variation."""
        cv = self.dose_per_activity_sd_gy_per_bq.value / self.dose_per_activity_mean_gy_per_bq.value
        return _log_sd_of_cv(cv)

    @property
    def dose_per_activity_median_gy_per_bq(self) -> float:
        """Median D/A of the log-normal with the published mean and SD."""
        mean = self.dose_per_activity_mean_gy_per_bq.value
        return mean * math.exp(-0.5 * self.dose_log_sd**2)

    @property
    def uptake_log_sd_squared(self) -> float:
        """``σ_u² = σ_D² − σ_T² − σ_m²`` (independent log-normal factors)."""
        return (
            self.dose_log_sd**2
            - self.effective_half_life_log_sd.value**2
            - self.mass_log_sd.value**2
        )

    @property
    def uptake_log_sd(self) -> float:
        """σ of ln(uptake fraction)."""
        return math.sqrt(max(self.uptake_log_sd_squared, 0.0))

    @property
    def uptake_median_fraction(self) -> float:
        """Median uptake: ``D_median·ln2/(T_median·S_ref)`` at the reference mass."""
        return (
            self.dose_per_activity_median_gy_per_bq
            * _LN2
            / (self.effective_half_life_median_s.value * self.self_s_value_gy_per_bq_s.value)
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary (parameters with sources, derived values)."""
        return {
            "region": self.region,
            "reference_mass_kg": self.reference_mass_kg.to_dict(),
            "self_s_value_gy_per_bq_s": self.self_s_value_gy_per_bq_s.to_dict(),
            "mass_log_sd": self.mass_log_sd.to_dict(),
            "effective_half_life_median_s": self.effective_half_life_median_s.to_dict(),
            "effective_half_life_log_sd": self.effective_half_life_log_sd.to_dict(),
            "dose_per_activity_mean_gy_per_bq": self.dose_per_activity_mean_gy_per_bq.to_dict(),
            "dose_per_activity_sd_gy_per_bq": self.dose_per_activity_sd_gy_per_bq.to_dict(),
            "derived": {
                "dose_per_activity_median_gy_per_bq": self.dose_per_activity_median_gy_per_bq,
                "dose_log_sd": self.dose_log_sd,
                "uptake_median_fraction": self.uptake_median_fraction,
                "uptake_log_sd": self.uptake_log_sd,
            },
        }


@dataclass(frozen=True, slots=True)
class PopulationModel:
    """A named virtual-patient population: one :class:`OrganPopulation` per region of :data:`REGIONS`."""

    name: str
    description: str
    organs: tuple[OrganPopulation, ...]
    measurement_cv_fraction: SourcedValue
    intercycle_cv_fraction: SourcedValue
    renal_risk_factor_fraction: SourcedValue
    nuclide: str = "Lu-177"

    def __post_init__(self) -> None:
        names = tuple(o.region for o in self.organs)
        if names != REGIONS:
            raise InvalidInputError(
                f"{self.name}.organs", names, "the regions " + ", ".join(REGIONS) + " in this order"
            )
        for name in ("measurement_cv_fraction", "intercycle_cv_fraction"):
            v = getattr(self, name).value
            if not 0.0 <= v < 1.0:
                raise InvalidInputError(f"{self.name}.{name}", v, "a fraction in [0, 1)")
        if not 0.0 <= self.renal_risk_factor_fraction.value <= 1.0:
            raise InvalidInputError(
                f"{self.name}.renal_risk_factor_fraction",
                self.renal_risk_factor_fraction.value,
                "a fraction in [0, 1]",
            )

    @property
    def regions(self) -> tuple[str, ...]:
        """Region names in array order."""
        return REGIONS

    def organ(self, region: str) -> OrganPopulation:
        """The population of ``region``."""
        for o in self.organs:
            if o.region == region:
                return o
        raise InvalidInputError("region", region, "one of " + ", ".join(REGIONS))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "name": self.name,
            "description": self.description,
            "nuclide": self.nuclide,
            "measurement_cv_fraction": self.measurement_cv_fraction.to_dict(),
            "intercycle_cv_fraction": self.intercycle_cv_fraction.to_dict(),
            "renal_risk_factor_fraction": self.renal_risk_factor_fraction.to_dict(),
            "organs": [o.to_dict() for o in self.organs],
        }


def _sourced(raw: Mapping[str, Any], key: str, scale: float, path: str) -> SourcedValue:
    try:
        item = raw[key]
        return SourcedValue(float(item["value"]) * scale, str(item["source"]), str(item["tag"]))
    except (KeyError, TypeError, ValueError) as err:
        raise DataSourceError(f"population_models.json {path}.{key}: {err!r}") from err


def _organ(region: str, raw: Mapping[str, Any], path: str) -> OrganPopulation:
    reference = raw.get("reference")
    if reference not in _REFERENCES:
        raise DataSourceError(f"population_models.json {path}.reference: {reference!r}")
    if reference == "ICRP89_AM":
        table = load_svalue_table(Phantom.ICRP89_AM)
        mass = SourcedValue(
            table.mass_kg(region),
            "ICRP-89 adult male reference mass (dosimetry-reference.md 2.2)",
            "V",
        )
        s_value = SourcedValue(
            table.s_gy_per_bq_s(target=region, source=region),
            "177Lu ICRP-89 adult male self S value (dosimetry-reference.md 2.2, prrt.dosimetry.svalues)",
            "V",
        )
    else:
        mass = _sourced(raw, "reference_mass_kg", 1.0, path)
        s_value = SourcedValue(
            sphere_s_value_gy_per_bq_s(mass_kg=mass.value),
            "177Lu soft-tissue sphere S value at the reference mass (dosimetry-reference.md 2.5, "
            "prrt.dosimetry.spheres)",
            "V",
        )
    per_gbq = 1.0 / _BQ_PER_GBQ
    return OrganPopulation(
        region=region,
        reference_mass_kg=mass,
        self_s_value_gy_per_bq_s=s_value,
        mass_log_sd=_sourced(raw, "mass_log_sd", 1.0, path),
        effective_half_life_median_s=_sourced(
            raw, "effective_half_life_median_h", _SECONDS_PER_HOUR, path
        ),
        effective_half_life_log_sd=_sourced(raw, "effective_half_life_log_sd", 1.0, path),
        dose_per_activity_mean_gy_per_bq=_sourced(
            raw, "dose_per_activity_mean_gy_per_gbq", per_gbq, path
        ),
        dose_per_activity_sd_gy_per_bq=_sourced(
            raw, "dose_per_activity_sd_gy_per_gbq", per_gbq, path
        ),
    )


@cache
def _models() -> tuple[str, dict[str, PopulationModel]]:
    try:
        raw = json.loads(
            resources.files("prrt.simulation")
            .joinpath("data", "population_models.json")
            .read_text(encoding="utf-8")
        )
        models = {}
        for name, body in raw["models"].items():
            organs = tuple(
                _organ(region, body["organs"][region], f"models.{name}.organs.{region}")
                for region in REGIONS
            )
            models[name] = PopulationModel(
                name=name,
                description=str(body["description"]),
                organs=organs,
                measurement_cv_fraction=_sourced(body, "measurement_cv_fraction", 1.0, name),
                intercycle_cv_fraction=_sourced(body, "intercycle_cv_fraction", 1.0, name),
                renal_risk_factor_fraction=_sourced(body, "renal_risk_factor_fraction", 1.0, name),
            )
        return str(raw["default_model"]), models
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise DataSourceError(f"packaged population models cannot be read: {err!r}") from err


def population_model_names() -> tuple[str, ...]:
    """Names of the packaged population models (the default first)."""
    default, models = _models()
    return (default, *(n for n in models if n != default))


def load_population_model(name: str | None = None) -> PopulationModel:
    """Return the packaged population model ``name`` (the default when None).

    Raises
    ------
    InvalidInputError
        For an unknown model name.

    Examples
    --------
    >>> load_population_model().name
    'LU177_DOTATATE_SANTORO_2018'
    """
    default, models = _models()
    key = default if name is None else name
    if key not in models:
        raise InvalidInputError("population", name, "one of " + ", ".join(population_model_names()))
    return models[key]


@dataclass(frozen=True, eq=False)
class VirtualPatients:
    """Arrays of ``n`` virtual patients (axis 0), regions on the last axis (:data:`REGIONS`).

    Attributes
    ----------
    mass_kg, uptake_fraction, effective_half_life_s
        Per patient and region.
    dose_per_activity_gy_per_bq
        The patient's typical absorbed dose per activity (self-dose model).
    true_dose_per_activity_gy_per_bq
        Per cycle (axis 1): the dose per activity delivered in that cycle.
    measured_dose_per_activity_gy_per_bq
        Per cycle: what the clinic measures (true × measurement error).
    renal_risk_factors
        Hypertension/diabetes (selects the kidney BED limit).
    """

    regions: tuple[str, ...]
    mass_kg: FloatArray
    uptake_fraction: FloatArray
    effective_half_life_s: FloatArray
    dose_per_activity_gy_per_bq: FloatArray
    true_dose_per_activity_gy_per_bq: FloatArray
    measured_dose_per_activity_gy_per_bq: FloatArray
    renal_risk_factors: BoolArray
    model_name: str = field(default="")

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.mass_kg.shape[0])

    @property
    def max_cycles(self) -> int:
        """Cycles drawn per patient."""
        return int(self.true_dose_per_activity_gy_per_bq.shape[1])

    def rows(self, start: int, stop: int) -> VirtualPatients:
        """Patients ``start .. stop − 1`` (views, no copy)."""
        return VirtualPatients(
            regions=self.regions,
            mass_kg=self.mass_kg[start:stop],
            uptake_fraction=self.uptake_fraction[start:stop],
            effective_half_life_s=self.effective_half_life_s[start:stop],
            dose_per_activity_gy_per_bq=self.dose_per_activity_gy_per_bq[start:stop],
            true_dose_per_activity_gy_per_bq=self.true_dose_per_activity_gy_per_bq[start:stop],
            measured_dose_per_activity_gy_per_bq=self.measured_dose_per_activity_gy_per_bq[
                start:stop
            ],
            renal_risk_factors=self.renal_risk_factors[start:stop],
            model_name=self.model_name,
        )

    def region_index(self, region: str) -> int:
        """Column of ``region``."""
        if region not in self.regions:
            raise InvalidInputError("region", region, "one of " + ", ".join(self.regions))
        return self.regions.index(region)


def _to_mean_one_lognormal(z: FloatArray, cv: float) -> None:
    """Standard normals → mean-one log-normal factors with coefficient of variation ``cv``, in place."""
    sigma = _log_sd_of_cv(cv)
    z *= sigma
    z -= 0.5 * sigma * sigma
    np.exp(z, out=z)


def draw_patients(
    model: PopulationModel, n: int, *, max_cycles: int, rng: np.random.Generator
) -> VirtualPatients:
    """Draw ``n`` virtual patients with ``max_cycles`` cycles of per-cycle variation.

    The draws are made in one fixed order (standard normals of shape
    ``(3, n, regions)`` for mass, half-life and uptake, then ``(2, n, cycles,
    regions)`` for cycle-to-cycle and measurement factors, then ``n`` uniforms for
    renal risk factors), so a seeded generator reproduces the patients exactly.

    Raises
    ------
    InvalidInputError
        For ``n < 1`` or ``max_cycles < 1``.

    Examples
    --------
    >>> p = draw_patients(load_population_model(), 4, max_cycles=8, rng=np.random.default_rng(1))
    >>> p.true_dose_per_activity_gy_per_bq.shape, p.regions[0]
    ((4, 8, 5), 'kidneys')
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInputError("n", n, "a number of patients ≥ 1")
    if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1:
        raise InvalidInputError("max_cycles", max_cycles, "a number of cycles ≥ 1")
    organs = model.organs
    regions = len(organs)
    z = rng.standard_normal((3, n, regions))
    ref_mass = np.array([o.reference_mass_kg.value for o in organs])
    s_ref = np.array([o.self_s_value_gy_per_bq_s.value for o in organs])
    mass = ref_mass * np.exp(np.array([o.mass_log_sd.value for o in organs]) * z[0])
    t_phys_s = get_nuclide(model.nuclide).half_life_s
    t_eff = np.minimum(
        np.array([o.effective_half_life_median_s.value for o in organs])
        * np.exp(np.array([o.effective_half_life_log_sd.value for o in organs]) * z[1]),
        t_phys_s,
    )
    uptake = np.array([o.uptake_median_fraction for o in organs]) * np.exp(
        np.array([o.uptake_log_sd for o in organs]) * z[2]
    )
    # MIRD self-dose of a mono-exponential clearance with linear mass scaling (§2.1, §4.1).
    dose_per_activity = uptake * t_eff / _LN2 * s_ref * (ref_mass / mass)
    # In place on one buffer: few large temporaries (they are page faults on Dask workers).
    w = rng.standard_normal((2, n, max_cycles, regions))
    true_per_cycle, measured = w[0], w[1]
    _to_mean_one_lognormal(true_per_cycle, model.intercycle_cv_fraction.value)
    true_per_cycle *= dose_per_activity[:, None, :]
    _to_mean_one_lognormal(measured, model.measurement_cv_fraction.value)
    measured *= true_per_cycle
    risk = rng.random(n) < model.renal_risk_factor_fraction.value
    return VirtualPatients(
        regions=model.regions,
        mass_kg=mass,
        uptake_fraction=uptake,
        effective_half_life_s=t_eff,
        dose_per_activity_gy_per_bq=dose_per_activity,
        true_dose_per_activity_gy_per_bq=true_per_cycle,
        measured_dose_per_activity_gy_per_bq=measured,
        renal_risk_factors=risk,
        model_name=model.name,
    )
