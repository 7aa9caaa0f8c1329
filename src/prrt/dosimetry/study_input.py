"""Organ-dosimetry study format: JSON Schema validation and parsing into canonical units.

The study document (``prrt dosimetry organ STUDY.json``) is described by the
JSON Schema shipped as ``prrt/dosimetry/schemas/organ_study.schema.json`` and
in ``docs/dosimetry-organ.md``.  :func:`parse_study` checks a parsed JSON
document against the schema, then parses every value with an explicit unit (a
bare number for a dimensional value is refused) into the frozen input records
of this module; errors name the JSON path (``cycles[0].regions[1].mass``).
The computation lives in :mod:`prrt.dosimetry.study`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from prrt.dosimetry.course import (
    DEFAULT_DOSE_UNCERTAINTY_FRACTION,
    LimitProfile,
    Predictor,
    load_limit_profile,
)
from prrt.dosimetry.marrow import (
    DEFAULT_RMBLR,
    RED_MARROW,
    rmblr_from_hematocrit,
)
from prrt.dosimetry.organ import (
    DEFAULT_RBE_ALPHA,
    KidneyConvention,
)
from prrt.dosimetry.svalues import (
    LEFT_KIDNEY,
    REMAINDER_OF_BODY,
    RIGHT_KIDNEY,
    TOTAL_BODY,
    MassScaling,
    Phantom,
    Sex,
    canonical_region,
    load_svalue_table,
)
from prrt.errors import DataSourceError, InvalidInputError, UnitError
from prrt.kinetics import (
    TimeActivityCurve,
)
from prrt.physics import canonical_nuclide_name, get_nuclide
from prrt.units import Dimension, parse_quantity, parse_timestamp

__all__ = [
    "ACTIVITY_CONSISTENCY_ALLOWANCE",
    "MAX_ECHOED_VALUE_CHARS",
    "ORGAN_MASS_PLAUSIBLE_RANGE",
    "SCHEMA_KEYS",
    "STUDY_SCHEMA_VERSION",
    "BloodInput",
    "CycleInput",
    "LesionInput",
    "OrganStudy",
    "RegionInput",
    "ReportedDose",
    "StudySettings",
    "compact_value",
    "organ_study_schema",
    "parse_study",
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
    message = err.message
    if message.startswith(repr(err.instance)):
        # jsonschema repeats the whole value; the error already shows it (shortened).
        message = "the value" + message[len(repr(err.instance)) :]
    raise InvalidInputError(_path(parts), err.instance, expected, hint=message)


#: Longest repr of a value echoed in a study error; longer values are summarised.
MAX_ECHOED_VALUE_CHARS = 200


def compact_value(value: Any) -> Any:
    """Return ``value``, or a short summary of it when its repr exceeds 200 characters.

    A wrong file must not be dumped back in the error message.

    Examples
    --------
    >>> compact_value("7.4 GBq")
    '7.4 GBq'
    >>> compact_value({"studies": ["x" * 300]})
    '{"studies": …} (317 characters)'
    >>> print(compact_value(["1 MBq h"] * 100))
    ['1 MBq h', …] (100 items, 1100 characters)
    >>> compact_value("a" * 250)[-25:]
    'aaaaaaa… (250 characters)'
    """
    text = repr(value)
    if len(text) <= MAX_ECHOED_VALUE_CHARS:
        return value
    if isinstance(value, Mapping):
        keys = ", ".join(json.dumps(str(k)) + ": …" for k in itertools.islice(value, 5))
        more = ", …" if len(value) > 5 else ""
        return f"{{{keys}{more}}} ({len(text)} characters)"
    if isinstance(value, list | tuple):
        first = repr(value[0]) if value else ""
        first = first if len(first) <= 60 else first[:60] + "…"
        items = "1 item" if len(value) == 1 else f"{len(value)} items"
        return f"[{first}, …] ({items}, {len(text)} characters)"
    if isinstance(value, str):
        return f"{value[:120]}… ({len(value)} characters)"
    return f"{text[:120]}… ({len(text)} characters)"


def _compact_text(text: str | None) -> str | None:
    if text is None or len(text) <= 2 * MAX_ECHOED_VALUE_CHARS:
        return text
    return f"{text[: 2 * MAX_ECHOED_VALUE_CHARS]}… ({len(text)} characters)"


# --------------------------------------------------------------------------- inputs


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
    notes: tuple[str, ...] = ()


def _quantity(text: Any, dimension: Dimension, path: str, *, positive: bool = True) -> float:
    return parse_quantity(text, dimension, field=path, positive=positive, nonnegative=not positive)


def _mass(text: Any, path: str) -> float:
    value = _quantity(text, Dimension.MASS, path)
    if value > 500.0:
        raise InvalidInputError(path, text, "a plausible mass (≤ 500 kg)")
    return value


#: Plausible organ mass of a patient relative to the ICRP-89 reference mass of the
#: patient's sex (``data/phantom_masses_icrp89.csv``).  Outside this range the
#: value is almost surely a unit or typing error, and mass-scaled reference S values
#: would no longer describe the organ (MIRD Pamphlet 11/ICRP 133 scale S values for
#: modest deviations only).
ORGAN_MASS_PLAUSIBLE_RANGE = (0.1, 5.0)
#: Allowance for calibration/quantification error when a measured region activity is
#: compared with the administered (decayed) activity or the total body (EANM 2010:
#: quantitative SPECT/whole-body calibration uncertainties of ~5-10 %).
ACTIVITY_CONSISTENCY_ALLOWANCE = 0.10


def _check_organ_mass(region: RegionInput, phantom: Phantom, raw_mass: Any) -> None:
    if region.mass_kg is None:
        return
    masses = load_svalue_table(phantom).masses_kg
    name = "kidneys" if region.name in (LEFT_KIDNEY, RIGHT_KIDNEY) else region.name
    if name not in masses:
        return
    reference = masses[name] / (2.0 if name != region.name else 1.0)
    low, high = ORGAN_MASS_PLAUSIBLE_RANGE
    if not (low * reference <= region.mass_kg <= high * reference):
        raise InvalidInputError(
            f"{region.path}.mass",
            raw_mass,
            f"a {region.name} mass between {low * reference * 1e3:.4g} g and "
            f"{high * reference * 1e3:.4g} g ({low:g}-{high:g} × the ICRP-89 "
            f"{phantom.value} reference mass {reference * 1e3:.4g} g)",
            hint="check the unit (g vs kg); a mass outside this range cannot be served by "
            "mass-scaled reference S values: report the dose under 'reported_doses' instead",
        )


def _max_activity_bq(cycle: CycleInput, time_s: float, half_life_s: float) -> float:
    """Administered activity physically decayed to ``time_s`` after administration."""
    return float(cycle.administered_activity_bq * 2.0 ** (-max(time_s, 0.0) / half_life_s))


def _check_activities(cycle: CycleInput, half_life_s: float, notes: list[str]) -> None:
    """Refuse region activities or TIAs no patient can hold after this administration.

    No region can hold more than the administered activity decayed to the time of
    the measurement, nor a TIA above ``A0·T½/ln 2`` (no biological clearance); a
    region above the total-body measurement at the same time is refused beyond the
    calibration allowance and noted within it.
    """
    allowance = 1.0 + ACTIVITY_CONSISTENCY_ALLOWANCE
    a0 = cycle.administered_activity_bq
    total = next((r for r in cycle.regions if r.name == TOTAL_BODY), None)
    total_at = (
        {}
        if total is None or total.tac is None
        else dict(zip(total.tac.times_s.tolist(), total.tac.activities_bq.tolist(), strict=True))
    )
    items: list[tuple[str, str, TimeActivityCurve | None, float | None]] = [
        (r.name, r.path, r.tac, r.tia_bq_s) for r in cycle.regions
    ] + [(les.name, les.path, les.tac, les.tia_bq_s) for les in cycle.lesions]
    for name, path, tac, tia in items:
        if tia is not None and tia > allowance * a0 * half_life_s / math.log(2.0):
            limit = a0 * half_life_s / math.log(2.0)
            raise InvalidInputError(
                f"{path}.tia",
                f"{tia / 3.6e9:.6g} MBq h",
                f"at most the TIA of the whole administered activity without biological "
                f"clearance, {limit / 3.6e9:.6g} MBq h ({a0 / 1e9:.4g} GBq administered in "
                f"{cycle.path})",
                hint="check the unit and the administered activity",
            )
        if tac is None:
            continue
        for i, (t, a) in enumerate(
            zip(tac.times_s.tolist(), tac.activities_bq.tolist(), strict=True)
        ):
            point = f"{path}.tac.points[{i}].activity"
            limit = _max_activity_bq(cycle, t, half_life_s)
            if a > allowance * limit:
                raise InvalidInputError(
                    point,
                    f"{a / 1e6:.6g} MBq",
                    f"at most the administered activity of {cycle.path} "
                    f"({a0 / 1e6:.6g} MBq), decayed to {t / 3600:.4g} h: {limit / 1e6:.6g} MBq",
                    hint="check the unit and the administered activity",
                )
            whole = total_at.get(t)
            if name == TOTAL_BODY or whole is None or a <= whole:
                continue
            message = (
                f"{point}: {a / 1e6:.6g} MBq exceeds the total-body activity {whole / 1e6:.6g} MBq "
                f"at {t / 3600:.4g} h"
            )
            if a > allowance * whole:
                raise InvalidInputError(
                    point,
                    f"{a / 1e6:.6g} MBq",
                    f"at most the total-body activity at the same time ({whole / 1e6:.6g} MBq at "
                    f"{t / 3600:.4g} h, +{ACTIVITY_CONSISTENCY_ALLOWANCE:.0%} calibration allowance)",
                    hint="check the units and the calibrations of the two measurements",
                )
            notes.append(
                message + f" (within the {ACTIVITY_CONSISTENCY_ALLOWANCE:.0%} calibration "
                "allowance; check the calibrations)"
            )


def _check_cycle_order(cycles: Sequence[CycleInput]) -> None:
    for previous, cycle in itertools.pairwise(cycles):
        if cycle.number <= previous.number:
            raise InvalidInputError(
                f"{cycle.path}.cycle",
                cycle.number,
                f"a cycle number above {previous.number} (that of {previous.path}): "
                "cycles in increasing order",
            )
        if (
            cycle.administered_at is not None
            and previous.administered_at is not None
            and cycle.administered_at <= previous.administered_at
        ):
            raise InvalidInputError(
                f"{cycle.path}.administered_at",
                cycle.administered_at.isoformat(),
                f"a time after the administration of cycle {previous.number} "
                f"({previous.administered_at.isoformat()})",
            )


def _tac(raw: Mapping[str, Any], path: str, nuclide: str, region: str) -> TimeActivityCurve:
    try:
        return TimeActivityCurve.from_mapping({**raw, "region": region, "nuclide": nuclide})
    except InvalidInputError as err:
        raise type(err)(f"{path}.{err.field}", err.value, err.expected, err.hint) from err


def _fit_model(raw: Mapping[str, Any]) -> str:
    return str(raw.get("fit_model", "auto"))


@cache
def _known_regions() -> frozenset[str]:
    names = {REMAINDER_OF_BODY, LEFT_KIDNEY, RIGHT_KIDNEY}
    for phantom in Phantom:
        table = load_svalue_table(phantom)
        names.update(table.targets, table.sources)
    return frozenset(names)


def _parse_region(raw: Mapping[str, Any], path: str, nuclide: str) -> RegionInput:
    name = canonical_region(raw["region"], field=f"{path}.region")
    if name not in _known_regions():
        raise InvalidInputError(
            f"{path}.region",
            raw["region"],
            "an organ of the ICRP-89 S-value tables (or total_body, remainder_of_body, "
            "left_kidney, right_kidney)",
            hint="known: " + ", ".join(sorted(_known_regions())),
        )
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
        without unit, an unknown organ or nuclide, a mass of zero, etc.  A
        value (or hint) longer than 200 characters is summarised
        (:func:`compact_value`).

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
    try:
        return _parse_study(data)
    except InvalidInputError as err:
        value, hint = compact_value(err.value), _compact_text(err.hint)
        if value is err.value and hint is err.hint:
            raise
        raise type(err)(err.field, value, err.expected, hint) from err


def _parse_study(data: Any) -> OrganStudy:
    """Body of :func:`parse_study` (errors not yet shortened)."""
    _validate_schema(data)
    patient = data["patient"]
    settings_raw = data.get("settings", {})
    try:
        nuclide = canonical_nuclide_name(settings_raw.get("nuclide", "Lu-177"))
        get_nuclide(nuclide)
    except InvalidInputError as err:
        raise InvalidInputError("settings.nuclide", err.value, err.expected, err.hint) from err
    try:
        profile = load_limit_profile(settings_raw.get("limit_profile"))
    except InvalidInputError as err:
        raise InvalidInputError("settings.limit_profile", err.value, err.expected) from err
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
    _check_cycle_order(cycles)
    phantom = Phantom.for_sex(sex)
    half_life_s = get_nuclide(nuclide).half_life_s
    notes: list[str] = []
    for cycle, raw_cycle in zip(cycles, data["cycles"], strict=True):
        for region, raw_region in zip(cycle.regions, raw_cycle.get("regions", []), strict=True):
            _check_organ_mass(region, phantom, raw_region.get("mass"))
        _check_activities(cycle, half_life_s, notes)
    plan = data.get("plan")
    return OrganStudy(
        patient_id=str(patient.get("id", "")),
        sex=sex,
        phantom=phantom,
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
        notes=tuple(notes),
    )
