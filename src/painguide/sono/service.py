"""Services that combine analysis with storage: analyse a DICOM cine and store its summary for the study."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from painguide.errors import ValidationError
from painguide.sono.analysis import AnalysisReport, analyze_frames

__all__ = ["MAX_UPLOAD_BYTES", "analyse_and_store"]

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def analyse_and_store(
    uow: Any,
    data: bytes,
    *,
    name: str,
    actor: str,
    injection_at_s: float | None = None,
    study_instance_uid: str | None = None,
) -> tuple[int, AnalysisReport]:
    """Analyse an uploaded DICOM cine, store the summary, audit it and commit.

    Parameters
    ----------
    uow : UnitOfWork
        Unit of work (committed here).
    data : bytes
        The DICOM file content.
    name : str
        Original file name.
    actor : str
        User name for the record and the audit trail.
    injection_at_s : float, optional
        Injection start on the cine's time axis.
    study_instance_uid : str, optional
        Study to attach the analysis to (defaults to the file's Study Instance UID).

    Returns
    -------
    tuple of (int, AnalysisReport)
        Stored id and the full report.
    """
    import pydicom

    from painguide.sono.dicom import read_dicom_cine
    from painguide.store.audit import record_audit
    from painguide.store.sono_repository import add_analysis

    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError("file", "the cine is larger than 200 MB; export a shorter clip")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.dcm"
        path.write_bytes(data)
        cine = read_dicom_cine(path)
        header = pydicom.dcmread(path, stop_before_pixels=True)
    study = study_instance_uid or header.get("StudyInstanceUID")
    report = analyze_frames(cine.frames, name=name, injection_at_s=injection_at_s)
    row = add_analysis(
        uow.session,
        report.as_dict(),
        actor=actor,
        study_instance_uid=str(study) if study else None,
        sop_instance_uid=str(header.get("SOPInstanceUID", "")) or None,
    )
    record_audit(uow.session, actor, "sono.analysis.add", "sono_analysis", str(row.id), {"file": name})
    uow.commit()
    return row.id, report
