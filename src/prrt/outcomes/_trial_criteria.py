"""Criteria of the trial registry checked against a case (used by :mod:`prrt.outcomes.trial_matching`).

Each check returns a finding ``(status, observed, threshold, operator, unit, message)``;
missing data gives :attr:`~prrt.clinical.outcome.Status.INDETERMINATE`, never a pass.
The vocabulary of the ``eligibility`` records is listed in ``prrt/outcomes/data/README.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prrt.clinical.case import Case
from prrt.clinical.eligibility import assess_eligibility
from prrt.clinical.eligibility_input import ECOG_TO_KARNOFSKY, EligibilityInput, TherapyKind
from prrt.clinical.evaluate import eligibility_input
from prrt.clinical.grading import Differentiation, PrimarySite, TumourCategory
from prrt.clinical.outcome import Status
from prrt.outcomes.evidence import Trial

__all__ = ["Facts", "Finding", "criteria_findings", "facts_of"]

#: status, observed value, threshold, operator, unit, message
Finding = tuple[Status, Any, Any, str | None, str | None, str]

_SYSTEMIC = frozenset(
    {
        TherapyKind.CHEMOTHERAPY,
        TherapyKind.EVEROLIMUS,
        TherapyKind.TARGETED_THERAPY,
        TherapyKind.INTERFERON,
        TherapyKind.INVESTIGATIONAL,
        TherapyKind.PRRT,
    }
)
_SSA = frozenset({TherapyKind.SSA_LONG_ACTING, TherapyKind.SSA_SHORT_ACTING})
_MIDGUT = frozenset({PrimarySite.SMALL_INTESTINE, PrimarySite.APPENDIX})
_UNDECIDABLE_SITES = frozenset({PrimarySite.UNKNOWN_PRIMARY, PrimarySite.OTHER})
_GRADE_OF = {
    TumourCategory.NET_G1: "G1",
    TumourCategory.NET_G2: "G2",
    TumourCategory.NET_G3: "G3",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the criteria read from a case (canonical units; None = not given)."""

    inp: EligibilityInput
    grade: TumourCategory
    crcl_ml_per_min: float | None
    prior_prrt: bool | None
    lesion_sites: tuple[tuple[str | None, float | None, int | None, bool], ...]
    progression_documented: bool


def facts_of(case: Case) -> Facts:
    inp = eligibility_input(case)
    elig = assess_eligibility(inp)
    prior: bool | None = None
    therapies = inp.prior_therapies
    if case.history is not None and case.history.prior_prrt is not None:
        prior = True
    elif therapies is not None:
        prior = any(t.kind is TherapyKind.PRRT for t in therapies)
    lesions: list[tuple[str | None, float | None, int | None, bool]] = []
    if case.imaging is not None and case.imaging.lesions is not None and inp.lesions is not None:
        for raw, les in zip(case.imaging.lesions, inp.lesions, strict=True):
            lesions.append((raw.site, les.size_mm, les.sstr_score, les.target))
    progressed = bool(
        case.history is not None
        and case.history.prior_prrt is not None
        and case.history.prior_prrt.progression_date is not None
    )
    return Facts(inp, elig.grade.category, elig.crcl_ml_per_min, prior, tuple(lesions), progressed)


def _bound(value: float | None, spec: Mapping[str, Any], what: str, unit: str) -> Finding:
    lo, hi = spec.get("min"), spec.get("max")
    lo_inc, hi_inc = spec.get("min_inclusive", True), spec.get("max_inclusive", True)
    parts = []
    if lo is not None:
        parts.append(f"{'>=' if lo_inc else '>'} {lo:g}")
    if hi is not None:
        parts.append(f"{'<=' if hi_inc else '<'} {hi:g}")
    need = " and ".join(parts)
    if value is None:
        return Status.INDETERMINATE, None, need, None, unit, f"{what} not given"
    ok = True
    if lo is not None:
        ok &= value >= lo if lo_inc else value > lo
    if hi is not None:
        ok &= value <= hi if hi_inc else value < hi
    verdict = "meets" if ok else "outside"
    status = Status.PASS if ok else Status.FAIL
    return status, value, need, None, unit, f"{what} {value:g} {unit}: {verdict} {need}"


