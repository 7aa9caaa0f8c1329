"""Provenance: what ran, with which inputs, data tables and software versions.

Every result that a clinician or physicist may act on carries a
:class:`History` of :class:`Step` records, so a number can be traced back to
its method, its reference tables (with edition) and its settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["History", "Step"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Step:
    """One processing step.

    Parameters
    ----------
    name
        Short machine-readable name, e.g. ``"decay_correct"``.
    method
        Method and its reference, e.g. ``"MIRD schema (Bolch 2009, MIRD 21)"``.
    parameters
        Settings and inputs that determine the result (JSON-serialisable).
    data_sources
        Reference tables used, with edition, e.g. ``("ICRP-107",)``.
    """

    name: str
    method: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    data_sources: tuple[str, ...] = ()
    timestamp_utc: datetime = field(default_factory=_now)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "name": self.name,
            "method": self.method,
            "parameters": dict(self.parameters),
            "data_sources": list(self.data_sources),
            "timestamp_utc": self.timestamp_utc.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class History:
    """An immutable, ordered list of :class:`Step` records."""

    steps: tuple[Step, ...] = ()

    def append(self, step: Step) -> History:
        """Return a new history with ``step`` added at the end."""
        return History((*self.steps, step))

    def to_list(self) -> list[dict[str, Any]]:
        """Return the steps as JSON-serialisable dictionaries."""
        return [s.to_dict() for s in self.steps]

    def __len__(self) -> int:
        return len(self.steps)
