"""Dose reports uploaded on the "Import reports" page, imported through the same service as ``dose import``.

The route saves each uploaded file (a DICOM dose report or a zip archive of them) to a private folder, within
the endpoint's size limit; :func:`import_uploads` checks the permission, expands zip archives under the
configured limits (:class:`~painguide.dose.service.ZipLimits`), imports through
:func:`~painguide.dose.service.import_sources` (idempotent on SOP Instance UID, transactional per batch, a bad
file quarantined with its reason, every stored report audited), audits the upload itself, and answers one
row per file: imported (with its report id), duplicate (with the stored report's id) or refused, with the
warnings of what was read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from painguide.auth import User, authorize
from painguide.dose.service import (
    ImportOutcome,
    Status,
    StatusCounts,
    UowFactory,
    ZipLimits,
    collect_sources,
    import_sources,
)
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.settings import get_settings

__all__ = ["UPLOAD_PREFIX", "UploadResult", "UploadRow", "UploadedFile", "import_uploads"]

UPLOAD_PREFIX = "upload:"
"""Stored reports uploaded on the page have the source ``upload:FILE`` (``upload:ARCHIVE!MEMBER``)."""
_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file as the browser sent it (``name``) and where the route saved it (``path``)."""

    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class UploadRow:
    """One line of the result page: a file (or zip member) and what became of it."""

    name: str
    status: Status
    report_id: int | None = None
    reason: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UploadResult(StatusCounts):
    """Every uploaded file's row, in upload order (zip members in name order)."""

    rows: tuple[UploadRow, ...]

    def _results(self) -> tuple[UploadRow, ...]:
        return self.rows

    @property
    def refused(self) -> int:
        return self.count("quarantined")

    @property
    def warned(self) -> int:
        return sum(1 for row in self.rows if row.warnings)


def _label(name: str) -> str:
    """The stored source of an uploaded file: its own name (without folders), shortened."""
    base = Path(name.replace("\\", "/")).name.strip() or "unnamed"
    return f"{UPLOAD_PREFIX}{base[-_NAME_CHARS:]}"


def import_uploads(
    files: Sequence[UploadedFile], *, actor: User, uow_factory: UowFactory, strict: bool = False
) -> UploadResult:
    """Import uploaded dose reports and zip archives (permission ``dose.import``).

    Parameters
    ----------
    files : sequence of UploadedFile
        The saved uploads, in the order they were sent.
    actor : User
        The signed-in user (checked against the permission matrix, recorded in the audit trail).
    uow_factory : callable
        Returns a fresh unit of work.
    strict : bool
        Refuse reports with malformed values or unknown units.

    Returns
    -------
    UploadResult

    Raises
    ------
    PermissionDeniedError
        The user's roles may not import dose reports.
    ValidationError
        No file was sent.
    DatabaseUnavailableError
        The database failed; nothing was quarantined for it (see :func:`import_sources`).
    """
    authorize(actor, "dose.import")
    if not files:
        raise ValidationError(
            "files",
            N_("no file was sent; choose one or more DICOM dose reports (.dcm) or a zip archive of them"),
        )
    settings = get_settings()
    labels = {file.path: _label(file.name) for file in files}
    sources, problems = collect_sources(
        [file.path for file in files],
        limits=ZipLimits.from_settings(),
        quarantine_dir=settings.quarantine_dir,
        labels=labels,
    )
    summary = import_sources(
        sources,
        uow_factory=uow_factory,
        quarantine_dir=settings.quarantine_dir,
        strict=strict,
        actor=actor.username,
        batch_size=settings.dose_import_batch_size,
    )
    outcomes = _in_upload_order([*problems, *summary.outcomes], list(labels.values()))
    with uow_factory() as uow:
        ids = uow.dose.ids_of({o.sop_instance_uid for o in outcomes if o.sop_instance_uid is not None})
        rows = tuple(_row(outcome, ids) for outcome in outcomes)
        counts = {status: sum(1 for r in rows if r.status == status) for status in ("imported", "duplicate")}
        detail: dict[str, object] = {
            "files": len(files),
            **counts,
            "refused": sum(1 for r in rows if r.status == "quarantined"),
        }
        uow.audit.record(actor.username, "dose.import.upload", "dose_report", "*", detail)
        uow.commit()
    return UploadResult(rows)


def _in_upload_order(outcomes: list[ImportOutcome], labels: list[str]) -> list[ImportOutcome]:
    """Outcomes sorted by the uploaded file they came from (zip members after their archive's refusals)."""
    position = {label: index for index, label in enumerate(labels)}

    def key(outcome: ImportOutcome) -> int:
        return position.get(outcome.label.split("!", 1)[0], len(labels))

    return sorted(outcomes, key=key)


def _row(outcome: ImportOutcome, ids: dict[str, int]) -> UploadRow:
    uid = outcome.sop_instance_uid
    stored = ids.get(uid) if uid is not None and outcome.status != "quarantined" else None
    name = outcome.label.removeprefix(UPLOAD_PREFIX)
    return UploadRow(name, outcome.status, stored, outcome.reason, outcome.warnings)
