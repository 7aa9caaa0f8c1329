"""CLI tests of ``prrt dosimetry voxel`` (typer CliRunner on the real application).

The study is the project's synthetic patient written as DICOM + manifest
(48³ voxels of 6 mm, FWHM 10 mm, Poisson noise). Truth dose = the same kernel
convolved with the phantom's true TIA map.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pydicom
import pytest
from typer.testing import CliRunner

from prrt.adapters.cli.app import app
from prrt.adapters.cli.dosimetry_voxel_cmds import _cli_hint, _cli_words
from prrt.adapters.dicom import read_nifti, read_rtdose, write_synthetic_study
from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.kernels import voxel_kernel
from prrt.errors import InvalidInputError
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


def _truth_dose(patient: SyntheticPatient, region: str) -> float:
    kernel = voxel_kernel(nuclide="Lu-177", spacing_mm=6.0)
    truth = convolve_kernel(
        patient.true_tia_map_bq_s.array, kernel.values_gy_per_bq_s, device="cpu"
    )
    return float(truth[patient.masks[region].array].mean())


def _voxel(directory: Path, output: Path, *options: str) -> Any:
    return runner.invoke(
        app,
        [
            "dosimetry", "voxel", str(directory), "-o", str(output), "--format", "json",
            "--device", "cpu", "--method", "hybrid", *options,
        ],
    )  # fmt: skip


def test_psf_fwhm_500_mm_is_refused(study: tuple[Path, SyntheticPatient], tmp_path: Path) -> None:
    """A 500 mm PSF (once: TIA x 4.5e6, tumour doses ~1e9 Gy) exits 2 naming --psf-fwhm."""
    directory, _ = study
    result = _voxel(directory, tmp_path, "--psf-fwhm", "500 mm")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr)
    assert error["field"] == "--psf-fwhm"
    assert "40] mm" in error["expected"]
    assert not (tmp_path / "dose.dcm").exists()


def test_psf_fwhm_30_mm_leaves_tumour_2_uncorrected_with_a_warning(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """30 mm: tumour_2's recovery 0.09 < 0.25, so not amplified 11x (once 460 Gy; truth ~80 Gy)."""
    directory, patient = study
    result = _voxel(directory, tmp_path, "--psf-fwhm", "30 mm")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert "tumour_2" in summary["recovery_uncorrected_regions"]
    assert any("tumour_2" in w and "< 0.25" in w for w in summary["warnings"])
    tumour_2 = {r["name"]: r for r in summary["regions"]}["tumour_2"]
    truth = _truth_dose(patient, "tumour_2")
    assert 60.0 < truth < 100.0
    # measured (blurred, uncorrected) total: below the truth, never the 5.8x overshoot
    assert tumour_2["mean_gy"] < 1.1 * truth
    on_disk = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["summary"]["warnings"] == summary["warnings"]


