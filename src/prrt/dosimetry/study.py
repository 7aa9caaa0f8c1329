"""Organ-level dosimetry study: run a parsed study and report doses, BED and course status.

:func:`run_study` takes an :class:`~prrt.dosimetry.study_input.OrganStudy`
(from :func:`~prrt.dosimetry.study_input.parse_study`, re-exported here),
fits the curves (:func:`prrt.kinetics.fit_best` or a chosen model), computes
TIAs, organ doses (MIRD S values for 177Lu, local deposition otherwise), lesion
doses (sphere model), the red-marrow dose (EANM 2010 blood method), BED per
cycle (generalised Lea–Catcheside G of the dose-rate curve), cumulative course
doses, limit checks and, when asked, the cycle plan.  The JSON payload of
:meth:`StudyResult.to_dict` is documented in ``docs/dosimetry-organ.md``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

from prrt.dosimetry.course import (
    CycleDosimetry,
    CycleOrganDose,
    check_limits,
    cumulative_doses,
    plan_cycles,
)
from prrt.dosimetry.marrow import (
    RED_MARROW,
    MarrowDose,
    red_marrow_dose_blood_method,
    red_marrow_mass_kg,
)
from prrt.dosimetry.organ import (
    OrganDose,
    lesion_dose,
    local_deposition_dose,
    mird_organ_doses,
)
from prrt.dosimetry.radiobiology import BedResult, radiobiology_parameters
from prrt.dosimetry.spheres import SPHERE_COMPOSITIONS
from prrt.dosimetry.study_bed import _bed, _parameters_for
from prrt.dosimetry.study_input import (
    SCHEMA_KEYS,
    STUDY_SCHEMA_VERSION,
    CycleInput,
    OrganStudy,
    StudySettings,
    organ_study_schema,
    parse_study,
)
from prrt.dosimetry.study_kinetics import (
    POOR_FIT_R_SQUARED,
    _Kinetics,
    _kinetics,
    _kinetics_record,
    fit_quality_warnings,
    residual_dof,
)
from prrt.dosimetry.study_results import CycleResult, StudyResult, _course_quantity
from prrt.dosimetry.svalues import (
    REMAINDER_OF_BODY,
    TOTAL_BODY,
    Phantom,
    load_svalue_table,
)
from prrt.errors import InvalidInputError, PrrtWarning
from prrt.physics import get_nuclide

__all__ = [
    "POOR_FIT_R_SQUARED",
    "SCHEMA_KEYS",
    "STUDY_SCHEMA_VERSION",
    "CycleResult",
    "OrganStudy",
    "StudyResult",
    "StudySettings",
    "fit_quality_warnings",
    "organ_study_schema",
    "parse_study",
    "residual_dof",
    "run_study",
]


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
    marrow_fit: tuple[float | None, tuple[str, ...]] = (None, ())
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
        marrow_fit = (blood_kin.tia_sd_fraction, blood_kin.warnings)
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

    sds: dict[str, float | None] = {name: _dose_sd(dose, kin) for name, dose in organ_doses.items()}

    def add(
        region: str,
        dose_gy: float,
        bed: BedResult | None,
        uncertainty: float | None = None,
        fit: tuple[float | None, tuple[str, ...]] = (None, ()),
    ) -> None:
        course_organs[region] = CycleOrganDose(
            region=region,
            absorbed_dose_gy=dose_gy,
            g_factor=None if bed is None else bed.g_factor,
            alpha_beta_gy=None if bed is None else bed.alpha_beta_gy,
            dose_uncertainty_fraction=uncertainty,
            fit_uncertainty_fraction=fit[0],
            fit_warnings=fit[1],
        )

    for name, dose in organ_doses.items():
        if name not in (REMAINDER_OF_BODY,):
            add(name, dose.rbe_weighted_dose_gy, beds.get(name), fit=_fit_terms(dose, kin, sds))
    if marrow is not None:
        add(RED_MARROW, marrow.absorbed_dose_gy, beds.get(RED_MARROW), fit=marrow_fit)
    for reported in cycle.reported:
        add(
            reported.region,
            reported.absorbed_dose_gy,
            beds.get(reported.region),
            reported.uncertainty_fraction,
        )
    for name, dose in lesion_doses.items():
        add(f"lesion:{name}", dose.rbe_weighted_dose_gy, lesion_beds.get(name))
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


def _fit_terms(
    dose: OrganDose, kin: Mapping[str, _Kinetics], sds: Mapping[str, float | None]
) -> tuple[float | None, tuple[str, ...]]:
    """Relative dose SD from the fits and the fit warnings of the sources that matter.

    A source matters when it gives at least 10 % of the dose (or is the region
    itself when the dose has no per-source breakdown).
    """
    sd = sds.get(dose.region)
    fraction = sd / dose.absorbed_dose_gy if sd is not None and dose.absorbed_dose_gy > 0 else None
    sources = [
        c.source
        for c in dose.contributions
        if dose.absorbed_dose_gy > 0 and c.absorbed_dose_gy >= 0.1 * dose.absorbed_dose_gy
    ] or [dose.region]
    warned: list[str] = []
    for source in sources:
        k = kin.get(source)
        if k is not None:
            warned.extend(w for w in k.warnings if w not in warned)
    return fraction, tuple(dict.fromkeys(warned))


def _relocate(
    err: InvalidInputError, cycle: CycleInput, paths: Mapping[str, str]
) -> InvalidInputError:
    """Rename a core field such as ``tia_bq_s.kidneys`` to the study's JSON path."""
    head, _, region = err.field.partition(".")
    if region in paths:
        if head == "patient_masses_kg":
            suffix = ".mass"
        elif "region of the" in err.expected or "convention" in err.expected:
            suffix = ".region"
        else:
            given = next(r for r in cycle.regions if r.name == region)
            suffix = ".tac" if given.tac is not None else ".tia"
        return type(err)(f"{paths[region]}{suffix}", err.value, err.expected, err.hint)
    return type(err)(f"{cycle.path}.regions ({err.field})", err.value, err.expected, err.hint)


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
    notes: list[str] = list(study.notes)
    if _course_quantity(study) == "rbe_weighted_dose":
        notes.append(
            f"{study.settings.nuclide} emits alphas: course doses and limit checks use the "
            f"RBE-weighted dose (RBE {study.settings.rbe_alpha:g} for alphas, MIRD Pamphlet 22)"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrrtWarning)
        cycles = tuple(
            _run_cycle(study, c, notes) for c in sorted(study.cycles, key=lambda c: c.number)
        )
    notes.extend(str(w.message) for w in caught if issubclass(w.category, PrrtWarning))
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
