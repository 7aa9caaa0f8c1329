"""Organ-level dosimetry against the published and derived values of dosimetry-reference.md.

Each test names the case (ORG-, SPH-, RB-, RM-) and section of
``/work/shared/docs/dosimetry-reference.md`` it reproduces and the tolerance
used, with the reason for that tolerance.
"""

from __future__ import annotations

import math

import pytest

from prrt.dosimetry.course import (
    CycleDosimetry,
    CycleOrganDose,
    check_limits,
    cumulative_doses,
    load_limit_profile,
    plan_cycles,
)
from prrt.dosimetry.marrow import red_marrow_dose_blood_method, rmblr_from_hematocrit
from prrt.dosimetry.organ import (
    KidneyConvention,
    lesion_dose,
    local_deposition_dose,
    mird_organ_doses,
)
from prrt.dosimetry.radiobiology import (
    ExponentialDoseRate,
    bed_for_dose_rate,
    bed_gy,
    eqd2_gy,
    g_factor,
    g_factor_mono_exponential,
    g_factor_uptake_washout,
    radiobiology_parameters,
)
from prrt.dosimetry.spheres import sphere_s_value_gy_per_bq_s
from prrt.dosimetry.svalues import (
    MassScaling,
    Phantom,
    load_svalue_table,
    scale_self_s_value,
)
from prrt.physics import get_nuclide
from prrt.units import J_PER_MEV

pytestmark = pytest.mark.validation

H = 3600.0
MGY_MBQ_S = 1e-9  # 1 mGy/(MBq·s) in Gy/(Bq·s)
LN2 = math.log(2.0)

# §2.2 tables, as printed (3 significant digits): rel. tolerance 0.5 % covers rounding only.
AM = {
    ("kidneys", "kidneys"): 7.76e-5,
    ("kidneys", "liver"): 1.20e-7,
    ("kidneys", "spleen"): 2.65e-7,
    ("kidneys", "red_marrow"): 4.71e-8,
    ("kidneys", "trabecular_bone"): 1.73e-8,
    ("kidneys", "total_body"): 3.58e-7,
    ("liver", "kidneys"): 1.18e-7,
    ("liver", "liver"): 1.37e-5,
    ("spleen", "kidneys"): 2.58e-7,
    ("spleen", "spleen"): 1.60e-4,
    ("red_marrow", "red_marrow"): 1.15e-5,
    ("red_marrow", "trabecular_bone"): 4.16e-6,
    ("red_marrow", "total_body"): 2.74e-7,
    ("total_body", "total_body"): 3.54e-7,
}
AF = {
    ("kidneys", "kidneys"): 8.70e-5,
    ("kidneys", "spleen"): 4.19e-7,
    ("liver", "liver"): 1.76e-5,
    ("spleen", "spleen"): 1.84e-4,
    ("spleen", "kidneys"): 4.09e-7,
    ("red_marrow", "red_marrow"): 1.49e-5,
    ("red_marrow", "trabecular_bone"): 5.40e-6,
    ("total_body", "total_body"): 4.30e-7,
}


@pytest.mark.parametrize(("phantom", "table"), [(Phantom.ICRP89_AM, AM), (Phantom.ICRP89_AF, AF)])
def test_s_values_against_dosimetry_reference_2_2(phantom: Phantom, table: dict) -> None:
    """ORG-03/04: ICRP-89 Lu-177 S values (§2.2), tolerance 0.5 % (table rounding)."""
    svalues = load_svalue_table(phantom)
    for (target, source), expected in table.items():
        got = svalues.s_gy_per_bq_s(target=target, source=source) / MGY_MBQ_S
        assert got == pytest.approx(expected, rel=5e-3), (target, source)


def test_s_value_orientation_rows_are_targets_against_dosimetry_reference_9() -> None:
    """§9 item 2: S(kidneys←spleen) 2.65e-7 and S(spleen←kidneys) 2.58e-7 (AM), exact."""
    am = load_svalue_table(Phantom.ICRP89_AM)
    assert am.s_gy_per_bq_s(target="kidneys", source="spleen") / MGY_MBQ_S == pytest.approx(2.65e-7)
    assert am.s_gy_per_bq_s(target="spleen", source="kidneys") / MGY_MBQ_S == pytest.approx(2.58e-7)


