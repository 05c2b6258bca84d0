"""The ``painguide`` command line: one Typer app; errors map to exit codes here, in one place."""

from __future__ import annotations

import sys
from typing import Any

import click
import typer

from painguide.commands.core import register_core
from painguide.features import import_optional

__all__ = ["app", "main"]

app = typer.Typer(
    name="painguide",
    help="painguide: image-guided interventional pain therapy. Supports decisions; the physician decides.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
register_core(app)

#: Sub-command groups: (name, module). Each module defines ``app = typer.Typer(...)`` and imports cheaply.
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("catalogue", "painguide.commands.catalogue"),
    ("db", "painguide.commands.db"),
    ("user", "painguide.commands.user"),
    ("dose", "painguide.commands.dose"),
    ("dicom", "painguide.commands.dicom"),
    ("sono", "painguide.commands.sono"),
)
for _name, _module in SUBCOMMANDS:
    _sub = import_optional(_module)
    if _sub is not None:
        app.add_typer(_sub.app, name=_name)


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
