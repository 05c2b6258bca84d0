"""Linking use cases: dose reports and ultrasound analyses to the procedure they belong to.

Automatic linking runs after a dose import or a stored analysis has committed (its own transaction, so a
linking problem never loses an import) and as a pass over everything unlinked (``painguide case link``).
The rules are :func:`painguide.pathway.linking.decide`; what they cannot decide is listed for manual
linking. Every link and unlink is audited (action ``case.link``) and written on the case timeline.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypedDict

from painguide.auth import User, authorize
from painguide.dose.models import NOT_ESTIMATED, SOME_MISSING, SUMMED, PeakSkinNote, SkinDose
from painguide.dose.reference import DoseSample, LocalDrl, compare, load_reference_data
from painguide.errors import NotFoundError, ValidationError
from painguide.i18n.input_errors import one_of
from painguide.i18n.marks import N_
from painguide.pathway.linking import ItemKind, LinkDecision, LinkItem, ProcedureKey, decide
from painguide.pathway.service import PageOf
from painguide.settings import get_settings
from painguide.store.dose_tables import DoseReportRow
from painguide.store.link_repository import add_link, remove_link
from painguide.store.pathway_tables import ProcedureRow
from painguide.store.sono_tables import SonoAnalysisRow
from painguide.store.uow import UnitOfWork

__all__ = [
    "DOSE_FIELDS",
    "REPORT_FIELDS",
    "SONO_WARNINGS",
    "LinkSummary",
    "ProcedureLinks",
    "UnlinkedItem",
    "get_procedure_links",
    "link_dose_reports",
    "link_item",
    "link_pending",
    "link_sono_analysis",
    "list_unlinked",
    "procedure_links",
    "unlink_item",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

ITEM_KINDS: tuple[ItemKind, ...] = ("dose", "sono")
#: Dose totals of a procedure, under the field names of ``painguide dose inspect --json``.
DOSE_FIELDS = (
    "dap_total_gy_cm2",
    "fluoro_dap_gy_cm2",
    "acquisition_dap_gy_cm2",
    "rp_dose_total_mgy",
    "fluoro_time_s",
    "acquisition_time_s",
    "dlp_total_mgy_cm",
)
#: Per linked report, besides the totals: its identity under the names ``dose inspect --json`` uses.
REPORT_FIELDS = (
    "sop_instance_uid",
    "kind",
    "manufacturer",
    "model",
    "station",
    "study_datetime",
    "study_instance_uid",
    "accession_number",
)
#: Ultrasound warnings (every warning type of ``painguide.sono.pipeline.WARNING_TYPES``) shown on the
#: procedure as events to review.
SONO_WARNINGS = {
    "no_visible_spread": "no visible spread",
    "spread_away_from_tip": "spread away from tip",
    "vessel_near_path": "vessel near the needle path",
    "fluid_in_vessel": "fluid in a vessel",
    "cine_ended_without_spread": "cine ended without spread",
}
_CINE_NAME = re.compile(r"^[0-9a-f]{32}\.dcm$")


@dataclass(frozen=True, slots=True)
class LinkSummary:
    """What one linking run decided."""

    decisions: list[LinkDecision] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """How many items ended with ``outcome``."""
        return sum(1 for d in self.decisions if d.outcome == outcome)

    def to_dict(self) -> dict[str, object]:
        outcomes = ("linked", "ambiguous", "conflict", "unmatched")
        return {
            "items": len(self.decisions),
            **{outcome: self.count(outcome) for outcome in outcomes},
            "decisions": [_decision_dict(d) for d in self.decisions],
        }


def _decision_dict(d: LinkDecision) -> dict[str, object]:
    return {
        "kind": d.item.kind,
        "id": d.item.id,
        "outcome": d.outcome,
        "procedure_id": d.procedure_id,
        "method": d.method,
        "candidates": list(d.candidates),
        "reason": d.reason,
    }


def _window() -> timedelta:
    hours = get_settings().link_window_hours
    if not 0 < hours <= 24 * 14:
        raise ValidationError("PAINGUIDE_LINK_WINDOW_HOURS", f"give 0-336 hours (got {hours:g})")
    return timedelta(hours=hours)


def _zone() -> tzinfo:
    return get_settings().site_zone()


# ------------------------------------------------------------------------------------------- items


def _dicom_datetime(day: str, clock: str, zone: tzinfo) -> datetime | None:
    """A DICOM DA and TM (local) as a UTC time; ``None`` when the date is missing or malformed."""
    day, clock = day.strip(), clock.strip().split(".")[0]
    if len(day) != 8 or not day.isdigit():
        return None
    digits = (clock + "000000")[:6] if clock.isdigit() else "000000"
    try:
        local = datetime(int(day[:4]), int(day[4:6]), int(day[6:]), int(digits[:2]), int(digits[2:4]),
                         int(digits[4:]), tzinfo=zone)  # fmt: skip
    except ValueError:
        return None
    return local.astimezone(UTC)


def _sono_item(row: SonoAnalysisRow, zone: tzinfo) -> LinkItem:
    """An analysis as a link item: its Study Instance UID, and what the kept cine's header says.

    The header's accession number, patient id and study time are read only when it describes the study
    the analysis is stored under (an analysis attached to another study keeps only that study's UID).
    """
    accession = patient = None
    at = None
    name = row.cine_file or ""
    if _CINE_NAME.match(name):
        from painguide.sono.service import cine_dir

        path = cine_dir() / name
        if path.is_file():
            import pydicom

            try:
                header = pydicom.dcmread(path, stop_before_pixels=True)
                own = str(header.get("StudyInstanceUID", "") or "")
                if row.study_instance_uid and own != row.study_instance_uid:
                    # attached to another study by hand: the header describes the file's own study
                    return LinkItem("sono", row.id, None, row.study_instance_uid, None, None, "ultrasound")
                accession = str(header.get("AccessionNumber", "") or "") or None
                patient = str(header.get("PatientID", "") or "") or None
                day = str(header.get("StudyDate", "") or header.get("SeriesDate", "") or "")
                clock = str(header.get("StudyTime", "") or header.get("SeriesTime", "") or "")
                at = _dicom_datetime(day, clock, zone)
            except Exception as exc:  # a damaged kept file leaves only the stored UID to link by
                log.warning("ultrasound analysis %s: cannot read the kept cine's header: %s", row.id, exc)
    return LinkItem("sono", row.id, accession, row.study_instance_uid, patient, at, "ultrasound")


def _items(uow: UnitOfWork, kind: ItemKind, ids: Collection[int] | None) -> list[LinkItem]:
    if kind == "dose":
        return uow.links.dose_items(ids, _zone())
    zone = _zone()
    return [_sono_item(row, zone) for row in uow.links.sono_rows(ids)]


def _decide_all(uow: UnitOfWork, items: Sequence[LinkItem]) -> list[LinkDecision]:
    keys: list[ProcedureKey] = uow.links.procedure_keys(items)
    excluded = uow.links.excluded_by_hand([k.id for k in keys])
    window = _window()
    return [decide(i, keys, window=window, excluded=excluded.get((i.kind, i.id), set())) for i in items]


def _entry(row: ProcedureRow, kind: ItemKind, item_id: int, **extra: object) -> dict[str, object]:
    return {
        "item_kind": kind,
        "item_id": item_id,
        "procedure_id": row.id,
        "accession_number": row.accession_number,
        **extra,
    }


def _warnings_of(uow: UnitOfWork, kind: ItemKind, item_id: int) -> list[str]:
    if kind != "sono":
        return []
    rows = uow.links.sono_rows([item_id])
    return [
        SONO_WARNINGS[str(e.get("type"))] for r in rows for e in r.events if e.get("type") in SONO_WARNINGS
    ]


def _link(
    uow: UnitOfWork, row: ProcedureRow, kind: ItemKind, item_id: int, *, actor: str, method: str, reason: str
) -> None:
    """Link one item: the procedure's list, a timeline entry and an audit entry (the caller commits)."""
    add_link(row, kind, item_id)
    data = _entry(row, kind, item_id, method=method, reason=reason)
    if warnings := _warnings_of(uow, kind, item_id):
        data["warnings"] = warnings  # shown on the case as an event to review
    uow.pathway.add_entry(row.case_id, "link", data, actor=actor, at=datetime.now(UTC))
    uow.audit.record(actor, "case.link", "procedure", str(row.id), data)


def _apply(uow: UnitOfWork, decisions: Sequence[LinkDecision], *, actor: str) -> None:
    for d in decisions:
        if d.linked and d.procedure_id is not None and d.method is not None:
            row = uow.pathway.procedure(d.procedure_id)
            assert row is not None
            _link(uow, row, d.item.kind, d.item.id, actor=actor, method=d.method, reason=d.reason)


# ----------------------------------------------------------------------------------- automatic links


def link_dose_reports(uow: UnitOfWork, report_ids: Collection[int], *, actor: str) -> LinkSummary:
    """Link newly imported dose reports (called by the dose import after its commit; commits).

    The import was authorised (``dose.import``); each link is audited under the importing actor.
    """
    if not report_ids:
        return LinkSummary()
    linked = uow.links.linked_items("dose")
    items = [i for i in _items(uow, "dose", report_ids) if i.id not in linked]
    decisions = _decide_all(uow, items)
    _apply(uow, decisions, actor=actor)
    uow.commit()
    return LinkSummary(decisions)


def link_sono_analysis(uow: UnitOfWork, analysis_id: int, *, actor: str) -> LinkDecision:
    """Link a newly stored ultrasound analysis (called by the sono store service after its commit)."""
    decisions = _decide_all(uow, _items(uow, "sono", [analysis_id]))
    _apply(uow, decisions, actor=actor)
    uow.commit()
    return decisions[0]


def link_pending(uow: UnitOfWork, actor: User, *, kinds: Sequence[ItemKind] = ITEM_KINDS) -> LinkSummary:
    """Try every unlinked dose report and analysis again (``painguide case link``); commits.

    For items stored before their procedure was scheduled, or after a procedure's identifiers changed.
    """
    authorize(actor, "case.link")
    decisions: list[LinkDecision] = []
    for kind in kinds:
        items = _items(uow, kind, uow.links.unlinked_ids(kind))
        decisions.extend(_decide_all(uow, items))
    _apply(uow, decisions, actor=actor.username)
    summary = LinkSummary(decisions)
    counts = {k: v for k, v in summary.to_dict().items() if k != "decisions"}
    uow.audit.record(actor.username, "case.link", "procedure", "*", {"pass": True, **counts})
    uow.commit()
    return summary


# -------------------------------------------------------------------------------------- manual links


def _kind(kind: str) -> ItemKind:
    if kind not in ITEM_KINDS:
        raise one_of("kind", ITEM_KINDS, kind)
    return "dose" if kind == "dose" else "sono"


def _procedure(uow: UnitOfWork, accession_number: str) -> ProcedureRow:
    row = uow.pathway.procedure_by_accession(accession_number.strip())
    if row is None:
        raise NotFoundError(
            f"accession number {accession_number!r}: no scheduled procedure has it; check the number"
        )
    return row


def _existing(uow: UnitOfWork, kind: ItemKind, item_id: int) -> None:
    if not uow.links.item_exists(kind, item_id):
        what = "dose report" if kind == "dose" else "ultrasound analysis"
        raise NotFoundError(
            f"{what} {item_id} does not exist; list unlinked items with `painguide case unlinked`"
        )


def link_item(
    uow: UnitOfWork, actor: User, *, kind: str, item_id: int, accession_number: str, reason: str | None = None
) -> ProcedureLinks:
    """Link an item to the procedure with this accession number by hand (moving it from another one)."""
    authorize(actor, "case.link")
    item_kind = _kind(kind)
    _existing(uow, item_kind, item_id)
    target = _procedure(uow, accession_number)
    now = datetime.now(UTC)
    for row in uow.links.procedures_holding(item_kind, item_id):
        if row.id != target.id:
            remove_link(row, item_kind, item_id)
            data = _entry(row, item_kind, item_id, reason=f"moved to {target.accession_number}")
            uow.pathway.add_entry(row.case_id, "unlink", data, actor=actor.username, at=now)
    _link(uow, target, item_kind, item_id, actor=actor.username, method="manual", reason=reason or "by hand")
    uow.commit()
    return procedure_links(uow, target)


def unlink_item(
    uow: UnitOfWork, actor: User, *, kind: str, item_id: int, reason: str | None = None
) -> list[str]:
    """Unlink an item from its procedure by hand; automatic linking will not propose that one again.

    Returns the accession numbers it was unlinked from.
    """
    authorize(actor, "case.link")
    item_kind = _kind(kind)
    _existing(uow, item_kind, item_id)
    rows = uow.links.procedures_holding(item_kind, item_id)
    if not rows:
        raise ValidationError(
            "item_id", N_("%(kind)s %(id)s is not linked to any procedure"), kind=kind, id=item_id
        )
    now = datetime.now(UTC)
    for row in rows:
        remove_link(row, item_kind, item_id)
        data = _entry(row, item_kind, item_id, reason=reason or "by hand")
        uow.pathway.add_entry(row.case_id, "unlink", data, actor=actor.username, at=now)
        uow.audit.record(actor.username, "case.unlink", "procedure", str(row.id), data)
    uow.commit()
    return [row.accession_number for row in rows]


# ------------------------------------------------------------------------------------------ listings


@dataclass(frozen=True, slots=True)
class UnlinkedItem:
    """An item linked to no procedure, with what automatic linking says about it."""

    kind: ItemKind
    id: int
    patient_id: str | None
    at: datetime | None
    accession_number: str | None
    study_instance_uid: str | None
    outcome: str
    reason: str
    candidates: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "id": self.id,
            "patient_id": self.patient_id,
            "at": self.at.isoformat() if self.at else None,
            "accession_number": self.accession_number,
            "study_instance_uid": self.study_instance_uid,
            "outcome": self.outcome,
            "reason": self.reason,
            "candidates": list(self.candidates),
        }


