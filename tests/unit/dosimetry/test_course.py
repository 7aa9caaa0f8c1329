"""Unit tests of prrt.dosimetry.course (sums, limit checks, planner)."""

from __future__ import annotations

import math

import pytest

from prrt.dosimetry.course import (
    CycleDosimetry,
    CycleOrganDose,
    LimitStatus,
    Predictor,
    check_limits,
    cumulative_doses,
    load_limit_profile,
    plan_cycles,
)
from prrt.errors import InvalidInputError

G50 = 2.8 / 52.8  # G for T_eff 50 h, T_rep 2.8 h


def _cycle(
    n: int,
    kidney_gy: float,
    *,
    activity: float = 7.4e9,
    marrow_gy: float | None = None,
    g: float | None = G50,
) -> CycleDosimetry:
    organs = {"kidneys": CycleOrganDose("kidneys", kidney_gy, g, 2.6 if g is not None else None)}
    if marrow_gy is not None:
        organs["red_marrow"] = CycleOrganDose("red_marrow", marrow_gy)
    return CycleDosimetry(cycle_number=n, administered_activity_bq=activity, organs=organs)


def _status(checks, limit_id: str) -> LimitStatus:
    return next(c.status for c in checks if c.limit.id == limit_id)


def test_default_profile_values() -> None:
    """§5.3: kidneys 23 Gy, BED 40/28 Gy, red marrow 2 Gy, each with a source."""
    profile = load_limit_profile()
    assert profile.name == "PRRT-DOSIMETRY-DEFAULT-1"
    values = {lim.id: lim.limit_gy for lim in profile.limits}
    assert values == {
        "kidneys.absorbed_dose": 23.0,
        "kidneys.bed.no_risk_factors": 40.0,
        "kidneys.bed.risk_factors": 28.0,
        "red_marrow.absorbed_dose": 2.0,
    }
    assert all(lim.source for lim in profile.limits)
    with pytest.raises(InvalidInputError, match=r"^limit_profile"):
        load_limit_profile("nope")
    with pytest.raises(InvalidInputError, match=r"^limits"):
        profile.with_limit("kidneys.absorbed_dose", -1.0)


@pytest.mark.parametrize(
    ("dose", "status"),
    [(22.99, LimitStatus.WITHIN), (23.0, LimitStatus.WITHIN), (23.01, LimitStatus.EXCEEDED)],
)
def test_kidney_absorbed_dose_limit_below_at_above(dose: float, status: LimitStatus) -> None:
    total = cumulative_doses([_cycle(1, dose, marrow_gy=0.1)])
    checks = check_limits(total, load_limit_profile(), renal_risk_factors=False)
    assert _status(checks, "kidneys.absorbed_dose") is status


def test_bed_limit_depends_on_risk_factors() -> None:
    """BED ≈ 30 Gy: above 28 (risk factors), below 40; unknown status is indeterminate."""
    total = cumulative_doses([_cycle(1, 12.5, marrow_gy=0.1), _cycle(2, 12.5, marrow_gy=0.1)])
    bed = total["kidneys"].bed_gy
    assert bed is not None
    assert 28.0 < bed < 40.0
    profile = load_limit_profile()
    with_rf = check_limits(total, profile, renal_risk_factors=True)
    without = check_limits(total, profile, renal_risk_factors=False)
    unknown = check_limits(total, profile, renal_risk_factors=None)
    assert _status(with_rf, "kidneys.bed.risk_factors") is LimitStatus.EXCEEDED
    assert "kidneys.bed.no_risk_factors" not in {c.limit.id for c in with_rf}
    assert _status(without, "kidneys.bed.no_risk_factors") is LimitStatus.WITHIN
    assert _status(unknown, "kidneys.bed.risk_factors") is LimitStatus.INDETERMINATE
    assert _status(unknown, "kidneys.bed.no_risk_factors") is LimitStatus.WITHIN


def test_missing_data_is_never_within() -> None:
    profile = load_limit_profile()
    # No marrow dose at all; kidney BED unknown (no kinetics).
    total = cumulative_doses([_cycle(1, 4.0, g=None)])
    checks = check_limits(total, profile, renal_risk_factors=False)
    assert _status(checks, "red_marrow.absorbed_dose") is LimitStatus.INDETERMINATE
    assert _status(checks, "kidneys.bed.no_risk_factors") is LimitStatus.INDETERMINATE
    assert _status(checks, "kidneys.absorbed_dose") is LimitStatus.WITHIN
    # Marrow dosed in cycle 1 only: the sum is a lower bound.
    total = cumulative_doses([_cycle(1, 4.0, marrow_gy=0.3), _cycle(2, 4.0)])
    assert total["red_marrow"].missing_cycles == (2,)
    checks = check_limits(total, profile, renal_risk_factors=False)
    assert _status(checks, "red_marrow.absorbed_dose") is LimitStatus.INDETERMINATE
    # ...but a partial sum already above the limit is exceeded.
    total = cumulative_doses([_cycle(1, 4.0, marrow_gy=2.5), _cycle(2, 4.0)])
    checks = check_limits(total, profile, renal_risk_factors=False)
    assert _status(checks, "red_marrow.absorbed_dose") is LimitStatus.EXCEEDED


