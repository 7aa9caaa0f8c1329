"""Reading users' files at the edges: text and JSON documents with clear errors.

Every failure (missing file, a directory, unreadable bytes, not UTF-8, malformed or
absurdly nested JSON) becomes an :class:`~prrt.errors.InvalidInputError` naming the
field (the argument or manifest entry), the path and what was expected, so that the
command line exits with code 2 instead of a traceback.  A UTF-8 byte-order mark,
as written by some Windows editors, is accepted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prrt.errors import InvalidInputError

__all__ = ["read_json_document", "read_text_document"]


def read_text_document(path: Path, *, field: str, expected: str) -> str:
    """Return the text of ``path`` decoded as UTF-8 (a byte-order mark is dropped)."""
    try:
        data = path.read_bytes()
    except IsADirectoryError as err:
        raise InvalidInputError(field, str(path), expected, hint="this is a directory") from err
    except OSError as err:
        raise InvalidInputError(field, str(path), expected, hint=err.strerror or str(err)) from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInputError(
            field,
            str(path),
            expected,
            hint=f"the file is not UTF-8 text (byte {err.start}); save it as UTF-8",
        ) from err


def parse_json_text(text: str, *, field: str, source: str, expected: str) -> Any:
    """Parse JSON text; malformed or too deeply nested documents are refused."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInputError(
            field, source, expected, hint=f"line {err.lineno}, column {err.colno}: {err.msg}"
        ) from err
    except RecursionError as err:
        raise InvalidInputError(field, source, expected, hint="JSON nested too deeply") from err


def read_json_document(path: Path, *, field: str, expected: str = "a JSON document") -> Any:
    """Read and parse a JSON file (see :func:`read_text_document`)."""
    text = read_text_document(path, field=field, expected=expected)
    return parse_json_text(text, field=field, source=str(path), expected=expected)
