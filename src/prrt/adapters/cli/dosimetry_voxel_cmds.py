"""CLI commands of this topic; `register` adds them to the given Typer app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (filled in by the issue that owns it)."""
    del app
