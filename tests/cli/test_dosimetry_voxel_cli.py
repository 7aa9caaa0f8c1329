"""CLI tests of ``prrt dosimetry voxel`` (typer CliRunner on the real application).

The study is the project's synthetic patient written as DICOM + manifest
(48³ voxels of 6 mm, FWHM 10 mm, Poisson noise). Truth dose = the same kernel
convolved with the phantom's true TIA map.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prrt.adapters.cli.app import app
from prrt.adapters.dicom import read_rtdose, write_synthetic_study
from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.kernels import voxel_kernel
from prrt.imaging.phantoms import SyntheticPatient, make_synthetic_patient

runner = CliRunner()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SyntheticPatient]:
    patient = make_synthetic_patient(shape=(48, 48, 48), spacing_mm=(6.0, 6.0, 6.0))
    directory = tmp_path_factory.mktemp("study")
    write_synthetic_study(patient, directory)
    return directory, patient


def test_json_summary_files_and_kidney_dose(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """JSON output: kidney mean dose within 10 % of truth; RTDOSE, SEG, NIfTI and summary written."""
    directory, patient = study
    result = runner.invoke(
        app,
        [
            "dosimetry", "voxel", str(directory), "--output", str(tmp_path), "--format", "json",
            "--device", "cpu", "--method", "hybrid", "--psf-fwhm", "10 mm",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    summary = payload["summary"]
    assert summary["tia_method"] == "hybrid"
    assert summary["dose_method"] == "convolution"
    assert summary["density_corrected"] is True
    kernel = voxel_kernel(nuclide="Lu-177", spacing_mm=6.0)
    truth = convolve_kernel(
        patient.true_tia_map_bq_s.array, kernel.values_gy_per_bq_s, device="cpu"
    )
    kidneys = {r["name"]: r for r in summary["regions"]}["kidneys"]
    assert kidneys["mean_gy"] == pytest.approx(
        float(truth[patient.masks["kidneys"].array].mean()), rel=0.10
    )
    assert kidneys["d98_gy"] <= kidneys["d50_gy"] <= kidneys["d2_gy"]
    assert set(payload["files"]) == {"rtdose", "dose_nifti", "tia_nifti", "seg", "summary"}
    rtdose = read_rtdose(payload["files"]["rtdose"])
    assert float(rtdose.array.max()) == pytest.approx(summary["max_dose_gy"], rel=1e-6)
    on_disk = json.loads(Path(payload["files"]["summary"]).read_text(encoding="utf-8"))
    assert on_disk["summary"]["regions"] == summary["regions"]


def test_text_output_led(study: tuple[Path, SyntheticPatient], tmp_path: Path) -> None:
    """Text output with local deposition names the method and lists the kidneys."""
    directory, _ = study
    result = runner.invoke(
        app,
        [
            "dosimetry",
            "voxel",
            str(directory),
            "-o",
            str(tmp_path),
            "--dose-method",
            "led",
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dose led" in result.stdout
    assert "kidneys" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["summary"]
    assert summary["kernel"] is None
    assert summary["energy_per_decay_j"] == pytest.approx(0.14792 * 1.602176634e-13, rel=1e-3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--method", "magic"], "--method"),
        (["--dose-method", "mc"], "--dose-method"),
        (["--device", "tpu"], "--device"),
        (["--kernel-emissions", "alphas"], "--kernel-emissions"),
        (["--psf-fwhm", "10"], "--psf-fwhm"),
        (["--region-fit", "spline"], "--region-fit"),
    ],
)
def test_bad_options_exit_2(
    study: tuple[Path, SyntheticPatient], options: list[str], message: str
) -> None:
    """Unknown option values and a PSF without unit exit with code 2, naming the option."""
    directory, _ = study
    result = runner.invoke(
        app, ["dosimetry", "voxel", str(directory), "--format", "json", *options]
    )
    assert result.exit_code == 2
    assert json.loads(result.stderr)["field"] == message


def test_missing_study_exits_2(tmp_path: Path) -> None:
    """A path that does not exist is bad input."""
    result = runner.invoke(app, ["dosimetry", "voxel", str(tmp_path / "nope"), "--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["field"] == "STUDY"


def test_directory_without_images_exits_2(tmp_path: Path) -> None:
    """A directory without CT/NM images is bad input (exit 2, message on stderr)."""
    (tmp_path / "notes.txt").write_text("no images here", encoding="utf-8")
    result = runner.invoke(app, ["dosimetry", "voxel", str(tmp_path), "--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"] == "InvalidInputError"