def list_unlinked(
    uow: UnitOfWork, actor: User, *, kind: str | None = None, limit: int = 50, offset: int = 0
) -> PageOf[UnlinkedItem]:
    """Dose reports and analyses linked to no procedure, newest first, with the reason and candidates.

    An item the rules would link (its procedure was scheduled after it arrived) says so: run the pass.
    """
    authorize(actor, "case.link")
    if not 1 <= limit <= 500:
        raise ValidationError("limit", N_("give 1-%(max)s"), max=500)
    if offset < 0:
        raise ValidationError("offset", N_("give 0 or more"))
    kinds = ITEM_KINDS if kind is None else (_kind(kind),)
    ids = [(k, i) for k in kinds for i in uow.links.unlinked_ids(k)]
    page = ids[offset : offset + limit]
    items = [item for k in kinds for item in _items(uow, k, [i for kk, i in page if kk == k])]
    decisions = {(d.item.kind, d.item.id): d for d in _decide_all(uow, items)}
    accession = {k.id: k.accession_number for k in uow.links.procedure_keys(items)}
    rows = []
    for item in sorted(items, key=lambda i: page.index((i.kind, i.id))):
        d = decisions[(item.kind, item.id)]
        reason = "the rules now find its procedure: run `painguide case link`" if d.linked else d.reason
        rows.append(
            UnlinkedItem(
                item.kind, item.id, item.patient_id, item.at, item.accession_number, item.study_instance_uid,
                d.outcome, reason, tuple(accession.get(c, str(c)) for c in d.candidates),
            )
        )  # fmt: skip
    uow.audit.record(actor.username, "case.link.list", "procedure", "*", {"shown": len(rows)})
    uow.commit()
    return PageOf(rows, len(ids), limit, offset)


