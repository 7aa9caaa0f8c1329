"""The ``prrt`` command: one Typer application with sub-commands registered per topic."""

from __future__ import annotations

import sys

import typer

from prrt import __version__
from prrt.adapters.cli import (
    batch_cmds,
    clinical_cmds,
    demo_cmds,
    dosimetry_organ_cmds,
    dosimetry_voxel_cmds,
    outcomes_cmds,
    physics_cmds,
    planning_cmds,
    service_cmds,
)
from prrt.adapters.cli._common import EXIT_BAD_INPUT

app = typer.Typer(
    name="prrt",
    help="Peptide receptor radionuclide therapy: physics, selection, dosimetry and decisions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
dosimetry_app = typer.Typer(
    help="Absorbed-dose calculations (organ-level MIRD, voxel SPECT/CT).", no_args_is_help=True
)
app.add_typer(dosimetry_app, name="dosimetry")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"prrt {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Peptide receptor radionuclide therapy toolkit."""


physics_cmds.register(app)
clinical_cmds.register(app)
planning_cmds.register(app)
demo_cmds.register(app)
service_cmds.register(app)
outcomes_cmds.register(app)
batch_cmds.register(app)
dosimetry_organ_cmds.register(dosimetry_app)
dosimetry_voxel_cmds.register(dosimetry_app)


def main() -> None:
    """Entry point of the ``prrt`` console script.

    Click reports usage errors (unknown option, missing argument) with exit code 2,
    the same code prrt uses for bad input values.
    """
    try:
        app()
    except SystemExit as exc:
        code = exc.code
        sys.exit(EXIT_BAD_INPUT if code == 2 else code)


if __name__ == "__main__":
    main()
