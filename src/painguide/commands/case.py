"""`painguide case show|list`: a case's timeline and unmet reasons; cases by stage."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(
    help="Care-pathway cases: timeline, stage, next step and unmet gates.", no_args_is_help=True
)


@app.command("show")
@requires("case.read")
def show(
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a case: stage, next step, every unmet reason, overrides and the timeline."""
    from painguide.commands.guard import cli_principal
    from painguide.pathway.service import get_case
    from painguide.services import open_uow

    with open_uow() as uow:
        view = get_case(uow, cli_principal(), case_id)
    data = view.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    _print_case(data)


def _print_case(data: dict[str, Any]) -> None:
    patient, case = data["patient"], data["case"]
    typer.echo(
        f"case {data['id']} · patient {patient['pseudonym']} ({patient['sex']}, born {patient['birth_year']})"
    )
    typer.echo(f"{case['complaint']} · {case['region']} · {case['side']} · NRS {case['nrs']}")
    policy = data["policy"]
    typer.echo(f"policy: {policy['set']} · radiation frame {policy['frame']}")
    typer.echo(f"stage: {data['stage']} · next step: {data['next_step'] or '-'}")
    if data["procedure"]:
        proc = data["procedure"]
        what = f"{proc['procedure']} ({proc['modality']})"
        typer.echo(f"procedure: {what} · accession {proc['accession_number']} · {proc['status']}")
    for unmet in data["unmet"]:
        typer.secho(
            f"  unmet {unmet['code']}: {unmet['message']} [{unmet['source'] or '-'}]", fg=typer.colors.RED
        )
    for item in data["overridden"]:
        typer.secho(f"  overridden {item['code']}: {item['message']}", fg=typer.colors.YELLOW)
    for override in data["overrides"]:
        typer.secho(
            f"  override {override['code']} by {override['by']} at {override['at']}: {override['reason']}",
            fg=typer.colors.YELLOW,
        )
    typer.echo("timeline:")
    for item in data["timeline"]:
        typer.echo(f"  {item['at'][:16]}  {item['by']:<12} {item['kind']:<20} {_summary(item)}")


def _summary(item: dict[str, Any]) -> str:
    data = item["data"]
    if item["kind"] == "refusal":
        return f"{data['step']} refused: " + ", ".join(u["code"] for u in data["unmet"])
    for key in ("procedure", "modality", "code", "accession_number", "finding", "findings", "type", "test"):
        if key in data and data[key] is not None:
            return f"{key} {data[key]}"
    return ""


@app.command("list")
@requires("case.read")
def list_(
    stage: Annotated[
        str | None,
        typer.Option(
            help="Only cases in this stage (workup, planning, preparation, ready, follow_up, closed)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Cases per page (1-200).")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many cases.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List cases newest first, optionally of one stage."""
    from painguide.commands.guard import cli_principal
    from painguide.pathway.service import list_cases
    from painguide.services import open_uow

    with open_uow() as uow:
        page = list_cases(uow, cli_principal(), stage=stage, limit=limit, offset=offset)
    if as_json:
        out = {
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
            "cases": [c.to_dict() for c in page.items],
        }
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{page.total} case(s)")
    for c in page.items:
        typer.echo(
            f"{c.id}\t{c.pseudonym}\t{c.stage}\t{c.next_step or '-'}\t{c.procedure or '-'}\t{c.complaint}"
        )
