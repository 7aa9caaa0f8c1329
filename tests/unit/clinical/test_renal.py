"""Unit tests of prrt.clinical.renal (clinical-rules.md §6 RENAL-1..3, §0.3)."""

from __future__ import annotations

import math
import warnings

import pytest

from prrt.clinical.renal import (
    Sex,
    creatinine_clearance_cockcroft_gault,
    egfr_ckd_epi_2021,
    round_half_up,
)
from prrt.errors import InvalidInputError, NonConformingInputWarning


@pytest.mark.parametrize(
    ("scr_mg_dl", "age", "sex", "expected"),
    [
        (0.7, 40, Sex.FEMALE, 112.1),  # RENAL-1 check values [D]
        (0.9, 40, Sex.MALE, 110.7),
        (1.0, 60, Sex.MALE, 86.2),
    ],
)
def test_renal_1_egfr_against_check_values_of_the_spec(scr_mg_dl, age, sex, expected):
    assert (
        egfr_ckd_epi_2021(creatinine_umol_per_l=scr_mg_dl * 88.4, age_years=age, sex=sex)
        == expected
    )


def test_renal_1_egfr_analytic_formula_both_branches():
    # Female, Scr 1.4 mg/dL (above kappa 0.7): 142 * (1.4/0.7)^-1.2 * 0.9938^50 * 1.012
    expected = 142 * (1.4 / 0.7) ** -1.2 * 0.9938**50 * 1.012
    got = egfr_ckd_epi_2021(creatinine_umol_per_l=1.4 * 88.4, age_years=50, sex=Sex.FEMALE)
    assert got == round_half_up(expected)
    # Male, Scr 0.6 mg/dL (below kappa 0.9): 142 * (0.6/0.9)^-0.302 * 0.9938^30
    expected = 142 * (0.6 / 0.9) ** -0.302 * 0.9938**30
    got = egfr_ckd_epi_2021(creatinine_umol_per_l=0.6 * 88.4, age_years=30, sex=Sex.MALE)
    assert got == round_half_up(expected)


def test_renal_2_cockcroft_gault_analytic():
    # (140-60)*72/(72*1.0) = 80.0; female x 0.85 = 68.0
    assert (
        creatinine_clearance_cockcroft_gault(
            creatinine_umol_per_l=88.4, age_years=60, weight_kg=72, sex=Sex.MALE
        )
        == 80.0
    )
    assert (
        creatinine_clearance_cockcroft_gault(
            creatinine_umol_per_l=88.4, age_years=60, weight_kg=72, sex=Sex.FEMALE
        )
        == 68.0
    )


def test_renal_2_uses_exact_88_4_not_rounded_constant_1_23():
    # 1.23 * (140-70) * 60 / 120 = 43.05 vs exact 88.4/72 = 1.2277...: 42.98 -> 43.0
    got = creatinine_clearance_cockcroft_gault(
        creatinine_umol_per_l=120, age_years=70, weight_kg=60, sex=Sex.MALE
    )
    assert got == round_half_up(70 * 60 * 88.4 / 72 / 120)
    assert got == 43.0
    assert got != round_half_up(1.23 * 70 * 60 / 120)


def test_renal_3_round_once_half_away_from_zero():
    assert round_half_up(49.95) == 50.0  # §0.3 example
    assert round_half_up(49.94999) == 49.9
    assert round_half_up(0.05) == 0.1  # banker's round() would give 0.1 too, but
    assert round_half_up(0.25) == 0.3  # round(0.25, 1) == 0.2 (banker's)
    assert round_half_up(-0.25) == -0.3


def test_renal_3_crcl_49_97_displays_50_0():
    # §3.4: unrounded 49.97 displays 50.0; choose weight so that CrCl = 49.97 exactly in theory.
    weight = 49.97 * 72 * 1.0 / (140 - 60)
    raw = (140 - 60) * weight / 72
    assert math.isclose(raw, 49.97)
    assert (
        creatinine_clearance_cockcroft_gault(
            creatinine_umol_per_l=88.4, age_years=60, weight_kg=weight, sex=Sex.MALE
        )
        == 50.0
    )


def test_creatinine_increase_lowers_both_estimates():
    low = egfr_ckd_epi_2021(creatinine_umol_per_l=80, age_years=50, sex=Sex.MALE)
    high = egfr_ckd_epi_2021(creatinine_umol_per_l=160, age_years=50, sex=Sex.MALE)
    assert high < low


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"creatinine_umol_per_l": -1.0}, "creatinine_umol_per_l"),
        ({"creatinine_umol_per_l": 0.0}, "creatinine_umol_per_l"),
        ({"creatinine_umol_per_l": "88"}, "creatinine_umol_per_l"),
        ({"creatinine_umol_per_l": float("nan")}, "creatinine_umol_per_l"),
        ({"age_years": -3}, "age_years"),
        ({"age_years": 140}, "age_years"),
        ({"age_years": None}, "age_years"),
        ({"weight_kg": 0.0}, "weight_kg"),
        ({"weight_kg": 700.0}, "weight_kg"),
        ({"weight_kg": True}, "weight_kg"),
        ({"sex": "unknown"}, "sex"),
    ],
)
def test_bad_renal_input_is_refused_naming_the_field(kwargs, field):
    args = {"creatinine_umol_per_l": 88.4, "age_years": 60, "weight_kg": 70.0, "sex": Sex.MALE}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        creatinine_clearance_cockcroft_gault(**args)
    assert info.value.field == field


def test_sex_accepts_string_value():
    assert egfr_ckd_epi_2021(creatinine_umol_per_l=0.7 * 88.4, age_years=40, sex="female") == 112.1  # type: ignore[arg-type]


def test_paediatric_age_warns_not_validated():
    with pytest.warns(NonConformingInputWarning, match="adults"):
        egfr_ckd_epi_2021(creatinine_umol_per_l=60, age_years=15, sex=Sex.MALE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        egfr_ckd_epi_2021(creatinine_umol_per_l=60, age_years=18, sex=Sex.MALE)


def test_egfr_and_crcl_disagree_for_elderly_low_weight_patient():
    # §3.4 edge case: female 85 y, 45 kg, Scr 80 µmol/L. Cockcroft-Gault (RENAL-2):
    # (140-85) x 45 x 0.85 x 88.4 / (72 x 80) = 32.3 mL/min; CKD-EPI 2021 (RENAL-1):
    # 142 x (0.9050/0.7)^-1.2 x 0.9938^85 x 1.012 = 62.2 mL/min/1.73 m².
    crcl = creatinine_clearance_cockcroft_gault(
        creatinine_umol_per_l=80, age_years=85, weight_kg=45, sex=Sex.FEMALE
    )
    egfr = egfr_ckd_epi_2021(creatinine_umol_per_l=80, age_years=85, sex=Sex.FEMALE)
    assert crcl == round_half_up(55 * 45 * 0.85 * 88.4 / (72 * 80))
    assert egfr == round_half_up(142 * ((80 / 88.4) / 0.7) ** -1.2 * 0.9938**85 * 1.012)
    assert crcl < 40.0 < 60.0 < egfr