def test_phantom_masses_against_icrp89() -> None:
    """§2.2 phantom masses (ICRP-89): kidneys 310/275 g, liver 1800/1400, spleen 150/130,
    red marrow 1170/900, total body 73/60 kg; exact."""
    am, af = load_svalue_table(Phantom.ICRP89_AM), load_svalue_table(Phantom.ICRP89_AF)
    for region, male, female in [
        ("kidneys", 0.310, 0.275),
        ("liver", 1.800, 1.400),
        ("spleen", 0.150, 0.130),
        ("red_marrow", 1.170, 0.900),
        ("total_body", 73.0, 60.0),
    ]:
        assert am.mass_kg(region) == pytest.approx(male)
        assert af.mass_kg(region) == pytest.approx(female)


def test_kidney_self_s_against_electron_energy_over_mass_org06() -> None:
    """ORG-06: Δ_e/M (male kidneys) = 7.645e-5 mGy/(MBq·s), table 1.5 % higher (photons).

    Tolerance: Δ_e/M to 0.1 % (4-digit value in §2.2), table/(Δ_e/M) − 1 within 1.0–2.0 %.
    """
    lu = get_nuclide("Lu-177")
    am = load_svalue_table(Phantom.ICRP89_AM)
    de_over_m = lu.emissions.electron_j / am.mass_kg("kidneys") / MGY_MBQ_S
    assert de_over_m == pytest.approx(7.645e-5, rel=1e-3)
    excess = am.s_gy_per_bq_s(target="kidneys", source="kidneys") / MGY_MBQ_S / de_over_m - 1.0
    assert 0.010 <= excess <= 0.020


def test_remainder_of_body_against_org10() -> None:
    """ORG-10: kidneys/liver/spleen segmented (AM) → M_RB 70 740 g, S(kid←RB) 2.58e-8.

    Tolerance: mass exact; S 0.5 % (3-digit published value).
    """
    am = load_svalue_table(Phantom.ICRP89_AM)
    sources = ["kidneys", "liver", "spleen"]
    assert am.remainder_mass_kg(sources) * 1e3 == pytest.approx(70740.0)
    s_rb = am.remainder_of_body_s_gy_per_bq_s(target="kidneys", sources=sources)
    assert s_rb / MGY_MBQ_S == pytest.approx(2.58e-8, rel=5e-3)


def test_mass_scaling_against_org05() -> None:
    """ORG-05: kidneys 310 g → 250 g gives 9.622e-5 (linear) and 9.613e-5 (split).

    Tolerance 0.05 % (4-digit published values).
    """
    lu = get_nuclide("Lu-177")
    common = {"s_phantom_gy_per_bq_s": 7.76e-14, "phantom_mass_kg": 0.310, "patient_mass_kg": 0.250}
    linear = scale_self_s_value(**common)
    split = scale_self_s_value(
        **common,
        method=MassScaling.ELECTRON_PHOTON_SPLIT,
        electron_energy_j=lu.emissions.electron_j,
    )
    assert linear / MGY_MBQ_S == pytest.approx(9.622e-5, rel=5e-4)
    assert split / MGY_MBQ_S == pytest.approx(9.613e-5, rel=5e-4)


def test_per_kidney_s_value_against_opendose_2_3() -> None:
    """§2.3: per-kidney self S from the combined AM value, scaled to 153 g, vs OpenDose
    ICRP-110 left kidney 1.5662e-4 mGy/(MBq·s) (153 g).  Tolerance 2 % (different phantom
    and code; the factor-2 error it guards against would be −50 %)."""
    tia = 1e6  # Bq·s
    per = mird_organ_doses(
        tia_bq_s={"left_kidney": tia},
        phantom=Phantom.ICRP89_AM,
        patient_masses_kg={"left_kidney": 0.153},
        kidney_convention=KidneyConvention.PER_KIDNEY,
    )["left_kidney"]
    assert per.absorbed_dose_gy / tia / MGY_MBQ_S == pytest.approx(1.5662e-4, rel=0.02)


