"""Dose-rate clearance of a treated patient and close-contact restriction periods.

The dose rate at 1 m from the patient, Ḋ(t) = Ḋ0 Σ fᵢ exp(−λᵢ t) (t in hours
after administration), is either fitted to serial measurements
(:meth:`DoseRateClearance.fit`) or predicted from the administered activity
(:meth:`DoseRateClearance.from_activity`: 3.7 µSv/h per GBq at 1 m, the mean
measured after 177Lu therapy in 230 patients, Bellamy et al., Radiat Prot
Dosimetry 2022, clinical-rules.md REL-1; physical decay only, which is
conservative).

A contact pattern is a set of daily (or once-off) periods spent at a distance
from the patient (Cormack & Shearer, Phys Med Biol 1998, as adapted by SAMI in
the glowgreen package; ``data/contact_patterns.json``).  The dose rate at a
distance d is Ḋ(1 m)·(1 m/d)^1.5 (REL-6).  The dose to the contact person from
resuming the pattern at time τ after administration is the integral of the dose
rate over every later period (closed form: a geometric series per exponential
component).  The **restriction period** is the least τ at which that dose is
within the constraint — 1 mSv per year (divided by the treatments expected in a
year) for children, partners, pregnant household members, colleagues and the
public; 5 mSv per episode for informed adult carers; 0.1 mSv for work with
radiosensitive materials — moved to the start of the next period of the
pattern so that the contact can resume at once (REL-6).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from scipy.optimize import brentq, curve_fit

from prrt.errors import DataSourceError, InvalidInputError
from prrt.physics import get_nuclide

__all__ = [
    "MEAN_LU177_DOSE_RATE_USV_PER_H_PER_GBQ",
    "ContactPattern",
    "DoseRateClearance",
    "Restriction",
    "contact_restrictions",
    "load_contact_patterns",
    "restriction_period",
]

#: Mean measured dose rate at 1 m after 177Lu therapy, µSv/h per GBq administered
#: (95 % range 2.4–5.8; Bellamy et al., Radiat Prot Dosimetry 2022; clinical-rules.md REL-1).
MEAN_LU177_DOSE_RATE_USV_PER_H_PER_GBQ = 3.7
_HOURS_PER_DAY = 24.0
_DISTANCE_POWER = 1.5


def _positive(value: Any, field: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(field, value, what)
    if value <= 0:
        raise InvalidInputError(field, value, what)
    return float(value)


@dataclass(frozen=True, slots=True)
class DoseRateClearance:
    """Dose rate at 1 m as a sum of exponentials in the time after administration.

    Attributes
    ----------
    initial_dose_rate_usv_per_h
        Ḋ0, dose rate at 1 m extrapolated to the administration (µSv/h).
    fractions
        fᵢ (sum 1).
    half_lives_h
        Half-life of each component (h).
    basis
        How the curve was obtained (recorded with the release, 10 CFR 35.2075).

    Examples
    --------
    >>> c = DoseRateClearance(30.0, (1.0,), (159.5,), "example")
    >>> round(c.dose_rate_usv_per_h(159.5), 3)
    15.0
    >>> round(c.dose_usv(0.0, math.inf), 1)  # Ḋ0 × T½ / ln 2
    6903.3
    """

    initial_dose_rate_usv_per_h: float
    fractions: tuple[float, ...]
    half_lives_h: tuple[float, ...]
    basis: str = ""

    def __post_init__(self) -> None:
        _positive(
            self.initial_dose_rate_usv_per_h,
            "initial_dose_rate_usv_per_h",
            "a positive dose rate in µSv/h",
        )
        if len(self.fractions) != len(self.half_lives_h) or not self.fractions:
            raise InvalidInputError(
                "fractions", self.fractions, "one fraction per half-life (at least one)"
            )
        for i, (f, t) in enumerate(zip(self.fractions, self.half_lives_h, strict=True)):
            if not (math.isfinite(f) and 0.0 <= f <= 1.0):
                raise InvalidInputError(f"fractions[{i}]", f, "a fraction between 0 and 1")
            _positive(t, f"half_lives_h[{i}]", "a positive half-life in hours")
        if not math.isclose(sum(self.fractions), 1.0, abs_tol=1e-6):
            raise InvalidInputError("fractions", self.fractions, "fractions that sum to 1")

    @property
    def _rates(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return math.log(2.0) / np.asarray(self.half_lives_h, dtype=float)

    @property
    def _amplitudes(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        return self.initial_dose_rate_usv_per_h * np.asarray(self.fractions, dtype=float)

    def dose_rate_usv_per_h(self, t_h: float) -> float:
        """Dose rate at 1 m (µSv/h) at ``t_h`` hours after administration."""
        return float(np.sum(self._amplitudes * np.exp(-self._rates * t_h)))

    def dose_usv(self, t1_h: float, t2_h: float) -> float:
        """Dose at 1 m (µSv) accumulated from ``t1_h`` to ``t2_h`` (``math.inf`` allowed)."""
        lam = self._rates
        upper = np.zeros_like(lam) if math.isinf(t2_h) else np.exp(-lam * t2_h)
        return float(np.sum(self._amplitudes / lam * (np.exp(-lam * t1_h) - upper)))

    def time_to_dose_rate_h(self, dose_rate_usv_per_h: float) -> float:
        """Hours after administration when the dose rate at 1 m falls to the value (0 if already)."""
        target = _positive(dose_rate_usv_per_h, "dose_rate", "a positive dose rate in µSv/h")
        if self.dose_rate_usv_per_h(0.0) <= target:
            return 0.0
        hi = 1.0
        while self.dose_rate_usv_per_h(hi) > target:
            hi *= 2.0
        return float(brentq(lambda t: self.dose_rate_usv_per_h(t) - target, 0.0, hi, xtol=1e-6))

    @classmethod
    def from_activity(
        cls,
        activity_bq: float,
        *,
        nuclide: str = "Lu-177",
        dose_rate_usv_per_h_per_gbq: float = MEAN_LU177_DOSE_RATE_USV_PER_H_PER_GBQ,
    ) -> DoseRateClearance:
        """Predicted clearance: Ḋ0 = activity × specific dose rate, physical decay only (conservative).

        >>> c = DoseRateClearance.from_activity(7.4e9)
        >>> round(c.initial_dose_rate_usv_per_h, 2), round(c.half_lives_h[0], 1)
        (27.38, 159.5)
        """
        a = _positive(activity_bq, "activity_bq", "a positive activity in Bq")
        if not 1e5 <= a <= 1e12:
            raise InvalidInputError(
                "activity_bq",
                activity_bq,
                "an activity in Bq between 100 kBq and 1 TBq (7.4 GBq is 7.4e9)",
            )
        k = _positive(
            dose_rate_usv_per_h_per_gbq,
            "dose_rate_usv_per_h_per_gbq",
            "a positive dose rate per activity (µSv/h per GBq at 1 m)",
        )
        half_life_h = get_nuclide(nuclide).half_life_s / 3600.0
        return cls(
            a / 1e9 * k,
            (1.0,),
            (half_life_h,),
            f"predicted: {a / 1e9:.3g} GBq × {k:g} µSv/h/GBq at 1 m, physical decay of {nuclide} "
            "only (no excretion: conservative)",
        )

    @classmethod
    def fit(
        cls,
        times_h: Sequence[float],
        dose_rates_usv_per_h: Sequence[float],
        *,
        distance_m: float = 1.0,
        model: str = "exponential",
    ) -> DoseRateClearance:
        """Fit measured dose rates (at ``distance_m``, scaled to 1 m by d^1.5).

        ``model`` is ``exponential`` (≥ 2 measurements) or ``biexponential`` (≥ 4).
        """
        t = np.asarray(times_h, dtype=float)
        r = np.asarray(dose_rates_usv_per_h, dtype=float)
        if t.ndim != 1 or t.shape != r.shape:
            raise InvalidInputError(
                "dose_rates_usv_per_h", list(r), "one dose rate per measurement time"
            )
        if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
            raise InvalidInputError(
                "times_h", list(t), "increasing times ≥ 0 h after administration"
            )
        if not np.all(np.isfinite(r)) or np.any(r <= 0):
            raise InvalidInputError("dose_rates_usv_per_h", list(r), "positive dose rates in µSv/h")
        d = _positive(distance_m, "distance_m", "a distance in m between 0.5 and 5")
        if not 0.5 <= d <= 5.0:
            raise InvalidInputError("distance_m", distance_m, "a distance in m between 0.5 and 5")
        r1 = r * d**_DISTANCE_POWER
        basis = f"fitted ({model}) to {len(t)} measured dose rates at {d:g} m"
        if model == "exponential":
            if len(t) < 2:
                raise InvalidInputError("times_h", list(t), "at least 2 measurements")
            slope, intercept = np.polyfit(t, np.log(r1), 1)
            if slope >= 0:
                raise InvalidInputError(
                    "dose_rates_usv_per_h", list(r), "dose rates that decrease with time"
                )
            return cls(float(math.exp(intercept)), (1.0,), (float(math.log(2) / -slope),), basis)
        if model == "biexponential":
            if len(t) < 4:
                raise InvalidInputError(
                    "times_h", list(t), "at least 4 measurements for 2 components"
                )

            def f(x: Any, a: float, frac: float, l1: float, l2: float) -> Any:
                return a * (frac * np.exp(-l1 * x) + (1 - frac) * np.exp(-l2 * x))

            p0 = (float(r1[0]), 0.5, math.log(2) / 10.0, math.log(2) / 150.0)
            try:
                popt, _ = curve_fit(
                    f, t, r1, p0=p0, bounds=([0, 0, 1e-6, 1e-6], [np.inf, 1, 10, 10]), maxfev=20000
                )
            except RuntimeError as err:
                raise InvalidInputError(
                    "dose_rates_usv_per_h",
                    list(r),
                    "measurements a biexponential can fit",
                    hint="use model='exponential'",
                ) from err
            a, frac, l1, l2 = (float(v) for v in popt)
            return cls(a, (frac, 1 - frac), (math.log(2) / l1, math.log(2) / l2), basis)
        raise InvalidInputError("model", model, "'exponential' or 'biexponential'")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "initial_dose_rate_1m_usv_per_h": self.initial_dose_rate_usv_per_h,
            "fractions": list(self.fractions),
            "half_lives_h": list(self.half_lives_h),
            "basis": self.basis,
        }


@dataclass(frozen=True, slots=True)
class ContactPattern:
    """A contact pattern with its dose constraint.

    ``elements`` are (start h, duration h, distance m): the start is the hour of
    the day for a repeating pattern, and hours after the end of the restriction
    for a once-off pattern.
    """

    id: str
    group: str
    name: str
    repeating: bool
    elements: tuple[tuple[float, float, float], ...]
    dose_constraint_msv: float
    per_episode: bool

    def constraint_msv(self, treatments_per_year: float) -> float:
        """Constraint for one treatment: per-year constraints are shared by the year's treatments."""
        return (
            self.dose_constraint_msv
            if self.per_episode
            else (self.dose_constraint_msv / treatments_per_year)
        )


