"""``painguide training cusum``: CUSUM and LC-CUSUM learning curves of a series of outcomes.

Command contract
----------------
``painguide training cusum --outcomes 1,0,1,... [--p0 P --p1 P --alpha A --beta B] [--horizon N] --json``
prints ``{"h", "s", "scores", "lc_scores", "competent_at", "h_acceptable", "limit", "horizon", "p0", "p1",
"alpha", "beta"}`` (docs/cli.md). Defaults come from the training policy (KNOWLEDGE §6).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(help="Competence: learning curves (CUSUM, LC-CUSUM).", no_args_is_help=True)


def _parse_outcomes(text: str) -> list[int]:
    from painguide.errors import ValidationError

    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(part not in ("0", "1") for part in parts):
        bad = next((p for p in parts if p not in ("0", "1")), text)
        raise ValidationError(
            "--outcomes", f"expected 1 (success) or 0 (failure) separated by commas, got {bad!r}"
        )
    return [int(part) for part in parts]


@app.command()
@requires("training.cusum")
def cusum(
    outcomes: Annotated[str, typer.Option(help="Outcomes in order, 1 = success, 0 = failure: 1,0,1,1")],
    p0: Annotated[float | None, typer.Option(help="Acceptable failure rate (default 0.10).")] = None,
    p1: Annotated[float | None, typer.Option(help="Unacceptable failure rate (default 0.20).")] = None,
    alpha: Annotated[float | None, typer.Option(help="False-declaration probability (default 0.10).")] = None,
    beta: Annotated[float | None, typer.Option(help="Missed-declaration probability (default 0.10).")] = None,
    horizon: Annotated[
        int | None, typer.Option(help="Use the exact LC-CUSUM limit for this many procedures (Biau 2010).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """CUSUM and LC-CUSUM scores, the decision limit h and where competence is declared."""
    from painguide.errors import ValidationError
    from painguide.training.cusum import CusumDesign, learning_curve
    from painguide.training.policy import load_training_policy

    values = _parse_outcomes(outcomes)
    defaults = load_training_policy().cusum.design()
    chosen = {"p0": p0, "p1": p1, "alpha": alpha, "beta": beta}
    try:
        design = CusumDesign(
            **{name: getattr(defaults, name) if value is None else value for name, value in chosen.items()}
        )
        curve = learning_curve(values, design, horizon=horizon)
    except ValidationError as exc:  # name the option, not the parameter
        raise ValidationError(f"--{exc.field}", exc.message.removeprefix(f"{exc.field}: ")) from None
    if as_json:
        typer.echo(json.dumps(curve.to_dict()))
        return
    from rich.console import Console

    console = Console()
    where = (
        "not declared" if curve.competent_at is None else f"declared at procedure {curve.competent_at + 1}"
    )
    console.print(f"{len(values)} procedures, {sum(values)} successes")
    console.print(f"s = {design.s:.4f} · h = {curve.h:.4f} ({curve.limit} limit)")
    console.print(f"competence: {where}")
    console.print(f"CUSUM    {' '.join(f'{x:.2f}' for x in curve.scores)}")
    console.print(f"LC-CUSUM {' '.join(f'{x:.2f}' for x in curve.lc_scores)}")


@app.command()
@requires("training.education.own")
def reminders(
    user: Annotated[str | None, typer.Option("--user", help="Whose reminders (default: everyone's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Continuing-education requirements and radiation-protection refreshers due or overdue."""
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow
    from painguide.training.service import reminders as due

    actor = cli_principal()
    with open_uow() as uow:
        found = due(uow, actor, user, everyone=user is None)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in found], ensure_ascii=False))
        return
    if not found:
        typer.echo("nothing due")
    for r in found:
        mark = "OVERDUE" if r.overdue else "due"
        when = r.due_on.isoformat() if r.due_on else "-"
        typer.echo(f"{r.person:<16} {mark:<8} {when}  {r.message}")


@app.command()
@requires("training.logbook.own")
def logbook(
    operator: Annotated[
        str | None, typer.Option("--operator", help="Whose logbook (default: your own).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """An operator's logbook: counts per procedure, modality and setting, from the care pathway's records."""
    from painguide.commands.guard import cli_principal
    from painguide.services import open_uow
    from painguide.training.service import get_logbook

    with open_uow() as uow:
        view = get_logbook(uow, cli_principal(), operator)
    if as_json:
        typer.echo(json.dumps(view.to_dict(), ensure_ascii=False))
        return
    typer.echo(f"logbook of {view.operator}")
    for e in view.entries:
        typer.echo(
            f"  {e.procedure_id:<22} {e.modality:<12} {e.setting:<9} n={e.count:<3} "
            f"supervised={e.supervised:<3} success={e.successes:<3} failure={e.failures:<3} "
            f"not assessable={e.not_assessable}"
        )
