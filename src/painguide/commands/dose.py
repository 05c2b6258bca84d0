"""`painguide dose inspect|import|import-orthanc|remap|list|alerts|drl`: dose reports from the command line.

The module imports only Typer at load time; pydicom, SQLAlchemy and Rich load inside the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from painguide.commands.guard import requires

if TYPE_CHECKING:
    from painguide.dose.models import DoseReport, SkinDose, StoredReport
    from painguide.dose.service import ImportSummary

__all__ = ["app", "report_json", "stored_json"]

app = typer.Typer(
    help="Radiation dose reports (RDSR): inspect, import (files, Orthanc), list, alerts, reference levels.",
    no_args_is_help=True,
)

_FILES = Annotated[list[Path], typer.Argument(help="RDSR files.", exists=False, dir_okay=False)]
_JSON = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
_STRICT = Annotated[
    bool | None,
    typer.Option(
        "--strict/--lenient", help="Refuse reports with malformed values (default: PAINGUIDE_STRICT_DICOM)."
    ),
]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def report_json(report: DoseReport, file: str, skin: SkinDose | None = None) -> dict[str, object]:
    """The ``dose inspect --json`` object of one report (the documented CLI contract).

    Parameters
    ----------
    report : DoseReport
        The parsed report.
    file : str
        The file name as given on the command line.
    skin : SkinDose, optional
        The peak skin dose estimate (or why there is none).

    Returns
    -------
    dict
        Keys ``file, sop_instance_uid, kind, manufacturer, model, study_datetime, events, dap_total_gy_cm2,
        fluoro_dap_gy_cm2, acquisition_dap_gy_cm2, rp_dose_total_mgy, fluoro_time_s, acquisition_time_s,
        dlp_total_mgy_cm, peak_skin_dose_mgy, peak_skin_dose_note, event_list, warnings`` plus descriptive
        extras; ``None`` where absent.
    """
    totals = report.totals
    events = []
    for event in report.events:
        item = asdict(event)
        item["started"] = _iso(event.started)
        events.append(item)
    return {
        "file": file,
        "sop_instance_uid": report.sop_instance_uid,
        "kind": report.kind.value,
        "manufacturer": report.device.manufacturer,
        "model": report.device.model,
        "station": report.device.station,
        "study_datetime": _iso(report.study_datetime),
        "study_instance_uid": report.study_instance_uid,
        "accession_number": report.accession_number,
        "patient_id": report.patient.patient_id,
        "study_description": report.study_description,
        "procedure_descriptions": list(report.procedure_descriptions),
        "template_id": report.template_id,
        "events": totals.event_count,
        "dap_total_gy_cm2": totals.dap_total_gy_cm2,
        "fluoro_dap_gy_cm2": totals.fluoro_dap_gy_cm2,
        "acquisition_dap_gy_cm2": totals.acquisition_dap_gy_cm2,
        "rp_dose_total_mgy": totals.rp_dose_total_mgy,
        "fluoro_time_s": totals.fluoro_time_s,
        "acquisition_time_s": totals.acquisition_time_s,
        "dlp_total_mgy_cm": totals.dlp_total_mgy_cm,
        "peak_skin_dose_mgy": skin.peak_skin_dose_mgy if skin else None,
        "peak_skin_dose_note": skin.note if skin else "not estimated",
        "event_list": events,
        "warnings": [str(w) for w in report.warnings],
    }


def _strict(strict: bool | None) -> bool:
    if strict is not None:
        return strict
    from painguide.settings import get_settings

    return get_settings().strict_dicom


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


@app.command("inspect")
@requires("dose.inspect")
def inspect(
    files: _FILES,
    as_json: _JSON = False,
    strict: _STRICT = None,
    skin_dose: Annotated[
        bool, typer.Option("--skin-dose/--no-skin-dose", help="Estimate the peak skin dose (pyskindose).")
    ] = True,
) -> None:
    """Read RDSR files and show their totals, peak skin dose and events; nothing is stored.

    Every file is read; a file that cannot be read gives ``{"file", "error"}`` and the command exits with
    status 3 after reading all files.
    """
    from painguide.dose.rdsr import read_dose_report
    from painguide.dose.skin import skin_dose_or_reason
    from painguide.errors import DicomError
    from painguide.settings import get_settings

    results: list[dict[str, object]] = []
    for path in files:
        if not path.is_file():
            results.append({"file": str(path), "error": "no such file"})
            continue
        try:
            data = path.read_bytes()
            report = read_dose_report(data, strict=_strict(strict))
        except DicomError as exc:
            results.append({"file": str(path), "error": str(exc)})
            continue
        except OSError as exc:
            results.append({"file": str(path), "error": f"cannot open: {exc.strerror or exc}"})
            continue
        skin = None
        if skin_dose:
            skin = skin_dose_or_reason(data, report, work_dir=get_settings().data_dir / "pyskindose")
        results.append(report_json(report, str(path), skin))
    if as_json:
        typer.echo(json.dumps(results, indent=2))
    else:
        _print_inspect_table(results)
    if any("error" in result for result in results):
        raise typer.Exit(code=3)


def _print_inspect_table(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Dose reports ({len(results)} files)")
    for column in (
        "file",
        "kind",
        "device",
        "study",
        "events",
        "DAP Gy·cm²",
        "RP mGy",
        "fluoro s",
        "DLP mGy·cm",
        "PSD mGy",
    ):
        table.add_column(column)
    table.add_column("warnings / error")
    for r in results:
        if "error" in r:
            table.add_row(Path(r["file"]).name, *[""] * 9, f"[red]{r['error']}[/]")
            continue
        device = " ".join(x for x in (r["manufacturer"], r["model"]) if x)
        table.add_row(
            Path(r["file"]).name,
            r["kind"],
            device,
            r["study_datetime"] or "—",
            str(r["events"]),
            _fmt(r["dap_total_gy_cm2"]),
            _fmt(r["rp_dose_total_mgy"]),
            _fmt(r["fluoro_time_s"]),
            _fmt(r["dlp_total_mgy_cm"]),
            _fmt(r["peak_skin_dose_mgy"]),
            f"{len(r['warnings'])} warnings (see --json)" if r["warnings"] else "",
        )
    console = Console()
    console.print(table)
    for r in results:
        if "error" not in r and r["peak_skin_dose_mgy"] is None:
            console.print(f"{Path(r['file']).name}: peak skin dose {r['peak_skin_dose_note']}")


@app.command("import")
@requires("dose.import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders (recursive) or zip archives.")],
    strict: _STRICT = None,
    as_json: _JSON = False,
) -> None:
    """Import dose reports into the database (idempotent on SOP Instance UID).

    Files that cannot be imported are copied into the quarantine folder with a ``.reason.txt``. Exit status
    is 0 when nothing was quarantined and 3 otherwise.
    """
    from painguide.dose.service import ZipLimits, collect_sources, import_sources
    from painguide.services import open_uow
    from painguide.settings import get_settings

    settings = get_settings()
    sources, problems = collect_sources(
        paths, limits=ZipLimits.from_settings(), quarantine_dir=settings.quarantine_dir
    )
    with _progress_bar(len(sources), disable=as_json) as progress:
        summary = import_sources(
            sources,
            uow_factory=open_uow,
            quarantine_dir=settings.quarantine_dir,
            strict=_strict(strict),
            actor="cli",
            progress=progress,
            batch_size=settings.dose_import_batch_size,
        )
    summary.outcomes[:0] = problems
    _print_import_summary(summary, as_json, str(settings.quarantine_dir))
    if summary.quarantined:
        raise typer.Exit(code=3)


@contextmanager
def _progress_bar(total: int | None, *, disable: bool) -> Iterator[Callable[[int, int, str], None]]:
    """A Rich progress bar on standard error; yields the ``progress(done, total, label)`` callback.

    Disabled (``--json``), Rich is not even loaded (start-up time of a one-file import).
    """
    if disable:
        yield lambda _done, _total, _label: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True, disable=disable) as bar:
        task = bar.add_task("import", total=total)
        yield lambda done, total, _label: bar.update(task, completed=done, total=total)


@app.command("import-orthanc")
@requires("dose.import")
def import_orthanc(
    url: Annotated[str, typer.Argument(help="Orthanc REST API, e.g. http://pacs:8042.")],
    user: Annotated[str | None, typer.Option(help="User for HTTP basic authentication.")] = None,
    password: Annotated[
        str | None, typer.Option(help="Password (default: PAINGUIDE_ORTHANC_PASSWORD, else prompted).")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only studies on or after this day.")
    ] = None,
    strict: _STRICT = None,
    as_json: _JSON = False,
) -> None:
    """Import dose reports from an Orthanc server (idempotent on SOP Instance UID).

    Exit status as for ``dose import``: 0, or 3 when anything was quarantined.
    """
    import os

    from painguide.dose.orthanc import import_from_orthanc
    from painguide.services import open_uow
    from painguide.settings import get_settings

    if user and password is None:
        password = os.environ.get("PAINGUIDE_ORTHANC_PASSWORD") or typer.prompt("Password", hide_input=True)
    settings = get_settings()
    with _progress_bar(None, disable=as_json) as progress:
        summary, skipped = import_from_orthanc(
            url, uow_factory=open_uow, quarantine_dir=settings.quarantine_dir, user=user,
            password=password, since=since.date() if since else None, strict=_strict(strict),
            actor="cli", progress=progress,
        )  # fmt: skip
    _print_import_summary(summary, as_json, str(settings.quarantine_dir), skipped=skipped)
    if summary.quarantined:
        raise typer.Exit(code=3)


def _print_import_summary(
    summary: ImportSummary, as_json: bool, quarantine_dir: str, *, skipped: int | None = None
) -> None:
    refused = [o for o in summary.outcomes if o.status == "quarantined"]
    if as_json:
        payload: dict[str, object] = {
            "imported": summary.imported,
            "duplicates": summary.duplicates,
            "quarantined": summary.quarantined,
            "quarantine_dir": quarantine_dir,
            "refused": [
                {
                    "source": o.label,
                    "reason": o.reason,
                    "copy": str(o.quarantined_as) if o.quarantined_as else None,
                }
                for o in refused
            ],
        }
        if skipped is not None:
            payload["skipped_not_dose"] = skipped
        typer.echo(json.dumps(payload, indent=2))
        return
    from rich.console import Console

    console = Console()
    console.print(
        f"imported [bold green]{summary.imported}[/] · duplicates [bold]{summary.duplicates}[/] · "
        f"quarantined [bold {'red' if refused else 'white'}]{summary.quarantined}[/]"
        + (f" · skipped {skipped} SR instances that are not dose reports" if skipped else "")
    )
    for outcome in refused:
        console.print(f"[red]✗[/] {outcome.label}: {outcome.reason}")
    if refused:
        console.print(f"quarantine folder: {quarantine_dir}")


@app.command("remap")
@requires("dose.remap")
def remap(as_json: _JSON = False) -> None:
    """Map every stored report to a catalogue procedure id again (after editing the alias list)."""
    from painguide.dose.service import remap_procedure_types
    from painguide.services import open_uow

    result = remap_procedure_types(open_uow, actor="cli")
    if as_json:
        typer.echo(
            json.dumps({"reports": result.total, "changed": result.changed, "unmapped": result.unmapped})
        )
        return
    typer.echo(f"{result.total} reports · {result.changed} changed · {result.unmapped} unmapped")


@app.command("skin")
@requires("dose.import")
def skin(
    limit: Annotated[int | None, typer.Option(min=1, help="Estimate at most this many reports.")] = None,
    as_json: _JSON = False,
) -> None:
    """Estimate the peak skin doses the import left pending (pyskindose, about a second per report)."""
    from painguide.dose.service import estimate_pending_skin_doses
    from painguide.services import open_uow

    result = estimate_pending_skin_doses(open_uow, actor="cli", limit=limit)
    if as_json:
        payload = {
            "estimated": result.estimated,
            "not_estimable": result.not_estimable,
            "pending": result.pending,
        }
        typer.echo(json.dumps(payload))
        return
    typer.echo(
        f"{result.estimated} estimated · {result.not_estimable} not estimable · {result.pending} pending"
    )


@app.command("list")
@requires("dose.reports.read")
def list_(
    patient: Annotated[str | None, typer.Option(help="Only this Patient ID.")] = None,
    study: Annotated[str | None, typer.Option(help="Only this Study Instance UID.")] = None,
    procedure: Annotated[
        str | None, typer.Option(help="Only this catalogue procedure id, or 'unmapped'.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many reports.")] = 500,
    as_json: _JSON = False,
) -> None:
    """List stored dose reports, newest study first."""
    from painguide.dose.service import list_stored
    from painguide.services import open_uow

    stored = list_stored(
        open_uow, patient_id=patient, study_instance_uid=study, procedure_type=procedure, limit=limit,
        actor="cli",
    )  # fmt: skip
    rows = [stored_json(item) for item in stored]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Stored dose reports ({len(rows)})")
    for column in (
        "id",
        "study",
        "patient",
        "procedure",
        "kind",
        "device",
        "operator",
        "DAP Gy·cm²",
        "RP mGy",
    ):
        table.add_column(column)
    table.add_column("DLP mGy·cm")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["study_datetime"] or "—",
            r["patient_id"] or "—",
            r["procedure_type"] or "—",
            r["kind"],
            r["device"] or "—",
            r["operator"] or "—",
            _fmt(r["dap_total_gy_cm2"]),
            _fmt(r["rp_dose_total_mgy"]),
            _fmt(r["dlp_total_mgy_cm"]),
        )
    Console().print(table)


def stored_json(item: StoredReport) -> dict[str, Any]:
    """The ``dose list --json`` object of one stored report."""
    report = item.report
    device = " ".join(
        x for x in (report.device.manufacturer, report.device.model, report.device.station) if x
    )
    return {
        "id": item.id,
        "sop_instance_uid": report.sop_instance_uid,
        "kind": report.kind.value,
        "study_instance_uid": report.study_instance_uid,
        "study_datetime": _iso(report.study_datetime),
        "accession_number": report.accession_number,
        "patient_id": report.patient.patient_id,
        "procedure_type": item.procedure_type,
        "device": device or None,
        "operator": report.operator,
        "events": report.totals.event_count,
        "dap_total_gy_cm2": report.totals.dap_total_gy_cm2,
        "rp_dose_total_mgy": report.totals.rp_dose_total_mgy,
        "fluoro_time_s": report.totals.fluoro_time_s,
        "dlp_total_mgy_cm": report.totals.dlp_total_mgy_cm,
        "warnings": len(report.warnings),
        "source": item.source,
    }


@app.command("alerts")
@requires("dose.dashboard")
def alerts(
    dap: Annotated[
        float | None, typer.Option(help="DAP alert level in Gy·cm² (default: OpenREM 200).")
    ] = None,
    rp: Annotated[
        float | None, typer.Option(help="Reference-point dose alert level in mGy (default 2000).")
    ] = None,
    window_weeks: Annotated[
        int | None, typer.Option(min=1, help="Per-patient rolling window (default 12).")
    ] = None,
    psd: Annotated[
        float | None, typer.Option(help="Peak skin dose alert level in mGy (default 2000).")
    ] = None,
    as_json: _JSON = False,
) -> None:
    """High-dose alerts: single reports and per-patient sums over the rolling window."""
    from datetime import timedelta

    from painguide.dose.review import alert_list
    from painguide.services import open_uow

    window = timedelta(weeks=window_weeks) if window_weeks else None
    result = alert_list(
        open_uow, actor="cli", dap_alert_gy_cm2=dap, rp_alert_mgy=rp, window=window, skin_alert_mgy=psd
    )
    levels = result.levels
    rows: list[dict[str, Any]] = [
        {
            "scope": a.scope,
            "quantity": a.quantity,
            "value": a.value,
            "threshold": a.threshold,
            "patient_id": a.patient_id,
            "report_ids": list(a.report_ids),
            "window_start": _iso(a.window_start),
            "window_end": _iso(a.window_end),
            "source": a.source,
        }
        for a in result.alerts
    ]
    if as_json:
        header = {
            "dap_gy_cm2": levels.dap_gy_cm2,
            "rp_dose_mgy": levels.rp_dose_mgy,
            "peak_skin_dose_mgy": levels.peak_skin_dose_mgy,
            "source": levels.source,
        }
        payload = {"levels": header | {"window_days": levels.window.days}, "alerts": rows}
        typer.echo(json.dumps(payload, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    title = (
        f"Dose alerts (DAP ≥ {_fmt(levels.dap_gy_cm2)} Gy·cm², RP ≥ {_fmt(levels.rp_dose_mgy)} mGy, "
        f"PSD ≥ {_fmt(levels.peak_skin_dose_mgy)} mGy, window {levels.window.days} d; {levels.source})"
    )
    table = Table(title=title)
    for column in ("scope", "patient", "quantity", "value", "level", "reports", "until"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["scope"], r["patient_id"] or "—", r["quantity"], _fmt(r["value"]), _fmt(r["threshold"]),
            ", ".join(map(str, r["report_ids"])), r["window_end"] or "—",
        )  # fmt: skip
    Console().print(table)


@app.command("drl")
@requires("dose.dashboard")
def drl(as_json: _JSON = False) -> None:
    """Local DRLs (median per procedure type) beside the published reference levels."""
    from painguide.dose.review import drl_exceedances, drl_table
    from painguide.services import open_uow

    result = drl_table(open_uow)
    local: list[dict[str, Any]] = [
        {"procedure_type": d.procedure_type, "quantity": d.quantity, "median": d.median, "count": d.count}
        for d in result.local_drls
    ]
    published: list[dict[str, Any]] = [
        {
            "id": lv.id,
            "procedure_type": lv.procedure_type,
            "description": lv.description,
            "quantity": lv.quantity,
            "value": lv.value,
            "unit": lv.unit,
            "published": lv.published,
            "source": lv.source,
            "status": lv.status,
        }
        for lv in result.reference.levels
    ]
    above = drl_exceedances(open_uow, result)
    if as_json:
        exceeded = [
            {"report_id": c.report_id, "reference": c.reference, "value": c.value, "level": c.level}
            for c in above
        ]
        typer.echo(json.dumps({"local": local, "published": published, "exceeded": exceeded}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Local DRLs (median of this site's reports)")
    for column in ("procedure type", "quantity", "median", "reports"):
        table.add_column(column)
    for d in local:
        table.add_row(d["procedure_type"], d["quantity"], _fmt(d["median"]), str(d["count"]))
    console.print(table)
    ref = Table(title="Published reference levels")
    for column in ("procedure type", "description", "level", "source", "status"):
        ref.add_column(column)
    for p in published:
        ref.add_row(
            p["procedure_type"] or "—", p["description"], p["published"], p["source"] or "—", p["status"]
        )
    console.print(ref)
    console.print(f"{len(above)} comparisons above a reference level")
