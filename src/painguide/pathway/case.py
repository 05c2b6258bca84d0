"""A case as the gates see it: the patient, the case and every step recorded so far (pure, frozen).

:class:`CaseFile` is assembled by the service from the store; :func:`next_step` and :func:`stage_of` say
where the case stands. Stages are coarse (for lists), steps fine (what to do next).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from painguide.pathway.models import (
    IONIZING,
    Anticoagulation,
    CaseInfo,
    Checklist,
    ClinicalExam,
    Consent,
    ConsentRevocation,
    ConservativeTherapy,
    Diagnostic,
    FollowUp,
    Imaging,
    Indication,
    LabResult,
    Override,
    Patient,
    Plan,
    ProcedureRecord,
    RadiationJustification,
    Schedule,
)

__all__ = [
    "STAGES",
    "STEPS",
    "CaseFile",
    "PriorSession",
    "Stage",
    "Step",
    "next_step",
    "stage_of",
]

Step = Literal[
    "diagnostics",
    "conservative_therapies",
    "indication",
    "plan",
    "schedule",
    "anticoagulation",
    "justification",
    "consent",
    "checklist",
    "procedure",
    "follow_ups",
]
#: Every step in pathway order.
STEPS: tuple[Step, ...] = get_args(Step)
Stage = Literal["workup", "planning", "preparation", "ready", "follow_up", "closed"]
#: Coarse stages, in order; each step belongs to one.
STAGES: tuple[Stage, ...] = get_args(Stage)
_STAGE_OF_STEP: dict[str, Stage] = {
    "diagnostics": "workup",
    "conservative_therapies": "workup",
    "indication": "workup",
    "plan": "planning",
    "schedule": "planning",
    "anticoagulation": "preparation",
    "justification": "preparation",
    "consent": "preparation",
    "checklist": "preparation",
    "procedure": "ready",
    "follow_ups": "follow_up",
}


@dataclass(frozen=True, slots=True)
class PriorSession:
    """A procedure the patient had in another case, as the sequence and repetition rules read it.

    ``reliefs`` holds ``(days after the procedure, relief in percent)`` of each recorded follow-up.
    """

    case_id: int
    procedure: str
    region: str
    side: str
    levels: tuple[str, ...]
    performed_on: date
    reliefs: tuple[tuple[int, float], ...] = ()

    def best_relief(self, *, min_days: int = 0) -> float | None:
        """The best relief recorded at least ``min_days`` after the procedure (``None``: none recorded)."""
        values = [relief for days, relief in self.reliefs if days >= min_days]
        return max(values) if values else None


@dataclass(frozen=True, slots=True)
class CaseFile:
    """Everything recorded on one case, latest record of each step (diagnostics and therapies: all)."""

    case_id: int
    patient: Patient
    info: CaseInfo
    diagnostics: tuple[Diagnostic, ...] = ()
    therapies: tuple[ConservativeTherapy, ...] = ()
    indication: Indication | None = None
    plan: Plan | None = None
    schedule: Schedule | None = None
    anticoagulation: Anticoagulation | None = None
    justification: RadiationJustification | None = None
    consent: Consent | None = None
    revocation: ConsentRevocation | None = None
    checklist: Checklist | None = None
    procedure: ProcedureRecord | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    overrides: tuple[Override, ...] = ()
    history: tuple[PriorSession, ...] = ()

    @property
    def exams(self) -> tuple[ClinicalExam, ...]:
        """Clinical examinations."""
        return tuple(d for d in self.diagnostics if isinstance(d, ClinicalExam))

    @property
    def imaging(self) -> tuple[Imaging, ...]:
        """Imaging studies."""
        return tuple(d for d in self.diagnostics if isinstance(d, Imaging))

    def labs(self, test: str) -> tuple[LabResult, ...]:
        """Laboratory results of one test, oldest first."""
        found = [d for d in self.diagnostics if isinstance(d, LabResult) and d.test == test]
        return tuple(sorted(found, key=lambda lab: lab.on))

    @property
    def modality(self) -> str | None:
        """The planned modality (``None`` before the plan)."""
        return self.plan.modality if self.plan is not None else None

    @property
    def ionizing(self) -> bool:
        """Whether the planned modality uses X-rays (and so needs a justification)."""
        return self.modality in IONIZING

    @property
    def plan_current(self) -> bool:
        """A plan exists for the current indication's procedure."""
        return (
            self.plan is not None
            and self.indication is not None
            and self.plan.procedure == self.indication.procedure
        )

    @property
    def overridden_codes(self) -> frozenset[str]:
        """Gate codes a physician has overridden on this case."""
        return frozenset(o.code for o in self.overrides)

    @property
    def procedure_day(self) -> date | None:
        """The scheduled day of the procedure (``None`` before scheduling)."""
        return self.schedule.at.date() if self.schedule is not None else None

    def anticoagulation_current(self) -> bool:
        """A resolved anticoagulation plan exists for today's drug list and the scheduled time."""
        if not self.patient.drugs:
            return True
        record = self.anticoagulation
        if record is None or self.schedule is None:
            return False
        planned = {d.drug for d in record.drugs}
        return (
            record.procedure_at == self.schedule.at
            and planned == set(self.patient.drugs)
            and all(d.resolved for d in record.drugs)
        )

    def consent_current(self) -> bool:
        """Consent given, not revoked, for the planned modality."""
        return self.consent is not None and self.revocation is None and self.consent.modality == self.modality

    def justification_current(self) -> bool:
        """A justification exists for the planned modality, or none is needed."""
        if not self.ionizing:
            return True
        return self.justification is not None and self.justification.modality == self.modality

    def checklist_complete(self) -> bool:
        """Every checklist item that applies to the planned modality is confirmed."""
        return not self.missing_checklist_items()

    def missing_checklist_items(self) -> tuple[str, ...]:
        """Checklist items that apply and are not confirmed (all of them without a checklist)."""
        if self.plan is None:
            return ()
        required = Checklist.required_items(self.plan.modality, self.plan.contrast)
        items = self.checklist.items if self.checklist is not None else {}
        return tuple(k for k in required if not items.get(k, False))


def next_step(case: CaseFile) -> Step | None:
    """The first step not yet done, or ``None`` when the case is complete.

    Conservative therapy counts as done once an indication is recorded (not every procedure needs it),
    anticoagulation when the patient takes no antithrombotic drug, and the justification for ultrasound
    and landmark procedures.
    """
    checks: tuple[tuple[Step, bool], ...] = (
        ("diagnostics", bool(case.diagnostics)),
        ("conservative_therapies", bool(case.therapies) or case.indication is not None),
        ("indication", case.indication is not None),
        ("plan", case.plan_current),
        ("schedule", case.schedule is not None),
        ("anticoagulation", case.anticoagulation_current()),
        ("justification", case.justification_current()),
        ("consent", case.consent_current()),
        ("checklist", case.checklist is not None and case.checklist_complete()),
        ("procedure", case.procedure is not None),
        ("follow_ups", bool(case.follow_ups) and all(f.result is not None for f in case.follow_ups)),
    )
    return next((step for step, done in checks if not done), None)


def stage_of(step: Step | None) -> Stage:
    """The coarse stage a case whose next step is ``step`` is in.

    Examples
    --------
    >>> stage_of("consent"), stage_of(None)
    ('preparation', 'closed')
    """
    return "closed" if step is None else _STAGE_OF_STEP[step]
