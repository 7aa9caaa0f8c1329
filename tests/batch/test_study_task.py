"""One study in-process: result keys, cached failures, retries and invalidation by settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from prrt.adapters.batch.manifest import BatchStudy, read_batch_manifest
from prrt.adapters.batch.study_task import DosimetrySettings, process_study
from prrt.adapters.batch.writers import REGION_COLUMNS, ParquetResultWriter, ResultWriter
from prrt.errors import InvalidInputError


def test_missing_study_fails_cached_then_retried(tmp_path: Path) -> None:
    study = BatchStudy(id="GONE", path=str(tmp_path / "nowhere"), sex="male", folder="GONE")
    out = str(tmp_path / "out")
    first = process_study(study, DosimetrySettings(), out)
    assert first.failed
    assert not first.cached
    assert first.error_type == "InvalidInputError"
    error = json.loads((tmp_path / "out" / "studies" / "GONE" / "error.json").read_text())
    assert error["result_key"] == first.result_key
    assert "Traceback" in error["traceback"]
    second = process_study(study, DosimetrySettings(), out)
    assert second.failed
    assert second.cached
    assert second.error_message == first.error_message
    retried = process_study(study, DosimetrySettings(), out, retry_failed=True)
    assert retried.failed
    assert not retried.cached


def test_result_key_follows_inputs_and_settings(
    tmp_path: Path, make_cohort: Callable[..., Path]
) -> None:
    manifest = read_batch_manifest(make_cohort(tmp_path / "cohort", n_good=1))
    study = manifest.studies[0]
    out = str(tmp_path / "out")
    led = DosimetrySettings(dose_method="led", method="hybrid")
    done = process_study(study, led, out)
    assert done.status == "done", done.error_message
    assert process_study(study, led, out).status == "skipped"
    other = process_study(
        study, DosimetrySettings(dose_method="led", method="hybrid", psf_fwhm_mm=10.0), out
    )
    assert other.status == "done"
    assert other.result_key != done.result_key
    payload = json.loads(Path(other.result_file or "").read_text())
    assert payload["settings"]["psf_fwhm_mm"] == 10.0
    assert {r["result_key"] for r in payload["rows"]} == {other.result_key}
    # A changed input file changes the key: the study is computed again.
    manifest_file = Path(study.path) / "manifest.json"
    manifest_file.write_text(manifest_file.read_text() + "\n")
    assert process_study(study, led, out).status == "done"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "magic"}, "--method"),
        ({"dose_method": "mc"}, "--dose-method"),
        ({"organ_fit_model": "spline"}, "--organ-fit-model"),
        ({"device": "tpu"}, "--device"),
        ({"psf_fwhm_mm": -1.0}, "--psf-fwhm"),
    ],
)
def test_bad_settings_name_the_option(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        DosimetrySettings(**kwargs)


def test_parquet_writer_schema_and_nulls(tmp_path: Path) -> None:
    writer = ParquetResultWriter(tmp_path)
    assert isinstance(writer, ResultWriter)
    files = writer.write(
        [{"study_id": "s", "region": "kidneys", "cycle": 2, "organ_bed_gy": None}],
        [{"study_id": "t", "error_type": "InvalidInputError", "error_message": "bad"}],
    )
    table = pq.read_table(files["regions"])
    assert table.schema.names == [n for n, _ in REGION_COLUMNS]
    row = table.to_pylist()[0]
    assert (row["cycle"], row["organ_bed_gy"], row["voxel_mean_dose_gy"]) == (2, None, None)
    assert pq.read_table(files["failures"]).to_pylist()[0]["error_message"] == "bad"
