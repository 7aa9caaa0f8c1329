"""Unit tests of prrt.physics.chain against the analytic Bateman solution."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.physics.chain import chain_activities, equilibrium_activity_ratios
from prrt.physics.decay import decay_factor
from prrt.physics.nuclides import get_nuclide


def _bateman_daughter(a0_bq: float, lam_p: float, lam_d: float, t_s: np.ndarray) -> np.ndarray:
    # Bateman (1910) for a parent–daughter pair with no daughter at t = 0:
    # A_d(t) = A_p(0) · λ_d/(λ_d − λ_p) · (exp(−λ_p t) − exp(−λ_d t))
    return a0_bq * lam_d / (lam_d - lam_p) * (np.exp(-lam_p * t_s) - np.exp(-lam_d * t_s))


def test_pb212_bi212_follow_the_two_member_bateman_solution() -> None:
    pb, bi = get_nuclide("Pb-212"), get_nuclide("Bi-212")
    t = np.array([0.0, 600.0, 3600.0, 6 * 3600.0, 86400.0, 3 * 86400.0])
    result = chain_activities(pb, parent_activity_bq=1e9, elapsed_s=t)
    np.testing.assert_allclose(result.activity_bq("Pb-212"), 1e9 * decay_factor(pb, t), rtol=1e-10)
    expected = _bateman_daughter(1e9, pb.decay_constant_per_s, bi.decay_constant_per_s, t)
    np.testing.assert_allclose(result.activity_bq("Bi-212"), expected, rtol=1e-9, atol=1e-3)


def test_po212_activity_is_its_branch_of_bi212_in_equilibrium() -> None:
    # Po-212 (0.3 µs) is always in equilibrium with its Bi-212 branch: A = 0.6406 · A(Bi-212).
    result = chain_activities("Pb-212", parent_activity_bq=1e9, elapsed_s=[3600.0, 86400.0])
    np.testing.assert_allclose(
        result.activity_bq("Po-212"), 0.6406 * result.activity_bq("Bi-212"), rtol=1e-6
    )


def test_fresh_parent_has_no_daughters_at_time_zero() -> None:
    result = chain_activities("Ac-225", parent_activity_bq=5e6, elapsed_s=0.0)
    assert result.activity_bq("Ac-225")[0] == pytest.approx(5e6, rel=1e-12)
    assert all(result.activity_bq(m)[0] == 0.0 for m in result.members[1:])
    assert result.total_bq()[0] == pytest.approx(5e6, rel=1e-12)


def test_initial_daughter_decays_with_its_own_half_life() -> None:
    bi = get_nuclide("Bi-212")
    result = chain_activities(
        "Pb-212",
        parent_activity_bq=0.0,
        elapsed_s=bi.half_life_s,
        initial_daughters_bq={"212Bi": 1e6},
    )
    assert result.activity_bq("Bi-212")[0] == pytest.approx(0.5e6, rel=1e-9)
    assert result.activity_bq("Pb-212")[0] == 0.0


def test_results_are_read_only_arrays() -> None:
    result = chain_activities("Pb-212", parent_activity_bq=1e9, elapsed_s=[0.0, 60.0])
    with pytest.raises(ValueError, match="read-only"):
        result.activities_bq["Pb-212"][0] = 0.0


def test_ratio_to_parent_is_nan_when_parent_is_zero() -> None:
    result = chain_activities(
        "Pb-212", parent_activity_bq=0.0, elapsed_s=[60.0], initial_daughters_bq={"Bi-212": 1.0}
    )
    assert math.isnan(result.ratio_to_parent("Bi-212")[0])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"parent_activity_bq": -1.0, "elapsed_s": 1.0}, "parent_activity_bq"),
        ({"parent_activity_bq": 1.0, "elapsed_s": -1.0}, "elapsed_s"),
        ({"parent_activity_bq": 1.0, "elapsed_s": [[1.0]]}, "elapsed_s"),
        (
            {"parent_activity_bq": 1.0, "elapsed_s": 1.0, "initial_daughters_bq": {"Ac-225": 1.0}},
            "initial_daughters_bq",
        ),
        (
            {"parent_activity_bq": 1.0, "elapsed_s": 1.0, "initial_daughters_bq": {"Bi-212": -1.0}},
            "initial_daughters_bq.Bi-212",
        ),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        chain_activities("Pb-212", **kwargs)
    assert info.value.field == field


def test_member_outside_the_chain_is_refused() -> None:
    result = chain_activities("Pb-212", parent_activity_bq=1.0, elapsed_s=1.0)
    with pytest.raises(InvalidInputError, match="member"):
        result.activity_bq("Bi-213")


def test_pb212_transient_equilibrium_ratio_is_tp_over_tp_minus_td() -> None:
    # Analytic transient equilibrium: A_d/A_p = T_p/(T_p − T_d) (ICRP-107 half-lives).
    tp, td = get_nuclide("Pb-212").half_life_s, get_nuclide("Bi-212").half_life_s
    assert equilibrium_activity_ratios("Pb-212")["Bi-212"] == pytest.approx(
        tp / (tp - td), rel=1e-9
    )


def test_no_equilibrium_when_a_daughter_outlives_the_parent() -> None:
    # Pb-209 (3.25 h) outlives Bi-213 (45.6 min).
    with pytest.raises(InvalidInputError, match="outlives"):
        equilibrium_activity_ratios("Bi-213")
    with pytest.raises(InvalidInputError, match="progeny"):
        equilibrium_activity_ratios("Lu-177")
