"""RTSTRUCT: prrt's voxel-edge contours round-trip exactly; foreign contours rasterise by voxel centre."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pydicom
import pytest
from hypothesis import given, settings

from prrt.adapters.dicom import read_rtstruct, rtstruct_roi_names, write_ct_series, write_rtstruct
from prrt.errors import GeometryMismatchError, InvalidInputError
from prrt.imaging.volume import Volume


def test_phantom_masks_round_trip_exactly(tmp_path, small_patient, dcmdump):
    ct_files = write_ct_series(small_patient.ct_hu, tmp_path / "ct")
    path = write_rtstruct(small_patient.masks, tmp_path / "rs.dcm", referenced_images=ct_files)
    assert rtstruct_roi_names(path) == tuple(small_patient.masks)
    masks = read_rtstruct(path, reference=small_patient.ct_hu)
    for name, mask in small_patient.masks.items():
        np.testing.assert_array_equal(masks[name].array, mask.array, err_msg=name)
    ds = pydicom.dcmread(path)
    first = ds.ROIContourSequence[0].ContourSequence[0]
    assert first.ContourGeometricType == "CLOSED_PLANAR"
    assert first.ContourImageSequence[0].ReferencedSOPInstanceUID in {
        str(pydicom.dcmread(f).SOPInstanceUID) for f in ct_files
    }
    assert dcmdump(path).returncode == 0


def test_holes_islands_and_pinch_points_round_trip(tmp_path):
    a = np.zeros((10, 10, 3), dtype=bool)
    a[2:8, 2:8, 1] = True
    a[4:6, 4:6, 1] = False  # hole
    a[0, 0, 1] = a[1, 1, 1] = True  # diagonal pinch point
    a[9, 9, 2] = True  # single voxel at the corner of the image
    mask = Volume.from_spacing(a, spacing_mm=(1.0, 2.0, 3.0), origin_mm=(5, -5, 0), quantity="mask")
    back = read_rtstruct(write_rtstruct({"x": mask}, tmp_path / "h.dcm"), reference=mask)["x"]
    np.testing.assert_array_equal(back.array, a)


def _circle_rtstruct(tmp_path, reference, centre, radius_mm, k, name="circle"):
    """Write an RTSTRUCT by hand with a 720-point circle on slice k (a 'foreign' smooth contour)."""
    grid = reference.with_array(np.zeros(reference.shape, dtype=bool), quantity="mask")
    m = grid.array.copy()
    m[0, 0, 0] = True
    path = write_rtstruct({name: grid.with_array(m)}, tmp_path / "c.dcm")
    ds = pydicom.dcmread(path)
    angles = np.linspace(0, 2 * math.pi, 720, endpoint=False)
    z = reference.world_coordinates((0, 0, k))[2]
    pts = np.column_stack(
        [
            centre[0] + radius_mm * np.cos(angles),
            centre[1] + radius_mm * np.sin(angles),
            np.full(720, z),
        ]
    )
    contour = ds.ROIContourSequence[0].ContourSequence[0]
    contour.ContourData = [f"{v:.6f}" for v in pts.ravel()]
    contour.NumberOfContourPoints = 720
    del ds.ROIContourSequence[0].ContourSequence[1:]
    ds.save_as(path)
    return path


def test_foreign_smooth_contour_is_rasterised_by_voxel_centre(tmp_path):
    """Tolerance: voxels whose centre is inside the contour are in; edges within half a voxel in plane."""
    image = Volume.from_spacing(
        np.zeros((40, 40, 3)), spacing_mm=(2.0, 2.0, 5.0), origin_mm=(-39, -39, 0), quantity="hu"
    )
    radius = 21.3
    mask = read_rtstruct(_circle_rtstruct(tmp_path, image, (0.0, 0.0), radius, 1), reference=image)[
        "circle"
    ]
    centres = image.world_coordinates(np.argwhere(np.ones(image.shape, dtype=bool))).reshape(
        40, 40, 3, 3
    )
    distance = np.hypot(centres[..., 0], centres[..., 1])
    expected = (distance < radius) & (np.arange(3) == 1)[None, None, :]
    # The 720-gon lies within radius * (1 - cos(pi/720)) = 0.0002 mm of the circle: no voxel centre that close.
    assert np.all(np.abs(distance[..., 1] - radius) > 2e-4)
    np.testing.assert_array_equal(mask.array, expected)
    # Area agrees with pi r^2 within the edge voxels (perimeter x half a voxel).
    area = mask.array.sum() * 4.0
    assert abs(area - math.pi * radius**2) < 2 * math.pi * radius * 1.0


def test_contour_outside_the_image_is_refused(tmp_path):
    image = Volume.from_spacing(
        np.zeros((20, 20, 3)), spacing_mm=(2.0, 2.0, 5.0), origin_mm=(-19, -19, 0), quantity="hu"
    )
    path = _circle_rtstruct(tmp_path, image, (15.0, 0.0), 10.0, 1, name="kidney")
    with pytest.raises(
        InvalidInputError, match=r"^roi\['kidney'\]: got '\d+ contour point\(s\) outside the image"
    ):
        read_rtstruct(path, reference=image)


def test_contour_between_slices_and_unknown_roi_are_refused(tmp_path):
    image = Volume.from_spacing(
        np.zeros((20, 20, 3)), spacing_mm=(2.0, 2.0, 5.0), origin_mm=(-19, -19, 0), quantity="hu"
    )
    path = _circle_rtstruct(tmp_path, image, (0.0, 0.0), 6.0, 1)
    shifted = Volume.from_spacing(
        np.zeros((20, 20, 3)), spacing_mm=(2.0, 2.0, 5.0), origin_mm=(-19, -19, 2.5), quantity="hu"
    )
    with pytest.raises(InvalidInputError, match="slice planes"):
        read_rtstruct(path, reference=shifted)
    with pytest.raises(InvalidInputError, match="roi_names"):
        read_rtstruct(path, reference=image, roi_names=["liver"])


def test_write_refuses_empty_voi_and_mismatched_grids(tmp_path):
    a = Volume.from_spacing(np.zeros((4, 4, 4), dtype=bool), spacing_mm=(1, 1, 1), quantity="mask")
    with pytest.raises(InvalidInputError, match=r"masks\['empty'\]: got 'an empty mask'"):
        write_rtstruct({"empty": a}, tmp_path / "e.dcm")
    b = Volume.from_spacing(np.ones((4, 4, 4), dtype=bool), spacing_mm=(1, 1, 1), quantity="mask")
    c = Volume.from_spacing(np.ones((4, 4, 5), dtype=bool), spacing_mm=(1, 1, 1), quantity="mask")
    with pytest.raises(GeometryMismatchError, match=r"masks\['c'\]"):
        write_rtstruct({"b": b, "c": c}, tmp_path / "m.dcm")


@settings(max_examples=40, deadline=None)
@given(mask=hnp.arrays(np.bool_, (7, 6, 3)))
def test_any_mask_round_trips_exactly(mask):
    """Property: voxel-edge contours + centre rasterisation reproduce any mask (holes, islands, pinches)."""
    if not mask.any():
        mask = mask.copy()
        mask[3, 3, 1] = True
    vol = Volume.from_spacing(
        mask, spacing_mm=(1.5, 2.0, 3.0), origin_mm=(-4, 2, 7), quantity="mask"
    )
    with tempfile.TemporaryDirectory() as tmp:
        back = read_rtstruct(write_rtstruct({"roi": vol}, Path(tmp) / "rs.dcm"), reference=vol)[
            "roi"
        ]
    np.testing.assert_array_equal(back.array, mask)
