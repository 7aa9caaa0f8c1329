"""Canonical units of prrt and explicit parsing of users' units at the edges.

Inside the core every quantity is held in one canonical unit (see the table in
``docs/units.md`` and :data:`CANONICAL_UNIT`): Bq, s, Gy, Sv, kg, mm, mL, J,
Bq·s, Bq/mL, Gy/s.  Users' units (GBq, mCi, h, d, mGy, ...) are accepted only
with an explicit unit symbol that belongs to the expected dimension; a bare
number, an unknown symbol or a symbol of another dimension raises
:class:`~prrt.errors.UnitError` naming the field, the value and what was
expected.  Unlike general-purpose converters, symbols are looked up per
dimension, so ``"Gy"`` can never be read as giga-years nor ``"m"`` as minutes.

Timestamps must carry a time zone; they are converted to UTC once, and
durations between them become seconds in :func:`seconds_between`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from prrt.errors import InvalidInputError, UnitError

__all__ = [
    "BQ_PER_CI",
    "CANONICAL_UNIT",
    "J_PER_MEV",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "SECONDS_PER_MINUTE",
    "SECONDS_PER_WEEK",
    "SECONDS_PER_YEAR",
    "Dimension",
    "Quantity",
    "convert",
    "format_quantity",
    "from_canonical",
    "known_units",
    "parse_quantity",
    "parse_timestamp",
    "seconds_between",
    "to_canonical",
]

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
SECONDS_PER_WEEK = 7.0 * SECONDS_PER_DAY
#: Julian year, 365.25 d: the year of radioactivedecay and ICRP Publication 107 half-lives.
SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY
#: Exact by definition of the curie (3.7e10 Bq).
BQ_PER_CI = 3.7e10
#: CODATA 2018 exact value of the elementary charge times 1e6.
J_PER_MEV = 1.602176634e-13


class Dimension(Enum):
    """Physical dimension of a quantity; each has exactly one canonical unit."""

    ACTIVITY = "activity"
    TIME = "time"
    ABSORBED_DOSE = "absorbed dose"
    EQUIVALENT_DOSE = "equivalent dose"
    DOSE_RATE = "absorbed dose rate"
    EQUIVALENT_DOSE_RATE = "equivalent dose rate"
    MASS = "mass"
    LENGTH = "length"
    VOLUME = "volume"
    ENERGY = "energy"
    TIME_INTEGRATED_ACTIVITY = "time-integrated activity"
    ACTIVITY_CONCENTRATION = "activity concentration"


#: Canonical unit symbol of each dimension.
CANONICAL_UNIT: dict[Dimension, str] = {
    Dimension.ACTIVITY: "Bq",
    Dimension.TIME: "s",
    Dimension.ABSORBED_DOSE: "Gy",
    Dimension.EQUIVALENT_DOSE: "Sv",
    Dimension.DOSE_RATE: "Gy/s",
    Dimension.EQUIVALENT_DOSE_RATE: "Sv/s",
    Dimension.MASS: "kg",
    Dimension.LENGTH: "mm",
    Dimension.VOLUME: "mL",
    Dimension.ENERGY: "J",
    Dimension.TIME_INTEGRATED_ACTIVITY: "Bq s",
    Dimension.ACTIVITY_CONCENTRATION: "Bq/mL",
}

_ACTIVITY = {
    "Bq": 1.0,
    "kBq": 1e3,
    "MBq": 1e6,
    "GBq": 1e9,
    "TBq": 1e12,
    "Ci": BQ_PER_CI,
    "mCi": BQ_PER_CI * 1e-3,
    "uCi": BQ_PER_CI * 1e-6,
    "µCi": BQ_PER_CI * 1e-6,
    "μCi": BQ_PER_CI * 1e-6,
}
_TIME = {
    "s": 1.0,
    "sec": 1.0,
    "min": SECONDS_PER_MINUTE,
    "h": SECONDS_PER_HOUR,
    "hr": SECONDS_PER_HOUR,
    "hours": SECONDS_PER_HOUR,
    "d": SECONDS_PER_DAY,
    "day": SECONDS_PER_DAY,
    "days": SECONDS_PER_DAY,
    "wk": SECONDS_PER_WEEK,
    "week": SECONDS_PER_WEEK,
    "weeks": SECONDS_PER_WEEK,
    "a": SECONDS_PER_YEAR,
    "y": SECONDS_PER_YEAR,
    "yr": SECONDS_PER_YEAR,
}
_DOSE = {"Gy": 1.0, "cGy": 1e-2, "mGy": 1e-3, "uGy": 1e-6, "µGy": 1e-6, "μGy": 1e-6}
_EQ_DOSE = {"Sv": 1.0, "mSv": 1e-3, "uSv": 1e-6, "µSv": 1e-6, "μSv": 1e-6}
_DOSE_RATE = {
    "Gy/s": 1.0,
    "Gy/h": 1.0 / SECONDS_PER_HOUR,
    "mGy/h": 1e-3 / SECONDS_PER_HOUR,
    "uGy/h": 1e-6 / SECONDS_PER_HOUR,
    "µGy/h": 1e-6 / SECONDS_PER_HOUR,
}
_EQ_DOSE_RATE = {
    "Sv/s": 1.0,
    "Sv/h": 1.0 / SECONDS_PER_HOUR,
    "mSv/h": 1e-3 / SECONDS_PER_HOUR,
    "uSv/h": 1e-6 / SECONDS_PER_HOUR,
    "µSv/h": 1e-6 / SECONDS_PER_HOUR,
    "μSv/h": 1e-6 / SECONDS_PER_HOUR,
}
_MASS = {"kg": 1.0, "g": 1e-3, "mg": 1e-6}
_LENGTH = {"mm": 1.0, "cm": 10.0, "m": 1000.0}
_VOLUME = {
    "mL": 1.0,
    "ml": 1.0,
    "cm3": 1.0,
    "cc": 1.0,
    "L": 1000.0,
    "l": 1000.0,
    "uL": 1e-3,
    "µL": 1e-3,
}
_ENERGY = {"J": 1.0, "eV": J_PER_MEV * 1e-6, "keV": J_PER_MEV * 1e-3, "MeV": J_PER_MEV}
_TIA = {
    "Bq s": 1.0,
    "Bq*s": 1.0,
    "Bq·s": 1.0,
    "MBq s": 1e6,
    "MBq*s": 1e6,
    "MBq·s": 1e6,
    "MBq h": 1e6 * SECONDS_PER_HOUR,
    "MBq*h": 1e6 * SECONDS_PER_HOUR,
    "MBq·h": 1e6 * SECONDS_PER_HOUR,
    "GBq h": 1e9 * SECONDS_PER_HOUR,
    "GBq*h": 1e9 * SECONDS_PER_HOUR,
    "GBq·h": 1e9 * SECONDS_PER_HOUR,
}
_CONC = {
    "Bq/mL": 1.0,
    "Bq/ml": 1.0,
    "kBq/mL": 1e3,
    "kBq/ml": 1e3,
    "MBq/mL": 1e6,
    "MBq/ml": 1e6,
    "Bq/cc": 1.0,
    "kBq/cc": 1e3,
}

_TABLE: dict[Dimension, dict[str, float]] = {
    Dimension.ACTIVITY: _ACTIVITY,
    Dimension.TIME: _TIME,
    Dimension.ABSORBED_DOSE: _DOSE,
    Dimension.EQUIVALENT_DOSE: _EQ_DOSE,
    Dimension.DOSE_RATE: _DOSE_RATE,
    Dimension.EQUIVALENT_DOSE_RATE: _EQ_DOSE_RATE,
    Dimension.MASS: _MASS,
    Dimension.LENGTH: _LENGTH,
    Dimension.VOLUME: _VOLUME,
    Dimension.ENERGY: _ENERGY,
    Dimension.TIME_INTEGRATED_ACTIVITY: _TIA,
    Dimension.ACTIVITY_CONCENTRATION: _CONC,
}

_NUMBER_UNIT = re.compile(
    r"^\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>.*?)\s*$"
)


def known_units(dimension: Dimension) -> tuple[str, ...]:
    """Return the unit symbols accepted for ``dimension``.

    Examples
    --------
    >>> "GBq" in known_units(Dimension.ACTIVITY)
    True
    """
    return tuple(_TABLE[dimension])


def _dimension_of(symbol: str) -> Dimension | None:
    for dim, table in _TABLE.items():
        if symbol in table:
            return dim
    return None


def _expected(dimension: Dimension) -> str:
    examples = ", ".join(list(_TABLE[dimension])[:6])
    return f"a number with a unit of {dimension.value} ({examples}, ...)"


def to_canonical(value: float, unit: str, dimension: Dimension, *, field: str) -> float:
    """Convert ``value`` given in ``unit`` to the canonical unit of ``dimension``.

    Raises
    ------
    UnitError
        If ``unit`` is not a known unit of ``dimension``.

    Examples
    --------
    >>> to_canonical(7.4, "GBq", Dimension.ACTIVITY, field="activity")
    7400000000.0
    """
    table = _TABLE[dimension]
    normalised = unit.strip()
    if normalised not in table:
        other = _dimension_of(normalised)
        what = f"'{normalised}' is a unit of {other.value}" if other else "unknown unit"
        raise UnitError(field, f"{value} {unit}".strip(), _expected(dimension), hint=what)
    return float(value) * table[normalised]


def from_canonical(value: float, unit: str, dimension: Dimension) -> float:
    """Convert a canonical ``value`` of ``dimension`` to ``unit``.

    Examples
    --------
    >>> from_canonical(3600.0, "h", Dimension.TIME)
    1.0
    """
    table = _TABLE[dimension]
    if unit not in table:
        raise UnitError("unit", unit, _expected(dimension))
    return float(value) / table[unit]


def convert(value: float, from_unit: str, to_unit: str, dimension: Dimension) -> float:
    """Convert between two units of the same dimension."""
    return from_canonical(
        to_canonical(value, from_unit, dimension, field="value"), to_unit, dimension
    )


def parse_quantity(
    text: str | float | int,
    dimension: Dimension,
    *,
    field: str,
    positive: bool = False,
    nonnegative: bool = False,
) -> float:
    """Parse ``"7.4 GBq"``-style text into the canonical unit of ``dimension``.

    A bare number is refused: the unit must always be explicit.

    Parameters
    ----------
    text
        A number followed by a unit symbol, with or without a space.
    dimension
        The dimension the field must have.
    field
        Name of the field, used in error messages.
    positive, nonnegative
        Refuse values ``<= 0`` or ``< 0`` respectively.

    Raises
    ------
    UnitError
        Missing, unknown or wrong-dimension unit.
    InvalidInputError
        Not a number, not finite, or of the wrong sign.

    Examples
    --------
    >>> parse_quantity("7.4 GBq", Dimension.ACTIVITY, field="activity")
    7400000000.0
    >>> parse_quantity("96h", Dimension.TIME, field="after")
    345600.0
    """
    if isinstance(text, bool | int | float):
        raise UnitError(field, text, _expected(dimension), hint="the unit must be given explicitly")
    if not isinstance(text, str):
        raise InvalidInputError(field, text, _expected(dimension))
    match = _NUMBER_UNIT.match(text)
    if match is None:
        raise InvalidInputError(field, text, _expected(dimension))
    number = float(match.group("number"))
    unit = match.group("unit")
    if not unit:
        raise UnitError(field, text, _expected(dimension), hint="the unit must be given explicitly")
    if not math.isfinite(number):
        raise InvalidInputError(field, text, "a finite number")
    value = to_canonical(number, unit, dimension, field=field)
    if positive and not value > 0:
        raise InvalidInputError(field, text, f"a positive {dimension.value}")
    if nonnegative and value < 0:
        raise InvalidInputError(field, text, f"a non-negative {dimension.value}")
    return value


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value in the canonical unit of its dimension (used at the edges).

    Examples
    --------
    >>> Quantity.parse("200 mCi", Dimension.ACTIVITY, field="assay").to("GBq")
    7.4
    """

    value: float
    dimension: Dimension

    @classmethod
    def parse(cls, text: str, dimension: Dimension, *, field: str) -> Quantity:
        """Parse text such as ``"7.4 GBq"`` (see :func:`parse_quantity`)."""
        return cls(parse_quantity(text, dimension, field=field), dimension)

    @property
    def unit(self) -> str:
        """Canonical unit symbol."""
        return CANONICAL_UNIT[self.dimension]

    def to(self, unit: str) -> float:
        """Return the value expressed in ``unit`` (rounded to 12 significant digits)."""
        return float(f"{from_canonical(self.value, unit, self.dimension):.12g}")


