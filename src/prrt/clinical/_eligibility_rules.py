"""The rule groups of ELIG-ALGO (clinical-rules.md §3.3), used by :mod:`prrt.clinical.eligibility`.

Each function appends :class:`~prrt.clinical.outcome.RuleOutcome` objects to a
:class:`Rules` collector; thresholds come from the profile's criteria table.
"""

from __future__ import annotations

import math

from prrt.clinical.eligibility_input import (
    ECOG_TO_KARNOFSKY,
    EligibilityInput,
)
from prrt.clinical.imaging_scores import (
    NetpetAssessment,
    NetpetGrade,
    SstrExpressionAssessment,
    sstr_expression,
)
from prrt.clinical.outcome import RuleOutcome, Severity, Status
from prrt.clinical.profiles import Profile, Threshold


def clean(value: float) -> float:
    """Drop float noise from unit conversions and ratios (12 significant digits).

    ``61.56000000000001 / 20.52`` (bilirubin 3.6 mg/dL against ULN 1.2 mg/dL) must
    compare as exactly 3 × ULN (§0.3 item 4: values compared as reported).
    """
    return float(f"{value:.12g}")


# --- rule helpers ------------------------------------------------------------------------------


class Rules:
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


def g3_caution(
    rules: Rules,
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


def sstr_target_rule(
    rules: Rules, t: Threshold, inp: EligibilityInput, profile: Profile, min_score: int | None
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


def netpet_rules(rules: Rules, netpet: NetpetAssessment, inp: EligibilityInput) -> None:
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


def fdg_recommended(rules: Rules, t: Threshold, inp: EligibilityInput, high: bool | None) -> None:
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
            f"G3/NEC or Ki-67 {t.fail_when} {t.value:g} % without FDG PET: FDG PET recommended before PRRT",
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


def heterogeneity_rules(
    rules: Rules, inp: EligibilityInput, profile: Profile, min_score: int | None
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


def karnofsky(inp: EligibilityInput) -> tuple[float | tuple[float, float] | None, str | None]:
    if inp.karnofsky_percent is not None:
        return inp.karnofsky_percent, f"{inp.karnofsky_percent:g} %"
    if inp.ecog is not None:
        lo, hi = ECOG_TO_KARNOFSKY[inp.ecog]
        return (lo, hi), f"ECOG {inp.ecog} (Karnofsky {lo:g}-{hi:g} %)"
    return None, None
