"""Eligibility for a first PRRT course (clinical-rules.md §3.2–3.4, ELIG-ALGO).

Every rule returns a :class:`~prrt.clinical.outcome.RuleOutcome` with the rule id
of §3.2, the observed value, the threshold with the operator a passing value
satisfies, the unit, the source and a status:

* ``PASS`` — checked, condition not met;
* ``FAIL`` — the rule fires (X- exclusion, C- caution, W- warning);
* ``INDETERMINATE`` — data missing (never a pass: an indeterminate exclusion or
  caution makes the verdict "needs multidisciplinary review");
* ``NOT_APPLICABLE`` — the rule does not concern this patient.

The verdict follows :func:`~prrt.clinical.outcome.combine_verdict`: any failed
exclusion → not eligible; else any failed or indeterminate caution/exclusion →
needs multidisciplinary review; else eligible.  PPQ and NETest are shown as
information and never gate.

Inputs are in canonical units (§0.2): g/L, 10^9/L, µmol/L, mL/min, percent.
Numeric thresholds come from the versioned table ``criteria/eligibility_thresholds.csv``
through the :class:`~prrt.clinical.profiles.Profile`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from prrt.clinical.grading import (
    Differentiation,
    GradeAssessment,
    PrimarySite,
    TumourCategory,
    who_grade,
)
from prrt.clinical.imaging_scores import (
    ImagingLesion,
    NetpetAssessment,
    NetpetGrade,
    SstrExpressionAssessment,
    SstrModality,
    mismatch_lesions,
    netpet_grade,
    sstr_expression,
)
from prrt.clinical.labs import Analyte, plausible_range
from prrt.clinical.outcome import RuleOutcome, Severity, Status, Verdict, combine_verdict
from prrt.clinical.profiles import Profile, Threshold, get_profile
from prrt.clinical.renal import (
    Sex,
    creatinine_clearance_cockcroft_gault,
    egfr_ckd_epi_2021,
)
from prrt.errors import InvalidInputError, NonConformingInputWarning

__all__ = [
    "ECOG_TO_KARNOFSKY",
    "BrainMetastases",
    "EligibilityAssessment",
    "EligibilityInput",
    "PregnancyStatus",
    "PriorTherapy",
    "TherapyKind",
    "assess_eligibility",
    "sstr_min_score",
]

# ECOG -> Karnofsky band [R]: Oken MM et al., Am J Clin Oncol 1982;5:649-55 (ECOG scale);
# correspondence as tabulated by Buccheri G et al., Eur J Cancer 1996;32A:1135-41.
# A rule on a band passes or fails only if both ends agree; otherwise it is indeterminate.
ECOG_TO_KARNOFSKY: dict[int, tuple[float, float]] = {
    0: (90.0, 100.0),
    1: (70.0, 80.0),
    2: (50.0, 60.0),
    3: (30.0, 40.0),
    4: (10.0, 20.0),
    5: (0.0, 0.0),
}

_DAYS_PER_WEEK = 7.0


def _clean(value: float) -> float:
    """Drop float noise from unit conversions and ratios (12 significant digits).

    ``61.56000000000001 / 20.52`` (bilirubin 3.6 mg/dL against ULN 1.2 mg/dL) must
    compare as exactly 3 × ULN (§0.3 item 4: values compared as reported).
    """
    return float(f"{value:.12g}")


class PregnancyStatus(str, Enum):
    """Pregnancy status at assessment (X-PREGNANT)."""

    NOT_PREGNANT = "not_pregnant"  # excluded by a test
    PREGNANT = "pregnant"
    SUSPECTED = "suspected"
    NOT_EXCLUDED = "not_excluded"
    NOT_APPLICABLE = "not_applicable"  # no reproductive potential (e.g. male, post-menopausal)


class BrainMetastases(str, Enum):
    """Brain metastasis status (C-BRAIN-METS-UNSTABLE)."""

    NONE = "none"
    TREATED_STABLE = "treated_stable"
    UNTREATED_OR_UNSTABLE = "untreated_or_unstable"


class TherapyKind(str, Enum):
    """Kinds of prior therapy that rules of §3.2 look at."""

    CHEMOTHERAPY = "chemotherapy"
    EVEROLIMUS = "everolimus"
    TARGETED_THERAPY = "targeted_therapy"
    INTERFERON = "interferon"
    INVESTIGATIONAL = "investigational"
    SURGERY = "surgery"
    LIVER_DIRECTED = "liver_directed"
    RADIOEMBOLISATION = "radioembolisation"
    EXTERNAL_BEAM_RADIOTHERAPY = "external_beam_radiotherapy"
    PRRT = "prrt"
    SSA_LONG_ACTING = "ssa_long_acting"
    SSA_SHORT_ACTING = "ssa_short_acting"
    OTHER = "other"


# C-RECENT-THERAPY-LT12W (NETTER-1 exclusion list; radioembolisation is liver-directed).
_RECENT_THERAPY_KINDS = frozenset(
    {
        TherapyKind.CHEMOTHERAPY,
        TherapyKind.EVEROLIMUS,
        TherapyKind.TARGETED_THERAPY,
        TherapyKind.INTERFERON,
        TherapyKind.INVESTIGATIONAL,
        TherapyKind.SURGERY,
        TherapyKind.LIVER_DIRECTED,
        TherapyKind.RADIOEMBOLISATION,
    }
)


@dataclass(frozen=True, slots=True)
class PriorTherapy:
    """One prior therapy.

    Attributes
    ----------
    kind
        What it was.
    end_date
        Date of the last dose / the procedure (``None`` if unknown).
    myelotoxic
        For chemotherapy: alkylating or otherwise myelotoxic (W-PRIOR-MYELOTOXIC-CHEMO).
    marrow_irradiated_percent
        For external-beam radiotherapy: percentage of bone marrow in the field.
    """

    kind: TherapyKind
    end_date: date | None = None
    myelotoxic: bool | None = None
    marrow_irradiated_percent: float | None = None


# Canonical laboratory fields of EligibilityInput and the analyte whose plausible range they must respect.
_LAB_FIELDS: dict[str, Analyte] = {
    "haemoglobin_g_per_l": Analyte.HAEMOGLOBIN,
    "white_cells_1e9_per_l": Analyte.WHITE_CELLS,
    "platelets_1e9_per_l": Analyte.PLATELETS,
    "neutrophils_1e9_per_l": Analyte.NEUTROPHILS,
    "creatinine_umol_per_l": Analyte.CREATININE,
    "bilirubin_umol_per_l": Analyte.BILIRUBIN,
    "bilirubin_uln_umol_per_l": Analyte.BILIRUBIN,
    "albumin_g_per_l": Analyte.ALBUMIN,
    "prothrombin_percent": Analyte.PROTHROMBIN_PERCENT,
    "inr": Analyte.INR,
}


@dataclass(frozen=True, slots=True)
class EligibilityInput:
    """Everything the eligibility rules read, in canonical units; ``None`` = not given."""

    assessment_date: date
    age_years: float | None = None
    sex: Sex | None = None
    weight_kg: float | None = None
    karnofsky_percent: float | None = None
    ecog: int | None = None
    life_expectancy_months: float | None = None
    pregnancy: PregnancyStatus | None = None
    breastfeeding: bool | None = None
    willing_to_stop_breastfeeding: bool | None = None
    urinary_incontinence: bool | None = None
    heart_failure_uncontrolled: bool | None = None
    brain_metastases: BrainMetastases | None = None
    primary_site: PrimarySite | None = None
    differentiation: Differentiation | None = None
    ki67_percent: float | None = None
    mitoses_per_2mm2: float | None = None
    necrosis: bool | None = None
    resectable: bool | None = None
    peritoneal_carcinomatosis: bool | None = None
    mesenteric_mass: bool | None = None
    liver_tumour_burden_percent: float | None = None
    diffuse_bone_marrow_involvement: bool | None = None
    sstr_modality: SstrModality | None = None
    lesions: tuple[ImagingLesion, ...] | None = None
    fdg_pet_done: bool | None = None
    haemoglobin_g_per_l: float | None = None
    white_cells_1e9_per_l: float | None = None
    platelets_1e9_per_l: float | None = None
    neutrophils_1e9_per_l: float | None = None
    creatinine_umol_per_l: float | None = None
    bilirubin_umol_per_l: float | None = None
    bilirubin_uln_umol_per_l: float | None = None
    albumin_g_per_l: float | None = None
    prothrombin_percent: float | None = None
    inr: float | None = None
    fasting_glucose_x_uln: float | None = None
    prior_therapies: tuple[PriorTherapy, ...] | None = None
    ppq: str | None = None
    netest_percent: float | None = None

    def __post_init__(self) -> None:
        checks: tuple[tuple[str, float | None, float, float], ...] = (
            ("karnofsky_percent", self.karnofsky_percent, 0.0, 100.0),
            ("life_expectancy_months", self.life_expectancy_months, 0.0, 1200.0),
            ("age_years", self.age_years, 0.0, 130.0),
            ("weight_kg", self.weight_kg, 2.0, 400.0),
            ("liver_tumour_burden_percent", self.liver_tumour_burden_percent, 0.0, 100.0),
            ("netest_percent", self.netest_percent, 0.0, 100.0),
            ("fasting_glucose_x_uln", self.fasting_glucose_x_uln, 0.0, 50.0),
        )
        for name, value, low, high in checks:
            if value is not None and (
                isinstance(value, bool) or not math.isfinite(value) or not low <= value <= high
            ):
                raise InvalidInputError(name, value, f"a number between {low:g} and {high:g}")
        for name, analyte in _LAB_FIELDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            rng = plausible_range(analyte)
            if isinstance(value, bool) or not math.isfinite(value) or not rng.contains(value):
                raise InvalidInputError(
                    name,
                    value,
                    f"a plausible {analyte.value} value in {rng.unit} ({rng.low:g}-{rng.high:g})",
                )
        if self.ecog is not None and self.ecog not in ECOG_TO_KARNOFSKY:
            raise InvalidInputError("ecog", self.ecog, "an ECOG performance status 0-5")
        if self.lesions is not None:
            ids = [lesion.lesion_id for lesion in self.lesions]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise InvalidInputError("lesions", duplicates, "unique lesion ids")
        if self.ppq is not None and self.ppq not in ("positive", "negative"):
            raise InvalidInputError("ppq", self.ppq, "'positive' or 'negative'")

    def without(self, name: str) -> EligibilityInput:
        """Return a copy with one optional input removed (``None``; lesions/therapies too)."""
        if name == "assessment_date" or name not in {f.name for f in dataclasses.fields(self)}:
            raise InvalidInputError("name", name, "the name of an optional input field")
        changes: dict[str, Any] = {name: None}
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class EligibilityAssessment:
    """Result of :func:`assess_eligibility`.

    Attributes
    ----------
    verdict
        eligible / needs multidisciplinary review / not eligible.
    profile
        Name of the profile in force.
    outcomes
        Every rule outcome, in the order of ELIG-ALGO.
    grade, netpet, expression
        Grade and imaging scores used by the rules.
    mismatch_lesions
        FDG-positive, SSTR-negative lesions (MISMATCH-1).
    sstr_min_score
        Target-lesion score threshold applied (``None`` when the modality is unknown).
    crcl_ml_per_min, egfr_ml_per_min_1_73m2
        Cockcroft–Gault CrCl (drives the rules) and CKD-EPI 2021 eGFR (display / CTCAE only).
    prior_prrt
        True when a prior PRRT course was reported: route to re-treatment (§8).
    """

    verdict: Verdict
    profile: str
    outcomes: tuple[RuleOutcome, ...]
    grade: GradeAssessment
    netpet: NetpetAssessment
    expression: SstrExpressionAssessment | None
    mismatch_lesions: tuple[str, ...]
    sstr_min_score: int | None
    crcl_ml_per_min: float | None
    egfr_ml_per_min_1_73m2: float | None
    prior_prrt: bool | None

    @property
    def fired(self) -> tuple[str, ...]:
        """Codes of the rules that fired (status FAIL)."""
        return tuple(o.rule_id for o in self.outcomes if o.status is Status.FAIL)

    @property
    def requires_mdt_review(self) -> bool:
        """True when the verdict is "needs multidisciplinary review"."""
        return self.verdict is Verdict.NEEDS_REVIEW

    def outcome(self, rule_id: str) -> RuleOutcome:
        """Return the outcome of ``rule_id`` (``KeyError`` if the rule was not evaluated)."""
        for item in self.outcomes:
            if item.rule_id == rule_id:
                return item
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "verdict": self.verdict.value,
            "profile": self.profile,
            "fired": list(self.fired),
            "sstr_min_score": self.sstr_min_score,
            "crcl_ml_per_min": self.crcl_ml_per_min,
            "egfr_ml_per_min_1_73m2": self.egfr_ml_per_min_1_73m2,
            "prior_prrt": self.prior_prrt,
            "mismatch_lesions": list(self.mismatch_lesions),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


def sstr_min_score(profile: Profile, modality: SstrModality | None) -> int | None:
    """Return the target-lesion score threshold of the profile for an SSTR modality.

    Examples
    --------
    >>> sstr_min_score(get_profile("PET_STRICT"), SstrModality.PET)
    3
    >>> sstr_min_score(get_profile("PET_STRICT"), SstrModality.PLANAR)
    2
    """
    if modality is None:
        return None
    if modality is SstrModality.PET:
        return profile.sstr_min_score_pet
    return profile.sstr_min_score_scintigraphy


# --- rule helpers ------------------------------------------------------------------------------


class _Rules:
    """Collects outcomes for one profile."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.items: list[RuleOutcome] = []

    def add(
        self,
        rule_id: str,
        status: Status,
        *,
        observed: float | str | bool | None,
        threshold: float | str | None = None,
        operator: str | None = None,
        unit: str | None = None,
        source: str,
        severity: Severity,
        message: str,
    ) -> None:
        self.items.append(
            RuleOutcome(
                rule_id=rule_id,
                status=status,
                observed=observed,
                threshold=threshold,
                unit=unit,
                source=source,
                severity=severity,
                operator=operator,
                profile=self.profile.name,
                message=message,
            )
        )

    def flag(
        self,
        rule_id: str,
        condition: bool | None,
        *,
        observed: float | str | bool | None,
        source: str,
        severity: Severity,
        fired: str,
        cleared: str,
        missing: str,
        applies: bool | None = True,
    ) -> None:
        """Add a yes/no rule: ``condition`` True fires, False passes, None is indeterminate."""
        if applies is False:
            status, message = Status.NOT_APPLICABLE, cleared
        elif condition is None or (condition and applies is None):
            status, message = Status.INDETERMINATE, missing
        elif condition:
            status, message = Status.FAIL, fired
        else:
            status, message = Status.PASS, cleared
        self.add(
            rule_id, status, observed=observed, source=source, severity=severity, message=message
        )

    def numeric(
        self,
        threshold: Threshold,
        value: float | tuple[float, float] | None,
        *,
        label: str,
        applies: bool | None = True,
        lower: Threshold | None = None,
        observed_text: str | None = None,
        note: str = "",
        not_applicable: str = "",
    ) -> None:
        """Add a threshold rule; ``value`` may be a (low, high) band (ECOG → Karnofsky).

        With ``lower`` the rule is a band: it fires only where ``lower`` does not
        (values below the band are left to the stricter rule: not applicable).
        """
        t = threshold
        req = f"{t.requirement} {t.value:g} {t.unit}".strip()
        observed: float | str | None
        if isinstance(value, tuple):
            observed = observed_text
        elif value is not None and math.isinf(value):
            observed, observed_text = "none", "none"
        else:
            observed = value
        if applies is False:
            status = Status.NOT_APPLICABLE
            message = not_applicable or f"{label}: not applicable"
        elif value is None:
            status = Status.INDETERMINATE
            message = f"{label}: missing; required {req}"
        else:
            ends = value if isinstance(value, tuple) else (value, value)
            statuses = {self._band_status(t, lower, x) for x in ends}
            status = statuses.pop() if len(statuses) == 1 else Status.INDETERMINATE
            if status is Status.FAIL and applies is None:
                status = Status.INDETERMINATE
            shown = observed_text if observed_text is not None else f"{value:g} {t.unit}".strip()
            if status is Status.FAIL:
                message = f"{label} {shown}: fires ({t.fail_when} {t.value:g} {t.unit})".strip()
            elif status is Status.PASS:
                message = f"{label} {shown}: meets {req}"
            elif status is Status.NOT_APPLICABLE:
                message = f"{label} {shown}: below the band, see {lower.rule_id if lower else ''}"
            else:
                message = f"{label} {shown}: cannot be decided"
        if note:
            message = f"{message}; {note}"
        self.add(
            t.rule_id,
            status,
            observed=observed,
            threshold=t.value,
            operator=t.requirement,
            unit=t.unit,
            source=t.source,
            severity=t.severity,
            message=message,
        )

    @staticmethod
    def _band_status(t: Threshold, lower: Threshold | None, x: float) -> Status:
        if lower is not None and lower.fires(x):
            return Status.NOT_APPLICABLE
        return Status.FAIL if t.fires(x) else Status.PASS


