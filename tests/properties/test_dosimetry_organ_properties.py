"""Property tests of organ dosimetry, radiobiology and courses (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prrt.dosimetry.course import (
    CycleDosimetry,
    CycleOrganDose,
    cumulative_doses,
    load_limit_profile,
    plan_cycles,
)
from prrt.dosimetry.organ import lesion_dose, local_deposition_dose, mird_organ_doses
from prrt.dosimetry.radiobiology import ExponentialDoseRate, bed_gy, g_factor
from prrt.dosimetry.spheres import sphere_s_value_gy_per_bq_s
from prrt.dosimetry.svalues import Phantom

H = 3600.0
LN2 = math.log(2.0)

tia = st.floats(min_value=1e6, max_value=1e15)
factor = st.floats(min_value=1e-3, max_value=1e3)
half_life_h = st.floats(min_value=0.5, max_value=500.0)
dose = st.floats(min_value=0.0, max_value=50.0)


@given(kidneys=tia, liver=tia, spleen=tia, k=factor, phantom=st.sampled_from(list(Phantom)))
def test_mird_dose_linear_in_activity(
    kidneys: float, liver: float, spleen: float, k: float, phantom: Phantom
) -> None:
    """D(k·Ã) = k·D(Ã) for every target (the MIRD schema is linear)."""
    base = {"kidneys": kidneys, "liver": liver, "spleen": spleen}
    d1 = mird_organ_doses(tia_bq_s=base, phantom=phantom)
    dk = mird_organ_doses(tia_bq_s={r: k * v for r, v in base.items()}, phantom=phantom)
    for region in base:
        assert dk[region].absorbed_dose_gy == pytest.approx(
            k * d1[region].absorbed_dose_gy, rel=1e-9
        )


@given(
    a=tia,
    k=factor,
    nuclide=st.sampled_from(["Y-90", "Lu-177", "Ac-225", "Pb-212", "Tb-161"]),
    mass=st.floats(min_value=1e-3, max_value=5.0),
)
def test_local_deposition_linear_in_activity(a: float, k: float, nuclide: str, mass: float) -> None:
    one = local_deposition_dose(tia_bq_s=a, mass_kg=mass, nuclide=nuclide)
    many = local_deposition_dose(tia_bq_s=k * a, mass_kg=mass, nuclide=nuclide)
    assert many.absorbed_dose_gy == pytest.approx(k * one.absorbed_dose_gy, rel=1e-9)
    assert many.rbe_weighted_dose_gy >= many.absorbed_dose_gy


@given(a=tia, k=factor, mass=st.floats(min_value=5e-6, max_value=0.9))
def test_lesion_dose_linear_in_activity(a: float, k: float, mass: float) -> None:
    one = lesion_dose(tia_bq_s=a, mass_kg=mass)
    many = lesion_dose(tia_bq_s=k * a, mass_kg=mass)
    assert many.absorbed_dose_gy == pytest.approx(k * one.absorbed_dose_gy, rel=1e-9)


@given(m1=st.floats(min_value=5e-6, max_value=0.9), m2=st.floats(min_value=5e-6, max_value=0.9))
def test_sphere_s_decreases_with_mass(m1: float, m2: float) -> None:
    lo, hi = sorted((m1, m2))
    assert sphere_s_value_gy_per_bq_s(mass_kg=hi) <= sphere_s_value_gy_per_bq_s(mass_kg=lo)


@given(
    d=dose,
    t_eff=half_life_h,
    t_up=st.floats(min_value=0.05, max_value=0.99),
    t_rep=st.floats(min_value=0.2, max_value=5.0),
    ab=st.floats(min_value=1.0, max_value=20.0),
)
def test_bed_at_least_absorbed_dose(
    d: float, t_eff: float, t_up: float, t_rep: float, ab: float
) -> None:
    """BED ≥ D for any sum-of-exponentials curve (0 ≤ G ≤ 1 and the LQ term is ≥ 0)."""
    lw, lu = LN2 / (t_eff * H), LN2 / (t_up * t_eff * H)
    curve = ExponentialDoseRate(((1.0, lw), (-1.0, lu)))
    g = g_factor(curve, repair_half_time_s=t_rep * H)
    assert 0.0 <= g <= 1.0
    assert bed_gy(dose_gy=d, g_factor=g, alpha_beta_gy=ab) >= d


def _cycles(doses: list[float], beds: bool) -> list[CycleDosimetry]:
    return [
        CycleDosimetry(
            cycle_number=i + 1,
            administered_activity_bq=7.4e9,
            organs={"kidneys": CycleOrganDose("kidneys", d, 0.05 if beds else None, 2.6)},
        )
        for i, d in enumerate(doses)
    ]


@given(doses=st.lists(dose, min_size=1, max_size=8), extra=dose)
def test_adding_a_cycle_never_lowers_cumulative_dose(doses: list[float], extra: float) -> None:
    before = cumulative_doses(_cycles(doses, True))["kidneys"]
    after = cumulative_doses(_cycles([*doses, extra], True))["kidneys"]
    assert after.absorbed_dose_gy >= before.absorbed_dose_gy
    assert after.bed_gy is not None
    assert before.bed_gy is not None
    assert after.bed_gy >= before.bed_gy
    assert after.bed_gy >= after.absorbed_dose_gy


@given(
    doses=st.lists(st.floats(min_value=0.5, max_value=10.0), min_size=1, max_size=6),
    activity=st.floats(min_value=1e9, max_value=1e10),
)
def test_planned_cycles_never_cross_the_limit(doses: list[float], activity: float) -> None:
    """The predicted course (given + n full cycles + partial cycle) stays at or under 23 Gy."""
    cycles = _cycles(doses, False)
    plan = plan_cycles(
        cycles,
        activity_per_cycle_bq=activity,
        profile=load_limit_profile(),
        renal_risk_factors=False,
    )
    given_gy = sum(doses)
    rate = plan.dose_per_activity_gy_per_bq
    planned = given_gy + plan.additional_cycles * plan.dose_per_cycle_gy
    planned_with_partial = planned + plan.partial_cycle_activity_bq * rate
    if given_gy <= 23.0:
        assert planned <= 23.0 + 1e-9
        assert planned_with_partial <= 23.0 + 1e-6
        assert planned + plan.dose_per_cycle_gy > 23.0 - 1e-9
    lo, hi = plan.additional_cycles_band
    assert lo <= plan.additional_cycles <= hi


@given(
    marrow=st.lists(
        st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)), min_size=1, max_size=6
    ),
)
def test_missing_marrow_dose_never_within(marrow: list[float | None]) -> None:
    """A cycle without a marrow dose can never give WITHIN for the marrow limit (style guide:
    removing data never yields PASS)."""
    from prrt.dosimetry.course import LimitStatus, check_limits

    cycles = []
    for i, value in enumerate(marrow):
        organs = {"kidneys": CycleOrganDose("kidneys", 1.0)}
        if value is not None:
            organs["red_marrow"] = CycleOrganDose("red_marrow", value)
        cycles.append(
            CycleDosimetry(cycle_number=i + 1, administered_activity_bq=7.4e9, organs=organs)
        )
    checks = check_limits(cumulative_doses(cycles), load_limit_profile(), renal_risk_factors=False)
    status = next(c.status for c in checks if c.limit.id == "red_marrow.absorbed_dose")
    if None in marrow:
        assert status is not LimitStatus.WITHIN
    given_total = sum(v for v in marrow if v is not None)
    if given_total > 2.0:
        assert status is LimitStatus.EXCEEDED
