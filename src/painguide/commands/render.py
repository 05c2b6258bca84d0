"""Rich rendering of catalogue entries and recommendations for people at a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from painguide.advisor.models import Recommendation, rrl_label
from painguide.catalogue.models import MODALITIES, Catalogue, Procedure

__all__ = ["print_procedure", "print_procedure_list", "print_recommendation"]

DISCLAIMER = "painguide supports decisions; the physician decides."
_BAND_STYLE = {
    "usually appropriate": "green",
    "may be appropriate": "yellow",
    "usually not appropriate": "red",
}


def print_procedure_list(procedures: list[Procedure], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"Procedure catalogue ({len(procedures)})")
    for col in ("id", "name", "region", "bleeding risk", "modalities used"):
        table.add_column(col)
    for p in procedures:
        table.add_row(p.id, p.name, p.region, p.bleeding_risk.value or "?", ", ".join(p.used_modalities()))
    console.print(table)


def print_procedure(proc: Procedure, catalogue: Catalogue, console: Console | None = None) -> None:
    console = console or Console()
    console.print(
        Panel(
            f"[bold]{proc.names['en']}[/] / {proc.names['de']}\n"
            f"id {proc.id} · region {proc.region} · target {proc.target}\n"
            f"bleeding risk (ASRA): {proc.bleeding_risk.value} [{proc.bleeding_risk.label}]"
        )
    )
    table = Table(title="Modalities")
    for col in ("modality", "used", "role", "rating", "contrast", "radiation", "evidence"):
        table.add_column(col)
    for m in MODALITIES:
        e = proc.modalities[m]
        notes = "\n".join(f"• {n.text} [{n.source}, {n.status}]" for n in e.evidence)
        if e.typical_dose:
            d = e.typical_dose
            notes += (
                f"\n• typical dose: DAP {d.dap_gy_cm2} Gy·cm², {d.fluoro_time_s} s [{d.source}, {d.status}]"
            )
        table.add_row(
            m,
            "yes" if e.used else "no",
            f"{e.role.value} [{e.role.label}]",
            str(catalogue.base_rating(e).value),
            str(e.contrast.value),
            rrl_label(int(e.radiation_level.value or 0)),
            notes.strip(),
        )
    console.print(table)
    for n in proc.evidence:
        console.print(f"• {n.text} [{n.source}, {n.status}]")


def print_recommendation(rec: Recommendation, console: Console | None = None) -> None:
    console = console or Console()
    risk = (
        rec.bleeding_risk
        if rec.bleeding_risk == rec.base_bleeding_risk
        else (f"{rec.bleeding_risk} (raised from {rec.base_bleeding_risk})")
    )
    console.print(
        Panel(f"[bold]{rec.procedure_name}[/] ({rec.procedure}) · bleeding risk: {risk}", subtitle=DISCLAIMER)
    )
    table = Table(title="Modalities, best first")
    for col in ("#", "modality", "rating", "band", "radiation", "contrast", "why"):
        table.add_column(col)
    for i, m in enumerate(rec.modalities, 1):
        why = "\n".join(
            f"{'+' if r.delta > 0 else ''}{r.delta or ''} {r.text} [{r.source or '—'}, {r.status}]".strip()
            for r in m.reasons
        )
        style = _BAND_STYLE[m.band]
        table.add_row(
            str(i),
            m.modality,
            f"[{style}]{m.rating}[/]",
            f"[{style}]{m.band}[/]",
            rrl_label(m.radiation_level),
            m.contrast,
            why,
        )
    console.print(table)
    if rec.anticoagulation:
        at = Table(title="Anticoagulation plan")
        for col in ("drug", "action", "plan", "source"):
            at.add_column(col)
        for plan in rec.anticoagulation:
            at.add_row(plan.drug, plan.action, plan.text, f"{plan.source}, {plan.status}")
        console.print(at)
    for w in rec.warnings:
        console.print(f"[yellow]⚠ {w.code}[/]: {w.text} [{w.source or '—'}, {w.status}]")
