"""The ``painguide`` command line: one Typer app; errors map to exit codes here, in one place."""

from __future__ import annotations

import gc
import os
import sys

import typer

from painguide.commands import audit, case, catalogue, db, demo, dicom, dose, fhir, sono, training, user
from painguide.commands.core import register_core

__all__ = ["EXIT_BROKEN_INSTALL", "EXIT_INTERNAL", "GC_THRESHOLDS", "GROUPS", "app", "build_app", "main"]

#: Exit code of an unexpected error (a bug): sysexits' EX_SOFTWARE.
EXIT_INTERNAL = 70
#: Exit code when a module of the installation is missing: sysexits' EX_UNAVAILABLE.
EXIT_BROKEN_INSTALL = 69
#: Garbage collector thresholds of a ``painguide`` process (Python's are 700, 10, 10). A command's start-up
#: creates several hundred thousand long-lived objects (SQLAlchemy, pydantic, the tables) and almost no
#: cyclic garbage; at 700 the collector runs hundreds of times over them (about 0.05 s of CPU before a
#: database command reaches its work, docs/performance.md). Garbage is still collected, every 100,000 new
#: objects; a long-running command (``serve``, ``dicom listen``) keeps a full collection every 10 million.
GC_THRESHOLDS = (100_000, 10, 10)

#: The command groups in the order ``--help`` lists them. Each imports cheaply (heavy libraries load inside
#: the commands), so ``--help`` stays fast.
GROUPS: dict[str, typer.Typer] = {
    "catalogue": catalogue.app,
    "db": db.app,
    "user": user.app,
    "audit": audit.app,
    "dose": dose.app,
    "dicom": dicom.app,
    "sono": sono.app,
    "training": training.app,
    "case": case.app,
    "fhir": fhir.app,
    "demo": demo.app,
}


_HELP = "painguide: image-guided interventional pain therapy. Supports decisions; the physician decides."


def build_app(*groups: str) -> typer.Typer:
    """The ``painguide`` app with the top-level commands and the named command groups (default: all)."""
    built = typer.Typer(
        name="painguide",
        help=_HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    register_core(built)
    for name, group in GROUPS.items():
        if not groups or name in groups:
            built.add_typer(group, name=name)
    return built


app = build_app()


def _app_for(args: list[str]) -> typer.Typer:
    """The app that runs ``args``: only the group it names (Typer builds the parser of every command it
    holds, about 0.02 s for all of them), else everything (``--help``, top-level commands, typing errors)."""
    return build_app(args[0]) if args and args[0] in GROUPS else app


def _stderr(message: str) -> None:
    typer.secho(message, err=True, fg=typer.colors.RED)


def _usage_line(exc: typer.TyperException) -> str:
    """One line for a usage error: the command, what is wrong, and where help is."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "painguide"
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    return f"error: {command}: {message} (see `{command} --help`)"


def _debug_wanted(argv: list[str]) -> tuple[bool, list[str]]:
    """``--debug`` before the command (or ``PAINGUIDE_DEBUG=1``): show the traceback of an internal error."""
    leading = 0
    while leading < len(argv) and argv[leading].startswith("-"):
        leading += 1
    debug = "--debug" in argv[:leading] or os.environ.get("PAINGUIDE_DEBUG", "") not in ("", "0")
    return debug, [a for i, a in enumerate(argv) if not (i < leading and a == "--debug")]


def _error_log(argv: list[str]) -> str | None:
    """Append the current exception's traceback to ``<data dir>/logs/errors.log``; its path, or None."""
    import traceback
    from datetime import UTC, datetime
    from pathlib import Path

    try:
        from painguide.settings import get_settings

        folder = Path(get_settings().data_dir) / "logs"
    except Exception:  # the settings themselves may be what is broken
        import tempfile

        folder = Path(tempfile.gettempdir()) / "painguide-logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "errors.log"
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} painguide {' '.join(argv)}\n")
            log.write(traceback.format_exc())
        return str(path)
    except OSError:
        return None


def _internal_error(exc: BaseException, argv: list[str], debug: bool) -> int:
    """One line for an error painguide did not expect (the traceback goes to a log, or with --debug here)."""
    import traceback

    if debug:
        traceback.print_exc(file=sys.stderr)
    where = _error_log(argv)
    details = "run again with --debug to see them" if where is None else f"details in {where}"
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    if isinstance(exc, ImportError):
        module = getattr(exc, "name", None) or text
        _stderr(
            f"painguide: the installation is incomplete (module {module} is missing); run `make` again "
            f"in the painguide folder (or reinstall painguide); {details}"
        )
        return EXIT_BROKEN_INSTALL
    _stderr(f"painguide: internal error ({type(exc).__name__}: {text}); {details}")
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> object:
    """Entry point: run the app and turn every error into one line and an exit code (never a traceback).

    Exit codes: 0 done, 2 usage error or bad input, 3 DICOM, 4 gate refused, 5 no permission,
    6 live source unreachable, 7 audit chain broken, 69 installation incomplete (a module is missing),
    70 internal error (traceback in ``<data dir>/logs/errors.log``; ``--debug`` or ``PAINGUIDE_DEBUG=1``
    prints it), 78 bad configuration, 130 interrupted (see docs/cli.md).
    """
    if argv is not None:
        return _run(list(argv))
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        return _run(sys.argv[1:])
    finally:
        # The process ends here. Its objects (modules, SQLAlchemy's and pydantic's structures) need no
        # collection: frozen, the interpreter's final garbage collections skip them (about 0.1 s of CPU of a
        # database command; docs/performance.md). Files and connections are closed by their owners already.
        gc.freeze()


def _run(args: list[str]) -> object:
    debug, args = _debug_wanted(args)
    try:
        from painguide.errors import PainguideError

        try:
            result = _app_for(args)(args=args, prog_name="painguide", standalone_mode=False)
        except PainguideError as exc:
            _stderr(f"error: {exc}")
            sys.exit(exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            _stderr("interrupted")
            sys.exit(130)
        except typer.TyperException as exc:
            _stderr(_usage_line(exc))
            sys.exit(int(getattr(exc, "exit_code", 2)))
    except SystemExit:
        raise
    except Exception as exc:  # the last resort: anything painguide did not expect
        sys.exit(_internal_error(exc, args, debug))
    sys.exit(result if isinstance(result, int) else 0)
