"""NIfTI: write → read equal; the file's affine is RAS (x and y flipped from LPS)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from prrt.adapters.dicom import read_nifti, write_nifti
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume


@pytest.mark.parametrize("name", ["activity", "mask", "ct", "tia"])
def test_nifti_round_trip_equal(tmp_path, small_patient, name):
    volume = {
        "activity": small_patient.activity_maps_bq[0],
        "mask": small_patient.masks["kidneys"],
        "ct": small_patient.ct_hu,
        "tia": small_patient.true_tia_map_bq_s,
    }[name]
    back = read_nifti(write_nifti(volume, tmp_path / f"{name}.nii.gz"))
    assert back.geometry_equal(volume, atol_mm=1e-5)
    np.testing.assert_array_equal(back.array, volume.array)
    assert back.quantity is volume.quantity
    assert back.acquisition_time == volume.acquisition_time


def test_nifti_affine_is_ras(tmp_path):
    # Axis 0 toward the patient's left (+x LPS), axis 1 posterior, axis 2 superior.
    vol = Volume.from_spacing(
        np.zeros((3, 4, 5)), spacing_mm=(2, 3, 4), origin_mm=(10.0, 20.0, 30.0), quantity="dose_gy"
    )
    image = nib.load(write_nifti(vol, tmp_path / "d.nii"))
    assert nib.aff2axcodes(image.affine) == ("L", "P", "S")
    # Voxel (0,0,0) at LPS (10, 20, 30) is RAS (-10, -20, 30).
    np.testing.assert_allclose(image.affine[:3, 3], (-10.0, -20.0, 30.0))
    assert int(image.header["sform_code"]) == 1
    assert int(image.header["qform_code"]) == 1


def test_foreign_ras_nifti_is_converted_to_lps(tmp_path):
    ras = np.diag(
        [-1.5, 2.0, 3.0, 1.0]
    )  # axis 0 toward patient's left in RAS (-x = left), axis 1 anterior
    ras[:3, 3] = (50.0, -60.0, 10.0)
    nib.save(
        nib.Nifti1Image(np.arange(24, dtype=np.float32).reshape(2, 3, 4), ras), tmp_path / "f.nii"
    )
    with pytest.raises(InvalidInputError, match="quantity"):
        read_nifti(tmp_path / "f.nii")
    vol = read_nifti(tmp_path / "f.nii", quantity="activity_concentration_bq_per_ml")
    np.testing.assert_allclose(vol.origin_mm, (-50.0, 60.0, 10.0))
    np.testing.assert_allclose(vol.world_coordinates((1, 1, 0)), (-50.0 + 1.5, 60.0 - 2.0, 10.0))
    assert vol.array[1, 2, 3] == 23.0


def test_nifti_with_nan_is_refused(tmp_path):
    data = np.ones((2, 2, 2), dtype=np.float32)
    data[1, 1, 1] = np.nan
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "n.nii")
    with pytest.raises(InvalidInputError, match="non-finite"):
        read_nifti(tmp_path / "n.nii", quantity="dose_gy")
    with pytest.raises(InvalidInputError, match="path"):
        write_nifti(
            Volume.from_spacing(np.ones((2, 2, 2)), spacing_mm=(1, 1, 1), quantity="dose_gy"),
            tmp_path / "x.img",
        )


def test_nifti_description_round_trip_and_limit(tmp_path):
    """'prrt:<quantity>; <description>' is stored in descrip (80 bytes) and read back."""
    dose = Volume.from_spacing(np.ones((2, 3, 4)), spacing_mm=(2.0, 2.0, 2.0), quantity="dose_gy")
    text = "Lu-177 kernel complete 0.1830 MeV/decay"
    path = write_nifti(dose, tmp_path / "d.nii.gz", description=text)
    descrip = bytes(nib.load(str(path)).header["descrip"]).rstrip(b"\x00")
    assert descrip == f"prrt:dose_gy; {text}".encode()
    back = read_nifti(path)
    assert back.quantity.value == "dose_gy"
    assert back.history.to_list()[-1]["parameters"]["description"] == text
    with pytest.raises(InvalidInputError, match="description"):
        write_nifti(dose, tmp_path / "long.nii.gz", description="x" * 70)
