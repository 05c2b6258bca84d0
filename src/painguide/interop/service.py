"""Export use cases: a case's FHIR Bundle, every case as NDJSON per resource type, the procedure report and
the quality report of a period.

Each function authorises (``fhir.export``, ``case.read``, ``report.quality``), loads the case as a pure
:class:`~painguide.interop.records.CaseRecord` (pathway records, the performed procedure with follow-ups,
linked dose reports with their reference-level comparisons, linked ultrasound analyses), audits the read and
commits the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from fhir.resources.R4B.bundle import Bundle

from painguide.auth import User, authorize
from painguide.catalogue.loader import load_knowledge
from painguide.dose.reference import Comparison, DoseSample, LocalDrl, compare, load_reference_data
from painguide.errors import ValidationError
from painguide.interop.fhir import case_bundle, case_resources, resource_json
from painguide.interop.records import CaseRecord, CineSummary, DoseSummary
from painguide.interop.reports import (
    N_,
    Message,
    ProcedureReport,
    QualityReport,
    Value,
    Warnings,
    procedure_report,
    quality_report,
)
from painguide.outcomes.follow_ups import responder_inputs
from painguide.outcomes.responders import Proportion, load_responder_criteria, responder_rates
from painguide.settings import get_settings
from painguide.store.dose_tables import DoseReportRow
from painguide.store.pathway_tables import ProcedureRow
from painguide.store.sono_tables import SonoAnalysisRow
from painguide.store.uow import UnitOfWork
from painguide.training.records import PerformedCase, complications_of

__all__ = ["case_record", "export_all", "export_case", "get_procedure_report", "get_quality_report"]

UowFactory = Callable[[], UnitOfWork]


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValidationError("now", N_("give a time with its time zone"))
    return now


def _names(procedure_id: str | None) -> dict[str, str]:
    if procedure_id is None:
        return {}
    procedure = load_knowledge(get_settings().site_policy).catalogue.procedures.get(procedure_id)
    if procedure is None:
        return {"en": procedure_id, "de": procedure_id}
    return {str(language): name for language, name in procedure.names.items()}


def _doses(uow: UnitOfWork, proc: ProcedureRow | None) -> list[DoseReportRow]:
    """Dose reports linked to the procedure, or carrying its accession number or Study Instance UID."""
    if proc is None or proc.performed_at is None:
        return []
    return uow.reports.dose_reports_for(
        accession_number=proc.accession_number,
        report_ids=list(proc.dose_report_ids or ()),
        study_instance_uid=proc.study_instance_uid,
    )


def _cines(uow: UnitOfWork, proc: ProcedureRow | None) -> list[SonoAnalysisRow]:
    """Ultrasound analyses linked to the procedure, or of its Study Instance UID."""
    if proc is None or proc.performed_at is None:
        return []
    return uow.reports.analyses_for(
        analysis_ids=list(proc.sono_analysis_ids or ()), study_instance_uid=proc.study_instance_uid
    )


def _dose_summary(row: DoseReportRow) -> DoseSummary:
    device = " ".join(p for p in (row.manufacturer, row.model) if p) or None
    return DoseSummary(
        report_id=row.id,
        sop_instance_uid=row.sop_instance_uid,
        study_instance_uid=row.study_instance_uid,
        kind=row.kind,
        study_datetime=row.study_datetime.replace(tzinfo=UTC) if row.study_datetime else None,
        dap_total_gy_cm2=row.dap_total_gy_cm2,
        rp_dose_total_mgy=row.rp_dose_total_mgy,
        fluoro_time_s=row.fluoro_time_s,
        dlp_total_mgy_cm=row.dlp_total_mgy_cm,
        device=device,
    )


def _seconds(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _cine_summary(row: SonoAnalysisRow) -> CineSummary:
    from painguide.sono.pipeline import WARNING_TYPES
    from painguide.sono.service import key_frames

    warnings = tuple(
        (str(e["type"]), _seconds(e.get("time_s"))) for e in row.events if e.get("type") in WARNING_TYPES
    )
    frames = key_frames(row.timeline, list(row.events)) if row.cine_file else []
    stills = tuple(f"/sono/review/{row.id}/frames/{k.index}.jpg" for k in frames)
    return CineSummary(
        analysis_id=row.id,
        study_instance_uid=row.study_instance_uid,
        sop_instance_uid=row.sop_instance_uid,
        created_at=row.created_at,
        frames=row.frames,
        duration_s=row.duration_s,
        needle_visible_fraction=row.needle_visible_fraction,
        max_spread_area_mm2=row.max_spread_area_mm2,
        warning_count=row.warning_count,
        warnings=warnings,
        stills=stills,
    )


def case_record(
    uow: UnitOfWork, case_id: int, *, comparisons: dict[int, list[dict[str, object]]] | None = None
) -> CaseRecord:
    """Load one case for export (no authorisation, no audit: callers do both)."""
    repo = uow.pathway
    case = repo.get_case(case_id)
    patient = repo.get_patient(case.patient_id)
    cf = repo.case_file(case, patient)
    performed = uow.training.performed(case_ids=[case_id])
    proc = repo.procedure_of(case_id)
    doses = [_dose_summary(r) for r in _doses(uow, proc)]
    procedure_id = (
        performed[0].procedure_id if performed else (cf.indication.procedure if cf.indication else None)
    )
    drl = {str(d.report_id): (comparisons or {}).get(d.report_id, []) for d in doses}
    return CaseRecord(
        patient_id=patient.id,
        patient=cf.patient,
        case_id=case_id,
        info=cf.info,
        opened_at=case.opened_at,
        indication=cf.indication,
        plan=cf.plan,
        justification=cf.justification,
        consent=cf.consent,
        revocation=cf.revocation,
        overrides=cf.overrides,
        performed=performed[0] if performed else None,
        procedure_names=_names(procedure_id),
        doses=tuple(doses),
        cines=tuple(_cine_summary(r) for r in _cines(uow, proc)),
        drl=drl,
    )


def export_case(uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None) -> Bundle:
    """One case as a FHIR ``collection`` Bundle (audited)."""
    authorize(actor, "fhir.export")
    now = _now(now)
    record = case_record(uow, case_id)
    resources = case_resources(record, issued=now)
    detail = {"resources": len(resources), "format": "bundle"}
    uow.audit.record(actor.username, "fhir.export", "case", str(case_id), detail)
    uow.commit()
    return case_bundle(resources, bundle_id=f"pg-case-{case_id}", timestamp=now)


def export_all(uow: UnitOfWork, actor: User, *, now: datetime | None = None) -> dict[str, list[str]]:
    """Every case as NDJSON lines per resource type (a patient with several cases appears once)."""
    authorize(actor, "fhir.export")
    now = _now(now)
    lines: dict[str, list[str]] = {}
    patients: set[str] = set()
    case_ids = uow.reports.case_ids()
    for case_id in case_ids:
        for resource in case_resources(case_record(uow, case_id), issued=now):
            kind = resource.get_resource_type()
            if kind == "Patient":
                if str(resource.id) in patients:
                    continue
                patients.add(str(resource.id))
            lines.setdefault(kind, []).append(resource_json(resource))
    detail = {"cases": len(case_ids), "format": "ndjson", "types": sorted(lines)}
    uow.audit.record(actor.username, "fhir.export", "case", "all", detail)
    uow.commit()
    return lines


# ------------------------------------------------------------------------------------------------ reports


def _sample(row: DoseReportRow) -> DoseSample:
    device = " ".join(x for x in (row.manufacturer, row.model, row.station_name) if x) or None
    return DoseSample(
        report_id=row.id, patient_id=row.patient_id, study_datetime=row.study_datetime,
        procedure_type=row.procedure_type, kind=row.kind, device=device, operator=row.operator,
        dap_total_gy_cm2=row.dap_total_gy_cm2, rp_dose_total_mgy=row.rp_dose_total_mgy,
        dlp_total_mgy_cm=row.dlp_total_mgy_cm, fluoro_time_s=row.fluoro_time_s,
    )  # fmt: skip


def _dose_audit(
    uow: UnitOfWork, rows: list[DoseReportRow]
) -> tuple[list[DoseSample], list[LocalDrl], list[Comparison]]:
    """The figures of ``rows``, the site's local DRLs (medians of all its reports) and the comparisons."""

    samples = [_sample(r) for r in rows]
    reference = load_reference_data()
    drls = uow.dose.local_drls()
    by_type = {drl.procedure_type: drl for drl in drls}
    return samples, drls, [c for sample in samples for c in compare(sample, reference, by_type)]


