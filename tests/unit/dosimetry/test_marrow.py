"""Unit tests of prrt.dosimetry.marrow (EANM 2010 blood-based method)."""

from __future__ import annotations

import pytest

from prrt.dosimetry.marrow import (
    red_marrow_dose_blood_method,
    red_marrow_mass_kg,
    rmblr_from_hematocrit,
)
from prrt.dosimetry.svalues import Phantom, load_svalue_table
from prrt.errors import InvalidInputError

AM = Phantom.ICRP89_AM


def test_marrow_dose_includes_organ_and_remainder_cross_dose() -> None:
    """D_RM = Ã_RM·S(RM←RM) + Σ Ã_h S(RM←h) + Ã_RB S(RM←RB) with RB = TB − RM − organs."""
    table = load_svalue_table(AM)
    blood = 0.5e6 * 3600
    organs = {"kidneys": 2e12, "liver": 3e12}
    tb = 60e12
    dose = red_marrow_dose_blood_method(
        blood_tia_bq_s_per_ml=blood, phantom=AM, organ_tia_bq_s=organs, total_body_tia_bq_s=tb
    )
    rm = blood * 1170.0
    s = table.s_gy_per_bq_s
    rob = table.remainder_of_body_s_gy_per_bq_s(
        target="red_marrow", sources=["red_marrow", "kidneys", "liver"]
    )
    expected = (
        rm * s(target="red_marrow", source="red_marrow")
        + 2e12 * s(target="red_marrow", source="kidneys")
        + 3e12 * s(target="red_marrow", source="liver")
        + (tb - rm - 5e12) * rob
    )
    assert dose.absorbed_dose_gy == pytest.approx(expected, rel=1e-12)
    assert dose.remainder_included
    assert dose.remainder_dose_gy > 0.0
    assert dose.self_dose_gy + dose.organ_cross_dose_gy + dose.remainder_dose_gy == pytest.approx(
        dose.absorbed_dose_gy
    )


def test_without_total_body_remainder_is_flagged_missing() -> None:
    dose = red_marrow_dose_blood_method(blood_tia_bq_s_per_ml=1e9, phantom=AM)
    assert not dose.remainder_included
    assert dose.remainder_dose_gy == 0.0


def test_hematocrit_rmblr_scales_self_dose() -> None:
    one = red_marrow_dose_blood_method(blood_tia_bq_s_per_ml=1e9, phantom=AM)
    ratio = rmblr_from_hematocrit(hematocrit_fraction=0.40)
    low = red_marrow_dose_blood_method(blood_tia_bq_s_per_ml=1e9, phantom=AM, rmblr=ratio)
    assert low.self_dose_gy == pytest.approx(one.self_dose_gy * 0.19 / 0.60, rel=1e-12)


def test_patient_marrow_mass_keeps_self_dose_per_concentration() -> None:
    """Analytic: Ã_RM ∝ m and S_self ∝ 1/m (linear scaling), so the self-dose is unchanged."""
    ref = red_marrow_dose_blood_method(blood_tia_bq_s_per_ml=1e9, phantom=AM)
    light = red_marrow_dose_blood_method(blood_tia_bq_s_per_ml=1e9, phantom=AM, marrow_mass_kg=0.8)
    assert light.self_dose_gy == pytest.approx(ref.self_dose_gy, rel=1e-12)
    assert light.mass_kg == 0.8


def test_marrow_mass_scaled_by_body_mass() -> None:
    assert red_marrow_mass_kg(phantom=AM, body_mass_kg=36.5) == pytest.approx(0.585)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"blood_tia_bq_s_per_ml": -1.0}, "blood_tia_bq_s_per_ml"),
        ({"rmblr": 0.0}, "rmblr"),
        ({"marrow_mass_kg": 0.0}, "marrow_mass_kg"),
        ({"organ_tia_bq_s": {"red_marrow": 1.0}}, r"organ_tia_bq_s\.red_marrow"),
        ({"organ_tia_bq_s": {"pituitary": 1.0}}, r"tia_bq_s\.pituitary"),
    ],
)
def test_bad_inputs_name_the_field(kwargs: dict, field: str) -> None:
    args = {"blood_tia_bq_s_per_ml": 1e9, "phantom": AM, **kwargs}
    with pytest.raises(InvalidInputError, match=rf"^{field}"):
        red_marrow_dose_blood_method(**args)


def test_hematocrit_given_in_percent_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^hematocrit_fraction.*0.42, not 42"):
        rmblr_from_hematocrit(hematocrit_fraction=42.0)
