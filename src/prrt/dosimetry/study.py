"""Organ-level dosimetry study: the documented JSON format in, doses, BED and course status out.

A study holds the patient (sex → ICRP-89 phantom), settings, and one entry per
treatment cycle with organ and lesion time-activity curves (or TIAs), blood
samples for the red marrow and doses reported from elsewhere.  The format is
described by the JSON Schema shipped as
``prrt/dosimetry/schemas/organ_study.schema.json`` and in ``docs/dosimetry-organ.md``.

:func:`parse_study` checks the document against the schema, then parses every
value with an explicit unit (a bare number for a dimensional value is refused)
into canonical units; errors name the JSON path (``cycles[0].regions[1].mass``).
:func:`run_study` fits the curves (:func:`prrt.kinetics.fit_best` or a chosen
model), computes TIAs, organ doses (MIRD S values for 177Lu, local deposition
otherwise), lesion doses (sphere model), red-marrow dose (EANM 2010 blood
method), BED per cycle (generalised Lea–Catcheside G of the dose-rate curve),
cumulative course doses, limit checks and, when asked, the cycle plan.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from prrt.dosimetry.course import (
    DEFAULT_DOSE_UNCERTAINTY_FRACTION,
    CumulativeOrganDose,
    CycleDosimetry,
    CycleOrganDose,
    CyclePlan,
    LimitCheck,
    LimitProfile,
    Predictor,
    check_limits,
    cumulative_doses,
    load_limit_profile,
    plan_cycles,
)
from prrt.dosimetry.marrow import (
    DEFAULT_RMBLR,
    RED_MARROW,
    MarrowDose,
    red_marrow_dose_blood_method,
    red_marrow_mass_kg,
    rmblr_from_hematocrit,
)
from prrt.dosimetry.organ import (
    DEFAULT_RBE_ALPHA,
    KidneyConvention,
    OrganDose,
    lesion_dose,
    local_deposition_dose,
    mird_organ_doses,
)
from prrt.dosimetry.radiobiology import (
    BedResult,
    ExponentialDoseRate,
    RadiobiologyParameters,
    bed_gy,
    eqd2_gy,
    g_factor,
    g_factor_sampled,
    radiobiology_parameters,
)
from prrt.dosimetry.spheres import SPHERE_COMPOSITIONS
from prrt.dosimetry.svalues import (
    REMAINDER_OF_BODY,
    TOTAL_BODY,
    MassScaling,
    Phantom,
    Sex,
    canonical_region,
    load_svalue_table,
)
from prrt.errors import DataSourceError, FitError, InvalidInputError, PrrtWarning, UnitError
from prrt.kinetics import (
    BiExponentialFitter,
    HanscheidFitter,
    MadsenFitter,
    MonoExponentialFitter,
    MonoExponentialUptakeFitter,
    TacFit,
    TimeActivityCurve,
    TrapezoidFitter,
    TriExponentialFitter,
    fit_best,
    population_effective_half_life,
)
from prrt.physics import canonical_nuclide_name, get_nuclide
from prrt.units import Dimension, parse_quantity, parse_timestamp

__all__ = [
    "SCHEMA_KEYS",
    "STUDY_SCHEMA_VERSION",
    "CycleResult",
    "OrganStudy",
    "StudyResult",
    "organ_study_schema",
    "parse_study",
    "run_study",
]

STUDY_SCHEMA_VERSION = "1.0"

#: Keys the parser reads, per object of the schema (kept in sync with the JSON Schema by a test).
SCHEMA_KEYS: dict[str, tuple[str, ...]] = {
    "study": ("schema_version", "patient", "settings", "cycles", "plan"),
    "patient": ("id", "sex", "body_mass", "renal_risk_factors"),
    "settings": (
        "nuclide",
        "kidney_convention",
        "mass_scaling",
        "rbe_alpha",
        "limit_profile",
        "limit_overrides",
        "predictor",
        "dose_uncertainty_fraction",
        "coverage_factor",
    ),
    "cycle": (
        "cycle",
        "administered_activity",
        "administered_at",
        "regions",
        "lesions",
        "blood",
        "reported_doses",
    ),
    "region": ("region", "mass", "tac", "tia", "effective_half_life", "fit_model"),
    "lesion": ("name", "mass", "composition", "tac", "tia", "effective_half_life", "fit_model"),
    "tac": ("points",),
    "point": ("time", "activity", "uncertainty"),
    "blood": ("points", "rmblr", "hematocrit", "fit_model"),
    "blood_point": ("time", "concentration"),
    "reported_dose": ("region", "absorbed_dose", "effective_half_life", "uncertainty_fraction"),
    "plan": ("activity_per_cycle", "region"),
}

_FITTERS: dict[str, Any] = {
    "mono_exponential": MonoExponentialFitter,
    "mono_exponential_uptake": MonoExponentialUptakeFitter,
    "bi_exponential": BiExponentialFitter,
    "tri_exponential": TriExponentialFitter,
    "trapezoid": TrapezoidFitter,
}
_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- schema


@cache
def organ_study_schema() -> dict[str, Any]:
    """Return the JSON Schema of the organ-dosimetry study format.

    Examples
    --------
    >>> organ_study_schema()["title"]
    'prrt organ-level dosimetry study'
    """
    try:
        text = (
            resources.files("prrt.dosimetry")
            .joinpath("schemas", "organ_study.schema.json")
            .read_text(encoding="utf-8")
        )
        schema: dict[str, Any] = json.loads(text)
    except (OSError, ValueError) as err:
        raise DataSourceError(f"organ study schema cannot be read: {err}") from err
    return schema


def _path(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "$"


def _validate_schema(data: Any) -> None:
    import jsonschema
    from jsonschema.exceptions import best_match

    validator = jsonschema.Draft202012Validator(organ_study_schema())
    err = best_match(validator.iter_errors(data))
    if err is None:
        return
    parts = list(err.absolute_path)
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        parts.append(missing[0])
        raise InvalidInputError(_path(parts), None, f"the required field '{missing[0]}'")
    if err.validator == "additionalProperties":
        allowed = err.schema.get("properties", {})
        extra = sorted(set(err.instance) - set(allowed))
        parts.append(extra[0])
        raise InvalidInputError(
            _path(parts),
            err.instance[extra[0]],
            "no such field in the study format",
            hint="allowed: " + ", ".join(allowed),
        )
    expected = str(err.schema.get("description") or err.message)
    if (
        err.validator == "type"
        and err.validator_value == "string"
        and isinstance(err.instance, int | float)
        and "unit" in expected
    ):
        raise UnitError(
            _path(parts), err.instance, expected, hint="the unit must be given explicitly"
        )
    raise InvalidInputError(_path(parts), err.instance, expected, hint=err.message)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class _Kinetics:
    """A source's TIA with, when available, its curve or effective half-life."""

    tia_bq_s: float
    fit: TacFit | None = None
    effective_half_life_s: float | None = None