def format_quantity(value: float, unit: str, dimension: Dimension, *, digits: int = 4) -> str:
    """Format a canonical value in ``unit`` with ``digits`` significant digits.

    Examples
    --------
    >>> format_quantity(7.4e9, "GBq", Dimension.ACTIVITY)
    '7.4 GBq'
    """
    shown = from_canonical(value, unit, dimension)
    return f"{shown:.{digits}g} {unit}"


def parse_timestamp(text: str | datetime, *, field: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries a time zone; return it in UTC.

    Raises
    ------
    InvalidInputError
        If the text is not ISO 8601 or has no time zone (a naive time is
        ambiguous across daylight-saving changes and between sites).

    Examples
    --------
    >>> parse_timestamp("2026-03-01T10:00:00+01:00", field="from").isoformat()
    '2026-03-01T09:00:00+00:00'
    """
    expected = "an ISO-8601 timestamp with a time zone, e.g. '2026-03-01T10:00:00+01:00' or '...Z'"
    if isinstance(text, datetime):
        moment = text
    elif isinstance(text, str):
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError as err:
            raise InvalidInputError(field, text, expected) from err
    else:
        raise InvalidInputError(field, text, expected)
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise InvalidInputError(field, str(text), expected, hint="the time zone is missing")
    return moment.astimezone(UTC)


def seconds_between(start: datetime, end: datetime) -> float:
    """Return ``end - start`` in seconds; both must be timezone-aware.

    Examples
    --------
    >>> a = parse_timestamp("2026-01-01T00:00:00Z", field="a")
    >>> b = parse_timestamp("2026-01-02T00:00:00Z", field="b")
    >>> seconds_between(a, b)
    86400.0
    """
    for name, moment in (("start", start), ("end", end)):
        if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
            raise InvalidInputError(name, moment.isoformat(), "a timezone-aware datetime")
    return (end - start).total_seconds()
