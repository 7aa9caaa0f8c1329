"""Unit tests of prrt.clinical.ctcae: every CTCAE v5.0 band edge of clinical-rules.md §5.1.

Each threshold is tested just below, at and just above it; test names carry the rule id.
"""

from __future__ import annotations

import pytest

from prrt.clinical.ctcae import (
    TERM_ANALYTE,
    TERM_FOR_ANALYTE,
    CtcaeTerm,
    grade,
    grade_analyte,
)
from prrt.clinical.labs import Analyte
from prrt.errors import InvalidInputError

T = CtcaeTerm
RULE_ID = {
    T.ANEMIA: "CTC-ANEMIA",
    T.PLATELET_COUNT_DECREASED: "CTC-PLT",
    T.NEUTROPHIL_COUNT_DECREASED: "CTC-ANC",
    T.LYMPHOCYTE_COUNT_DECREASED: "CTC-LYM",
    T.WHITE_BLOOD_CELL_DECREASED: "CTC-WBC",
    T.CREATININE_INCREASED: "CTC-CREAT",
    T.CHRONIC_KIDNEY_DISEASE: "CTC-CKD",
    T.BLOOD_BILIRUBIN_INCREASED: "CTC-BILI",
    T.AST_INCREASED: "CTC-AST",
    T.ALT_INCREASED: "CTC-ALT",
    T.HYPOALBUMINEMIA: "CTC-ALB",
}


def _edges(term, lln, thresholds):
    """Cases (value, grade) below/at/above each 'decreasing' threshold (G1 < LLN, Gg < t)."""
    cases = []
    for g, t in [(1, lln), *thresholds]:
        cases += [(t - 0.01, g), (t, g - 1), (t + 0.01, g - 1)]
    return [pytest.param(term, lln, v, g, id=f"{RULE_ID[term]}-{v:g}") for v, g in cases]


DECREASING = (
    # CTC-ANEMIA, g/L: G1 < LLN, G2 < 100, G3 < 80 (§5.1)
    _edges(T.ANEMIA, 120.0, [(2, 100.0), (3, 80.0)])
    # CTC-PLT, 10^9/L: G2 < 75, G3 < 50, G4 < 25
    + _edges(T.PLATELET_COUNT_DECREASED, 150.0, [(2, 75.0), (3, 50.0), (4, 25.0)])
    # CTC-ANC: G2 < 1.5, G3 < 1.0, G4 < 0.5
    + _edges(T.NEUTROPHIL_COUNT_DECREASED, 2.0, [(2, 1.5), (3, 1.0), (4, 0.5)])
    # CTC-LYM: G2 < 0.8, G3 < 0.5, G4 < 0.2
    + _edges(T.LYMPHOCYTE_COUNT_DECREASED, 1.0, [(2, 0.8), (3, 0.5), (4, 0.2)])
    # CTC-WBC: G2 < 3.0, G3 < 2.0, G4 < 1.0
    + _edges(T.WHITE_BLOOD_CELL_DECREASED, 4.0, [(2, 3.0), (3, 2.0), (4, 1.0)])
    # CTC-ALB, g/L: G2 < 30, G3 < 20
    + _edges(T.HYPOALBUMINEMIA, 35.0, [(2, 30.0), (3, 20.0)])
    # CTC-CKD, eGFR: G1 < LLN (90), G2 < 60, G3 < 30, G4 < 15
    + _edges(T.CHRONIC_KIDNEY_DISEASE, 90.0, [(2, 60.0), (3, 30.0), (4, 15.0)])
)


@pytest.mark.parametrize(("term", "lln", "value", "expected"), DECREASING)
def test_ctc_decreasing_terms_below_at_above_each_threshold(term, lln, value, expected):
    result = grade(term, value, lln=lln)
    assert result.grade == expected
    assert result.grade_at_least == expected