def test_local_deposition_y90_against_org08() -> None:
    """ORG-08: complete decay of 1 GBq Y-90 in 1 kg deposits 49.77 Gy (ICRP-107). Tol 0.05 %."""
    y90 = get_nuclide("Y-90")
    dose = local_deposition_dose(
        tia_bq_s=1e9 / y90.decay_constant_per_s, mass_kg=1.0, nuclide="Y-90"
    )
    assert dose.absorbed_dose_gy == pytest.approx(49.77, rel=5e-4)


def test_local_deposition_lu177_against_org09() -> None:
    """ORG-09: Lu-177, 1 MBq·h in 1 g → 0.0853 Gy (0.08532 in the rpt_dosi guide). Tol 0.05 %."""
    dose = local_deposition_dose(tia_bq_s=1e6 * H, mass_kg=1e-3, nuclide="Lu-177")
    assert dose.absorbed_dose_gy == pytest.approx(0.08532, rel=5e-4)


def test_ac225_rbe_weighted_dose_against_chain_energy_and_mird22() -> None:
    """§1.3 EMIS-03 chain energies (alpha 27.48 + recoil 0.513 MeV, electrons 0.690 MeV per
    Ac-225 decay) and §5.4 RB-09 (RBE 5): 1e12 Bq·s in 1 kg.  Tolerance 0.2 % (3–4 digits)."""
    dose = local_deposition_dose(tia_bq_s=1e12, mass_kg=1.0, nuclide="Ac-225", rbe_alpha=5.0)
    alpha = 1e12 * (27.48 + 0.513) * J_PER_MEV
    low = 1e12 * 0.690 * J_PER_MEV
    assert dose.alpha_dose_gy == pytest.approx(alpha, rel=2e-3)
    assert dose.low_let_dose_gy == pytest.approx(low, rel=2e-3)
    assert dose.rbe_weighted_dose_gy == pytest.approx(5 * alpha + low, rel=2e-3)


@pytest.mark.parametrize(
    ("mass_g", "expected"),
    [(0.00431, 4.54e-9), (0.932, 2.49e-11), (14.6, 1.63e-12), (116.0, 2.07e-13), (932.0, 2.65e-14)],
)
def test_sphere_table_points_against_sph01(mass_g: float, expected: float) -> None:
    """SPH-01: soft-tissue sphere S values at table masses (§2.5), exact to 3 digits (0.1 %)."""
    assert sphere_s_value_gy_per_bq_s(mass_kg=mass_g * 1e-3) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(("mass_g", "expected"), [(10.0, 2.372e-12), (100.0, 2.40e-13)])
def test_sphere_interpolation_against_sph02(mass_g: float, expected: float) -> None:
    """SPH-02: log-log interpolation at 10 g → 2.372e-12 and 100 g → 2.40e-13 Gy/(Bq·s)
    (= 8.54 and 0.864 mGy/(MBq·h)).  Tolerance 0.3 % (printed digits)."""
    assert sphere_s_value_gy_per_bq_s(mass_kg=mass_g * 1e-3) == pytest.approx(expected, rel=3e-3)
    # Unit chain of §2.5: 8.54 and 0.864 mGy/(MBq·h).
    dose = lesion_dose(tia_bq_s=1e6 * H, mass_kg=mass_g * 1e-3)
    mgy_per_mbq_h = {10.0: 8.54, 100.0: 0.864}[mass_g]
    assert dose.absorbed_dose_gy * 1e3 == pytest.approx(mgy_per_mbq_h, rel=3e-3)


