"""DICOM SEG (highdicom): masks write → read equal; masks outside the image are refused."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from prrt.adapters.dicom import read_seg, write_ct_series, write_seg
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume


def test_seg_round_trip_equal(tmp_path, small_patient, dcmdump):
    ct_files = write_ct_series(small_patient.ct_hu, tmp_path / "ct")
    path = write_seg(small_patient.masks, tmp_path / "seg.dcm", source_images=ct_files)
    on_ct = read_seg(path, reference=small_patient.ct_hu)
    own_grid = read_seg(path)
    assert list(on_ct) == list(small_patient.masks)
    for name, mask in small_patient.masks.items():
        np.testing.assert_array_equal(on_ct[name].array, mask.array, err_msg=name)
        assert own_grid[name].geometry_equal(mask, atol_mm=1e-6)
        np.testing.assert_array_equal(own_grid[name].array, mask.array, err_msg=name)
    ds = pydicom.dcmread(path)
    assert ds.SegmentationType == "BINARY"
    assert ds.FrameOfReferenceUID == pydicom.dcmread(ct_files[0]).FrameOfReferenceUID
    codes = {
        s.SegmentLabel: s.SegmentedPropertyTypeCodeSequence[0].CodeValue for s in ds.SegmentSequence
    }
    assert codes["kidneys"] == "64033007"  # SNOMED CT Kidney
    assert codes["tumour_1"] == "108369006"  # SNOMED CT Neoplasm
    assert dcmdump(path).returncode == 0


def test_seg_mask_outside_smaller_image_is_refused(tmp_path, small_patient):
    ct_files = write_ct_series(small_patient.ct_hu, tmp_path / "ct")
    path = write_seg(
        {"liver": small_patient.masks["liver"]}, tmp_path / "seg.dcm", source_images=ct_files
    )
    # An image covering only the right half of the patient (x < 0): the liver extends past it.
    half = Volume.from_spacing(
        np.zeros((20, 48, 48)),
        spacing_mm=(6, 6, 6),
        origin_mm=small_patient.ct_hu.origin_mm,
        quantity="hu",
    )
    with pytest.raises(
        InvalidInputError,
        match=r"segment\['liver'\]: got '\d+ of \d+ mask voxels outside the image",
    ):
        read_seg(path, reference=half)


def test_write_seg_refuses_bad_input(tmp_path, small_patient):
    with pytest.raises(InvalidInputError, match="source_images"):
        write_seg(small_patient.masks, tmp_path / "s.dcm", source_images=[])
    with pytest.raises(InvalidInputError, match="masks"):
        write_seg({"ct": small_patient.ct_hu}, tmp_path / "s.dcm", source_images=[tmp_path])
