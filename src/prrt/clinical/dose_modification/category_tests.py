"""DMT categories tested on laboratory values and toxicities (clinical-rules.md §4.3–§4.4).

The "Category tests" of §4.4 on DMT-TABLE-US (§4.3): thrombocytopenia,
anaemia/neutropenia, renal (Cockcroft–Gault CrCl with actual weight, RENAL-4;
creatinine and CrCl relative to baseline), hepatic, and any other grade ≥ 3
toxicity (AST/ALT graded with CTCAE v5.0 §5.1, clinician-graded terms routed
to their category; lymphopenia is never dose-modifying).  Every
comparison is recorded as a :class:`~prrt.clinical.outcome.RuleOutcome`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from prrt.clinical import ctcae
from prrt.clinical.dose_modification.assessment import CycleAssessment
from prrt.clinical.dose_modification.categories import DmtCategory
from prrt.clinical.dose_modification.course import CourseHistory
from prrt.clinical.dose_modification.lab_panel import LabPanel
from prrt.clinical.dose_modification.limits import _SOURCE_TABLE, DMT_LIMITS
from prrt.clinical.dose_modification.settings import (
    DoseModificationSettings,
    HypersensitivityAction,
)
from prrt.clinical.dose_modification.three_valued import (
    _FALSE,
    _OPS,
    _all,
    _any,
    _dec,
    _fmt,
    _merge,
    _Tri,
)
from prrt.clinical.outcome import RuleOutcome, Status
from prrt.clinical.renal import Sex, creatinine_clearance_cockcroft_gault

__all__: list[str] = []


# CTCAE terms routed to a category by the US label table (§4.3); lymphopenia is never a DMT.
_HYPERSENSITIVITY_TERMS = frozenset({"hypersensitivity", "allergic_reaction", "anaphylaxis"})
_PLATELET_TERMS = frozenset({"platelet_count_decreased", "thrombocytopenia"})
_ANAEMIA_NEUTROPENIA_TERMS = frozenset(
    {"anemia", "anaemia", "neutrophil_count_decreased", "neutropenia", "febrile_neutropenia"}
)
_LYMPHOCYTE_TERMS = frozenset({"lymphocyte_count_decreased", "lymphopenia"})
_WBC_TERMS = frozenset({"white_blood_cell_decreased", "leukopenia", "leucopenia"})


class _Evaluator:
    """Collects rule outcomes while evaluating criteria."""

    def __init__(self, settings: DoseModificationSettings) -> None:
        self.settings = settings
        self.outcomes: list[RuleOutcome] = []

    def compare(
        self,
        rule_id: str,
        label: str,
        value: float | None,
        operator: str,
        threshold: Decimal | None,
        unit: str,
        *,
        missing: Sequence[str],
        scope: str,
        threshold_text: str | None = None,
    ) -> _Tri:
        """Compare ``value <operator> threshold`` exactly on the displayed decimals."""
        shown = threshold_text or (f"{_fmt(threshold)} {unit}" if threshold is not None else "?")
        if value is None or threshold is None:
            self.outcomes.append(
                RuleOutcome(
                    rule_id=rule_id,
                    status=Status.INDETERMINATE,
                    observed=value,
                    threshold=None if threshold is None else float(threshold),
                    unit=unit,
                    source=DMT_LIMITS.sources.get(rule_id, _SOURCE_TABLE),
                    operator=operator,
                    profile=self.settings.profile,
                    message=f"{scope}: missing {', '.join(missing)}",
                )
            )
            return _Tri(None, missing=tuple(missing))
        met = _OPS[operator](_dec(value), threshold)
        fact = f"{scope}: {label} {_fmt(value)} {unit} {operator} {shown}"
        self.outcomes.append(
            RuleOutcome(
                rule_id=rule_id,
                status=Status.FAIL if met else Status.PASS,
                observed=value,
                threshold=float(threshold),
                unit=unit,
                source=DMT_LIMITS.sources.get(rule_id, _SOURCE_TABLE),
                operator=operator,
                profile=self.settings.profile,
                message=fact
                if met
                else f"{scope}: {label} {_fmt(value)} {unit} not {operator} {shown}",
            )
        )
        return _Tri(True, facts=(fact,)) if met else _FALSE


@dataclass(frozen=True, slots=True)
class _Context:
    history: CourseHistory
    assessment: CycleAssessment
    settings: DoseModificationSettings
    crcl_now: float | None
    crcl_missing: tuple[str, ...]


def _crcl(
    creatinine: float | None, creatinine_name: str, assessment: CycleAssessment, sex: Sex
) -> tuple[float | None, tuple[str, ...]]:
    missing = [
        name
        for name, value in (
            (creatinine_name, creatinine),
            ("weight_kg", assessment.weight_kg),
            ("age_years", assessment.age_years),
        )
        if value is None
    ]
    if (
        missing
        or creatinine is None
        or assessment.weight_kg is None
        or assessment.age_years is None
    ):
        return None, tuple(missing)
    return (
        creatinine_clearance_cockcroft_gault(
            creatinine_umol_per_l=creatinine,
            age_years=assessment.age_years,
            weight_kg=assessment.weight_kg,
            sex=sex,
        ),
        (),
    )


def _categories_from_panel(
    ev: _Evaluator, ctx: _Context, panel: LabPanel, scope: str, fallback_uln: LabPanel
) -> dict[DmtCategory, _Tri]:
    """Evaluate the lab criteria of every category on one panel."""
    lim = DMT_LIMITS
    s = ctx.settings
    baseline = ctx.history.baseline
    p = f"{scope}."
    result: dict[DmtCategory, _Tri] = {}

    result[DmtCategory.THROMBOCYTOPENIA] = ev.compare(
        "DMT-PLT-LT75", "platelets", panel.platelets_10e9_per_l, "<", _dec(lim.platelets_lt_10e9_per_l),
        "10^9/L", missing=(p + "platelets_10e9_per_l",), scope=scope,
    )  # fmt: skip
    haem = [
        ev.compare(
            "DMT-HB-LT80", "haemoglobin", panel.haemoglobin_g_per_l, "<", _dec(lim.haemoglobin_lt_g_per_l),
            "g/L", missing=(p + "haemoglobin_g_per_l",), scope=scope,
        ),
        ev.compare(
            "DMT-ANC-LT1", "neutrophils", panel.neutrophils_10e9_per_l, "<", _dec(lim.neutrophils_lt_10e9_per_l),
            "10^9/L", missing=(p + "neutrophils_10e9_per_l",), scope=scope,
        ),
    ]  # fmt: skip
    if s.any_haematological_grade3:
        haem.append(
            ev.compare(
                "DMT-EU-WBC-LT2", "white cells", panel.white_cells_10e9_per_l, "<",
                _dec(lim.white_cells_lt_10e9_per_l), "10^9/L", missing=(p + "white_cells_10e9_per_l",), scope=scope,
            )
        )  # fmt: skip
    result[DmtCategory.ANAEMIA_NEUTROPENIA] = _any(haem)

    # RENAL (RENAL-4: Cockcroft–Gault with actual weight; serum creatinine ratio)
    if panel is ctx.assessment.labs:
        crcl, crcl_missing = ctx.crcl_now, ctx.crcl_missing
    else:
        crcl, crcl_missing = _crcl(
            panel.creatinine_umol_per_l, p + "creatinine_umol_per_l", ctx.assessment, baseline.sex
        )
    base_creat = baseline.labs.creatinine_umol_per_l
    base_crcl = baseline.crcl_ml_per_min
    renal = [
        ev.compare(
            "DMT-CRCL-LT40", "Cockcroft-Gault CrCl", crcl, "<", _dec(lim.crcl_lt_ml_per_min), "mL/min",
            missing=crcl_missing, scope=scope,
        ),
        ev.compare(
            "DMT-SCR-RISE-GE40PCT", "creatinine", panel.creatinine_umol_per_l, ">=",
            None if base_creat is None else _dec(lim.creatinine_ratio_ge) * _dec(base_creat), "µmol/L",
            missing=_merge(
                n for n, v in ((p + "creatinine_umol_per_l", panel.creatinine_umol_per_l),
                               ("baseline.labs.creatinine_umol_per_l", base_creat)) if v is None
            ),
            scope=scope,
            threshold_text=None if base_creat is None else
            f"{_fmt(lim.creatinine_ratio_ge)} x baseline {_fmt(base_creat)} µmol/L",
        ),
        ev.compare(
            "DMT-CRCL-FALL-GE40PCT", "Cockcroft-Gault CrCl", crcl, "<=",
            None if base_crcl is None else _dec(lim.crcl_ratio_le) * _dec(base_crcl), "mL/min",
            missing=_merge(
                [*crcl_missing, *(() if base_crcl is not None else (
                    "baseline.labs.creatinine_umol_per_l", "baseline.weight_kg", "baseline.age_years"))]
            ),
            scope=scope,
            threshold_text=None if base_crcl is None else
            f"{_fmt(lim.crcl_ratio_le)} x baseline CrCl {_fmt(base_crcl)} mL/min",
        ),
    ]  # fmt: skip
    result[DmtCategory.RENAL] = _any(renal)

    # HEPATIC: bilirubin > 3 x ULN, or albumin < 30 g/L with prothrombin abnormal
    bili_uln = panel.bilirubin_uln_umol_per_l or fallback_uln.bilirubin_uln_umol_per_l
    bili = ev.compare(
        "DMT-BILI-GT3ULN", "bilirubin", panel.bilirubin_umol_per_l, ">",
        None if bili_uln is None else _dec(lim.bilirubin_gt_uln_multiple) * _dec(bili_uln), "µmol/L",
        missing=_merge(
            n for n, v in ((p + "bilirubin_umol_per_l", panel.bilirubin_umol_per_l),
                           (p + "bilirubin_uln_umol_per_l", bili_uln)) if v is None
        ),
        scope=scope,
        threshold_text=None if bili_uln is None else
        f"{_fmt(lim.bilirubin_gt_uln_multiple)} x ULN {_fmt(bili_uln)} µmol/L",
    )  # fmt: skip
    albumin = ev.compare(
        "DMT-ALB-LT30", "albumin", panel.albumin_g_per_l, "<", _dec(lim.albumin_lt_g_per_l), "g/L",
        missing=(p + "albumin_g_per_l",), scope=scope,
    )  # fmt: skip
    if panel.prothrombin_percent is not None or not s.inr_fallback:
        prothrombin = ev.compare(
            "DMT-PT-LT70", "prothrombin activity", panel.prothrombin_percent, "<",
            _dec(lim.prothrombin_percent_lt), "%", missing=(p + "prothrombin_percent",), scope=scope,
        )  # fmt: skip
    else:
        prothrombin = ev.compare(
            "DMT-INR-GT", "INR (fallback, PT % not given)", panel.inr, ">", _dec(s.inr_limit), "1",
            missing=(p + "prothrombin_percent or " + p + "inr",), scope=scope,
        )  # fmt: skip
    result[DmtCategory.HEPATIC] = _any([bili, _all([albumin, prothrombin])])

    # OTHER_NONHAEMATOLOGICAL from laboratory transaminases graded with CTCAE
    other: list[_Tri] = []
    for name, value, uln, base, term in (
        ("ast", panel.ast_u_per_l, panel.ast_uln_u_per_l or fallback_uln.ast_uln_u_per_l,
         baseline.labs.ast_u_per_l, ctcae.CtcaeTerm.AST_INCREASED),
        ("alt", panel.alt_u_per_l, panel.alt_uln_u_per_l or fallback_uln.alt_uln_u_per_l,
         baseline.labs.alt_u_per_l, ctcae.CtcaeTerm.ALT_INCREASED),
    ):  # fmt: skip
        other.append(_transaminase(ev, term, name, value, uln, base, scope))
    result[DmtCategory.OTHER_NONHAEMATOLOGICAL] = _any(other)
    return result


def _transaminase(
    ev: _Evaluator,
    term: ctcae.CtcaeTerm,
    name: str,
    value: float | None,
    uln: float | None,
    baseline: float | None,
    scope: str,
) -> _Tri:
    rule_id = f"DMT-{name.upper()}-G3"
    limit = DMT_LIMITS.other_grade_ge
    value_name = f"{scope}.{name}_u_per_l"
    if value is None:
        ev.outcomes.append(
            RuleOutcome(rule_id, Status.INDETERMINATE, None, limit, "CTCAE grade", _SOURCE_TABLE,
                        operator=">=", profile=ev.settings.profile, message=f"{scope}: missing {value_name}")
        )  # fmt: skip
        return _Tri(None, missing=(value_name,))
    graded = ctcae.grade(term, value, uln=uln, baseline=baseline, version=ev.settings.ctcae_version)
    if graded.grade_at_least >= limit:
        met: bool | None = True
    elif graded.grade is None:
        met = None
    else:
        met = False
    status = {True: Status.FAIL, False: Status.PASS, None: Status.INDETERMINATE}[met]
    fact = f"{scope}: {name.upper()} {_fmt(value)} U/L is CTCAE v{graded.version} grade {graded.grade_at_least} ({graded.band})"
    ev.outcomes.append(
        RuleOutcome(rule_id, status, graded.grade, limit, "CTCAE grade", graded.source or _SOURCE_TABLE,
                    operator=">=", profile=ev.settings.profile, message=fact)
    )  # fmt: skip
    if met is None:
        return _Tri(None, missing=(f"{scope}.{name}_uln_u_per_l",))
    return _Tri(True, facts=(fact,)) if met else _FALSE


def _toxicity_categories(
    assessment: CycleAssessment, settings: DoseModificationSettings
) -> tuple[dict[DmtCategory, _Tri], dict[DmtCategory, _Tri], _Tri]:
    """Occurred / active categories and hypersensitivity-stop from the clinician's toxicities."""
    if assessment.toxicities is None:
        # Haematological categories are decided by the laboratory values; only the
        # clinician-graded categories (other grade >= 3, hypersensitivity) are unknown.
        unknown = _Tri(None, missing=("toxicities",))
        other = {DmtCategory.OTHER_NONHAEMATOLOGICAL: unknown}
        return other, dict(other), unknown
    occurred: dict[DmtCategory, list[_Tri]] = {}
    active: dict[DmtCategory, list[_Tri]] = {}
    hyper: list[_Tri] = []
    for index, tox in enumerate(assessment.toxicities):
        term = tox.normalised_term
        if not tox.related:
            continue
        if (
            term in _HYPERSENSITIVITY_TERMS
            and settings.hypersensitivity_grade3_action is HypersensitivityAction.STOP
        ):
            if tox.worst_grade >= 3:
                hyper.append(_Tri(True, facts=(f"{tox.term} grade {tox.worst_grade}",)))
            continue
        if term in _LYMPHOCYTE_TERMS:
            continue  # lymphopenia alone is never dose-modifying (§4.3)
        if term in _PLATELET_TERMS:
            category, trigger = DmtCategory.THROMBOCYTOPENIA, 2
        elif term in _ANAEMIA_NEUTROPENIA_TERMS:
            category, trigger = DmtCategory.ANAEMIA_NEUTROPENIA, 3
        elif term in _WBC_TERMS:
            if not settings.any_haematological_grade3:
                continue
            category, trigger = DmtCategory.ANAEMIA_NEUTROPENIA, 3
        else:
            category, trigger = DmtCategory.OTHER_NONHAEMATOLOGICAL, DMT_LIMITS.other_grade_ge
        if tox.worst_grade >= trigger:
            occurred.setdefault(category, []).append(
                _Tri(True, facts=(f"toxicity {tox.term} grade {tox.worst_grade} (>= {trigger})",))
            )
            if tox.current_grade is None:
                active.setdefault(category, []).append(
                    _Tri(None, missing=(f"toxicities[{index}].current_grade",))
                )
            elif tox.current_grade >= trigger:
                active.setdefault(category, []).append(
                    _Tri(True, facts=(f"toxicity {tox.term} still grade {tox.current_grade}",))
                )
    occ = {c: _any(v) for c, v in occurred.items()}
    act = {c: _any(v) for c, v in active.items()}
    return occ, act, _any(hyper)