def test_sphere_absorbed_fraction_against_first_principles_2_5() -> None:
    """§2.5 [C]: S·m/Δ_e = 0.83 at 4.3 mg, 0.98 at 0.93 g, 1.04 at 932 g. Tolerance ±0.01."""
    de = get_nuclide("Lu-177").emissions.electron_j
    for mass_g, fraction in [(0.00431, 0.83), (0.932, 0.98), (932.0, 1.04)]:
        s = sphere_s_value_gy_per_bq_s(mass_kg=mass_g * 1e-3)
        assert s * mass_g * 1e-3 / de == pytest.approx(fraction, abs=0.01)


def test_g_factor_mono_against_rb01() -> None:
    """RB-01: kidney 5 Gy, T_eff 50 h, T_rep 2.8 h, α/β 2.6 → G 0.05303, BED 5.51, EQD2 3.11.

    Tolerance: half a unit of the last printed digit.
    """
    rate = ExponentialDoseRate.mono_exponential(dose_gy=5.0, effective_half_life_s=50 * H)
    result = bed_for_dose_rate(rate, radiobiology_parameters("kidneys"))
    assert result.g_factor == pytest.approx(0.05303, abs=5e-6)
    assert result.bed_gy == pytest.approx(5.51, abs=5e-3)
    assert result.eqd2_gy == pytest.approx(3.11, abs=5e-3)


def test_g_factor_general_equals_closed_forms_5_1() -> None:
    """§5.1: the general sum-of-exponentials G equals T_rep/(T_rep+T_eff) and Baechler's
    uptake–washout form (0.052180 for T_u 2 h, T_w 50 h, T_rep 2.8 h).  Tolerance 1e-6."""
    mono = ExponentialDoseRate.mono_exponential(dose_gy=3.0, effective_half_life_s=80 * H)
    assert g_factor(mono, repair_half_time_s=1.5 * H) == pytest.approx(
        g_factor_mono_exponential(effective_half_life_s=80 * H, repair_half_time_s=1.5 * H),
        abs=1e-12,
    )
    lu, lw = LN2 / (2 * H), LN2 / (50 * H)
    curve = ExponentialDoseRate(((1e-5, lw), (-1e-5, lu)))
    general = g_factor(curve, repair_half_time_s=2.8 * H)
    closed = g_factor_uptake_washout(
        uptake_half_life_s=2 * H, washout_half_life_s=50 * H, repair_half_time_s=2.8 * H
    )
    assert general == pytest.approx(0.052180, abs=1e-6)
    assert closed == pytest.approx(general, abs=1e-12)


def test_multicycle_bed_against_rb05_rb06() -> None:
    """RB-05/06: 4 × 5.75 Gy → 23 Gy, BED 25.70 Gy (T_eff 50 h). Tolerance 0.005 Gy."""
    g = g_factor_mono_exponential(effective_half_life_s=50 * H, repair_half_time_s=2.8 * H)
    cycles = [
        CycleDosimetry(
            cycle_number=i,
            administered_activity_bq=7.4e9,
            organs={"kidneys": CycleOrganDose("kidneys", 5.75, g, 2.6)},
        )
        for i in range(1, 5)
    ]
    total = cumulative_doses(cycles)["kidneys"]
    assert total.absorbed_dose_gy == pytest.approx(23.0, abs=1e-9)
    assert total.bed_gy == pytest.approx(25.70, abs=5e-3)


