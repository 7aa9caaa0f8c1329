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

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np

from prrt.dosimetry.course import (
    DEFAULT_DOSE_UNCERTAINTY_FRACTION,
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
from prrt.dosimetry.study_input_checks import (
    ACTIVITY_CONSISTENCY_ALLOWANCE,
    ORGAN_MASS_PLAUSIBLE_RANGE,
    _check_activities,
    _check_cycle_order,
    _check_organ_mass,
)
from prrt.dosimetry.study_input_records import (
    BloodInput,
    CycleInput,
    LesionInput,
    OrganStudy,
    RegionInput,
    ReportedDose,
    StudySettings,
)
from prrt.dosimetry.study_input_schema import (
    MAX_ECHOED_VALUE_CHARS,
    SCHEMA_KEYS,
    STUDY_SCHEMA_VERSION,
    _compact_text,
    _validate_schema,
    compact_value,
    organ_study_schema,
)
from prrt.dosimetry.svalues import (
    LEFT_KIDNEY,
    REMAINDER_OF_BODY,
    RIGHT_KIDNEY,
    MassScaling,
    Phantom,
    Sex,
    canonical_region,
    load_svalue_table,
)
from prrt.errors import InvalidInputError
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