def test_overridden_limit_is_used() -> None:
    profile = load_limit_profile().with_limit("red_marrow.absorbed_dose", 1.0)
    total = cumulative_doses([_cycle(1, 4.0, marrow_gy=1.5)])
    checks = check_limits(total, profile, renal_risk_factors=False)
    assert _status(checks, "red_marrow.absorbed_dose") is LimitStatus.EXCEEDED
    assert "overridden" in profile.limit("red_marrow.absorbed_dose").source


def test_planner_counts_cycles_and_partial_activity() -> None:
    """Analytic: 2 cycles of 5 Gy at 7.4 GBq, limit 23 Gy → 2 more full cycles (20 Gy) and a
    partial cycle of 3 Gy = 4.44 GBq; BED limit 40 Gy is not binding."""
    plan = plan_cycles(
        [_cycle(1, 5.0), _cycle(2, 5.0)],
        activity_per_cycle_bq=7.4e9,
        profile=load_limit_profile(),
        renal_risk_factors=False,
    )
    assert plan.dose_per_cycle_gy == pytest.approx(5.0)
    assert plan.additional_cycles == 2
    assert plan.binding_limit_id == "kidneys.absorbed_dose"
    assert plan.partial_cycle_activity_bq == pytest.approx(3.0 / 5.0 * 7.4e9)
    assert plan.uncertainty_fraction == pytest.approx(0.13)
    low, high = plan.dose_per_cycle_band_gy
    assert (low, high) == (pytest.approx(5.0 * 0.74), pytest.approx(5.0 * 1.26))
    assert plan.additional_cycles_band == (math.floor(13 / 6.3), math.floor(13 / 3.7))


def test_planner_with_risk_factors_binds_on_bed() -> None:
    """With risk factors and fast kinetics (G 0.2) the 28 Gy BED limit binds before 23 Gy:
    5.5 Gy cycles have BED 7.83 Gy, so 3 cycles in all under BED against 4 under 23 Gy."""
    g = 0.2
    plan = plan_cycles(
        [_cycle(1, 5.5, g=g)],
        activity_per_cycle_bq=7.4e9,
        profile=load_limit_profile(),
        renal_risk_factors=True,
    )
    bed_per_cycle = 5.5 * (1 + g * 5.5 / 2.6)
    assert plan.binding_limit_id == "kidneys.bed.risk_factors"
    assert plan.additional_cycles == math.floor((28 - bed_per_cycle) / bed_per_cycle)
    proj = next(p for p in plan.projections if p.limit.id == "kidneys.bed.risk_factors")
    left = 28 - bed_per_cycle * (1 + plan.additional_cycles)
    d = proj.partial_cycle_dose_gy
    assert plan.additional_cycles == 2
    assert d * (1 + g * d / 2.6) == pytest.approx(left)


def test_planner_predictors_and_spread() -> None:
    cycles = [_cycle(1, 4.0), _cycle(2, 6.0)]
    last = plan_cycles(
        cycles, activity_per_cycle_bq=7.4e9, profile=load_limit_profile(), renal_risk_factors=False
    )
    mean = plan_cycles(
        cycles,
        activity_per_cycle_bq=7.4e9,
        profile=load_limit_profile(),
        renal_risk_factors=False,
        predictor=Predictor.MEAN_OF_CYCLES,
    )
    assert last.dose_per_cycle_gy == pytest.approx(6.0)
    assert mean.dose_per_cycle_gy == pytest.approx(5.0)
    cv = math.sqrt(2.0) / 5.0  # sample SD of (4, 6) over the mean
    assert last.uncertainty_fraction == pytest.approx(math.hypot(0.13, cv))


def test_planner_beyond_limit_gives_zero() -> None:
    plan = plan_cycles(
        [_cycle(1, 24.0)],
        activity_per_cycle_bq=7.4e9,
        profile=load_limit_profile(),
        renal_risk_factors=False,
    )
    assert plan.additional_cycles == 0
    assert plan.partial_cycle_activity_bq == 0.0


def test_planner_bad_inputs() -> None:
    profile = load_limit_profile()
    with pytest.raises(InvalidInputError, match=r"^activity_per_cycle_bq"):
        plan_cycles([_cycle(1, 4.0)], activity_per_cycle_bq=0.0, profile=profile)
    with pytest.raises(InvalidInputError, match=r"^cycles"):
        plan_cycles([_cycle(1, 4.0)], activity_per_cycle_bq=7.4e9, profile=profile, region="spleen")
    with pytest.raises(InvalidInputError, match=r"^cycles"):
        cumulative_doses([_cycle(1, 4.0), _cycle(1, 4.0)])
    with pytest.raises(InvalidInputError, match=r"^administered_activity_bq"):
        CycleDosimetry(cycle_number=1, administered_activity_bq=-1.0, organs={})
    with pytest.raises(InvalidInputError, match=r"^cycle_number"):
        CycleDosimetry(cycle_number=0, administered_activity_bq=1.0, organs={})


