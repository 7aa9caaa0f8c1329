"""Reconstruct individual patient data (IPD) from a digitised Kaplan–Meier curve.

Implements the algorithm of Guyot P, Ades AE, Ouwens MJNM, Welton NJ. *Enhanced
secondary analysis of survival data: reconstructing the data from published
Kaplan-Meier survival curves.* BMC Med Res Methodol 2012;12:9
(doi:10.1186/1471-2288-12-9), written from the paper's description:

1. The digitised points are cleaned (sorted, survival clipped to [0, 1] and made
   non-increasing, a point (0, 1) added) and a point is inserted at every time of
   the numbers-at-risk table, so each at-risk interval [T_i, T_{i+1}) starts with one.
2. For each interval, a first guess of the censorings, n_i·S(T_{i+1})/S(T_i) − n_{i+1},
   is spread evenly over the interval.
3. Walking through the interval's points, the events at point k are
   round(n̂_k·(1 − S_k/Ŝ_last)), with Ŝ_last the reconstructed KM value after the last
   event; n̂ drops by events and censorings.
4. The censoring count is corrected by n̂(T_{i+1}) − n_{i+1} and steps 2-3 repeated
   until the implied number at risk matches the published one.
5. In the last interval the reported total of events fixes the censorings; without
   it the average censoring rate of the earlier intervals is carried over.
6. The events, censorings and the patients still at risk at the end (censored at
   the last time) are expanded to one row per patient.

The authors report that survival probabilities and medians reproduce closely and
that hazard ratios are reasonable when the at-risk table (or total events) is
published.  Use the result to overlay a published curve on a local cohort (e.g.
NETTER-1, NETTER-2, COMPETE) and to compare them with a log-rank test or a Cox model.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from prrt._typing import ArrayLike, BoolArray, FloatArray
from prrt.errors import InvalidInputError, NonConformingInputWarning
from prrt.outcomes.cohort import TIME_UNITS

__all__ = [
    "ReconstructedIpd",
    "clean_digitised_curve",
    "read_at_risk_csv",
    "read_digitised_curve_csv",
    "reconstruct_ipd",
]

_MAX_ITERATIONS = 100
#: Digitising noise tolerated above survival 1 before the input is refused.
_ABOVE_ONE_TOLERANCE = 0.02


@dataclass(frozen=True, slots=True)
class ReconstructedIpd:
    """Reconstructed patient-level data of one arm (one row per patient).

    Attributes
    ----------
    label
        Name of the arm / publication.
    time_months, event
        Time and event indicator of each reconstructed patient.
    n_at_risk_published, n_at_risk_reconstructed
        At-risk table as published and as implied by the reconstruction.
    total_events_published
        Reported total of events when given.
    """

    label: str
    time_months: tuple[float, ...]
    event: tuple[bool, ...]
    risk_time_months: tuple[float, ...]
    n_at_risk_published: tuple[int, ...]
    n_at_risk_reconstructed: tuple[int, ...]
    total_events_published: int | None

    @property
    def n(self) -> int:
        """Number of reconstructed patients."""
        return len(self.time_months)

    @property
    def n_events(self) -> int:
        """Number of reconstructed events."""
        return int(sum(self.event))

    def arrays(self) -> tuple[FloatArray, BoolArray]:
        """Times and events as arrays (for :func:`prrt.outcomes.survival.kaplan_meier`)."""
        return (
            np.asarray(self.time_months, dtype=np.float64),
            np.asarray(self.event, dtype=np.bool_),
        )

    def to_dict(self, *, with_rows: bool = False) -> dict[str, Any]:
        """JSON-serialisable summary (and the patient rows when ``with_rows``)."""
        out: dict[str, Any] = {
            "label": self.label,
            "n": self.n,
            "events": self.n_events,
            "total_events_published": self.total_events_published,
            "at_risk": [
                {"time_months": t, "published": p, "reconstructed": r}
                for t, p, r in zip(
                    self.risk_time_months,
                    self.n_at_risk_published,
                    self.n_at_risk_reconstructed,
                    strict=True,
                )
            ],
            "method": "Guyot et al. 2012 (BMC Med Res Methodol 12:9)",
        }
        if with_rows:
            out["rows"] = [
                {"time_months": t, "event": int(e)}
                for t, e in zip(self.time_months, self.event, strict=True)
            ]
        return out


def clean_digitised_curve(
    time_months: ArrayLike, survival: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Sort digitised points, clip survival to [0, 1], make it non-increasing, start at (0, 1).

    Raises
    ------
    InvalidInputError
        Negative or non-finite times, survival above 1 (beyond digitising noise: a
        percentage?) or below 0.

    Examples
    --------
    >>> t, s = clean_digitised_curve([5, 1, 3], [0.5, 0.9, 0.95])
    >>> t.tolist(), s.tolist()
    ([0.0, 1.0, 3.0, 5.0], [1.0, 0.9, 0.9, 0.5])
    """
    t = np.asarray(time_months, dtype=np.float64).ravel()
    s = np.asarray(survival, dtype=np.float64).ravel()
    if t.size == 0 or t.shape != s.shape:
        raise InvalidInputError(
            "survival", s.size, f"{t.size} survival values, one per digitised time (at least one)"
        )
    for i in range(t.size):
        if not math.isfinite(t[i]) or t[i] < 0:
            raise InvalidInputError(f"time_months[{i}]", float(t[i]), "a finite time >= 0")
        if not math.isfinite(s[i]) or s[i] < 0 or s[i] > 1.0 + _ABOVE_ONE_TOLERANCE:
            hint = "a percentage? divide by 100" if 1 < s[i] <= 100 else None
            raise InvalidInputError(
                f"survival[{i}]", float(s[i]), "a survival fraction between 0 and 1", hint=hint
            )
    order = np.argsort(t, kind="stable")
    t, s = t[order], np.clip(s[order], 0.0, 1.0)
    s = np.minimum.accumulate(s)
    if t[0] > 0.0:
        t, s = np.concatenate(([0.0], t)), np.concatenate(([1.0], s))
    else:
        s = np.minimum.accumulate(np.concatenate(([1.0], s[1:])))
    # several points at one time (a vertical drop): keep the lowest, i.e. the last
    keep = np.append(t[1:] != t[:-1], True)
    return t[keep], s[keep]