@cache
def load_contact_patterns() -> tuple[ContactPattern, ...]:
    """The shipped contact patterns (``data/contact_patterns.json``)."""
    path = resources.files("prrt.planning") / "data" / "contact_patterns.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return tuple(
            ContactPattern(
                id=p["id"],
                group=p["group"],
                name=p["name"],
                repeating=p["type"] == "repeating",
                elements=tuple(
                    (float(s), float(m) / 60.0, float(d))
                    for s, m, d in p["elements_start_h_duration_min_distance_m"]
                ),
                dose_constraint_msv=float(p["dose_constraint_msv"]),
                per_episode=p["constraint_per"] == "episode",
            )
            for p in doc["patterns"]
        )
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise DataSourceError(f"contact patterns unreadable: {err}") from err


def _pattern_dose_usv(
    pattern: ContactPattern, clearance: DoseRateClearance, tau_h: float, clock_h: float
) -> float:
    """Dose (µSv) from resuming the pattern at ``tau_h`` after administration."""
    lam = clearance._rates
    amp = clearance._amplitudes
    total = 0.0
    for start, duration, distance in pattern.elements:
        scale = (1.0 / distance) ** _DISTANCE_POWER
        if not pattern.repeating:
            a = tau_h + start
            total += scale * clearance.dose_usv(a, a + duration)
            continue
        # first occurrence (in hours after administration) that ends after tau
        s0 = start - clock_h
        n = math.ceil((tau_h - s0 - duration) / _HOURS_PER_DAY)
        s = s0 + n * _HOURS_PER_DAY
        while s + duration <= tau_h:
            s += _HOURS_PER_DAY
        first = scale * clearance.dose_usv(max(s, tau_h), s + duration)
        ratio = np.exp(-lam * _HOURS_PER_DAY)
        later = amp / lam * np.exp(-lam * s) * (1 - np.exp(-lam * duration)) * ratio / (1 - ratio)
        total += first + scale * float(np.sum(later))
    return total