def _site(f: Facts, group: str) -> Finding:
    site = f.inp.primary_site
    if site is None:
        return Status.INDETERMINATE, None, group, "in", None, "primary site not given"
    name = site.value
    if site in _UNDECIDABLE_SITES:
        return Status.INDETERMINATE, name, group, "in", None, f"primary {name}: cannot tell"
    if group == "gep":
        ok = site.is_gep
    elif group == "pancreas":
        ok = site is PrimarySite.PANCREAS
    elif group == "midgut":
        if site is PrimarySite.COLON:
            return (
                Status.INDETERMINATE,
                name,
                group,
                "in",
                None,
                "colon: midgut only for the proximal (right) colon, not recorded",
            )
        ok = site in _MIDGUT
    else:
        return Status.INDETERMINATE, name, group, "in", None, f"unknown site group {group!r}"
    return (
        Status.PASS if ok else Status.FAIL,
        name,
        group,
        "in",
        None,
        f"primary {name} {'is' if ok else 'is not'} {group}",
    )


def _grade(f: Facts, grades: Sequence[str]) -> Finding:
    need = "/".join(grades)
    g = f.grade
    if g in _GRADE_OF:
        ok = _GRADE_OF[g] in grades
        return (
            Status.PASS if ok else Status.FAIL,
            g.value,
            need,
            "in",
            None,
            f"{g.value} {'within' if ok else 'outside'} {need}",
        )
    if g is TumourCategory.NEC:
        return Status.FAIL, g.value, need, "in", None, "NEC is not a well-differentiated NET"
    if g is TumourCategory.HIGH_GRADE_UNSPECIFIED:
        if "G3" in grades:
            return (
                Status.INDETERMINATE,
                g.value,
                need,
                "in",
                None,
                "high grade, differentiation missing (NET G3 or NEC)",
            )
        return Status.FAIL, g.value, need, "in", None, f"high grade: outside {need}"
    return Status.INDETERMINATE, g.value, need, "in", None, f"grade not determined ({g.value})"


def _differentiation(f: Facts, want: str) -> Finding:
    d = f.inp.differentiation
    if d is None:
        return Status.INDETERMINATE, None, want, "==", None, "differentiation not given"
    ok = d is Differentiation(want)
    return (
        Status.PASS if ok else Status.FAIL,
        d.value,
        want,
        "==",
        None,
        f"{d.value}-differentiated",
    )


def _sstr(f: Facts, spec: Mapping[str, Any]) -> Finding:
    rule = spec["rule"]
    if rule == "suv_ratio_muscle_min":
        return (
            Status.INDETERMINATE,
            None,
            f">= {spec['ratio']}",
            ">=",
            "ratio",
            "SUVmax(lesion)/SUVmean(muscle) is not part of the case format",
        )
    lesions = f.lesion_sites
    score = int(spec["score"])
    if rule == "all_targets_min_score":
        targets = [s for _, _, s, target in lesions if target]
        known = [s for s in targets if s is not None]
        need = f"every target lesion Krenning >= {score}"
        if known and min(known) < score:
            return (
                Status.FAIL,
                min(known),
                need,
                ">=",
                "Krenning",
                (f"target lesion with score {min(known)}"),
            )
        if not targets or len(known) < len(targets):
            return (
                Status.INDETERMINATE,
                None,
                need,
                ">=",
                "Krenning",
                "target lesion scores missing",
            )
        return Status.PASS, min(known), need, ">=", "Krenning", f"lowest target score {min(known)}"
    scores = [s for _, _, s, _ in lesions]
    if rule == "any_lesion_min_score":
        need = f"a lesion with Krenning >= {score} (above liver)"
        if any(s is not None and s >= score for s in scores):
            return (
                Status.PASS,
                max(s for s in scores if s is not None),
                need,
                ">=",
                "Krenning",
                need,
            )
        if scores and all(s is not None for s in scores):
            return (
                Status.FAIL,
                max(s for s in scores if s is not None),
                need,
                ">=",
                "Krenning",
                ("no listed lesion above liver"),
            )
        return Status.INDETERMINATE, None, need, ">=", "Krenning", "lesion scores missing"
    if rule == "all_lesions_max_score":
        need = f"every lesion Krenning <= {score} (no or low uptake)"
        if any(s is not None and s > score for s in scores):
            high = max(s for s in scores if s is not None)
            return Status.FAIL, high, need, "<=", "Krenning", f"lesion with score {high}"
        if scores and all(s is not None for s in scores):
            return (
                Status.PASS,
                max(s for s in scores if s is not None),
                need,
                "<=",
                "Krenning",
                need,
            )
        return Status.INDETERMINATE, None, need, "<=", "Krenning", "lesion scores missing"
    return Status.INDETERMINATE, None, rule, None, None, f"unknown SSTR rule {rule!r}"


