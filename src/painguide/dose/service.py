"""Dose import service: files, folders and zip archives (or received datasets) → parse → store.

Import is idempotent on SOP Instance UID (a report already stored counts as a duplicate) and transactional
per batch: a batch of parsed reports is committed together, and if the commit fails the batch is retried one
report at a time so that one bad report never loses a good one. Files that cannot be imported are copied
into the quarantine folder with a ``.reason.txt`` beside them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from painguide.dose.models import DoseReport, ReportFilter, SkinDose, SkinReason, StoredReport
from painguide.dose.procedures import ProcedureMatcher, check_aliases, load_aliases
from painguide.dose.rdsr import parse_dataset, read_dose_report
from painguide.dose.skin import PENDING_NOTE, decided_without_model, not_estimable, skin_dose_or_reason
from painguide.errors import DatabaseUnavailableError, PainguideError
from painguide.i18n.marks import N_
from painguide.settings import get_settings
from painguide.store.uow import UnitOfWork

if TYPE_CHECKING:  # pydicom loads only when a file is read (start-up time)
    from pydicom.dataset import Dataset

__all__ = [
    "UNMAPPED",
    "HasStatus",
    "ImportOutcome",
    "ImportSummary",
    "RemapSummary",
    "SkinBackfill",
    "Source",
    "StatusCounts",
    "ZipLimits",
    "collect_sources",
    "estimate_pending_skin_doses",
    "get_skin_dose",
    "get_stored",
    "import_dataset",
    "import_sources",
    "list_stored",
    "procedure_matcher",
    "procedure_names",
    "procedure_type_of",
    "quarantine",
    "quarantine_file",
    "remap_procedure_types",
    "skin_dose_of",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

UNMAPPED = "unmapped"
"""The procedure-type filter value that selects reports without a catalogue procedure id."""
Status = Literal["imported", "duplicate", "quarantined"]
UowFactory = Callable[[], UnitOfWork]
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class Source:
    """One candidate file: a label for people and a way to get its bytes (a path, a zip member or a fetch).

    ``fetch`` (for example a download) is called instead of reading ``path``; it raises :class:`OSError`
    when the bytes cannot be had, and the source is then quarantined with that reason.
    """

    label: str
    path: Path
    member: str | None = None
    fetch: Callable[[], bytes] | None = None
    max_bytes: int | None = None

    def read(self) -> bytes:
        """The file's bytes (a zip member: at most ``max_bytes``, else :class:`OSError`)."""
        if self.fetch is not None:
            return self.fetch()
        if self.member is None:
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as member:
            data = member.read(-1 if self.max_bytes is None else self.max_bytes + 1)
        if self.max_bytes is not None and len(data) > self.max_bytes:
            raise OSError(f"zip member is larger than {self.max_bytes} bytes")
        return data


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What a zip archive may hold before it (or one member) is refused unread.

    The defaults are the settings' defaults (``PAINGUIDE_ZIP_MAX_MEMBERS``, ``PAINGUIDE_ZIP_MAX_MEMBER_MB``,
    ``PAINGUIDE_ZIP_MAX_RATIO``); :meth:`from_settings` reads the configured ones.
    """

    members: int = 10_000
    member_bytes: int = 64 * 1024 * 1024
    ratio: float = 100.0

    @classmethod
    def from_settings(cls) -> ZipLimits:
        """The configured limits."""

        settings = get_settings()
        return cls(
            settings.zip_max_members, int(settings.zip_max_member_mb * 1024 * 1024), settings.zip_max_ratio
        )

    def refusal(self, info: zipfile.ZipInfo) -> str | None:
        """Why one member is refused (by its declared sizes: reading stops there), or ``None``."""
        if info.file_size > self.member_bytes:
            return (
                f"zip member is {info.file_size / 1e6:.1f} MB uncompressed, above the limit of "
                f"{self.member_bytes / 1e6:.1f} MB (setting PAINGUIDE_ZIP_MAX_MEMBER_MB); unpack it and "
                "import the file itself if it is a real dose report"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > self.ratio:
            return (
                f"zip member expands {ratio:.0f}-fold ({info.compress_size} → {info.file_size} bytes), above "
                f"the limit of {self.ratio:g} (setting PAINGUIDE_ZIP_MAX_RATIO): a zip bomb is refused unread"
            )
        return None


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What happened to one source."""

    label: str
    status: Status
    sop_instance_uid: str | None = None
    reason: str | None = None
    quarantined_as: Path | None = None
    warnings: tuple[str, ...] = ()
    """What was normalised or lost while reading an imported report (:class:`ParseWarning` messages)."""


