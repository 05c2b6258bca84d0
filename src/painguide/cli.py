"""The ``painguide`` command line: one Typer app; errors map to exit codes here, in one place."""

from __future__ import annotations

import sys
from typing import Any

import click
import typer

from painguide.commands import catalogue, db, dicom, dose, sono, user
from painguide.commands.core import register_core

__all__ = ["app", "main"]

app = typer.Typer(
    name="painguide",
    help="painguide: image-guided interventional pain therapy. Supports decisions; the physician decides.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
register_core(app)

# Each command group imports cheaply (heavy libraries load inside the commands), so `--help` stays fast.
for _name, _group in (
    ("catalogue", catalogue),
    ("db", db),
    ("user", user),
    ("dose", dose),
    ("dicom", dicom),
    ("sono", sono),
):
    app.add_typer(_group.app, name=_name)


def _stderr(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the app and turn painguide errors into a message and an exit code (no traceback)."""
    from painguide.errors import PainguideError

    try:
        result = app(args=argv, standalone_mode=False)
    except PainguideError as exc:
        _stderr(f"error: {exc}")
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _stderr("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _stderr("interrupted")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)
