"""Response rates with exact confidence intervals: ORR and DCR from RECIST 1.1 best responses.

* :func:`clopper_pearson` — exact binomial interval from beta quantiles
  (Clopper & Pearson, Biometrika 1934;26:404; doi:10.1093/biomet/26.4.404):
  lower = B(α/2; x, n − x + 1), upper = B(1 − α/2; x + 1, n − x), with 0 and 1 at the ends.
* :func:`response_rates` — objective response rate (CR + PR) and disease-control
  rate (CR + PR + SD, and non-CR/non-PD for patients with non-target disease only)
  over every patient with a recorded best response; NE counts in the denominator as
  a non-responder (the intention-to-treat convention of RECIST 1.1 reporting,
  Eisenhauer et al., Eur J Cancer 2009;45:228, §4.6).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scipy import stats

from prrt.clinical.response import RecistResponse
from prrt.errors import InvalidInputError

__all__ = ["RateEstimate", "ResponseRates", "clopper_pearson", "response_rates"]

_ORR = frozenset({RecistResponse.CR, RecistResponse.PR})
_DCR = _ORR | {RecistResponse.SD, RecistResponse.NON_CR_NON_PD}


@dataclass(frozen=True, slots=True)
class RateEstimate:
    """A proportion with its exact (Clopper–Pearson) confidence interval."""

    successes: int
    n: int
    rate: float
    lower: float
    upper: float
    confidence_level: float
    method: str = "Clopper-Pearson exact"

    @property
    def percent(self) -> float:
        """The rate in percent."""
        return 100.0 * self.rate

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary (rates as fractions 0-1)."""
        return {
            "successes": self.successes,
            "n": self.n,
            "rate_fraction": self.rate,
            "ci_fraction": [self.lower, self.upper],
            "confidence_level": self.confidence_level,
            "method": self.method,
        }


def _count(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidInputError(field, value, "a whole number of patients")
    return int(value)


def clopper_pearson(successes: int, n: int, *, confidence_level: float = 0.95) -> RateEstimate:
    """Exact binomial confidence interval of ``successes / n``.

    Raises
    ------
    InvalidInputError
        ``n`` < 1, ``successes`` outside 0…n or not whole, level outside (0, 1).

    Examples
    --------
    >>> ci = clopper_pearson(33, 41, confidence_level=0.90)
    >>> round(100 * ci.lower, 1), round(100 * ci.upper, 1)
    (67.5, 89.9)
    """
    x = _count(successes, "successes")
    total = _count(n, "n")
    if total < 1:
        raise InvalidInputError("n", n, "at least one patient")
    if not 0 <= x <= total:
        raise InvalidInputError(
            "successes", successes, f"a count between 0 and n = {total}", hint="events above n?"
        )
    if not 0.0 < confidence_level < 1.0 or not math.isfinite(confidence_level):
        raise InvalidInputError("confidence_level", confidence_level, "a level between 0 and 1")
    alpha = 1.0 - confidence_level
    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2.0, x, total - x + 1))
    upper = 1.0 if x == total else float(stats.beta.ppf(1.0 - alpha / 2.0, x + 1, total - x))
    return RateEstimate(x, total, x / total, lower, upper, confidence_level)


@dataclass(frozen=True, slots=True)
class ResponseRates:
    """ORR and DCR of a group, with the count of each best response."""

    label: str
    counts: tuple[tuple[str, int], ...]
    n_assessed: int
    n_missing: int
    orr: RateEstimate | None
    dcr: RateEstimate | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "label": self.label,
            "counts": dict(self.counts),
            "n_assessed": self.n_assessed,
            "n_missing": self.n_missing,
            "orr": None if self.orr is None else self.orr.to_dict(),
            "dcr": None if self.dcr is None else self.dcr.to_dict(),
            "definition": "ORR = (CR+PR)/assessed; DCR = (CR+PR+SD+non-CR/non-PD)/assessed; "
            "NE counts as assessed without response",
        }


def response_rates(
    best_responses: Iterable[RecistResponse | None],
    *,
    label: str = "all",
    confidence_level: float = 0.95,
) -> ResponseRates:
    """ORR and DCR with Clopper–Pearson intervals from RECIST 1.1 best overall responses.

    ``None`` (not recorded) is left out of the denominator and counted in ``n_missing``.

    Examples
    --------
    >>> R = RecistResponse
    >>> rr = response_rates([R.PR, R.SD, R.PD, R.NE, None])
    >>> rr.orr.successes, rr.orr.n, rr.dcr.successes, rr.n_missing
    (1, 4, 2, 1)
    """
    items = list(best_responses)
    for i, r in enumerate(items):
        if r is not None and not isinstance(r, RecistResponse):
            raise InvalidInputError(f"best_responses[{i}]", r, "a RecistResponse or None")
    assessed = [r for r in items if r is not None]
    counts = tuple((r.value, sum(1 for x in assessed if x is r)) for r in RecistResponse)
    if not assessed:
        return ResponseRates(label, counts, 0, len(items), None, None)
    n = len(assessed)
    orr = clopper_pearson(
        sum(1 for r in assessed if r in _ORR), n, confidence_level=confidence_level
    )
    dcr = clopper_pearson(
        sum(1 for r in assessed if r in _DCR), n, confidence_level=confidence_level
    )
    return ResponseRates(label, counts, n, len(items) - n, orr, dcr)
