"""Procedure and quality reports as language-neutral structures (pure): sections of labelled values.

Labels are English message ids (marked with :func:`N_` for the catalogue); values are text, numbers, dates
or times. The HTML page and the PDF render the same structure, translating labels and formatting values
in the reader's language, so both say the same thing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from painguide.i18n.marks import N_
from painguide.interop.records import CaseRecord
from painguide.training.records import PerformedCase, complications_of

__all__ = [
    "N_",
    "Message",
    "Names",
    "ProcedureReport",
    "QualityReport",
    "Row",
    "Section",
    "Warnings",
    "procedure_report",
    "quality_report",
]


@dataclass(frozen=True, slots=True)
class Names:
    """A text that the data holds in several languages (a catalogue name); shown in the reader's language."""

    texts: tuple[tuple[str, str], ...]
    suffix: str = ""

    @classmethod
    def of(cls, names: dict[str, str], suffix: str = "") -> Names:
        return cls(tuple(sorted(names.items())), suffix)

    def get(self, language: str) -> str:
        """The text in ``language``, else the English one, else any."""
        found = dict(self.texts)
        text = found.get(language) or found.get("en") or next(iter(found.values()), "")
        return text + self.suffix


@dataclass(frozen=True, slots=True)
class Message:
    """A sentence with placeholders (an English message id marked with :func:`N_`), translated when shown."""

    text: str
    variables: tuple[tuple[str, int | float | str], ...] = ()


@dataclass(frozen=True, slots=True)
class Warnings:
    """Ultrasound warnings: event types with the second of the cine they came at, labelled when shown."""

    items: tuple[tuple[str, float | None], ...]


