"""Interoperability and reports: FHIR R4 resources of a case (:mod:`painguide.interop.fhir`, pure mapping
from :class:`~painguide.interop.records.CaseRecord`), procedure and quality reports
(:mod:`painguide.interop.reports`), and the export use cases (:mod:`painguide.interop.service`).
"""

from __future__ import annotations

from painguide.interop.records import CaseRecord, CineSummary, DoseSummary

__all__ = ["CaseRecord", "CineSummary", "DoseSummary"]
