"""Exception and warning hierarchy of prrt.

Every error message names the argument (field), the value received and what was
expected, and where possible a next step.  Each class also derives from the
closest built-in so that callers who catch ``ValueError`` keep working (the
pattern of lifelines' ``ConvergenceError(ValueError)``).

The command line maps :class:`InvalidInputError` (and its subclasses) to exit
code 2; a web API maps it to HTTP 422.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DataSourceError",
    "ExtrapolationWarning",
    "FitError",
    "FitQualityWarning",
    "GeometryMismatchError",
    "InvalidInputError",
    "NonConformingInputWarning",
    "PrrtError",
    "PrrtWarning",
    "RuleError",
    "UnitError",
]


#: Longest echo of a received value in a message; a whole wrong file is not repeated back.
MAX_ECHO_CHARS = 200


def _shown(value: Any) -> str:
    """``repr(value)``, cut to :data:`MAX_ECHO_CHARS` with the full length stated.

    Examples
    --------
    >>> _shown("7.4")
    "'7.4'"
    >>> _shown("x" * 1000)[-30:]
    'xxxxxxxxxxx… (1002 characters)'
    """
    text = repr(value)
    if len(text) <= MAX_ECHO_CHARS:
        return text
    return f"{text[:MAX_ECHO_CHARS]}… ({len(text)} characters)"


class PrrtError(Exception):
    """Base class of every error raised by prrt."""


class InvalidInputError(PrrtError, ValueError):
    """An input value is missing, malformed, of the wrong unit or implausible.

    Parameters
    ----------
    field
        Name of the argument, field or JSON path that is wrong (e.g. ``"activity"``
        or ``"labs.platelets"``).
    value
        The value that was received (``None`` when the field is missing).
    expected
        What would have been accepted, in words a user understands.
    hint
        Optional next step.

    Examples
    --------
    >>> err = InvalidInputError("activity", "-1 GBq", "a positive activity such as '7.4 GBq'")
    >>> str(err)
    "activity: got '-1 GBq'; expected a positive activity such as '7.4 GBq'"
    """

    def __init__(self, field: str, value: Any, expected: str, hint: str | None = None) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        self.hint = hint
        message = f"{field}: got {_shown(value)}; expected {expected}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def to_problem(self) -> dict[str, Any]:
        """Return a JSON-serialisable description (field, value, expected, message)."""
        value = self.value
        if not isinstance(value, str | int | float | bool | type(None)):
            value = repr(value)
        return {
            "error": type(self).__name__,
            "field": self.field,
            "value": value,
            "expected": self.expected,
            "message": str(self),
        }


class UnitError(InvalidInputError):
    """A value has no unit, an unknown unit or a unit of the wrong dimension."""


class GeometryMismatchError(InvalidInputError):
    """Two images or masks do not share the same grid (shape, spacing, origin, direction)."""


class FitError(PrrtError, RuntimeError):
    """A model could not be fitted to the data (did not converge, singular, etc.)."""


class DataSourceError(PrrtError, RuntimeError):
    """A packaged reference table is missing, malformed or lacks a requested entry."""


class RuleError(PrrtError, RuntimeError):
    """A clinical rule table is inconsistent (e.g. overlapping or missing thresholds)."""


class PrrtWarning(UserWarning):
    """Base class of prrt warnings."""


class FitQualityWarning(PrrtWarning):
    """A fit converged but is of doubtful quality (few points, large uncertainty)."""


class ExtrapolationWarning(PrrtWarning):
    """Most of an integral comes from extrapolation beyond the measured data."""


class NonConformingInputWarning(PrrtWarning):
    """Input deviates from a standard in a way that could be worked around."""
