"""The prrt-batch manifest: every malformed entry is refused with its JSON path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from prrt.adapters.batch.manifest import folder_name, read_batch_manifest
from prrt.errors import InvalidInputError


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _doc(*studies: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"format": "prrt-batch", "version": 1, "studies": list(studies), **top}


def test_paths_defaults_and_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _doc(
            {"id": "A/001 c1", "study": "a/001", "centre": "A", "patient_id": "001", "cycle": 1},
            {"id": "B-2", "study": "/abs/b2", "sex": "female", "renal_risk_factors": True},
            defaults={"sex": "male", "renal_risk_factors": False},
        ),
    )
    m = read_batch_manifest(path)
    a, b = m.studies
    assert a.path == str(tmp_path.resolve() / "a" / "001")
    assert (a.sex, a.centre, a.patient_id, a.cycle, a.renal_risk_factors) == (
        "male",
        "A",
        "001",
        1,
        False,
    )
    assert a.folder == "A_001_c1"
    assert (b.path, b.sex, b.renal_risk_factors) == ("/abs/b2", "female", True)
    assert folder_name("..") == "_"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ([], "MANIFEST"),
        ({"format": "other", "version": 1, "studies": []}, "format"),
        ({"format": "prrt-batch", "version": 2, "studies": []}, "version"),
        (_doc(), "studies"),
        (_doc({"id": "a", "study": "x", "sex": "male", "colour": "red"}), r"studies\[0\]\.colour"),
        (_doc({"id": "a", "study": "x"}), r"studies\[0\]\.sex"),
        (_doc({"id": "a", "study": "x", "sex": "M"}), r"studies\[0\]\.sex"),
        (_doc({"id": "", "study": "x", "sex": "male"}), r"studies\[0\]\.id"),
        (_doc({"id": "a", "sex": "male"}), r"studies\[0\]\.study"),
        (_doc({"id": "a", "study": "x", "sex": "male", "cycle": 0}), r"studies\[0\]\.cycle"),
        (
            _doc({"id": "a", "study": "x", "sex": "male", "renal_risk_factors": "yes"}),
            r"studies\[0\]\.renal_risk_factors",
        ),
        (
            _doc(
                {"id": "a b", "study": "x", "sex": "male"},
                {"id": "a_b", "study": "y", "sex": "male"},
            ),
            r"studies\[1\]\.id",
        ),
        (_doc({"id": "a", "study": "x"}, defaults={"sex": "male", "age": 3}), r"defaults\.age"),
    ],
)
def test_malformed_manifests_name_the_field(tmp_path: Path, doc: Any, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        read_batch_manifest(_write(tmp_path, doc))


def test_unreadable_manifest(tmp_path: Path) -> None:
    bad = tmp_path / "batch.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="MANIFEST"):
        read_batch_manifest(bad)
