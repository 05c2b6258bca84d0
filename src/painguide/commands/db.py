"""`painguide db upgrade|current`."""

from __future__ import annotations

from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(
    help="Database migrations (SQLite by default; PAINGUIDE_DATABASE_URL for PostgreSQL).",
    no_args_is_help=True,
)


@app.command("upgrade")
@requires("system.db")
def upgrade(
    url: Annotated[str | None, typer.Option(help="Database URL (default: the configured one).")] = None,
) -> None:
    """Apply every pending migration."""
    from painguide.settings import get_settings
    from painguide.store.db import current_revisions
    from painguide.store.db import upgrade as run_upgrade

    target = url or get_settings().effective_database_url
    run_upgrade(target)
    typer.echo(f"database at {', '.join(sorted(current_revisions(target)))}")


@app.command("current")
@requires("system.db")
def current(
    url: Annotated[str | None, typer.Option(help="Database URL (default: the configured one).")] = None,
) -> None:
    """Print the migration revisions the database is at."""
    from painguide.settings import get_settings
    from painguide.store.db import current_revisions

    revs = current_revisions(url or get_settings().effective_database_url)
    typer.echo(", ".join(sorted(revs)) if revs else "(empty: run `painguide db upgrade`)")
