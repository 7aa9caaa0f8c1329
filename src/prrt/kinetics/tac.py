"""Time-activity curves (TAC): measured activity of one organ or lesion over time.

A :class:`TimeActivityCurve` holds times after injection (s), activities (Bq)
and optional one-standard-deviation uncertainties (Bq) of one source region,
in canonical units.  It is valid once constructed: times finite, non-negative
and strictly increasing; activities finite and non-negative; uncertainties
finite and positive.  Users' units ("24 h", "120 MBq") are parsed only in the
edge constructors :meth:`TimeActivityCurve.from_text` and
:meth:`TimeActivityCurve.from_mapping`, through :mod:`prrt.units`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from prrt._typing import FloatArray
from prrt.errors import InvalidInputError
from prrt.kinetics._physics import canonical_nuclide
from prrt.units import Dimension, parse_quantity

__all__ = ["TimeActivityCurve"]


def _as_vector(value: Any, field: str) -> FloatArray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(field, value, "a one-dimensional sequence of numbers") from err
    if array.ndim != 1:
        raise InvalidInputError(field, value, "a one-dimensional sequence of numbers")
    array.setflags(write=False)
    return array


def _first_bad(mask: Any) -> int:
    return int(np.flatnonzero(mask)[0])


@dataclass(frozen=True, eq=False)
class TimeActivityCurve:
    """Activity of one source region measured at times after injection.

    Parameters
    ----------
    times_s
        Times after the injection (s); finite, ``>= 0``, strictly increasing.
    activities_bq
        Activity of the region at each time (Bq); finite, ``>= 0``.
    uncertainties_bq
        Optional one-standard-deviation uncertainty of each activity (Bq); finite,
        ``> 0``.  When given, fits are weighted by ``1/u²`` and the covariance uses
        these absolute uncertainties (EANM, Gear et al. 2018).
    region
        Name of the organ or lesion (free text, e.g. ``"kidneys"``).
    nuclide
        Radionuclide; any common spelling, stored in canonical form
        (``"Lu-177"``).  Its physical decay constant bounds every fitted
        clearance rate and drives physical-decay tails.

    Raises
    ------
    InvalidInputError
        Naming the field (``times_s``, ``activities_bq``, ``uncertainties_bq``,
        ``nuclide``) and the offending value.

    Examples
    --------
    >>> tac = TimeActivityCurve(
    ...     times_s=[4 * 3600.0, 24 * 3600.0], activities_bq=[60e6, 55e6], region="kidneys"
    ... )
    >>> tac.n_points, tac.nuclide
    (2, 'Lu-177')
    """

    times_s: FloatArray
    activities_bq: FloatArray
    uncertainties_bq: FloatArray | None = None
    region: str = ""
    nuclide: str = "Lu-177"

    def __post_init__(self) -> None:
        times = _as_vector(self.times_s, "times_s")
        activities = _as_vector(self.activities_bq, "activities_bq")
        if times.size < 1:
            raise InvalidInputError("times_s", self.times_s, "at least one measurement time")
        if activities.shape != times.shape:
            raise InvalidInputError(
                "activities_bq",
                self.activities_bq,
                f"one activity per time ({times.size} values)",
            )
        if not np.all(np.isfinite(times)):
            i = _first_bad(~np.isfinite(times))
            raise InvalidInputError(f"times_s[{i}]", float(times[i]), "a finite time in s")
        if np.any(times < 0):
            i = _first_bad(times < 0)
            raise InvalidInputError(
                f"times_s[{i}]", float(times[i]), "a time after injection >= 0 s"
            )
        if times.size > 1 and np.any(np.diff(times) <= 0):
            i = _first_bad(np.diff(times) <= 0) + 1
            raise InvalidInputError(
                f"times_s[{i}]",
                float(times[i]),
                f"a time later than the previous one ({float(times[i - 1])} s)",
                hint="times must be strictly increasing; sort the measurements or merge duplicates",
            )
        if not np.all(np.isfinite(activities)):
            i = _first_bad(~np.isfinite(activities))
            raise InvalidInputError(
                f"activities_bq[{i}]", float(activities[i]), "a finite activity in Bq"
            )
        if np.any(activities < 0):
            i = _first_bad(activities < 0)
            raise InvalidInputError(
                f"activities_bq[{i}]", float(activities[i]), "a non-negative activity in Bq"
            )
        uncertainties = None
        if self.uncertainties_bq is not None:
            uncertainties = _as_vector(self.uncertainties_bq, "uncertainties_bq")
            if uncertainties.shape != times.shape:
                raise InvalidInputError(
                    "uncertainties_bq",
                    self.uncertainties_bq,
                    f"one uncertainty per time ({times.size} values)",
                )
            bad = ~np.isfinite(uncertainties) | (uncertainties <= 0)
            if np.any(bad):
                i = _first_bad(bad)
                raise InvalidInputError(
                    f"uncertainties_bq[{i}]",
                    float(uncertainties[i]),
                    "a finite, positive standard uncertainty in Bq",
                    hint="leave uncertainties out entirely for an unweighted fit",
                )
        if not isinstance(self.region, str):
            raise InvalidInputError("region", self.region, "a region name (text)")
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "activities_bq", activities)
        object.__setattr__(self, "uncertainties_bq", uncertainties)
        object.__setattr__(self, "nuclide", canonical_nuclide(self.nuclide))

    def __eq__(self, other: object) -> bool:
        """Equal when all arrays and labels are equal."""
        if not isinstance(other, TimeActivityCurve):
            return NotImplemented
        same_u = (self.uncertainties_bq is None and other.uncertainties_bq is None) or (
            self.uncertainties_bq is not None
            and other.uncertainties_bq is not None
            and np.array_equal(self.uncertainties_bq, other.uncertainties_bq)
        )
        return (
            np.array_equal(self.times_s, other.times_s)
            and np.array_equal(self.activities_bq, other.activities_bq)
            and same_u
            and self.region == other.region
            and self.nuclide == other.nuclide
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def n_points(self) -> int:
        """Number of measurements."""
        return int(self.times_s.size)

    def scaled(self, factor: float) -> TimeActivityCurve:
        """Return a new curve with activities (and uncertainties) multiplied by ``factor > 0``."""
        if not (np.isfinite(factor) and factor > 0):
            raise InvalidInputError("factor", factor, "a finite positive number")
        return TimeActivityCurve(
            times_s=self.times_s,
            activities_bq=self.activities_bq * factor,
            uncertainties_bq=None
            if self.uncertainties_bq is None
            else self.uncertainties_bq * factor,
            region=self.region,
            nuclide=self.nuclide,
        )

    @classmethod
    def from_text(
        cls,
        *,
        times: Sequence[str],
        activities: Sequence[str],
        uncertainties: Sequence[str] | None = None,
        region: str = "",
        nuclide: str = "Lu-177",
    ) -> TimeActivityCurve:
        """Build a curve from texts with explicit units such as ``"24 h"`` and ``"120 MBq"``.

        Parameters
        ----------
        times
            Times after injection, each with a time unit (``"4 h"``, ``"1.5 d"``).
        activities
            Activities, each with an activity unit (``"60 MBq"``, ``"1.2 GBq"``).
        uncertainties
            Optional standard uncertainties with an activity unit (``"3 MBq"``).
        region, nuclide
            As in the constructor.

        Raises
        ------
        UnitError
            A bare number or a unit of the wrong dimension, naming e.g. ``activities[2]``.
        InvalidInputError
            Any constraint of the constructor.

        Examples
        --------
        >>> tac = TimeActivityCurve.from_text(times=["4 h", "1 d"], activities=["60 MBq", "55 MBq"])
        >>> tac.times_s.tolist(), tac.activities_bq.tolist()
        ([14400.0, 86400.0], [60000000.0, 55000000.0])
        """
        for name, seq in (("times", times), ("activities", activities)):
            if isinstance(seq, str) or not isinstance(seq, Sequence):
                raise InvalidInputError(
                    name, seq, "a list of values with units, e.g. ['4 h', '24 h']"
                )
        if len(activities) != len(times):
            raise InvalidInputError(
                "activities", list(activities), f"one activity per time ({len(times)} values)"
            )
        times_s = [
            parse_quantity(text, Dimension.TIME, field=f"times[{i}]", nonnegative=True)
            for i, text in enumerate(times)
        ]
        activities_bq = [
            parse_quantity(text, Dimension.ACTIVITY, field=f"activities[{i}]", nonnegative=True)
            for i, text in enumerate(activities)
        ]
        uncertainties_bq: list[float] | None = None
        if uncertainties is not None:
            if isinstance(uncertainties, str) or not isinstance(uncertainties, Sequence):
                raise InvalidInputError(
                    "uncertainties",
                    uncertainties,
                    "a list of activities with units, e.g. ['3 MBq']",
                )
            if len(uncertainties) != len(times):
                raise InvalidInputError(
                    "uncertainties",
                    list(uncertainties),
                    f"one uncertainty per time ({len(times)} values)",
                )
            uncertainties_bq = [
                parse_quantity(text, Dimension.ACTIVITY, field=f"uncertainties[{i}]", positive=True)
                for i, text in enumerate(uncertainties)
            ]
        try:
            return cls(
                times_s=np.asarray(times_s, dtype=np.float64),
                activities_bq=np.asarray(activities_bq, dtype=np.float64),
                uncertainties_bq=None
                if uncertainties_bq is None
                else np.asarray(uncertainties_bq, dtype=np.float64),
                region=region,
                nuclide=nuclide,
            )
        except InvalidInputError as err:
            # Name the caller's fields (times[i]) rather than the canonical ones (times_s[i]).
            field = err.field
            for canonical, given in (
                ("times_s", "times"),
                ("activities_bq", "activities"),
                ("uncertainties_bq", "uncertainties"),
            ):
                if field.startswith(canonical):
                    field = given + field[len(canonical) :]
            raise type(err)(field, err.value, err.expected, err.hint) from err

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TimeActivityCurve:
        """Build a curve from a JSON-like mapping with explicit units.

        The mapping holds ``points``: a list of ``{"time": "24 h", "activity":
        "55 MBq", "uncertainty": "3 MBq"}`` (``uncertainty`` optional but then
        given for every point or for none), and optionally ``region`` and
        ``nuclide`` (default ``"Lu-177"``).

        Raises
        ------
        InvalidInputError
            Naming the JSON path, e.g. ``points[1].activity``.

        Examples
        --------
        >>> tac = TimeActivityCurve.from_mapping(
        ...     {"region": "kidneys", "points": [{"time": "4 h", "activity": "60 MBq"}]}
        ... )
        >>> tac.region, tac.activities_bq.tolist()
        ('kidneys', [60000000.0])
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError("tac", data, "a mapping with a 'points' list")
        points = data.get("points")
        if not isinstance(points, Sequence) or isinstance(points, str) or len(points) == 0:
            raise InvalidInputError(
                "points", points, "a non-empty list of {'time': '24 h', 'activity': '55 MBq'}"
            )
        times: list[str] = []
        activities: list[str] = []
        uncertainties: list[str] = []
        for i, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise InvalidInputError(
                    f"points[{i}]", point, "a mapping {'time': '24 h', 'activity': '55 MBq'}"
                )
            for key in ("time", "activity"):
                if key not in point:
                    raise InvalidInputError(f"points[{i}].{key}", None, f"a {key} with its unit")
            times.append(point["time"])
            activities.append(point["activity"])
            if "uncertainty" in point:
                uncertainties.append(point["uncertainty"])
        if uncertainties and len(uncertainties) != len(points):
            raise InvalidInputError(
                "points[].uncertainty",
                f"{len(uncertainties)} of {len(points)} points",
                "an uncertainty for every point or for none",
            )
        region = data.get("region", "")
        nuclide = data.get("nuclide", "Lu-177")
        try:
            return cls.from_text(
                times=times,
                activities=activities,
                uncertainties=uncertainties or None,
                region=region,
                nuclide=nuclide,
            )
        except InvalidInputError as err:
            raise type(err)(_json_path(err.field), err.value, err.expected, err.hint) from err


def _json_path(field: str) -> str:
    """Translate ``activities[2]`` (from_text naming) to ``points[2].activity``."""
    for plural, singular in (
        ("times_s", "time"),
        ("activities_bq", "activity"),
        ("uncertainties_bq", "uncertainty"),
        ("times", "time"),
        ("activities", "activity"),
        ("uncertainties", "uncertainty"),
    ):
        if field.startswith(plural + "["):
            index = field[len(plural) :].split("]", 1)[0] + "]"
            return f"points{index}.{singular}"
    return field
