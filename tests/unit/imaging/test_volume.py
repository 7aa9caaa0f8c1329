"""Tests of prrt.imaging.volume: construction checks, geometry, resampling."""

from __future__ import annotations

from datetime import UTC, datetime

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prrt.errors import GeometryMismatchError, InvalidInputError
from prrt.imaging.volume import (
    Volume,
    VoxelQuantity,
    check_same_geometry,
    mask_on_grid,
    resample_to,
)


def _vol(shape=(4, 5, 6), spacing=(2.0, 3.0, 4.0), quantity=VoxelQuantity.ACTIVITY_BQ, value=1.0):
    return Volume.from_spacing(np.full(shape, value), spacing_mm=spacing, quantity=quantity)


def test_properties_follow_affine_columns():
    direction = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    vol = Volume.from_spacing(
        np.zeros((2, 2, 2)),
        spacing_mm=(2.0, 3.0, 5.0),
        origin_mm=(10.0, -20.0, 30.0),
        direction=direction,
        quantity="hu",
    )
    assert vol.spacing_mm == (2.0, 3.0, 5.0)
    assert vol.origin_mm == (10.0, -20.0, 30.0)
    np.testing.assert_allclose(vol.direction, direction)
    # voxel (1, 1, 1) = origin + 2 mm along P(y) + 3 mm along L(x) - 5 mm along S(z)
    np.testing.assert_allclose(vol.world_coordinates((1, 1, 1)), (13.0, -18.0, 25.0))
    np.testing.assert_allclose(vol.voxel_indices((13.0, -18.0, 25.0)), (1.0, 1.0, 1.0))
    assert vol.voxel_volume_ml == pytest.approx(0.030)


def test_array_is_read_only_and_mask_is_bool():
    vol = _vol()
    with pytest.raises(ValueError, match="read-only"):
        vol.array[0, 0, 0] = 5.0
    mask = Volume.from_spacing(
        np.ones((2, 2, 2), dtype=np.uint8), spacing_mm=(1, 1, 1), quantity="mask"
    )
    assert mask.array.dtype == np.bool_
    assert int(mask.array.sum()) == 8


@pytest.mark.parametrize(
    ("array", "quantity", "message"),
    [
        (np.full((2, 2, 2), np.nan), VoxelQuantity.DOSE_GY, "non-finite"),
        (np.zeros((2, 2)), VoxelQuantity.DOSE_GY, "3-D"),
        (np.full((2, 2, 2), -1.0), VoxelQuantity.ACTIVITY_BQ, "negative"),
        (np.full((2, 2, 2), 2), VoxelQuantity.MASK, "boolean mask"),
        (np.zeros((0, 2, 2)), VoxelQuantity.DOSE_GY, "non-empty"),
    ],
)
def test_bad_arrays_are_refused(array, quantity, message):
    with pytest.raises(InvalidInputError, match=message):
        Volume.from_spacing(array, spacing_mm=(1, 1, 1), quantity=quantity)


def test_nan_message_names_voxel_index():
    values = np.zeros((3, 3, 3))
    values[1, 2, 0] = np.nan
    with pytest.raises(InvalidInputError, match=r"array: got '1 non-finite voxel.*\(1, 2, 0\)"):
        Volume.from_spacing(values, spacing_mm=(1, 1, 1), quantity="activity_bq")


def test_bad_affines_and_times_are_refused():
    with pytest.raises(InvalidInputError, match="non-singular"):
        Volume(np.zeros((2, 2, 2)), np.diag([1.0, 0.0, 1.0, 1.0]), VoxelQuantity.HU)
    with pytest.raises(InvalidInputError, match="4x4"):
        Volume(np.zeros((2, 2, 2)), np.eye(3), VoxelQuantity.HU)
    with pytest.raises(InvalidInputError, match="spacing_mm"):
        Volume.from_spacing(np.zeros((2, 2, 2)), spacing_mm=(1, 0, 1), quantity="hu")
    with pytest.raises(InvalidInputError, match="time-zone aware"):
        Volume.from_spacing(
            np.zeros((2, 2, 2)),
            spacing_mm=(1, 1, 1),
            quantity="hu",
            acquisition_time=datetime(2025, 1, 1, 12),
        )
    with pytest.raises(InvalidInputError, match="quantity"):
        Volume.from_spacing(np.zeros((2, 2, 2)), spacing_mm=(1, 1, 1), quantity="gigayears")


def test_with_array_keeps_grid_and_time():
    t = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    vol = Volume.from_spacing(
        np.ones((2, 2, 2)), spacing_mm=(1, 2, 3), quantity="counts", acquisition_time=t
    )
    dose = vol.with_array(np.full((2, 2, 2), 0.5), quantity=VoxelQuantity.DOSE_GY)
    assert dose.geometry_equal(vol)
    assert dose.quantity is VoxelQuantity.DOSE_GY
    assert dose.acquisition_time == t
    with pytest.raises(GeometryMismatchError, match="shape"):
        vol.with_array(np.ones((3, 2, 2)))


def test_check_same_geometry_names_the_mismatching_volume():
    ct = _vol(quantity=VoxelQuantity.HU)
    spect = _vol(spacing=(2.0, 3.0, 4.5))
    check_same_geometry(ct, _vol())
    with pytest.raises(
        GeometryMismatchError, match=r"^spect: got 'shape \(4, 5, 6\), spacing \(2, 3, 4.5\)"
    ):
        check_same_geometry(ct, spect, names=("ct", "spect"))


