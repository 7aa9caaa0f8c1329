"""Fixtures for the DICOM adapter tests: a small synthetic patient (6 mm voxels)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from prrt.imaging.phantoms import make_synthetic_patient


@pytest.fixture(scope="session")
def small_patient():
    return make_synthetic_patient(
        shape=(48, 48, 48), spacing_mm=(6.0, 6.0, 6.0), rng=np.random.default_rng(11)
    )


@pytest.fixture(scope="session")
def dcmdump():
    """Path of dcmtk's dcmdump; missing dcmdump is a failure, not a skip (CI installs dcmtk)."""
    path = shutil.which("dcmdump")
    assert path is not None, "dcmdump (Debian package dcmtk) is required: apt-get install -y dcmtk"

    def run(file):
        result = subprocess.run([path, str(file)], capture_output=True, text=True, check=False)
        return result

    return run
