"""Tests of prrt.units: explicit units, per-dimension symbols, round trips, timestamps."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prrt.errors import InvalidInputError, UnitError
from prrt.units import (
    BQ_PER_CI,
    Dimension,
    Quantity,
    convert,
    from_canonical,
    known_units,
    parse_quantity,
    parse_timestamp,
    seconds_between,
    to_canonical,
)


@pytest.mark.parametrize(
    ("text", "dimension", "expected"),
    [
        ("7.4 GBq", Dimension.ACTIVITY, 7.4e9),
        ("7.4GBq", Dimension.ACTIVITY, 7.4e9),
        ("200 mCi", Dimension.ACTIVITY, 200e-3 * BQ_PER_CI),  # 1 Ci = 3.7e10 Bq exactly
        ("96 h", Dimension.TIME, 96 * 3600.0),
        ("6.647 d", Dimension.TIME, 6.647 * 86400.0),
        ("30 min", Dimension.TIME, 1800.0),
        ("23 Gy", Dimension.ABSORBED_DOSE, 23.0),
        ("250 mGy", Dimension.ABSORBED_DOSE, 0.25),
        ("300 g", Dimension.MASS, 0.3),
        ("4.42 mm", Dimension.LENGTH, 4.42),
        ("1 cm", Dimension.LENGTH, 10.0),
        ("100 mL", Dimension.VOLUME, 100.0),
        ("147.9 keV", Dimension.ENERGY, 147.9e-3 * 1.602176634e-13),
        ("1 MBq h", Dimension.TIME_INTEGRATED_ACTIVITY, 3.6e9),
        ("5 kBq/mL", Dimension.ACTIVITY_CONCENTRATION, 5e3),
        ("1e3 Bq", Dimension.ACTIVITY, 1e3),
    ],
)
def test_parse_quantity_known_units(text: str, dimension: Dimension, expected: float) -> None:
    assert parse_quantity(text, dimension, field="x") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", ["7.4", 7.4, 7])
def test_bare_number_is_refused(text: str | float) -> None:
    with pytest.raises(UnitError, match=r"activity: got .*7\.?4?.*unit must be given explicitly"):
        parse_quantity(text, Dimension.ACTIVITY, field="activity")


def test_unit_of_other_dimension_is_named() -> None:
    with pytest.raises(UnitError, match="'Gy' is a unit of absorbed dose"):
        parse_quantity("7.4 Gy", Dimension.ACTIVITY, field="activity")


def test_minutes_are_not_metres_and_gray_is_not_gigayears() -> None:
    # radioactivedecay reads "m" as minutes and "Gy" as giga-years; prrt must not.
    with pytest.raises(UnitError):
        parse_quantity("5 m", Dimension.TIME, field="t")
    with pytest.raises(UnitError):
        parse_quantity("5 Gy", Dimension.TIME, field="t")


def test_year_is_the_julian_year_of_icrp107() -> None:
    # Julian year 365.25 d = 31 557 600 s (radioactivedecay, ICRP Publication 107).
    for text in ("1 a", "1 y", "1yr"):
        assert parse_quantity(text, Dimension.TIME, field="t") == 31_557_600.0
    assert parse_quantity("2 a", Dimension.TIME, field="t") / 86400.0 == 730.5


def test_unknown_unit() -> None:
    with pytest.raises(UnitError, match="unknown unit"):
        parse_quantity("7.4 furlongs", Dimension.ACTIVITY, field="activity")


def test_sign_checks() -> None:
    with pytest.raises(
        InvalidInputError, match="activity: got '-1 GBq'; expected a positive activity"
    ):
        parse_quantity("-1 GBq", Dimension.ACTIVITY, field="activity", positive=True)
    with pytest.raises(InvalidInputError, match="non-negative"):
        parse_quantity("-1 h", Dimension.TIME, field="after", nonnegative=True)
    assert parse_quantity("0 h", Dimension.TIME, field="after", nonnegative=True) == 0.0


def test_garbage_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="activity"):
        parse_quantity("GBq", Dimension.ACTIVITY, field="activity")


@given(
    value=st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False),
    dimension=st.sampled_from(list(Dimension)),
    data=st.data(),
)
def test_unit_round_trip_is_identity(
    value: float, dimension: Dimension, data: st.DataObject
) -> None:
    unit = data.draw(st.sampled_from(known_units(dimension)))
    canonical = to_canonical(value, unit, dimension, field="x")
    assert from_canonical(canonical, unit, dimension) == pytest.approx(value, rel=1e-12)
    other = data.draw(st.sampled_from(known_units(dimension)))
    assert convert(convert(value, unit, other, dimension), other, unit, dimension) == pytest.approx(
        value, rel=1e-12
    )


def test_quantity_to() -> None:
    assert Quantity.parse("200 mCi", Dimension.ACTIVITY, field="a").to("GBq") == 7.4


def test_timestamp_requires_zone() -> None:
    with pytest.raises(InvalidInputError, match="time zone is missing"):
        parse_timestamp("2026-03-01T10:00:00", field="from")
    with pytest.raises(InvalidInputError, match="ISO-8601"):
        parse_timestamp("yesterday", field="from")
    with pytest.raises(InvalidInputError):
        seconds_between(datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_timestamp_is_converted_to_utc_and_durations_cross_dst() -> None:
    # Europe/Berlin switches to summer time on 2026-03-29: 24 h of wall clock
    # with offsets +01:00 then +02:00 is 23 h of elapsed time.
    a = parse_timestamp("2026-03-28T12:00:00+01:00", field="a")
    b = parse_timestamp("2026-03-29T12:00:00+02:00", field="b")
    assert seconds_between(a, b) == 23 * 3600.0
    assert parse_timestamp("2026-03-01T10:00:00Z", field="a").utcoffset().total_seconds() == 0.0