def test_sum_in_refuses_empty_voi_and_other_grid():
    image = _vol(value=2.0)
    mask_array = np.zeros((4, 5, 6), dtype=bool)
    mask_array[1:3, 1:3, 1:3] = True
    mask = image.with_array(mask_array, quantity="mask")
    assert image.sum_in(mask) == pytest.approx(16.0)
    assert image.mean_in(mask) == pytest.approx(2.0)
    with pytest.raises(InvalidInputError, match="empty mask"):
        image.sum_in(image.with_array(np.zeros((4, 5, 6), dtype=bool), quantity="mask"))
    other = Volume.from_spacing(mask_array, spacing_mm=(1, 1, 1), quantity="mask")
    with pytest.raises(GeometryMismatchError, match="mask"):
        image.sum_in(other)


def test_resample_identity_and_shift():
    rng = np.random.default_rng(1)
    vol = Volume.from_spacing(rng.random((6, 7, 8)), spacing_mm=(2, 2, 2), quantity="dose_gy")
    same = resample_to(vol, vol)
    np.testing.assert_allclose(same.array, vol.array, atol=1e-12)
    # A grid shifted by exactly one voxel along axis 0 reads the next voxel.
    shifted_ref = Volume.from_spacing(
        np.zeros((5, 7, 8)), spacing_mm=(2, 2, 2), origin_mm=(2, 0, 0), quantity="dose_gy"
    )
    moved = resample_to(vol, shifted_ref)
    np.testing.assert_allclose(moved.array, vol.array[1:], atol=1e-12)
    assert moved.history.steps[-1].name == "resample_to"


def test_resample_keeps_total_activity_of_extensive_quantities():
    fine = np.zeros((20, 20, 20))
    fine[5:15, 5:15, 5:15] = 3.0
    vol = Volume.from_spacing(
        fine, spacing_mm=(1, 1, 1), origin_mm=(0.5, 0.5, 0.5), quantity="activity_bq"
    )
    coarse = Volume.from_spacing(
        np.zeros((10, 10, 10)), spacing_mm=(2, 2, 2), origin_mm=(1, 1, 1), quantity="hu"
    )
    out = resample_to(vol, coarse)
    # Linear interpolation at the centre of each 2x2x2 block = block mean; x8 voxel volume.
    assert float(out.array.sum()) == pytest.approx(3.0 * 1000, rel=1e-12)


def test_resample_mask_is_nearest_and_boolean():
    m = np.zeros((8, 8, 8), dtype=bool)
    m[2:6, 2:6, 2:6] = True
    mask = Volume.from_spacing(m, spacing_mm=(1, 1, 1), quantity="mask")
    up = Volume.from_spacing(
        np.zeros((16, 16, 16)),
        spacing_mm=(0.5, 0.5, 0.5),
        origin_mm=(-0.25, -0.25, -0.25),
        quantity="mask",
    )
    out = resample_to(mask, up, order=3)
    assert out.array.dtype == np.bool_
    assert int(out.array.sum()) == 64 * 8


def test_mask_on_grid_moves_aligned_masks_exactly_and_refuses_outside():
    image = Volume.from_spacing(np.zeros((10, 10, 10)), spacing_mm=(2, 2, 2), quantity="hu")
    fine = np.zeros((20, 20, 20), dtype=bool)
    fine[4:8, 4:8, 4:8] = True  # 2x2x2 coarse voxels
    mask = Volume.from_spacing(
        fine, spacing_mm=(1, 1, 1), origin_mm=(-0.5, -0.5, -0.5), quantity="mask"
    )
    moved = mask_on_grid(mask, image)
    assert moved.geometry_equal(image)
    assert int(moved.array.sum()) == 8
    assert moved.array[2:4, 2:4, 2:4].all()
    shifted = Volume.from_spacing(
        fine, spacing_mm=(1, 1, 1), origin_mm=(14.0, 0.0, 0.0), quantity="mask"
    )
    with pytest.raises(
        InvalidInputError, match=r"^kidneys: got '32 of 64 mask voxels outside the image"
    ):
        mask_on_grid(shifted, image, name="kidneys")
    empty = image.with_array(np.zeros((10, 10, 10), dtype=bool), quantity="mask")
    with pytest.raises(InvalidInputError, match="empty mask"):
        mask_on_grid(empty, image)
    with pytest.raises(InvalidInputError, match="quantity 'mask'"):
        mask_on_grid(image, image)


@settings(max_examples=30, deadline=None)
@given(
    values=hnp.arrays(np.float64, (4, 4, 4), elements=st.floats(0, 1e6, allow_nan=False)),
    factor=st.sampled_from([1, 2]),
)
def test_downsampling_by_whole_voxels_keeps_total_activity(values, factor):
    fine = Volume.from_spacing(
        np.kron(values, np.ones((factor, factor, factor))),
        spacing_mm=(1, 1, 1),
        quantity="activity_bq",
    )
    coarse = Volume.from_spacing(
        np.zeros((4, 4, 4)),
        spacing_mm=(factor, factor, factor),
        origin_mm=((factor - 1) / 2,) * 3,
        quantity="activity_bq",
    )
    out = resample_to(fine, coarse)
    # Trilinear at block centres of a block-constant image = block value; x factor^3 voxel volume.
    np.testing.assert_allclose(out.array, values * factor**3, rtol=1e-12, atol=1e-6)
