"""Synthetic study on disk: write_synthetic_study → read_study gives back the patient; missing data is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pydicom
import pytest

from prrt.adapters.dicom import read_nifti, read_study, write_synthetic_study
from prrt.errors import InvalidInputError


@pytest.fixture(scope="module")
def written(tmp_path_factory, small_patient):
    root = tmp_path_factory.mktemp("study")
    return root, write_synthetic_study(small_patient, root)


def test_manifest_layout(written, small_patient):
    root, manifest_path = written
    manifest = json.loads(manifest_path.read_text())
    assert manifest["format"] == "prrt-study"
    assert manifest["version"] == 1
    assert manifest["nuclide"] == "Lu-177"
    assert manifest["injected_activity_bq"] == 7.4e9
    assert manifest["injection_time"] == "2025-01-06T09:00:00+00:00"
    assert [e["file"] for e in manifest["spect"]] == [f"nm/NM_tp{i}.dcm" for i in range(1, 5)]
    assert manifest["truth"]["tia_bq_s"]["kidneys"] == small_patient.truth_tia_bq_s["kidneys"]
    assert (root / manifest["truth"]["true_tia_map"]).exists()


def test_read_study_returns_the_phantom(written, small_patient):
    root, manifest_path = written
    study = read_study(root)
    assert study.manifest == manifest_path
    assert study.ct.geometry_equal(small_patient.ct_hu, atol_mm=1e-6)
    np.testing.assert_array_equal(study.ct.array, small_patient.ct_hu.array)
    assert study.nuclide == "Lu-177"
    assert study.injected_activity_bq == 7.4e9
    assert study.injection_time == small_patient.injection_time
    assert study.times_after_injection_s == tuple(float(t) for t in small_patient.times_s)
    for read, truth in zip(study.spect, small_patient.activity_maps_bq, strict=True):
        assert read.quantity.value == "activity_bq"
        # counts stored exactly; Bq = counts / (S T f): float round-off only.
        np.testing.assert_allclose(read.array, truth.array, rtol=1e-12, atol=1e-6)
        assert read.acquisition_time == truth.acquisition_time
    assert set(study.masks) == set(small_patient.masks)
    for name, mask in small_patient.masks.items():
        np.testing.assert_array_equal(study.masks[name].array, mask.array)
    assert study.truth["region_masses_kg"]["kidneys"] == small_patient.region_masses_kg["kidneys"]
    tia = read_nifti(root / study.truth["true_tia_map"])
    np.testing.assert_array_equal(tia.array, small_patient.true_tia_map_bq_s.array)


def test_read_study_without_manifest_needs_the_sensitivity(written, small_patient, tmp_path):
    root, _manifest_path = written
    copy = tmp_path / "dicom_only"
    for path in root.rglob("*.dcm"):
        target = copy / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    with pytest.raises(
        InvalidInputError,
        match=r"^camera_sensitivity_cps_per_mbq: got None.*pass camera_sensitivity",
    ):
        read_study(copy)
    study = read_study(copy, camera_sensitivity_cps_per_mbq=10.0)
    assert study.nuclide == "Lu-177"  # from the Radiopharmaceutical text
    np.testing.assert_allclose(
        study.spect[0].array, small_patient.activity_maps_bq[0].array, rtol=1e-12, atol=1e-6
    )


def test_read_study_refuses_missing_injection_time(written, tmp_path):
    root, _ = written
    copy = tmp_path / "no_injection"
    for path in root.rglob("*.dcm"):
        target = copy / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        ds = pydicom.dcmread(path)
        if ds.Modality == "NM":
            del ds.RadiopharmaceuticalInformationSequence
        ds.save_as(target)
    with pytest.raises(
        InvalidInputError, match=r"^injection_time: got None.*supply it with injection_time"
    ):
        read_study(copy, camera_sensitivity_cps_per_mbq=10.0)
    injected = datetime(2025, 1, 6, 9, tzinfo=UTC)
    with pytest.raises(InvalidInputError, match=r"^nuclide: got None"):
        read_study(copy, camera_sensitivity_cps_per_mbq=10.0, injection_time=injected)
    with pytest.raises(
        InvalidInputError, match=r"^injected_activity_bq: got None.*RadionuclideTotalDose"
    ):
        read_study(
            copy, camera_sensitivity_cps_per_mbq=10.0, injection_time=injected, nuclide="Lu-177"
        )
    study = read_study(
        copy,
        camera_sensitivity_cps_per_mbq=10.0,
        injection_time=datetime(2025, 1, 6, 9, tzinfo=UTC),
        injected_activity_bq=7.4e9,
        nuclide="177Lu",
    )
    assert study.nuclide == "Lu-177"


def test_read_study_refuses_mixed_injection_times(written, tmp_path):
    root, _ = written
    copy = tmp_path / "mixed"
    for path in root.rglob("*.dcm"):
        target = copy / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        ds = pydicom.dcmread(path)
        if ds.Modality == "NM" and path.name == "NM_tp3.dcm":
            ds.RadiopharmaceuticalInformationSequence[
                0
            ].RadiopharmaceuticalStartDateTime = "20250105090000+0000"
        ds.save_as(target)
    with pytest.raises(InvalidInputError, match=r"NM_tp3\.dcm: injection_time"):
        read_study(copy, camera_sensitivity_cps_per_mbq=10.0)


def test_malformed_manifest_is_refused(written, tmp_path):
    root, manifest_path = written
    bad = json.loads(manifest_path.read_text())
    bad["format"] = "other"
    (tmp_path / "m.json").write_text(json.dumps(bad))
    with pytest.raises(InvalidInputError, match=r"manifest\.format"):
        read_study(tmp_path / "m.json")
    bad = json.loads(manifest_path.read_text())
    bad["camera_sensitivity_cps_per_mbq"] = "10 cps/MBq"
    m = root / "bad_manifest.json"
    m.write_text(json.dumps(bad))
    try:
        with pytest.raises(InvalidInputError, match=r"manifest\.camera_sensitivity_cps_per_mbq"):
            read_study(m)
    finally:
        m.unlink()


def _read_with(root, manifest_path, name, change):
    """Read a copy of the manifest (next to the files) after ``change(manifest)``."""
    bad = json.loads(manifest_path.read_text())
    change(bad)
    path = root / f"bad_{name}.json"
    path.write_text(json.dumps(bad))
    try:
        read_study(path)
    finally:
        path.unlink()


@pytest.mark.parametrize(
    ("name", "change", "field", "expected"),
    [
        (
            "spect_null",
            lambda m: m["spect"].__setitem__(0, None),
            r"manifest\.spect\[0\]",
            "JSON object",
        ),
        (
            "spect_file",
            lambda m: m["spect"][1].__setitem__("file", 3),
            r"manifest\.spect\[1\]\.file",
            "a string",
        ),
        (
            "ct_dir",
            lambda m: m["ct"].__setitem__("directory", ["ct"]),
            r"manifest\.ct\.directory",
            "a string",
        ),
        (
            "rtstruct_number",
            lambda m: m.__setitem__("rtstruct", 7),
            r"manifest\.rtstruct: got 7",
            "a string",
        ),
        (
            "rtstruct_true",
            lambda m: m.__setitem__("rtstruct", True),
            r"manifest\.rtstruct: got True",
            "a string",
        ),
        (
            "truth_number",
            lambda m: m.__setitem__("truth", 5),
            r"manifest\.truth: got 5",
            "JSON object",
        ),
        (
            "truth_string",
            lambda m: m.__setitem__("truth", "ab"),
            r"manifest\.truth: got 'ab'",
            "JSON object",
        ),
        (
            "truth_list",
            lambda m: m.__setitem__("truth", [1, 2]),
            r"manifest\.truth: got \[1, 2\]",
            "JSON object",
        ),
    ],
)
def test_manifest_entries_of_the_wrong_type_are_refused_by_path(
    written, name, change, field, expected
):
    root, manifest_path = written
    with pytest.raises(InvalidInputError, match=field) as err:
        _read_with(root, manifest_path, name, change)
    assert expected in str(err.value)
    assert "<class" not in str(err.value)
