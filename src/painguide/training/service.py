"""Competence use cases: the logbook from the care pathway's records, learning curves, competence
declarations, training sessions, procedure assessments, continuing education and reminders.

Every function takes the unit of work and the acting :class:`~painguide.auth.User`, authorises the action
(``training.logbook.own`` for one's own data, ``training.logbook.all`` for anyone's, ``training.declare``,
``training.education.own`` / ``.all``), reads or writes through ``uow.training``, audits in the same
transaction and commits. ``now`` (UTC, timezone-aware) defaults to the current time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from painguide.auth import User, authorize
from painguide.catalogue.models import Modality
from painguide.errors import NotFoundError, PermissionDeniedError, ValidationError
from painguide.i18n.marks import N_
from painguide.settings import get_settings
from painguide.store.training_tables import CompetenceRow
from painguide.store.uow import UnitOfWork
from painguide.store.users import to_user
from painguide.training.cusum import LearningCurve, learning_curve
from painguide.training.education import (
    Course,
    JustificationEligibility,
    RadiationQualification,
    RequirementStatus,
    can_sign_justification,
    requirement_status,
)
from painguide.training.logbook import LogbookEntry, PerformedProcedure, is_success, logbook, outcome_series
from painguide.training.policy import StaffRole, TrainingPolicy, load_training_policy
from painguide.training.records import PerformedCase, TrainingSession

__all__ = [
    "CompetenceView",
    "CurveView",
    "EducationView",
    "LogbookItem",
    "LogbookView",
    "Reminder",
    "assess_procedure",
    "declare_competence",
    "declared_competence",
    "education_status",
    "get_competences",
    "get_logbook",
    "learning_curves",
    "log_session",
    "operators",
    "record_course",
    "reminders",
    "revoke_competence",
    "training_policy",
]

Basis = Literal["lc_cusum", "attestation"]


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValidationError("now", N_("give a time with its time zone"))
    return now


def training_policy() -> TrainingPolicy:
    """The training policy in force: the packaged defaults, with ``PAINGUIDE_TRAINING_POLICY`` merged over."""

    return load_training_policy(get_settings().training_policy)


def _relief_days(policy: TrainingPolicy) -> int:
    return int(policy.logbook.short_term_relief_days.value or 0)


def _subject(actor: User, operator: str | None, own: str, everyone: str) -> str:
    """The person a read or write is about; anyone else's data needs the ``everyone`` action."""
    person = operator or actor.username
    authorize(actor, own if person == actor.username else everyone)
    return person


# ---------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class LogbookItem:
    """One performed procedure in the logbook, judged by the procedure's success criterion."""

    case_id: int
    performed_on: date
    procedure_id: str
    modality: str
    supervisor: str | None
    target_reached: bool | None
    relief_percent: float | None
    complications: tuple[str, ...]
    success: bool | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "case_id": self.case_id,
            "performed_on": self.performed_on.isoformat(),
            "procedure_id": self.procedure_id,
            "modality": self.modality,
            "supervisor": self.supervisor,
            "target_reached": self.target_reached,
            "relief_percent": self.relief_percent,
            "complications": list(self.complications),
            "success": self.success,
        }


@dataclass(frozen=True, slots=True)
class CompetenceView:
    """A competence declaration as shown."""

    id: int
    operator: str
    procedure_id: str
    modality: str
    declared_on: date
    basis: str
    declared_by: str
    note: str | None
    detail: dict[str, object]
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None

    @classmethod
    def of(cls, row: CompetenceRow) -> CompetenceView:
        return cls(
            id=row.id,
            operator=row.operator,
            procedure_id=row.procedure,
            modality=row.modality,
            declared_on=row.declared_on,
            basis=row.basis,
            declared_by=row.declared_by,
            note=row.note,
            detail=dict(row.detail or {}),
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
            revoke_reason=row.revoke_reason,
        )

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "id": self.id,
            "operator": self.operator,
            "procedure_id": self.procedure_id,
            "modality": self.modality,
            "declared_on": self.declared_on.isoformat(),
            "basis": self.basis,
            "declared_by": self.declared_by,
            "note": self.note,
            "detail": self.detail,
            "active": self.active,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "revoke_reason": self.revoke_reason,
        }


