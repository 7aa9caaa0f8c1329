"""CT series and NM (SPECT) files: write → read gives the same grid and values; header times are required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pydicom
import pytest

from prrt.adapters.dicom import read_ct_series, read_nm, write_ct_series, write_nm
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume

INJECTION = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _write_counts(patient, path, **kwargs):
    args = {
        "injection_time": patient.injection_time,
        "injected_activity_bq": patient.injected_activity_bq,
        "nuclide": "Lu-177",
        "acquisition_duration_s": 1200.0,
    }
    args.update(kwargs)
    return write_nm(patient.counts_maps[1], path, **args)


def test_ct_round_trip_equal_geometry_and_values(tmp_path, small_patient, dcmdump):
    files = write_ct_series(small_patient.ct_hu, tmp_path / "ct")
    assert len(files) == 48
    ct, ordered, reference = read_ct_series(tmp_path / "ct")
    assert ct.geometry_equal(small_patient.ct_hu, atol_mm=1e-6)
    np.testing.assert_array_equal(ct.array, small_patient.ct_hu.array)  # integer HU: exact
    assert ordered == files
    assert reference.patient_id == str(pydicom.dcmread(files[0]).PatientID)
    result = dcmdump(files[0])
    assert result.returncode == 0, result.stderr


def test_ct_non_integer_hu_are_rounded_to_half_hu(tmp_path):
    rng = np.random.default_rng(2)
    ct = Volume.from_spacing(
        rng.uniform(-1000, 1000, (5, 6, 4)), spacing_mm=(0.9, 0.9, 2.5), quantity="hu"
    )
    back, _, _ = read_ct_series(write_ct_series(ct, tmp_path))
    assert np.max(np.abs(back.array - ct.array)) <= 0.5


def test_ct_missing_slice_is_refused(tmp_path, small_patient):
    files = write_ct_series(small_patient.ct_hu, tmp_path / "ct")
    files[10].unlink()
    with pytest.raises(InvalidInputError, match="missing"):
        read_ct_series(tmp_path / "ct")


def test_nm_counts_round_trip_exact_with_times(tmp_path, small_patient, dcmdump):
    path = _write_counts(small_patient, tmp_path / "nm.dcm")
    nm = read_nm(path)
    counts = small_patient.counts_maps[1]
    assert nm.volume.geometry_equal(counts, atol_mm=1e-6)
    np.testing.assert_array_equal(nm.volume.array, counts.array)
    assert nm.volume.quantity.value == "counts"
    assert nm.volume.acquisition_time == counts.acquisition_time
    assert nm.injection_time == small_patient.injection_time
    assert nm.injected_activity_bq == pytest.approx(7.4e9)
    assert nm.nuclide == "Lu-177"
    assert nm.acquisition_duration_s == 1200.0
    ds = pydicom.dcmread(path)
    # NM stores the administered activity in MBq (PS3.3 C.8.4.10).
    assert float(
        ds.RadiopharmaceuticalInformationSequence[0].RadionuclideTotalDose
    ) == pytest.approx(7400.0)
    assert dcmdump(path).returncode == 0


def test_nm_activity_concentration_round_trip_within_quantisation(tmp_path, small_patient):
    activity = small_patient.activity_maps_bq[0]
    path = write_nm(
        activity,
        tmp_path / "nm.dcm",
        injection_time=INJECTION,
        injected_activity_bq=7.4e9,
        nuclide="Lu-177",
        acquisition_duration_s=1200.0,
    )
    nm = read_nm(path)
    assert nm.volume.quantity.value == "activity_concentration_bq_per_ml"
    slope = float(pydicom.dcmread(path).RealWorldValueMappingSequence[0].RealWorldValueSlope)
    # 16-bit storage: within slope / 2 (slope = max concentration / 65535).
    concentration = activity.array / activity.voxel_volume_ml
    assert np.max(np.abs(nm.volume.array - concentration)) <= slope / 2 * (1 + 1e-9)


def test_nm_without_injection_time_is_refused_and_can_be_supplied(tmp_path, small_patient):
    path = _write_counts(small_patient, tmp_path / "nm.dcm")
    ds = pydicom.dcmread(path)
    del ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartDateTime
    ds.save_as(path)
    # Only a start time (no date) is left: the date is not guessed.
    with pytest.raises(
        InvalidInputError,
        match=r"^injection_time: got '090000.000000'.*supply it with injection_time",
    ):
        read_nm(path)
    assert read_nm(path, injection_time=INJECTION).injection_time == INJECTION
    del ds.RadiopharmaceuticalInformationSequence
    ds.save_as(path)
    with pytest.raises(InvalidInputError, match="RadiopharmaceuticalInformationSequence"):
        read_nm(path)
    with pytest.raises(InvalidInputError, match="time-zone aware"):
        read_nm(path, injection_time=datetime(2025, 1, 6, 9, 0))


def test_nm_without_acquisition_time_or_time_zone_is_refused(tmp_path, small_patient):
    path = _write_counts(small_patient, tmp_path / "nm.dcm")
    ds = pydicom.dcmread(path)
    del ds.TimezoneOffsetFromUTC
    ds.save_as(path)
    with pytest.raises(InvalidInputError, match="pass timezone"):
        read_nm(path)
    local = timezone(timedelta(hours=1))
    nm = read_nm(path, timezone=local)
    # The injection DT carries its own offset (+0000); the acquisition time takes the given zone.
    assert nm.injection_time == small_patient.injection_time
    assert nm.volume.acquisition_time == small_patient.acquisition_times[1].replace(tzinfo=local)
    del ds.AcquisitionTime
    ds.save_as(path)
    with pytest.raises(
        InvalidInputError,
        match=r"acquisition_time: got None.*AcquisitionTime.*acquisition_time=\.\.\.",
    ):
        read_nm(path, timezone=UTC)


def test_nm_injection_after_acquisition_is_refused(tmp_path, small_patient):
    path = _write_counts(small_patient, tmp_path / "nm.dcm")
    with pytest.raises(InvalidInputError, match="before the acquisition"):
        read_nm(path, injection_time=INJECTION + timedelta(days=30))


def test_write_nm_refuses_bad_input(tmp_path, small_patient):
    no_time = Volume.from_spacing(np.ones((4, 4, 4)), spacing_mm=(4, 4, 4), quantity="counts")
    with pytest.raises(InvalidInputError, match="acquisition_time"):
        write_nm(
            no_time,
            tmp_path / "x.dcm",
            injection_time=INJECTION,
            injected_activity_bq=1e9,
            nuclide="Lu-177",
            acquisition_duration_s=600.0,
        )
    with pytest.raises(InvalidInputError, match="volume"):
        write_nm(
            small_patient.ct_hu.with_array(np.zeros((48, 48, 48)), acquisition_time=INJECTION),
            tmp_path / "x.dcm",
            injection_time=INJECTION,
            injected_activity_bq=1e9,
            nuclide="Lu-177",
            acquisition_duration_s=600.0,
        )


def test_single_slice_pet_series_reads_bq_per_ml_and_total_dose_in_bq(tmp_path, small_patient):
    """A reconstruction stored one slice per file (PET-style) with Units BQML and RescaleSlope."""
    concentration = (
        small_patient.activity_maps_bq[2].array / small_patient.activity_maps_bq[2].voxel_volume_ml
    )
    slope = float(concentration.max()) / 60000.0
    stored = Volume.from_spacing(
        np.rint(concentration / slope) - 1024.0,  # write_ct_series adds 1024 back
        spacing_mm=(6.0, 6.0, 6.0),
        origin_mm=small_patient.ct_hu.origin_mm,
        quantity="hu",
    )
    files = write_ct_series(stored, tmp_path / "pt")
    for path in files:
        ds = pydicom.dcmread(path)
        ds.Modality = "PT"
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = f"{slope:.12g}"
        ds.Units = "BQML"
        ds.AcquisitionDate, ds.AcquisitionTime = "20250110", "090000"
        radio = pydicom.Dataset()
        radio.RadiopharmaceuticalStartDateTime = "20250106090000+0000"
        radio.RadionuclideTotalDose = "7400000000"  # Bq in PET
        radio.Radiopharmaceutical = "177Lu-DOTATATE"
        ds.RadiopharmaceuticalInformationSequence = pydicom.Sequence([radio])
        ds.save_as(path)
    nm = read_nm(tmp_path / "pt")
    assert nm.volume.quantity.value == "activity_concentration_bq_per_ml"
    assert nm.volume.geometry_equal(small_patient.ct_hu, atol_mm=1e-6)
    assert np.max(np.abs(nm.volume.array - concentration)) <= slope / 2 * (1 + 1e-9)
    assert nm.injected_activity_bq == pytest.approx(7.4e9)
    assert nm.injection_time == INJECTION
    assert nm.volume.acquisition_time == datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    assert nm.nuclide == "Lu-177"


def test_nm_with_negative_slice_spacing_is_reordered(tmp_path, small_patient):
    path = _write_counts(small_patient, tmp_path / "nm.dcm")
    ds = pydicom.dcmread(path)
    nz = int(ds.NumberOfFrames)
    frames = ds.pixel_array[::-1].copy()
    top = np.array([float(v) for v in ds.DetectorInformationSequence[0].ImagePositionPatient]) + (
        nz - 1
    ) * 6.0 * np.array([0, 0, 1.0])
    ds.DetectorInformationSequence[0].ImagePositionPatient = [f"{v:.6f}" for v in top]
    ds.SpacingBetweenSlices = "-6"
    ds.PixelData = frames.astype("<u2").tobytes()
    ds.save_as(path)
    nm = read_nm(path)
    assert nm.volume.geometry_equal(small_patient.counts_maps[1], atol_mm=1e-6)
    np.testing.assert_array_equal(nm.volume.array, small_patient.counts_maps[1].array)
