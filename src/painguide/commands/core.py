"""Top-level commands: advise, env-info, serve."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from painguide.commands.guard import requires

__all__ = ["register_core"]


class AspirinIndication(StrEnum):
    primary = "primary"
    secondary = "secondary"


def advise(
    procedure: Annotated[
        str, typer.Argument(help="Procedure id, e.g. lumbar-tfesi (see `painguide catalogue list`).")
    ],
    pregnant: Annotated[bool, typer.Option("--pregnant", help="Patient is pregnant.")] = False,
    breastfeeding: Annotated[bool, typer.Option("--breastfeeding", help="Patient is breastfeeding.")] = False,
    contrast_allergy: Annotated[
        bool, typer.Option("--contrast-allergy", help="Iodinated contrast allergy.")
    ] = False,
    egfr: Annotated[float | None, typer.Option("--egfr", help="eGFR in mL/min/1.73 m².")] = None,
    bmi: Annotated[float | None, typer.Option("--bmi", help="Body-mass index in kg/m².")] = None,
    age: Annotated[float | None, typer.Option("--age", help="Age in years.")] = None,
    drug: Annotated[
        list[str] | None, typer.Option("--drug", help="Antithrombotic drug by generic name; repeat.")
    ] = None,
    aspirin_indication: Annotated[
        AspirinIndication | None, typer.Option("--aspirin-indication", help="Why the patient takes aspirin.")
    ] = None,
    high_bleeding_risk: Annotated[
        bool, typer.Option("--high-bleeding-risk", help="Patient at high bleeding risk.")
    ] = False,
    renal_impairment: Annotated[bool, typer.Option("--renal-impairment", help="Renal impairment.")] = False,
    prior_fusion: Annotated[bool, typer.Option("--prior-fusion", help="Prior fusion at the level.")] = False,
    spinal_hardware: Annotated[
        bool, typer.Option("--spinal-hardware", help="Spinal hardware in the field.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Rank the guidance modalities of PROCEDURE for one patient, with reasons, warnings and an
    anticoagulation plan."""
    from painguide.advisor import PatientFactors, recommend
    from painguide.catalogue.loader import load_knowledge
    from painguide.settings import get_settings

    factors = PatientFactors(
        pregnant=pregnant,
        breastfeeding=breastfeeding,
        contrast_allergy=contrast_allergy,
        egfr=egfr,
        bmi=bmi,
        age=age,
        drugs=tuple(drug or ()),
        aspirin_indication=aspirin_indication.value if aspirin_indication else None,
        high_bleeding_risk=high_bleeding_risk,
        renal_impairment=renal_impairment,
        prior_fusion=prior_fusion,
        spinal_hardware=spinal_hardware,
    )
    rec = recommend(load_knowledge(get_settings().site_policy), procedure, factors)
    if as_json:
        typer.echo(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
        return
    from painguide.commands.render import print_recommendation

    print_recommendation(rec)


def env_info(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print versions of painguide, Python and the libraries it relies on, and where data is kept."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from painguide.settings import get_settings

    names = [
        "painguide",
        "numpy",
        "scipy",
        "opencv-python-headless",
        "pydicom",
        "pynetdicom",
        "SQLAlchemy",
        "alembic",
        "fastapi",
        "uvicorn",
        "typer",
        "rich",
        "pydantic",
        "fhir.resources",
        "pyigtl",
        "plotly",
    ]
    info: dict[str, object] = {"python": platform.python_version(), "platform": platform.platform()}
    for name in names:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = None
    settings = get_settings()
    info["data_dir"] = str(settings.data_dir)
    info["database"] = settings.effective_database_url.split("@")[-1]
    info["demo"] = settings.demo
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="painguide environment", show_header=False)
    for key, value in info.items():
        table.add_row(key, "—" if value is None else str(value))
    Console().print(table)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (1-65535).", min=1, max=65535)] = 8000,
    demo: Annotated[
        bool | None, typer.Option("--demo/--no-demo", help="Demo mode (seeds demo users and data).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="Worker processes (one core each). Live ultrasound sessions are kept in one process: "
            "use 1 where they are used.",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log each request's method, path (without its query) and status. Off by default: reads "
            "of patient data are in the audit log.",
        ),
    ] = False,
) -> None:
    """Serve the web app (migrations are applied first; demo data is added in demo mode)."""
    import os

    from painguide.settings import get_settings

    if demo is not None:
        os.environ["PAINGUIDE_DEMO"] = "1" if demo else "0"
        get_settings.cache_clear()
    from painguide.web.app import create_app

    application = create_app()  # checks the settings, migrates and seeds once, before any worker starts
    typer.echo(f"painguide serving on http://{host}:{port}/  (demo={get_settings().demo}, workers={workers})")
    if workers == 1:
        from painguide.web.serving import serve as serve_here

        serve_here(application, host, port, access_log=access_log)
        return
    typer.echo(
        "note: live ultrasound sessions are kept in the process that started them; with several workers a "
        "live view may reach another process (serve with --workers 1 where live sessions are used)",
        err=True,
    )
    from painguide.web.serving import serve_workers

    # the workers inherit the environment (settings, demo flag) and build the app without migrating
    serve_workers(host, port, workers, access_log=access_log)


def register_core(app: typer.Typer) -> None:
    """Attach the top-level commands to the main app."""
    app.command("advise")(requires("advise")(advise))
    app.command("env-info")(requires("system.info")(env_info))
    app.command("serve")(requires("system.serve")(serve))
