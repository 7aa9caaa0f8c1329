"""Batch dosimetry on a real local Dask cluster (two worker processes) with one corrupt study.

Truth: the synthetic studies' manifests carry the region masses and TIAs of the
phantom (``prrt.imaging.phantoms``); with the recovery correction at the
phantom's own resolution (FWHM 10 mm) the organ-level TIAs come within a few
per cent of the truth, and the masses are the CT masses exactly.  The voxel
doses are those of ``prrt dosimetry voxel`` on the same study (same pipeline).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from distributed import Client
from typer.testing import CliRunner

from prrt.adapters.batch import (
    DosimetrySettings,
    ParquetResultWriter,
    read_batch_manifest,
    run_batch_dosimetry,
)
from prrt.adapters.batch.writers import REGION_COLUMNS

SETTINGS = DosimetrySettings(psf_fwhm_mm=10.0, method="hybrid")
CORRUPT_FILE = Path("nm") / "NM_tp2.dcm"  # as written by conftest.write_cohort


def _mtimes(out: Path) -> dict[str, int]:
    return {
        str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted(out.rglob("*")) if p.is_file()
    }


def test_batch_with_a_corrupt_study_and_idempotent_rerun(
    tmp_path: Path, client_two_workers: Client, make_cohort: Callable[..., Path]
) -> None:
    manifest = read_batch_manifest(make_cohort(tmp_path / "cohort"))
    out = tmp_path / "out"
    seen: list[str] = []
    report = run_batch_dosimetry(
        manifest,
        SETTINGS,
        out,
        client_two_workers,
        ParquetResultWriter(out),
        on_outcome=lambda o: seen.append(o.study_id),
    )
    assert sorted(seen) == ["CORRUPT", "P0", "P1", "P2"]
    status = {o.study_id: o for o in report.outcomes}
    assert [status[s].status for s in ("P0", "P1", "P2")] == ["done"] * 3
    bad = status["CORRUPT"]
    assert bad.status == "failed"
    assert not bad.cached
    assert bad.error_type == "InvalidInputError"
    assert CORRUPT_FILE.as_posix() in (bad.error_message or "")
    assert report.written
    assert report.count("done") == 3
    assert report.count("failed") == 1

    regions = pq.read_table(report.files["regions"])
    assert regions.column_names == [name for name, _ in REGION_COLUMNS]
    rows = regions.to_pylist()
    assert {r["study_id"] for r in rows} == {"P0", "P1", "P2"}
    failures = pq.read_table(report.files["failures"]).to_pylist()
    assert [f["study_id"] for f in failures] == ["CORRUPT"]
    assert failures[0]["error_field"] == "path"

    for study in ("P0", "P1", "P2"):
        truth = json.loads((tmp_path / "cohort" / f"p{study[1]}" / "manifest.json").read_text())[
            "truth"
        ]
        by_region = {r["region"]: r for r in rows if r["study_id"] == study}
        assert set(by_region) >= {"kidneys", "liver", "spleen", "marrow", "tumour_1", "total_body"}
        for region, mass in truth["region_masses_kg"].items():
            if by_region[region]["voi_mass_kg"] is not None:
                assert by_region[region]["voi_mass_kg"] == pytest.approx(mass, rel=1e-9)
        # Organ-level TIA (GTM at the phantom's FWHM, bi-exponential organ fits) vs truth; the
        # marrow (a 2 h component seen first at 4 h) is left out: its fit is ill-conditioned.
        for region, tol in (
            ("kidneys", 0.02),
            ("liver", 0.02),
            ("tumour_1", 0.02),
            ("tumour_2", 0.02),
        ):
            tia = by_region[region]["organ_tia_bq_s"]
            assert tia == pytest.approx(truth["tia_bq_s"][region], rel=tol), (study, region)
        kidneys = by_region["kidneys"]
        assert kidneys["administered_activity_bq"] == 7.4e9
        assert kidneys["region_canonical"] == "kidneys"
        assert kidneys["region_kind"] == "organ"
        assert by_region["marrow"]["region_canonical"] == "red_marrow"
        assert by_region["tumour_1"]["region_kind"] == "lesion"
        assert kidneys["organ_dose_per_activity_gy_per_bq"] == pytest.approx(
            kidneys["organ_absorbed_dose_gy"] / 7.4e9, rel=1e-12
        )
        assert kidneys["organ_bed_gy"] > kidneys["organ_absorbed_dose_gy"]  # BED ≥ D (§5.1)
        assert kidneys["voxel_tia_bq_s"] == pytest.approx(truth["tia_bq_s"]["kidneys"], rel=0.03)

    # Rerun: nothing recomputed, nothing rewritten, the corrupt study reported again.
    before = _mtimes(out)
    again = run_batch_dosimetry(
        manifest, SETTINGS, out, client_two_workers, ParquetResultWriter(out)
    )
    assert [o.status for o in again.outcomes] == ["skipped", "skipped", "skipped", "failed"]
    assert again.outcomes[-1].cached
    assert not again.written
    assert _mtimes(out) == before

    # Fix the corrupt study: only it is computed, and the tables are rewritten.
    shutil.copy(
        tmp_path / "cohort" / "p0" / CORRUPT_FILE, tmp_path / "cohort" / "corrupt" / CORRUPT_FILE
    )
    fixed = run_batch_dosimetry(
        manifest, SETTINGS, out, client_two_workers, ParquetResultWriter(out)
    )
    assert [o.status for o in fixed.outcomes] == ["skipped", "skipped", "skipped", "done"]
    assert fixed.written
    assert not fixed.failures
    assert not (out / "studies" / "CORRUPT" / "error.json").exists()
    rows = pq.read_table(fixed.files["regions"]).to_pylist()
    assert {r["study_id"] for r in rows} == {"P0", "P1", "P2", "CORRUPT"}
    assert pq.read_table(fixed.files["failures"]).num_rows == 0


def test_voxel_doses_equal_the_single_study_command(
    tmp_path: Path, client_one_worker: Client, make_cohort: Callable[..., Path]
) -> None:
    # The batch runs the pipeline of `prrt dosimetry voxel`: same study, same options, same doses.
    from prrt.adapters.cli.app import app

    manifest = read_batch_manifest(make_cohort(tmp_path / "cohort", n_good=1))
    first = manifest.studies[:1]
    out = tmp_path / "out"
    report = run_batch_dosimetry(
        type(manifest)(manifest.path, first),
        SETTINGS,
        out,
        client_one_worker,
        ParquetResultWriter(out),
    )
    assert report.count("done") == 1
    rows = {r["region"]: r for r in pq.read_table(report.files["regions"]).to_pylist()}
    result = CliRunner().invoke(
        app,
        [
            "dosimetry", "voxel", first[0].path, "--output", str(tmp_path / "single"),
            "--format", "json", "--device", "cpu", "--method", "hybrid", "--psf-fwhm", "10 mm",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for region in json.loads(result.stdout)["summary"]["regions"]:
        assert rows[region["name"]]["voxel_mean_dose_gy"] == pytest.approx(
            region["mean_gy"], rel=1e-12
        )
        assert rows[region["name"]]["voxel_d98_gy"] == pytest.approx(region["d98_gy"], rel=1e-12)