@dataclass(frozen=True, slots=True)
class RegionInput:
    """One source/target region of one cycle."""

    name: str
    path: str
    mass_kg: float | None
    tac: TimeActivityCurve | None
    tia_bq_s: float | None
    effective_half_life_s: float | None
    fit_model: str


@dataclass(frozen=True, slots=True)
class LesionInput:
    """One lesion of one cycle (sphere model)."""

    name: str
    path: str
    mass_kg: float
    composition: str
    tac: TimeActivityCurve | None
    tia_bq_s: float | None
    effective_half_life_s: float | None
    fit_model: str


@dataclass(frozen=True, slots=True)
class BloodInput:
    """Blood activity concentrations (Bq/mL) of one cycle and the marrow-to-blood ratio."""

    path: str
    curve: TimeActivityCurve
    rmblr: float
    fit_model: str


@dataclass(frozen=True, slots=True)
class ReportedDose:
    """An organ dose reported from elsewhere (e.g. an earlier cycle)."""

    region: str
    path: str
    absorbed_dose_gy: float
    effective_half_life_s: float | None
    uncertainty_fraction: float | None


@dataclass(frozen=True, slots=True)
class CycleInput:
    """Inputs of one treatment cycle."""

    number: int
    path: str
    administered_activity_bq: float
    administered_at: datetime | None
    regions: tuple[RegionInput, ...]
    lesions: tuple[LesionInput, ...]
    blood: BloodInput | None
    reported: tuple[ReportedDose, ...]


@dataclass(frozen=True, slots=True)
class StudySettings:
    """Settings of a study (all with documented defaults)."""

    nuclide: str = "Lu-177"
    kidney_convention: KidneyConvention = KidneyConvention.COMBINED
    mass_scaling: MassScaling = MassScaling.LINEAR
    rbe_alpha: float = DEFAULT_RBE_ALPHA
    limit_profile: LimitProfile = field(default_factory=load_limit_profile)
    predictor: Predictor = Predictor.LAST_CYCLE
    dose_uncertainty_fraction: float = DEFAULT_DOSE_UNCERTAINTY_FRACTION
    coverage_factor: float = 2.0


@dataclass(frozen=True, slots=True)
class OrganStudy:
    """A parsed organ-level dosimetry study, in canonical units."""

    patient_id: str
    sex: Sex
    phantom: Phantom
    body_mass_kg: float | None
    renal_risk_factors: bool | None
    settings: StudySettings
    cycles: tuple[CycleInput, ...]
    plan_activity_bq: float | None = None
    plan_region: str = "kidneys"


def _quantity(text: Any, dimension: Dimension, path: str, *, positive: bool = True) -> float:
    return parse_quantity(text, dimension, field=path, positive=positive, nonnegative=not positive)


def _mass(text: Any, path: str) -> float:
    value = _quantity(text, Dimension.MASS, path)
    if value > 500.0:
        raise InvalidInputError(path, text, "a plausible mass (≤ 500 kg)")
    return value


def _tac(raw: Mapping[str, Any], path: str, nuclide: str, region: str) -> TimeActivityCurve:
    try:
        return TimeActivityCurve.from_mapping({**raw, "region": region, "nuclide": nuclide})
    except InvalidInputError as err:
        raise type(err)(f"{path}.{err.field}", err.value, err.expected, err.hint) from err


def _fit_model(raw: Mapping[str, Any]) -> str:
    return str(raw.get("fit_model", "auto"))


def _parse_region(raw: Mapping[str, Any], path: str, nuclide: str) -> RegionInput:
    name = canonical_region(raw["region"], field=f"{path}.region")
    has_tac, has_tia = "tac" in raw, "tia" in raw
    if has_tac == has_tia:
        raise InvalidInputError(path, sorted(raw), "exactly one of 'tac' or 'tia'")
    return RegionInput(
        name=name,
        path=path,
        mass_kg=_mass(raw["mass"], f"{path}.mass") if "mass" in raw else None,
        tac=_tac(raw["tac"], f"{path}.tac", nuclide, name) if has_tac else None,
        tia_bq_s=_quantity(
            raw["tia"], Dimension.TIME_INTEGRATED_ACTIVITY, f"{path}.tia", positive=False
        )
        if has_tia
        else None,
        effective_half_life_s=_quantity(
            raw["effective_half_life"], Dimension.TIME, f"{path}.effective_half_life"
        )
        if "effective_half_life" in raw
        else None,
        fit_model=_fit_model(raw),
    )