# --- the algorithm -----------------------------------------------------------------------------


def _high_grade(grade: GradeAssessment, profile: Profile) -> bool | None:
    if (
        grade.high_grade is None
        and grade.single_index
        and profile.single_index_high_grade == "use_available_index"
        and grade.category in (TumourCategory.NET_G1, TumourCategory.NET_G2)
    ):
        return False
    return grade.high_grade


def assess_eligibility(
    inp: EligibilityInput, profile: Profile | None = None
) -> EligibilityAssessment:
    """Apply the eligibility rules of §3.2 (ELIG-ALGO) to one patient.

    Parameters
    ----------
    inp
        Patient, tumour, imaging, laboratory and history data in canonical units.
    profile
        Decision profile; ``PRRT-DEFAULT-1`` when omitted.

    Returns
    -------
    EligibilityAssessment
        Verdict and every rule outcome.

    Examples
    --------
    >>> from datetime import date
    >>> res = assess_eligibility(EligibilityInput(assessment_date=date(2025, 1, 6), platelets_1e9_per_l=74.0))
    >>> res.outcome("X-PLT-LT75").status.value, res.verdict.value
    ('fail', 'not_eligible')
    """
    profile = profile or get_profile()
    rules = _Rules(profile)
    th = profile.threshold

    # Pregnancy, lactation, age (§3.2 first block).
    male = inp.sex is Sex.MALE
    preg = inp.pregnancy
    if preg is None and male:
        preg = PregnancyStatus.NOT_APPLICABLE
    rules.flag(
        "X-PREGNANT",
        None
        if preg is None
        else preg
        in (PregnancyStatus.PREGNANT, PregnancyStatus.SUSPECTED, PregnancyStatus.NOT_EXCLUDED),
        observed=preg.value if preg else None,
        source="EU SmPC contraindication (pregnancy established, suspected or not excluded); US PI: verify status",
        severity=Severity.EXCLUSION,
        fired="pregnancy established, suspected or not excluded",
        cleared="pregnancy excluded or not applicable",
        missing="pregnancy status missing: verify before treatment",
    )
    if male:
        bf: bool | None = False
    elif inp.breastfeeding is None:
        bf = None
    elif not inp.breastfeeding:
        bf = False
    else:
        bf = (
            None
            if inp.willing_to_stop_breastfeeding is None
            else not inp.willing_to_stop_breastfeeding
        )
    rules.flag(
        "X-BREASTFEEDING",
        bf,
        observed=inp.breastfeeding,
        source="US PI: no breastfeeding during treatment and 2.5 months after; EU SmPC: wean",
        severity=Severity.EXCLUSION,
        fired="breastfeeding and not willing to stop",
        cleared="not breastfeeding, or willing to stop",
        missing="breastfeeding status (or willingness to stop) missing",
    )
    rules.numeric(th("X-AGE-LT12"), inp.age_years, label="age")
    rules.numeric(th("C-AGE-12-17"), inp.age_years, label="age", lower=th("X-AGE-LT12"))

    # Grade and primary site (§1, §3.2).
    grade = who_grade(
        ki67_percent=inp.ki67_percent,
        mitoses_per_2mm2=inp.mitoses_per_2mm2,
        differentiation=inp.differentiation,
        primary_site=inp.primary_site,
        necrosis=inp.necrosis,
    )
    rules.flag(
        "C-PRIMARY-OFF-LABEL",
        None if inp.primary_site is None else not inp.primary_site.is_gep,
        observed=inp.primary_site.value if inp.primary_site else None,
        source="Lutathera US PI and EU SmPC: GEP-NET indication",
        severity=Severity.CAUTION,
        fired="primary is not gastroenteropancreatic: off-label",
        cleared="GEP primary (on-label site)",
        missing="primary site missing",
    )
    if grade.single_index:
        rules.add(
            "W-GRADE-SINGLE-INDEX",
            Status.FAIL,
            observed=grade.category.value,
            source="WHO-2: grade from a single index is flagged",
            severity=Severity.WARNING,
            message="; ".join(grade.notes),
        )
    high = _high_grade(grade, profile)
    is_nec = grade.category is TumourCategory.NEC
    if not profile.nec_treated_like_net_g3:
        rules.flag(
            "X-NEC-NOT-TREATED-LIKE-G3",
            None if inp.differentiation is None else is_nec,
            observed=grade.category.value,
            source=profile.sources["nec_treated_like_net_g3"],
            severity=Severity.EXCLUSION,
            fired="NEC: not treated like NET G3 under this profile",
            cleared="not NEC",
            missing="differentiation missing: NEC not excluded",
        )
    ki_x = th("X-HIGHGRADE-KI67-GE55")
    if profile.g3_ki67_upper_bound_inclusive:
        ki_x = dataclasses.replace(
            ki_x, fail_when=">", source=profile.sources["g3_ki67_upper_bound_inclusive"]
        )
    grade_note = f"grade {grade.category.value}"
    rules.numeric(
        ki_x,
        inp.ki67_percent,
        label="Ki-67",
        applies=high,
        note=grade_note,
        not_applicable="not NET G3/NEC",
    )
    _g3_caution(rules, th("C-G3-KI67-LT55"), ki_x, inp.ki67_percent, high, grade_note)

    # SSTR imaging, NETPET, heterogeneity (§2).
    min_score = sstr_min_score(profile, inp.sstr_modality)
    _sstr_target_rule(rules, th("X-SSTR-TARGET-BELOW-THRESHOLD"), inp, profile, min_score)
    netpet = netpet_grade(inp.lesions or (), fdg_pet_done=bool(inp.fdg_pet_done))
    _netpet_rules(rules, netpet, inp)
    _fdg_recommended(rules, th("W-FDG-PET-RECOMMENDED"), inp, high)
    expression = _heterogeneity_rules(rules, inp, profile, min_score)

    # Performance status, life expectancy, resectability.
    kps, kps_text = _karnofsky(inp)
    rules.numeric(th("X-KPS-LT50"), kps, label="Karnofsky", observed_text=kps_text)
    rules.numeric(
        th("X-G3-KPS-LE50"),
        kps,
        label="Karnofsky",
        observed_text=kps_text,
        applies=high,
        note=grade_note,
        not_applicable="not NET G3/NEC",
    )
    rules.numeric(
        th("C-KPS-50"),
        kps,
        label="Karnofsky",
        observed_text=kps_text,
        lower=th("X-KPS-LT50"),
        applies=None if high is None else not high,
        not_applicable="NET G3/NEC: see X-G3-KPS-LE50 and C-G3-KI67-LT55",
    )
    rules.numeric(th("X-LIFE-EXP-LT3M"), inp.life_expectancy_months, label="life expectancy")
    rules.numeric(
        th("C-LIFE-EXP-3-6M"),
        inp.life_expectancy_months,
        label="life expectancy",
        lower=th("X-LIFE-EXP-LT3M"),
    )
    rules.flag(
        "C-RESECTABLE-DISEASE",
        inp.resectable,
        observed=inp.resectable,
        source="EU SmPC: unresectable or metastatic disease; seed G3 rule: unresectable",
        severity=Severity.CAUTION,
        fired="disease judged resectable with curative intent: PRRT is not standard (neoadjuvant PRRT is investigational)",
        cleared="unresectable or metastatic disease",
        missing="resectability not stated",
    )

    # Laboratory values.
    crcl, egfr = _renal_values(inp)
    _lab_rules(rules, inp, profile, crcl)

    # History and disease extent.
    prior_prrt = _history_rules(rules, inp, profile)
    _extent_rules(rules, inp, profile)
    _information(rules, inp)

    outcomes = tuple(rules.items)
    return EligibilityAssessment(
        verdict=combine_verdict(outcomes),
        profile=profile.name,
        outcomes=outcomes,
        grade=grade,
        netpet=netpet,
        expression=expression,
        mismatch_lesions=mismatch_lesions(inp.lesions or ()),
        sstr_min_score=min_score,
        crcl_ml_per_min=crcl,
        egfr_ml_per_min_1_73m2=egfr,
        prior_prrt=prior_prrt,
    )