def _resectability(f: Facts, want: str) -> Finding:
    r = f.inp.resectable
    if r is None:
        return Status.INDETERMINATE, None, want, None, None, "resectability not given"
    shown = "resectable" if r else "not resectable"
    if want == "unresectable":
        return (Status.FAIL if r else Status.PASS), shown, want, None, None, shown
    if want == "resectable_or_potentially_resectable":
        if r:
            return Status.PASS, shown, want, None, None, shown
        return (
            Status.INDETERMINATE,
            shown,
            want,
            None,
            None,
            "not resectable with curative intent; potential resectability not recorded",
        )
    if want == "unresectable_or_borderline":
        if not r:
            return Status.PASS, shown, want, None, None, shown
        return (
            Status.INDETERMINATE,
            shown,
            want,
            None,
            None,
            "resectable: eligible only if borderline resectable (not recorded)",
        )
    return Status.INDETERMINATE, shown, want, None, None, f"unknown resectability {want!r}"


def _kinds(f: Facts) -> list[TherapyKind] | None:
    if f.inp.prior_therapies is None:
        return [TherapyKind.PRRT] if f.prior_prrt else None
    kinds = [t.kind for t in f.inp.prior_therapies]
    if f.prior_prrt and TherapyKind.PRRT not in kinds:
        kinds.append(TherapyKind.PRRT)
    return kinds


def _therapy_rule(f: Facts, name: str, spec: Any) -> Finding:
    kinds = _kinds(f)
    if kinds is None:
        return Status.INDETERMINATE, None, spec, None, None, "prior therapies not given"
    systemic = [k.value for k in kinds if k in _SYSTEMIC]
    if name == "prior_prrt":
        has = TherapyKind.PRRT in kinds
        return (
            (Status.FAIL if has else Status.PASS),
            has,
            "no prior PRRT",
            None,
            None,
            ("prior PRRT reported" if has else "no prior PRRT"),
        )
    if name == "treatment_naive":
        used = systemic + [k.value for k in kinds if k in _SSA]
        return (
            (Status.FAIL if used else Status.PASS),
            len(used),
            "no prior systemic therapy",
            ("=="),
            None,
            ("prior " + ", ".join(used) if used else "no prior systemic therapy"),
        )
    if name == "max_prior_systemic_lines":
        ok = len(systemic) <= int(spec)
        return (
            (Status.PASS if ok else Status.FAIL),
            len(systemic),
            spec,
            "<=",
            "lines",
            (f"{len(systemic)} prior systemic line(s) (SSA not counted)"),
        )
    if name == "min_prior_systemic_lines":
        n = len(systemic) + sum(1 for k in kinds if k in _SSA)
        ok = n >= int(spec)
        return (
            (Status.PASS if ok else Status.FAIL),
            n,
            spec,
            ">=",
            "lines",
            (f"{n} prior systemic line(s) (SSA counted)"),
        )
    if name == "prior_ssa_required":
        has = any(k in _SSA for k in kinds)
        return (
            (Status.PASS if has else Status.FAIL),
            has,
            "prior SSA",
            None,
            None,
            ("prior SSA reported" if has else "no prior SSA"),
        )
    if name == "excluded_therapies":
        hit = [k.value for k in kinds if k.value in spec]
        message = "prior " + ", ".join(hit) if hit else "none reported"
        need = "none of " + ", ".join(spec)
        return (
            (Status.FAIL if hit else Status.PASS),
            ", ".join(hit) or None,
            need,
            None,
            None,
            (message),
        )
    return Status.INDETERMINATE, None, spec, None, None, f"unknown therapy rule {name!r}"


def _ecog(f: Facts, ecog_max: int) -> Finding:
    if f.inp.ecog is not None:
        ok = f.inp.ecog <= ecog_max
        return (
            (Status.PASS if ok else Status.FAIL),
            f.inp.ecog,
            ecog_max,
            "<=",
            "ECOG",
            (f"ECOG {f.inp.ecog}"),
        )
    kps = f.inp.karnofsky_percent
    if kps is None:
        return Status.INDETERMINATE, None, ecog_max, "<=", "ECOG", "performance status not given"
    # the ECOG band(s) of the Karnofsky value; between two bands both are possible
    bands = [e for e, (lo, hi) in ECOG_TO_KARNOFSKY.items() if lo - 10 < kps < hi + 10]
    exact = [e for e, (lo, hi) in ECOG_TO_KARNOFSKY.items() if lo <= kps <= hi]
    implied = exact or bands
    shown = f"Karnofsky {kps:g}% (ECOG {'/'.join(str(e) for e in implied)})"
    if max(implied) <= ecog_max:
        return Status.PASS, shown, ecog_max, "<=", "ECOG", shown
    if min(implied) > ecog_max:
        return Status.FAIL, shown, ecog_max, "<=", "ECOG", shown
    return Status.INDETERMINATE, shown, ecog_max, "<=", "ECOG", shown + ": between two ECOG bands"


