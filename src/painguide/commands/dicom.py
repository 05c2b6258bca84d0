"""`painguide dicom listen`: a DICOM Storage SCP that imports received dose reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(help="DICOM network services (Storage SCP for dose reports).", no_args_is_help=True)


@app.command("listen")
@requires("dicom.receive")
def listen(
    port: Annotated[
        int | None,
        typer.Option(help="TCP port, 1-65535 (default: PAINGUIDE_DICOM_PORT).", min=1, max=65535),
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
    accept_any: Annotated[
        bool, typer.Option("--accept-any", help="Accept every calling AE title (needed outside demo mode).")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: PAINGUIDE_DICOM_HOST, 127.0.0.1).")
    ] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate: serve DICOM over TLS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
    tls_ca: Annotated[
        Path | None, typer.Option(help="PEM CA file: callers must present a certificate signed by it.")
    ] = None,
    strict: Annotated[
        bool | None, typer.Option("--strict/--lenient", help="Refuse malformed reports.")
    ] = None,
) -> None:
    """Receive dose reports (C-STORE) and import them until interrupted (Ctrl-C)."""
    import time

    from rich.console import Console

    from painguide.dose.receiver import TlsFiles, receiver_config, start_receiver
    from painguide.dose.service import ImportOutcome
    from painguide.errors import ValidationError
    from painguide.services import ensure_database, open_uow
    from painguide.settings import get_settings

    settings = get_settings()
    callers = allow or settings.dicom_allowed_callers.split(",")
    tls = None
    if tls_cert or tls_key or tls_ca:
        if not (tls_cert and tls_key):
            raise ValidationError("--tls-cert/--tls-key", "TLS needs both a certificate and its key")
        tls = TlsFiles(tls_cert, tls_key, tls_ca)
    config = receiver_config(
        host=host or settings.dicom_host,
        port=port if port is not None else settings.dicom_port,
        ae_title=ae_title or settings.dicom_ae_title,
        allowed_callers=callers,
        accept_any=accept_any,
        demo=settings.demo,
        quarantine_dir=settings.quarantine_dir,
        strict=settings.strict_dicom if strict is None else strict,
        tls=tls,
    )
    console = Console()

    def show(outcome: ImportOutcome) -> None:
        style = {"imported": "green", "duplicate": "yellow", "quarantined": "red"}[outcome.status]
        console.print(
            f"[{style}]{outcome.status}[/] {outcome.label} {outcome.sop_instance_uid or outcome.reason}"
        )

    ensure_database()  # migrate before the first association arrives
    server = start_receiver(config, open_uow, on_outcome=show)
    who = ", ".join(config.allowed_callers) or "any caller"
    over = " over TLS" if tls else ""
    console.print(
        f"listening as {config.ae_title} on {config.host}:{config.port}{over}; accepting {who}; Ctrl-C stops"
    )
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        server.shutdown()