@pytest.mark.parametrize(
    ("term", "value", "expected"),
    [
        (T.ANEMIA, 80.0, 2),  # §5.1: Hb 80 g/L -> G2
        (T.ANEMIA, 100.0, 1),  # Hb 100 g/L -> G1
        (T.PLATELET_COUNT_DECREASED, 75.0, 1),
        (T.PLATELET_COUNT_DECREASED, 50.0, 2),
        (T.PLATELET_COUNT_DECREASED, 25.0, 3),
        (T.NEUTROPHIL_COUNT_DECREASED, 1.5, 1),
        (T.NEUTROPHIL_COUNT_DECREASED, 1.0, 2),
        (T.NEUTROPHIL_COUNT_DECREASED, 0.5, 3),
    ],
)
def test_ctc_boundary_values_listed_in_section_5_1(term, value, expected):
    lln = {T.ANEMIA: 120.0}.get(term, 150.0 if term is T.PLATELET_COUNT_DECREASED else 2.0)
    assert grade(term, value, lln=lln).grade == expected


def test_ctc_anemia_and_hypoalbuminemia_never_reach_grade_4_from_labs():
    assert grade(T.ANEMIA, 20.0, lln=120.0).grade == 3
    assert grade(T.HYPOALBUMINEMIA, 6.0, lln=35.0).grade == 3


def _uln_edges(term, uln, thresholds, op_ge_first=False):
    cases = []
    for g, k in thresholds:
        t = k * uln
        at = g if (op_ge_first and g == thresholds[0][0]) else g - 1
        cases += [(t - 0.1, g - 1), (t, at), (t + 0.1, g)]
    return [pytest.param(term, uln, v, g, id=f"{RULE_ID[term]}-{v:g}") for v, g in cases]


INCREASING_ULN = (
    # CTC-CREAT (ULN-based): G1 > ULN, G2 > 1.5, G3 > 3.0, G4 > 6.0 x ULN (§5.1)
    _uln_edges(T.CREATININE_INCREASED, 100.0, [(1, 1.0), (2, 1.5), (3, 3.0), (4, 6.0)])
    # CTC-BILI (baseline normal): G1 > ULN, G2 > 1.5, G3 > 3.0, G4 > 10 x ULN
    + _uln_edges(T.BLOOD_BILIRUBIN_INCREASED, 20.0, [(1, 1.0), (2, 1.5), (3, 3.0), (4, 10.0)])
    # CTC-AST / CTC-ALT (baseline normal): G1 > ULN, G2 > 3, G3 > 5, G4 > 20 x ULN
    + _uln_edges(T.AST_INCREASED, 40.0, [(1, 1.0), (2, 3.0), (3, 5.0), (4, 20.0)])
    + _uln_edges(T.ALT_INCREASED, 40.0, [(1, 1.0), (2, 3.0), (3, 5.0), (4, 20.0)])
)


@pytest.mark.parametrize(("term", "uln", "value", "expected"), INCREASING_ULN)
def test_ctc_increasing_terms_uln_bands_below_at_above(term, uln, value, expected):
    # creatinine needs a baseline to be determinate; a baseline equal to the value is neutral.
    baseline = value if term is T.CREATININE_INCREASED else None
    assert grade(term, value, uln=uln, baseline=baseline).grade == expected