def _g3_caution(
    rules: _Rules,
    t: Threshold,
    ki_x: Threshold,
    ki67: float | None,
    high: bool | None,
    note: str,
) -> None:
    """C-G3-KI67-LT55: high grade and Ki-67 below the exclusion limit, or Ki-67 missing."""
    req = f"Ki-67 {ki_x.fail_when} {ki_x.value:g} %"
    if ki67 is not None and ki_x.fires(ki67):
        status, message = Status.NOT_APPLICABLE, f"Ki-67 {ki67:g} %: excluded by {ki_x.rule_id}"
    elif high is False:
        status, message = Status.NOT_APPLICABLE, "not NET G3/NEC"
    elif high is None:
        status, message = Status.INDETERMINATE, f"{note}: NET G3/NEC cannot be excluded"
    elif ki67 is None:
        status, message = (
            Status.FAIL,
            f"{note} with Ki-67 missing: PRRT only as an MDT decision (off-label in the EU)",
        )
    else:
        status = Status.FAIL
        message = f"{note}, Ki-67 {ki67:g} % (not {req}): PRRT may be considered; MDT decision (off-label in the EU)"
    rules.add(
        t.rule_id,
        status,
        observed=ki67,
        threshold=ki_x.value,
        operator=ki_x.requirement,
        unit="%",
        source=t.source,
        severity=t.severity,
        message=message,
    )