def _parse_lesion(raw: Mapping[str, Any], path: str, nuclide: str) -> LesionInput:
    has_tac, has_tia = "tac" in raw, "tia" in raw
    if has_tac == has_tia:
        raise InvalidInputError(path, sorted(raw), "exactly one of 'tac' or 'tia'")
    name = str(raw["name"])
    return LesionInput(
        name=name,
        path=path,
        mass_kg=_mass(raw["mass"], f"{path}.mass"),
        composition=str(raw.get("composition", "soft_tissue")),
        tac=_tac(raw["tac"], f"{path}.tac", nuclide, name) if has_tac else None,
        tia_bq_s=_quantity(
            raw["tia"], Dimension.TIME_INTEGRATED_ACTIVITY, f"{path}.tia", positive=False
        )
        if has_tia
        else None,
        effective_half_life_s=_quantity(
            raw["effective_half_life"], Dimension.TIME, f"{path}.effective_half_life"
        )
        if "effective_half_life" in raw
        else None,
        fit_model=_fit_model(raw),
    )


def _parse_blood(raw: Mapping[str, Any], path: str, nuclide: str) -> BloodInput:
    points = raw["points"]
    times = [
        _quantity(p["time"], Dimension.TIME, f"{path}.points[{i}].time", positive=False)
        for i, p in enumerate(points)
    ]
    # Concentrations (Bq/mL) are carried in the curve's activity slot: its TIA is then per mL.
    conc = [
        _quantity(
            p["concentration"],
            Dimension.ACTIVITY_CONCENTRATION,
            f"{path}.points[{i}].concentration",
            positive=False,
        )
        for i, p in enumerate(points)
    ]
    try:
        curve = TimeActivityCurve(
            times_s=np.array(times),
            activities_bq=np.array(conc),
            region="blood per mL",
            nuclide=nuclide,
        )
    except InvalidInputError as err:
        raise type(err)(f"{path}.{err.field}", err.value, err.expected, err.hint) from err
    if "rmblr" in raw and "hematocrit" in raw:
        raise InvalidInputError(path, sorted(raw), "either 'rmblr' or 'hematocrit', not both")
    if "hematocrit" in raw:
        try:
            rmblr = rmblr_from_hematocrit(hematocrit_fraction=raw["hematocrit"])
        except InvalidInputError as err:
            raise InvalidInputError(f"{path}.hematocrit", err.value, err.expected) from err
    else:
        rmblr = float(raw.get("rmblr", DEFAULT_RMBLR))
    return BloodInput(path=path, curve=curve, rmblr=rmblr, fit_model=_fit_model(raw))


def _parse_cycle(raw: Mapping[str, Any], path: str, nuclide: str) -> CycleInput:
    regions = tuple(
        _parse_region(r, f"{path}.regions[{i}]", nuclide)
        for i, r in enumerate(raw.get("regions", []))
    )
    seen: dict[str, str] = {}
    for region in regions:
        if region.name in seen:
            raise InvalidInputError(
                f"{region.path}.region",
                region.name,
                f"a region not already given at {seen[region.name]}",
            )
        seen[region.name] = region.path
    lesions = tuple(
        _parse_lesion(r, f"{path}.lesions[{i}]", nuclide)
        for i, r in enumerate(raw.get("lesions", []))
    )
    names = [lesion.name for lesion in lesions]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"{path}.lesions", names, "distinct lesion names")
    reported = tuple(
        ReportedDose(
            region=canonical_region(r["region"], field=f"{path}.reported_doses[{i}].region"),
            path=f"{path}.reported_doses[{i}]",
            absorbed_dose_gy=_quantity(
                r["absorbed_dose"],
                Dimension.ABSORBED_DOSE,
                f"{path}.reported_doses[{i}].absorbed_dose",
                positive=False,
            ),
            effective_half_life_s=_quantity(
                r["effective_half_life"],
                Dimension.TIME,
                f"{path}.reported_doses[{i}].effective_half_life",
            )
            if "effective_half_life" in r
            else None,
            uncertainty_fraction=r.get("uncertainty_fraction"),
        )
        for i, r in enumerate(raw.get("reported_doses", []))
    )
    for dose in reported:
        if dose.region in seen or (dose.region == RED_MARROW and "blood" in raw):
            raise InvalidInputError(
                f"{dose.path}.region", dose.region, "a region whose dose is not also computed"
            )
    blood = _parse_blood(raw["blood"], f"{path}.blood", nuclide) if "blood" in raw else None
    if blood is not None and RED_MARROW in seen:
        raise InvalidInputError(
            f"{path}.blood", "blood", "blood samples or an image-based red_marrow region, not both"
        )
    if not (regions or lesions or blood or reported):
        raise InvalidInputError(
            path, raw, "at least one region, lesion, blood curve or reported dose"
        )
    return CycleInput(
        number=int(raw["cycle"]),
        path=path,
        administered_activity_bq=_quantity(
            raw["administered_activity"], Dimension.ACTIVITY, f"{path}.administered_activity"
        ),
        administered_at=parse_timestamp(raw["administered_at"], field=f"{path}.administered_at")
        if "administered_at" in raw
        else None,
        regions=regions,
        lesions=lesions,
        blood=blood,
        reported=reported,
    )


