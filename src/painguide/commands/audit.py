"""`painguide audit verify`."""

from __future__ import annotations

from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(help="The audit trail (a hash chain of every change and every read of patient data).",
                  no_args_is_help=True)  # fmt: skip


@app.command("verify")
@requires("audit.verify")
def verify(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Check every link of the audit chain; name the first broken one and exit 7 if there is one."""
    import json

    from painguide.audit.service import verify_chain
    from painguide.commands.guard import cli_principal
    from painguide.errors import AuditChainError
    from painguide.services import open_uow

    with open_uow() as uow:
        report = verify_chain(uow, cli_principal())
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    elif report.intact:
        typer.echo(f"audit chain intact: {report.checked} entries, head {report.head_hash}")
    if report.first_break is not None:
        raise AuditChainError(
            f"audit chain broken at {report.first_break}; {report.checked} entries before it are intact. "
            "Restore the audit_log table from a backup and keep this database for investigation."
        )