# ---------------------------------------------------------------------------------- procedure view


class DoseFieldsJson(TypedDict):
    """The dose quantities under the field names of ``painguide dose inspect --json``."""

    dap_total_gy_cm2: float | None
    fluoro_dap_gy_cm2: float | None
    acquisition_dap_gy_cm2: float | None
    rp_dose_total_mgy: float | None
    fluoro_time_s: float | None
    acquisition_time_s: float | None
    dlp_total_mgy_cm: float | None
    peak_skin_dose_mgy: float | None
    peak_skin_dose_note: str


class DoseTotalsJson(DoseFieldsJson):
    """The linked reports summed, under the field names of ``painguide dose inspect --json``."""

    events: int
    reports: int


class DoseReportJson(DoseFieldsJson):
    """One linked report under the field names of ``dose inspect --json`` (plus its stored ``id``)."""

    id: int
    sop_instance_uid: str
    kind: str
    manufacturer: str | None
    model: str | None
    station: str | None
    study_datetime: str | None
    study_instance_uid: str | None
    accession_number: str | None
    events: int | None
    review: str


class ComparisonJson(TypedDict):
    """The summed dose against one reference level (published DRL or the site's local median)."""

    reference: str
    quantity: str
    value: float
    level: float
    ratio: float
    exceeded: bool
    source: str | None
    status: str


