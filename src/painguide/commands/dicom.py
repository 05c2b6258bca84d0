"""`painguide dicom listen`: a DICOM Storage SCP that imports received dose reports."""

from __future__ import annotations

from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(help="DICOM network services (Storage SCP for dose reports).", no_args_is_help=True)


@app.command("listen")
@requires("dicom.receive")
def listen(
    port: Annotated[
        int | None, typer.Option(help="TCP port, 1-65535 (default: PAINGUIDE_DICOM_PORT).", min=1, max=65535)
    ] = None,
    ae_title: Annotated[
        str | None, typer.Option(help="Our AE title (default: PAINGUIDE_DICOM_AE_TITLE).")
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help="Calling AE title allowed to send (repeatable; default: PAINGUIDE_DICOM_ALLOWED_CALLERS)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "0.0.0.0",
    strict: Annotated[
        bool | None, typer.Option("--strict/--lenient", help="Refuse malformed reports.")
    ] = None,
) -> None:
    """Receive dose reports (C-STORE) and import them until interrupted (Ctrl-C)."""
    import time

    from rich.console import Console

    from painguide.dose.receiver import ReceiverConfig, start_receiver
    from painguide.dose.service import ImportOutcome
    from painguide.errors import ValidationError
    from painguide.services import ensure_database, open_uow
    from painguide.settings import get_settings

    settings = get_settings()
    callers = allow or [c.strip() for c in settings.dicom_allowed_callers.split(",") if c.strip()]
    title = ae_title or settings.dicom_ae_title
    if not 0 < len(title) <= 16:
        raise ValidationError("--ae-title", f"{title!r} must be 1 to 16 characters")
    config = ReceiverConfig(
        host=host,
        port=port if port is not None else settings.dicom_port,
        ae_title=title,
        allowed_callers=tuple(callers),
        quarantine_dir=settings.quarantine_dir,
        strict=settings.strict_dicom if strict is None else strict,
    )
    console = Console()

    def show(outcome: ImportOutcome) -> None:
        style = {"imported": "green", "duplicate": "yellow", "quarantined": "red"}[outcome.status]
        console.print(
            f"[{style}]{outcome.status}[/] {outcome.label} {outcome.sop_instance_uid or outcome.reason}"
        )

    ensure_database()  # migrate before the first association arrives
    server = start_receiver(config, open_uow, on_outcome=show)
    who = ", ".join(callers) if callers else "any caller (use --allow to restrict)"
    console.print(f"listening as {title} on {config.host}:{config.port}; accepting {who}; Ctrl-C stops")
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        server.shutdown()