class HasStatus(Protocol):
    """A result of one source (or uploaded file): what became of it."""

    @property
    def status(self) -> Status: ...


class StatusCounts:
    """Counts by :data:`Status` of results that each carry a ``status`` (:meth:`_results`)."""

    __slots__ = ()

    def _results(self) -> Iterable[HasStatus]:
        raise NotImplementedError

    def count(self, status: Status) -> int:
        """How many results ended with ``status``."""
        return sum(1 for result in self._results() if result.status == status)

    @property
    def imported(self) -> int:
        return self.count("imported")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")


@dataclass(slots=True)
class ImportSummary(StatusCounts):
    """Counts and per-source outcomes of one import run."""

    outcomes: list[ImportOutcome] = field(default_factory=list)

    def _results(self) -> list[ImportOutcome]:
        return self.outcomes

    @property
    def quarantined(self) -> int:
        return self.count("quarantined")


def procedure_type_of(report: DoseReport, matcher: ProcedureMatcher | None = None) -> str | None:
    """The catalogue procedure id a report counts for in audits, or ``None`` (unmapped).

    The texts tried, in order: Study Description, the other header descriptions
    (:attr:`DoseReport.procedure_descriptions`), then the acquisition protocols of its events.

    Examples
    --------
    >>> from painguide.dose.models import DoseReport, ReportKind
    >>> matcher = ProcedureMatcher({"lumbar-tfesi": ["Lumbar transforaminal epidural steroid injection"]})
    >>> report = DoseReport("1.2", "1.2", ReportKind.FLUORO, study_description="Lumbar TFESI L4/5")
    >>> procedure_type_of(report, matcher)
    'lumbar-tfesi'
    """
    protocols = dict.fromkeys(event.protocol for event in report.events if event.protocol)
    texts = [report.study_description, *report.procedure_descriptions, *protocols]
    return (matcher or procedure_matcher()).match(texts)


def procedure_matcher() -> ProcedureMatcher:
    """The matcher for the configured catalogue (site policy) and alias lists.

    The packaged ``dose/data/procedure_aliases.yaml`` is extended by
    ``PAINGUIDE_DATA_DIR/procedure_aliases.yaml`` when that file exists (same format).
    """

    settings = get_settings()
    site = settings.data_dir / "procedure_aliases.yaml"
    stamp = site.stat().st_mtime_ns if site.is_file() else None
    return _matcher(settings.site_policy, site if stamp is not None else None, stamp)


@lru_cache(maxsize=4)
def _matcher(policy: Path | None, site: Path | None, _stamp: int | None) -> ProcedureMatcher:
    names = {pid: list(names.values()) for pid, names in _catalogue_names(policy).items()}
    aliases = check_aliases(load_aliases(), names, "painguide/dose/data/procedure_aliases.yaml")
    if site is not None:
        for pid, extra in check_aliases(load_aliases(site), names, str(site)).items():
            aliases.setdefault(pid, []).extend(extra)
    return ProcedureMatcher(names, aliases)


def _catalogue_names(policy: Path | None) -> dict[str, dict[str, str]]:
    from painguide.catalogue.loader import load_knowledge

    procedures = load_knowledge(policy).catalogue.procedures
    return {pid: {str(lang): str(name) for lang, name in p.names.items()} for pid, p in procedures.items()}


def procedure_names(language: str = "en") -> dict[str, str]:
    """Catalogue procedure id → name in ``language``, else English (for pages, charts and exports)."""

    names = _catalogue_names(get_settings().site_policy)
    return {pid: n.get(language) or n.get("en") or next(iter(n.values()), pid) for pid, n in names.items()}


@dataclass(frozen=True, slots=True)
class RemapSummary:
    """What :func:`remap_procedure_types` changed."""

    total: int
    changed: int
    unmapped: int