def test_label_course_against_rb07_rb08() -> None:
    """RB-07/08: 4 × 7.4 GBq at 0.65 Gy/GBq (4.81 Gy/cycle) → 19.24 Gy, BED 21.13 Gy; a fifth
    cycle would exceed 23 Gy.  Tolerance 0.005 Gy; cycle counts exact."""
    g = g_factor_mono_exponential(effective_half_life_s=50 * H, repair_half_time_s=2.8 * H)
    per_cycle = 0.65e-9 * 7.4e9
    assert per_cycle == pytest.approx(4.81)
    cycles = [
        CycleDosimetry(
            cycle_number=i,
            administered_activity_bq=7.4e9,
            organs={"kidneys": CycleOrganDose("kidneys", per_cycle, g, 2.6)},
        )
        for i in range(1, 5)
    ]
    total = cumulative_doses(cycles)["kidneys"]
    assert total.absorbed_dose_gy == pytest.approx(19.24, abs=5e-3)
    assert total.bed_gy == pytest.approx(21.13, abs=5e-3)
    plan = plan_cycles(
        cycles,
        activity_per_cycle_bq=7.4e9,
        profile=load_limit_profile(),
        renal_risk_factors=False,
    )
    assert plan.additional_cycles == 0
    assert plan.binding_limit_id == "kidneys.absorbed_dose"
    # From cycle 1 only: floor(23/4.81) = 4 cycles in all, i.e. 3 more.
    first = plan_cycles(
        cycles[:1],
        activity_per_cycle_bq=7.4e9,
        profile=load_limit_profile(),
        renal_risk_factors=False,
    )
    assert first.additional_cycles == 3
    checks = {
        c.limit.id: c
        for c in check_limits(
            cumulative_doses(cycles), load_limit_profile(), renal_risk_factors=False
        )
    }
    assert checks["kidneys.absorbed_dose"].margin_gy == pytest.approx(23.0 - 19.24, abs=5e-3)


def test_tumour_bed_against_rb_tumour_case() -> None:
    """§5.3 worked number: tumour 20 Gy, T_eff 80 h (α/β 10, T_rep 1.5 h) → BED 20.74 Gy.
    Tolerance 0.005 Gy."""
    p = radiobiology_parameters("tumour")
    g = g_factor_mono_exponential(
        effective_half_life_s=80 * H, repair_half_time_s=p.repair_half_time_s
    )
    assert bed_gy(dose_gy=20.0, g_factor=g, alpha_beta_gy=p.alpha_beta_gy) == pytest.approx(
        20.74, abs=5e-3
    )
    assert eqd2_gy(bed_gy=20.74, alpha_beta_gy=10.0) == pytest.approx(20.74 / 1.2)


def test_red_marrow_self_dose_against_rm01() -> None:
    """RM-01: ã_blood 0.5 MBq·h/g, RMBLR 1, 1170 g, S 1.15e-5 → self-dose 24.2 mGy.
    Tolerance 0.05 mGy (printed digit)."""
    dose = red_marrow_dose_blood_method(blood_tia_bq_s_per_ml=0.5e6 * H, phantom=Phantom.ICRP89_AM)
    assert dose.self_dose_gy * 1e3 == pytest.approx(24.2, abs=0.05)
    assert dose.time_integrated_activity_bq_s / (1e6 * H) == pytest.approx(585.0)


@pytest.mark.parametrize(("hct", "expected"), [(0.47, 0.36), (0.40, 0.317)])
def test_rmblr_against_rm02(hct: float, expected: float) -> None:
    """RM-02: RMBLR = 0.19/(1 − HCT): 0.47 → 0.36, 0.40 → 0.317.  Tolerance: printed digits."""
    assert rmblr_from_hematocrit(hematocrit_fraction=hct) == pytest.approx(expected, abs=0.005)


def test_kidney_dose_against_stp01_and_published_section_7() -> None:
    """STP-01 (§4.3): A(96 h) = 40 MBq in the kidneys, S = 7.76e-5 → D = A·S·2t/ln2 = 3.095 Gy
    (tolerance 0.05 %, 4 digits).  §7 plausibility: for a 7.4 GBq cycle this is 0.42 Gy/GBq,
    inside the published 0.27–0.91 Gy/GBq range (Santoro et al. 2018) and near the 0.46 mean
    of Staanum et al. 2021."""
    tia = 40e6 * 2 * 96 * H / LN2
    dose = mird_organ_doses(tia_bq_s={"kidneys": tia}, phantom=Phantom.ICRP89_AM)["kidneys"]
    assert dose.absorbed_dose_gy == pytest.approx(3.095, rel=5e-4)
    gy_per_gbq = dose.absorbed_dose_gy / 7.4
    assert 0.27 <= gy_per_gbq <= 0.91