def test_cumulative_lacking_a_cycle_is_a_lower_bound() -> None:
    """Marrow dosed in cycle 2 only: 0.025 Gy is a lower bound of the course."""
    cycles = [_cycle(1, 4.0), _cycle(2, 4.0, marrow_gy=0.025)]
    total = cumulative_doses(cycles)
    assert total["red_marrow"].absorbed_dose_gy == pytest.approx(0.025)
    assert total["red_marrow"].lower_bound is True
    assert total["red_marrow"].to_dict()["lower_bound"] is True
    assert total["kidneys"].lower_bound is False


def test_plan_says_limit_reached_and_beyond_label() -> None:
    """24 Gy > 23 Gy: no further cycle; 2 × 2 Gy: floor(19/2) = 9 more → 11 in all, past 4."""
    profile = load_limit_profile()
    reached = plan_cycles(
        [_cycle(1, 12.0), _cycle(2, 12.0)],
        activity_per_cycle_bq=7.4e9,
        profile=profile,
        renal_risk_factors=False,
    )
    assert reached.limit_reached
    assert reached.limit_exceeded
    assert reached.summary == (
        "limit exceeded (24 of 23 Gy): no further cycle (kidneys.absorbed_dose)"
    )
    assert "0 more" not in reached.summary
    assert reached.to_dict()["limit_reached"] is True
    assert reached.to_dict()["limit_exceeded"] is True
    exact = plan_cycles(
        [_cycle(1, 11.5, g=None), _cycle(2, 11.5, g=None)],
        activity_per_cycle_bq=7.4e9,
        profile=profile,
        renal_risk_factors=False,
    )
    # 2 × 11.5 Gy = 23 Gy: the limit is reached, not exceeded.
    assert (exact.limit_reached, exact.limit_exceeded) == (True, False)
    assert exact.summary.startswith("limit reached: no further cycle")
    many = plan_cycles(
        [_cycle(1, 2.0, g=None), _cycle(2, 2.0, g=None)],
        activity_per_cycle_bq=7.4e9,
        profile=profile,
        renal_risk_factors=False,
    )
    assert many.additional_cycles == 9
    assert many.planned_total_cycles == 12  # 2 given + 9 full + 1 partial (1 Gy left)
    assert many.beyond_label
    assert "Garske-Román 2018 / Sundlöv 2022" in many.to_dict()["summary"]
    two = plan_cycles(
        [_cycle(1, 8.0, g=None), _cycle(2, 8.0, g=None)],
        activity_per_cycle_bq=7.4e9,
        profile=profile,
        renal_risk_factors=False,
    )
    assert (two.additional_cycles, two.planned_total_cycles, two.beyond_label) == (0, 3, False)


def test_limit_reached_after_five_cycles_is_not_a_beyond_label_plan() -> None:
    """5 × 4.8 Gy = 24 Gy > 23 Gy: nothing more is planned, so nothing beyond the label is proposed."""
    plan = plan_cycles(
        [_cycle(i, 4.8, g=None) for i in range(1, 6)],
        activity_per_cycle_bq=7.4e9,
        profile=load_limit_profile(),
        renal_risk_factors=False,
    )
    assert plan.limit_reached
    assert plan.planned_total_cycles == 5
    assert not plan.beyond_label


def test_fit_uncertainty_widens_the_band_in_quadrature_and_fit_warnings_make_it_unreliable() -> (
    None
):
    """u = sqrt(0.13² + 0² + 0.40²) = 0.4206: band d·(1 ± 2u), d = 4 Gy → 0.6355–7.365 Gy."""
    profile = load_limit_profile()
    organ = CycleOrganDose(
        "kidneys",
        4.0,
        fit_uncertainty_fraction=0.40,
        fit_warnings=("kidneys fit R² −12.7",),
    )
    plan = plan_cycles(
        [CycleDosimetry(cycle_number=1, administered_activity_bq=7.4e9, organs={"kidneys": organ})],
        activity_per_cycle_bq=7.4e9,
        profile=profile,
        renal_risk_factors=False,
    )
    u = math.sqrt(0.13**2 + 0.40**2)
    assert plan.uncertainty_fraction == pytest.approx(u)
    assert plan.dose_per_cycle_band_gy == pytest.approx((4.0 * (1 - 2 * u), 4.0 * (1 + 2 * u)))
    assert plan.fit_uncertainty_fraction == pytest.approx(0.40)
    assert not plan.reliable
    assert plan.summary.startswith("plan not reliable: kidneys fit R² −12.7 (cycle 1) — ")
    payload = plan.to_dict()
    assert payload["reliable"] is False
    assert payload["reliability_warnings"] == ["kidneys fit R² −12.7 (cycle 1)"]
    # Without a fit uncertainty the band is the 13 % default alone: 4·(1 ± 0.26).
    clean = plan_cycles([_cycle(1, 4.0, g=None)], activity_per_cycle_bq=7.4e9, profile=profile,
                        renal_risk_factors=False)  # fmt: skip
    assert clean.dose_per_cycle_band_gy == pytest.approx((2.96, 5.04))
    assert clean.reliable