def parse_study(data: Any) -> OrganStudy:
    """Validate a study document (parsed JSON) and convert it to canonical units.

    Raises
    ------
    InvalidInputError
        Naming the JSON path of the first problem: a missing field, a value
        without unit, an unknown organ or nuclide, a mass of zero, etc.

    Examples
    --------
    >>> study = parse_study({
    ...     "schema_version": "1.0",
    ...     "patient": {"sex": "female"},
    ...     "cycles": [{"cycle": 1, "administered_activity": "7.4 GBq",
    ...                 "regions": [{"region": "kidneys", "tia": "2000 MBq h"}]}],
    ... })
    >>> study.phantom.value, study.cycles[0].regions[0].tia_bq_s
    ('ICRP89_AF', 7200000000000.0)
    >>> parse_study({"schema_version": "1.0", "patient": {"sex": "female"}, "cycles": [
    ...     {"cycle": 1, "administered_activity": 7.4}]})
    Traceback (most recent call last):
    ...
    prrt.errors.UnitError: cycles[0].administered_activity: got 7.4; expected an activity with an explicit unit, e.g. '7.4 GBq' (the unit must be given explicitly)
    """
    _validate_schema(data)
    patient = data["patient"]
    settings_raw = data.get("settings", {})
    try:
        nuclide = canonical_nuclide_name(settings_raw.get("nuclide", "Lu-177"))
        get_nuclide(nuclide)
    except InvalidInputError as err:
        raise InvalidInputError("settings.nuclide", err.value, err.expected, err.hint) from err
    profile = load_limit_profile(settings_raw.get("limit_profile"))
    for limit_id, text in settings_raw.get("limit_overrides", {}).items():
        path = f"settings.limit_overrides.{limit_id}"
        if limit_id not in profile.ids:
            raise InvalidInputError(
                path, limit_id, "a limit id of the profile: " + ", ".join(profile.ids)
            )
        profile = profile.with_limit(limit_id, _quantity(text, Dimension.ABSORBED_DOSE, path))
    settings = StudySettings(
        nuclide=nuclide,
        kidney_convention=KidneyConvention(settings_raw.get("kidney_convention", "combined")),
        mass_scaling=MassScaling(settings_raw.get("mass_scaling", "linear")),
        rbe_alpha=float(settings_raw.get("rbe_alpha", DEFAULT_RBE_ALPHA)),
        limit_profile=profile,
        predictor=Predictor(settings_raw.get("predictor", "last_cycle")),
        dose_uncertainty_fraction=float(
            settings_raw.get("dose_uncertainty_fraction", DEFAULT_DOSE_UNCERTAINTY_FRACTION)
        ),
        coverage_factor=float(settings_raw.get("coverage_factor", 2.0)),
    )
    sex = Sex(patient["sex"])
    cycles = tuple(_parse_cycle(c, f"cycles[{i}]", nuclide) for i, c in enumerate(data["cycles"]))
    numbers = [c.number for c in cycles]
    if len(set(numbers)) != len(numbers):
        raise InvalidInputError("cycles", numbers, "each cycle number once")
    plan = data.get("plan")
    return OrganStudy(
        patient_id=str(patient.get("id", "")),
        sex=sex,
        phantom=Phantom.for_sex(sex),
        body_mass_kg=_mass(patient["body_mass"], "patient.body_mass")
        if "body_mass" in patient
        else None,
        renal_risk_factors=patient.get("renal_risk_factors"),
        settings=settings,
        cycles=cycles,
        plan_activity_bq=_quantity(
            plan["activity_per_cycle"], Dimension.ACTIVITY, "plan.activity_per_cycle"
        )
        if plan
        else None,
        plan_region=canonical_region(plan.get("region", "kidneys"), field="plan.region")
        if plan
        else "kidneys",
    )


# --------------------------------------------------------------------------- computation


def _fitter(model: str, tac: TimeActivityCurve, half_life_s: float | None) -> Any:
    if model == "stp_hanscheid_2018":
        return HanscheidFitter()
    if model == "stp_madsen_2018":
        if half_life_s is None:
            half_life_s = population_effective_half_life(tac.region).effective_half_life_s
        return MadsenFitter(effective_half_life_s=half_life_s)
    return _FITTERS[model]()


def _fit(
    tac: TimeActivityCurve,
    model: str,
    path: str,
    notes: list[str],
    half_life_s: float | None = None,
) -> TacFit:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrrtWarning)
        try:
            fit = fit_best(tac) if model == "auto" else _fitter(model, tac, half_life_s).fit(tac)
        except FitError as err:
            raise InvalidInputError(
                path,
                f"{tac.n_points} points",
                "a curve that a kinetic model can be fitted to",
                hint=str(err),
            ) from err
        except InvalidInputError as err:
            raise type(err)(f"{path} ({err.field})", err.value, err.expected, err.hint) from err
    notes.extend(f"{path}: {w.message}" for w in caught if issubclass(w.category, PrrtWarning))
    return fit


