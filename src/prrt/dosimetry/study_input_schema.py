"""JSON Schema of the organ-dosimetry study format, its validation and short error values.

The schema ships as ``prrt/dosimetry/schemas/organ_study.schema.json``
(:func:`organ_study_schema`); :data:`SCHEMA_KEYS` lists the keys the parser of
:mod:`prrt.dosimetry.study_input` reads.  Schema errors name the JSON path of the
problem, and values echoed in errors are summarised (:func:`compact_value`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from prrt.errors import DataSourceError, InvalidInputError, UnitError

__all__ = [
    "MAX_ECHOED_VALUE_CHARS",
    "SCHEMA_KEYS",
    "STUDY_SCHEMA_VERSION",
    "compact_value",
    "organ_study_schema",
]

STUDY_SCHEMA_VERSION = "1.0"

#: Keys the parser reads, per object of the schema (kept in sync with the JSON Schema by a test).
SCHEMA_KEYS: dict[str, tuple[str, ...]] = {
    "study": ("schema_version", "patient", "settings", "cycles", "plan"),
    "patient": ("id", "sex", "body_mass", "renal_risk_factors"),
    "settings": (
        "nuclide",
        "kidney_convention",
        "mass_scaling",
        "rbe_alpha",
        "limit_profile",
        "limit_overrides",
        "predictor",
        "dose_uncertainty_fraction",
        "coverage_factor",
    ),
    "cycle": (
        "cycle",
        "administered_activity",
        "administered_at",
        "regions",
        "lesions",
        "blood",
        "reported_doses",
    ),
    "region": ("region", "mass", "tac", "tia", "effective_half_life", "fit_model"),
    "lesion": ("name", "mass", "composition", "tac", "tia", "effective_half_life", "fit_model"),
    "tac": ("points",),
    "point": ("time", "activity", "uncertainty"),
    "blood": ("points", "rmblr", "hematocrit", "fit_model"),
    "blood_point": ("time", "concentration"),
    "reported_dose": ("region", "absorbed_dose", "effective_half_life", "uncertainty_fraction"),
    "plan": ("activity_per_cycle", "region"),
}


@cache
def organ_study_schema() -> dict[str, Any]:
    """Return the JSON Schema of the organ-dosimetry study format.

    Examples
    --------
    >>> organ_study_schema()["title"]
    'prrt organ-level dosimetry study'
    """
    try:
        text = (
            resources.files("prrt.dosimetry")
            .joinpath("schemas", "organ_study.schema.json")
            .read_text(encoding="utf-8")
        )
        schema: dict[str, Any] = json.loads(text)
    except (OSError, ValueError) as err:
        raise DataSourceError(f"organ study schema cannot be read: {err}") from err
    return schema


def _path(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "$"


def _validate_schema(data: Any) -> None:
    import jsonschema
    from jsonschema.exceptions import best_match

    validator = jsonschema.Draft202012Validator(organ_study_schema())
    err = best_match(validator.iter_errors(data))
    if err is None:
        return
    parts = list(err.absolute_path)
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        parts.append(missing[0])
        raise InvalidInputError(_path(parts), None, f"the required field '{missing[0]}'")
    if err.validator == "additionalProperties":
        allowed = err.schema.get("properties", {})
        extra = sorted(set(err.instance) - set(allowed))
        parts.append(extra[0])
        raise InvalidInputError(
            _path(parts),
            err.instance[extra[0]],
            "no such field in the study format",
            hint="allowed: " + ", ".join(allowed),
        )
    expected = str(err.schema.get("description") or err.message)
    if (
        err.validator == "type"
        and err.validator_value == "string"
        and isinstance(err.instance, int | float)
        and "unit" in expected
    ):
        raise UnitError(
            _path(parts), err.instance, expected, hint="the unit must be given explicitly"
        )
    message = err.message
    if message.startswith(repr(err.instance)):
        # jsonschema repeats the whole value; the error already shows it (shortened).
        message = "the value" + message[len(repr(err.instance)) :]
    raise InvalidInputError(_path(parts), err.instance, expected, hint=message)


#: Longest repr of a value echoed in a study error; longer values are summarised.
MAX_ECHOED_VALUE_CHARS = 200


def compact_value(value: Any) -> Any:
    """Return ``value``, or a short summary of it when its repr exceeds 200 characters.

    A wrong file must not be dumped back in the error message.

    Examples
    --------
    >>> compact_value("7.4 GBq")
    '7.4 GBq'
    >>> compact_value({"studies": ["x" * 300]})
    '{"studies": …} (317 characters)'
    >>> print(compact_value(["1 MBq h"] * 100))
    ['1 MBq h', …] (100 items, 1100 characters)
    >>> compact_value("a" * 250)[-25:]
    'aaaaaaa… (250 characters)'
    """
    text = repr(value)
    if len(text) <= MAX_ECHOED_VALUE_CHARS:
        return value
    if isinstance(value, Mapping):
        keys = ", ".join(json.dumps(str(k)) + ": …" for k in itertools.islice(value, 5))
        more = ", …" if len(value) > 5 else ""
        return f"{{{keys}{more}}} ({len(text)} characters)"
    if isinstance(value, list | tuple):
        first = repr(value[0]) if value else ""
        first = first if len(first) <= 60 else first[:60] + "…"
        items = "1 item" if len(value) == 1 else f"{len(value)} items"
        return f"[{first}, …] ({items}, {len(text)} characters)"
    if isinstance(value, str):
        return f"{value[:120]}… ({len(value)} characters)"
    return f"{text[:120]}… ({len(text)} characters)"


def _compact_text(text: str | None) -> str | None:
    if text is None or len(text) <= 2 * MAX_ECHOED_VALUE_CHARS:
        return text
    return f"{text[: 2 * MAX_ECHOED_VALUE_CHARS]}… ({len(text)} characters)"
