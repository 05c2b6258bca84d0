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
