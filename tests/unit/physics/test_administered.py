"""Unit tests of prrt.physics.administered (assay − residuals at injection)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prrt.errors import InvalidInputError
from prrt.physics.administered import ActivityMeasurement, administered_activity
from prrt.physics.decay import decay_factor
from prrt.physics.nuclides import get_nuclide
from prrt.units import parse_timestamp

INJECTION = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_each_reading_is_decay_corrected_to_injection() -> None:
    lu = get_nuclide("Lu-177")
    result = administered_activity(
        nuclide=lu,
        assay_bq=7.6e9,
        assay_at=INJECTION - timedelta(hours=2),
        injection_at=INJECTION,
        residual_bq=0.15e9,
        residual_at=INJECTION + timedelta(hours=1),
    )
    assay_inj = 7.6e9 * decay_factor(lu, 7200.0)
    residual_inj = 0.15e9 / decay_factor(lu, 3600.0)
    assert result.assay_at_injection_bq == pytest.approx(assay_inj, rel=1e-13)
    assert result.residuals_at_injection_bq == pytest.approx((residual_inj,), rel=1e-13)
    assert result.administered_bq == pytest.approx(assay_inj - residual_inj, rel=1e-13)
    assert result.residual_fraction == pytest.approx(residual_inj / assay_inj, rel=1e-13)
    assert result.decay_corrected is True
    assert [s.name for s in result.history.steps] == [
        "decay_correct",
        "decay_correct",
        "subtract_residuals",
    ]


def test_several_residuals_vial_syringe_line() -> None:
    readings = [
        ActivityMeasurement(0.10e9, INJECTION + timedelta(minutes=30), "vial"),
        ActivityMeasurement(0.02e9, INJECTION + timedelta(minutes=35), "syringe"),
        ActivityMeasurement(0.01e9, INJECTION + timedelta(minutes=40), "line"),
    ]
    result = administered_activity(
        nuclide="Lu-177",
        assay_bq=7.5e9,
        assay_at=INJECTION,
        injection_at=INJECTION,
        residuals=readings,
    )
    expected_residual = sum(
        m.activity_bq / decay_factor("Lu-177", (m.measured_at - INJECTION).total_seconds())
        for m in readings
    )  # type: ignore[operator]
    assert result.residual_at_injection_bq == pytest.approx(expected_residual, rel=1e-13)
    assert result.administered_bq == pytest.approx(7.5e9 - expected_residual, rel=1e-13)
    assert [m.label for m in result.residuals] == ["vial", "syringe", "line"]


def test_without_any_time_readings_are_taken_as_simultaneous() -> None:
    result = administered_activity(nuclide="Y-90", assay_bq=3e9, residual_bq=0.2e9)
    assert result.administered_bq == pytest.approx(2.8e9, rel=1e-15)
    assert result.decay_corrected is False


def test_no_residual_gives_the_corrected_assay() -> None:
    result = administered_activity(
        nuclide="Lu-177", assay_bq=7.4e9, assay_at=INJECTION, injection_at=INJECTION
    )
    assert result.administered_bq == 7.4e9
    assert result.residual_at_injection_bq == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"assay_at": INJECTION}, "injection_at"),
        ({"injection_at": INJECTION}, "assay_at"),
        (
            {"assay_at": INJECTION, "injection_at": INJECTION, "residual_bq": 1e8},
            "residual_bq.measured_at",
        ),
        ({"residual_at": INJECTION}, "residual_bq"),
    ],
)
def test_times_are_all_or_none(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        administered_activity(nuclide="Lu-177", assay_bq=7.4e9, **kwargs)
    assert info.value.field == field


def test_residual_larger_than_assay_is_refused() -> None:
    with pytest.raises(
        InvalidInputError,
        match=r"residual_bq: got '8 GBq at injection'; expected less than the assay",
    ):
        administered_activity(nuclide="Lu-177", assay_bq=7.4e9, residual_bq=8e9)


def test_residual_equal_to_assay_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="residual_bq"):
        administered_activity(nuclide="Lu-177", assay_bq=7.4e9, residual_bq=7.4e9)


def test_residual_that_only_exceeds_after_decay_correction_is_refused() -> None:
    # 7.3 GBq measured one half-life after injection was 14.6 GBq at injection (> 7.4 GBq assay).
    lu = get_nuclide("Lu-177")
    with pytest.raises(InvalidInputError, match="residual_bq"):
        administered_activity(
            nuclide=lu,
            assay_bq=7.4e9,
            assay_at=INJECTION,
            injection_at=INJECTION,
            residual_bq=7.3e9,
            residual_at=INJECTION + timedelta(seconds=lu.half_life_s),
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"assay_bq": 0.0}, "assay_bq"),
        ({"assay_bq": -1.0}, "assay_bq"),
        ({"assay_bq": 7e9, "residual_bq": -1.0}, "residual_bq"),
    ],
)
def test_non_positive_activities_are_refused(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        administered_activity(nuclide="Lu-177", **kwargs)
    assert info.value.field == field


def test_naive_time_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        administered_activity(
            nuclide="Lu-177",
            assay_bq=7.4e9,
            assay_at=datetime(2026, 3, 2, 8, 0),
            injection_at=INJECTION,
        )


def test_assay_after_injection_is_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        administered_activity(
            nuclide="Lu-177",
            assay_bq=7.4e9,
            assay_at=INJECTION + timedelta(minutes=30),
            injection_at=INJECTION,
        )
    assert info.value.field == "assay_at"
    assert INJECTION.isoformat() in info.value.expected


def test_residual_before_injection_is_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        administered_activity(
            nuclide="Lu-177",
            assay_bq=7.4e9,
            assay_at=INJECTION - timedelta(hours=1),
            injection_at=INJECTION,
            residuals=[
                ActivityMeasurement(0.1e9, INJECTION + timedelta(hours=1), "vial"),
                ActivityMeasurement(0.05e9, INJECTION - timedelta(minutes=5), "line"),
            ],
        )
    assert info.value.field == "residuals[1].measured_at"
    assert info.value.value == (INJECTION - timedelta(minutes=5)).isoformat()


def test_residual_at_injection_time_and_assay_at_injection_time_are_accepted() -> None:
    r = administered_activity(
        nuclide="Lu-177",
        assay_bq=7.4e9,
        assay_at=INJECTION,
        injection_at=INJECTION,
        residual_bq=0.1e9,
        residual_at=INJECTION,
    )
    assert r.administered_bq == pytest.approx(7.3e9, rel=1e-12)
    assert r.residual_measured


def test_without_residual_reading_the_residual_is_not_measured() -> None:
    r = administered_activity(nuclide="Lu-177", assay_bq=7.4e9)
    assert r.residual_measured is False
    assert r.administered_bq == 7.4e9


def test_assay_above_100_gbq_is_noted_not_refused() -> None:
    """740 GBq (a MBq/GBq slip on 740 MBq, or stock): a note, not an error."""
    r = administered_activity(nuclide="Lu-177", assay_bq=740e9)
    assert r.administered_bq == 740e9
    assert len(r.notes) == 1
    assert "implausible for one patient administration" in r.notes[0]
    assert administered_activity(nuclide="Lu-177", assay_bq=100e9).notes == ()


def test_assay_decaying_below_one_millionth_before_injection_is_refused() -> None:
    # 20 half-lives leave 2**-20 = 9.5e-7 < 1e-6 of the assay: refused, naming assay_at.
    lu = get_nuclide("Lu-177")
    t0 = parse_timestamp("2026-03-02T08:00Z", field="t")
    with pytest.raises(InvalidInputError, match=r"assay_at: got .*decays to < 1e-06"):
        administered_activity(
            nuclide=lu,
            assay_bq=7.4e9,
            assay_at=t0,
            injection_at=t0 + timedelta(seconds=20 * lu.half_life_s),
        )
    # 19 half-lives are accepted: 7.4 GBq · 2**-19 = 14.11 kBq.
    r = administered_activity(
        nuclide=lu,
        assay_bq=7.4e9,
        assay_at=t0,
        injection_at=t0 + timedelta(seconds=19 * lu.half_life_s),
    )
    assert r.administered_bq == pytest.approx(7.4e9 * 2.0**-19, rel=1e-9)