Value = str | int | float | date | datetime | Names | Message | Warnings | None


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled value; ``data`` marks values that are data (shown as written, not translated)."""

    label: str
    value: Value
    warn: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of rows, or a table (``columns`` and ``table``)."""

    title: str
    rows: tuple[Row, ...] = ()
    columns: tuple[str, ...] = ()
    table: tuple[tuple[Value, ...], ...] = ()
    note: str | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProcedureReport:
    """The report of one case's procedure."""

    case_id: int
    title: Names
    sections: tuple[Section, ...]
    issued: datetime


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The quality report of a period."""

    start: date
    end: date
    sections: tuple[Section, ...]
    issued: datetime
    extra: dict[str, object] = field(default_factory=dict)


def _patient(record: CaseRecord) -> Section:
    p = record.patient
    return Section(
        N_("Patient"),
        (
            Row(N_("Pseudonym"), p.pseudonym),
            Row(N_("Name"), p.name),
            Row(N_("Birth year"), str(p.birth_year)),  # a year, not a number to group by thousands
            Row(N_("Sex"), p.sex),
        ),
    )


def _indication(record: CaseRecord) -> Section:
    info, ind = record.info, record.indication
    rows = [
        Row(N_("Complaint"), info.complaint),
        Row(N_("Region and side"), f"{info.region}, {info.side}"),
        Row(N_("Baseline NRS"), info.nrs),
        Row(
            N_("Baseline disability"),
            f"{info.disability_scale} {info.disability_score:g} %"
            if info.disability_score is not None
            else None,
        ),
    ]
    if ind is not None:
        rows += [
            Row(N_("Procedure"), Names.of(_names(record), suffix=f" ({ind.procedure})")),
            Row(N_("Levels"), ", ".join(ind.levels) or None),
            Row(N_("Rationale"), ind.rationale),
            Row(N_("Indicated by"), f"{ind.physician}, {ind.on.isoformat()}"),
        ]
    return Section(N_("Indication"), tuple(rows))


def _modality(record: CaseRecord) -> Section:
    plan = record.plan
    if plan is None:
        return Section(N_("Modality and why"), (Row(N_("Plan"), N_("no plan recorded"), warn=True),))
    chosen: dict[str, Any] = next(
        (m for m in plan.ranking.get("modalities", []) if m.get("modality") == plan.modality), {}
    )
    rows = [
        Row(N_("Modality"), plan.modality),
        Row(N_("Advisor's rating"), f"{chosen.get('rating', '—')} ({chosen.get('band', '—')})"),
        Row(N_("Top-ranked modality"), plan.top_modality),
        Row(N_("Why not the top-ranked one"), plan.reason),
    ]
    reasons = [r.get("text") for r in chosen.get("reasons", []) if r.get("text")]
    return Section(N_("Modality and why"), tuple(rows), note="; ".join(str(r) for r in reasons[:6]) or None)


def _justification(record: CaseRecord) -> Section | None:
    j = record.justification
    if j is None:
        return None
    q = j.qualification
    return Section(
        N_("Radiation justification"),
        (
            Row(N_("Signed by"), f"{j.physician}, {j.on.isoformat()}"),
            Row(N_("Alternative considered"), j.alternative),
            Row(N_("Not chosen because"), j.alternative_not_chosen_because),
            Row(
                N_("Qualification"),
                f"{q.certificate} (valid until {q.valid_until.isoformat()})" if q else None,
                warn=q is None,
            ),
            Row(N_("Legal frame"), j.frame),
        ),
    )


def _consent(record: CaseRecord) -> Section:
    c = record.consent
    if c is None:
        return Section(N_("Consent"), (Row(N_("Consent"), N_("no consent recorded"), warn=True),))
    rows = [
        Row(N_("Given by"), f"{c.given_by} ({c.relation})"),
        Row(N_("Informed by"), f"{c.informed_by}, {c.on.isoformat()}"),
        Row(N_("Alternatives"), c.alternatives),
        Row(N_("Risks"), c.risks),
        Row(N_("Radiation explained"), N_("yes") if c.radiation_explained else N_("no")),
    ]
    if record.revocation is not None:
        rows.append(Row(N_("Revoked"), record.revocation.on.isoformat(), warn=True))
    return Section(N_("Consent"), tuple(rows))


def _technique(performed: PerformedCase) -> Section:
    r = performed.record
    drugs = "; ".join(
        f"{d.name} {d.dose or ''} {f'{d.volume_ml:g} mL' if d.volume_ml is not None else ''}".strip()
        for d in r.drugs
    )
    contrast = (
        f"{r.contrast} {r.contrast_volume_ml:g} mL"
        if r.contrast and r.contrast_volume_ml is not None
        else r.contrast
    )
    return Section(
        N_("Technique"),
        (
            Row(N_("Performed"), r.performed_at),
            Row(N_("Operator"), r.operator),
            Row(N_("Supervisor"), r.supervisor),
            Row(N_("Modality"), r.modality),
            Row(N_("Levels and side"), " ".join([*r.levels, r.side])),
            Row(N_("Needle"), r.needle),
            Row(N_("Contrast"), contrast),
            Row(N_("Drugs"), drugs or None),
            Row(N_("Accession number"), performed.accession_number),
        ),
    )


def _dose(record: CaseRecord) -> Section | None:
    if not record.doses:
        return None
    table = []
    for d in record.doses:
        comparisons = record.drl.get(str(d.report_id), [])
        against = "; ".join(
            f"{c['reference']}: {c['value']:.3g} / {c['level']:.3g} ({100 * c['ratio']:.0f} %)"
            + (" !" if c["exceeded"] else "")
            for c in comparisons
        )
        table.append(
            (
                d.report_id,
                d.dap_total_gy_cm2,
                d.fluoro_time_s,
                d.rp_dose_total_mgy,
                d.dlp_total_mgy_cm,
                against or None,
            )
        )
    return Section(
        N_("Radiation dose"),
        columns=(
            N_("Report"),
            N_("DAP (Gy·cm²)"),
            N_("Fluoroscopy time (s)"),
            N_("Reference-point dose (mGy)"),
            N_("DLP (mGy·cm)"),
            N_("Against reference levels (value / level)"),
        ),
        table=tuple(table),
        note=N_(
            "Local DRL: the median of this site's own reports of the procedure type; "
            "a published level where one applies."
        ),
    )


def _ultrasound(record: CaseRecord) -> Section | None:
    if not record.cines:
        return None
    table = tuple(
        (
            c.analysis_id,
            c.frames,
            round(100 * c.needle_visible_fraction),
            round(c.max_spread_area_mm2),
            Warnings(c.warnings) if c.warnings else None,
        )
        for c in record.cines
    )
    links = tuple(s for c in record.cines for s in c.stills)
    return Section(
        N_("Ultrasound"),
        columns=(
            N_("Analysis"),
            N_("Frames"),
            N_("Needle visible (%)"),
            N_("Largest spread (mm²)"),
            N_("Warnings"),
        ),
        table=table,
        links=links,
    )


def _follow_up(performed: PerformedCase) -> Section:
    table = tuple(
        (
            f.due_on,
            f.days_after,
            f.result.nrs if f.result else None,
            f.result.pgic if f.result else None,
            f"{s.scale} {s.score:g} %" if s else None,
        )
        for f, s in performed.follow_ups
    )
    return Section(
        N_("Follow-up plan"),
        columns=(N_("Due"), N_("Days after"), "NRS", "PGIC", "ODI/NDI"),
        table=table,
        note=None if table else N_("No follow-ups scheduled."),
    )


def procedure_report(record: CaseRecord, *, issued: datetime) -> ProcedureReport:
    """The procedure report of one case (sections that have nothing to show are left out)."""
    sections: list[Section | None] = [
        _patient(record),
        _indication(record),
        _modality(record),
        _justification(record),
        _consent(record),
    ]
    performed = record.performed
    if performed is not None:
        complications = complications_of(performed.record)
        sections += [
            _technique(performed),
            _dose(record),
            _ultrasound(record),
            Section(
                N_("Complications"),
                (
                    Row(
                        N_("Complications"),
                        "; ".join(complications) or N_("none recorded"),
                        warn=bool(complications),
                    ),
                ),
            ),
        ]
    if record.overrides:
        table = tuple((o.code, o.reason, o.by, o.at) for o in record.overrides)
        sections.append(
            Section(N_("Overrides"), columns=(N_("Code"), N_("Reason"), N_("By"), N_("When")), table=table)
        )
    if performed is not None:
        sections.append(_follow_up(performed))
    title = Names.of(_names(record))
    return ProcedureReport(record.case_id, title, tuple(s for s in sections if s is not None), issued)


def _names(record: CaseRecord) -> dict[str, str]:
    return dict(record.procedure_names) or {"en": record.name("en")}


def _share(counter: Counter[Any], total: int) -> tuple[tuple[Value, ...], ...]:
    return tuple((key, n, round(100 * n / total, 1) if total else None) for key, n in counter.most_common())


def quality_report(
    cases: Sequence[PerformedCase],
    *,
    start: date,
    end: date,
    issued: datetime,
    dose_rows: Iterable[tuple[Value, ...]] = (),
    responder_rows: Iterable[tuple[Value, ...]] = (),
    warning_rows: Iterable[tuple[Value, ...]] = (),
) -> QualityReport:
    """Volumes, modality mix, dose against reference levels, responders, complications, US warnings."""
    total = len(cases)
    volumes = Counter(c.procedure_id for c in cases)
    mix = Counter(c.modality for c in cases)
    operators = Counter(c.operator for c in cases)
    complicated = [
        (c.case_id, c.performed_at.date(), c.procedure_id, c.modality, "; ".join(complications_of(c.record)))
        for c in cases
        if complications_of(c.record)
    ]
    sections = (
        Section(
            N_("Volumes"),
            (Row(N_("Procedures performed"), total), Row(N_("Operators"), len(operators))),
            columns=(N_("Procedure"), N_("Count"), N_("Share (%)")),
            table=_share(volumes, total),
        ),
        Section(
            N_("Modality mix"),
            columns=(N_("Modality"), N_("Count"), N_("Share (%)")),
            table=_share(mix, total),
        ),
        Section(
            N_("Dose against reference levels"),
            columns=(
                N_("Procedure type"),
                N_("Reports"),
                N_("Median DAP (Gy·cm²)"),
                N_("Local DRL"),
                N_("Above a reference level"),
            ),
            table=tuple(dose_rows),
            note=N_(
                "Dose reports of the period; the local DRL is the median of all of this site's reports "
                "of the type."
            ),
        ),
        Section(
            N_("Responder rates"),
            columns=(
                N_("Group"),
                N_("Follow-ups"),
                N_(">= 30 % NRS reduction"),
                N_(">= 50 % NRS reduction"),
                N_("PGIC much or very much improved"),
            ),
            table=tuple(responder_rows),
            note=N_(
                "Responders among evaluable follow-ups with 95 % Wilson intervals; groups differ in case mix."
            ),
        ),
        Section(
            N_("Complications"),
            (Row(N_("Procedures with complications"), len(complicated), warn=bool(complicated)),),
            columns=(N_("Case"), N_("Day"), N_("Procedure"), N_("Modality"), N_("Complications")),
            table=tuple(complicated),
        ),
        Section(
            N_("Ultrasound warnings and their follow-up"),
            columns=(
                N_("Analysis"),
                N_("Day"),
                N_("Warnings"),
                N_("Case"),
                N_("Complications"),
                N_("Follow-up"),
            ),
            table=tuple(warning_rows),
            note=N_(
                "Analyses of the period with a warning, the case they belong to (by Study Instance UID or "
                "link), and what was recorded after."
            ),
        ),
    )
    return QualityReport(start, end, sections, issued)