def _sstr_target_rule(
    rules: _Rules, t: Threshold, inp: EligibilityInput, profile: Profile, min_score: int | None
) -> None:
    """X-SSTR-TARGET-BELOW-THRESHOLD (SSTR-3 / SSTR-4)."""
    low = min(profile.sstr_min_score_pet, profile.sstr_min_score_scintigraphy)
    high = max(profile.sstr_min_score_pet, profile.sstr_min_score_scintigraphy)
    lo_thr, hi_thr = (min_score, min_score) if min_score is not None else (low, high)
    targets = [lesion for lesion in (inp.lesions or ()) if lesion.target]
    scores = [lesion.sstr_score for lesion in targets]
    known = [s for s in scores if s is not None]
    observed: float | None = float(min(known)) if known else None
    modality = inp.sstr_modality.value if inp.sstr_modality else "unknown modality"
    below = [
        lesion.lesion_id
        for lesion in targets
        if lesion.sstr_score is not None and lesion.sstr_score < lo_thr
    ]
    if inp.lesions is None:
        status, message = Status.INDETERMINATE, "SSTR imaging missing"
    elif not targets:
        status, message = Status.INDETERMINATE, "no target lesion marked on SSTR imaging"
    elif below:
        status = Status.FAIL
        message = f"target lesion(s) {', '.join(below)} below score {lo_thr} on {modality}"
    elif len(known) < len(scores):
        status, message = Status.INDETERMINATE, "a target lesion has no SSTR score"
    elif observed is not None and observed >= hi_thr:
        status = Status.PASS
        message = f"all target lesions score >= {hi_thr} on {modality} (lowest {observed:g})"
    else:
        status, message = (
            Status.INDETERMINATE,
            "SSTR modality missing: threshold 2 or 3 cannot be chosen",
        )
    source = t.source if min_score != 3 else profile.sources["sstr_min_score_pet"]
    rules.add(
        t.rule_id,
        status,
        observed=observed,
        threshold=float(min_score) if min_score is not None else None,
        operator=">=",
        unit="Krenning score",
        source=source,
        severity=t.severity,
        message=message,
    )


