"""Catalogue of the SSTR radiopharmaceuticals discussed in the seed review.

Each agent records its nuclide, SSTR agonist or antagonist, regulatory status,
the standard activity per cycle where one exists ("none established"
otherwise; trial regimens are kept apart as studied regimens) and the source
of each fact.  Data: packaged ``radiopharmaceuticals.json`` (see
``data/README.md``); sources are the project's evidence notes and
``clinical-rules.md`` §4.1.

References
----------
Merola E, Grana CM. Peptide receptor radionuclide therapy (PRRT): innovations and
improvements. Cancers 2023;15(11):2975. doi:10.3390/cancers15112975
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from prrt.errors import DataSourceError, InvalidInputError
from prrt.physics._tables import read_json
from prrt.physics.nuclides import Nuclide, get_nuclide

__all__ = [
    "NONE_ESTABLISHED",
    "RADIOPHARMACEUTICALS_TABLE",
    "Radiopharmaceutical",
    "ReceptorAction",
    "RegulatoryStatus",
    "StudiedRegimen",
    "get_radiopharmaceutical",
    "radiopharmaceuticals",
    "radiopharmaceuticals_with",
]

RADIOPHARMACEUTICALS_TABLE = "radiopharmaceuticals.json"
#: Text shown where no standard activity exists.
NONE_ESTABLISHED = "none established"


class ReceptorAction(Enum):
    """Action of the peptide at the somatostatin receptor."""

    AGONIST = "agonist"
    ANTAGONIST = "antagonist"


class RegulatoryStatus(Enum):
    """Regulatory status as recorded in the project's evidence notes."""

    APPROVED = "approved"
    INVESTIGATIONAL = "investigational"


@dataclass(frozen=True, slots=True)
class StudiedRegimen:
    """A regimen used in a trial or series (not a standard), with its source."""

    description: str
    activity_per_cycle_bq: float | None
    activity_per_kg_bq_per_kg: float | None
    cycles: int | None
    interval_s: float | None
    source: str


@dataclass(frozen=True, slots=True)
class Radiopharmaceutical:
    """One radiopharmaceutical and the sources of its facts.

    Examples
    --------
    >>> lutathera = get_radiopharmaceutical("Lutathera")
    >>> lutathera.name, lutathera.nuclide, lutathera.standard_activity_per_cycle_bq
    ('[177Lu]Lu-DOTA-TATE', 'Lu-177', 7400000000.0)
    >>> get_radiopharmaceutical("OPS201").standard_activity_text
    'none established'
    """

    id: str
    name: str
    synonyms: tuple[str, ...]
    nuclide: str
    peptide: str
    receptor_action: ReceptorAction
    regulatory_status: RegulatoryStatus
    regulatory_detail: str
    standard_activity_per_cycle_bq: float | None
    standard_cycles: int | None
    standard_interval_s: float | None
    studied_regimens: tuple[StudiedRegimen, ...]
    sources: Mapping[str, str]

    @property
    def standard_activity_text(self) -> str:
        """Standard activity per cycle in GBq as text, or ``"none established"``."""
        if self.standard_activity_per_cycle_bq is None:
            return NONE_ESTABLISHED
        return f"{self.standard_activity_per_cycle_bq / 1e9:g} GBq"

    def get_nuclide(self) -> Nuclide:
        """Return the :class:`~prrt.physics.nuclides.Nuclide` of this agent."""
        return get_nuclide(self.nuclide)


