"""`painguide case show|list`: a case's timeline and unmet reasons; cases by stage.

`painguide case link|unlink|unlinked|procedure`: dose reports and ultrasound analyses linked to procedures.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(
    help="Care-pathway cases: timeline, stage, next step and unmet gates.", no_args_is_help=True
)


def _echo_page(total: int, limit: int, offset: int, key: str, items: list[object]) -> None:
    """One page of a listing as JSON: its total, limit and offset, and the items under ``key``."""
    out = {"total": total, "limit": limit, "offset": offset, key: items}
    typer.echo(json.dumps(out, indent=2, ensure_ascii=False))


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
        _echo_page(page.total, page.limit, page.offset, "cases", [c.to_dict() for c in page.items])
        return
    typer.echo(f"{page.total} case(s)")
    for c in page.items:
        typer.echo(
            f"{c.id}\t{c.pseudonym}\t{c.stage}\t{c.next_step or '-'}\t{c.procedure or '-'}\t{c.complaint}"
        )


_KIND = Annotated[str | None, typer.Argument(help="What to link by hand: dose (a dose report) or sono.")]


@app.command("link")
@requires("case.link")
def link(
    kind: _KIND = None,
    item_id: Annotated[int | None, typer.Argument(help="Id of the dose report or analysis.")] = None,
    to: Annotated[str | None, typer.Option(help="Accession number of the procedure to link to.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept on the case timeline).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Link every unlinked dose report and analysis by the rules, or one by hand (KIND ID --to ACCESSION)."""
    from painguide.commands.guard import cli_principal
    from painguide.errors import ValidationError
    from painguide.services import open_uow

    if kind is None:
        from painguide.pathway.link_service import link_pending

        with open_uow() as uow:
            summary = link_pending(uow, cli_principal())
        data = summary.to_dict()
        if as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        typer.echo(
            f"{data['items']} unlinked item(s): {data['linked']} linked, {data['ambiguous']} ambiguous, "
            f"{data['conflict']} conflicting, {data['unmatched']} without a procedure"
        )
        for d in summary.decisions:
            if d.outcome == "linked":
                typer.echo(f"  {d.item.kind} {d.item.id} → procedure {d.procedure_id} ({d.method})")
        return
    if item_id is None or not to:
        raise ValidationError("--to", "give KIND ID --to ACCESSION to link one item by hand")
    from painguide.pathway.link_service import link_item

    with open_uow() as uow:
        view = link_item(uow, cli_principal(), kind=kind, item_id=item_id, accession_number=to, reason=reason)
    if as_json:
        typer.echo(json.dumps(view.to_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"{kind} {item_id} linked to {view.accession_number} (procedure {view.id}, case {view.case_id})"
    )


@app.command("unlink")
@requires("case.link")
def unlink(
    kind: Annotated[str, typer.Argument(help="dose or sono.")],
    item_id: Annotated[int, typer.Argument(help="Id of the dose report or analysis.")],
    reason: Annotated[str | None, typer.Option(help="Why (kept on the case timeline).")] = None,
) -> None:
    """Unlink a dose report or analysis by hand; automatic linking will not propose that procedure again."""
    from painguide.commands.guard import cli_principal
    from painguide.pathway.link_service import unlink_item
    from painguide.services import open_uow

    with open_uow() as uow:
        accessions = unlink_item(uow, cli_principal(), kind=kind, item_id=item_id, reason=reason)
    typer.echo(f"{kind} {item_id} unlinked from {', '.join(accessions)}")


@app.command("unlinked")
@requires("case.link")
def unlinked(
    kind: Annotated[str | None, typer.Option(help="Only dose or only sono.")] = None,
    limit: Annotated[int, typer.Option(help="Items per page (1-500).")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many items.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List dose reports and analyses linked to no procedure, with the reason and the candidates."""
    from painguide.commands.guard import cli_principal
    from painguide.pathway.link_service import list_unlinked
    from painguide.services import open_uow

    with open_uow() as uow:
        page = list_unlinked(uow, cli_principal(), kind=kind, limit=limit, offset=offset)
    if as_json:
        _echo_page(page.total, page.limit, page.offset, "items", [i.to_dict() for i in page.items])
        return
    typer.echo(f"{page.total} unlinked item(s)")
    for i in page.items:
        when = i.at.isoformat()[:16] if i.at else "-"
        candidates = f" [{', '.join(i.candidates)}]" if i.candidates else ""
        typer.echo(f"{i.kind} {i.id}\t{i.patient_id or '-'}\t{when}\t{i.outcome}: {i.reason}{candidates}")


@app.command("procedure")
@requires("case.read")
def procedure(
    accession_number: Annotated[str, typer.Argument(help="Accession number of the procedure.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A procedure with its linked dose totals against reference levels and ultrasound warnings."""
    from painguide.commands.guard import cli_principal
    from painguide.pathway.link_service import get_procedure_links
    from painguide.services import open_uow

    with open_uow() as uow:
        view = get_procedure_links(uow, cli_principal(), accession_number)
    data = view.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"{data['accession_number']} · {data['procedure']} ({data['modality']}) · {data['status']} · "
        f"case {data['case_id']}"
    )
    typer.echo(f"study {data['study_instance_uid'] or '-'}")
    dose = view.dose
    if dose:
        typer.echo(
            f"dose: {dose['reports']} report(s), DAP {dose['dap_total_gy_cm2']} Gy·cm², "
            f"fluoro {dose['fluoro_time_s']} s, DLP {dose['dlp_total_mgy_cm']} mGy·cm"
        )
    for c in view.comparisons:
        flag = "ABOVE" if c["exceeded"] else "below"
        typer.echo(f"  {flag} {c['reference']}: {c['value']:g} vs {c['level']:g} ({c['ratio']:.2f}×)")
    for w in view.warnings:
        typer.secho(
            f"  review: {w['message']} at {w['time_s']} s (analysis {w['analysis_id']}, {w['review']})",
            fg=typer.colors.YELLOW,
        )
