"""Property tests of radioactive decay (hypothesis).

Analytic truths: exp(−λ t1)·exp(−λ t2) = exp(−λ (t1 + t2)); decay is linear in activity;
decay correction forth and back is the identity; Bateman chain evolution is a semigroup.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prrt.physics.administered import administered_activity
from prrt.physics.chain import chain_activities
from prrt.physics.decay import activity_after, decay_correct, decay_factor
from prrt.physics.nuclides import get_nuclide, supported_nuclides

nuclides = st.sampled_from(
    ["Lu-177", "Y-90", "Ga-68", "Tb-161", "Ac-225", "Pb-212", "Bi-213", "In-111"]
)
durations_s = st.floats(min_value=0.0, max_value=60 * 86400.0, allow_nan=False)
activities_bq = st.floats(min_value=1.0, max_value=1e12, allow_nan=False)


@given(nuclide=nuclides, t1=durations_s, t2=durations_s, a0=activities_bq)
def test_decaying_by_t1_then_t2_equals_decaying_by_their_sum(
    nuclide: str, t1: float, t2: float, a0: float
) -> None:
    stepwise = activity_after(activity_after(a0, nuclide, t1), nuclide, t2)
    direct = activity_after(a0, nuclide, t1 + t2)
    assert stepwise == pytest.approx(direct, rel=1e-9, abs=1e-300)


@given(
    nuclide=st.sampled_from(supported_nuclides()),
    half_lives=st.floats(min_value=-1000.0, max_value=1000.0),
)
def test_decay_factor_times_its_inverse_is_one(nuclide: str, half_lives: float) -> None:
    # Any time within ±1000 half-lives (the documented range of backward correction).
    t = half_lives * get_nuclide(nuclide).half_life_s
    assert decay_factor(nuclide, t) * decay_factor(nuclide, -t) == pytest.approx(1.0, rel=1e-9)


@given(nuclide=nuclides, t=durations_s, a=activities_bq, k=st.floats(min_value=0.0, max_value=1e3))
def test_decay_is_linear_in_activity(nuclide: str, t: float, a: float, k: float) -> None:
    assert activity_after(k * a, nuclide, t) == pytest.approx(
        k * activity_after(a, nuclide, t), rel=1e-12
    )


@given(nuclide=nuclides, t=durations_s, a=activities_bq)
def test_decay_never_increases_activity_forward_in_time(nuclide: str, t: float, a: float) -> None:
    assert activity_after(a, nuclide, t) <= a


@given(
    nuclide=nuclides,
    a=activities_bq,
    offset_s=st.integers(min_value=-30 * 86400, max_value=30 * 86400),
    zone_h=st.integers(min_value=-12, max_value=14),
)
def test_decay_correction_there_and_back_is_identity(
    nuclide: str, a: float, offset_s: int, zone_h: int
) -> None:
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    t1 = (t0 + timedelta(seconds=offset_s)).astimezone(timezone(timedelta(hours=zone_h)))
    there = decay_correct(a, nuclide, measured_at=t0, to=t1)
    # ±30 d is < 1000 half-lives even for Bi-213 (45.6 min), inside the documented range.
    assert decay_correct(there, nuclide, measured_at=t1, to=t0) == pytest.approx(a, rel=1e-9)


@given(
    parent=st.sampled_from(["Pb-212", "Ac-225"]),
    t1=st.floats(min_value=0.0, max_value=3 * 86400.0),
    t2=st.floats(min_value=0.0, max_value=3 * 86400.0),
)
def test_chain_evolution_by_t1_then_t2_equals_t1_plus_t2(parent: str, t1: float, t2: float) -> None:
    first = chain_activities(parent, parent_activity_bq=1e9, elapsed_s=t1)
    daughters = {m: float(first.activity_bq(m)[0]) for m in first.members[1:]}
    second = chain_activities(
        parent,
        parent_activity_bq=float(first.activity_bq(parent)[0]),
        elapsed_s=t2,
        initial_daughters_bq=daughters,
    )
    direct = chain_activities(parent, parent_activity_bq=1e9, elapsed_s=t1 + t2)
    for member in direct.members:
        assert float(second.activity_bq(member)[0]) == pytest.approx(
            float(direct.activity_bq(member)[0]), rel=1e-6, abs=1e-3
        ), member


@given(
    assay=st.floats(min_value=1e8, max_value=2e10),
    fraction=st.floats(min_value=0.0, max_value=0.9),
    before_s=st.integers(min_value=0, max_value=6 * 3600),
    after_s=st.integers(min_value=0, max_value=6 * 3600),
)
def test_administered_plus_residual_equals_assay_at_injection(
    assay: float, fraction: float, before_s: int, after_s: int
) -> None:
    injection = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    result = administered_activity(
        nuclide="Lu-177",
        assay_bq=assay,
        assay_at=injection - timedelta(seconds=before_s),
        injection_at=injection,
        residual_bq=fraction * assay * decay_factor("Lu-177", before_s + after_s),
        residual_at=injection + timedelta(seconds=after_s),
    )
    assert result.administered_bq + result.residual_at_injection_bq == pytest.approx(
        result.assay_at_injection_bq, rel=1e-12
    )
    assert result.residual_fraction == pytest.approx(fraction, rel=1e-9, abs=1e-15)