def _karnofsky(f: Facts, kps_min: float) -> Finding:
    kps = f.inp.karnofsky_percent
    if kps is not None:
        ok = kps >= kps_min
        return (Status.PASS if ok else Status.FAIL), kps, kps_min, ">=", "%", f"Karnofsky {kps:g}%"
    if f.inp.ecog is None:
        return Status.INDETERMINATE, None, kps_min, ">=", "%", "performance status not given"
    lo, hi = ECOG_TO_KARNOFSKY[f.inp.ecog]
    shown = f"ECOG {f.inp.ecog} (Karnofsky {lo:g}-{hi:g}%)"
    if lo >= kps_min:
        return Status.PASS, shown, kps_min, ">=", "%", shown
    if hi < kps_min:
        return Status.FAIL, shown, kps_min, ">=", "%", shown
    return Status.INDETERMINATE, shown, kps_min, ">=", "%", shown + ": band straddles the limit"


def _liver(f: Facts, _: Any) -> Finding:
    if any(site and "liver" in site.lower() for site, _, _, _ in f.lesion_sites):
        return Status.PASS, True, True, None, None, "liver lesion listed"
    burden = f.inp.liver_tumour_burden_percent
    if burden is not None:
        ok = burden > 0
        return (
            (Status.PASS if ok else Status.FAIL),
            burden,
            "> 0",
            ">",
            "%",
            (f"liver tumour burden {burden:g}%"),
        )
    return Status.INDETERMINATE, None, True, None, None, "no liver lesion listed, burden not given"


def _primary_size(f: Facts, spec: Mapping[str, Any], organ: str) -> Finding:
    sizes = [s for site, s, _, _ in f.lesion_sites if site and organ in site.lower() and s]
    if not sizes:
        return _bound(None, spec, f"size of the primary ({organ}) lesion", "mm")
    return _bound(max(sizes), spec, "primary lesion size", "mm")


def _progression(f: Facts, _: Any) -> Finding:
    if f.progression_documented:
        return Status.PASS, True, True, None, None, "progression after prior PRRT documented"
    return (
        Status.INDETERMINATE,
        None,
        True,
        None,
        None,
        "disease progression is not recorded in the case format",
    )


def criteria_findings(trial: Trial, f: Facts) -> list[tuple[str, Finding]]:
    e = trial.eligibility
    out: list[tuple[str, Finding]] = []
    if e.get("site_group"):
        out.append(("site", _site(f, e["site_group"])))
    if e.get("differentiation"):
        out.append(("differentiation", _differentiation(f, e["differentiation"])))
    if e.get("grades"):
        out.append(("grade", _grade(f, e["grades"])))
    if e.get("ki67_percent"):
        out.append(("ki67", _bound(f.inp.ki67_percent, e["ki67_percent"], "Ki-67", "%")))
    if e.get("primary_size_mm"):
        organ = "pancrea" if e.get("site_group") == "pancreas" else "primary"
        out.append(("primary_size", _primary_size(f, e["primary_size_mm"], organ)))
    if e.get("sstr"):
        out.append(("sstr", _sstr(f, e["sstr"])))
    if e.get("resectability"):
        out.append(("resectability", _resectability(f, e["resectability"])))
    if e.get("progression_required"):
        out.append(("progression", _progression(f, True)))
    if e.get("liver_metastases_required"):
        out.append(("liver_metastases", _liver(f, True)))
    if e.get("prior_prrt") == "excluded":
        out.append(("prior_prrt", _therapy_rule(f, "prior_prrt", "excluded")))
    for name in (
        "treatment_naive",
        "max_prior_systemic_lines",
        "min_prior_systemic_lines",
        "prior_ssa_required",
        "excluded_therapies",
    ):
        if e.get(name) not in (None, False):
            out.append((name, _therapy_rule(f, name, e[name])))
    if e.get("min_age_years") is not None:
        out.append(("age", _bound(f.inp.age_years, {"min": e["min_age_years"]}, "age", "years")))
    if e.get("ecog_max") is not None:
        out.append(("ecog", _ecog(f, int(e["ecog_max"]))))
    if e.get("karnofsky_min") is not None:
        out.append(("karnofsky", _karnofsky(f, float(e["karnofsky_min"]))))
    if e.get("life_expectancy_months"):
        out.append(
            (
                "life_expectancy",
                _bound(
                    f.inp.life_expectancy_months,
                    e["life_expectancy_months"],
                    "life expectancy",
                    "months",
                ),
            )
        )
    if e.get("creatinine_clearance_ml_per_min"):
        out.append(
            (
                "crcl",
                _bound(
                    f.crcl_ml_per_min,
                    e["creatinine_clearance_ml_per_min"],
                    "creatinine clearance (Cockcroft-Gault)",
                    "mL/min",
                ),
            )
        )
    return out
