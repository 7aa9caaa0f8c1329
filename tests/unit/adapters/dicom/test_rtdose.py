"""RTDOSE written by prrt: read back by pydicom with the same doses, positions and frame offsets; dcmdump parses it."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from prrt.adapters.dicom import DicomReference, read_rtdose, write_rtdose
from prrt.adapters.dicom.rtdose import RTDOSE_MAX_PIXEL
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume


def _dose(
    shape=(10, 12, 7), spacing=(2.0, 3.0, 4.0), origin=(-10.0, 5.0, 20.0), direction=None, seed=0
):
    rng = np.random.default_rng(seed)
    return Volume.from_spacing(
        rng.random(shape) * 30.0,
        spacing_mm=spacing,
        origin_mm=origin,
        direction=direction,
        quantity="dose_gy",
    )


def test_rtdose_pixels_scaling_positions_and_offsets_read_by_pydicom(tmp_path):
    dose = _dose()
    path = write_rtdose(dose, tmp_path / "dose.dcm")
    ds = pydicom.dcmread(path)
    scaling = float(ds.DoseGridScaling)
    # Doses from pydicom's own pixel decoding: identical within the quantisation DoseGridScaling / 2
    # = max dose / (2 (2^32 - 1)) (about 3.5e-9 Gy for a 30 Gy maximum).
    frames = ds.pixel_array.astype(np.float64) * scaling
    assert frames.shape == (7, 12, 10)  # frames, rows (axis 1), columns (axis 0)
    expected = np.transpose(dose.array, (2, 1, 0))
    assert np.max(np.abs(frames - expected)) <= scaling / 2
    assert scaling == pytest.approx(dose.array.max() / RTDOSE_MAX_PIXEL, rel=2e-9)
    assert [float(v) for v in ds.ImagePositionPatient] == [-10.0, 5.0, 20.0]
    assert [float(v) for v in ds.ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert [float(v) for v in ds.PixelSpacing] == [3.0, 2.0]  # [row spacing, column spacing]
    assert [float(v) for v in ds.GridFrameOffsetVector] == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 24.0]
    assert ds.FrameIncrementPointer == 0x3004000C
    assert (ds.DoseUnits, ds.DoseType, ds.Modality) == ("GY", "PHYSICAL", "RTDOSE")
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (32, 32, 31, 0)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.481.2"


def test_rtdose_round_trip_with_prrt_reader(tmp_path):
    dose = _dose()
    path = write_rtdose(dose, tmp_path / "dose.dcm")
    back = read_rtdose(path)
    scaling = float(pydicom.dcmread(path).DoseGridScaling)
    assert back.geometry_equal(dose, atol_mm=1e-6)
    assert np.max(np.abs(back.array - dose.array)) <= scaling / 2


def test_rtdose_parses_with_dcmdump(tmp_path, dcmdump):
    path = write_rtdose(_dose(), tmp_path / "dose.dcm")
    result = dcmdump(path)
    assert result.returncode == 0, result.stderr
    assert "E:" not in result.stderr
    assert "W:" not in result.stderr
    assert "DoseGridScaling" in result.stdout
    assert "GridFrameOffsetVector" in result.stdout


def test_rtdose_with_reversed_slices_and_rotated_axes_keeps_positions(tmp_path):
    # Axis 0 along P, axis 1 along L, axis 2 toward inferior: written as a stack along +normal.
    direction = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    direction[:, 2] = np.cross(direction[:, 0], direction[:, 1]) * -1.0
    dose = _dose(direction=direction, shape=(6, 5, 4))
    back = read_rtdose(write_rtdose(dose, tmp_path / "d.dcm"))
    # Same voxels in space: compare each voxel's value at its LPS centre.
    idx = np.argwhere(np.ones(dose.shape, dtype=bool))
    centres = dose.world_coordinates(idx)
    back_idx = np.rint(back.voxel_indices(centres)).astype(int)
    values_back = back.array[back_idx[:, 0], back_idx[:, 1], back_idx[:, 2]]
    np.testing.assert_allclose(values_back, dose.array[idx[:, 0], idx[:, 1], idx[:, 2]], atol=1e-8)


def test_rtdose_single_frame_and_all_zero(tmp_path):
    one = _dose(shape=(4, 4, 1))
    back = read_rtdose(write_rtdose(one, tmp_path / "one.dcm"))
    assert back.geometry_equal(one, atol_mm=1e-6)
    zero = one.with_array(np.zeros((4, 4, 1)))
    assert np.all(read_rtdose(write_rtdose(zero, tmp_path / "zero.dcm")).array == 0.0)


def test_rtdose_keeps_study_reference(tmp_path):
    ref = DicomReference(patient_id="P-7", patient_name="Test^Patient")
    ds = pydicom.dcmread(write_rtdose(_dose(), tmp_path / "d.dcm", reference=ref))
    assert (ds.PatientID, ds.StudyInstanceUID, ds.FrameOfReferenceUID) == (
        "P-7",
        ref.study_instance_uid,
        ref.frame_of_reference_uid,
    )


def test_rtdose_refuses_other_quantities(tmp_path):
    rate = _dose().with_array(np.ones((10, 12, 7)), quantity="dose_rate_gy_per_s")
    with pytest.raises(InvalidInputError, match="dose: got 'dose_rate_gy_per_s'"):
        write_rtdose(rate, tmp_path / "r.dcm")
    ct = tmp_path / "not_dose.dcm"
    ds = pydicom.dcmread(write_rtdose(_dose(), ct))
    ds.DoseUnits = "RELATIVE"
    ds.save_as(ct)
    with pytest.raises(InvalidInputError, match="DoseUnits"):
        read_rtdose(ct)


def test_rtdose_provenance_fields_round_trip_and_limits(tmp_path):
    """Dose Comment (LO, 64), Series Description (LO, 64) and Image Comments (LT) read back."""
    label = "prrt Lu-177 kernel complete 0.1830 MeV/decay"
    long_text = ("prrt voxel dosimetry Lu-177; " + "energy per decay 0.183021 MeV; " * 20).strip()
    path = write_rtdose(
        _dose(), tmp_path / "dose.dcm", comment=label, series_description=label,
        image_comments=long_text,
    )  # fmt: skip
    ds = pydicom.dcmread(path)
    assert (ds.DoseComment, ds.SeriesDescription, ds.ImageComments) == (label, label, long_text)
    params = read_rtdose(path).history.to_list()[-1]["parameters"]
    assert params["dose_comment"] == label
    assert params["image_comments"] == long_text
    with pytest.raises(InvalidInputError, match="comment"):
        write_rtdose(_dose(), tmp_path / "bad.dcm", comment="x" * 65)
