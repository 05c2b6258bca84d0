"""`painguide user add|list|disable|enable|passwd|token|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(
    help="User accounts and roles (admin, physician, rpo, trainee, viewer).", no_args_is_help=True
)


@app.command("add")
@requires("user.manage")
def add(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[list[str], typer.Option("--role", help="Role; repeat for several.")],
    full_name: Annotated[str, typer.Option(help="Full name shown in the app.")] = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Password (prompted if not given)."
        ),
    ] = "",
) -> None:
    """Create a user."""
    from painguide.accounts.service import create_account
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow

    with open_uow() as uow:
        user = create_account(uow, cli_principal(), username, password, role, full_name=full_name)
    typer.echo(f"created {user.username} ({', '.join(sorted(user.roles))})")


@app.command("list")
@requires("user.manage")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users and their roles."""
    import json

    from painguide.accounts.service import list_accounts
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow

    with open_uow() as uow:
        users = list_accounts(uow, cli_principal())
    if as_json:
        typer.echo(json.dumps([{"username": u.username, "roles": sorted(u.roles)} for u in users], indent=2))
        return
    for u in users:
        typer.echo(f"{u.username}\t{','.join(sorted(u.roles))}\t{u.full_name}")


@app.command("qualify")
@requires("user.qualify")
def qualify(
    username: Annotated[str, typer.Argument(help="Sign-in name of the physician.")],
    valid_until: Annotated[
        str, typer.Option("--valid-until", help="Last day the qualification is valid (YYYY-MM-DD).")
    ],
    certificate: Annotated[
        str, typer.Option(help="Certificate (e.g. Fachkunde/Sachkunde number).")
    ] = "recorded",
    valid_from: Annotated[
        str | None, typer.Option("--valid-from", help="First valid day (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Record a radiation-protection qualification (needed to sign radiation justifications)."""
    from painguide.commands.guard import cli_principal
    from painguide.pathway.models import Qualification, build
    from painguide.pathway.service import record_qualification
    from painguide.services import open_uow

    qualification = build(
        Qualification,
        username=username,
        certificate=certificate,
        valid_until=valid_until,
        valid_from=valid_from,
    )
    with open_uow() as uow:
        record_qualification(uow, cli_principal(), qualification)
    until = qualification.valid_until.isoformat()
    typer.echo(f"{username}: radiation-protection qualification {certificate} valid until {until}")


Name = Annotated[str, typer.Argument(help="Sign-in name of the account.")]


@app.command("disable")
@requires("user.manage")
def disable(username: Name) -> None:
    """Disable an account: it can no longer sign in; its sessions end and its API tokens are revoked."""
    from painguide.accounts.service import disable_user
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow

    with open_uow() as uow:
        sessions, tokens = disable_user(uow, cli_principal(), username)
    typer.echo(f"disabled {username}: {sessions} session(s) ended, {tokens} token(s) revoked")


@app.command("enable")
@requires("user.manage")
def enable(username: Name) -> None:
    """Enable a disabled account."""
    from painguide.accounts.service import enable_user
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow

    with open_uow() as uow:
        enable_user(uow, cli_principal(), username)
    typer.echo(f"enabled {username}")


@app.command("passwd")
@requires("user.manage")
def passwd(
    username: Name,
    password: Annotated[
        str,
        typer.Option(
            prompt="New password", hide_input=True, confirmation_prompt=True, help="New password (prompted)."
        ),
    ] = "",
) -> None:
    """Set a new password for an account; its sessions end."""
    from painguide.accounts.service import set_password
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow

    with open_uow() as uow:
        ended = set_password(uow, cli_principal(), username, password)
    typer.echo(f"password of {username} changed; {ended} session(s) ended")


@app.command("token")
@requires("user.manage")
def token(
    username: Name,
    label: Annotated[str, typer.Option(help="What the token is for (shown in the audit trail).")] = "",
    days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Expire after this many days (default: never).")
    ] = None,
) -> None:
    """Make a personal API token for scripts (`Authorization: Bearer TOKEN` on /api/ routes).

    The token is printed once; only its SHA-256 is stored. `painguide user revoke NAME` ends it.
    """
    from painguide.accounts.service import issue_token
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow

    with open_uow() as uow:
        secret = issue_token(uow, cli_principal(), username, label=label, days=days)
    typer.echo(secret)
    typer.echo("Shown once: keep it secret. Send it as `Authorization: Bearer TOKEN`.", err=True)


@app.command("revoke")
@requires("user.manage")
def revoke(username: Name) -> None:
    """End every session and revoke every API token of an account (the account stays enabled)."""
    from painguide.accounts.service import revoke_access
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow

    with open_uow() as uow:
        sessions, tokens = revoke_access(uow, cli_principal(), username)
    typer.echo(f"{username}: {sessions} session(s) ended, {tokens} token(s) revoked")
