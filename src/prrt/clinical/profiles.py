"""Decision profiles: named, versioned sets of thresholds and ambiguity settings.

Guidelines disagree, so the clinical rules are grouped into switchable profiles
(``clinical-rules.md`` §0.5).  Each profile holds

* every setting of the ambiguity register (§11) and of the profile table (§0.5),
  each with its source (``Profile.sources``), and
* the numeric eligibility thresholds of §3.2 (``Profile.thresholds``), read from
  the versioned table ``criteria/eligibility_thresholds.csv``.

Both tables are data in ``prrt/clinical/criteria`` (see its README); the named
profiles in ``criteria/profiles.json`` list only what they change relative to the
default ``PRRT-DEFAULT-1`` (settings under ``overrides``, numeric criteria under
``threshold_overrides``).  A site can derive its own profile with
:meth:`Profile.with_settings` and :meth:`Profile.with_threshold`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from prrt.clinical.outcome import Severity
from prrt.errors import DataSourceError, InvalidInputError

__all__ = [
    "DEFAULT_PROFILE_NAME",
    "PROFILE_NAMES",
    "Profile",
    "Threshold",
    "get_profile",
    "list_profiles",
]

DEFAULT_PROFILE_NAME = "PRRT-DEFAULT-1"
_PACKAGE = "prrt.clinical"

Operator = Literal["<", "<=", ">", ">="]
_NEGATION: dict[str, str] = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}

# Allowed values of the enumerated settings (the JSON is validated against them).
_CHOICES: dict[str, tuple[Any, ...]] = {
    "sstr_min_score_pet": (2, 3),
    "sstr_min_score_scintigraphy": (2, 3),
    "single_index_high_grade": ("indeterminate", "use_available_index"),
    "disease_extent_severity": ("warning", "caution"),
    "retreatment_clock": ("last_cycle", "first_cycle"),
    "ctcae_version": ("5.0",),
    "dmt_recurrent_reading": ("any_later_in_course", "on_reduced_dose"),
    "dmt_sixteen_week_reading": ("max_interval", "delay_beyond_schedule"),
    "dmt_renal_resolution": ("criteria_false", "creatinine_to_baseline"),
    "hypersensitivity_grade3_action": ("stop", "withhold_reduce"),
    "release_basis": ("derived_point_source",),
}


@dataclass(frozen=True, slots=True)
class Threshold:
    """One numeric criterion of ``eligibility_thresholds.csv``.

    The rule *fires* when ``observed <fail_when> value``; :attr:`requirement` is the
    negated operator shown to the user as what is needed to pass.
    """

    rule_id: str
    quantity: str
    fail_when: Operator
    value: float
    unit: str
    severity: Severity
    source: str
    confidence: str

    @property
    def requirement(self) -> str:
        """Operator a passing value satisfies (negation of :attr:`fail_when`)."""
        return _NEGATION[self.fail_when]

    def fires(self, observed: float) -> bool:
        """Return True when ``observed`` meets the firing condition.

        Examples
        --------
        >>> t = get_profile().thresholds["X-PLT-LT75"]
        >>> t.fires(74.9), t.fires(75.0), t.requirement
        (True, False, '>=')
        """
        op = self.fail_when
        if op == "<":
            return observed < self.value
        if op == "<=":
            return observed <= self.value
        if op == ">":
            return observed > self.value
        return observed >= self.value


@dataclass(frozen=True, slots=True)
class Profile:
    """A named decision profile (clinical-rules.md §0.5 and §11).

    Attributes
    ----------
    name, version, description
        Identity of the profile; ``version`` is the criteria version of the tables.
    sstr_min_score_pet, sstr_min_score_scintigraphy
        Minimum (modified) Krenning score of a target lesion on SSTR PET and on
        planar/SPECT scintigraphy (SSTR-3/SSTR-4; §11.5).
    g3_ki67_upper_bound_inclusive
        False: Ki-67 >= 55 % excludes a high-grade tumour; True: only > 55 % (§11.6).
    nec_treated_like_net_g3
        True: NEC with Ki-67 < 55 % is conditional like NET G3; False: NEC is excluded (§11.7).
    single_index_high_grade
        ``"indeterminate"``: with one index below G3 the G3 rules are indeterminate;
        ``"use_available_index"``: the available index is trusted (WHO-2).
    disease_extent_severity
        Class of the peritoneal/mesenteric, liver-burden and diffuse-marrow rules:
        ``"warning"`` (§3.2, never a gate) or ``"caution"`` (MDT review).
    inr_fallback
        Use INR > 1.5 as "prothrombin abnormal" when PT activity is missing (§11.8).
    retreatment_min_interval_months, retreatment_clock
        RETX-1 interval and the cycle it is measured from (§11.9).
    ctcae_version
        CTCAE version used for grading (§11.1).
    dmt_recurrent_reading, dmt_sixteen_week_reading, dmt_renal_resolution,
    dmt_eu_any_haematological_grade3, hypersensitivity_grade3_action
        Dose-modification ambiguities (§4.4, §11.2–11.4, §11.11, ``EU_SMPC_2017``).
    release_basis
        Patient-release basis (§11.10; informational).
    eu_renal_subband_text
        Name the EU CrCl sub-band in the C-CRCL-30-49 explanation (§11.12).
    sources
        Source of every setting above, by field name.
    thresholds
        Numeric eligibility criteria by rule id.
    """

    name: str
    version: str
    description: str
    sstr_min_score_pet: int
    sstr_min_score_scintigraphy: int
    g3_ki67_upper_bound_inclusive: bool
    nec_treated_like_net_g3: bool
    single_index_high_grade: Literal["indeterminate", "use_available_index"]
    disease_extent_severity: Literal["warning", "caution"]
    inr_fallback: bool
    retreatment_min_interval_months: int
    retreatment_clock: Literal["last_cycle", "first_cycle"]
    ctcae_version: str
    dmt_recurrent_reading: Literal["any_later_in_course", "on_reduced_dose"]
    dmt_sixteen_week_reading: Literal["max_interval", "delay_beyond_schedule"]
    dmt_renal_resolution: Literal["criteria_false", "creatinine_to_baseline"]
    dmt_eu_any_haematological_grade3: bool
    hypersensitivity_grade3_action: Literal["stop", "withhold_reduce"]
    release_basis: str
    eu_renal_subband_text: bool
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    thresholds: Mapping[str, Threshold] = field(default_factory=dict, compare=False)

    def threshold(self, rule_id: str) -> Threshold:
        """Return the numeric criterion of ``rule_id``.

        Raises
        ------
        DataSourceError
            The criteria table has no such rule.
        """
        try:
            return self.thresholds[rule_id]
        except KeyError as err:
            raise DataSourceError(f"eligibility_thresholds.csv has no rule {rule_id!r}") from err

    def settings(self) -> dict[str, Any]:
        """Return every setting as a ``{name: value}`` dictionary (no thresholds/sources)."""
        return {name: getattr(self, name) for name in _setting_names()}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable description (settings with sources, thresholds)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "settings": {
                name: {"value": value, "source": self.sources.get(name, "")}
                for name, value in self.settings().items()
            },
            "thresholds": {
                rid: {
                    "fires_when": f"{t.quantity} {t.fail_when} {t.value:g} {t.unit}",
                    "severity": t.severity.value,
                    "source": t.source,
                    "confidence": t.confidence,
                }
                for rid, t in self.thresholds.items()
            },
        }

    def with_settings(self, **changes: Any) -> Profile:
        """Return a copy with some settings changed (a site profile), validated like the data.

        Examples
        --------
        >>> get_profile().with_settings(retreatment_clock="first_cycle").retreatment_clock
        'first_cycle'
        """
        names = set(_setting_names())
        for key, value in changes.items():
            if key not in names:
                raise InvalidInputError(
                    f"profile.{key}", value, "one of " + ", ".join(sorted(names))
                )
            _check_setting(key, value, getattr(self, key), f"profile.{key}")
        return dataclasses.replace(self, **changes)

    def with_threshold(self, rule_id: str, value: float, *, source: str) -> Profile:
        """Return a copy with one numeric criterion changed (a site profile); the operator is kept.

        Raises
        ------
        InvalidInputError
            Unknown rule id, a non-finite value or an empty source.

        Examples
        --------
        >>> site = get_profile().with_threshold("W-FDG-PET-RECOMMENDED", 15.0, source="site protocol 2026")
        >>> site.threshold("W-FDG-PET-RECOMMENDED").value
        15.0
        """
        if rule_id not in self.thresholds:
            raise InvalidInputError("rule_id", rule_id, "a rule of eligibility_thresholds.csv")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInputError(f"thresholds.{rule_id}", value, "a finite number")
        if not isinstance(source, str) or not source.strip():
            raise InvalidInputError(
                f"thresholds.{rule_id}.source", source, "the source of the new threshold"
            )
        table = dict(self.thresholds)
        table[rule_id] = dataclasses.replace(
            table[rule_id], value=float(value), source=source, confidence="P"
        )
        return dataclasses.replace(self, thresholds=MappingProxyType(table))


def _setting_names() -> tuple[str, ...]:
    excluded = {"name", "version", "description", "sources", "thresholds"}
    return tuple(f.name for f in dataclasses.fields(Profile) if f.name not in excluded)


def _check_setting(key: str, value: Any, default: Any, where: str) -> None:
    if type(value) is not type(default):
        raise InvalidInputError(where, value, f"a value of type {type(default).__name__}")
    choices = _CHOICES.get(key)
    if choices is not None and value not in choices:
        raise InvalidInputError(where, value, "one of " + ", ".join(map(repr, choices)))


def _read_text(name: str) -> str:
    try:
        return resources.files(_PACKAGE).joinpath("criteria", name).read_text(encoding="utf-8")
    except OSError as err:  # pragma: no cover - packaging error
        raise DataSourceError(f"criteria table {name!r} is missing from the package") from err


@cache
def _thresholds() -> Mapping[str, Threshold]:
    rows = csv.DictReader(io.StringIO(_read_text("eligibility_thresholds.csv")))
    table: dict[str, Threshold] = {}
    for row in rows:
        op = row["fail_when"]
        if op not in _NEGATION:
            raise DataSourceError(
                f"eligibility_thresholds.csv: bad operator {op!r} in {row['rule_id']}"
            )
        table[row["rule_id"]] = Threshold(
            rule_id=row["rule_id"],
            quantity=row["quantity"],
            fail_when=op,  # type: ignore[arg-type]
            value=float(row["threshold"]),
            unit=row["unit"],
            severity=Severity(row["severity"]),
            source=row["source"],
            confidence=row["confidence"],
        )
    return MappingProxyType(table)


@cache
def _profile_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_read_text("profiles.json"))
    return data


@cache
def _build(name: str) -> Profile:
    data = _profile_data()
    settings = data["settings"]
    spec = data["profiles"][name]
    values = {key: entry["default"] for key, entry in settings.items()}
    sources = {key: f"{entry['source']} ({entry['register']})" for key, entry in settings.items()}
    for key, override in spec["overrides"].items():
        if key not in settings:
            raise DataSourceError(f"profiles.json: {name} overrides unknown setting {key!r}")
        try:
            _check_setting(key, override["value"], settings[key]["default"], f"{name}.{key}")
        except InvalidInputError as err:
            raise DataSourceError(f"profiles.json: {err}") from err
        values[key] = override["value"]
        sources[key] = override["source"]
    thresholds = dict(_thresholds())
    for rule_id, override in spec.get("threshold_overrides", {}).items():
        if rule_id not in thresholds:
            raise DataSourceError(f"profiles.json: {name} overrides unknown threshold {rule_id!r}")
        thresholds[rule_id] = dataclasses.replace(
            thresholds[rule_id], value=float(override["threshold"]), source=override["source"]
        )
    missing = set(_setting_names()) - set(values)
    if missing:
        raise DataSourceError(f"profiles.json lacks settings {sorted(missing)}")
    return Profile(
        name=name,
        version=str(data["criteria_version"]),
        description=spec["description"],
        sources=MappingProxyType(sources),
        thresholds=MappingProxyType(thresholds),
        **{key: values[key] for key in _setting_names()},
    )


def list_profiles() -> tuple[str, ...]:
    """Return the names of the shipped profiles, default first.

    Examples
    --------
    >>> list_profiles()[0]
    'PRRT-DEFAULT-1'
    """
    return tuple(_profile_data()["profiles"])


PROFILE_NAMES: tuple[str, ...] = (
    "PRRT-DEFAULT-1",
    "PET_STRICT",
    "NETTER2_INCLUSIVE_55",
    "EU_SMPC_2017",
    "ERASMUS_18M",
    "USPI_DELAY_READING",
)


def get_profile(name: str = DEFAULT_PROFILE_NAME) -> Profile:
    """Return a named profile (clinical-rules.md §0.5).

    Raises
    ------
    InvalidInputError
        ``name`` is not a shipped profile.

    Examples
    --------
    >>> get_profile("PET_STRICT").sstr_min_score_pet
    3
    >>> get_profile("ERASMUS_18M").retreatment_min_interval_months
    18
    """
    if not isinstance(name, str) or name not in _profile_data()["profiles"]:
        raise InvalidInputError("profile", name, "one of " + ", ".join(list_profiles()))
    return _build(name)