def _kinetics_record(name: str, path: str, kin: _Kinetics) -> dict[str, Any]:
    record: dict[str, Any] = {
        "region": name,
        "path": path,
        "time_integrated_activity_bq_s": kin.tia_bq_s,
        "effective_half_life_s": kin.effective_half_life_s,
    }
    if kin.fit is not None:
        fit = kin.fit
        record.update(
            {
                "model": fit.model_name,
                "parameters": dict(fit.parameter_dict),
                "time_integrated_activity_sd_bq_s": fit.time_integrated_activity_sd_bq_s,
                "r_squared": fit.r_squared,
                "aicc": fit.aicc,
                "extrapolated_fraction": fit.extrapolated_fraction,
                "converged": fit.converged,
            }
        )
    else:
        record["model"] = "given TIA"
    return record


def _kinetics(
    tac: TimeActivityCurve | None,
    tia: float | None,
    half_life: float | None,
    model: str,
    path: str,
    notes: list[str],
) -> _Kinetics:
    if tac is not None:
        fit = _fit(tac, model, f"{path}.tac", notes, half_life)
        return _Kinetics(fit.time_integrated_activity_bq_s, fit, half_life)
    if tia is None:
        raise InvalidInputError(path, None, "a 'tac' or a 'tia'")
    return _Kinetics(tia, None, half_life)


def _dose_rate_g(
    parts: Sequence[tuple[float, _Kinetics]], repair_half_time_s: float, nuclide_lambda: float
) -> tuple[float, str] | None:
    """G factor of the dose rate ``Σ S·A(t)`` of the parts that carry kinetics.

    Returns None when no part has a curve or an effective half-life.
    """
    timed = [(s, k) for s, k in parts if s > 0.0 and (k.fit is not None or k.effective_half_life_s)]
    if not timed:
        return None
    curves: list[ExponentialDoseRate] = []
    sampled = False
    for s, k in timed:
        if k.fit is not None:
            try:
                curves.append(
                    ExponentialDoseRate.from_activity_terms(
                        k.fit.exponential_terms(), s_value_gy_per_bq_s=s
                    )
                )
            except FitError:
                sampled = True
        elif k.effective_half_life_s is not None:
            curves.append(
                ExponentialDoseRate.mono_exponential(
                    dose_gy=s * k.tia_bq_s, effective_half_life_s=k.effective_half_life_s
                )
            )
    if not sampled:
        total = curves[0]
        for curve in curves[1:]:
            total = total + curve
        return g_factor(total, repair_half_time_s=repair_half_time_s), "sum of exponentials"
    # A trapezoid fit: sample the whole dose-rate curve and integrate numerically.
    t_last = max(
        float(k.fit.knot_times_s[-1])
        if k.fit is not None and k.fit.knot_times_s is not None
        else 0.0
        for _, k in timed
    )
    t_end = max(t_last, 1.0) + 20.0 * _LN2 / nuclide_lambda
    knots = [
        np.asarray(k.fit.knot_times_s, dtype=np.float64)
        for _, k in timed
        if k.fit is not None and k.fit.knot_times_s is not None
    ]
    # Include the knots so that the piecewise-linear trapezoid curve is sampled exactly.
    grid = np.unique(
        np.concatenate(
            [
                np.linspace(0.0, max(t_last, 1.0), 400),
                np.geomspace(max(t_last, 1.0), t_end, 400),
                *knots,
            ]
        )
    )
    grid = grid[np.concatenate([[True], np.diff(grid) > 1.0])]  # drop near-duplicates (< 1 s)
    rate = np.zeros_like(grid)
    for s, k in timed:
        if k.fit is not None:
            rate += s * np.clip(k.fit.predict(grid), 0.0, None)
        elif k.effective_half_life_s is not None:
            lam = _LN2 / k.effective_half_life_s
            rate += s * k.tia_bq_s * lam * np.exp(-lam * grid)
    g = g_factor_sampled(
        times_s=grid,
        dose_rate_gy_per_s=rate,
        repair_half_time_s=repair_half_time_s,
        tail_rate_per_s=nuclide_lambda,
        substeps=8,
    )
    return g, "numerical generalised Lea–Catcheside integration (trapezoid curve)"


def _parameters_for(region: str) -> RadiobiologyParameters | None:
    try:
        return radiobiology_parameters(region)
    except InvalidInputError:
        return None


def _bed(
    region: str,
    dose: float,
    parts: Sequence[tuple[float, _Kinetics]],
    params: RadiobiologyParameters | None,
    nuclide_lambda: float,
    notes: list[str],
    path: str,
    *,
    alpha: bool = False,
) -> BedResult | None:
    if params is None:
        notes.append(f"{path}: no radiobiology parameters for {region}; BED not computed")
        return None
    if alpha:
        notes.append(
            f"{path}: BED of the linear-quadratic model is not computed for alpha emitters; "
            "the RBE-weighted dose is used for the course and its limits"
        )
        return None
    if dose <= 0.0:
        return BedResult(
            region, 0.0, 0.0, params.alpha_beta_gy, params.repair_half_time_s, 0.0, 0.0, "zero dose"
        )
    found = _dose_rate_g(parts, params.repair_half_time_s, nuclide_lambda)
    if found is None:
        notes.append(
            f"{path}: no time course (curve or effective half-life) for {region}; BED unknown"
        )
        return None
    g, how = found
    bed = bed_gy(dose_gy=dose, g_factor=g, alpha_beta_gy=params.alpha_beta_gy)
    return BedResult(
        tissue=params.tissue,
        dose_gy=dose,
        g_factor=g,
        alpha_beta_gy=params.alpha_beta_gy,
        repair_half_time_s=params.repair_half_time_s,
        bed_gy=bed,
        eqd2_gy=eqd2_gy(bed_gy=bed, alpha_beta_gy=params.alpha_beta_gy),
        method=f"linear-quadratic BED; G from {how}",
    )


