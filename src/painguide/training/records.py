"""Records the logbook and the outcome figures read (pure): a performed procedure as the care pathway keeps
it, a trainee's simulator or cadaver session, the disability score of a follow-up.

:class:`PerformedCase` carries the pathway's :class:`~painguide.pathway.models.ProcedureRecord` with what
the logbook needs beside it: the case's baseline NRS, its follow-ups and whether the target was reached (an
assessment the pathway does not record). :meth:`PerformedCase.as_performed` turns it into the logbook's
:class:`~painguide.training.logbook.PerformedProcedure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from painguide.catalogue.models import Modality
from painguide.pathway.models import FollowUp, ProcedureRecord
from painguide.training.logbook import PerformedProcedure

__all__ = ["DisabilityScore", "PerformedCase", "TrainingSession", "complications_of"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class TrainingSession(_Record):
    """A training session on a simulator or a cadaver, logged by (or for) the trainee."""

    id: int | None = None
    operator: str = Field(min_length=1, max_length=64)
    procedure_id: str = Field(min_length=1, max_length=100)
    modality: Modality
    setting: Literal["simulator", "cadaver"]
    performed_on: date
    supervisor: str | None = Field(default=None, max_length=100)
    target_reached: bool | None = None
    complications: tuple[str, ...] = ()
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("complications")
    @classmethod
    def _drop_empty(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip() for v in values if v.strip())

    @field_validator("supervisor", "note")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    def as_performed(self) -> PerformedProcedure:
        """The logbook's record of this session."""
        return PerformedProcedure(
            operator=self.operator,
            procedure_id=self.procedure_id,
            modality=self.modality,
            performed_on=self.performed_on,
            supervisor=self.supervisor,
            target_reached=self.target_reached,
            complications=self.complications,
            setting=self.setting,
        )


class DisabilityScore(_Record):
    """A disability score: Oswestry (ODI, lumbar) or Neck Disability Index (NDI, cervical), 0-100 %."""

    scale: Literal["ODI", "NDI"]
    score: float = Field(ge=0, le=100)


def complications_of(record: ProcedureRecord) -> tuple[str, ...]:
    """The complications written on a procedure record (empty when the field was left empty).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> r = ProcedureRecord(performed_at=datetime(2026, 1, 5, tzinfo=UTC), operator="dr-a",
    ...                     modality="ultrasound", side="left", complications="  vasovagal  ")
    >>> complications_of(r), complications_of(r.model_copy(update={"complications": " "}))
    (('vasovagal',), ())
    """
    text = (record.complications or "").strip()
    return (text,) if text else ()


@dataclass(frozen=True, slots=True)
class PerformedCase:
    """One performed procedure of the care pathway with its follow-ups, as the logbook and outcomes read it.

    ``follow_ups`` pairs each scheduled follow-up with the disability score answered at it (if any).
    ``target_reached`` is ``None`` until someone assessed it.
    """

    case_id: int
    patient_id: int
    pseudonym: str
    procedure_id: str
    region: str
    modality: Modality
    accession_number: str
    record: ProcedureRecord
    baseline_nrs: int | None
    baseline_disability: tuple[str, float] | None
    follow_ups: tuple[tuple[FollowUp, DisabilityScore | None], ...] = ()
    target_reached: bool | None = None
    dose_report_ids: tuple[int, ...] = ()
    sono_analysis_ids: tuple[int, ...] = ()
    study_instance_uid: str | None = None

    @property
    def performed_at(self) -> datetime:
        """When the procedure was performed."""
        return self.record.performed_at

    @property
    def operator(self) -> str:
        """Who performed it."""
        return self.record.operator

    def recorded_follow_ups(self) -> tuple[FollowUp, ...]:
        """Follow-ups with a result, by days after the procedure."""
        done = [f for f, _ in self.follow_ups if f.result is not None]
        return tuple(sorted(done, key=lambda f: f.days_after))

    def short_term_relief(self, within_days: int) -> float | None:
        """Relief (%) at the earliest recorded follow-up no later than ``within_days`` after the procedure."""
        for follow_up in self.recorded_follow_ups():
            if follow_up.days_after > within_days:
                break
            assert follow_up.result is not None
            relief = follow_up.result.relief(self.baseline_nrs)
            if relief is not None:
                return relief
        return None

    def as_performed(self, *, relief_within_days: int) -> PerformedProcedure:
        """The logbook's record: operator, supervisor, target reached, complications, short-term relief."""
        return PerformedProcedure(
            operator=self.record.operator,
            procedure_id=self.procedure_id,
            modality=self.modality,
            performed_on=self.record.performed_at.date(),
            supervisor=self.record.supervisor or None,
            target_reached=self.target_reached,
            complications=complications_of(self.record),
            relief_percent=self.short_term_relief(relief_within_days),
            setting="patient",
        )