def test_psf_fwhm_10_mm_has_no_recovery_warning(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """10 mm (the phantom's resolution): every region corrected, condition number 2.5 < 10."""
    directory, patient = study
    result = _voxel(directory, tmp_path, "--psf-fwhm", "10 mm")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert summary["recovery_uncorrected_regions"] == []
    assert summary["gtm_condition_number"] < 10.0
    assert not any("partial-volume" in w or "transfer matrix" in w for w in summary["warnings"])
    tumour_2 = {r["name"]: r for r in summary["regions"]}["tumour_2"]
    assert tumour_2["mean_gy"] == pytest.approx(_truth_dose(patient, "tumour_2"), rel=0.25)


def test_kernel_provenance_in_rtdose_nifti_and_summary(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """Emission set and energy per decay (0.1830 MeV for complete Lu-177) travel with the dose."""
    directory, _ = study
    result = _voxel(directory, tmp_path, "--kernel-emissions", "betas+photons")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    kernel = voxel_kernel(nuclide="Lu-177", spacing_mm=6.0, emission_set="betas+photons")
    mev = kernel.energy_per_decay_j / 1.602176634e-13
    label = f"prrt Lu-177 kernel betas+photons {mev:.4f} MeV/decay"
    assert summary["emission_set"] == "betas+photons"
    assert summary["energy_per_decay_mev"] == pytest.approx(mev, rel=1e-12)
    assert summary["provenance"] == label
    ds = pydicom.dcmread(tmp_path / "dose.dcm")
    assert ds.DoseComment == label
    assert ds.SeriesDescription == label
    assert f"energy per decay {mev:.6g} MeV" in ds.ImageComments
    step = read_rtdose(tmp_path / "dose.dcm").history.to_list()[-1]
    assert step["parameters"]["dose_comment"] == label
    nifti = read_nifti(tmp_path / "dose_gy.nii.gz")
    assert nifti.history.to_list()[-1]["parameters"]["description"] == label.removeprefix("prrt ")


@pytest.mark.parametrize("case", ["existing file", "under a file", "unwritable"])
def test_bad_output_exits_2_before_computing(
    study: tuple[Path, SyntheticPatient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    """--output on a file, under a file or where nothing can be created: exit 2 before the dose."""
    import prrt.dosimetry.voxel.pipeline as pipeline

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("computed before checking --output")

    monkeypatch.setattr(pipeline, "voxel_dosimetry", never)
    directory, _ = study
    a_file = tmp_path / "taken"
    a_file.write_text("x", encoding="utf-8")
    output = {
        "existing file": a_file,
        "under a file": a_file / "out",
        "unwritable": Path("/proc/prrt-voxel-output"),
    }[case]
    result = _voxel(directory, output)
    assert result.exit_code == 2, result.output
    assert json.loads(result.stderr)["field"] == "--output"


def _copy_study(directory: Path, target: Path) -> Path:
    shutil.copytree(directory, target)
    return target


def test_manifest_time_disagreeing_with_dicom_is_refused(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """A manifest acquisition time 3 days earlier than the DICOM header: exit 2 naming both."""
    copy = _copy_study(study[0], tmp_path / "study")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    dicom_time = manifest["spect"][1]["acquisition_time"]
    moved = datetime.fromisoformat(dicom_time) - timedelta(days=3)
    manifest["spect"][1]["acquisition_time"] = moved.isoformat()
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = _voxel(copy, tmp_path / "out")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr)
    assert error["field"].startswith("manifest")
    assert "acquisition_time" in error["field"]
    assert error["value"] == moved.isoformat()
    assert datetime.fromisoformat(dicom_time).isoformat() in error["expected"]


def test_missing_dicom_times_supplied_on_the_command_line(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """Without header/manifest times the error names --acquisition-time; supplying them works."""
    directory, patient = study
    copy = _copy_study(directory, tmp_path / "study")
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    times = [item.pop("acquisition_time") for item in manifest["spect"]]
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for item in manifest["spect"]:
        ds = pydicom.dcmread(copy / item["file"])
        for keyword in ("AcquisitionDateTime", "AcquisitionDate", "AcquisitionTime"):
            if keyword in ds:
                delattr(ds, keyword)
        ds.save_as(copy / item["file"])
    missing = _voxel(copy, tmp_path / "out1")
    assert missing.exit_code == 2, missing.output
    assert "--acquisition-time" in json.loads(missing.stderr)["message"]
    options = [arg for t in times for arg in ("--acquisition-time", t)]
    supplied = _voxel(copy, tmp_path / "out2", "--dose-method", "led", *options)
    assert supplied.exit_code == 0, supplied.output
    summary = json.loads(supplied.stdout)["summary"]
    assert summary["times_s"] == pytest.approx(list(patient.times_s), abs=1.0)
    too_few = _voxel(copy, tmp_path / "out3", "--acquisition-time", times[0])
    assert too_few.exit_code == 2
    assert json.loads(too_few.stderr)["field"] == "--acquisition-time"


def test_command_line_time_disagreeing_with_dicom_is_refused(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """--acquisition-time 2 h after the header's time of the last time point: exit 2."""
    directory, _ = study
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    times = [item["acquisition_time"] for item in manifest["spect"]]
    late = (datetime.fromisoformat(times[-1]) + timedelta(hours=2)).isoformat()
    options = [arg for t in [*times[:-1], late] for arg in ("--acquisition-time", t)]
    result = _voxel(directory, tmp_path, *options)
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr)
    assert "--acquisition-time" in error["field"]
    assert error["value"] == late


def test_device_hints_are_written_as_options() -> None:
    """Core hints "use device='auto' or 'cpu'" read "--device auto or --device cpu" on the CLI."""
    assert _cli_hint("use device='auto' or 'cpu'") == "use --device auto or --device cpu"
    assert _cli_hint("install it or use device='cpu'") == "install it or use --device cpu"
    with pytest.raises(InvalidInputError) as info, _cli_words():
        raise InvalidInputError("device", "cuda", "a CUDA GPU", hint="use device='cpu'")
    assert info.value.field == "--device"
    assert info.value.hint == "use --device cpu"


def test_injection_time_disagreeing_with_dicom_is_refused(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """--injection-time 1 day before the manifest's/header's injection: exit 2 naming the option."""
    directory, patient = study
    early = (patient.injection_time - timedelta(days=1)).isoformat()
    result = _voxel(directory, tmp_path, "--injection-time", early)
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr)
    assert error["field"] == "--injection-time"
    assert patient.injection_time.isoformat() in error["expected"]


def test_recovery_warning_printed_in_text_mode_with_voxel_fit(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """Voxel-wise fit at 30 mm: tumour_2 (RC 0.09) kept at its measured total, note printed."""
    directory, patient = study
    result = runner.invoke(
        app,
        [
            "dosimetry", "voxel", str(directory), "-o", str(tmp_path), "--device", "cpu",
            "--method", "fit", "--psf-fwhm", "30 mm", "--dose-method", "led",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "note: partial-volume correction not applied to tumour_2" in text
    assert "recovery coefficient 0.09 < 0.25" in text
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["summary"]
    assert summary["recovery_uncorrected_regions"] == ["tumour_1", "tumour_2"]
    # total TIA stays within 10 % of the phantom's true total (once x 4.5e6 at 500 mm)
    true_total = float(patient.true_tia_map_bq_s.array.sum())
    assert summary["total_tia_bq_s"] == pytest.approx(true_total, rel=0.10)


def _manifest_copy(directory: Path, name: str, change: Any) -> Path:
    """A changed copy of the study's manifest next to its files."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    path = directory / f"bad_{name}.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "change", "field", "value"),
    [
        ("spect_null", lambda m: m["spect"].__setitem__(0, None), "manifest.spect[0]", None),
        ("rtstruct_number", lambda m: m.__setitem__("rtstruct", 5), "manifest.rtstruct", 5),
        ("rtstruct_true", lambda m: m.__setitem__("rtstruct", True), "manifest.rtstruct", True),
        ("truth_number", lambda m: m.__setitem__("truth", 5), "manifest.truth", 5),
        ("truth_string", lambda m: m.__setitem__("truth", "ab"), "manifest.truth", "ab"),
        ("truth_list", lambda m: m.__setitem__("truth", [1, 2]), "manifest.truth", "[1, 2]"),
        (
            "hu_null",
            lambda m: m["truth"]["hu_density_calibration"].__setitem__("hu", [0, None]),
            "manifest.truth.hu_density_calibration.hu[1]",
            None,
        ),
        (
            "rho_object",
            lambda m: m["truth"]["hu_density_calibration"].__setitem__("density_g_per_ml", {}),
            "manifest.truth.hu_density_calibration.density_g_per_ml",
            "{}",
        ),
    ],
)
def test_malformed_manifest_exits_2_naming_the_json_path(
    study: tuple[Path, SyntheticPatient],
    tmp_path: Path,
    name: str,
    change: Any,
    field: str,
    value: Any,
) -> None:
    """Wrong JSON types in the manifest: exit 2, the JSON path and the value as written."""
    directory, _ = study
    manifest = _manifest_copy(directory, name, change)
    try:
        result = _voxel(manifest, tmp_path)
        text = runner.invoke(app, ["dosimetry", "voxel", str(manifest), "-o", str(tmp_path)])
    finally:
        manifest.unlink()
    assert result.exit_code == 2, result.output
    error = json.loads(result.stderr)
    assert (error["field"], error["value"]) == (field, value)
    assert "<class" not in error["expected"]
    assert text.exit_code == 2
    assert "Traceback" not in text.output
    assert f"{field}: got" in " ".join(text.stderr.split())


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"hu": [0, None], "density_g_per_ml": [1.0, 1.1], "source": "s"}, "--hu-density.hu[1]"),
        ({"hu": "x", "density_g_per_ml": [1.0, 1.1], "source": "s"}, "--hu-density.hu"),
        ({"hu": [[0], [1]], "density_g_per_ml": [1.0, 1.1], "source": "s"}, "--hu-density.hu[0]"),
        (
            {"hu": [-1000, 0], "density_g_per_ml": [1.2, 1000], "source": "s"},
            "--hu-density.density_g_per_ml[1]",
        ),
        ({"hu": [0, 100], "density_g_per_ml": [1.0, 1.1], "source": ""}, "--hu-density.source"),
    ],
)
def test_malformed_hu_density_file_exits_2(
    study: tuple[Path, SyntheticPatient], tmp_path: Path, table: dict[str, Any], field: str
) -> None:
    """A HU→density table with non-numeric or implausible entries: exit 2 naming the entry."""
    directory, _ = study
    path = tmp_path / "hu.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    result = _voxel(directory, tmp_path / "out", "--hu-density", str(path))
    assert result.exit_code == 2, result.output
    assert json.loads(result.stderr)["field"] == field


def _first_image_and_decayed_injection(directory: Path) -> tuple[float, float]:
    """Image total at the first time point and the injected activity decayed to it (Bq)."""
    from prrt.adapters.dicom import read_study
    from prrt.physics import get_nuclide

    study = read_study(directory)
    elapsed_s = study.times_after_injection_s[0]
    decay = float(__import__("math").exp(-get_nuclide("Lu-177").decay_constant_per_s * elapsed_s))
    return float(study.spect[0].array.sum()), study.injected_activity_bq * decay


@pytest.mark.parametrize("ratio", [1.2, 2.5])
def test_image_activity_above_the_injected_activity(
    study: tuple[Path, SyntheticPatient], tmp_path: Path, ratio: float
) -> None:
    """Image total 1.2x the decayed injection: warning with both numbers; 2.5x: refused (exit 2)."""
    directory, _ = study
    image_bq, decayed_bq = _first_image_and_decayed_injection(directory)
    injected_bq = 7.4e9 * (image_bq / decayed_bq) / ratio  # decayed injection = image / ratio
    manifest = _manifest_copy(
        directory, f"activity_{ratio}", lambda m: m.__setitem__("injected_activity_bq", injected_bq)
    )
    try:
        result = _voxel(manifest, tmp_path, "--dose-method", "led")
    finally:
        manifest.unlink()
    numbers = f"total image activity {image_bq / 1e6:.5g} MBq at the first time point"
    decayed = f"decayed to {image_bq / ratio / 1e6:.5g} MBq (ratio {ratio:.2f})"
    if ratio > 2:
        assert result.exit_code == 2, result.output
        error = json.loads(result.stderr)
        assert error["field"] == "injected_activity_bq"
        assert numbers in error["expected"]
        assert decayed in error["expected"]
    else:
        assert result.exit_code == 0, result.output
        warnings = json.loads(result.stdout)["summary"]["warnings"]
        assert numbers in warnings[0]
        assert decayed in warnings[0]
        assert "more than the injected activity by 20%" in warnings[0]


def test_text_output_states_model_recovery_density_and_extrapolation(
    study: tuple[Path, SyntheticPatient], tmp_path: Path
) -> None:
    """4 h + 24 h only, no HU table, GTM at 10 mm: every fact and warning is printed."""
    directory, _ = study

    def early_without_table(m: dict[str, Any]) -> None:
        m["spect"] = m["spect"][:2]
        del m["truth"]["hu_density_calibration"]

    manifest = _manifest_copy(directory, "early", early_without_table)
    try:
        result = runner.invoke(
            app,
            [
                "dosimetry", "voxel", str(manifest), "-o", str(tmp_path), "--device", "cpu",
                "--psf-fwhm", "10 mm", "--dose-method", "led",
            ],
        )  # fmt: skip
    finally:
        manifest.unlink()
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["summary"]
    counts = summary["tia_method_counts"]
    most = summary["fit_model_most_used"]
    assert counts.get("biexp", 0) == 0  # 2 points: no bi-exponential fit
    assert most != "biexp"
    assert counts[most] == max(v for k, v in counts.items() if k not in ("zero", "outside"))
    assert f"TIA fit (mostly {most}," in text
    rc = summary["recovery_coefficients"]
    assert (
        "Recovery correction applied (GTM, PSF FWHM 10 mm; condition number "
        f"{summary['gtm_condition_number']:.1f}); recovery coefficients: kidneys "
        f"{rc['kidneys']:.2f}"
        in text.replace(f"tumour_1 {rc['tumour_1']:.2f}, ", "").replace(
            f"tumour_2 {rc['tumour_2']:.2f}, ", ""
        )
    )
    assert "note: density_corrected: false (no HU→density table: give --hu-density FILE)" in text
    kidneys = summary["region_extrapolated_fraction"]["kidneys"]
    assert kidneys > 0.5  # 24 h last point: most of the kidney TIA is extrapolated
    note = f"{100 * kidneys:.0f} % of the TIA of kidneys lies after the last time point (24 h)"
    assert note in " ".join(summary["warnings"])
    assert f"note: {note}" in text
