"""``painguide fhir export``: one case as a FHIR R4 Bundle, or every case as NDJSON per resource type.

Command contract
----------------
``painguide fhir export --case ID [--out FILE]`` prints the Bundle (JSON) or writes it to ``FILE``.
``painguide fhir export --all --out DIR`` writes ``DIR/<ResourceType>.ndjson``, one resource per line (the
FHIR bulk-data layout), and prints one line per file with its count. Exit 2 on a bad option or unknown case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["app"]

app = typer.Typer(help="FHIR R4 export of cases (Bundle or NDJSON).", no_args_is_help=True)


@app.command("export")
@requires("fhir.export")
def export(
    case: Annotated[int | None, typer.Option("--case", help="Export this case as a Bundle.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Export every case as NDJSON files.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="File (--case) or folder (--all).")] = None,
) -> None:
    """Export a case as a FHIR Bundle, or every case as NDJSON (one file per resource type)."""
    from painguide.commands.guard import cli_principal
    from painguide.errors import ValidationError
    from painguide.interop.service import export_all, export_case
    from painguide.services import open_uow

    if (case is None) == (not everything):
        raise ValidationError("--case", "give either --case ID or --all --out DIR")
    with open_uow() as uow:
        if case is not None:
            bundle = export_case(uow, cli_principal(), case)
            text = bundle.model_dump_json(exclude_none=True, indent=2)
            if out is None:
                typer.echo(text)
            else:
                out.write_text(text + "\n", encoding="utf-8")
                typer.echo(f"{out}: Bundle with {len(bundle.entry or [])} resources")
            return
        if out is None:
            raise ValidationError("--out", "--all writes one NDJSON file per resource type: name a folder")
        lines = export_all(uow, cli_principal())
    out.mkdir(parents=True, exist_ok=True)
    for kind, items in sorted(lines.items()):
        path = out / f"{kind}.ndjson"
        path.write_text("".join(f"{line}\n" for line in items), encoding="utf-8")
        typer.echo(f"{path}: {len(items)} {kind}")
