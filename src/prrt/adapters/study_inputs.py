"""What the voxel dosimetry of a SPECT/CT study checks and prepares before it runs.

Shared by the command (``prrt dosimetry voxel``) and the batch task
(:mod:`prrt.adapters.batch.study_task`): the image-activity plausibility check, the
HU→density calibration of the study, and masks or density maps on the SPECT grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from prrt.adapters._files import read_json_document
from prrt.errors import InvalidInputError

__all__ = [
    "IMAGE_ACTIVITY_REFUSAL",
    "IMAGE_ACTIVITY_TOLERANCE",
    "image_activity_check",
    "load_calibration",
    "on_grid",
]

#: Image activity above the decayed injected activity by more than 10 %: warning; 2x: refused.
IMAGE_ACTIVITY_TOLERANCE = 1.10
IMAGE_ACTIVITY_REFUSAL = 2.0


def load_calibration(path: Path | None, study_truth: dict[str, Any]) -> Any:
    """The HU→density table of ``--hu-density`` (a JSON file) or of the study's manifest.

    ``None`` when neither gives one; a malformed table is refused naming where it came from.
    """
    from prrt.imaging.quantification import HuDensityCalibration

    data: Any = None
    field = "--hu-density"
    if path is not None:
        data = read_json_document(
            path,
            field="--hu-density",
            expected="a readable JSON file {hu, density_g_per_ml, source}",
        )
    elif "hu_density_calibration" in study_truth:
        data = study_truth["hu_density_calibration"]
        field = "manifest.truth.hu_density_calibration"
    if data is None:
        return None
    return HuDensityCalibration.from_mapping(data, field=field)


def on_grid(volume: Any, reference: Any) -> Any:
    """``volume`` on ``reference``'s voxel grid (itself when the grids agree; else linear)."""
    from prrt.imaging.volume import resample_to

    if volume.geometry_equal(reference):
        return volume
    return resample_to(volume, reference, order=1)


def image_activity_check(study: Any) -> str | None:
    """Compare the image activity at the first time point with the decayed injected activity.

    More than 10 % above: a warning (returned); more than twice: refused.  Both
    numbers are named (calibration, unit or injected-activity error).
    """
    from prrt.physics import get_nuclide

    first = study.spect[0]
    if first.acquisition_time is None:
        return None
    elapsed_s = (first.acquisition_time - study.injection_time).total_seconds()
    decayed_bq = study.injected_activity_bq * float(
        np.exp(-get_nuclide(study.nuclide).decay_constant_per_s * elapsed_s)
    )
    image_bq = float(np.asarray(first.array, dtype=np.float64).sum())
    if image_bq <= IMAGE_ACTIVITY_TOLERANCE * decayed_bq:
        return None
    ratio = image_bq / decayed_bq
    what = (
        f"total image activity {image_bq / 1e6:.5g} MBq at the first time point "
        f"({elapsed_s / 3600:.3g} h) vs injected {study.injected_activity_bq / 1e6:.5g} MBq "
        f"decayed to {decayed_bq / 1e6:.5g} MBq (ratio {ratio:.2f})"
    )
    if ratio > IMAGE_ACTIVITY_REFUSAL:
        raise InvalidInputError(
            "injected_activity_bq",
            f"{study.injected_activity_bq:g} Bq",
            f"at least half the image activity: {what}",
            hint="check the camera sensitivity (cps/MBq), the image units and the injected activity",
        )
    return (
        f"{what}: the image holds more than the injected activity by {ratio - 1:.0%}; "
        "check the camera sensitivity, the image units and the injected activity"
    )