@dataclass(frozen=True, slots=True)
class LogbookView:
    """An operator's logbook: counts per procedure × modality × setting, every procedure, every session."""

    operator: str
    entries: tuple[LogbookEntry, ...]
    items: tuple[LogbookItem, ...]
    sessions: tuple[TrainingSession, ...]
    competences: tuple[CompetenceView, ...]
    criteria: dict[str, dict[str, object]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON form (``painguide training logbook --json``)."""
        return {
            "operator": self.operator,
            "entries": [e.to_dict() for e in self.entries],
            "procedures": [i.to_dict() for i in self.items],
            "sessions": [s.model_dump(mode="json") for s in self.sessions],
            "competences": [c.to_dict() for c in self.competences],
            "criteria": self.criteria,
        }


@dataclass(frozen=True, slots=True)
class CurveView:
    """The learning curve of one operator for one procedure and modality, and its competence state."""

    operator: str
    procedure_id: str
    modality: str
    procedures: int
    not_assessable: int
    curve: LearningCurve
    declared: CompetenceView | None

    @property
    def crossed(self) -> bool:
        """The LC-CUSUM has reached its limit."""
        return self.curve.competent_at is not None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "operator": self.operator,
            "procedure_id": self.procedure_id,
            "modality": self.modality,
            "procedures": self.procedures,
            "not_assessable": self.not_assessable,
            "curve": self.curve.to_dict(),
            "declared": self.declared.to_dict() if self.declared else None,
        }


@dataclass(frozen=True, slots=True)
class Reminder:
    """Something a person has to do by a day: hours of a requirement, or the radiation-protection refresh."""

    person: str
    kind: Literal["requirement", "radiation_refresher"]
    subject: str
    due_on: date | None
    overdue: bool
    message: str
    source: str | None = None
    status: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON form (``painguide training reminders --json``)."""
        return {
            "person": self.person,
            "kind": self.kind,
            "subject": self.subject,
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "overdue": self.overdue,
            "message": self.message,
            "source": self.source,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class EducationView:
    """A person's courses, requirement statuses, radiation-protection qualification and reminders."""

    person: str
    roles: tuple[str, ...]
    courses: tuple[Course, ...]
    requirements: tuple[RequirementStatus, ...]
    qualifications: tuple[dict[str, str | None], ...]
    justification: JustificationEligibility
    reminders: tuple[Reminder, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "person": self.person,
            "roles": list(self.roles),
            "courses": [
                {
                    "attended_on": c.attended_on.isoformat(),
                    "provider": c.provider,
                    "topic": c.topic,
                    "modality": c.modality,
                    "hours": c.hours,
                }
                for c in self.courses
            ],
            "requirements": [r.to_dict() for r in self.requirements],
            "qualifications": list(self.qualifications),
            "may_sign_justification": self.justification.allowed,
            "justification_reasons": list(self.justification.reasons),
            "reminders": [r.to_dict() for r in self.reminders],
        }


# --------------------------------------------------------------------------------------------- logbook


def _records(
    cases: list[PerformedCase], sessions: list[TrainingSession], policy: TrainingPolicy
) -> list[PerformedProcedure]:
    days = _relief_days(policy)
    return [c.as_performed(relief_within_days=days) for c in cases] + [s.as_performed() for s in sessions]


def get_logbook(
    uow: UnitOfWork, actor: User, operator: str | None = None, *, now: datetime | None = None
) -> LogbookView:
    """An operator's logbook (one's own unless ``training.logbook.all``); the read is audited."""
    person = _subject(actor, operator, "training.logbook.own", "training.logbook.all")
    policy = training_policy()
    cases = uow.training.performed(operator=person)
    sessions = uow.training.sessions(person)
    records = _records(cases, sessions, policy)
    days = _relief_days(policy)
    items = []
    for case in cases:
        performed = case.as_performed(relief_within_days=days)
        criterion = policy.success_criteria.for_procedure(case.procedure_id)
        items.append(
            LogbookItem(
                case_id=case.case_id,
                performed_on=performed.performed_on,
                procedure_id=case.procedure_id,
                modality=case.modality,
                supervisor=performed.supervisor,
                target_reached=performed.target_reached,
                relief_percent=performed.relief_percent,
                complications=performed.complications,
                success=is_success(performed, criterion),
            )
        )
    criteria = {
        pid: policy.success_criteria.for_procedure(pid).model_dump(mode="json")
        for pid in sorted({r.procedure_id for r in records})
    }
    uow.audit.record(actor.username, "training.logbook.read", "operator", person, {"cases": len(cases)})
    uow.commit()
    return LogbookView(
        operator=person,
        entries=logbook(records, policy.success_criteria),
        items=tuple(reversed(items)),
        sessions=tuple(reversed(sessions)),
        competences=tuple(CompetenceView.of(r) for r in uow.training.competences(person)),
        criteria=criteria,
    )


def learning_curves(
    uow: UnitOfWork,
    actor: User,
    operator: str | None = None,
    *,
    horizon: int | None = None,
    now: datetime | None = None,
) -> list[CurveView]:
    """CUSUM and LC-CUSUM per procedure × modality the operator performed on patients (audited read)."""
    person = _subject(actor, operator, "training.logbook.own", "training.logbook.all")
    policy = training_policy()
    design = policy.cusum.design()
    cases = uow.training.performed(operator=person)
    records = _records(cases, [], policy)
    active = {(r.procedure, r.modality): r for r in uow.training.competences(person, active_only=True)}
    views = []
    pairs: set[tuple[str, Modality]] = {(r.procedure_id, r.modality) for r in records}
    for procedure_id, modality in sorted(pairs):
        series = outcome_series(
            records, policy.success_criteria, operator=person, procedure_id=procedure_id, modality=modality
        )
        count = sum(1 for r in records if (r.procedure_id, r.modality) == (procedure_id, modality))
        declared = active.get((procedure_id, modality))
        views.append(
            CurveView(
                operator=person,
                procedure_id=procedure_id,
                modality=modality,
                procedures=count,
                not_assessable=count - len(series),
                curve=learning_curve(series, design, horizon=horizon),
                declared=CompetenceView.of(declared) if declared else None,
            )
        )
    uow.audit.record(actor.username, "training.curves.read", "operator", person, {"curves": len(views)})
    uow.commit()
    return views


def operators(uow: UnitOfWork, actor: User) -> list[str]:
    """Everyone with a logbook (performed procedures or logged sessions), for choosing one."""
    authorize(actor, "training.logbook.all")
    return uow.training.operators()


def get_competences(uow: UnitOfWork, actor: User, operator: str | None = None) -> list[CompetenceView]:
    """An operator's competence declarations, newest first (revoked ones included)."""
    person = _subject(actor, operator, "training.logbook.own", "training.logbook.all")
    return [CompetenceView.of(r) for r in uow.training.competences(person)]


def declared_competence(uow: UnitOfWork, operator: str, on: date) -> frozenset[tuple[str, str]]:
    """``(procedure, modality)`` pairs the operator is declared competent for on ``on`` (for the gate)."""
    return uow.training.declared(operator, on)


def declare_competence(
    uow: UnitOfWork,
    actor: User,
    operator: str,
    procedure_id: str,
    modality: Modality,
    *,
    basis: Basis = "lc_cusum",
    note: str | None = None,
    horizon: int | None = None,
    now: datetime | None = None,
) -> CompetenceView:
    """Declare an operator competent for a procedure and modality.

    ``lc_cusum``: refused unless the operator's LC-CUSUM has reached its limit. ``attestation`` (an
    experienced operator, competence shown elsewhere): a written reason of at least 10 characters. Nobody
    declares their own competence; an active declaration is not declared twice.
    """
    authorize(actor, "training.declare")
    now = _now(now)
    if actor.username == operator:
        raise PermissionDeniedError.templated(
            N_("operator: nobody declares their own competence; ask a supervisor")
        )
    if uow.users.active(operator) is None:
        raise ValidationError(
            "operator", N_("no active account %(name)s; check the name"), name=repr(operator)
        )
    for row in uow.training.competences(operator, active_only=True):
        if (row.procedure, row.modality) == (procedure_id, modality):
            raise ValidationError(
                "procedure",
                N_("%(operator)s is declared competent for %(procedure)s under %(modality)s already"),
                operator=operator,
                procedure=procedure_id,
                modality=modality,
            )
    detail: dict[str, object]
    if basis == "lc_cusum":
        detail = _crossed_curve(uow, operator, procedure_id, modality, horizon)
    elif basis == "attestation":
        if note is None or len(note.strip()) < 10:
            raise ValidationError(
                "note", N_("an attestation needs a written reason of at least 10 characters")
            )
        detail = {}
    else:
        raise ValidationError("basis", N_("lc_cusum or attestation (got %(value)s)"), value=repr(basis))
    row = uow.training.add_competence(
        CompetenceRow(
            operator=operator,
            procedure=procedure_id,
            modality=modality,
            declared_on=now.date(),
            basis=basis,
            detail=detail,
            note=(note or "").strip() or None,
            declared_by=actor.username,
            declared_at=now,
        )
    )
    audit = {"procedure": procedure_id, "modality": modality, "basis": basis}
    uow.audit.record(actor.username, "training.declare", "operator", operator, audit)
    uow.commit()
    return CompetenceView.of(row)


def _crossed_curve(
    uow: UnitOfWork, operator: str, procedure_id: str, modality: Modality, horizon: int | None
) -> dict[str, object]:
    policy = training_policy()
    records = _records(uow.training.performed(operator=operator), [], policy)
    series = outcome_series(
        records, policy.success_criteria, operator=operator, procedure_id=procedure_id, modality=modality
    )
    curve = learning_curve(series, policy.cusum.design(), horizon=horizon)
    if curve.competent_at is None:
        last = curve.lc_scores[-1] if curve.lc_scores else 0.0
        raise ValidationError(
            "basis",
            N_(
                "the LC-CUSUM of %(operator)s for %(procedure)s under %(modality)s has not reached its limit "
                "(score %(score)s of h = %(h)s after %(n)s assessable procedures): wait for more procedures, "
                "or attest competence with a written reason"
            ),
            operator=operator,
            procedure=procedure_id,
            modality=modality,
            score=f"{last:.2f}",
            h=f"{curve.h:.2f}",
            n=len(series),
        )
    return {
        "h": curve.h,
        "limit": curve.limit,
        "horizon": curve.horizon,
        "competent_at": curve.competent_at,
        "procedures": len(series),
        "design": {"p0": curve.design.p0, "p1": curve.design.p1, "alpha": curve.design.alpha,
                   "beta": curve.design.beta},
    }  # fmt: skip


def revoke_competence(
    uow: UnitOfWork, actor: User, declaration_id: int, *, reason: str, now: datetime | None = None
) -> CompetenceView:
    """Revoke a competence declaration with a written reason (the gate then asks for a supervisor again)."""
    authorize(actor, "training.declare")
    now = _now(now)
    if len(reason.strip()) < 10:
        raise ValidationError("reason", N_("give a written reason of at least 10 characters"))
    row = uow.training.get_competence(declaration_id)
    if row.revoked_at is not None:
        raise ValidationError(
            "declaration_id", N_("declaration %(id)s is revoked already"), id=declaration_id
        )
    row.revoked_at, row.revoked_by, row.revoke_reason = now, actor.username, reason.strip()
    audit = {"declaration": declaration_id, "procedure": row.procedure, "modality": row.modality}
    uow.audit.record(actor.username, "training.revoke", "operator", row.operator, audit)
    uow.commit()
    return CompetenceView.of(row)


def log_session(
    uow: UnitOfWork, actor: User, item: TrainingSession, *, now: datetime | None = None
) -> TrainingSession:
    """Log a simulator or cadaver session (one's own; for someone else with ``training.logbook.all``)."""
    _subject(actor, item.operator, "training.logbook.own", "training.logbook.all")
    now = _now(now)
    if item.performed_on > now.date():
        raise ValidationError(
            "performed_on", N_("the session lies in the future; give the day it took place")
        )
    row = uow.training.add_session(item, actor=actor.username, at=now)
    detail = {"procedure": item.procedure_id, "modality": item.modality, "setting": item.setting}
    uow.audit.record(actor.username, "training.session", "operator", item.operator, detail)
    uow.commit()
    return item.model_copy(update={"id": row.id})


def assess_procedure(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    *,
    target_reached: bool,
    note: str | None = None,
    now: datetime | None = None,
) -> LogbookItem:
    """Record whether the target was reached in a case's procedure (by its operator or supervisor, or by a
    physician with ``training.logbook.all``)."""
    now = _now(now)
    found = uow.training.performed(case_ids=[case_id])
    if not found:
        raise NotFoundError(f"case {case_id} has no performed procedure; record the procedure first")
    case = found[0]
    if actor.username in (case.record.operator, case.record.supervisor):
        authorize(actor, "training.logbook.own")
    else:
        authorize(actor, "training.logbook.all")
    uow.training.set_assessment(
        case_id,
        target_reached=target_reached,
        note=(note or "").strip() or None,
        actor=actor.username,
        at=now,
    )
    detail = {"target_reached": target_reached, "operator": case.record.operator}
    uow.audit.record(actor.username, "training.assess", "case", str(case_id), detail)
    uow.commit()
    policy = training_policy()
    updated = uow.training.performed(case_ids=[case_id])[0]
    performed = updated.as_performed(relief_within_days=_relief_days(policy))
    return LogbookItem(
        case_id=case_id,
        performed_on=performed.performed_on,
        procedure_id=updated.procedure_id,
        modality=updated.modality,
        supervisor=performed.supervisor,
        target_reached=performed.target_reached,
        relief_percent=performed.relief_percent,
        complications=performed.complications,
        success=is_success(performed, policy.success_criteria.for_procedure(updated.procedure_id)),
    )


# ------------------------------------------------------------------------------------------- education


def record_course(uow: UnitOfWork, actor: User, course: Course, *, now: datetime | None = None) -> Course:
    """Record a course (one's own; for someone else with ``training.education.all``)."""
    _subject(actor, course.person, "training.education.own", "training.education.all")
    now = _now(now)
    if course.attended_on > now.date():
        raise ValidationError("attended_on", N_("the course lies in the future; record it once attended"))
    if uow.users.active(course.person) is None:
        raise ValidationError(
            "person", N_("no active account %(name)s; check the name"), name=repr(course.person)
        )
    uow.training.add_course(course, actor=actor.username, at=now)
    detail = {"topic": course.topic, "hours": course.hours, "attended_on": course.attended_on.isoformat()}
    uow.audit.record(actor.username, "training.course", "user", course.person, detail)
    uow.commit()
    return course


def _qualification(
    uow: UnitOfWork, person: str
) -> tuple[RadiationQualification | None, list[dict[str, str | None]]]:
    rows = uow.training.qualifications(person)
    shown = [
        {
            "certificate": r.certificate,
            "valid_from": r.valid_from.isoformat() if r.valid_from else None,
            "refresher_due": r.valid_until.isoformat(),
        }
        for r in rows
    ]
    if not rows:
        return None, shown
    best = rows[0]  # the one valid longest
    return (
        RadiationQualification(
            holder=person, acquired_on=best.valid_from or date.min, refresher_due=best.valid_until
        ),
        shown,
    )


def _reminders_for(
    person: str,
    statuses: tuple[RequirementStatus, ...],
    qualification: RadiationQualification | None,
    roles: frozenset[str],
    *,
    today: date,
    window: int,
) -> list[Reminder]:
    horizon = today + timedelta(days=window)
    out = []
    for status in statuses:
        req = status.requirement
        if status.met and status.due_by > horizon:
            continue
        if not status.met:
            message = (
                f"{status.hours_missing:g} of {req.min_hours:g} hours of {req.topic or 'education'} missing "
                f"in the {req.period_months} months up to today"
            )
        else:
            message = f"{req.id}: hours fall short on {status.due_by.isoformat()} unless a course is added"
        out.append(
            Reminder(
                person, "requirement", req.id, status.due_by, not status.met, message, req.source, req.status
            )
        )
    if qualification is not None and "physician" in roles and qualification.refresher_due is not None:
        due = qualification.refresher_due
        if due <= horizon:
            overdue = due < today
            message = (
                f"radiation-protection refresher was due on {due.isoformat()}: no radiation justification "
                "can be signed until a refresher is recorded"
                if overdue
                else f"radiation-protection refresher due on {due.isoformat()}"
            )
            out.append(Reminder(person, "radiation_refresher", "radiation-protection", due, overdue, message))
    return sorted(out, key=lambda r: (not r.overdue, r.due_on or date.max))


def education_status(
    uow: UnitOfWork, actor: User, person: str | None = None, *, now: datetime | None = None
) -> EducationView:
    """A person's courses, requirement statuses, qualification, whether they may sign a justification today,
    and their reminders."""
    who = _subject(actor, person, "training.education.own", "training.education.all")
    today = _now(now).date()
    user = uow.users.active(who)
    if user is None:
        raise NotFoundError(f"no active account {who!r}; check the name")
    policy = training_policy()
    courses = uow.training.courses(who)
    statuses = requirement_status(
        courses, policy.education.requirements, roles=_roles(user.roles), on_date=today
    )
    qualification, shown = _qualification(uow, who)
    window = int(policy.education.reminder_days.value or 0)
    return EducationView(
        person=who,
        roles=tuple(sorted(user.roles)),
        courses=tuple(courses),
        requirements=statuses,
        qualifications=tuple(shown),
        justification=can_sign_justification(qualification, today),
        reminders=tuple(_reminders_for(who, statuses, qualification, user.roles, today=today, window=window)),
    )


def _roles(roles: frozenset[str]) -> tuple[StaffRole, ...]:
    known: tuple[StaffRole, ...] = ("admin", "physician", "rpo", "trainee", "viewer")
    return tuple(r for r in known if r in roles)


def reminders(
    uow: UnitOfWork,
    actor: User,
    person: str | None = None,
    *,
    everyone: bool = False,
    now: datetime | None = None,
) -> list[Reminder]:
    """Reminders of one person (default: the actor) or, with ``everyone``, of every active account."""
    today = _now(now).date()
    if not everyone:
        return list(education_status(uow, actor, person, now=now).reminders)
    authorize(actor, "training.education.all")
    policy = training_policy()
    window = int(policy.education.reminder_days.value or 0)
    out: list[Reminder] = []
    for user in map(to_user, uow.users.all()):
        statuses = requirement_status(
            uow.training.courses(user.username),
            policy.education.requirements,
            roles=_roles(user.roles),
            on_date=today,
        )
        qualification, _ = _qualification(uow, user.username)
        out += _reminders_for(user.username, statuses, qualification, user.roles, today=today, window=window)
    return out