def _comparisons(items: list[Comparison]) -> dict[int, list[dict[str, object]]]:
    out: dict[int, list[dict[str, object]]] = {}
    for c in items:
        out.setdefault(c.report_id, []).append(
            {
                "reference": c.reference,
                "quantity": c.quantity,
                "value": c.value,
                "level": c.level,
                "ratio": c.ratio,
                "exceeded": c.exceeded,
                "source": c.source,
                "status": c.status,
            }
        )
    return out


def get_procedure_report(
    uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None
) -> ProcedureReport:
    """The procedure report of a case (an audited read of patient data)."""
    authorize(actor, "case.read")
    now = _now(now)
    proc = uow.pathway.procedure_of(case_id)
    _, _, comparisons = _dose_audit(uow, _doses(uow, proc))
    record = case_record(uow, case_id, comparisons=_comparisons(comparisons))
    uow.audit.record(actor.username, "case.read", "case", str(case_id), {"view": "procedure report"})
    uow.commit()
    return procedure_report(record, issued=now)


def _dose_rows(
    samples: list[DoseSample],
    drls: list[LocalDrl],
    comparisons: list[Comparison],
    start: datetime,
    end: datetime,
) -> list[tuple[Value, ...]]:
    chosen = [
        s
        for s in samples
        if s.study_datetime is not None and start <= s.study_datetime.replace(tzinfo=UTC) < end
    ]
    ids = {s.report_id for s in chosen}
    exceeded = {c.report_id for c in comparisons if c.exceeded and c.report_id in ids}
    local = {d.procedure_type: d for d in drls if d.quantity == "dap"}
    rows: list[tuple[Value, ...]] = []
    for kind in sorted({s.procedure_type or "unmapped" for s in chosen}):
        group = [s for s in chosen if (s.procedure_type or "unmapped") == kind]
        daps = sorted(s.dap_total_gy_cm2 for s in group if s.dap_total_gy_cm2 is not None)
        median = (
            daps[len(daps) // 2]
            if len(daps) % 2
            else (sum(daps[len(daps) // 2 - 1 : len(daps) // 2 + 1]) / 2 if daps else None)
        )
        drl = local.get(kind)
        rows.append(
            (
                kind,
                len(group),
                round(median, 3) if median is not None else None,
                round(drl.median, 3) if drl else None,
                sum(s.report_id in exceeded for s in group),
            )
        )
    return rows


def _pct(p: Proportion) -> str | None:
    if p.rate is None or p.low is None or p.high is None:
        return None
    return f"{p.responders}/{p.evaluable} = {100 * p.rate:.0f} % ({100 * p.low:.0f}-{100 * p.high:.0f} %)"


def get_quality_report(
    uow: UnitOfWork,
    actor: User,
    *,
    start: date,
    end: date,
    days_after: int | None = None,
    now: datetime | None = None,
) -> QualityReport:
    """The quality report of the days ``start`` to ``end`` (inclusive)."""
    authorize(actor, "report.quality")
    now = _now(now)
    if end < start:
        raise ValidationError(
            "end",
            N_("the period ends (%(end)s) before it starts (%(start)s)"),
            end=end.isoformat(),
            start=start.isoformat(),
        )
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    cases = uow.training.performed(since=since, until=until)
    samples, drls, comparisons = _dose_audit(uow, uow.reports.dose_reports_between(since, until))
    criteria = load_responder_criteria()
    days = sorted({f.days_after for c in cases for f in c.recorded_follow_ups() if f.days_after > 0})
    day = days_after if days_after is not None else (days[0] if days else None)
    groups = responder_rates(responder_inputs(cases, days_after=day), criteria) if day is not None else ()
    responders = [
        (
            " · ".join(str(p) for p in g.group) if isinstance(g.group, tuple) else str(g.group),
            g.follow_ups,
            *(_pct(g.rates[k]) for k in ("nrs30", "nrs50", "pgic")),
        )
        for g in groups
    ]
    report = quality_report(
        cases,
        start=start,
        end=end,
        issued=now,
        dose_rows=_dose_rows(samples, drls, comparisons, since, until),
        responder_rows=responders,
        warning_rows=_warning_rows(uow, cases, since, until),
    )
    uow.audit.record(
        actor.username, "report.quality", "period", f"{start}..{end}", {"procedures": len(cases)}
    )
    uow.commit()
    return QualityReport(report.start, report.end, report.sections, report.issued, {"days_after": day})


def _warning_rows(
    uow: UnitOfWork, cases: list[PerformedCase], since: datetime, until: datetime
) -> list[tuple[Value, ...]]:
    from painguide.sono.pipeline import WARNING_TYPES

    by_study = {c.study_instance_uid: c for c in cases if c.study_instance_uid}
    by_id = {a: c for c in cases for a in c.sono_analysis_ids}
    rows: list[tuple[Value, ...]] = []
    for row in uow.reports.warned_analyses_between(since, until):
        case = by_id.get(row.id) or by_study.get(row.study_instance_uid or "")
        kinds = sorted({str(e["type"]) for e in row.events if e.get("type") in WARNING_TYPES})
        follow = None
        if case is not None:
            done = case.recorded_follow_ups()
            follow = Message(
                N_("%(done)s of %(total)s recorded"), (("done", len(done)), ("total", len(case.follow_ups)))
            )
        complications = "; ".join(complications_of(case.record)) if case is not None else None
        rows.append(
            (
                row.id,
                row.created_at.date(),
                Warnings(tuple((kind, None) for kind in kinds)),
                case.case_id if case else None,
                complications or (Message(N_("none recorded")) if case else None),
                follow,
            )
        )
    return rows
