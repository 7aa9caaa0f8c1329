"""Unit tests of prrt.dosimetry.organ (MIRD sums, conventions, local deposition, lesions)."""

from __future__ import annotations

import pytest

from prrt.dosimetry.organ import (
    KidneyConvention,
    lesion_dose,
    local_deposition_dose,
    mird_organ_doses,
)
from prrt.dosimetry.svalues import Phantom, load_svalue_table
from prrt.errors import InvalidInputError
from prrt.physics import get_nuclide
from prrt.units import J_PER_MEV

AM = Phantom.ICRP89_AM
H = 3600.0


def test_dose_is_sum_of_tia_times_s() -> None:
    """MIRD schema: D(kidneys) = Ã_k·S(k←k) + Ã_l·S(k←l) + Ã_s·S(k←s)."""
    table = load_svalue_table(AM)
    tia = {"kidneys": 3e12, "liver": 5e12, "spleen": 1e12}
    dose = mird_organ_doses(tia_bq_s=tia, phantom=AM)["kidneys"]
    expected = sum(v * table.s_gy_per_bq_s(target="kidneys", source=k) for k, v in tia.items())
    assert dose.absorbed_dose_gy == pytest.approx(expected, rel=1e-12)
    assert dose.self_dose_gy == pytest.approx(
        3e12 * table.s_gy_per_bq_s(target="kidneys", source="kidneys")
    )
    assert dose.cross_dose_gy == pytest.approx(expected - dose.self_dose_gy)
    assert dose.rbe_weighted_dose_gy == pytest.approx(dose.absorbed_dose_gy)


def test_total_body_becomes_remainder_with_corrected_s() -> None:
    """Ã(RB) = Ã(TB) − ΣÃ(s) and S(t←RB) from the ROB formula (§2.1)."""
    table = load_svalue_table(AM)
    tia = {"kidneys": 3e12, "liver": 5e12, "total_body": 40e12}
    dose = mird_organ_doses(tia_bq_s=tia, phantom=AM)["kidneys"]
    rb = next(c for c in dose.contributions if c.source == "remainder_of_body")
    assert rb.time_integrated_activity_bq_s == pytest.approx(32e12)
    assert rb.s_value_gy_per_bq_s == pytest.approx(
        table.remainder_of_body_s_gy_per_bq_s(target="kidneys", sources=["kidneys", "liver"])
    )
    assert "total_body" not in {c.source for c in dose.contributions}


def test_total_body_alone_uses_table_value() -> None:
    table = load_svalue_table(AM)
    dose = mird_organ_doses(tia_bq_s={"total_body": 1e12}, phantom=AM)["total_body"]
    assert dose.absorbed_dose_gy == pytest.approx(
        1e12 * table.s_gy_per_bq_s(target="total_body", source="total_body")
    )


def test_total_body_below_parts_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^tia_bq_s\.total_body"):
        mird_organ_doses(tia_bq_s={"kidneys": 5e12, "total_body": 1e12}, phantom=AM)


def test_total_body_and_remainder_together_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"either 'total_body' or 'remainder_of_body'"):
        mird_organ_doses(
            tia_bq_s={"kidneys": 1.0, "total_body": 5.0, "remainder_of_body": 3.0}, phantom=AM
        )


def test_self_dose_scaled_cross_dose_not() -> None:
    """§2.1: patient mass scales the self S only (kidneys 310 → 155 g doubles self-dose)."""
    tia = {"kidneys": 1e12, "spleen": 1e12}
    ref = mird_organ_doses(tia_bq_s=tia, phantom=AM)["kidneys"]
    light = mird_organ_doses(tia_bq_s=tia, phantom=AM, patient_masses_kg={"kidneys": 0.155})[
        "kidneys"
    ]
    assert light.self_dose_gy == pytest.approx(2 * ref.self_dose_gy, rel=1e-12)
    assert light.cross_dose_gy == pytest.approx(ref.cross_dose_gy, rel=1e-12)
    assert light.mass_kg == pytest.approx(0.155)


def test_per_kidney_and_combined_agree_for_symmetric_kidneys() -> None:
    """§2.3 guard against the factor-2 error: half the TIA in each half-mass kidney gives the
    combined dose (analytic, contralateral photon cross-dose neglected)."""
    combined = mird_organ_doses(
        tia_bq_s={"kidneys": 2e12, "liver": 4e12}, phantom=AM, patient_masses_kg={"kidneys": 0.3}
    )["kidneys"]
    per = mird_organ_doses(
        tia_bq_s={"left_kidney": 1e12, "right_kidney": 1e12, "liver": 4e12},
        phantom=AM,
        patient_masses_kg={"left_kidney": 0.15, "right_kidney": 0.15},
        kidney_convention=KidneyConvention.PER_KIDNEY,
    )
    for side in ("left_kidney", "right_kidney"):
        assert per[side].absorbed_dose_gy == pytest.approx(combined.absorbed_dose_gy, rel=1e-12)


def test_kidney_names_must_match_convention() -> None:
    with pytest.raises(InvalidInputError, match=r"^tia_bq_s\.left_kidney.*combined"):
        mird_organ_doses(tia_bq_s={"left_kidney": 1e12}, phantom=AM)
    with pytest.raises(InvalidInputError, match=r"^tia_bq_s\.kidneys.*per-kidney"):
        mird_organ_doses(
            tia_bq_s={"kidneys": 1e12}, phantom=AM, kidney_convention=KidneyConvention.PER_KIDNEY
        )


