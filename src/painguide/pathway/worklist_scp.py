"""DICOM Modality Worklist server (pynetdicom C-FIND SCP, Modality Worklist Information Model - FIND).

Offers the scheduled procedures to the C-arm, CT and ultrasound machines. The same safe defaults as the
dose receiver: the loopback address unless a host is given, named calling AE titles outside demo mode (or
any, when that is said explicitly), optional TLS. Each C-FIND is one audited read through
:func:`painguide.pathway.worklist_service.find_worklist`; the answer holds exactly the keys the query asked
for (an attribute painguide does not keep is answered empty).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from pydicom import DataElement, Dataset

from painguide.auth import User
from painguide.dose.receiver import TlsFiles, check_association_settings, ssl_context
from painguide.errors import ValidationError
from painguide.pathway.worklist import (
    DICOM_MODALITIES,
    PREGNANCY_CODES,
    SEX_CODES,
    QueryError,
    WorklistEntry,
    WorklistQuery,
    answer_modality,
    parse_date_range,
    parse_time_range,
)
from painguide.pathway.worklist_service import find_worklist
from painguide.store.uow import UnitOfWork

if TYPE_CHECKING:  # pynetdicom loads only when the listener starts (start-up time)
    from pynetdicom.events import Event
    from pynetdicom.transport import ThreadedAssociationServer

__all__ = [
    "MODALITY_WORKLIST_FIND",
    "WorklistConfig",
    "entry_dataset",
    "make_find_handler",
    "project",
    "query_of",
    "start_worklist",
    "worklist_config",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
_VERIFICATION = "1.2.840.10008.1.1"
_PENDING, _CANCELLED = 0xFF00, 0xFE00
_UNABLE = 0xC000  # "Unable to process"
_CODE_SCHEME = "99PAINGUIDE"  # private coding scheme of catalogue procedure ids
UowFactory = Callable[[], UnitOfWork]
OnQuery = Callable[[str, WorklistQuery, int], None]


@dataclass(frozen=True, slots=True)
class WorklistConfig:
    """Where and as whom the worklist listens, who may query, and how fluoroscopy is announced."""

    host: str
    port: int
    ae_title: str
    allowed_callers: tuple[str, ...]
    fluoro_modality: str = "RF"
    tls: TlsFiles | None = None


def worklist_config(
    *,
    host: str,
    port: int,
    ae_title: str,
    allowed_callers: list[str],
    accept_any: bool,
    demo: bool,
    fluoro_modality: str = "RF",
    tls: TlsFiles | None = None,
) -> WorklistConfig:
    """Check the worklist's settings; every problem names its option.

    Examples
    --------
    >>> worklist_config(host="127.0.0.1", port=11113, ae_title="PAINGUIDE", allowed_callers=[],
    ...                 accept_any=False, demo=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    painguide.errors.ValidationError: --allow: name the calling AE titles ... --accept-any ...
    """
    title, callers = check_association_settings(
        ae_title, allowed_callers, accept_any=accept_any, demo=demo, tls=tls,
        allowed_to="query the worklist", setting="PAINGUIDE_WORKLIST_ALLOWED_CALLERS",
    )  # fmt: skip
    code = fluoro_modality.strip().upper()
    if code not in DICOM_MODALITIES["fluoroscopy"]:
        raise ValidationError(
            "PAINGUIDE_WORKLIST_FLUORO_MODALITY", f"give RF or XA for fluoroscopy (got {fluoro_modality!r})"
        )
    return WorklistConfig(host, port, title, callers, code, tls)


# ------------------------------------------------------------------------------------------ decoding


def _text(dataset: Dataset | None, keyword: str) -> str | None:
    """A matching value: ``None`` for an absent, empty or universal (``*``) value."""
    value = dataset.get(keyword) if dataset is not None else None
    text = str(value).strip() if value is not None else ""
    return None if text in ("", "*") else text


def query_of(identifier: Dataset) -> WorklistQuery:
    """The supported matching keys of a C-FIND identifier (raises :class:`QueryError` when malformed)."""
    steps = identifier.get("ScheduledProcedureStepSequence")
    step = steps[0] if steps else None
    date_from, date_to = parse_date_range(_text(step, "ScheduledProcedureStepStartDate"))
    time_from, time_to = parse_time_range(_text(step, "ScheduledProcedureStepStartTime"))
    return WorklistQuery(
        modality=_text(step, "Modality"),
        date_from=date_from,
        date_to=date_to,
        time_from=time_from,
        time_to=time_to,
        station_ae_title=_text(step, "ScheduledStationAETitle"),
        patient_id=_text(identifier, "PatientID"),
        accession_number=_text(identifier, "AccessionNumber"),
        patient_name=_text(identifier, "PatientName"),
    )


# ------------------------------------------------------------------------------------------ encoding


def _code(entry: WorklistEntry) -> Dataset:
    item = Dataset()
    item.CodeValue = entry.procedure[:16]
    item.CodingSchemeDesignator = _CODE_SCHEME
    item.CodeMeaning = entry.procedure_name[:64]
    return item


def _charset(texts: list[str]) -> str | None:
    """ASCII needs none; Latin-1 (``ISO_IR 100``) where it suffices, else UTF-8 (``ISO_IR 192``)."""
    joined = "".join(texts)
    if joined.isascii():
        return None
    try:
        joined.encode("latin-1")
    except UnicodeEncodeError:
        return "ISO_IR 192"
    return "ISO_IR 100"


def entry_dataset(entry: WorklistEntry, *, asked_modality: str | None, fluoro: str, zone: tzinfo) -> Dataset:
    """The full worklist answer of one entry (before :func:`project` keeps the keys asked for)."""

    local = entry.scheduled_at.astimezone(zone)
    step = Dataset()
    step.Modality = answer_modality(entry.modality, asked_modality, fluoro_default=fluoro)
    step.ScheduledStationAETitle = entry.station_ae_title or ""
    step.ScheduledProcedureStepStartDate = local.strftime("%Y%m%d")
    step.ScheduledProcedureStepStartTime = local.strftime("%H%M%S")
    step.ScheduledPerformingPhysicianName = ""
    step.ScheduledProcedureStepDescription = entry.procedure_name[:64]
    step.ScheduledProtocolCodeSequence = [_code(entry)]
    step.ScheduledProcedureStepID = entry.accession_number
    step.ScheduledProcedureStepLocation = (entry.location or "")[:16]
    step.ScheduledProcedureStepStatus = "SCHEDULED"
    ds = Dataset()
    name = entry.patient_name or entry.patient_id
    if charset := _charset([name, entry.procedure_name, entry.location or ""]):
        ds.SpecificCharacterSet = charset
    ds.AccessionNumber = entry.accession_number
    ds.ReferringPhysicianName = ""
    ds.PatientName = name[:64]
    ds.PatientID = entry.patient_id
    ds.PatientBirthDate = ""  # only the birth year is known: never an invented day
    ds.PatientSex = SEX_CODES.get(entry.sex, "")
    ds.PatientWeight = f"{entry.weight_kg:g}" if entry.weight_kg is not None else None
    ds.PatientSize = f"{entry.height_cm / 100:.2f}" if entry.height_cm is not None else None
    ds.PregnancyStatus = PREGNANCY_CODES.get(entry.pregnancy, 4)
    ds.StudyInstanceUID = entry.study_instance_uid or ""
    ds.RequestedProcedureID = entry.accession_number
    ds.RequestedProcedureDescription = entry.procedure_name[:64]
    ds.RequestedProcedureCodeSequence = [_code(entry)]
    ds.ScheduledProcedureStepSequence = [step]
    return ds


def project(answer: Dataset, request: Dataset) -> Dataset:
    """Keep the keys the query asked for: our value where we have one, else an empty value.

    A sequence asked for with an item is answered item by item with that item's keys; an empty sequence
    asked for is answered whole.
    """

    out = Dataset()
    for element in request:
        if element.tag.is_private or element.VR == "UN" or element.keyword == "SpecificCharacterSet":
            continue
        if element.tag in answer:
            have = answer[element.tag]
            if element.VR == "SQ" and element.value and have.VR == "SQ":
                out.add(DataElement(element.tag, "SQ", [project(i, element.value[0]) for i in have.value]))
            else:
                out.add(deepcopy(have))
        else:
            out.add(DataElement(element.tag, element.VR, [] if element.VR == "SQ" else None))
    if "SpecificCharacterSet" in answer:
        out.SpecificCharacterSet = answer.SpecificCharacterSet
    return out


# ----------------------------------------------------------------------------------------- the server


def _status(code: int, comment: str) -> Dataset:
    status = Dataset()
    status.Status = code
    status.ErrorComment = comment[:64]
    return status


def make_find_handler(
    config: WorklistConfig,
    uow_factory: UowFactory,
    principal: User,
    *,
    zone: tzinfo,
    on_query: OnQuery | None = None,
) -> Callable[[Event], Iterator[tuple[int | Dataset, Dataset | None]]]:
    """Build the EVT_C_FIND handler: parse the query, read through the service, answer pending items."""

    def handle_find(event: Event) -> Iterator[tuple[int | Dataset, Dataset | None]]:
        caller = str(getattr(event.assoc.requestor, "ae_title", "") or "").strip()
        try:
            request = event.identifier
            query = query_of(request)
        except QueryError as exc:
            yield _status(_UNABLE, str(exc)), None
            return
        except Exception as exc:  # an undecodable identifier must answer the caller, not kill the association
            log.exception("C-FIND from %s could not be decoded", caller)
            yield _status(_UNABLE, f"cannot decode the query: {type(exc).__name__}"), None
            return
        try:
            with uow_factory() as uow:
                entries = find_worklist(uow, principal, caller=caller, query=query, zone=zone)
        except Exception as exc:  # the database is down or refuses: say so to the modality
            log.exception("worklist query from %s failed", caller)
            yield _status(_UNABLE + 1, f"worklist unavailable: {type(exc).__name__}"), None
            return
        if on_query is not None:
            on_query(caller, query, len(entries))
        for entry in entries:
            if event.is_cancelled:
                yield _CANCELLED, None
                return
            answer = entry_dataset(
                entry, asked_modality=query.modality, fluoro=config.fluoro_modality, zone=zone
            )
            yield _PENDING, project(answer, request)

    return handle_find


def start_worklist(
    config: WorklistConfig,
    uow_factory: UowFactory,
    principal: User,
    *,
    zone: tzinfo,
    on_query: OnQuery | None = None,
) -> ThreadedAssociationServer:
    """Start the worklist SCP in background threads.

    Returns
    -------
    pynetdicom.transport.ThreadedAssociationServer
        Call ``.shutdown()`` to stop it.
    """
    from pynetdicom import AE, evt

    ae = AE(ae_title=config.ae_title)
    ae.add_supported_context(MODALITY_WORKLIST_FIND)
    ae.add_supported_context(_VERIFICATION)
    if config.allowed_callers:
        ae.require_calling_aet = list(config.allowed_callers)
    handler = make_find_handler(config, uow_factory, principal, zone=zone, on_query=on_query)
    context = ssl_context(config.tls) if config.tls is not None else None
    try:
        server = ae.start_server(
            (config.host, config.port),
            block=False,
            evt_handlers=[(evt.EVT_C_FIND, handler)],
            ssl_context=context,
        )
    except OSError as exc:
        raise ValidationError(
            "--host/--port", f"cannot listen on {config.host}:{config.port} ({exc.strerror or exc})"
        ) from exc
    assert server is not None  # block=False always returns the running server
    return server