def remap_procedure_types(uow_factory: UowFactory, *, actor: str = "system") -> RemapSummary:
    """Map every stored report to a catalogue procedure id again (after the aliases or catalogue changed)."""

    matcher = procedure_matcher()
    with uow_factory() as uow:
        texts = uow.dose.procedure_texts()
        new = {report_id: matcher.match(found) for report_id, (_old, found) in texts.items()}
        changes = {report_id: value for report_id, value in new.items() if value != texts[report_id][0]}
        uow.dose.set_procedure_types(changes)
        detail: dict[str, object] = {"changed": len(changes)}
        uow.audit.record(actor, "dose.remap", "dose_report", "*", detail)
        uow.commit()
    return RemapSummary(len(texts), len(changes), sum(1 for v in new.values() if v is None))


def collect_sources(
    paths: Iterable[str | Path],
    *,
    limits: ZipLimits | None = None,
    quarantine_dir: Path | None = None,
    labels: Mapping[Path, str] | None = None,
) -> tuple[list[Source], list[ImportOutcome]]:
    """Expand files, folders (recursively, hidden files skipped) and zip archives into sources.

    A source's label is its path, or ``labels[path]`` when given (an uploaded file's own name); a zip member's
    is the archive's label, ``!`` and the member's name.

    A zip archive with more members than ``limits.members`` is refused whole; a member larger or more
    compressed than the limits is refused unread (:meth:`ZipLimits.refusal`). A refusal is quarantined: the
    archive is copied into ``quarantine_dir`` (when given) with the reason.

    Returns
    -------
    sources : list of Source
        Candidate files, in a stable order.
    problems : list of ImportOutcome
        Paths that do not exist, or archives that cannot be opened (already marked for quarantine).
    """
    sources: list[Source] = []
    problems: list[ImportOutcome] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            files = [path]
        else:
            problems.append(ImportOutcome(str(path), "quarantined", reason="no such file or folder"))
            continue
        for file in files:
            label = (labels or {}).get(file, str(file))
            if zipfile.is_zipfile(file):
                sources.extend(_zip_members(file, label, problems, limits or ZipLimits(), quarantine_dir))
            else:
                sources.append(Source(label, file))
    return sources, problems


def _refuse_archive(path: Path, label: str, reason: str, folder: Path | None) -> ImportOutcome:
    copy = quarantine_file(path, label, reason, folder) if folder is not None else None
    return ImportOutcome(label, "quarantined", reason=reason, quarantined_as=copy)


def _zip_members(
    path: Path, name: str, problems: list[ImportOutcome], limits: ZipLimits, folder: Path | None
) -> Iterator[Source]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        problems.append(ImportOutcome(name, "quarantined", reason=f"zip archive cannot be opened: {exc}"))
        return
    if len(infos) > limits.members:
        reason = (
            f"zip archive holds {len(infos)} files, above the limit of {limits.members} "
            "(setting PAINGUIDE_ZIP_MAX_MEMBERS); split it or import its folder"
        )
        problems.append(_refuse_archive(path, name, reason, folder))
        return
    for info in sorted(infos, key=lambda i: i.filename):
        if Path(info.filename).name.startswith("."):
            continue
        label = f"{name}!{info.filename}"
        if (refusal := limits.refusal(info)) is not None:
            problems.append(_refuse_archive(path, label, refusal, folder))
        else:
            yield Source(label, path, info.filename, max_bytes=limits.member_bytes)