def _optional_float(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise DataSourceError(
            f"{RADIOPHARMACEUTICALS_TABLE}: {key}={value!r} is not a positive number"
        )
    return float(value)


def _optional_int(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DataSourceError(
            f"{RADIOPHARMACEUTICALS_TABLE}: {key}={value!r} is not a positive integer"
        )
    return value


def _parse(entry: Mapping[str, Any]) -> Radiopharmaceutical:
    try:
        sources = {str(k): str(v) for k, v in entry["sources"].items()}
        for fact in ("nuclide", "receptor_action", "regulatory_status", "standard_activity"):
            if not sources.get(fact):
                raise DataSourceError(
                    f"{RADIOPHARMACEUTICALS_TABLE}: {entry['id']} has no source for {fact}"
                )
        return Radiopharmaceutical(
            id=str(entry["id"]),
            name=str(entry["name"]),
            synonyms=tuple(str(s) for s in entry["synonyms"]),
            nuclide=get_nuclide(str(entry["nuclide"])).name,
            peptide=str(entry["peptide"]),
            receptor_action=ReceptorAction(entry["receptor_action"]),
            regulatory_status=RegulatoryStatus(entry["regulatory_status"]),
            regulatory_detail=str(entry["regulatory_detail"]),
            standard_activity_per_cycle_bq=_optional_float(entry, "standard_activity_per_cycle_bq"),
            standard_cycles=_optional_int(entry, "standard_cycles"),
            standard_interval_s=_optional_float(entry, "standard_interval_s"),
            studied_regimens=tuple(
                StudiedRegimen(
                    description=str(r["description"]),
                    activity_per_cycle_bq=_optional_float(r, "activity_per_cycle_bq"),
                    activity_per_kg_bq_per_kg=_optional_float(r, "activity_per_kg_bq_per_kg"),
                    cycles=_optional_int(r, "cycles"),
                    interval_s=_optional_float(r, "interval_s"),
                    source=str(r["source"]),
                )
                for r in entry["studied_regimens"]
            ),
            sources=MappingProxyType(sources),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise DataSourceError(
            f"{RADIOPHARMACEUTICALS_TABLE}: malformed entry {entry.get('id')!r}: {err}"
        ) from err


@lru_cache(maxsize=1)
def radiopharmaceuticals() -> tuple[Radiopharmaceutical, ...]:
    """Return every catalogued radiopharmaceutical, in catalogue order.

    Examples
    --------
    >>> [a.name for a in radiopharmaceuticals() if a.receptor_action is ReceptorAction.ANTAGONIST]
    ['[177Lu]Lu-DOTA-LM3', '[177Lu]Lu-satoreotide tetraxetan']
    """
    content = read_json(RADIOPHARMACEUTICALS_TABLE)
    agents = tuple(_parse(entry) for entry in content["agents"])
    if len({a.id for a in agents}) != len(agents):
        raise DataSourceError(f"{RADIOPHARMACEUTICALS_TABLE}: duplicate ids")
    return agents


def _key(text: str) -> str:
    # Compare names without brackets, hyphens, spaces or case: "[177Lu]Lu-DOTA-TATE" ~ "177lu-dotatate".
    return re.sub(r"[\s\[\]\-_()]", "", text).lower()


def get_radiopharmaceutical(name: str) -> Radiopharmaceutical:
    """Return an agent by id, name or synonym (case, brackets, spaces and hyphens ignored).

    Raises
    ------
    InvalidInputError
        ``field="radiopharmaceutical"`` for an unknown name; the message lists the catalogue.

    Examples
    --------
    >>> get_radiopharmaceutical("177Lu-edotreotide").name
    '[177Lu]Lu-DOTA-TOC'
    """
    wanted = _key(name) if isinstance(name, str) else ""
    for agent in radiopharmaceuticals():
        if wanted and wanted in {
            _key(agent.id),
            _key(agent.name),
            *(_key(s) for s in agent.synonyms),
        }:
            return agent
    raise InvalidInputError(
        "radiopharmaceutical",
        name,
        "a catalogued agent",
        hint="known: " + ", ".join(a.name for a in radiopharmaceuticals()),
    )


def radiopharmaceuticals_with(nuclide: Nuclide | str) -> tuple[Radiopharmaceutical, ...]:
    """Return the catalogued agents labelled with ``nuclide``.

    Examples
    --------
    >>> [a.id for a in radiopharmaceuticals_with("Y-90")]
    ['y90-dotatoc', 'y90-dotatate']
    """
    name = get_nuclide(nuclide).name
    return tuple(a for a in radiopharmaceuticals() if a.nuclide == name)