class SonoWarningJson(TypedDict):
    """An ultrasound warning of a linked analysis: an event to review."""

    analysis_id: int
    type: str
    message: str
    time_s: float | None
    review: str


@dataclass(frozen=True, slots=True)
class ProcedureLinks:
    """A procedure with its linked dose (totals against the local DRL) and ultrasound events to review."""

    id: int
    case_id: int
    accession_number: str
    procedure: str
    modality: str
    status: str
    scheduled_at: datetime
    performed_at: datetime | None
    study_instance_uid: str | None
    dose_report_ids: tuple[int, ...]
    sono_analysis_ids: tuple[int, ...]
    dose: DoseTotalsJson | None
    dose_reports: list[DoseReportJson]
    comparisons: list[ComparisonJson]
    warnings: list[SonoWarningJson]
    skin_note: PeakSkinNote | None = None
    """The note on the summed peak skin dose for a page (the API carries its English text in ``dose``)."""

    @property
    def local_drl(self) -> ComparisonJson | None:
        """The comparison of the summed dose with the site's local DRL (the median of its own reports)."""
        return next((c for c in self.comparisons if c["reference"].startswith("local-median:")), None)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "accession_number": self.accession_number,
            "procedure": self.procedure,
            "modality": self.modality,
            "status": self.status,
            "scheduled_at": self.scheduled_at.isoformat(),
            "performed_at": self.performed_at.isoformat() if self.performed_at else None,
            "study_instance_uid": self.study_instance_uid,
            "dose_report_ids": list(self.dose_report_ids),
            "sono_analysis_ids": list(self.sono_analysis_ids),
            "dose": self.dose,
            "dose_reports": self.dose_reports,
            "local_drl": self.local_drl,
            "comparisons": self.comparisons,
            "warnings": self.warnings,
        }


