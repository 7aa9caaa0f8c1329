"""Batch dosimetry: every study of a manifest on a Dask cluster, resumable, failures reported.

:func:`run_batch_dosimetry` submits one :func:`~prrt.adapters.batch.study_task.process_study`
task per study, reports each outcome as it arrives (for a progress bar), then
gathers the rows of every study done (this run or before) and gives them, with
the failures, to a :class:`~prrt.adapters.batch.writers.ResultWriter` — only
when they differ from what was last written (``batch_state.json`` keeps a digest
of the result keys), so that a rerun over unchanged inputs computes and writes
nothing.  Output folder::

    OUT/studies/<id>/result.json    rows of the study, its result key and notes
    OUT/studies/<id>/error.json     the error of a failed study (type, field, message, traceback)
    OUT/regions.parquet             one row per study × region
    OUT/failures.parquet            one row per failed study
    OUT/batch_state.json            digest of what the writer was given
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client, as_completed

from prrt.adapters.batch.manifest import BatchManifest
from prrt.adapters.batch.study_task import (
    DosimetrySettings,
    StudyOutcome,
    process_study,
    study_folder,
)
from prrt.adapters.batch.writers import ResultWriter

__all__ = ["STATE_FILE", "BatchReport", "run_batch_dosimetry"]

STATE_FILE = "batch_state.json"


@dataclass(frozen=True)
class BatchReport:
    """Outcome of a batch: one :class:`StudyOutcome` per study (manifest order) and the files written."""

    outcomes: tuple[StudyOutcome, ...]
    files: dict[str, str] = field(default_factory=dict)
    written: bool = False
    n_rows: int = 0

    def count(self, status: str) -> int:
        """Number of studies with ``status`` (done, skipped, failed)."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> tuple[StudyOutcome, ...]:
        """Failed studies."""
        return tuple(o for o in self.outcomes if o.failed)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "studies": len(self.outcomes),
            "done": self.count("done"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "rows": self.n_rows,
            "written": self.written,
            "files": dict(self.files),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


def _lost(study_id: str, err: BaseException) -> StudyOutcome:
    """A task that died with its worker (no error file: a rerun tries again)."""
    return StudyOutcome(
        study_id, "failed", error_type=type(err).__name__, error_message=str(err) or repr(err)
    )


def run_batch_dosimetry(
    manifest: BatchManifest,
    settings: DosimetrySettings,
    out_dir: Path,
    client: Client,
    writer: ResultWriter,
    *,
    retry_failed: bool = False,
    on_outcome: Callable[[StudyOutcome], None] | None = None,
) -> BatchReport:
    """Run (or resume) a batch and write its rows.

    ``on_outcome`` (optional) is called with each study's outcome as it arrives.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    futures = {
        client.submit(
            process_study,
            study,
            settings,
            str(out_dir),
            retry_failed,
            pure=False,
            key=f"prrt-study-{study.folder}-{os.urandom(4).hex()}",
        ): study
        for study in manifest.studies
    }
    outcomes: dict[str, StudyOutcome] = {}
    for future in as_completed(list(futures)):
        study = futures[future]
        try:
            outcome = future.result()
        except Exception as err:  # a worker lost: report the study, go on with the others
            outcome = _lost(study.id, err)
        outcomes[study.id] = outcome
        future.release()
        if on_outcome is not None:
            on_outcome(outcome)
    ordered = tuple(outcomes[s.id] for s in manifest.studies)
    regions: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for study, outcome in zip(manifest.studies, ordered, strict=True):
        if outcome.failed:
            failures.append(
                {
                    "study_id": study.id,
                    "study_path": study.path,
                    "error_type": outcome.error_type,
                    "error_field": outcome.error_field,
                    "error_message": outcome.error_message,
                    "result_key": outcome.result_key or None,
                }
            )
            continue
        path = study_folder(out_dir, study) / "result.json"
        regions.extend(json.loads(path.read_text(encoding="utf-8"))["rows"])
    digest = hashlib.sha256(
        json.dumps(
            {
                "results": [(o.study_id, o.status != "failed", o.result_key) for o in ordered],
                "failures": failures,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    state_path = out_dir / STATE_FILE
    state: dict[str, Any] = {}
    if state_path.exists():
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except ValueError:
            state = {}
    files = dict(state.get("files", {}))
    unchanged = state.get("digest") == digest and all(Path(p).exists() for p in files.values())
    if unchanged:
        return BatchReport(ordered, files, written=False, n_rows=len(regions))
    files = writer.write(regions, failures)
    tmp = state_path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(
        json.dumps({"digest": digest, "files": files}, indent=1) + "\n", encoding="utf-8"
    )
    os.replace(tmp, state_path)
    return BatchReport(ordered, files, written=True, n_rows=len(regions))
