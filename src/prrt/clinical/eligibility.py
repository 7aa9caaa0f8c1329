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
from dataclasses import dataclass
from typing import Any

from prrt.clinical import _eligibility_labs as labs_rules
from prrt.clinical import _eligibility_rules as r
from prrt.clinical.eligibility_input import (
    ECOG_TO_KARNOFSKY,
    BrainMetastases,
    EligibilityInput,
    PregnancyStatus,
    PriorTherapy,
    TherapyKind,
)
from prrt.clinical.grading import GradeAssessment, TumourCategory, who_grade
from prrt.clinical.imaging_scores import (
    NetpetAssessment,
    SstrExpressionAssessment,
    SstrModality,
    mismatch_lesions,
    netpet_grade,
)
from prrt.clinical.outcome import RuleOutcome, Severity, Status, Verdict, combine_verdict
from prrt.clinical.profiles import Profile, get_profile
from prrt.clinical.renal import Sex

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
    rules = r.Rules(profile)
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
    r.g3_caution(rules, th("C-G3-KI67-LT55"), ki_x, inp.ki67_percent, high, grade_note)

    # SSTR imaging, NETPET, heterogeneity (§2).
    min_score = sstr_min_score(profile, inp.sstr_modality)
    r.sstr_target_rule(rules, th("X-SSTR-TARGET-BELOW-THRESHOLD"), inp, profile, min_score)
    netpet = netpet_grade(inp.lesions or (), fdg_pet_done=bool(inp.fdg_pet_done))
    r.netpet_rules(rules, netpet, inp)
    r.fdg_recommended(rules, th("W-FDG-PET-RECOMMENDED"), inp, high)
    expression = r.heterogeneity_rules(rules, inp, profile, min_score)

    # Performance status, life expectancy, resectability.
    kps, kps_text = r.karnofsky(inp)
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
    crcl, egfr = labs_rules.renal_values(inp)
    labs_rules.lab_rules(rules, inp, profile, crcl)

    # History and disease extent.
    prior_prrt = labs_rules.history_rules(rules, inp, profile)
    labs_rules.extent_rules(rules, inp, profile)
    labs_rules.information(rules, inp)

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
