"""Reading the packaged CSV/JSON tables of :mod:`prrt.physics` (see ``data/README.md``)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from importlib import resources
from typing import Any

from prrt.errors import DataSourceError

__all__ = ["read_csv_file", "read_csv_rows", "read_json", "to_float"]


def _text(filename: str) -> str:
    try:
        return (
            resources.files("prrt.physics").joinpath("data", filename).read_text(encoding="utf-8")
        )
    except (FileNotFoundError, OSError) as err:
        raise DataSourceError(
            f"packaged table prrt/physics/data/{filename} could not be read: {err}"
        ) from err


def read_csv_rows(filename: str) -> list[dict[str, str]]:
    """Return the rows of a packaged CSV table as dictionaries of strings."""
    return list(csv.DictReader(io.StringIO(_text(filename))))


def read_csv_file(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Return the rows of a user-supplied CSV file (same layout as a packaged table)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as err:
        raise DataSourceError(f"table {os.fspath(path)!r} could not be read: {err}") from err


def read_json(filename: str) -> Any:
    """Return the parsed content of a packaged JSON file."""
    try:
        return json.loads(_text(filename))
    except json.JSONDecodeError as err:
        raise DataSourceError(
            f"packaged table prrt/physics/data/{filename} is not valid JSON: {err}"
        ) from err


def to_float(row: dict[str, str], column: str, *, table: str) -> float:
    """Read a finite float from ``row[column]`` or raise :class:`DataSourceError`."""
    text = row.get(column)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError as err:
        raise DataSourceError(f"{table}: column {column!r} holds {text!r}, not a number") from err
    if not math.isfinite(value):
        raise DataSourceError(f"{table}: column {column!r} is missing or not finite in row {row}")
    return value
