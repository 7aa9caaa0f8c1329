"""CLI tests of ``prrt batch dosimetry`` and ``prrt batch trial`` (CliRunner on an app with register()).

The commands run on real local Dask clusters (worker processes).  Bad input exits
with code 2 and names the option or manifest field; a batch with a failed study
exits with code 3 after computing the others.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from prrt.adapters.batch import cluster
from prrt.adapters.cli.batch_cmds import EXIT_STUDIES_FAILED, register
from prrt.adapters.dicom import write_synthetic_study
from prrt.imaging.phantoms import make_synthetic_patient

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test application."""

    register(app)
    return app


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic 32³ study and a copy whose first NM file is garbage."""
    root = tmp_path_factory.mktemp("cohort")
    patient = make_synthetic_patient(
        shape=(32, 32, 32), spacing_mm=(8.84,) * 3, rng=np.random.default_rng(7)
    )
    write_synthetic_study(patient, root / "good", write_truth_maps=False)
    shutil.copytree(root / "good", root / "bad")
    (root / "bad" / "nm" / "NM_tp1.dcm").write_bytes(b"\x00" * 64)
    manifest = root / "batch.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "prrt-batch",
                "version": 1,
                "studies": [
                    {"id": "good", "study": "good", "sex": "male"},
                    {"id": "bad", "study": "bad", "sex": "female"},
                ],
            }
        )
    )
    return manifest


def test_batch_dosimetry_reports_the_failure_and_reruns_nothing(
    cohort: Path, tmp_path: Path
) -> None:
    args = [
        "batch",
        "dosimetry",
        str(cohort),
        "--out",
        str(tmp_path),
        "--workers",
        "2",
        "--format",
        "json",
    ]
    result = runner.invoke(_app(), [*args, "--dose-method", "led"])
    assert result.exit_code == EXIT_STUDIES_FAILED, result.output
    payload = json.loads(result.stdout)
    report = payload["report"]
    assert (report["done"], report["failed"], report["written"]) == (1, 1, True)
    bad = next(o for o in report["outcomes"] if o["study_id"] == "bad")
    assert bad["error_type"] == "InvalidInputError"
    assert "NM_tp1.dcm" in bad["error_message"]
    assert (tmp_path / "regions.parquet").exists()
    assert (tmp_path / "failures.parquet").exists()
    # Rerun (text output, one worker): nothing computed or written, the failure listed again.
    text = runner.invoke(_app(), [*args[:-3], "1", "--dose-method", "led"])
    assert text.exit_code == EXIT_STUDIES_FAILED, text.output
    assert "0 done, 1 already done (skipped), 1 failed" in text.stdout
    assert "Nothing new" in text.stdout
    assert "bad" in text.stdout
    assert "(earlier run)" in text.stdout


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--method", "magic"], "--method"),
        (["--psf-fwhm", "10"], "--psf-fwhm"),
        (["--workers", "0"], "--workers"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers"),
        (["--hu-density", "/no/such/table.json"], "--hu-density"),
    ],
)
def test_batch_dosimetry_bad_options_exit_2(
    cohort: Path, tmp_path: Path, extra: list[str], field: str
) -> None:
    result = runner.invoke(
        _app(), ["batch", "dosimetry", str(cohort), "--out", str(tmp_path), *extra]
    )
    assert result.exit_code == 2, result.output
    assert field in result.output


def test_batch_dosimetry_bad_manifest_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(_app(), ["batch", "dosimetry", str(tmp_path / "none.json")])
    assert missing.exit_code == 2
    assert "MANIFEST" in missing.output
    bad = tmp_path / "batch.json"
    bad.write_text(
        json.dumps({"format": "prrt-batch", "version": 1, "studies": [{"id": "a", "study": "x"}]})
    )
    result = runner.invoke(_app(), ["batch", "dosimetry", str(bad), "--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stderr)["field"] == "studies[0].sex"


def test_batch_trial_json_report_and_reproducibility(tmp_path: Path) -> None:
    args = ["batch", "trial", "--patients", "3000", "--seed", "17", "--format", "json"]
    one = runner.invoke(_app(), [*args, "--workers", "1", "--out", str(tmp_path)])
    assert one.exit_code == 0, one.output
    payload = json.loads(one.stdout)
    strategies = payload["result"]["strategies"]
    assert set(strategies) == {"LUTATHERA_STANDARD", "DOSIMETRY_GUIDED"}
    assert strategies["LUTATHERA_STANDARD"]["cycles"]["counts"] == {"4": 3000}
    for key in ("trial", "report", "figure_cycles", "figure_kidneys_absorbed_dose_gy"):
        assert Path(payload["files"][key]).is_file()
    html = Path(payload["files"]["report"]).read_text(encoding="utf-8")
    assert "SUNDLOV-2022-CYCLES-MEDIAN" in html
    assert "data:image/png;base64," in html
    # Same seed on two workers, text output: the same medians are printed.
    text = runner.invoke(_app(), [*args[:-2], "--workers", "2"])
    assert text.exit_code == 0, text.output
    guided = strategies["DOSIMETRY_GUIDED"]
    line = f"{guided['cycles']['median']} ({guided['cycles']['min']}–{guided['cycles']['max']})"
    assert line in text.stdout
    assert "SUNDLOV-2022-CYCLES-MEDIAN" in text.stdout


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--patients", "0", "--seed", "1"], "--patients"),
        (["--patients", "10", "--seed", "-3"], "--seed"),
        (["--patients", "10", "--seed", "1", "--population", "NOPE"], "--population"),
        (["--patients", "10", "--seed", "1", "--scheduler", "localhost"], "--scheduler"),
    ],
)
def test_batch_trial_bad_input_exit_2(args: list[str], field: str) -> None:
    result = runner.invoke(_app(), ["batch", "trial", *args])
    assert result.exit_code == 2, result.output
    assert field in result.output


def test_unreachable_scheduler_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    result = runner.invoke(
        _app(),
        ["batch", "trial", "--patients", "10", "--seed", "1", "--scheduler", "tcp://127.0.0.1:1"],
    )
    assert result.exit_code == 2, result.output
    assert "--scheduler" in result.output
    assert "dask scheduler" in result.output


def test_missing_required_options_exit_2() -> None:
    result = runner.invoke(_app(), ["batch", "trial", "--seed", "1"])
    assert result.exit_code == 2


def test_out_that_is_a_file_exit_2(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    result = runner.invoke(
        _app(), ["batch", "trial", "--patients", "10", "--seed", "1", "--out", str(taken)]
    )
    assert result.exit_code == 2, result.output
    assert "--out" in result.output