@dataclass(frozen=True, slots=True)
class Restriction:
    """Restriction period of one contact pattern."""

    pattern: ContactPattern
    constraint_msv: float
    period_h: float
    dose_after_msv: float
    ends_at: datetime

    @property
    def period_days(self) -> float:
        """Restriction period in days."""
        return self.period_h / _HOURS_PER_DAY

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "pattern_id": self.pattern.id,
            "group": self.pattern.group,
            "name": self.pattern.name,
            "constraint_msv": self.constraint_msv,
            "constraint_per": "episode" if self.pattern.per_episode else "year",
            "period_h": self.period_h,
            "period_days": self.period_days,
            "dose_after_msv": self.dose_after_msv,
            "ends_at": self.ends_at.isoformat(),
        }


def restriction_period(
    pattern: ContactPattern,
    clearance: DoseRateClearance,
    administered_at: datetime,
    *,
    treatments_per_year: float = 1.0,
    next_element: bool = True,
) -> Restriction:
    """Least time after administration at which the pattern may resume within its constraint.

    ``administered_at`` must be timezone-aware; the pattern's hours of the day are
    read on its local clock.  With ``next_element`` the period ends at the start
    of a period of the pattern (REL-6).
    """
    if not isinstance(administered_at, datetime) or administered_at.utcoffset() is None:
        raise InvalidInputError(
            "administered_at", administered_at, "a date and time with a UTC offset"
        )
    n = _positive(treatments_per_year, "treatments_per_year", "a number of treatments ≥ 1")
    if n < 1.0:
        raise InvalidInputError("treatments_per_year", treatments_per_year, "≥ 1")
    constraint_usv = pattern.constraint_msv(n) * 1000.0
    clock_h = administered_at.hour + administered_at.minute / 60.0 + administered_at.second / 3600.0

    def excess(tau: float) -> float:
        return _pattern_dose_usv(pattern, clearance, tau, clock_h) - constraint_usv

    tau = 0.0
    if excess(0.0) > 0:
        hi = 24.0
        while excess(hi) > 0:
            hi *= 2.0
            if hi > 24.0 * 3650:
                raise InvalidInputError(
                    "clearance", clearance.to_dict(), "a clearance that falls within 10 years"
                )
        tau = float(brentq(excess, 0.0, hi, xtol=1e-4))
    if next_element and pattern.repeating and tau > 0:
        starts = sorted(s for s, _, _ in pattern.elements)
        day0 = math.floor((clock_h + tau) / _HOURS_PER_DAY)
        candidates = [
            day * _HOURS_PER_DAY + s - clock_h for day in (day0, day0 + 1) for s in starts
        ]
        tau = min(c for c in candidates if c >= tau - 1e-9)
    dose = _pattern_dose_usv(pattern, clearance, tau, clock_h) / 1000.0
    return Restriction(
        pattern, constraint_usv / 1000.0, tau, dose, administered_at + timedelta(hours=tau)
    )


def contact_restrictions(
    clearance: DoseRateClearance,
    administered_at: datetime,
    *,
    treatments_per_year: float = 1.0,
    patterns: Sequence[ContactPattern] | None = None,
) -> tuple[Restriction, ...]:
    """Restriction periods for every pattern (the shipped ones by default).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> c = DoseRateClearance.from_activity(7.4e9)
    >>> r = contact_restrictions(c, datetime(2026, 3, 2, 9, tzinfo=timezone.utc), treatments_per_year=4)
    >>> {x.pattern.id: round(x.period_days, 1) for x in r}["sleeping_with_person"] > 7
    True
    """
    chosen = load_contact_patterns() if patterns is None else tuple(patterns)
    return tuple(
        restriction_period(p, clearance, administered_at, treatments_per_year=treatments_per_year)
        for p in chosen
    )
