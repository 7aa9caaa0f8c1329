"""Trial matching: criteria met, failed or undecided; missing data is never a pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prrt.clinical.case import case_from_dict, load_case
from prrt.clinical.outcome import Status
from prrt.outcomes.evidence import load_evidence
from prrt.outcomes.trial_matching import MatchStatus, match_trial, match_trials

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "examples" / "cases"


def _case(**sections: Any):  # type: ignore[no-untyped-def]
    data = {
        "schema_version": "1.0",
        "case_id": "T",
        "assessment_date": "2025-03-03",
        "patient": {"age_years": 60, "sex": "female"},
    }
    data.update(sections)
    return case_from_dict(data)


def _status(case, trial: str, criterion: str) -> Status:  # type: ignore[no-untyped-def]
    m = match_trial(case, load_evidence().trial(trial))
    return next(c.status for c in m.criteria if c.rule_id == f"{trial}:{criterion}")


def test_every_trial_of_the_registry_is_reported() -> None:
    report = match_trials(load_case((CASES / "01_eligible_midgut_net_g2.json").read_text()))
    assert len(report.matches) == 22  # 21 seed Table 1 rows + NETTER-1
    assert {m.trial_id for m in report.matches} == {t.trial_id for t in load_evidence().trials}
    order = [m.status for m in report.matches]
    assert order == sorted(
        order, key=[MatchStatus.MEETS_CHECKED, MatchStatus.UNDECIDED, MatchStatus.FAILS].index
    )


def test_example_midgut_g2_case_against_netter_trials() -> None:
    case = load_case((CASES / "01_eligible_midgut_net_g2.json").read_text())
    ev = load_evidence()
    netter1 = match_trial(case, ev.trial("NETTER-1"))
    assert {c.rule_id.split(":")[1] for c in netter1.met} >= {
        "site",
        "grade",
        "sstr",
        "resectability",
        "karnofsky",
    }
    # progression is not part of the case format: undecided, so the trial is not "met"
    assert [c.rule_id for c in netter1.undecided] == ["NETTER-1:progression"]
    assert netter1.status is MatchStatus.UNDECIDED
    netter2 = match_trial(case, ev.trial("NETTER-2"))
    assert [c.rule_id for c in netter2.failed] == ["NETTER-2:ki67"]  # Ki-67 8 % < 10 %


def test_empty_case_meets_nothing_it_cannot_check() -> None:
    """Only age is given: every other criterion is undecided, none is met."""
    for m in match_trials(_case()).matches:
        passed = {c.rule_id.split(":")[1] for c in m.met}
        assert passed <= {"age"}, m.trial_id
        assert m.status is not MatchStatus.MEETS_CHECKED, m.trial_id


@pytest.mark.parametrize(
    ("ki67", "expected"),
    [(9.9, Status.FAIL), (10.0, Status.PASS), (55.0, Status.PASS), (55.1, Status.FAIL)],
)
def test_netter2_ki67_bounds_are_inclusive(ki67: float, expected: Status) -> None:
    assert _status(_case(tumour={"ki67_percent": ki67}), "NETTER-2", "ki67") is expected


@pytest.mark.parametrize(("ki67", "expected"), [(54.9, Status.PASS), (55.0, Status.FAIL)])
def test_lantana_ki67_bound_is_exclusive(ki67: float, expected: Status) -> None:
    assert _status(_case(tumour={"ki67_percent": ki67}), "LANTana", "ki67") is expected


def test_missing_ki67_is_undecided() -> None:
    assert (
        _status(_case(tumour={"primary_site": "pancreas"}), "NETTER-2", "ki67")
        is Status.INDETERMINATE
    )


@pytest.mark.parametrize(
    ("site", "trial", "expected"),
    [
        ("pancreas", "OCCLURANDOM", Status.PASS),
        ("small_intestine", "OCCLURANDOM", Status.FAIL),
        ("colon", "NETTER-1", Status.INDETERMINATE),
        ("appendix", "NETTER-1", Status.PASS),
        ("rectum", "NETTER-2", Status.PASS),
        ("lung", "NETTER-2", Status.FAIL),
        ("unknown_primary", "NETTER-2", Status.INDETERMINATE),
    ],
)
def test_primary_site_groups(site: str, trial: str, expected: Status) -> None:
    assert _status(_case(tumour={"primary_site": site}), trial, "site") is expected


def _lesions(*scores: int | None, target: bool = True) -> dict:
    return {
        "sstr": {"modality": "pet"},
        "lesions": [
            {"id": f"L{i}", "target": target, "sstr_score": s} for i, s in enumerate(scores)
        ],
    }


def test_sstr_rules() -> None:
    assert _status(_case(imaging=_lesions(3, 4)), "NETTER-2", "sstr") is Status.PASS
    assert _status(_case(imaging=_lesions(3, 1)), "NETTER-2", "sstr") is Status.FAIL
    assert _status(_case(imaging=_lesions(3, None)), "NETTER-2", "sstr") is Status.INDETERMINATE
    # LANTana wants low or absent uptake (flag F10): score 2 meets, 3 fails
    assert _status(_case(imaging=_lesions(2, 1)), "LANTana", "sstr") is Status.PASS
    assert _status(_case(imaging=_lesions(2, 3)), "LANTana", "sstr") is Status.FAIL
    # NCT05475210: SUV above liver (score >= 3) in at least one lesion
    assert _status(_case(imaging=_lesions(2, 3)), "NCT05475210", "sstr") is Status.PASS
    # FENET-2016: lesion/muscle SUV ratio is not in the case format
    assert _status(_case(imaging=_lesions(4)), "FENET-2016", "sstr") is Status.INDETERMINATE


def test_prior_prrt_and_therapy_history() -> None:
    prior = {"prior_therapies": [{"kind": "prrt"}, {"kind": "ssa_long_acting"}]}
    none = {"prior_therapies": []}
    assert _status(_case(history=prior), "OCCLURANDOM", "prior_prrt") is Status.FAIL
    assert _status(_case(history=none), "OCCLURANDOM", "prior_prrt") is Status.PASS
    assert _status(_case(), "OCCLURANDOM", "prior_prrt") is Status.INDETERMINATE
    assert _status(_case(history=none), "OCCLURANDOM", "min_prior_systemic_lines") is Status.FAIL
    assert _status(_case(history=prior), "NCT05249114", "prior_ssa_required") is Status.PASS
    assert _status(_case(history=prior), "NCT05475210", "treatment_naive") is Status.FAIL
    tki = {"prior_therapies": [{"kind": "targeted_therapy", "name": "sunitinib"}]}
    assert _status(_case(history=tki), "OCCLURANDOM", "excluded_therapies") is Status.FAIL
    two = {"prior_therapies": [{"kind": "everolimus"}, {"kind": "chemotherapy"}]}
    assert _status(_case(history=two), "COMPOSE", "max_prior_systemic_lines") is Status.FAIL


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        ({"karnofsky_percent": 80}, Status.PASS),  # ECOG 1
        ({"karnofsky_percent": 60}, Status.FAIL),  # ECOG 2
        ({"ecog": 1}, Status.PASS),
        ({}, Status.INDETERMINATE),
    ],
)
def test_ecog_limit_from_karnofsky_or_ecog(patient: dict, expected: Status) -> None:
    case = _case(patient={"age_years": 60, "sex": "male", **patient})
    assert _status(case, "NCT03457948", "ecog") is expected


def test_karnofsky_limit_from_an_ecog_band() -> None:
    # NETTER-1 needs Karnofsky >= 60: ECOG 1 is 70-80 (meets), ECOG 2 is 50-60 (straddles)
    assert (
        _status(_case(patient={"age_years": 60, "sex": "male", "ecog": 1}), "NETTER-1", "karnofsky")
        is Status.PASS
    )
    assert (
        _status(_case(patient={"age_years": 60, "sex": "male", "ecog": 2}), "NETTER-1", "karnofsky")
        is Status.INDETERMINATE
    )
    assert (
        _status(_case(patient={"age_years": 60, "sex": "male", "ecog": 3}), "NETTER-1", "karnofsky")
        is Status.FAIL
    )


def test_age_and_life_expectancy_bounds() -> None:
    young = _case(patient={"age_years": 14, "sex": "female"})
    assert _status(young, "NETTER-2", "age") is Status.FAIL
    six = _case(patient={"age_years": 60, "sex": "female", "life_expectancy_months": 6})
    assert _status(six, "FENET-2016", "life_expectancy") is Status.PASS  # >= 6
    assert _status(six, "DOBATOC", "life_expectancy") is Status.FAIL  # > 6


def test_creatinine_clearance_above_60_is_exclusive() -> None:
    data = json.loads((CASES / "01_eligible_midgut_net_g2.json").read_text())
    case = case_from_dict(data)
    m = match_trial(case, load_evidence().trial("NCT05475210"))
    crcl = next(c for c in m.criteria if c.rule_id.endswith(":crcl"))
    assert crcl.status is Status.PASS
    assert isinstance(crcl.observed, float)
    assert crcl.observed > 60


def test_resectability_and_liver_metastases() -> None:
    assert _status(_case(tumour={"resectable": True}), "NETTER-1", "resectability") is Status.FAIL
    assert (
        _status(_case(tumour={"resectable": False}), "NeoLuPaNET", "resectability")
        is Status.INDETERMINATE
    )
    assert _status(_case(tumour={"resectable": True}), "NeoLuPaNET", "resectability") is Status.PASS
    liver = {"lesions": [{"id": "H1", "site": "liver segment 4", "target": True}]}
    assert _status(_case(imaging=liver), "NCT03457948", "liver_metastases") is Status.PASS
    assert (
        _status(_case(tumour={"liver_tumour_burden_percent": 0}), "NCT03457948", "liver_metastases")
        is Status.FAIL
    )


def test_grade_categories() -> None:
    nec = _case(tumour={"ki67_percent": 70, "differentiation": "poor"})
    assert _status(nec, "NETTER-2", "grade") is Status.FAIL
    unknown = _case(tumour={"ki67_percent": 30})
    assert _status(unknown, "NETTER-2", "grade") is Status.INDETERMINATE  # NET G3 or NEC
    assert _status(unknown, "COMPETE", "grade") is Status.FAIL  # high grade: not G1/G2


def test_report_json_shape() -> None:
    report = match_trials(_case(tumour={"primary_site": "pancreas", "ki67_percent": 15}))
    d = report.to_dict()
    assert d["evidence_version"] == load_evidence().version
    m = next(x for x in d["matches"] if x["trial"] == "LANTana")
    assert {"met", "failed", "undecided", "not_checked", "flags"} <= set(m)
    assert "F10" in m["flags"]