@dataclass(frozen=True, slots=True)
class CycleResult:
    """Everything computed for one cycle."""

    number: int
    administered_activity_bq: float
    kinetics: tuple[dict[str, Any], ...]
    organ_doses: Mapping[str, OrganDose]
    organ_beds: Mapping[str, BedResult | None]
    lesion_doses: Mapping[str, OrganDose]
    lesion_beds: Mapping[str, BedResult | None]
    marrow: MarrowDose | None
    reported: tuple[ReportedDose, ...]
    dosimetry: CycleDosimetry
    dose_sd_from_tia_gy: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""

        def with_bed(dose: OrganDose, bed: BedResult | None) -> dict[str, Any]:
            return {
                **dose.to_dict(),
                "absorbed_dose_sd_from_tia_gy": self.dose_sd_from_tia_gy.get(dose.region),
                "bed": None if bed is None else bed.to_dict(),
            }

        return {
            "cycle": self.number,
            "administered_activity_bq": self.administered_activity_bq,
            "kinetics": list(self.kinetics),
            "organ_doses": [
                with_bed(d, self.organ_beds.get(r)) for r, d in self.organ_doses.items()
            ],
            "lesion_doses": [
                with_bed(d, self.lesion_beds.get(r)) for r, d in self.lesion_doses.items()
            ],
            "red_marrow": None
            if self.marrow is None
            else {**self.marrow.to_dict(), "bed": _opt(self.organ_beds.get(RED_MARROW))},
            "reported_doses": [
                {
                    "region": r.region,
                    "absorbed_dose_gy": r.absorbed_dose_gy,
                    "effective_half_life_s": r.effective_half_life_s,
                    "bed": _opt(self.organ_beds.get(r.region)),
                }
                for r in self.reported
            ],
        }


def _opt(bed: BedResult | None) -> dict[str, Any] | None:
    return None if bed is None else bed.to_dict()


