"""Fixtures of the batch tests: small synthetic SPECT/CT studies and real local Dask clusters."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from prrt.adapters.batch import dask_client
from prrt.adapters.dicom import write_synthetic_study
from prrt.imaging.phantoms import make_synthetic_patient

#: 32³ voxels of 8.84 mm (the 64³ × 4.42 mm default phantom at half resolution), FWHM 10 mm.
SHAPE = (32, 32, 32)
SPACING_MM = (8.84, 8.84, 8.84)
CORRUPT_FILE = Path("nm") / "NM_tp2.dcm"


def write_cohort(root: Path, n_good: int = 3) -> Path:
    """``n_good`` synthetic studies and one whose second NM file is garbage; returns the manifest."""
    root.mkdir(parents=True, exist_ok=True)
    studies = []
    for i in range(n_good):
        patient = make_synthetic_patient(
            shape=SHAPE, spacing_mm=SPACING_MM, rng=np.random.default_rng(100 + i)
        )
        write_synthetic_study(patient, root / f"p{i}", patient_id=f"P{i}", write_truth_maps=False)
        studies.append({"id": f"P{i}", "study": f"p{i}", "centre": "A" if i % 2 else "B"})
    shutil.copytree(root / "p0", root / "corrupt")
    (root / "corrupt" / CORRUPT_FILE).write_bytes(b"not a DICOM file")
    studies.append({"id": "CORRUPT", "study": "corrupt", "sex": "female"})
    manifest = root / "batch.json"
    manifest.write_text(
        json.dumps(
            {"format": "prrt-batch", "version": 1, "defaults": {"sex": "male"}, "studies": studies}
        ),
        encoding="utf-8",
    )
    return manifest


@pytest.fixture(scope="session")
def make_cohort() -> Callable[..., Path]:
    """:func:`write_cohort` (good studies + one corrupt) as a fixture."""
    return write_cohort


@pytest.fixture(scope="session")
def client_two_workers() -> Iterator[Client]:
    """A real local cluster of two worker processes."""
    with dask_client(workers=2) as client:
        yield client


@pytest.fixture(scope="session")
def client_one_worker() -> Iterator[Client]:
    """A real local cluster of one worker process."""
    with dask_client(workers=1) as client:
        yield client
