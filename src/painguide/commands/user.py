"""`painguide user add|list`."""

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
    from painguide.services import open_uow
    from painguide.store.users import create_user

    with open_uow() as uow:
        user = create_user(uow.session, username, password, role, full_name=full_name, actor="cli")
        uow.commit()
    typer.echo(f"created {user.username} ({', '.join(sorted(user.roles))})")


@app.command("list")
@requires("user.manage")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users and their roles."""
    import json

    from painguide.services import open_uow
    from painguide.store.users import list_users

    with open_uow() as uow:
        users = list_users(uow.session)
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