@dataclass(frozen=True, slots=True)
class StudyResult:
    """Result of :func:`run_study`."""

    study: OrganStudy
    cycles: tuple[CycleResult, ...]
    cumulative: Mapping[str, CumulativeOrganDose]
    limit_checks: tuple[LimitCheck, ...]
    plan: CyclePlan | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON payload documented in ``docs/dosimetry-organ.md``."""
        s = self.study
        return {
            "schema_version": STUDY_SCHEMA_VERSION,
            "study": {
                "patient_id": s.patient_id,
                "sex": s.sex.value,
                "phantom": s.phantom.value,
                "nuclide": s.settings.nuclide,
                "kidney_convention": s.settings.kidney_convention.value,
                "mass_scaling": s.settings.mass_scaling.value,
                "rbe_alpha": s.settings.rbe_alpha,
                "limit_profile": s.settings.limit_profile.name,
                "renal_risk_factors": s.renal_risk_factors,
                "course_dose_quantity": _course_quantity(s),
            },
            "cycles": [c.to_dict() for c in self.cycles],
            "course": {
                "cumulative": [c.to_dict() for c in self.cumulative.values()],
                "limit_checks": [c.to_dict() for c in self.limit_checks],
                "plan": None if self.plan is None else self.plan.to_dict(),
            },
            "notes": list(self.notes),
        }


def _reference_mass(phantom: Phantom, region: str, path: str) -> float:
    table = load_svalue_table(phantom)
    name = "kidneys" if region in ("left_kidney", "right_kidney") else region
    mass = table.mass_kg(name, field=path)
    return mass / 2.0 if name != region else mass


def _run_cycle(study: OrganStudy, cycle: CycleInput, notes: list[str]) -> CycleResult:
    settings = study.settings
    nuclide = get_nuclide(settings.nuclide)
    lam = nuclide.decay_constant_per_s
    alpha = nuclide.chain_emissions.alpha_mev > 0.0
    kin: dict[str, _Kinetics] = {}
    records: list[dict[str, Any]] = []
    for region in cycle.regions:
        kin[region.name] = _kinetics(
            region.tac,
            region.tia_bq_s,
            region.effective_half_life_s,
            region.fit_model,
            region.path,
            notes,
        )
        records.append(_kinetics_record(region.name, region.path, kin[region.name]))
    paths = {r.name: r.path for r in cycle.regions}
    masses = {r.name: r.mass_kg for r in cycle.regions if r.mass_kg is not None}

    organ_doses: dict[str, OrganDose] = {}
    if kin:
        if nuclide.name == "Lu-177":
            try:
                organ_doses = mird_organ_doses(
                    tia_bq_s={n: k.tia_bq_s for n, k in kin.items()},
                    phantom=study.phantom,
                    patient_masses_kg=masses,
                    kidney_convention=settings.kidney_convention,
                    mass_scaling=settings.mass_scaling,
                    nuclide=nuclide.name,
                )
            except InvalidInputError as err:
                raise _relocate(err, cycle, paths) from err
        else:
            for name, k in kin.items():
                if name == REMAINDER_OF_BODY:
                    continue
                mass = masses.get(name) or _reference_mass(
                    study.phantom, name, f"{paths[name]}.mass"
                )
                organ_doses[name] = local_deposition_dose(
                    tia_bq_s=k.tia_bq_s,
                    mass_kg=mass,
                    nuclide=nuclide,
                    region=name,
                    rbe_alpha=settings.rbe_alpha,
                )
    beds: dict[str, BedResult | None] = {}
    for name, dose in organ_doses.items():
        parts = [
            (c.s_value_gy_per_bq_s, kin[c.source]) for c in dose.contributions if c.source in kin
        ] or [
            (dose.absorbed_dose_gy / kin[name].tia_bq_s if kin[name].tia_bq_s else 0.0, kin[name])
        ]
        beds[name] = _bed(
            name,
            dose.absorbed_dose_gy,
            parts,
            _parameters_for(name),
            lam,
            notes,
            paths.get(name, cycle.path),
            alpha=alpha,
        )

    marrow: MarrowDose | None = None
    if cycle.blood is not None:
        blood = cycle.blood
        if nuclide.name != "Lu-177":
            raise InvalidInputError(
                f"{blood.path}",
                settings.nuclide,
                "Lu-177 for the blood-based marrow method (S values)",
            )
        blood_kin = _kinetics(blood.curve, None, None, blood.fit_model, blood.path, notes)
        records.append(_kinetics_record("blood (per mL)", blood.path, blood_kin))
        organs = {n: k.tia_bq_s for n, k in kin.items() if n not in (TOTAL_BODY, REMAINDER_OF_BODY)}
        marrow_mass = (
            red_marrow_mass_kg(phantom=study.phantom, body_mass_kg=study.body_mass_kg)
            if study.body_mass_kg is not None
            else None
        )
        marrow = red_marrow_dose_blood_method(
            blood_tia_bq_s_per_ml=blood_kin.tia_bq_s,
            phantom=study.phantom,
            rmblr=blood.rmblr,
            marrow_mass_kg=marrow_mass,
            organ_tia_bq_s=organs,
            total_body_tia_bq_s=kin[TOTAL_BODY].tia_bq_s if TOTAL_BODY in kin else None,
            kidney_convention=settings.kidney_convention,
            mass_scaling=settings.mass_scaling,
        )
        if not marrow.remainder_included:
            notes.append(
                f"{blood.path}: no total_body curve; red-marrow cross-dose from the remainder of body "
                "is missing (the dose is a lower bound)"
            )
        marrow_kin = _Kinetics(marrow.time_integrated_activity_bq_s, blood_kin.fit, None)
        self_s = next(
            c.s_value_gy_per_bq_s for c in marrow.organ_dose.contributions if c.source == RED_MARROW
        )
        marrow_parts = [(self_s, marrow_kin)] + [
            (c.s_value_gy_per_bq_s, kin[c.source])
            for c in marrow.organ_dose.contributions
            if c.source in kin
        ]
        beds[RED_MARROW] = _bed(
            RED_MARROW,
            marrow.absorbed_dose_gy,
            marrow_parts,
            _parameters_for(RED_MARROW),
            lam,
            notes,
            blood.path,
        )

    lesion_doses: dict[str, OrganDose] = {}
    lesion_beds: dict[str, BedResult | None] = {}
    lesion_kin: dict[str, _Kinetics] = {}
    for lesion in cycle.lesions:
        if lesion.composition not in SPHERE_COMPOSITIONS:
            raise InvalidInputError(
                f"{lesion.path}.composition",
                lesion.composition,
                "one of " + ", ".join(SPHERE_COMPOSITIONS),
            )
        k = _kinetics(
            lesion.tac,
            lesion.tia_bq_s,
            lesion.effective_half_life_s,
            lesion.fit_model,
            lesion.path,
            notes,
        )
        records.append(_kinetics_record(lesion.name, lesion.path, k))
        lesion_kin[lesion.name] = k
        try:
            dose = lesion_dose(
                tia_bq_s=k.tia_bq_s,
                mass_kg=lesion.mass_kg,
                nuclide=nuclide,
                region=lesion.name,
                composition=lesion.composition,
                rbe_alpha=settings.rbe_alpha,
            )
        except InvalidInputError as err:
            raise InvalidInputError(
                f"{lesion.path}.mass", err.value, err.expected, err.hint
            ) from err
        lesion_doses[lesion.name] = dose
        s_eff = dose.absorbed_dose_gy / k.tia_bq_s if k.tia_bq_s > 0 else 0.0
        lesion_beds[lesion.name] = _bed(
            lesion.name,
            dose.absorbed_dose_gy,
            [(s_eff, k)],
            radiobiology_parameters("tumour"),
            lam,
            notes,
            lesion.path,
            alpha=alpha,
        )

    for reported in cycle.reported:
        params = _parameters_for(reported.region)
        k = _Kinetics(1.0, None, reported.effective_half_life_s)
        beds[reported.region] = _bed(
            reported.region,
            reported.absorbed_dose_gy,
            [(reported.absorbed_dose_gy, k)],
            params,
            lam,
            notes,
            reported.path,
        )

    course_organs: dict[str, CycleOrganDose] = {}

    def add(
        region: str, dose_gy: float, bed: BedResult | None, uncertainty: float | None = None
    ) -> None:
        course_organs[region] = CycleOrganDose(
            region=region,
            absorbed_dose_gy=dose_gy,
            g_factor=None if bed is None else bed.g_factor,
            alpha_beta_gy=None if bed is None else bed.alpha_beta_gy,
            dose_uncertainty_fraction=uncertainty,
        )

    for name, dose in organ_doses.items():
        if name not in (REMAINDER_OF_BODY,):
            add(name, dose.rbe_weighted_dose_gy, beds.get(name))
    if marrow is not None:
        add(RED_MARROW, marrow.absorbed_dose_gy, beds.get(RED_MARROW))
    for reported in cycle.reported:
        add(
            reported.region,
            reported.absorbed_dose_gy,
            beds.get(reported.region),
            reported.uncertainty_fraction,
        )
    for name, dose in lesion_doses.items():
        add(f"lesion:{name}", dose.rbe_weighted_dose_gy, lesion_beds.get(name))
    sds: dict[str, float | None] = {name: _dose_sd(dose, kin) for name, dose in organ_doses.items()}
    for lesion in cycle.lesions:
        sds[lesion.name] = _dose_sd(
            lesion_doses[lesion.name], {lesion.name: lesion_kin[lesion.name]}
        )
    return CycleResult(
        number=cycle.number,
        administered_activity_bq=cycle.administered_activity_bq,
        kinetics=tuple(records),
        organ_doses=organ_doses,
        organ_beds=beds,
        lesion_doses=lesion_doses,
        lesion_beds=lesion_beds,
        marrow=marrow,
        reported=cycle.reported,
        dose_sd_from_tia_gy=sds,
        dosimetry=CycleDosimetry(
            cycle_number=cycle.number,
            administered_activity_bq=cycle.administered_activity_bq,
            organs=course_organs,
        ),
    )


def _dose_sd(dose: OrganDose, kin: Mapping[str, _Kinetics]) -> float | None:
    """Standard uncertainty of a dose from the fitted TIA uncertainties only.

    ``u(D)² = Σ_s (S(t←s)·u(Ã_s))²`` over sources with a fit covariance
    (independent sources; S values and masses taken as exact).  None when no
    source has one.  Calibration, segmentation and S-value uncertainties are not included.
    """
    terms = []
    for c in dose.contributions:
        k = kin.get(c.source)
        sd = None if k is None or k.fit is None else k.fit.time_integrated_activity_sd_bq_s
        if sd is not None:
            terms.append((c.s_value_gy_per_bq_s * sd) ** 2)
    return math.sqrt(sum(terms)) if terms else None


def _relocate(
    err: InvalidInputError, cycle: CycleInput, paths: Mapping[str, str]
) -> InvalidInputError:
    """Rename a core field such as ``tia_bq_s.kidneys`` to the study's JSON path."""
    head, _, region = err.field.partition(".")
    if region in paths:
        suffix = ".mass" if head == "patient_masses_kg" else ".region"
        return type(err)(f"{paths[region]}{suffix}", err.value, err.expected, err.hint)
    return type(err)(f"{cycle.path}.regions ({err.field})", err.value, err.expected, err.hint)


