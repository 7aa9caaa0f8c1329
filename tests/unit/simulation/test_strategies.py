"""The vectorised course simulation against the planner, patient by patient.

The reference is :func:`prrt.planning.decide_next_cycle` (with
:func:`prrt.dosimetry.course.plan_cycles` inside it) called cycle after cycle
for each virtual patient with normal labs: the simulated courses must have the
same number of cycles and the same activities, to the bit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from prrt.clinical.dose_modification import (
    Administration,
    CourseBaseline,
    CourseHistory,
    CycleAssessment,
    LabPanel,
)
from prrt.dosimetry.course import CycleDosimetry, CycleOrganDose, load_limit_profile
from prrt.dosimetry.radiobiology import g_factor_mono_exponential, radiobiology_parameters
from prrt.errors import InvalidInputError
from prrt.planning import Action, decide_next_cycle
from prrt.planning.next_cycle import MIN_PARTIAL_ACTIVITY_FRACTION
from prrt.simulation.population import (
    SourcedValue,
    VirtualPatients,
    draw_patients,
    load_population_model,
)
from prrt.simulation.strategies import (
    COMPLETED,
    CourseOutcome,
    CourseStrategy,
    dosimetry_guided_course,
    fixed_course,
    simulate_course,
)

_LABS = LabPanel(
    haemoglobin_g_per_l=130.0,
    platelets_10e9_per_l=210.0,
    neutrophils_10e9_per_l=3.5,
    creatinine_umol_per_l=75.0,
    bilirubin_umol_per_l=9.0,
    bilirubin_uln_umol_per_l=21.0,
    albumin_g_per_l=41.0,
    prothrombin_percent=95.0,
    ast_u_per_l=25.0,
    ast_uln_u_per_l=40.0,
    alt_u_per_l=22.0,
    alt_uln_u_per_l=40.0,
)
_START = date(2026, 1, 5)
_PLANNED = ("kidneys", "red_marrow")


def _reference_course(
    patients: VirtualPatients, i: int, strategy: CourseStrategy
) -> tuple[list[float], Action]:
    """Activities given to patient ``i`` by decide_next_cycle, and the final action."""
    kidneys = patients.region_index("kidneys")
    t_rep = radiobiology_parameters("kidneys").repair_half_time_s
    g = t_rep / (t_rep + float(patients.effective_half_life_s[i, kidneys]))
    ab = radiobiology_parameters("kidneys").alpha_beta_gy
    risk = bool(patients.renal_risk_factors[i])
    history = CourseHistory(CourseBaseline("female", _LABS, 68.0, 64.0))
    dosimetry: list[CycleDosimetry] = []
    activities: list[float] = []
    day = _START
    while True:
        current = CycleAssessment(day, _LABS, _LABS, 68.0, 64.0, (), False, False)
        decision = decide_next_cycle(
            strategy.regimen,
            history,
            current,
            dosimetry=dosimetry if strategy.uses_dosimetry else (),
            limit_profile=strategy.limit_profile,
            renal_risk_factors=risk,
        )
        if not decision.action.gives_dose:
            return activities, decision.action
        a = decision.activity_bq
        assert a is not None
        c = len(activities)
        activities.append(a)
        history = CourseHistory(
            history.baseline,
            (*history.administrations, Administration(c + 1, day, a)),
        )
        organs = {}
        for region in _PLANNED:
            k = patients.region_index(region)
            dose = float(patients.measured_dose_per_activity_gy_per_bq[i, c, k]) * a
            organs[region] = CycleOrganDose(
                region,
                dose,
                g_factor=g if region == "kidneys" else None,
                alpha_beta_gy=ab if region == "kidneys" else None,
            )
        dosimetry.append(CycleDosimetry(c + 1, a, organs))
        day += timedelta(days=56)


def _check_against_planner(patients: VirtualPatients, strategy: CourseStrategy) -> CourseOutcome:
    outcome = simulate_course(patients, strategy)
    for i in range(patients.n):
        activities, action = _reference_course(patients, i, strategy)
        simulated = [float(a) for a in outcome.activity_bq[i] if a > 0.0]
        assert simulated == activities, f"patient {i}"
        assert int(outcome.cycles_given[i]) == len(activities)
        if action is Action.COURSE_COMPLETE:
            assert outcome.stop_region[i] == COMPLETED, f"patient {i}"
        else:
            assert action is Action.STOP
            assert outcome.stop_region[i] != COMPLETED, f"patient {i}"
    return outcome


def _patients(n: int, seed: int, **overrides: float) -> VirtualPatients:
    model = load_population_model()
    for name, value in overrides.items():
        model = replace(model, **{name: SourcedValue(value, "test setting", "P")})
    return draw_patients(model, n, max_cycles=8, rng=np.random.default_rng(seed))


def test_guided_courses_equal_decide_next_cycle_default_profile() -> None:
    # 200 patients, half with renal risk factors (BED limit 28 Gy): same cycles, same activities.
    patients = _patients(200, 11, renal_risk_factor_fraction=0.5)
    outcome = _check_against_planner(patients, dosimetry_guided_course())
    given = outcome.cycles_given
    # The sample exercises every branch: kidney and marrow stops, partial cycles, 8-cycle courses.
    assert set(outcome.stop_region.tolist()) == {COMPLETED, 0, 1}
    assert outcome.final_partial.any()
    assert given.max() == 8
    assert given.min() < 5


def test_guided_courses_equal_decide_next_cycle_when_bed_limits_bind() -> None:
    # Kidney BED limits below the 23 Gy absorbed dose: the BED projection and its partial
    # dose (dose_for_bed_gy) decide the courses.
    profile = (
        load_limit_profile()
        .with_limit("kidneys.bed.risk_factors", 14.0)
        .with_limit("kidneys.bed.no_risk_factors", 18.0)
    )
    patients = _patients(150, 12, renal_risk_factor_fraction=0.5)
    outcome = _check_against_planner(patients, dosimetry_guided_course(profile))
    kidneys = patients.region_index("kidneys")
    bed = outcome.measured_bed_gy[:, kidneys]
    risk = patients.renal_risk_factors
    # Measured kidney BED never exceeds the limit by more than one cycle's worth (partial rule).
    assert (bed[risk] < 14.0 * 1.5).all()
    assert (bed[~risk] < 18.0 * 1.5).all()


def test_guided_courses_equal_decide_next_cycle_marrow_binds() -> None:
    profile = load_limit_profile().with_limit("red_marrow.absorbed_dose", 0.8)
    patients = _patients(150, 13)
    outcome = _check_against_planner(patients, dosimetry_guided_course(profile))
    assert (outcome.stop_region == 1).mean() > 0.5


def test_fixed_course_equals_decide_next_cycle() -> None:
    patients = _patients(50, 14)
    outcome = _check_against_planner(patients, fixed_course())
    assert (outcome.cycles_given == 4).all()
    np.testing.assert_array_equal(outcome.total_activity_bq, 4 * 7.4e9)


def test_kidney_g_factor_is_the_mono_exponential_formula() -> None:
    # G = T_rep/(T_rep + T_eff) (dosimetry-reference.md §5.1), worked case RB-01: T_eff 50 h → 0.05303.
    patients = _patients(20, 15)
    outcome = simulate_course(patients, dosimetry_guided_course())
    k = patients.region_index("kidneys")
    t_rep = radiobiology_parameters("kidneys").repair_half_time_s
    for i in range(patients.n):
        g = g_factor_mono_exponential(
            effective_half_life_s=float(patients.effective_half_life_s[i, k]),
            repair_half_time_s=t_rep,
        )
        d = patients.true_dose_per_activity_gy_per_bq[i, :, k] * outcome.activity_bq[i]
        expected = float(np.sum(d * (1.0 + g * d / 2.6)))
        assert outcome.true_bed_gy[i, k] == pytest.approx(expected, rel=1e-12)
    assert (
        round(
            g_factor_mono_exponential(effective_half_life_s=50 * 3600.0, repair_half_time_s=t_rep),
            5,
        )
        == 0.05303
    )


def test_analytic_course_of_rb07_patient() -> None:
    # RB-07/08: 0.65 Gy/GBq every cycle (no variation) → 4 full cycles of 4.81 Gy, then the
    # remaining 3.76 Gy allow a final 5.78 GBq (≥ 25 % of 7.4 GBq): 5 cycles, 23 Gy.
    n, cycles, regions = 1, 8, 5
    rate = np.full((n, cycles, regions), 0.01e-9)
    rate[:, :, 0] = 0.65e-9
    patients = VirtualPatients(
        regions=("kidneys", "red_marrow", "liver", "spleen", "tumour"),
        mass_kg=np.ones((n, regions)),
        uptake_fraction=np.full((n, regions), 0.01),
        effective_half_life_s=np.full((n, regions), 50 * 3600.0),
        dose_per_activity_gy_per_bq=rate[:, 0, :],
        true_dose_per_activity_gy_per_bq=rate,
        measured_dose_per_activity_gy_per_bq=rate,
        renal_risk_factors=np.zeros(n, dtype=bool),
    )
    outcome = simulate_course(patients, dosimetry_guided_course())
    a = outcome.activity_bq[0]
    assert outcome.cycles_given[0] == 5
    np.testing.assert_array_equal(a[:4], 7.4e9)
    assert a[4] / 1e9 == pytest.approx((23.0 - 4 * 4.81) / 0.65, rel=1e-12)  # 5.7846 GBq
    assert outcome.true_dose_gy[0, 0] == pytest.approx(23.0, rel=1e-12)
    assert outcome.stop_region[0] == 0  # kidneys
    assert a[4] > MIN_PARTIAL_ACTIVITY_FRACTION * 7.4e9


def test_partial_below_a_quarter_stops() -> None:
    # 0.75 Gy/GBq: 5.55 Gy per cycle, 4 cycles = 22.2 Gy, 0.8 Gy left = 1.07 GBq < 1.85 GBq → stop at 4.
    n, cycles, regions = 1, 8, 5
    rate = np.full((n, cycles, regions), 0.01e-9)
    rate[:, :, 0] = 0.75e-9
    patients = VirtualPatients(
        regions=("kidneys", "red_marrow", "liver", "spleen", "tumour"),
        mass_kg=np.ones((n, regions)),
        uptake_fraction=np.full((n, regions), 0.01),
        effective_half_life_s=np.full((n, regions), 50 * 3600.0),
        dose_per_activity_gy_per_bq=rate[:, 0, :],
        true_dose_per_activity_gy_per_bq=rate,
        measured_dose_per_activity_gy_per_bq=rate,
        renal_risk_factors=np.zeros(n, dtype=bool),
    )
    outcome = simulate_course(patients, dosimetry_guided_course())
    assert outcome.cycles_given[0] == 4
    assert not outcome.final_partial[0]


def test_profile_limiting_an_unsimulated_region_is_refused() -> None:
    from prrt.dosimetry.course import DoseLimit, LimitProfile, LimitQuantity

    profile = LimitProfile(
        "TEST",
        "lungs limit",
        (DoseLimit("lungs.absorbed_dose", "lungs", LimitQuantity.ABSORBED_DOSE, 20.0),),
    )
    with pytest.raises(InvalidInputError, match="limit_profile"):
        simulate_course(_patients(5, 1), dosimetry_guided_course(profile))


def test_too_few_cycles_drawn_is_refused() -> None:
    patients = draw_patients(load_population_model(), 5, max_cycles=4, rng=np.random.default_rng(0))
    with pytest.raises(InvalidInputError, match=r"patients\.max_cycles"):
        simulate_course(patients, dosimetry_guided_course())
