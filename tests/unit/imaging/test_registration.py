"""Tests of prrt.imaging.registration: a rigidly moved time point is registered back within one voxel."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.imaging.phantoms import make_synthetic_patient
from prrt.imaging.registration import RigidTransform, register_rigid, register_time_points
from prrt.imaging.volume import resample_to

SPACING_MM = 6.0


@pytest.fixture(scope="module")
def patient():
    return make_synthetic_patient(
        shape=(48, 48, 48), spacing_mm=(SPACING_MM,) * 3, rng=np.random.default_rng(3)
    )


def _moved(volume, transform: RigidTransform):
    # moving(x) = reference(T^-1 x): a point x of the reference is found at T x in the moving image.
    return resample_to(volume, volume, transform=np.linalg.inv(transform.matrix))


def test_shifted_time_point_is_registered_back_within_one_voxel(patient):
    truth = RigidTransform.from_translation((9.0, -6.5, 12.0))
    reference = patient.activity_maps_bq[0]
    moving = _moved(patient.activity_maps_bq[1], truth)
    result = register_rigid(moving, reference)
    error_mm = np.linalg.norm(np.subtract(result.transform.translation_mm, truth.translation_mm))
    assert error_mm < SPACING_MM  # acceptance: within one voxel
    assert error_mm < 1.0  # what is achieved on this phantom
    assert result.transform.rotation_deg < 0.5
    # Kidney activity equals that of the image moved back with the true transform (within 1 %;
    # both went through two trilinear interpolations).
    kidneys = patient.masks["kidneys"]
    ideal = resample_to(moving, reference, transform=truth.matrix)
    assert result.registered.sum_in(kidneys) == pytest.approx(ideal.sum_in(kidneys), rel=0.01)


def test_rotation_and_shift_are_recovered(patient):
    angle = math.radians(4.0)
    m = np.eye(4)
    m[:3, :3] = [
        [math.cos(angle), -math.sin(angle), 0],
        [math.sin(angle), math.cos(angle), 0],
        [0, 0, 1],
    ]
    m[:3, 3] = (-5.0, 4.0, 3.0)
    truth = RigidTransform(m)
    reference = patient.true_activity_maps_bq[1]
    result = register_rigid(_moved(reference, truth), reference)
    corners = np.array([[-100.0, -80.0, -100.0], [100.0, 80.0, 100.0], [100.0, -80.0, 0.0]])
    error = np.linalg.norm(result.transform.apply(corners) - truth.apply(corners), axis=1)
    assert error.max() < SPACING_MM  # acceptance: within one voxel
    assert error.max() < 1.0  # achieved: about 0.1 mm


def test_transform_is_stored_in_provenance_and_replays(patient):
    truth = RigidTransform.from_translation((0.0, 6.0, -6.0))
    reference = patient.activity_maps_bq[0]
    moving = _moved(patient.activity_maps_bq[2], truth)
    results = register_time_points([reference, moving])
    assert results[0].transform.translation_mm == (0.0, 0.0, 0.0)
    step = results[1].registered.history.steps[-1]
    assert step.name == "register_rigid"
    stored = np.array(step.parameters["matrix_lps_mm"])
    np.testing.assert_allclose(stored, results[1].transform.matrix)
    replay = resample_to(moving, reference, transform=stored)
    np.testing.assert_array_equal(replay.array, results[1].registered.array)


def test_bad_registration_input_is_refused(patient):
    with pytest.raises(InvalidInputError, match="moving"):
        register_rigid(patient.masks["liver"], patient.ct_hu)
    with pytest.raises(InvalidInputError, match="metric"):
        register_rigid(patient.ct_hu, patient.ct_hu, metric="guess")
    with pytest.raises(InvalidInputError, match="reference_index"):
        register_time_points([patient.ct_hu], reference_index=3)
    with pytest.raises(InvalidInputError, match="rigid"):
        RigidTransform(np.diag([2.0, 1.0, 1.0, 1.0]))
