"""The evidence base: the seed review's results, its Table 1 trials and what was published since.

The data file ``prrt/outcomes/data/evidence.json`` (version :data:`EVIDENCE_VERSION`,
sources in ``prrt/outcomes/data/README.md``) holds

* ``seed_results`` E1–E24 — the quantitative results of Merola & Grana, Cancers
  2023;15:2975 (the seed), each number with its seed reference number(s) and status
  (``seed`` as printed, ``verified`` in a primary abstract, ``flag`` not to be used);
* ``practice_numbers`` P1–P15 — the seed's safety, practice and classification numbers;
* ``trials`` — the 21 rows of the seed's Table 1 (structured, with machine-checkable
  eligibility) with the results found after the seed, and ``reference_trials``
  (NETTER-1);
* ``flags`` F1–F18 — the inconsistencies of the seed and the doubts about later
  numbers, linked to the records they concern, so that they are shown rather than
  copied silently.

The loader checks the file (every number has a status and unit, every flag points to
a record) and raises :class:`~prrt.errors.DataSourceError` when it is malformed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from prrt.errors import DataSourceError, InvalidInputError

__all__ = [
    "EVIDENCE_VERSION",
    "EvidenceBase",
    "EvidenceFlag",
    "EvidenceNumber",
    "PracticeNumber",
    "SeedResult",
    "Trial",
    "evidence_from_dict",
    "flatten_results",
    "load_evidence",
]

EVIDENCE_VERSION = "2025.1"
_STATUSES = frozenset({"seed", "verified", "later", "flag"})
_NUMBER_KEYS = frozenset(
    {"quantity", "value", "unit", "range", "ci95", "arm", "status", "flag", "note", "approx"}
)
_FLAG_KINDS = frozenset(
    {"inconsistency", "unverified", "incomplete", "note", "provisional", "doubt"}
)


@dataclass(frozen=True, slots=True)
class EvidenceNumber:
    """One number of the evidence base with its status (``value`` None = not reached).

    Values keep the precision they were printed with (``50.0`` stays ``50.0``).
    """

    quantity: str
    unit: str
    status: str
    value: float | None = None
    range: tuple[float, float] | None = None
    ci95: tuple[float, float] | None = None
    arm: str | None = None
    approx: bool = False
    flag: str | None = None
    note: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()

    def text(self) -> str:
        """Human-readable value, e.g. ``65.2 percent (95% CI 50.0–76.8)``."""
        if self.value is not None:
            shown = ("≈" if self.approx else "") + str(self.value)
        elif self.range is not None:
            shown = f"{self.range[0]}–{self.range[1]}"
        else:
            return "not reached" if self.note and "not reached" in self.note else "–"
        out = f"{shown} {self.unit}"
        if self.ci95 is not None:
            out += f" (95% CI {self.ci95[0]}–{self.ci95[1]})"
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        out: dict[str, Any] = {"quantity": self.quantity, "unit": self.unit, "status": self.status}
        for name in ("value", "arm", "flag", "note"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.range is not None:
            out["range"] = list(self.range)
        if self.ci95 is not None:
            out["ci95"] = list(self.ci95)
        if self.approx:
            out["approx"] = True
        out.update(dict(self.extra))
        return out


@dataclass(frozen=True, slots=True)
class EvidenceFlag:
    """An inconsistency or doubt, and the records it concerns."""

    flag_id: str
    kind: str
    applies_to: tuple[str, ...]
    text: str
    section: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "id": self.flag_id,
            "kind": self.kind,
            "applies_to": list(self.applies_to),
            "text": self.text,
            "section": self.section,
        }


@dataclass(frozen=True, slots=True)
class SeedResult:
    """A row of the seed's results (evidence.md §1a)."""

    result_id: str
    seed_refs: tuple[int, ...]
    study: str
    trial: str | None
    design: str
    n_text: str
    population: str
    regimen: str
    efficacy: str
    toxicity: str
    status: str
    numbers: tuple[EvidenceNumber, ...]
    flags: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class PracticeNumber:
    """A safety, practice or classification number of the seed (evidence.md §1b)."""

    result_id: str
    seed_refs: tuple[int, ...]
    quantity: str
    value_text: str
    status: str
    numbers: tuple[EvidenceNumber, ...]
    flags: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Trial:
    """A trial of the seed's Table 1 (or a reference trial) with later results."""

    trial_id: str
    name: str | None
    nct: str | None
    aliases: tuple[str, ...]
    table_row: int | None
    role: str
    design: Mapping[str, Any]
    population: Mapping[str, Any]
    arms: tuple[Mapping[str, Any], ...]
    primary_endpoint: str | None
    later_results: tuple[Mapping[str, Any], ...]
    eligibility: Mapping[str, Any]
    flags: tuple[str, ...]
    source: str
    seed_results: tuple[str, ...]
    raw: Mapping[str, Any]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every name the trial can be looked up by (case-insensitive)."""
        names = [self.trial_id, *(self.aliases)]
        if self.name:
            names.append(self.name)
        if self.nct:
            names.append(self.nct)
        return tuple(names)

    @property
    def result_status(self) -> str:
        """Status of the later results (first entry), or the role of a reference trial."""
        if self.role == "reference":
            return "reported (primary analysis and final overall survival)"
        if self.later_results:
            return str(self.later_results[0].get("status", "not stated"))
        return "not stated"


def flatten_results(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted.path, value)`` for every leaf of a nested result record.

    Examples
    --------
    >>> list(flatten_results({"pfs_median_months": {"experimental": 22.8, "control": 8.5}}))
    [('pfs_median_months.experimental', 22.8), ('pfs_median_months.control', 8.5)]
    """
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from flatten_results(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        for i, v in enumerate(value):
            yield from flatten_results(v, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _bad(where: str, what: str) -> DataSourceError:
    return DataSourceError(f"evidence base: {where}: {what}")


def _pair(value: Any, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise _bad(where, f"expected a [low, high] pair of numbers, got {value!r}")
    return value[0], value[1]


def _number(raw: Mapping[str, Any], where: str, flag_ids: set[str]) -> EvidenceNumber:
    for key in ("quantity", "unit", "status"):
        if key not in raw:
            raise _bad(where, f"number without {key!r}")
    status = str(raw["status"])
    if status not in _STATUSES:
        raise _bad(where, f"status {status!r} not in {sorted(_STATUSES)}")
    if "value" not in raw and "range" not in raw and "note" not in raw:
        raise _bad(where, "number without value, range or note")
    flag = raw.get("flag")
    if status == "flag" and flag not in flag_ids:
        raise _bad(where, f"a flagged number must name an existing flag, got {flag!r}")
    value = raw.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _bad(where, f"value must be a number, got {value!r}")
    return EvidenceNumber(
        quantity=str(raw["quantity"]),
        unit=str(raw["unit"]),
        status=status,
        value=value,
        range=_pair(raw.get("range"), where),
        ci95=_pair(raw.get("ci95"), where),
        arm=raw.get("arm"),
        approx=bool(raw.get("approx", False)),
        flag=flag,
        note=raw.get("note"),
        extra=tuple((k, v) for k, v in raw.items() if k not in _NUMBER_KEYS),
    )


class EvidenceBase:
    """Queryable evidence base (see the module docstring)."""

    def __init__(
        self,
        *,
        version: str,
        seed: Mapping[str, Any],
        results: tuple[SeedResult, ...],
        practice: tuple[PracticeNumber, ...],
        trials: tuple[Trial, ...],
        flags: tuple[EvidenceFlag, ...],
    ) -> None:
        self.version = version
        self.seed = dict(seed)
        self.results = results
        self.practice = practice
        self.trials = trials
        self.flags = flags
        self._flags = {f.flag_id: f for f in flags}

    def trial(self, key: str) -> Trial:
        """The trial called ``key`` (name, alias or NCT number; case-insensitive).

        Raises
        ------
        InvalidInputError
            No such trial (the message lists the known names).
        """
        wanted = key.strip().casefold()
        for t in self.trials:
            if wanted in (k.casefold() for k in t.keys):
                return t
        raise InvalidInputError(
            "trial",
            key,
            "a trial name or NCT number: " + ", ".join(t.trial_id for t in self.trials),
        )

    def result(self, result_id: str) -> SeedResult | PracticeNumber:
        """A seed result (E1–E24) or practice number (P1–P15) by id."""
        wanted = result_id.strip().upper()
        records: tuple[SeedResult | PracticeNumber, ...] = (*self.results, *self.practice)
        for r in records:
            if r.result_id == wanted:
                return r
        raise InvalidInputError(
            "result", result_id, "a result id E1-E24 or P1-P15 (see `prrt evidence list`)"
        )

    def lookup(self, key: str) -> Trial | SeedResult | PracticeNumber | EvidenceFlag:
        """A trial, seed result, practice number or flag by any of its names."""
        if key.strip().upper() in self._flags:
            return self._flags[key.strip().upper()]
        try:
            return self.result(key)
        except InvalidInputError:
            pass
        try:
            return self.trial(key)
        except InvalidInputError:
            raise InvalidInputError(
                "name",
                key,
                "a trial (name or NCT), a result id (E1-E24, P1-P15) or a flag id (F1-F18)",
                hint="`prrt evidence list` shows them all",
            ) from None

    def flag(self, flag_id: str) -> EvidenceFlag:
        """The flag ``flag_id``."""
        try:
            return self._flags[flag_id.strip().upper()]
        except KeyError:
            raise InvalidInputError("flag", flag_id, "a flag id F1-F18") from None

    def flags_for(self, record_id: str) -> tuple[EvidenceFlag, ...]:
        """Flags that concern a record (trial id, result id)."""
        return tuple(f for f in self.flags if record_id in f.applies_to)

    def results_for_trial(self, trial: Trial) -> tuple[SeedResult, ...]:
        """Seed results reporting on ``trial``."""
        return tuple(r for r in self.results if r.trial == trial.trial_id)

    def numbers(
        self, quantity: str | None = None, *, arm: str | None = None
    ) -> tuple[tuple[str, EvidenceNumber], ...]:
        """``(record id, number)`` of every seed number matching ``quantity`` and ``arm``."""
        out = []
        records: tuple[SeedResult | PracticeNumber, ...] = (*self.results, *self.practice)
        for rec in records:
            for n in rec.numbers:
                if (quantity is None or n.quantity == quantity) and (arm is None or n.arm == arm):
                    out.append((rec.result_id, n))
        return tuple(out)


def _trial(raw: Mapping[str, Any], role: str, flag_ids: set[str]) -> Trial:
    where = f"trial {raw.get('id')!r}"
    for key in ("id", "eligibility", "flags", "source"):
        if key not in raw:
            raise _bad(where, f"missing {key!r}")
    unknown = set(raw["flags"]) - flag_ids
    if unknown:
        raise _bad(where, f"unknown flags {sorted(unknown)}")
    return Trial(
        trial_id=str(raw["id"]),
        name=raw.get("name"),
        nct=raw.get("nct"),
        aliases=tuple(raw.get("aliases", ())),
        table_row=raw.get("row"),
        role=role,
        design=raw.get("design", {}),
        population=raw.get("population", {}),
        arms=tuple(raw.get("arms", ())),
        primary_endpoint=raw.get("primary_endpoint"),
        later_results=tuple(
            raw.get("later_results", ())
            or ([raw["primary_analysis"], raw["final_os"]] if "final_os" in raw else [])
        ),
        eligibility=raw["eligibility"],
        flags=tuple(raw["flags"]),
        source=str(raw["source"]),
        seed_results=tuple(raw.get("seed_results", ())),
        raw=raw,
    )


def evidence_from_dict(data: Mapping[str, Any]) -> EvidenceBase:
    """Validate and build the evidence base from its decoded JSON.

    Raises
    ------
    DataSourceError
        A missing section, a number without status or unit, a flag pointing nowhere.
    """
    for key in ("evidence_version", "seed", "seed_results", "practice_numbers", "trials", "flags"):
        if key not in data:
            raise _bad("file", f"missing section {key!r}")
    flags = []
    for raw in data["flags"]:
        if raw.get("kind") not in _FLAG_KINDS:
            raise _bad(f"flag {raw.get('id')!r}", f"kind {raw.get('kind')!r} not allowed")
        flags.append(
            EvidenceFlag(
                str(raw["id"]),
                str(raw["kind"]),
                tuple(raw["applies_to"]),
                str(raw["text"]),
                str(raw["section"]),
            )
        )
    flag_ids = {f.flag_id for f in flags}

    def numbers(rec: Mapping[str, Any]) -> tuple[EvidenceNumber, ...]:
        return tuple(
            _number(n, f"{rec['id']}.numbers[{i}]", flag_ids) for i, n in enumerate(rec["numbers"])
        )

    results = tuple(
        SeedResult(
            result_id=r["id"],
            seed_refs=tuple(r["seed_refs"]),
            study=r["study"],
            trial=r.get("trial"),
            design=r["design"],
            n_text=r["n_text"],
            population=r["population"],
            regimen=r["regimen"],
            efficacy=r["efficacy"],
            toxicity=r["toxicity"],
            status=r["status"],
            numbers=numbers(r),
            flags=tuple(r["flags"]),
            source=r["source"],
        )
        for r in data["seed_results"]
    )
    practice = tuple(
        PracticeNumber(
            result_id=p["id"],
            seed_refs=tuple(p["seed_refs"]),
            quantity=p["quantity"],
            value_text=p["value_text"],
            status=p["status"],
            numbers=numbers(p),
            flags=tuple(p["flags"]),
            source=p["source"],
        )
        for p in data["practice_numbers"]
    )
    trials = tuple(_trial(t, "seed Table 1", flag_ids) for t in data["trials"]) + tuple(
        _trial(t, "reference", flag_ids) for t in data.get("reference_trials", ())
    )
    records: tuple[SeedResult | PracticeNumber, ...] = (*results, *practice)
    ids = {r.result_id for r in records} | {t.trial_id for t in trials}
    for f in flags:
        missing = set(f.applies_to) - ids
        if missing:
            raise _bad(f"flag {f.flag_id}", f"applies to unknown records {sorted(missing)}")
    for r in records:
        if set(r.flags) - flag_ids:
            raise _bad(r.result_id, f"unknown flags {sorted(set(r.flags) - flag_ids)}")
    return EvidenceBase(
        version=str(data["evidence_version"]),
        seed=data["seed"],
        results=results,
        practice=practice,
        trials=trials,
        flags=tuple(flags),
    )


@lru_cache(maxsize=1)
def load_evidence() -> EvidenceBase:
    """Load the packaged evidence base (cached).

    Examples
    --------
    >>> ev = load_evidence()
    >>> [n.text() for _, n in ev.numbers("pfs_rate_month20_percent", arm="experimental")]
    ['65.2 percent (95% CI 50.0–76.8)']
    """
    path = resources.files("prrt.outcomes").joinpath("data/evidence.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise DataSourceError(f"evidence base {path}: {err}") from err
    base = evidence_from_dict(data)
    if base.version != EVIDENCE_VERSION:
        raise DataSourceError(
            f"evidence base version {base.version!r}, expected {EVIDENCE_VERSION!r}"
        )
    return base
