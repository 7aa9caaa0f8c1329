"""The batch manifest: the studies of a cohort, one JSON file (``docs/batch.md``).

::

    {
      "format": "prrt-batch",
      "version": 1,
      "defaults": {"sex": "male", "renal_risk_factors": null},
      "studies": [
        {"id": "A-001-c1", "study": "centre_a/001/cycle1", "sex": "female",
         "centre": "A", "patient_id": "A-001", "cycle": 1}
      ]
    }

``study`` is a study folder (with its ``manifest.json``, ``docs/imaging.md``),
a study manifest or a DICOM folder, relative to the batch manifest's folder or
absolute.  ``sex`` (selects the ICRP-89 phantom of the organ dosimetry) comes
from the study or from ``defaults``; ``renal_risk_factors`` (true/false/null)
likewise.  Ids are unique and name the study's result folder.  The whole file
is checked before anything runs: a malformed entry exits with code 2 and names
its JSON path (``studies[3].sex``).  A study that cannot be read is not a
manifest error: it is reported as a failed study.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prrt.adapters._files import read_json_document
from prrt.errors import InvalidInputError

__all__ = ["BATCH_FORMAT", "BATCH_VERSION", "BatchManifest", "BatchStudy", "read_batch_manifest"]

BATCH_FORMAT = "prrt-batch"
BATCH_VERSION = 1
_STUDY_KEYS = {"id", "study", "sex", "centre", "patient_id", "cycle", "renal_risk_factors"}
_DEFAULT_KEYS = {"sex", "renal_risk_factors"}
_TOP_KEYS = {"format", "version", "defaults", "studies", "description"}
_SEXES = ("female", "male")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class BatchStudy:
    """One study of a batch."""

    id: str
    path: str
    sex: str
    folder: str
    centre: str | None = None
    patient_id: str | None = None
    cycle: int | None = None
    renal_risk_factors: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "id": self.id,
            "path": self.path,
            "sex": self.sex,
            "folder": self.folder,
            "centre": self.centre,
            "patient_id": self.patient_id,
            "cycle": self.cycle,
            "renal_risk_factors": self.renal_risk_factors,
        }


@dataclass(frozen=True, slots=True)
class BatchManifest:
    """The studies of a batch manifest, paths resolved."""

    path: Path
    studies: tuple[BatchStudy, ...]


def _unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise InvalidInputError(
            f"{where}{extra[0]}",
            data[extra[0]],
            "no such key; known: " + ", ".join(sorted(allowed)),
        )


def _required_text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where}.{key}", value, "a non-empty string")
    return value.strip()


def _text(item: Mapping[str, Any], key: str, where: str) -> str | None:
    return None if item.get(key) is None else _required_text(item, key, where)


def _sex(value: Any, field: str) -> str:
    if value not in _SEXES:
        raise InvalidInputError(field, value, "'female' or 'male' (selects the ICRP-89 phantom)")
    return str(value)


def _risk(value: Any, field: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInputError(field, value, "true, false or null (unknown)")
    return value


def folder_name(study_id: str) -> str:
    """The result folder of a study id (unsafe characters become ``_``).

    Examples
    --------
    >>> folder_name("centre a/001:c1")
    'centre_a_001_c1'
    """
    return _UNSAFE.sub("_", study_id).strip("._") or "_"


def read_batch_manifest(path: Path) -> BatchManifest:
    """Read and check a batch manifest.

    Raises
    ------
    InvalidInputError
        Unreadable or malformed file, unknown keys, missing or duplicate ids, a
        missing sex, ids that collide as folder names.
    """
    data = read_json_document(
        path, field="MANIFEST", expected="a readable prrt-batch manifest (JSON)"
    )
    if not isinstance(data, dict):
        raise InvalidInputError("MANIFEST", type(data).__name__, "a JSON object")
    _unknown(data, _TOP_KEYS, "")
    if data.get("format") != BATCH_FORMAT:
        raise InvalidInputError("format", data.get("format"), f"{BATCH_FORMAT!r}")
    if data.get("version") != BATCH_VERSION:
        raise InvalidInputError("version", data.get("version"), f"{BATCH_VERSION}")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InvalidInputError("defaults", defaults, "a JSON object")
    _unknown(defaults, _DEFAULT_KEYS, "defaults.")
    studies = data.get("studies")
    if not isinstance(studies, list) or not studies:
        raise InvalidInputError("studies", studies, "a non-empty list of studies")
    root = path.resolve().parent
    seen: dict[str, str] = {}
    out = []
    for index, item in enumerate(studies):
        where = f"studies[{index}]"
        if not isinstance(item, dict):
            raise InvalidInputError(where, item, "a JSON object")
        _unknown(item, _STUDY_KEYS, f"{where}.")
        study_id = _required_text(item, "id", where)
        rel = _required_text(item, "study", where)
        folder = folder_name(study_id)
        if folder in seen:
            raise InvalidInputError(
                f"{where}.id",
                study_id,
                f"an id distinct from {seen[folder]!r} (ids must stay distinct as folder names)",
            )
        seen[folder] = study_id
        if "sex" in item:
            sex = _sex(item["sex"], f"{where}.sex")
        elif "sex" in defaults:
            sex = _sex(defaults["sex"], "defaults.sex")
        else:
            raise InvalidInputError(
                f"{where}.sex", None, "'female' or 'male'", hint="or give defaults.sex"
            )
        risk_key = "renal_risk_factors"
        risk = _risk(item.get(risk_key, defaults.get(risk_key)), f"{where}.{risk_key}")
        cycle = item.get("cycle")
        if cycle is not None and (
            isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < 1
        ):
            raise InvalidInputError(f"{where}.cycle", cycle, "a cycle number ≥ 1")
        target = Path(rel)
        resolved = target if target.is_absolute() else root / target
        out.append(
            BatchStudy(
                id=study_id,
                path=str(resolved),
                sex=sex,
                folder=folder,
                centre=_text(item, "centre", where),
                patient_id=_text(item, "patient_id", where),
                cycle=cycle,
                renal_risk_factors=risk,
            )
        )
    return BatchManifest(path=path, studies=tuple(out))