def _netpet_rules(rules: _Rules, netpet: NetpetAssessment, inp: EligibilityInput) -> None:
    """X-NETPET-P5, X-NETPET-P0, C-NETPET-P4 (NETPET-1)."""
    source = (
        "NETPET-1: Chan et al., Theranostics 2017;7(5):1149-58 (review table, Cancer Imaging 2022)"
    )
    for rule_id, grade, severity in (
        ("X-NETPET-P5", NetpetGrade.P5, Severity.EXCLUSION),
        ("X-NETPET-P0", NetpetGrade.P0, Severity.EXCLUSION),
        ("C-NETPET-P4", NetpetGrade.P4, Severity.CAUTION),
    ):
        if inp.fdg_pet_done is None:
            status, message = Status.INDETERMINATE, "FDG PET status missing (done or not done)"
        elif not inp.fdg_pet_done:
            status, message = (
                Status.NOT_APPLICABLE,
                "FDG PET not done: NETPET not assessable (see FDG-1)",
            )
        elif netpet.grade is grade:
            status = Status.FAIL
            message = f"NETPET {grade.name} ({netpet.suitability})"
            if netpet.deciding_lesions:
                message += f"; lesion(s) {', '.join(netpet.deciding_lesions)}"
            if grade is NetpetGrade.P4:
                message += f"; {netpet.p4_lesion_count} lesion(s) with FDG > SSTR"
        elif grade not in netpet.possible:
            status, message = Status.PASS, f"NETPET {netpet.label}"
        else:
            status, message = Status.INDETERMINATE, f"NETPET {netpet.label}: readings missing"
        rules.add(
            rule_id,
            status,
            observed=netpet.label,
            threshold=grade.name,
            operator="!=",
            unit=None,
            source=source,
            severity=severity,
            message=message,
        )


