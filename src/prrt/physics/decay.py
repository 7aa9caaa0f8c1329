"""Radioactive decay of a single nuclide and decay correction between timestamps.

A(t) = A0 · exp(−λ t), λ = ln 2 / T½, with T½ from ICRP-107 (radioactivedecay).
A negative elapsed time corrects backwards (the activity earlier was larger).
Timestamps must be timezone-aware; the difference becomes seconds once, in
:func:`prrt.units.seconds_between`.

Daughter activities of a chain are computed in :mod:`prrt.physics.chain`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import overload

import numpy as np

from prrt._typing import FloatArray
from prrt.errors import InvalidInputError
from prrt.physics.nuclides import Nuclide, get_nuclide
from prrt.units import seconds_between

__all__ = ["activity_after", "decay_correct", "decay_factor", "elapsed_for_factor"]

#: Backward corrections beyond this many half-lives (factor 2**1000) would overflow a float.
_MAX_BACKWARD_HALF_LIVES = 1000.0


def _check_elapsed(elapsed_s: float | FloatArray) -> None:
    try:
        finite = bool(np.all(np.isfinite(np.asarray(elapsed_s, dtype=float))))
    except (TypeError, ValueError):
        finite = False
    if not finite or isinstance(elapsed_s, bool | str):
        raise InvalidInputError("elapsed_s", elapsed_s, "a finite time in seconds")


@overload
def decay_factor(nuclide: Nuclide | str, elapsed_s: float) -> float: ...
@overload
def decay_factor(nuclide: Nuclide | str, elapsed_s: FloatArray) -> FloatArray: ...


def decay_factor(nuclide: Nuclide | str, elapsed_s: float | FloatArray) -> float | FloatArray:
    """Return the fraction exp(−λ t) of activity left after ``elapsed_s``.

    Parameters
    ----------
    nuclide
        A :class:`~prrt.physics.nuclides.Nuclide` or its name.
    elapsed_s
        Elapsed time in s (scalar or array); negative values correct backwards
        and return factors above 1.

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``elapsed_s``.

    Raises
    ------
    InvalidInputError
        Unknown nuclide, or an elapsed time that is not finite.

    Examples
    --------
    >>> lu = get_nuclide("Lu-177")
    >>> decay_factor(lu, lu.half_life_s)
    0.5
    >>> round(decay_factor("Lu-177", -lu.half_life_s), 12)
    2.0
    """
    resolved = get_nuclide(nuclide)
    _check_elapsed(elapsed_s)
    half_lives = np.asarray(elapsed_s, dtype=np.float64) / resolved.half_life_s
    if np.any(half_lives < -_MAX_BACKWARD_HALF_LIVES):
        raise InvalidInputError(
            "elapsed_s",
            elapsed_s,
            f"a decay correction backwards by at most {_MAX_BACKWARD_HALF_LIVES:g} half-lives "
            f"of {resolved.name} ({_MAX_BACKWARD_HALF_LIVES * resolved.half_life_s:.4g} s)",
            hint="the factor would overflow; check the timestamps",
        )
    if isinstance(elapsed_s, np.ndarray):
        factors: FloatArray = np.exp2(-half_lives)
        return factors
    # exp2 keeps one half-life at exactly 0.5 for the analytic anchor.
    return float(2.0 ** (-float(half_lives)))


def activity_after(activity_bq: float, nuclide: Nuclide | str, elapsed_s: float) -> float:
    """Return the activity in Bq left from ``activity_bq`` after ``elapsed_s`` seconds.

    Raises
    ------
    InvalidInputError
        Negative or non-finite activity, unknown nuclide, non-finite time.

    Examples
    --------
    >>> round(activity_after(7.4e9, "Lu-177", 96 * 3600.0) / 1e9, 4)
    4.8762
    """
    if not (math.isfinite(activity_bq) and activity_bq >= 0.0):
        raise InvalidInputError("activity_bq", activity_bq, "a finite, non-negative activity in Bq")
    return activity_bq * decay_factor(nuclide, float(elapsed_s))


def decay_correct(
    activity_bq: float, nuclide: Nuclide | str, *, measured_at: datetime, to: datetime
) -> float:
    """Decay-correct an activity measured at ``measured_at`` to the time ``to``.

    Works in both directions: ``to`` earlier than ``measured_at`` gives a
    larger activity.

    Parameters
    ----------
    activity_bq
        Activity in Bq at ``measured_at``.
    nuclide
        Nuclide or its name.
    measured_at, to
        Timezone-aware timestamps.

    Raises
    ------
    InvalidInputError
        A naive timestamp (no time zone), a negative activity or an unknown nuclide.

    Examples
    --------
    >>> from prrt.units import parse_timestamp
    >>> t0 = parse_timestamp("2026-03-01T09:00:00+01:00", field="measured_at")
    >>> t1 = parse_timestamp("2026-03-08T00:31:40.8+01:00", field="to")  # one half-life later
    >>> round(decay_correct(7.4e9, "Lu-177", measured_at=t0, to=t1) / 1e9, 6)
    3.7
    """
    for name, moment in (("measured_at", measured_at), ("to", to)):
        if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInputError(
                name, str(moment), "a timezone-aware timestamp, e.g. 2026-03-01T10:00:00+01:00"
            )
    return activity_after(activity_bq, nuclide, seconds_between(measured_at, to))


def elapsed_for_factor(nuclide: Nuclide | str, factor: float) -> float:
    """Return the time in s after which the activity has fallen to ``factor`` of its value.

    Examples
    --------
    >>> lu = get_nuclide("Lu-177")
    >>> elapsed_for_factor(lu, 0.25) / lu.half_life_s
    2.0
    """
    if not (math.isfinite(factor) and factor > 0.0):
        raise InvalidInputError(
            "factor", factor, "a positive, finite fraction of the initial activity"
        )
    return -math.log2(factor) * get_nuclide(nuclide).half_life_s