def quarantine(data: bytes, label: str, reason: str, folder: Path) -> Path:
    """Copy refused bytes into ``folder`` with a ``.reason.txt`` beside them; returns the copy's path."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(label.replace("!", "_")).name)[-80:] or "file"
    target = folder / f"{digest}-{stem}"
    target.write_bytes(data)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    target.with_name(target.name + ".reason.txt").write_text(
        f"source: {label}\nquarantined: {stamp}\nreason: {reason}\n", encoding="utf-8"
    )
    return target


def quarantine_file(path: Path, label: str, reason: str, folder: Path) -> Path:
    """Copy a refused file (for example a whole zip archive) into ``folder`` with a ``.reason.txt``."""

    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.name)[-80:] or "file"
    target = folder / f"{digest.hexdigest()[:16]}-{stem}"
    shutil.copyfile(path, target)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    target.with_name(target.name + ".reason.txt").write_text(
        f"source: {label}\nquarantined: {stamp}\nreason: {reason}\n", encoding="utf-8"
    )
    return target


@dataclass(slots=True)
class _Parsed:
    source: Source
    data: bytes
    report: DoseReport
    skin: SkinDose | None = None


def skin_dose_of(data: bytes, report: DoseReport) -> SkinDose:
    """The peak skin dose estimate of a parsed report, or why there is none (never raises).

    Only reports whose device model pyskindose knows load pyskindose (about a second, once per process)
    and run its model (about a second each under load); every other report is decided without it.
    """

    return skin_dose_or_reason(data, report, work_dir=get_settings().data_dir / "pyskindose")


def _skin_at_import(report: DoseReport) -> SkinDose | None:
    """The "not estimable" answer the report settles alone; ``None``: estimated after the import."""

    return decided_without_model(report)


@dataclass(frozen=True, slots=True)
class SkinBackfill:
    """What :func:`estimate_pending_skin_doses` did."""

    estimated: int
    not_estimable: int
    pending: int


def estimate_pending_skin_doses(
    uow_factory: UowFactory,
    *,
    actor: str = "system",
    report_ids: list[int] | None = None,
    limit: int | None = None,
) -> SkinBackfill:
    """Run pyskindose for the reports the import left pending (all, or only ``report_ids``), one at a time.

    Each estimate is computed outside any transaction (about a second) and stored in its own short one with
    its audit entry, so imports and pages are never held up; a report another process finished first is
    skipped. ``pending`` counts the reports still waiting afterwards.
    """

    with uow_factory() as uow:
        waiting = uow.dose.pending(report_ids, limit)
    estimated = refused = 0
    for report_id in waiting:
        with uow_factory() as uow:
            data = uow.dose.pending_file(report_id)
        if data is None:
            continue
        try:
            skin = skin_dose_of(data, read_dose_report(data))
        except PainguideError as exc:  # the file was read at import; a failure now is named, not raised
            template = N_("the kept report could not be read again (%(detail)s)")
            skin = not_estimable([SkinReason(template, {"detail": str(exc)})])
        with uow_factory() as uow:
            if uow.dose.replace_skin(report_id, skin):
                detail: dict[str, object] = {"peak_skin_dose_mgy": skin.peak_skin_dose_mgy}
                uow.audit.record(actor, "dose.skin", "dose_report", str(report_id), detail)
                estimated += skin.peak_skin_dose_mgy is not None
                refused += skin.peak_skin_dose_mgy is None
            uow.commit()
    with uow_factory() as uow:
        left = len(uow.dose.pending(report_ids))
    return SkinBackfill(estimated, refused, left)


def _parse(source: Source, *, strict: bool, folder: Path) -> _Parsed | ImportOutcome:
    try:
        data = source.read()
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        return ImportOutcome(source.label, "quarantined", reason=f"cannot read: {exc}")
    try:
        report = read_dose_report(data, strict=strict)
        return _Parsed(source, data, report, _skin_at_import(report))
    except PainguideError as exc:
        reason = str(exc)
    except Exception as exc:  # never let one file stop the batch; the reason names the failure
        reason = f"unexpected error while reading: {type(exc).__name__}: {exc}"
    copy = quarantine(data, source.label, reason, folder)
    return ImportOutcome(source.label, "quarantined", reason=reason, quarantined_as=copy)


def import_sources(
    sources: list[Source],
    *,
    uow_factory: UowFactory,
    quarantine_dir: Path,
    strict: bool = False,
    actor: str = "system",
    progress: Progress | None = None,
    batch_size: int = 100,
) -> ImportSummary:
    """Import sources in batches; see the module docstring for the guarantees.

    Parameters
    ----------
    sources : list of Source
        From :func:`collect_sources`.
    uow_factory : callable
        Returns a fresh :class:`~painguide.store.uow.UnitOfWork`.
    quarantine_dir : Path
        Where refused files are copied.
    strict : bool
        Refuse reports with malformed values or unknown units.
    actor : str
        Recorded in the audit trail.
    progress : callable, optional
        Called as ``progress(done, total, label)`` after each source.
    batch_size : int
        Reports committed per transaction.

    Returns
    -------
    ImportSummary
    """
    summary = ImportSummary()
    batch: list[_Parsed] = []
    try:
        for done, source in enumerate(sources, start=1):
            parsed = _parse(source, strict=strict, folder=quarantine_dir)
            if isinstance(parsed, ImportOutcome):
                summary.outcomes.append(parsed)
            else:
                batch.append(parsed)
            if len(batch) >= batch_size:
                summary.outcomes.extend(_store(batch, uow_factory, quarantine_dir, actor))
                batch = []
            if progress is not None:
                progress(done, len(sources), source.label)
        if batch:
            summary.outcomes.extend(_store(batch, uow_factory, quarantine_dir, actor))
    except _Outage as outage:
        cause = outage.cause
        detail = str(getattr(cause, "orig", None) or cause).strip().splitlines()[0][:300]
        raise DatabaseUnavailableError(
            f"database: cannot store dose reports ({type(cause).__name__}: {detail}); "
            f"{summary.imported} reports of this run were stored before the failure and no file was "
            "quarantined for it; check that the database is reachable (PAINGUIDE_DATABASE_URL) and run the "
            "same import again: reports already stored are skipped"
        ) from cause
    return summary


class _Outage(Exception):
    """The database failed for a reason that is not the report's (connection lost, locked, schema missing)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _outage(exc: Exception) -> bool:
    """Whether a failure is the database's (stop the run) rather than one report's (quarantine it)."""
    return isinstance(exc, SQLAlchemyError) and not isinstance(exc, IntegrityError | DataError)


