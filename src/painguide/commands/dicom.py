"""`painguide dicom listen`: a DICOM Storage SCP that imports received dose reports.

`painguide dicom worklist`: a DICOM Modality Worklist server offering the scheduled procedures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from painguide.commands.guard import requires

if TYPE_CHECKING:
    from rich.console import Console

    from painguide.dose.receiver import TlsFiles

__all__ = ["app"]


class Stoppable(Protocol):
    """A running network service."""

    def shutdown(self) -> None: ...


app = typer.Typer(
    help="DICOM network services (Storage SCP for dose reports, Modality Worklist).", no_args_is_help=True
)

# Options both services share.
AeTitle = Annotated[
    str | None, typer.Option(help="Our AE title (default: PAINGUIDE_DICOM_AE_TITLE, PAINGUIDE).")
]
AcceptAny = Annotated[
    bool, typer.Option("--accept-any", help="Accept every calling AE title (needed outside demo mode).")
]
Host = Annotated[str | None, typer.Option(help="Address to bind (default: PAINGUIDE_DICOM_HOST, 127.0.0.1).")]
TlsCert = Annotated[Path | None, typer.Option(help="PEM certificate: serve DICOM over TLS.")]
TlsKey = Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")]
TlsCa = Annotated[
    Path | None, typer.Option(help="PEM CA file: callers must present a certificate signed by it.")
]


def _tls(cert: Path | None, key: Path | None, ca: Path | None) -> TlsFiles | None:
    """The TLS files given on the command line, or None for plain DICOM; a certificate needs its key."""
    from painguide.dose.receiver import TlsFiles
    from painguide.errors import ValidationError

    if not (cert or key or ca):
        return None
    if not (cert and key):
        raise ValidationError("--tls-cert/--tls-key", "TLS needs both a certificate and its key")
    return TlsFiles(cert, key, ca)


def _serve_until_interrupted(console: Console, server: Stoppable) -> None:
    """Keep the server running until Ctrl-C, then shut it down."""
    import time

    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        server.shutdown()


@app.command("listen")
@requires("dicom.receive")
def listen(
    port: Annotated[
        int | None,
        typer.Option(help="TCP port, 1-65535 (default: PAINGUIDE_DICOM_PORT).", min=1, max=65535),
    ] = None,
    ae_title: AeTitle = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help="Calling AE title allowed to send (repeatable; default: PAINGUIDE_DICOM_ALLOWED_CALLERS)."
        ),
    ] = None,
    accept_any: AcceptAny = False,
    host: Host = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    tls_ca: TlsCa = None,
    strict: Annotated[
        bool | None, typer.Option("--strict/--lenient", help="Refuse malformed reports.")
    ] = None,
) -> None:
    """Receive dose reports (C-STORE) and import them until interrupted (Ctrl-C)."""
    from rich.console import Console

    from painguide.dose.receiver import receiver_config, start_receiver
    from painguide.dose.service import ImportOutcome
    from painguide.services import ensure_database, open_uow
    from painguide.settings import get_settings

    settings = get_settings()
    callers = allow or settings.dicom_allowed_callers.split(",")
    tls = _tls(tls_cert, tls_key, tls_ca)
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
    _serve_until_interrupted(console, server)


@app.command("worklist")
@requires("worklist.serve")
def worklist(
    port: Annotated[
        int | None,
        typer.Option(help="TCP port, 1-65535 (default: PAINGUIDE_WORKLIST_PORT, 11113).", min=1, max=65535),
    ] = None,
    ae_title: AeTitle = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help="Calling AE title allowed to query (repeatable; PAINGUIDE_WORKLIST_ALLOWED_CALLERS)."
        ),
    ] = None,
    accept_any: AcceptAny = False,
    host: Host = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    tls_ca: TlsCa = None,
) -> None:
    """Offer the scheduled procedures to the modalities (C-FIND) until interrupted (Ctrl-C)."""
    from rich.console import Console

    from painguide.commands.guard import cli_principal
    from painguide.pathway.worklist import WorklistQuery
    from painguide.pathway.worklist_scp import start_worklist, worklist_config
    from painguide.services import ensure_database, open_uow
    from painguide.settings import get_settings

    settings = get_settings()
    tls = _tls(tls_cert, tls_key, tls_ca)
    config = worklist_config(
        host=host or settings.dicom_host,
        port=port if port is not None else settings.worklist_port,
        ae_title=ae_title or settings.dicom_ae_title,
        allowed_callers=allow or settings.worklist_allowed_callers.split(","),
        accept_any=accept_any,
        demo=settings.demo,
        fluoro_modality=settings.worklist_fluoro_modality,
        tls=tls,
    )
    zone = settings.site_zone()
    console = Console()

    def show(caller: str, query: WorklistQuery, answers: int) -> None:
        keys = ", ".join(f"{k}={v}" for k, v in query.describe().items()) or "all"
        console.print(f"[green]C-FIND[/] from {caller or '?'} ({keys}): {answers} scheduled procedure(s)")

    ensure_database()  # migrate before the first query arrives
    server = start_worklist(config, open_uow, cli_principal(), zone=zone, on_query=show)
    who = ", ".join(config.allowed_callers) or "any caller"
    over = " over TLS" if tls else ""
    console.print(
        f"worklist as {config.ae_title} on {config.host}:{config.port}{over}; accepting {who}; "
        f"times in {settings.timezone}; Ctrl-C stops"
    )
    _serve_until_interrupted(console, server)
