"""What the exports read about one case (pure, frozen): the pathway's records, the performed procedure with
its follow-ups, and summaries of the dose reports and ultrasound analyses linked to it.

:class:`CaseRecord` is assembled by :mod:`painguide.interop.service` from the store; the FHIR mapping
(:mod:`painguide.interop.fhir`) and the reports (:mod:`painguide.interop.reports`) read only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from painguide.pathway.models import (
    CaseInfo,
    Consent,
    ConsentRevocation,
    Indication,
    Override,
    Patient,
    Plan,
    RadiationJustification,
)
from painguide.training.records import PerformedCase

__all__ = ["CaseRecord", "CineSummary", "DoseSummary"]


@dataclass(frozen=True, slots=True)
class DoseSummary:
    """A dose report linked to the procedure (totals as stored; ``None`` where the report has none)."""

    report_id: int
    sop_instance_uid: str
    study_instance_uid: str | None
    kind: str
    study_datetime: datetime | None
    dap_total_gy_cm2: float | None
    rp_dose_total_mgy: float | None
    fluoro_time_s: float | None
    dlp_total_mgy_cm: float | None
    device: str | None = None


@dataclass(frozen=True, slots=True)
class CineSummary:
    """An ultrasound analysis linked to the procedure: needle visibility, spread, warnings, overlay stills."""

    analysis_id: int
    study_instance_uid: str | None
    sop_instance_uid: str | None
    created_at: datetime
    frames: int
    duration_s: float
    needle_visible_fraction: float
    max_spread_area_mm2: float
    warning_count: int
    warnings: tuple[tuple[str, float | None], ...] = ()
    """Each warning event's type and the second of the cine it came at."""
    stills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """One case as the exports read it."""

    patient_id: int
    patient: Patient
    case_id: int
    info: CaseInfo
    opened_at: datetime
    indication: Indication | None = None
    plan: Plan | None = None
    justification: RadiationJustification | None = None
    consent: Consent | None = None
    revocation: ConsentRevocation | None = None
    overrides: tuple[Override, ...] = ()
    performed: PerformedCase | None = None
    procedure_names: dict[str, str] = field(default_factory=dict)
    doses: tuple[DoseSummary, ...] = ()
    cines: tuple[CineSummary, ...] = ()
    drl: dict[str, Any] = field(default_factory=dict)

    @property
    def procedure_id(self) -> str | None:
        """The catalogue id of the procedure performed, else the one indicated."""
        if self.performed is not None:
            return self.performed.procedure_id
        return self.indication.procedure if self.indication else None

    @property
    def modality(self) -> str | None:
        """The modality performed, else the one planned."""
        if self.performed is not None:
            return self.performed.modality
        return self.plan.modality if self.plan else None

    def name(self, language: str = "en") -> str:
        """The procedure's name in ``language`` (the catalogue id when the catalogue does not know it)."""
        names = self.procedure_names
        return names.get(language) or names.get("en") or self.procedure_id or ""