def _insert_risk_times(
    t: FloatArray, s: FloatArray, risk_t: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Add a point at each at-risk time inside the curve (step value, no event)."""
    extra = [x for x in risk_t if x <= t[-1] and not np.any(np.isclose(t, x, atol=1e-12))]
    if not extra:
        return t, s
    idx = np.searchsorted(t, extra, side="right") - 1
    t2 = np.concatenate((t, extra))
    s2 = np.concatenate((s, s[idx]))
    order = np.argsort(t2, kind="stable")
    return t2[order], s2[order]


def _censor_counts(n_censor: int, start: float, end: float, point_t: FloatArray) -> FloatArray:
    """Spread ``n_censor`` censorings evenly on (start, end); count them per point interval."""
    counts = np.zeros(point_t.size)
    if n_censor <= 0:
        return counts
    times = start + np.arange(1, n_censor + 1) * (end - start) / (n_censor + 1)
    bounds = np.append(point_t, end)
    idx = np.clip(np.searchsorted(bounds, times, side="right") - 1, 0, point_t.size - 1)
    np.add.at(counts, idx, 1.0)
    return counts


@dataclass
class _Walk:
    events: FloatArray
    censored: FloatArray
    n_after: float
    km_last: float


def _walk(
    s: FloatArray, first: bool, n_start: float, censored: FloatArray, km_last: float
) -> _Walk:
    """Step 3 of Guyot et al.: events per point from the KM ratio, at-risk bookkeeping."""
    events = np.zeros(s.size)
    cens = censored.copy()
    n_hat = n_start
    for j in range(s.size):
        if first and j == 0:
            d = 0.0
        elif km_last > 0.0 and n_hat > 0.0:
            d = float(np.clip(round(n_hat * (1.0 - s[j] / km_last)), 0.0, n_hat))
        else:
            d = 0.0
        cens[j] = min(cens[j], max(n_hat - d, 0.0))
        if d > 0.0:
            km_last *= 1.0 - d / n_hat
        events[j] = d
        n_hat -= d + cens[j]
    return _Walk(events, cens, n_hat, km_last)


def _check_risk_table(
    risk_time_months: ArrayLike, n_at_risk: ArrayLike, last_curve_time: float
) -> tuple[FloatArray, FloatArray]:
    rt = np.asarray(risk_time_months, dtype=np.float64).ravel()
    nr = np.asarray(n_at_risk, dtype=np.float64).ravel()
    if rt.size == 0 or rt.shape != nr.shape:
        raise InvalidInputError(
            "n_at_risk", nr.size, f"{rt.size} numbers at risk, one per at-risk time (at least one)"
        )
    if rt[0] != 0.0:
        raise InvalidInputError(
            "risk_time_months[0]", float(rt[0]), "0 (the table starts with the patients randomised)"
        )
    for i in range(rt.size):
        if not math.isfinite(nr[i]) or nr[i] < 0 or nr[i] != round(nr[i]):
            raise InvalidInputError(f"n_at_risk[{i}]", float(nr[i]), "a whole number >= 0")
        if i and not rt[i] > rt[i - 1]:
            raise InvalidInputError(
                f"risk_time_months[{i}]", float(rt[i]), f"a time after {rt[i - 1]:g}"
            )
        if i and nr[i] > nr[i - 1]:
            raise InvalidInputError(
                f"n_at_risk[{i}]", int(nr[i]), f"at most the previous count ({int(nr[i - 1])})"
            )
    beyond = rt > last_curve_time
    if np.any(beyond):
        warnings.warn(
            f"{int(beyond.sum())} at-risk time(s) after the last digitised point "
            f"({last_curve_time:g} months) were ignored",
            NonConformingInputWarning,
            stacklevel=3,
        )
        rt, nr = rt[~beyond], nr[~beyond]
    return rt, nr


def reconstruct_ipd(
    curve_time_months: ArrayLike,
    curve_survival: ArrayLike,
    risk_time_months: ArrayLike,
    n_at_risk: ArrayLike,
    *,
    total_events: int | None = None,
    label: str = "reconstructed",
) -> ReconstructedIpd:
    """Reconstruct IPD from digitised KM points and the published numbers at risk.

    Parameters
    ----------
    curve_time_months, curve_survival
        Digitised points of one arm (survival as a fraction 0-1).
    risk_time_months, n_at_risk
        The numbers-at-risk table under the figure; it must start at time 0.
    total_events
        Reported total number of events of the arm, when published.
    label
        Name of the arm.

    Raises
    ------
    InvalidInputError
        Malformed curve or table (named by field and index).

    References
    ----------
    Guyot P et al. BMC Med Res Methodol 2012;12:9. doi:10.1186/1471-2288-12-9.

    Examples
    --------
    >>> ipd = reconstruct_ipd([0, 1, 2, 3], [1.0, 0.75, 0.5, 0.25], [0, 2], [4, 3])
    >>> ipd.n, ipd.n_events, ipd.time_months, ipd.event
    (4, 3, (1.0, 2.0, 3.0, 3.0), (True, True, True, False))
    """
    t, s = clean_digitised_curve(curve_time_months, curve_survival)
    rt, nr = _check_risk_table(risk_time_months, n_at_risk, float(t[-1]))
    if total_events is not None and (
        isinstance(total_events, bool) or not 0 <= total_events <= nr[0]
    ):
        raise InvalidInputError(
            "total_events", total_events, f"a count between 0 and {int(nr[0])} patients"
        )
    t, s = _insert_risk_times(t, s, rt)
    lower = [int(np.flatnonzero(t >= x)[0]) for x in rt]
    upper = [*(lo - 1 for lo in lower[1:]), t.size - 1]
    events = np.zeros(t.size)
    censored = np.zeros(t.size)
    censor_times: list[float] = []
    km_last = 1.0
    implied: list[int] = [int(nr[0])]
    m = rt.size
    for i in range(m):
        lo, hi = lower[i], upper[i]
        pts = t[lo : hi + 1]
        is_last = i == m - 1
        end = float(t[-1]) if is_last else float(t[lower[i + 1]])
        if not is_last:
            s_lo = s[lo]
            guess = nr[i] * s[lower[i + 1]] / s_lo - nr[i + 1] if s_lo > 0 else nr[i] - nr[i + 1]
            n_cen = max(round(guess), 0)
        elif total_events is not None:
            n_cen = 0
        else:
            previous = float(censored[:lo].sum())
            rate = previous / rt[-1] if m > 1 and rt[-1] > 0 else 0.0
            n_cen = min(round(rate * (end - float(t[lo]))), int(nr[i]))
        seen: set[int] = set()
        for _ in range(_MAX_ITERATIONS):
            seen.add(n_cen)
            used = n_cen
            walk = _walk(
                s[lo : hi + 1],
                i == 0,
                float(nr[i]),
                _censor_counts(n_cen, float(t[lo]), end, pts),
                km_last,
            )
            if not is_last:
                diff = round(walk.n_after - nr[i + 1])
            elif total_events is not None:
                diff = round(events[:lo].sum() + walk.events.sum() - total_events)
            else:
                break
            new = min(max(n_cen + diff, 0), int(nr[i]))
            if diff == 0 or new in seen:
                break
            n_cen = new
        events[lo : hi + 1] = walk.events
        censored[lo : hi + 1] = walk.censored
        km_last = walk.km_last
        placed = int(walk.censored.sum())
        if placed:
            ct = float(t[lo]) + np.arange(1, used + 1) * (end - float(t[lo])) / (used + 1)
            censor_times.extend(_place_censorings(ct, pts, walk.censored))
        if not is_last:
            implied.append(round(walk.n_after))
        else:
            censor_times.extend([float(t[-1])] * max(round(walk.n_after), 0))
    times: list[float] = []
    flags: list[bool] = []
    for k in range(t.size):
        times.extend([float(t[k])] * int(events[k]))
        flags.extend([True] * int(events[k]))
    times.extend(censor_times)
    flags.extend([False] * len(censor_times))
    order = np.argsort(np.asarray(times), kind="stable")
    return ReconstructedIpd(
        label=label,
        time_months=tuple(times[j] for j in order),
        event=tuple(flags[j] for j in order),
        risk_time_months=tuple(float(x) for x in rt),
        n_at_risk_published=tuple(int(x) for x in nr),
        n_at_risk_reconstructed=tuple(implied),
        total_events_published=total_events,
    )


def _place_censorings(
    candidate_times: FloatArray, point_t: FloatArray, counts: FloatArray
) -> list[float]:
    """Censoring times per point interval, capped by the counts the walk could place."""
    out: list[float] = []
    bounds = np.append(point_t, np.inf)
    for j, c in enumerate(counts):
        inside = candidate_times[(candidate_times >= bounds[j]) & (candidate_times < bounds[j + 1])]
        out.extend(float(x) for x in inside[: int(c)])
    return out


# --- CSV input ----------------------------------------------------------------------------------


def _table(text: str, source: str) -> tuple[list[str], list[list[str]]]:
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    rows = [r for r in csv.reader(io.StringIO("\n".join(lines))) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise InvalidInputError(source, f"{len(rows)} row(s)", "a header row and data rows")
    header = [h.strip() for h in rows[0]]
    for i, r in enumerate(rows[1:], start=1):
        if len(r) != len(header):
            raise InvalidInputError(f"row {i}", f"{len(r)} cells", f"{len(header)} cells")
    return header, rows[1:]


def _time_column(header: Sequence[str], source: str) -> tuple[str, float]:
    found = [(f"time_{u}", scale) for u, scale in TIME_UNITS.items() if f"time_{u}" in header]
    if len(found) != 1:
        raise InvalidInputError(
            "columns",
            list(header),
            "one time column: time_months, time_days or time_weeks",
            hint=f"in {source}",
        )
    return found[0]


def _float_cell(text: str, row: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(f"row {row}, column {column}", text, "a number") from None
    if not math.isfinite(value):
        raise InvalidInputError(f"row {row}, column {column}", text, "a finite number")
    return value


def read_digitised_curve_csv(
    text: str, *, source: str = "curve.csv"
) -> tuple[FloatArray, FloatArray]:
    """Read digitised points: ``time_<unit>`` and ``survival`` (0-1) or ``survival_percent``.

    Raises
    ------
    InvalidInputError
        Missing column, negative time, survival above 1 (or above 100 %), named by row
        and column.

    Examples
    --------
    >>> t, s = read_digitised_curve_csv("time_days,survival_percent\\n0,100\\n30.4375,80\\n")
    >>> t.tolist(), s.tolist()
    ([0.0, 1.0], [1.0, 0.8])
    """
    header, rows = _table(text, source)
    tcol, scale = _time_column(header, source)
    if ("survival" in header) == ("survival_percent" in header):
        raise InvalidInputError(
            "columns", header, "one survival column: survival (0-1) or survival_percent (0-100)"
        )
    scol = "survival" if "survival" in header else "survival_percent"
    top = 1.0 if scol == "survival" else 100.0
    ti, si = header.index(tcol), header.index(scol)
    times, surv = [], []
    for i, r in enumerate(rows, start=1):
        tv = _float_cell(r[ti].strip(), i, tcol)
        if tv < 0:
            raise InvalidInputError(f"row {i}, column {tcol}", r[ti], "a time >= 0")
        sv = _float_cell(r[si].strip(), i, scol)
        if not 0.0 <= sv <= top * (1.0 + _ABOVE_ONE_TOLERANCE):
            hint = (
                "a percentage? use a survival_percent column" if top == 1.0 and sv <= 100 else None
            )
            raise InvalidInputError(
                f"row {i}, column {scol}", r[si], f"a survival between 0 and {top:g}", hint=hint
            )
        times.append(tv * scale)
        surv.append(sv / top)
    return np.asarray(times, dtype=np.float64), np.asarray(surv, dtype=np.float64)


def read_at_risk_csv(text: str, *, source: str = "at_risk.csv") -> tuple[FloatArray, FloatArray]:
    """Read a numbers-at-risk table: ``time_<unit>`` and ``n_at_risk``.

    Examples
    --------
    >>> t, n = read_at_risk_csv("time_months,n_at_risk\\n0,116\\n6,100\\n")
    >>> t.tolist(), n.tolist()
    ([0.0, 6.0], [116.0, 100.0])
    """
    header, rows = _table(text, source)
    tcol, scale = _time_column(header, source)
    if "n_at_risk" not in header:
        raise InvalidInputError("columns", header, "an 'n_at_risk' column")
    ti, ni = header.index(tcol), header.index("n_at_risk")
    times, counts = [], []
    for i, r in enumerate(rows, start=1):
        tv = _float_cell(r[ti].strip(), i, tcol)
        if tv < 0:
            raise InvalidInputError(f"row {i}, column {tcol}", r[ti], "a time >= 0")
        nv = _float_cell(r[ni].strip(), i, "n_at_risk")
        if nv < 0 or nv != round(nv):
            raise InvalidInputError(f"row {i}, column n_at_risk", r[ni], "a whole number >= 0")
        times.append(tv * scale)
        counts.append(nv)
    return np.asarray(times, dtype=np.float64), np.asarray(counts, dtype=np.float64)
