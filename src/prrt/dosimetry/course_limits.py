"""Cumulative dose limits: limit profiles and the result of checking a limit.

The profiles are read from ``data/dose_limits.json`` (kidneys 23 Gy absorbed
dose and BED 40/28 Gy without/with renal risk factors, red marrow 2 Gy;
dosimetry-reference.md §5.3); :func:`~prrt.dosimetry.course.check_limits`
compares cumulative doses with them and returns :class:`LimitCheck` records.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any

from prrt.errors import DataSourceError, InvalidInputError

__all__ = [
    "Applicability",
    "DoseLimit",
    "LimitCheck",
    "LimitProfile",
    "LimitQuantity",
    "LimitStatus",
    "load_limit_profile",
]

#: A limit on the kidneys applies to each kidney when kidneys are dosed separately.
_SUB_REGIONS = {"kidneys": ("kidneys", "left_kidney", "right_kidney")}


def _covered(limit_region: str) -> tuple[str, ...]:
    return _SUB_REGIONS.get(limit_region, (limit_region,))


class LimitQuantity(Enum):
    """Quantity a limit applies to."""

    ABSORBED_DOSE = "absorbed_dose"
    BED = "bed"


class Applicability(Enum):
    """Patients a limit applies to."""

    ALL = "all"
    WITHOUT_RENAL_RISK_FACTORS = "without_renal_risk_factors"
    WITH_RENAL_RISK_FACTORS = "with_renal_risk_factors"


class LimitStatus(Enum):
    """Outcome of a limit check."""

    WITHIN = "within"
    EXCEEDED = "exceeded"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True)
class DoseLimit:
    """A cumulative limit on one region."""

    id: str
    region: str
    quantity: LimitQuantity
    limit_gy: float
    applies_to: Applicability = Applicability.ALL
    source: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.limit_gy) and self.limit_gy > 0.0):
            raise InvalidInputError(f"limits.{self.id}", self.limit_gy, "a positive limit in Gy")

    def applies(self, renal_risk_factors: bool | None) -> bool:
        """Whether the limit applies; with unknown risk factors both BED limits apply."""
        if renal_risk_factors is None or self.applies_to is Applicability.ALL:
            return True
        if self.applies_to is Applicability.WITH_RENAL_RISK_FACTORS:
            return renal_risk_factors
        return not renal_risk_factors

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "id": self.id,
            "region": self.region,
            "quantity": self.quantity.value,
            "limit_gy": self.limit_gy,
            "applies_to": self.applies_to.value,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class LimitProfile:
    """A named set of cumulative dose limits (a profile setting).

    Examples
    --------
    >>> profile = load_limit_profile()
    >>> [(lim.id, lim.limit_gy) for lim in profile.limits][:2]
    [('kidneys.absorbed_dose', 23.0), ('kidneys.bed.no_risk_factors', 40.0)]
    >>> profile.with_limit("kidneys.absorbed_dose", 18.0).limit("kidneys.absorbed_dose").limit_gy
    18.0
    """

    name: str
    description: str
    limits: tuple[DoseLimit, ...]

    def limit(self, limit_id: str) -> DoseLimit:
        """Return the limit with ``limit_id``."""
        for lim in self.limits:
            if lim.id == limit_id:
                return lim
        raise InvalidInputError(
            "limits", limit_id, "a limit id of profile " + self.name, hint=", ".join(self.ids)
        )

    @property
    def ids(self) -> tuple[str, ...]:
        """Identifiers of the limits."""
        return tuple(lim.id for lim in self.limits)

    def with_limit(self, limit_id: str, limit_gy: float) -> LimitProfile:
        """Return a copy with one limit value overridden (a local setting)."""
        old = self.limit(limit_id)
        new = replace(old, limit_gy=limit_gy, source=f"{old.source}; overridden locally")
        limits = tuple(new if lim.id == limit_id else lim for lim in self.limits)
        return LimitProfile(name=f"{self.name}+local", description=self.description, limits=limits)


@cache
def _profiles() -> tuple[str, dict[str, LimitProfile]]:
    try:
        raw = json.loads(
            resources.files("prrt.dosimetry")
            .joinpath("data", "dose_limits.json")
            .read_text(encoding="utf-8")
        )
        profiles = {
            name: LimitProfile(
                name=name,
                description=body["description"],
                limits=tuple(
                    DoseLimit(
                        id=item["id"],
                        region=item["region"],
                        quantity=LimitQuantity(item["quantity"]),
                        limit_gy=float(item["limit_gy"]),
                        applies_to=Applicability(item["applies_to"]),
                        source=item["source"],
                    )
                    for item in body["limits"]
                ),
            )
            for name, body in raw["profiles"].items()
        }
        return str(raw["default_profile"]), profiles
    except (OSError, KeyError, ValueError) as err:
        raise DataSourceError(f"packaged dose-limit profiles cannot be read: {err}") from err


def load_limit_profile(name: str | None = None) -> LimitProfile:
    """Return the limit profile ``name`` (the default profile when None).

    Raises
    ------
    InvalidInputError
        For an unknown profile name.
    """
    default, profiles = _profiles()
    key = default if name is None else name
    if key not in profiles:
        raise InvalidInputError("limit_profile", name, "one of " + ", ".join(profiles))
    return profiles[key]


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """Cumulative value of a region against one limit.

    ``region`` is the region evaluated: the limit's own region, or one kidney
    when kidneys are dosed separately (each kidney must then stay within the
    kidney limit).
    """

    limit: DoseLimit
    value_gy: float | None
    status: LimitStatus
    note: str = ""
    region: str = ""

    @property
    def margin_gy(self) -> float | None:
        """``limit − value`` (negative when exceeded)."""
        return None if self.value_gy is None else self.limit.limit_gy - self.value_gy

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            **self.limit.to_dict(),
            "region": self.region or self.limit.region,
            "limit_region": self.limit.region,
            "value_gy": self.value_gy,
            "margin_gy": self.margin_gy,
            "status": self.status.value,
            "note": self.note,
        }