def _course_quantity(study: OrganStudy) -> str:
    alpha = get_nuclide(study.settings.nuclide).chain_emissions.alpha_mev > 0.0
    return "rbe_weighted_dose" if alpha else "absorbed_dose"


def run_study(study: OrganStudy) -> StudyResult:
    """Compute every cycle, the cumulative course and (if asked) the cycle plan.

    Examples
    --------
    >>> study = parse_study({
    ...     "schema_version": "1.0", "patient": {"sex": "male", "renal_risk_factors": False},
    ...     "cycles": [{"cycle": 1, "administered_activity": "7.4 GBq",
    ...                 "regions": [{"region": "kidneys", "tia": "4000 MBq h",
    ...                              "effective_half_life": "50 h"}]}],
    ...     "plan": {"activity_per_cycle": "7.4 GBq"}})
    >>> result = run_study(study)
    >>> round(result.cumulative["kidneys"].absorbed_dose_gy, 3), result.plan.additional_cycles
    (1.117, 19)
    """
    notes: list[str] = []
    if _course_quantity(study) == "rbe_weighted_dose":
        notes.append(
            f"{study.settings.nuclide} emits alphas: course doses and limit checks use the "
            f"RBE-weighted dose (RBE {study.settings.rbe_alpha:g} for alphas, MIRD Pamphlet 22)"
        )
    cycles = tuple(
        _run_cycle(study, c, notes) for c in sorted(study.cycles, key=lambda c: c.number)
    )
    dosimetry = [c.dosimetry for c in cycles]
    cumulative = cumulative_doses(dosimetry)
    checks = check_limits(
        cumulative, study.settings.limit_profile, renal_risk_factors=study.renal_risk_factors
    )
    plan = None
    if study.plan_activity_bq is not None:
        regions = [study.plan_region]
        if study.plan_region == "kidneys" and "kidneys" not in cumulative:
            # Per-kidney doses: plan each kidney, the one allowing fewer cycles binds.
            regions = [r for r in ("left_kidney", "right_kidney") if r in cumulative] or regions
        plans = []
        for region in regions:
            try:
                plans.append(
                    plan_cycles(
                        dosimetry,
                        activity_per_cycle_bq=study.plan_activity_bq,
                        profile=study.settings.limit_profile,
                        renal_risk_factors=study.renal_risk_factors,
                        region=region,
                        predictor=study.settings.predictor,
                        dose_uncertainty_fraction=study.settings.dose_uncertainty_fraction,
                        coverage_factor=study.settings.coverage_factor,
                    )
                )
            except InvalidInputError as err:
                raise InvalidInputError(
                    f"plan.region ({err.field})", err.value, err.expected, err.hint
                ) from err
        plan = min(plans, key=lambda p: (p.additional_cycles, p.partial_cycle_activity_bq))
        if len(plans) > 1:
            notes.append(f"plan: each kidney planned separately; {plan.region} binds")
    return StudyResult(
        study=study,
        cycles=cycles,
        cumulative=cumulative,
        limit_checks=checks,
        plan=plan,
        notes=tuple(notes),
    )
