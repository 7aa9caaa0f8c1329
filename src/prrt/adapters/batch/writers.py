"""Where batch-dosimetry results go: a small writer interface and its Parquet implementation.

A :class:`ResultWriter` receives every row of the batch — one per study ×
region, columns :data:`REGION_COLUMNS` (units in the names) — and one row per
failed study (:data:`FAILURE_COLUMNS`), and stores them.  The batch calls it
only when the results changed since the last run.  :class:`ParquetResultWriter`
writes ``regions.parquet`` and ``failures.parquet``; a database writer (the
``prrt.adapters.db`` tables) implements the same ``write`` method.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

__all__ = [
    "FAILURE_COLUMNS",
    "REGION_COLUMNS",
    "ParquetResultWriter",
    "ResultWriter",
    "region_schema",
]

_S, _F, _I = pa.string(), pa.float64(), pa.int32()

#: Columns of a region row, with their Arrow types (units in the names).
REGION_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("study_id", _S),
    ("centre", _S),
    ("patient_id", _S),
    ("cycle", _I),
    ("study_path", _S),
    ("administered_activity_bq", _F),
    ("injection_time_utc", _S),
    ("region", _S),
    ("region_canonical", _S),
    ("region_kind", _S),
    ("voi_volume_ml", _F),
    ("voi_mass_kg", _F),
    ("voxel_mean_dose_gy", _F),
    ("voxel_min_dose_gy", _F),
    ("voxel_max_dose_gy", _F),
    ("voxel_d2_gy", _F),
    ("voxel_d50_gy", _F),
    ("voxel_d98_gy", _F),
    ("voxel_tia_bq_s", _F),
    ("organ_tia_bq_s", _F),
    ("organ_fit_model", _S),
    ("organ_absorbed_dose_gy", _F),
    ("organ_self_dose_gy", _F),
    ("organ_cross_dose_gy", _F),
    ("organ_bed_gy", _F),
    ("organ_g_factor", _F),
    ("organ_eqd2_gy", _F),
    ("organ_dose_per_activity_gy_per_bq", _F),
    ("input_sha256", _S),
    ("settings_sha256", _S),
    ("result_key", _S),
    ("prrt_version", _S),
)

#: Columns of a failed-study row.
FAILURE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("study_id", _S),
    ("study_path", _S),
    ("error_type", _S),
    ("error_field", _S),
    ("error_message", _S),
    ("result_key", _S),
)


def region_schema() -> pa.Schema:
    """Arrow schema of :data:`REGION_COLUMNS`."""
    return pa.schema(list(REGION_COLUMNS))


@runtime_checkable
class ResultWriter(Protocol):
    """Stores the rows of a batch (all of them, each time it is called)."""

    def write(
        self, regions: Sequence[Mapping[str, Any]], failures: Sequence[Mapping[str, Any]]
    ) -> dict[str, str]:
        """Store region and failure rows; return what was written (name → location)."""
        ...


def _table(
    rows: Sequence[Mapping[str, Any]], columns: tuple[tuple[str, pa.DataType], ...]
) -> pa.Table:
    schema = pa.schema(list(columns))
    data = {name: [row.get(name) for row in rows] for name, _ in columns}
    return pa.Table.from_pydict(data, schema=schema)


class ParquetResultWriter:
    """``regions.parquet`` and ``failures.parquet`` in a folder, replaced atomically.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = ParquetResultWriter(Path(d)).write([{"study_id": "a", "region": "kidneys",
    ...                                                  "voxel_mean_dose_gy": 3.2}], [])
    ...     pq.read_table(files["regions"]).column("voxel_mean_dose_gy").to_pylist()
    [3.2]
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _write(self, table: pa.Table, name: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return path

    def write(
        self, regions: Sequence[Mapping[str, Any]], failures: Sequence[Mapping[str, Any]]
    ) -> dict[str, str]:
        """Write both tables; return their paths."""
        return {
            "regions": str(self._write(_table(regions, REGION_COLUMNS), "regions.parquet")),
            "failures": str(self._write(_table(failures, FAILURE_COLUMNS), "failures.parquet")),
        }
