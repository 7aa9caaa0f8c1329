"""Input checks and exact decimals shared by the response assessments (clinical-rules.md §7.1, §7.2).

Sizes in mm, dates as :class:`datetime.date` (a naive datetime is refused) and
non-empty texts; bad input raises :class:`~prrt.errors.InvalidInputError` naming
field, value and expectation.  :func:`_dec` turns a value into the exact decimal
of its shortest repr, so that a value on a threshold lands where the rule puts it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from prrt.errors import InvalidInputError

__all__: list[str] = []


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _size(value: Any, field: str, *, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    expected = "a size in mm between 0 and 2000"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, expected)
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 2000.0:
        raise InvalidInputError(field, value, expected)
    return number


def _to_date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInputError(field, value, "a datetime.date or a timezone-aware datetime")
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInputError(field, value, "a datetime.date")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(field, value, "a non-empty text")
    return value.strip()