def _fdg_recommended(rules: _Rules, t: Threshold, inp: EligibilityInput, high: bool | None) -> None:
    """W-FDG-PET-RECOMMENDED (FDG-1)."""
    ki = inp.ki67_percent
    if high is True or (ki is not None and t.fires(ki)):
        needed: bool | None = True
    elif high is False and ki is not None:
        needed = False
    else:
        needed = None
    done = inp.fdg_pet_done
    if done is True:
        status, message = Status.PASS, "FDG PET done"
    elif done is None:
        status, message = Status.INDETERMINATE, "FDG PET status missing"
    elif needed is True:
        status, message = (
            Status.FAIL,
            "G3/NEC or Ki-67 > 10 % without FDG PET: FDG PET recommended before PRRT",
        )
    elif needed is False:
        status, message = Status.PASS, "FDG PET not required for this grade"
    else:
        status, message = Status.INDETERMINATE, "grade unknown and no FDG PET"
    rules.add(
        t.rule_id,
        status,
        observed=ki,
        threshold=t.value,
        operator=t.requirement,
        unit="%",
        source=t.source,
        severity=t.severity,
        message=message,
    )


def _heterogeneity_rules(
    rules: _Rules, inp: EligibilityInput, profile: Profile, min_score: int | None
) -> SstrExpressionAssessment | None:
    """C-SSTR-HETEROGENEOUS (HET-2) and W-SMALL-LESION-BELOW-THRESHOLD (HET-3)."""
    t_sig = profile.threshold("C-SSTR-HETEROGENEOUS")
    t_small = profile.threshold("W-SMALL-LESION-BELOW-THRESHOLD")
    expression: SstrExpressionAssessment | None = None
    if inp.lesions is None:
        sig_status, sig_msg = Status.INDETERMINATE, "SSTR imaging missing"
        small_status, small_msg = Status.INDETERMINATE, "SSTR imaging missing"
    else:
        # With the modality unknown both thresholds are tried: the rule fires only if both agree.
        strict = max(profile.sstr_min_score_pet, profile.sstr_min_score_scintigraphy)
        lenient = min(profile.sstr_min_score_pet, profile.sstr_min_score_scintigraphy)
        score = min_score if min_score is not None else strict
        expression = sstr_expression(inp.lesions, min_score=score, size_floor_mm=t_sig.value)
        sure = expression
        if min_score is None:
            sure = sstr_expression(inp.lesions, min_score=lenient, size_floor_mm=t_sig.value)
        if sure.significant_lesions:
            sig_status = Status.FAIL
            sig_msg = (
                f"non-target lesion(s) {', '.join(sure.significant_lesions)} >= {t_sig.value:g} mm "
                f"below score {sure.min_score}: heterogeneous SSTR expression; consider FDG PET and/or biopsy"
            )
        elif expression.significant_lesions or expression.possibly_significant_lesions:
            sig_status = Status.INDETERMINATE
            sig_msg = "lesion score, size or SSTR modality missing: heterogeneity not decided"
        else:
            sig_status = Status.PASS
            sig_msg = f"no non-target lesion >= {t_sig.value:g} mm below score {score}"
        sizes = {lesion.lesion_id: lesion.size_mm for lesion in inp.lesions}
        if expression.small_lesions:
            small_status = Status.FAIL
            small_msg = f"lesion(s) {', '.join(expression.small_lesions)} < {t_small.value:g} mm below score {score}"
        elif expression.possibly_small_lesions or any(
            sizes.get(lid) is None for lid in expression.possibly_significant_lesions
        ):
            small_status, small_msg = Status.INDETERMINATE, "small lesion(s) without SSTR score"
        else:
            small_status, small_msg = (
                Status.PASS,
                f"no lesion < {t_small.value:g} mm below score {score}",
            )
    rules.add(
        t_sig.rule_id,
        sig_status,
        observed=expression.pattern.value if expression else None,
        threshold=t_sig.value,
        operator="<",
        unit="mm",
        source=t_sig.source,
        severity=t_sig.severity,
        message=sig_msg,
    )
    rules.add(
        t_small.rule_id,
        small_status,
        observed=expression.pattern.value if expression else None,
        threshold=t_small.value,
        operator=">=",
        unit="mm",
        source=t_small.source,
        severity=t_small.severity,
        message=small_msg,
    )
    return expression


def _karnofsky(inp: EligibilityInput) -> tuple[float | tuple[float, float] | None, str | None]:
    if inp.karnofsky_percent is not None:
        return inp.karnofsky_percent, f"{inp.karnofsky_percent:g} %"
    if inp.ecog is not None:
        lo, hi = ECOG_TO_KARNOFSKY[inp.ecog]
        return (lo, hi), f"ECOG {inp.ecog} (Karnofsky {lo:g}-{hi:g} %)"
    return None, None


def _renal_values(inp: EligibilityInput) -> tuple[float | None, float | None]:
    scr, age, sex = inp.creatinine_umol_per_l, inp.age_years, inp.sex
    if scr is None or age is None or sex is None:
        return None, None
    with warnings.catch_warnings():
        # The adult-only warning of the renal equations is reported by the caller, once.
        warnings.simplefilter("ignore", NonConformingInputWarning)
        egfr = egfr_ckd_epi_2021(creatinine_umol_per_l=scr, age_years=age, sex=sex)
        crcl = (
            creatinine_clearance_cockcroft_gault(
                creatinine_umol_per_l=scr, age_years=age, weight_kg=inp.weight_kg, sex=sex
            )
            if inp.weight_kg is not None
            else None
        )
    return crcl, egfr


def _opt_clean(value: float | None) -> float | None:
    return None if value is None else _clean(value)


