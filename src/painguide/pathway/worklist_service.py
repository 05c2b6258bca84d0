"""The worklist use case: the scheduled procedures a modality asks for (a read of patient data, audited)."""

from __future__ import annotations

from datetime import tzinfo

from painguide.auth import User, authorize
from painguide.dose.service import procedure_names
from painguide.pathway.worklist import (
    WorklistEntry,
    WorklistQuery,
    has_wildcard,
    is_ae_title,
    matches,
    pathway_modalities,
    utc_bounds,
)
from painguide.settings import get_settings
from painguide.store.uow import UnitOfWork

__all__ = ["MAX_ANSWERS", "find_worklist"]

MAX_ANSWERS = 1000
"""Most entries one query answers (a query without a date could otherwise list every future procedure)."""


def _names() -> dict[str, str]:
    return procedure_names()


def find_worklist(
    uow: UnitOfWork, actor: User, *, caller: str, query: WorklistQuery, zone: tzinfo | None = None
) -> list[WorklistEntry]:
    """The scheduled procedures matching ``query``, by scheduled time; one audit entry per query.

    Parameters
    ----------
    uow : UnitOfWork
        Open unit of work (committed here, for the audit entry).
    actor : User
        Who runs the worklist server (action ``worklist.serve``).
    caller : str
        The calling AE title (the audit entry's actor is ``dicom:<caller>``).
    query : WorklistQuery
        The matching keys (local dates and times).
    zone : tzinfo, optional
        The site's time zone (default: ``PAINGUIDE_TIMEZONE``).

    Returns
    -------
    list of WorklistEntry
        At most :data:`MAX_ANSWERS`.
    """

    authorize(actor, "worklist.serve")
    zone = zone or get_settings().site_zone()
    modalities = pathway_modalities(query.modality)
    start, end = utc_bounds(query, zone)
    exact = {
        key: None if value is None or has_wildcard(value) or not value.strip() else value.strip()
        for key, value in (("patient_id", query.patient_id), ("accession", query.accession_number))
    }
    rows = (
        uow.links.scheduled_procedures(
            modalities=modalities,
            start=start,
            end=end,
            patient_id=exact["patient_id"],
            accession_number=exact["accession"],
            limit=MAX_ANSWERS * 4,
        )
        if modalities
        else []
    )
    names = _names() if rows else {}
    entries = []
    for proc, patient in rows:
        record = patient.record
        location = proc.location.strip() if proc.location else None
        entry = WorklistEntry(
            accession_number=proc.accession_number,
            procedure=proc.procedure,
            procedure_name=names.get(proc.procedure, proc.procedure),
            modality=proc.modality,
            scheduled_at=proc.scheduled_at,
            station_ae_title=location if location and is_ae_title(location) else None,
            location=location,
            patient_id=patient.pseudonym,
            patient_name=patient.name,
            birth_year=int(record["birth_year"]),
            sex=str(record.get("sex", "unknown")),
            study_instance_uid=proc.study_instance_uid,
            height_cm=record.get("height_cm"),
            weight_kg=record.get("weight_kg"),
            pregnancy=str(record.get("pregnancy", "unknown")),
        )
        if matches(entry, query, zone):
            entries.append(entry)
        if len(entries) >= MAX_ANSWERS:
            break
    detail = {
        "caller": caller,
        "by": actor.username,
        "query": query.describe(),
        "answers": len(entries),
        "accession_numbers": [e.accession_number for e in entries[:50]],
    }
    uow.audit.record(f"dicom:{caller or 'unknown'}", "worklist.query", "worklist", "*", detail)
    uow.commit()
    return entries
