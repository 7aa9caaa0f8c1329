"""Input checks shared by the dose-modification inputs and settings (clinical-rules.md §4.4).

Type and range checks of the CYC-ALGO inputs that turn bad input into
:class:`~prrt.errors.InvalidInputError` naming field, value and expectation.
Dates are :class:`datetime.date`; a timezone-aware :class:`datetime.datetime` is
converted to its UTC date and a naive one is refused.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from prrt.errors import InvalidInputError

__all__: list[str] = []


def _check_positive(value: Any, field_name: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            field_name, value, what, hint="give a number, not " + type(value).__name__
        )
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInputError(field_name, value, what)
    return number


def _to_date(value: Any, field_name: str) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInputError(
                field_name,
                value,
                "a datetime.date or a timezone-aware datetime",
                hint="naive datetimes are ambiguous",
            )
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    raise InvalidInputError(field_name, value, "a datetime.date (or timezone-aware datetime)")


def _check_optional_bool(value: Any, field_name: str) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError(field_name, value, "True, False or None (not assessed)")


def _check_optional_range(
    value: Any, field_name: str, low: float, high: float, what: str
) -> float | None:
    if value is None:
        return None
    expected = f"{what} between {low:g} and {high:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field_name, value, expected)
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInputError(field_name, value, expected)
    return number