def _lab_rules(rules: _Rules, inp: EligibilityInput, profile: Profile, crcl: float | None) -> None:
    th = profile.threshold
    rules.numeric(th("X-HB-LT8"), _opt_clean(inp.haemoglobin_g_per_l), label="haemoglobin")
    rules.numeric(th("X-WBC-LT2"), _opt_clean(inp.white_cells_1e9_per_l), label="WBC")
    rules.numeric(th("X-PLT-LT75"), _opt_clean(inp.platelets_1e9_per_l), label="platelets")
    rules.numeric(th("W-ANC-LT1"), _opt_clean(inp.neutrophils_1e9_per_l), label="ANC")
    rules.numeric(th("X-CRCL-LT30"), crcl, label="CrCl (Cockcroft-Gault, actual weight)")
    note = ""
    if profile.eu_renal_subband_text and crcl is not None and 30.0 <= crcl < 50.0:
        note = (
            "EU: not recommended below 40 mL/min"
            if crcl < 40.0
            else "EU: careful benefit-risk from 40 mL/min (hyperkalaemia risk of amino acids)"
        )
    rules.numeric(
        th("C-CRCL-30-49"),
        crcl,
        label="CrCl (Cockcroft-Gault, actual weight)",
        lower=th("X-CRCL-LT30"),
        note=note,
    )
    rules.numeric(
        th("C-SCR-GT150"), _opt_clean(inp.creatinine_umol_per_l), label="serum creatinine"
    )

    bili_ratio = None
    if inp.bilirubin_umol_per_l is not None and inp.bilirubin_uln_umol_per_l is not None:
        if not inp.bilirubin_uln_umol_per_l > 0:
            raise InvalidInputError(
                "labs.bilirubin.uln",
                inp.bilirubin_uln_umol_per_l,
                "a positive upper limit of normal",
            )
        bili_ratio = _clean(inp.bilirubin_umol_per_l / inp.bilirubin_uln_umol_per_l)
    rules.numeric(
        th("X-BILI-GT3ULN"),
        bili_ratio,
        label="total bilirubin",
        note=""
        if bili_ratio is not None or inp.bilirubin_umol_per_l is None
        else "upper limit of normal missing",
    )

    # Albumin with prothrombin (§3.2 "Prothrombin abnormal" [P]).
    pt_abnormal: bool | None
    if inp.prothrombin_percent is not None:
        pt_abnormal = th("PT-ABNORMAL-PERCENT").fires(_clean(inp.prothrombin_percent))
        pt_text = f"PT activity {inp.prothrombin_percent:g} % (abnormal < 70 %)"
    elif inp.inr is not None and profile.inr_fallback:
        pt_abnormal = th("PT-ABNORMAL-INR").fires(_clean(inp.inr))
        pt_text = f"INR {inp.inr:g} (abnormal > 1.5; PT activity not given)"
    else:
        pt_abnormal, pt_text = None, "prothrombin not given"
    alb = _opt_clean(inp.albumin_g_per_l)
    t_x, t_w = th("X-ALB-LT30-PT-ABNORMAL"), th("W-ALB-LT30-PT-NORMAL")
    low_alb = None if alb is None else t_x.fires(alb)
    for t, fires_when_abnormal in ((t_x, True), (t_w, False)):
        if low_alb is None:
            status, msg = Status.INDETERMINATE, "albumin missing"
        elif not low_alb:
            status, msg = Status.PASS, f"albumin {alb:g} g/L meets >= 30 g/L"
        elif pt_abnormal is None:
            status, msg = Status.INDETERMINATE, f"albumin {alb:g} g/L < 30 g/L; {pt_text}"
        elif pt_abnormal is fires_when_abnormal:
            status, msg = Status.FAIL, f"albumin {alb:g} g/L < 30 g/L with {pt_text}"
        else:
            status, msg = (
                Status.NOT_APPLICABLE,
                f"albumin {alb:g} g/L < 30 g/L; {pt_text}: see the other albumin rule",
            )
        rules.add(
            t.rule_id,
            status,
            observed=alb,
            threshold=t.value,
            operator=t.requirement,
            unit=t.unit,
            source=t.source,
            severity=t.severity,
            message=msg,
        )
    rules.numeric(
        th("C-DIABETES-UNCONTROLLED"),
        _opt_clean(inp.fasting_glucose_x_uln),
        label="fasting glucose",
    )


def _weeks_between(earlier: date, later: date) -> float:
    return (later - earlier).days / _DAYS_PER_WEEK