def test_unknown_source_and_bad_values_name_the_field() -> None:
    with pytest.raises(InvalidInputError, match=r"^tia_bq_s\.pituitary"):
        mird_organ_doses(tia_bq_s={"pituitary": 1e12}, phantom=AM)
    with pytest.raises(InvalidInputError, match=r"^tia_bq_s\.liver.*non-negative"):
        mird_organ_doses(tia_bq_s={"liver": -1.0}, phantom=AM)
    with pytest.raises(InvalidInputError, match=r"^patient_masses_kg\.liver.*positive"):
        mird_organ_doses(tia_bq_s={"liver": 1e12}, phantom=AM, patient_masses_kg={"liver": 0.0})
    with pytest.raises(InvalidInputError, match=r"^targets"):
        mird_organ_doses(tia_bq_s={"liver": 1e12}, phantom=AM, targets=["pituitary"])
    with pytest.raises(InvalidInputError, match=r"^tia_bq_s"):
        mird_organ_doses(tia_bq_s={}, phantom=AM)
    with pytest.raises(InvalidInputError, match=r"^nuclide"):
        mird_organ_doses(tia_bq_s={"liver": 1e12}, phantom=AM, nuclide="Y-90")


def test_extra_targets_receive_cross_dose() -> None:
    table = load_svalue_table(AM)
    doses = mird_organ_doses(tia_bq_s={"liver": 1e12}, phantom=AM, targets=["red_marrow"])
    assert set(doses) == {"liver", "red_marrow"}
    assert doses["red_marrow"].absorbed_dose_gy == pytest.approx(
        1e12 * table.s_gy_per_bq_s(target="red_marrow", source="liver")
    )


def test_local_deposition_pb212_separates_alpha() -> None:
    """§1.3 EMIS-04 (Pb-212 chain: alpha 7.802 + recoil 0.150 MeV, electrons 0.901 MeV)."""
    dose = local_deposition_dose(tia_bq_s=1e12, mass_kg=0.5, nuclide="Pb-212", rbe_alpha=5.0)
    assert dose.alpha_dose_gy == pytest.approx(1e12 * (7.802 + 0.150) * J_PER_MEV / 0.5, rel=2e-3)
    assert dose.low_let_dose_gy == pytest.approx(1e12 * 0.901 * J_PER_MEV / 0.5, rel=2e-3)
    no_recoil = local_deposition_dose(
        tia_bq_s=1e12, mass_kg=0.5, nuclide="Pb-212", include_alpha_recoil=False
    )
    assert no_recoil.alpha_dose_gy == pytest.approx(1e12 * 7.802 * J_PER_MEV / 0.5, rel=2e-3)
    parent_only = local_deposition_dose(
        tia_bq_s=1e12, mass_kg=0.5, nuclide="Pb-212", daughters_in_situ=False
    )
    assert parent_only.alpha_dose_gy == 0.0


def test_rbe_is_a_setting_within_deterministic_range() -> None:
    d3 = local_deposition_dose(tia_bq_s=1e12, mass_kg=1.0, nuclide="Ac-225", rbe_alpha=3.0)
    d5 = local_deposition_dose(tia_bq_s=1e12, mass_kg=1.0, nuclide="Ac-225")
    assert d5.rbe_alpha == 5.0
    assert d5.rbe_weighted_dose_gy - d3.rbe_weighted_dose_gy == pytest.approx(2 * d5.alpha_dose_gy)
    with pytest.raises(InvalidInputError, match=r"^rbe_alpha.*weighting factor 20"):
        local_deposition_dose(tia_bq_s=1e12, mass_kg=1.0, nuclide="Ac-225", rbe_alpha=20.0)


def test_local_deposition_bad_inputs() -> None:
    with pytest.raises(InvalidInputError, match=r"^mass_kg"):
        local_deposition_dose(tia_bq_s=1e12, mass_kg=0.0, nuclide="Y-90")
    with pytest.raises(InvalidInputError, match=r"^nuclide"):
        local_deposition_dose(tia_bq_s=1e12, mass_kg=1.0, nuclide="Xx-999")
    with pytest.raises(InvalidInputError, match=r"^tia_bq_s"):
        local_deposition_dose(tia_bq_s=float("nan"), mass_kg=1.0, nuclide="Y-90")


def test_lesion_dose_uses_local_deposition_for_y90() -> None:
    y90 = get_nuclide("Y-90")
    dose = lesion_dose(tia_bq_s=1e12, mass_kg=0.02, nuclide="Y-90")
    assert dose.absorbed_dose_gy == pytest.approx(1e12 * y90.emissions.electron_j / 0.02)
    assert dose.method.startswith("local deposition")


def test_to_dict_is_json_ready() -> None:
    d = mird_organ_doses(tia_bq_s={"liver": 1e12, "kidneys": 1e12}, phantom=AM)["liver"].to_dict()
    assert d["region"] == "liver"
    assert d["absorbed_dose_gy"] == pytest.approx(d["self_dose_gy"] + d["cross_dose_gy"])
    assert {c["source"] for c in d["contributions"]} == {"liver", "kidneys"}
