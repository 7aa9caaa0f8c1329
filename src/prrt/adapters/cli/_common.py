"""Shared pieces of the command line: output format, JSON emission and exit codes.

Exit codes
----------
0  success
1  an unexpected failure (a bug: please report it)
2  bad input: a value is missing, malformed, of the wrong unit or implausible;
   the message names the field, the value received and what was expected.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.text import Text

from prrt.errors import InvalidInputError, PrrtError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "EXIT_OK",
    "FORMAT_HELP",
    "OutputFormat",
    "emit",
    "escape_markup",
    "fail_bad_input",
    "handle_errors",
    "prepare_output_dir",
    "stderr_console",
    "stdout_console",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

# Tables are wider than 80 columns; when output goes to a file or pipe (no terminal
# width to read), lay them out for 120 columns instead of rich's default of 80.
_PIPE_WIDTH = None if sys.stdout.isatty() else 120
# markup=False: strings are never parsed as rich markup, so user text such as a lesion
# id "L[red]1" or a hint "pip install prrt[gpu]" is printed as written; styles are
# applied with Text/style= only.
stdout_console = Console(highlight=False, soft_wrap=True, width=_PIPE_WIDTH, markup=False)
stderr_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


class OutputFormat(str, Enum):
    """Output format of a command."""

    TEXT = "text"
    JSON = "json"


FORMAT_HELP = "Output format: 'text' for people, 'json' for programs (JSON fields documented in docs/, one page per topic; errors in docs/units.md)."


def fail_bad_input(
    field: str, value: Any, expected: str, fmt: OutputFormat = OutputFormat.TEXT
) -> NoReturn:
    """Report bad input and exit with code 2."""
    _report(InvalidInputError(field, value, expected), fmt)
    raise typer.Exit(EXIT_BAD_INPUT)


def _report(err: PrrtError, fmt: OutputFormat) -> None:
    if isinstance(err, InvalidInputError):
        problem = err.to_problem()
    else:
        problem = {"error": type(err).__name__, "message": str(err)}
    if fmt is OutputFormat.JSON:
        sys.stderr.write(json.dumps(problem) + "\n")
    else:
        # The message holds user text: never interpret it as rich markup.
        stderr_console.print(Text.assemble(("error: ", "bold red"), str(err)))


@contextmanager
def handle_errors(fmt: OutputFormat = OutputFormat.TEXT) -> Iterator[None]:
    """Translate prrt errors into messages and exit codes (2 for bad input)."""
    try:
        yield
    except InvalidInputError as err:
        _report(err, fmt)
        raise typer.Exit(EXIT_BAD_INPUT) from err
    except PrrtError as err:
        _report(err, fmt)
        raise typer.Exit(EXIT_FAILURE) from err


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Enum):
        return obj.value
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return obj.item()
    return obj


def emit(
    payload: dict[str, Any], fmt: OutputFormat, render_text: Callable[[dict[str, Any]], None]
) -> None:
    """Write ``payload`` as JSON, or call ``render_text`` for the human format."""
    if fmt is OutputFormat.JSON:
        sys.stdout.write(json.dumps(_jsonable(payload), indent=2, allow_nan=False) + "\n")
    else:
        render_text(payload)


def prepare_output_dir(out_dir: Path) -> Path:
    """Create the output directory (and check it is writable) before any computation."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInputError(
            "--output", str(out_dir), "a directory (an existing file has this name)"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # Prove the directory is writable before any computation (the probe is deleted on close).
        tempfile.NamedTemporaryFile(dir=out_dir, prefix=".prrt-write-test-").close()
    except OSError as err:
        raise InvalidInputError(
            "--output",
            str(out_dir),
            "a directory that can be created and written to",
            hint=f"{type(err).__name__}: {err.strerror or err}",
        ) from err
    return out_dir
