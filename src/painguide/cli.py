"""The ``painguide`` command line: one Typer app; errors map to exit codes here, in one place."""

from __future__ import annotations

import sys
from typing import Any

import typer

from painguide.commands import audit, case, catalogue, db, demo, dicom, dose, fhir, sono, training, user
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
    ("audit", audit),
    ("dose", dose),
    ("dicom", dicom),
    ("sono", sono),
    ("training", training),
    ("case", case),
    ("fhir", fhir),
    ("demo", demo),
):
    app.add_typer(_group.app, name=_name)


def _stderr(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)


def _usage_line(exc: typer.TyperException) -> str:
    """One line for a usage error: the command, what is wrong, and where help is."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "painguide"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return f"error: {command}: {message} (see `{command} --help`)"


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the app and turn every error into one line and an exit code (never a traceback).

    Exit codes: 0 done, 2 usage error or bad input, 3 DICOM, 4 gate refused, 5 no permission,
    7 audit chain broken, 78 bad configuration, 130 interrupted (see docs/cli.md).
    """
    from painguide.errors import PainguideError

    try:
        result = app(args=argv, prog_name="painguide", standalone_mode=False)
    except PainguideError as exc:
        _stderr(f"error: {exc}")
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _stderr("interrupted")
        sys.exit(130)
    except typer.TyperException as exc:
        _stderr(_usage_line(exc))
        sys.exit(int(getattr(exc, "exit_code", 2)))
    sys.exit(result if isinstance(result, int) else 0)