def _sum(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present), 6) if present else None


def _report_dict(report: DoseReportRow, skin: SkinDose) -> DoseReportJson:
    """One linked report under the field names of ``dose inspect --json`` (plus its stored ``id``)."""
    study = report.study_datetime
    return {
        "id": report.id,
        "sop_instance_uid": report.sop_instance_uid,
        "kind": report.kind,
        "manufacturer": report.manufacturer,
        "model": report.model,
        "station": report.station_name,
        "study_datetime": study.isoformat() if study is not None else None,
        "study_instance_uid": report.study_instance_uid,
        "accession_number": report.accession_number,
        "events": report.event_count,
        "dap_total_gy_cm2": report.dap_total_gy_cm2,
        "fluoro_dap_gy_cm2": report.fluoro_dap_gy_cm2,
        "acquisition_dap_gy_cm2": report.acquisition_dap_gy_cm2,
        "rp_dose_total_mgy": report.rp_dose_total_mgy,
        "fluoro_time_s": report.fluoro_time_s,
        "acquisition_time_s": report.acquisition_time_s,
        "dlp_total_mgy_cm": report.dlp_total_mgy_cm,
        "peak_skin_dose_mgy": skin.peak_skin_dose_mgy,
        "peak_skin_dose_note": skin.note,
        "review": f"/dose/reports/{report.id}",
    }


def _peak_total(skins: Sequence[tuple[int, SkinDose]]) -> tuple[float | None, PeakSkinNote]:
    """The procedure's peak skin dose: the one report's, or the sum of all (an upper bound), else why not."""
    if len(skins) == 1:
        return skins[0][1].peak_skin_dose_mgy, PeakSkinNote(None, tuple(skins))
    missing = tuple((i, skin) for i, skin in skins if skin.peak_skin_dose_mgy is None)
    if missing:
        return None, PeakSkinNote(SOME_MISSING, missing)
    return _sum([skin.peak_skin_dose_mgy for _, skin in skins]), PeakSkinNote(SUMMED, count=len(skins))


def _totals(reports: Sequence[DoseReportRow], peak: float | None, note: PeakSkinNote) -> DoseTotalsJson:
    return {
        "events": sum(r.event_count or 0 for r in reports),
        "dap_total_gy_cm2": _sum([r.dap_total_gy_cm2 for r in reports]),
        "fluoro_dap_gy_cm2": _sum([r.fluoro_dap_gy_cm2 for r in reports]),
        "acquisition_dap_gy_cm2": _sum([r.acquisition_dap_gy_cm2 for r in reports]),
        "rp_dose_total_mgy": _sum([r.rp_dose_total_mgy for r in reports]),
        "fluoro_time_s": _sum([r.fluoro_time_s for r in reports]),
        "acquisition_time_s": _sum([r.acquisition_time_s for r in reports]),
        "dlp_total_mgy_cm": _sum([r.dlp_total_mgy_cm for r in reports]),
        "peak_skin_dose_mgy": peak,
        "peak_skin_dose_note": note.english,
        "reports": len(reports),
    }