def _history_rules(rules: _Rules, inp: EligibilityInput, profile: Profile) -> bool | None:
    th = profile.threshold
    therapies = inp.prior_therapies
    ref = inp.assessment_date

    def latest(
        items: tuple[PriorTherapy, ...], kinds: frozenset[TherapyKind]
    ) -> tuple[float | None, bool]:
        """Weeks since the most recent therapy of ``kinds``; flag True if a date is missing."""
        relevant = [t for t in items if t.kind in kinds]
        dated = [t.end_date for t in relevant if t.end_date is not None]
        undated = len(dated) < len(relevant)
        if not dated:
            return None, undated
        return _clean(_weeks_between(max(dated), ref)), undated

    if therapies is None:
        for rule_id in (
            "C-RECENT-THERAPY-LT12W",
            "C-EBRT-MARROW-GT25",
            "W-SSA-LAR-WASHOUT",
            "W-SSA-SHORT-WASHOUT",
        ):
            rules.numeric(th(rule_id), None, label="prior therapy history")
        prior_prrt: bool | None = None
    else:
        weeks, undated = latest(therapies, _RECENT_THERAPY_KINDS)
        if weeks is None:
            value: float | None = None if undated else math.inf
        else:
            value = weeks
        if weeks is not None and undated and not th("C-RECENT-THERAPY-LT12W").fires(weeks):
            value = None  # an undated therapy could be recent
        rules.numeric(
            th("C-RECENT-THERAPY-LT12W"),
            value,
            label="weeks since chemotherapy/targeted/interferon/investigational/surgery/liver-directed therapy",
            observed_text="none" if value == math.inf else None,
        )
        ebrt = [t for t in therapies if t.kind is TherapyKind.EXTERNAL_BEAM_RADIOTHERAPY]
        fractions = [t.marrow_irradiated_percent for t in ebrt]
        known_fr = [f for f in fractions if f is not None]
        marrow: float | None
        if not ebrt:
            marrow = 0.0
        elif len(known_fr) == len(fractions) or (
            known_fr and th("C-EBRT-MARROW-GT25").fires(max(known_fr))
        ):
            marrow = max(known_fr) if known_fr else None
        else:
            marrow = None
        rules.numeric(th("C-EBRT-MARROW-GT25"), marrow, label="bone marrow irradiated")
        lar_weeks, lar_undated = latest(therapies, frozenset({TherapyKind.SSA_LONG_ACTING}))
        rules.numeric(
            th("W-SSA-LAR-WASHOUT"),
            None if lar_undated else (lar_weeks if lar_weeks is not None else math.inf),
            label="weeks since long-acting SSA",
        )
        short = [t for t in therapies if t.kind is TherapyKind.SSA_SHORT_ACTING]
        short_dates = [t.end_date for t in short if t.end_date is not None]
        short_undated = len(short_dates) < len(short)
        short_days = float((ref - max(short_dates)).days) if short_dates else None
        note = (
            "dates only: a dose the day before may be < 24 h before; check the time"
            if short_days == 1.0
            else ""
        )
        rules.numeric(
            th("W-SSA-SHORT-WASHOUT"),
            None if short_undated else (short_days if short_days is not None else math.inf),
            label="days since short-acting SSA",
            note=note,
        )
        prior_prrt = any(t.kind is TherapyKind.PRRT for t in therapies)

    chemo = (
        None if therapies is None else [t for t in therapies if t.kind is TherapyKind.CHEMOTHERAPY]
    )
    myelo: bool | None
    if chemo is None:
        myelo = None
    elif any(t.myelotoxic is True for t in chemo):
        myelo = True
    elif any(t.myelotoxic is None for t in chemo):
        myelo = None
    else:
        myelo = False
    rules.flag(
        "W-PRIOR-MYELOTOXIC-CHEMO",
        myelo,
        observed=myelo,
        source="EU SmPC [R]: prior myelotoxic (alkylating) chemotherapy raises MDS/AML risk",
        severity=Severity.WARNING,
        fired="prior alkylating/myelotoxic chemotherapy: MDS/AML risk",
        cleared="no prior myelotoxic chemotherapy",
        missing="prior therapy history, or whether a chemotherapy was myelotoxic, missing",
    )
    rules.flag(
        "W-PRIOR-RADIOEMBOLISATION",
        None
        if therapies is None
        else any(t.kind is TherapyKind.RADIOEMBOLISATION for t in therapies),
        observed=None
        if therapies is None
        else any(t.kind is TherapyKind.RADIOEMBOLISATION for t in therapies),
        source="NANETS/SNMMI 2020 [R]",
        severity=Severity.WARNING,
        fired="prior 90Y radioembolisation: hepatotoxicity risk",
        cleared="no prior radioembolisation",
        missing="prior therapy history missing",
    )
    rules.flag(
        "RT-PRIOR-PRRT",
        prior_prrt,
        observed=prior_prrt,
        source="ELIG-ALGO: prior PRRT routes to the re-treatment rules of §8",
        severity=Severity.INFORMATION,
        fired="prior PRRT: re-treatment pathway (§8)",
        cleared="no prior PRRT",
        missing="prior therapy history missing",
    )
    rules.flag(
        "C-BRAIN-METS-UNSTABLE",
        None
        if inp.brain_metastases is None
        else inp.brain_metastases is BrainMetastases.UNTREATED_OR_UNSTABLE,
        observed=inp.brain_metastases.value if inp.brain_metastases else None,
        source="NETTER-1 exclusion: untreated or unstable brain metastases",
        severity=Severity.CAUTION,
        fired="brain metastases untreated or not stable",
        cleared="no brain metastases, or treated and stable",
        missing="brain metastasis status missing",
    )
    rules.flag(
        "C-CHF-UNCONTROLLED",
        inp.heart_failure_uncontrolled,
        observed=inp.heart_failure_uncontrolled,
        source="NETTER-1 exclusion: uncontrolled heart failure (NYHA II-IV); EU: NYHA III-IV not recommended",
        severity=Severity.CAUTION,
        fired="uncontrolled heart failure (amino-acid fluid load)",
        cleared="no uncontrolled heart failure",
        missing="heart failure status missing",
    )
    return prior_prrt


def _extent_rules(rules: _Rules, inp: EligibilityInput, profile: Profile) -> None:
    """Disease-extent rules; their class is the profile's ``disease_extent_severity``."""
    severity = (
        Severity.CAUTION if profile.disease_extent_severity == "caution" else Severity.WARNING
    )
    t_liver = dataclasses.replace(profile.threshold("W-LIVER-BURDEN-GT50"), severity=severity)
    perit: bool | None
    if inp.peritoneal_carcinomatosis is True or inp.mesenteric_mass is True:
        perit = True
    elif inp.peritoneal_carcinomatosis is None or inp.mesenteric_mass is None:
        perit = None
    else:
        perit = False
    rules.flag(
        "W-PERITONEAL-MESENTERIC",
        perit,
        observed=perit,
        source="Seed ref 17; Strosberg et al., J Nucl Med 2021 [R]: bowel obstruction/ascites risk",
        severity=severity,
        fired="peritoneal carcinomatosis or mesenteric mass: bowel obstruction risk; consider low-dose steroid prophylaxis for 2-4 weeks",
        cleared="no peritoneal/mesenteric disease",
        missing="peritoneal/mesenteric disease status missing",
    )
    rules.numeric(t_liver, inp.liver_tumour_burden_percent, label="hepatic tumour burden")
    rules.flag(
        "W-DIFFUSE-BONE-MARROW",
        inp.diffuse_bone_marrow_involvement,
        observed=inp.diffuse_bone_marrow_involvement,
        source="EU SmPC / IAEA 2013 risk factor [R]",
        severity=severity,
        fired="diffuse bone-marrow involvement: haematotoxicity risk",
        cleared="no diffuse bone-marrow involvement",
        missing="bone-marrow involvement status missing",
    )
    rules.flag(
        "W-URINARY-INCONTINENCE",
        inp.urinary_incontinence,
        observed=inp.urinary_incontinence,
        source="NETTER-1 exclusion [R]: contamination risk",
        severity=Severity.WARNING,
        fired="urinary incontinence: radioactive contamination risk",
        cleared="continent",
        missing="continence status missing",
    )


def _information(rules: _Rules, inp: EligibilityInput) -> None:
    """PPQ and NETest: shown, never a gate."""
    if inp.ppq is not None:
        rules.add(
            "I-PPQ",
            Status.NOT_APPLICABLE,
            observed=inp.ppq,
            source="PRRT predictive quotient (Bodei et al., 2018) [R]; informational only",
            severity=Severity.INFORMATION,
            message=f"PPQ {inp.ppq}: informational, not used as a gate",
        )
    if inp.netest_percent is not None:
        rules.add(
            "I-NETEST",
            Status.NOT_APPLICABLE,
            observed=inp.netest_percent,
            unit="%",
            source="NETest multi-analyte blood assay (Modlin et al.) [R]; informational only",
            severity=Severity.INFORMATION,
            message=f"NETest {inp.netest_percent:g} %: informational, not used as a gate",
        )
