"""Command-line interface (Typer): parsing of users' units at the edge, exit codes, JSON/text output."""