def _store(batch: list[_Parsed], uow_factory: UowFactory, folder: Path, actor: str) -> list[ImportOutcome]:
    try:
        return _store_together(batch, uow_factory, actor, folder)
    except Exception as first:  # the batch was rolled back: retry one by one so each report stands on its own
        if _outage(first):
            raise _Outage(first) from first
        outcomes = []
        for item in batch:
            try:
                outcomes.extend(_store_together([item], uow_factory, actor, folder))
            except Exception as exc:  # a report the database refuses is quarantined with the reason
                if _outage(exc):
                    raise _Outage(exc) from exc
                reason = f"database refused the report: {type(exc).__name__}: {exc}"
                copy = quarantine(item.data, item.source.label, reason, folder)
                outcomes.append(
                    ImportOutcome(
                        item.source.label, "quarantined", item.report.sop_instance_uid, reason, copy
                    )
                )
        return outcomes


def _content_key(report: DoseReport) -> tuple[object, ...]:
    t = report.totals
    return (report.study_instance_uid, report.study_datetime, t.event_count, t.dap_total_gy_cm2,
            t.rp_dose_total_mgy, t.dlp_total_mgy_cm)  # fmt: skip


def _twin_reason(uid: str, twin: int | str) -> str:
    return (
        f"same study, study time and dose totals as {twin} but another SOP Instance UID ({uid}): a damaged "
        "or re-identified copy would count the dose twice; import it only if it is a different report"
    )


def _store_together(
    batch: list[_Parsed], uow_factory: UowFactory, actor: str, folder: Path
) -> list[ImportOutcome]:
    """Store a batch in one transaction: a few statements for all its reports, one audit entry each."""

    outcomes: list[ImportOutcome | None] = []
    accepted: list[tuple[int, _Parsed]] = []
    with uow_factory() as uow:
        seen = uow.dose.existing_sop_uids({item.report.sop_instance_uid for item in batch})
        twins = uow.dose.same_content([item.report for item in batch])
        in_batch: dict[tuple[object, ...], str] = {}
        for item, stored in zip(batch, twins, strict=True):
            uid = item.report.sop_instance_uid
            if uid in seen:
                outcomes.append(ImportOutcome(item.source.label, "duplicate", uid))
                continue
            key = _content_key(item.report)
            twin = f"stored report {stored}" if stored is not None else in_batch.get(key)
            if twin is not None and item.report.study_instance_uid is not None:
                reason = _twin_reason(uid, twin)
                copy = quarantine(item.data, item.source.label, reason, folder)
                outcomes.append(ImportOutcome(item.source.label, "quarantined", uid, reason, copy))
                continue
            seen.add(uid)
            in_batch[key] = f"{item.source.label} (same import)"
            accepted.append((len(outcomes), item))
            outcomes.append(None)  # filled once stored
        new_ids = uow.dose.add(
            [(item.report, item.source.label, procedure_type_of(item.report)) for _, item in accepted]
        )
        pending = []
        for report_id, (position, item) in zip(new_ids, accepted, strict=True):
            if item.skin is not None:
                uow.dose.save_skin(report_id, item.skin)
            else:  # pyskindose can model it: estimated after the import, from the kept file
                pending.append((report_id, item.data))
            uid = item.report.sop_instance_uid
            detail: dict[str, object] = {"sop_instance_uid": uid, "source": item.source.label}
            uow.audit.record(actor, "dose.import", "dose_report", str(report_id), detail)
            warned = tuple(warning.message for warning in item.report.warnings)
            outcomes[position] = ImportOutcome(item.source.label, "imported", uid, warnings=warned)
        uow.dose.save_pending(pending, PENDING_NOTE)
        uow.commit()
    _link_to_procedures(new_ids, uow_factory, actor)
    return [outcome for outcome in outcomes if outcome is not None]