def test_ctc_boundary_multiples_of_section_5_1():
    assert grade(T.CREATININE_INCREASED, 132.0, uln=88.0, baseline=88.0).grade == 1  # 1.5 x ULN
    assert grade(T.BLOOD_BILIRUBIN_INCREASED, 51.3, uln=17.1).grade == 2  # 3.0 x 17.1 as entered
    assert grade(T.ALT_INCREASED, 165.0, uln=33.0).grade == 2  # 5 x ULN
    # exact decimal comparison: 1.5 x 1.1 = 1.65 exactly, not 1.6500000000000001
    assert grade(T.BLOOD_BILIRUBIN_INCREASED, 1.65, uln=1.1).grade == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (89.9, 0),  # 1.5 x baseline 60 = 90: not above
        (90.0, 0),  # at
        (90.1, 2),  # above 1.5 x baseline -> G2 although below ULN
        (179.9, 2),
        (180.0, 2),  # 3.0 x baseline = 180: at -> still G2 (ULN-based G2 too)
        (180.1, 3),  # > 3.0 x baseline -> G3
    ],
)
def test_ctc_creat_baseline_bands_report_the_higher_grade(value, expected):
    uln = 110.0 if value < 110 else 100.0
    result = grade(T.CREATININE_INCREASED, value, uln=uln, baseline=60.0)
    assert result.grade == max(expected, 1 if value > uln else 0, 2 if value > 1.5 * uln else 0)


def test_ctc_creat_g1_is_uln_based_only_in_v5():
    # 1.2 x baseline but below ULN: v4.03 had a baseline-based G1, v5.0 does not.
    assert grade(T.CREATININE_INCREASED, 72.0, uln=110.0, baseline=60.0).grade == 0


@pytest.mark.parametrize(
    ("term", "value", "expected"),
    [
        # CTC-AST abnormal baseline (baseline 100 > ULN 40): G1 >= 1.5 x baseline
        (T.AST_INCREASED, 149.9, 0),  # 1.0-<1.5 x baseline is grade 0
        (T.AST_INCREASED, 150.0, 1),
        (T.AST_INCREASED, 150.1, 1),
        (T.AST_INCREASED, 299.9, 1),
        (T.AST_INCREASED, 300.0, 1),
        (T.AST_INCREASED, 300.1, 2),
        (T.AST_INCREASED, 500.0, 2),
        (T.AST_INCREASED, 500.1, 3),
        (T.AST_INCREASED, 2000.0, 3),
        (T.AST_INCREASED, 2000.1, 4),
        (T.ALT_INCREASED, 149.9, 0),
        (T.ALT_INCREASED, 150.0, 1),
        (T.ALT_INCREASED, 300.1, 2),
        (T.ALT_INCREASED, 500.1, 3),
        (T.ALT_INCREASED, 2000.1, 4),
        # CTC-BILI abnormal baseline (baseline 100 > ULN 40): G1 > 1.0 x baseline
        (T.BLOOD_BILIRUBIN_INCREASED, 100.0, 0),
        (T.BLOOD_BILIRUBIN_INCREASED, 100.1, 1),
        (T.BLOOD_BILIRUBIN_INCREASED, 150.0, 1),
        (T.BLOOD_BILIRUBIN_INCREASED, 150.1, 2),
        (T.BLOOD_BILIRUBIN_INCREASED, 300.0, 2),
        (T.BLOOD_BILIRUBIN_INCREASED, 300.1, 3),
        (T.BLOOD_BILIRUBIN_INCREASED, 1000.0, 3),
    ],
)
def test_ctc_abnormal_baseline_bands(term, value, expected):
    assert grade(term, value, uln=40.0, baseline=100.0).grade == expected


def test_ctc_bili_abnormal_baseline_grade_4():
    # > 10 x baseline (baseline 30 > ULN 20)
    assert grade(T.BLOOD_BILIRUBIN_INCREASED, 300.0, uln=20.0, baseline=30.0).grade == 3
    assert grade(T.BLOOD_BILIRUBIN_INCREASED, 300.1, uln=20.0, baseline=30.0).grade == 4


def test_ctc_baseline_at_uln_counts_as_normal():
    # baseline equal to ULN is not "abnormal" (abnormal = baseline > ULN)
    assert grade(T.AST_INCREASED, 41.0, uln=40.0, baseline=40.0).grade == 1


