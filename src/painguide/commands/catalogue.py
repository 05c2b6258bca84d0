"""`painguide catalogue list|show`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(
    help="The procedure catalogue (procedures × modalities, with sources).", no_args_is_help=True
)


@app.command("list")
@requires("catalogue.read")
def list_procedures(
    region: Annotated[str | None, typer.Option(help="Only this region (e.g. lumbar).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every enabled procedure."""
    from painguide.catalogue.loader import load_catalogue
    from painguide.settings import get_settings

    procs = [p for p in load_catalogue(get_settings().site_policy).enabled() if region in (None, p.region)]
    if as_json:
        typer.echo(json.dumps([p.summary() for p in procs], indent=2, ensure_ascii=False))
        return
    from painguide.commands.render import print_procedure_list

    print_procedure_list(procs)


@app.command("show")
@requires("catalogue.read")
def show(
    procedure: Annotated[str, typer.Argument(help="Procedure id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one procedure with every modality, its sources and statuses."""
    from painguide.advisor import find_procedure
    from painguide.catalogue.loader import iter_sources, load_knowledge
    from painguide.settings import get_settings

    kb = load_knowledge(get_settings().site_policy)
    proc = find_procedure(kb, procedure)
    if as_json:
        data = proc.model_dump(mode="json")
        data["sources"] = {
            k: kb.catalogue.sources[k].citation
            for k in sorted({src for _, src in iter_sources(data)})
            if k in kb.catalogue.sources
        }
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from painguide.commands.render import print_procedure

    print_procedure(proc, kb.catalogue)
