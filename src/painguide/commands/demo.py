"""`painguide demo seed`: demo users and demo data in the configured database, without serving."""

from __future__ import annotations

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(help="Demo data.", no_args_is_help=True)


@app.command("seed")
@requires("demo.seed")
def seed() -> None:
    """Seed demo users, dose reports, ultrasound analyses and care-pathway cases (idempotent)."""
    from painguide.demo import seed_demo

    seed_demo()
    typer.echo("demo data seeded (sign in with the demo accounts, password demo-painguide)")