def test_missing_lln_makes_grade_1_indeterminate_but_not_higher_grades():
    r = grade(T.PLATELET_COUNT_DECREASED, 100.0)
    assert (r.grade, r.grade_at_least, r.missing) == (None, 0, ("lln",))
    assert grade(T.PLATELET_COUNT_DECREASED, 40.0).grade == 3


def test_missing_baseline_makes_creatinine_below_3_uln_indeterminate():
    r = grade(T.CREATININE_INCREASED, 120.0, uln=100.0)
    assert r.grade is None
    assert r.grade_at_least == 1
    assert r.missing == ("baseline",)
    assert grade(T.CREATININE_INCREASED, 400.0, uln=100.0).grade == 3  # > 3 ULN, G4 excluded
    assert grade(T.CREATININE_INCREASED, 601.0, uln=100.0).grade == 4


def test_missing_uln_is_indeterminate_for_uln_terms():
    r = grade(T.ALT_INCREASED, 500.0)
    assert r.grade is None
    assert "uln" in r.missing


def test_missing_baseline_for_transaminase_uses_normal_bands_and_says_so():
    r = grade(T.ALT_INCREASED, 130.0, uln=40.0)
    assert r.grade == 2
    assert any("baseline" in a for a in r.assumptions)


def test_ckd_default_lln_is_90():
    r = grade(T.CHRONIC_KIDNEY_DISEASE, 89.9)
    assert r.grade == 1
    assert r.assumptions
    assert grade(T.CHRONIC_KIDNEY_DISEASE, 90.0).grade == 0


def test_result_reports_band_threshold_and_source():
    r = grade(T.BLOOD_BILIRUBIN_INCREASED, 61.0, uln=20.0)
    assert r.grade == 3
    assert r.operator == ">"
    assert r.threshold == 60.0
    assert r.basis == "ULN"
    assert r.rule_id == "CTC-BILI"
    assert "CTCAE v5.0" in r.source
    assert r.to_dict()["grade"] == 3
    assert r.unit == "µmol/L"


def test_grade_analyte_maps_each_analyte_to_its_term():
    assert TERM_FOR_ANALYTE[Analyte.PLATELETS] is T.PLATELET_COUNT_DECREASED
    assert TERM_ANALYTE[T.CHRONIC_KIDNEY_DISEASE] is None
    assert grade_analyte(Analyte.NEUTROPHILS, 0.9, lln=2.0).grade == 3
    with pytest.raises(InvalidInputError, match="analyte"):
        grade_analyte(Analyte.INR, 2.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"term": "platelets", "value": 50.0}, "term"),
        ({"term": T.PLATELET_COUNT_DECREASED, "value": 5000.0}, "value"),
        ({"term": T.ANEMIA, "value": 900.0}, "value"),
        ({"term": T.CREATININE_INCREASED, "value": -1.0}, "value"),
        ({"term": T.ANEMIA, "value": "80"}, "value"),
        ({"term": T.ANEMIA, "value": float("nan")}, "value"),
        ({"term": T.ANEMIA, "value": 80.0, "lln": 0.0}, "lln"),
        ({"term": T.ALT_INCREASED, "value": 80.0, "uln": -4.0}, "uln"),
        ({"term": T.ALT_INCREASED, "value": 80.0, "baseline": "40"}, "baseline"),
        ({"term": T.ANEMIA, "value": 80.0, "version": "6.0"}, "version"),
    ],
)
def test_bad_input_is_refused_naming_the_field(kwargs, field):
    with pytest.raises(InvalidInputError) as info:
        grade(**kwargs)
    assert info.value.field == field
    assert info.value.expected


def test_term_accepts_its_string_value():
    assert grade("platelet_count_decreased", 60.0).grade == 2  # type: ignore[arg-type]


def test_rule_ids_of_results_match_section_5_1():
    for term, rule_id in RULE_ID.items():
        result = grade(
            term,
            50.0,
            uln=40.0,
            lln=40.0,
            baseline=40.0,
        )
        assert result.rule_id == rule_id