def _dose(
    uow: UnitOfWork, row: ProcedureRow
) -> tuple[DoseTotalsJson | None, list[DoseReportJson], list[ComparisonJson], PeakSkinNote | None]:
    """Summed totals of the linked reports, each report, the comparisons with reference levels and the
    local DRL (the median of the site's reports of this procedure type), and the peak skin dose's note."""

    reports = uow.links.dose_values(row.dose_report_ids)
    if not reports:
        return None, [], [], None
    stored = uow.links.skin_values([r.id for r in reports])
    skins = [(r.id, stored.get(r.id) or SkinDose(None, NOT_ESTIMATED)) for r in reports]
    each = [_report_dict(r, skin) for r, (_, skin) in zip(reports, skins, strict=True)]
    peak, note = _peak_total(skins)
    totals = _totals(reports, peak, note)
    kind = "ct" if all(r.kind == "ct" for r in reports) else reports[0].kind
    sample = DoseSample(
        report_id=reports[0].id, patient_id=row.patient_pseudonym, study_datetime=reports[0].study_datetime,
        procedure_type=row.procedure, kind=kind, device=None, operator=None,
        dap_total_gy_cm2=totals["dap_total_gy_cm2"], rp_dose_total_mgy=totals["rp_dose_total_mgy"],
        dlp_total_mgy_cm=totals["dlp_total_mgy_cm"], fluoro_time_s=totals["fluoro_time_s"],
    )  # fmt: skip
    quantity = "dlp" if kind == "ct" else "dap"
    values = uow.links.type_values(row.procedure, quantity=quantity)
    local = None  # no local DRL until the site has reports of this procedure type
    if values:
        local = {row.procedure: LocalDrl(row.procedure, quantity, statistics.median(values), len(values))}
    comparisons = compare(sample, load_reference_data(), local)
    return (
        totals,
        each,
        [
            {
                "reference": c.reference,
                "quantity": c.quantity,
                "value": c.value,
                "level": c.level,
                "ratio": round(c.ratio, 3),
                "exceeded": c.exceeded,
                "source": c.source,
                "status": c.status,
            }
            for c in comparisons
        ],
        note,
    )


def _warnings(uow: UnitOfWork, row: ProcedureRow) -> list[SonoWarningJson]:
    found: list[SonoWarningJson] = []
    for analysis in uow.links.sono_rows(row.sono_analysis_ids):
        for event in analysis.events:
            kind = str(event.get("type"))
            if kind in SONO_WARNINGS:
                time_s = event.get("time_s")
                found.append(
                    {
                        "analysis_id": analysis.id,
                        "type": kind,
                        "message": SONO_WARNINGS[kind],
                        "time_s": time_s if isinstance(time_s, int | float) else None,
                        "review": f"/sono/review/{analysis.id}",
                    }
                )
    return found


def procedure_links(uow: UnitOfWork, row: ProcedureRow) -> ProcedureLinks:
    """The procedure with its linked dose and ultrasound warnings (no authorisation, no audit: callers do)."""
    dose, reports, comparisons, skin_note = _dose(uow, row)
    return ProcedureLinks(
        id=row.id,
        case_id=row.case_id,
        accession_number=row.accession_number,
        procedure=row.procedure,
        modality=row.modality,
        status=row.status,
        scheduled_at=row.scheduled_at,
        performed_at=row.performed_at,
        study_instance_uid=row.study_instance_uid,
        dose_report_ids=tuple(row.dose_report_ids or ()),
        sono_analysis_ids=tuple(row.sono_analysis_ids or ()),
        dose=dose,
        dose_reports=reports,
        comparisons=comparisons,
        warnings=_warnings(uow, row),
        skin_note=skin_note,
    )


def get_procedure_links(uow: UnitOfWork, actor: User, accession_number: str) -> ProcedureLinks:
    """A procedure by accession number with its dose totals, reference comparisons and warnings (audited)."""
    authorize(actor, "case.read")
    row = _procedure(uow, accession_number)
    view = procedure_links(uow, row)
    uow.audit.record(actor.username, "case.read", "procedure", str(row.id), {"view": "links"})
    uow.commit()
    return view