def _link_to_procedures(report_ids: list[int], uow_factory: UowFactory, actor: str) -> None:
    """Link new reports to their procedures (own transaction: a failure leaves them for manual linking)."""
    if not report_ids:  # e.g. only duplicates: the care-pathway package is not even loaded
        return
    from painguide.pathway.link_service import link_dose_reports

    try:
        with uow_factory() as uow:
            link_dose_reports(uow, report_ids, actor=actor)
    except Exception:  # the import stands; the reports stay in the unlinked list
        log.exception("linking %d imported dose reports failed; they are listed as unlinked", len(report_ids))


def import_dataset(
    dataset: Dataset,
    *,
    label: str,
    uow_factory: UowFactory,
    quarantine_dir: Path,
    strict: bool = False,
    actor: str = "dicom",
) -> ImportOutcome:
    """Import one dataset received over the network (the DICOM receiver's entry point).

    Parameters
    ----------
    dataset : pydicom.Dataset
        The received object, with ``file_meta`` set.
    label : str
        Where it came from, e.g. ``dicom:MODALITY_AE``.
    uow_factory, quarantine_dir, strict, actor
        As for :func:`import_sources`.

    Returns
    -------
    ImportOutcome
    """

    buffer = BytesIO()
    try:
        dataset.save_as(buffer, enforce_file_format=True)
    except Exception:  # keep whatever could be encoded; the parse below gives the reason
        buffer = BytesIO(buffer.getvalue())
    data = buffer.getvalue()
    try:
        report = parse_dataset(dataset, strict=strict)
    except PainguideError as exc:
        copy = quarantine(
            data, f"{label}-{dataset.get('SOPInstanceUID', 'unknown')}.dcm", str(exc), quarantine_dir
        )
        return ImportOutcome(label, "quarantined", reason=str(exc), quarantined_as=copy)
    parsed = _Parsed(Source(label, Path(label)), data, report, _skin_at_import(report))
    return _store([parsed], uow_factory, quarantine_dir, actor)[0]


def list_stored(
    uow_factory: UowFactory,
    *,
    patient_id: str | None = None,
    study_instance_uid: str | None = None,
    procedure_type: str | None = None,
    limit: int = 500,
    actor: str | None = None,
) -> list[StoredReport]:
    """Stored reports, newest first, filtered by patient, study or procedure type (``unmapped``: none).

    With ``actor`` (a person's read, e.g. ``painguide dose list``) the read is audited as
    ``dose.reports.read``; without it, an internal read by another service.
    """

    where = ReportFilter(
        patient_id=patient_id,
        study_instance_uid=study_instance_uid,
        procedure_type=None if procedure_type == UNMAPPED else procedure_type,
        unmapped=procedure_type == UNMAPPED,
    )
    with uow_factory() as uow:
        items = uow.dose.page(where, limit=limit)
        if actor is not None:
            detail: dict[str, object] = {"shown": len(items), "limit": limit, **where.described()}
            uow.audit.record(actor, "dose.reports.read", "dose_report", "*", detail)
            uow.commit()
        return items


def get_skin_dose(uow_factory: UowFactory, report_id: int) -> SkinDose | None:
    """The stored peak skin dose estimate of a report (``None`` when it was imported without one)."""

    with uow_factory() as uow:
        return uow.dose.skin(report_id)


def get_stored(uow_factory: UowFactory, report_id: int) -> StoredReport:
    """One stored report with its events (:class:`~painguide.errors.NotFoundError` if absent)."""

    with uow_factory() as uow:
        return uow.dose.get(report_id)
