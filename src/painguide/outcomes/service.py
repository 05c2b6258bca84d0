"""Outcome use cases: follow-ups entered by staff or by the patient through a one-time link, responder
rates and the duration of relief.

Staff entries go through the care pathway's ``record_follow_up`` (NRS, PGIC, relief) with the disability
score (ODI/NDI) kept beside it in the same transaction. A patient link carries a random token of 256 bits;
only its SHA-256 is stored, it admits exactly one follow-up once, until it expires
(``PAINGUIDE_FOLLOWUP_LINK_HOURS``), and every state in which it cannot be used looks the same to the
holder. Reads of patient data are audited; the patient's own answers are audited under the actor
``patient-link``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, Protocol

from painguide.auth import User, authorize
from painguide.catalogue.loader import load_knowledge
from painguide.errors import NotFoundError, ValidationError
from painguide.i18n import LANGUAGES
from painguide.i18n.input_errors import one_of
from painguide.i18n.marks import N_
from painguide.outcomes.follow_ups import (
    LinkState,
    PatientAnswers,
    follow_up_days,
    hash_token,
    link_problem,
    new_token,
    relief_durations,
    responder_inputs,
)
from painguide.outcomes.responders import (
    FollowUp,
    GroupResponders,
    ResponderCriterion,
    load_responder_criteria,
    responder_rates,
)
from painguide.outcomes.survival import KaplanMeierCurve, ReliefDuration, kaplan_meier
from painguide.pathway import service as pathway
from painguide.pathway.case import next_step, stage_of
from painguide.pathway.models import FollowUpResult
from painguide.settings import get_settings
from painguide.store.training_tables import LinkRow
from painguide.store.uow import UnitOfWork
from painguide.training.records import DisabilityScore, PerformedCase

__all__ = [
    "GROUPINGS",
    "FollowUpItem",
    "InvalidLink",
    "OutcomesView",
    "PatientForm",
    "PatientLink",
    "create_patient_link",
    "get_follow_up",
    "list_follow_ups",
    "open_patient_link",
    "outcomes",
    "record_answers",
    "submit_patient_link",
]

Grouping = Literal["procedure", "modality", "operator", "procedure_modality"]


class Grouped(Protocol):
    """What the groupings read: a follow-up (responders) or a relief duration (Kaplan-Meier)."""

    @property
    def procedure_id(self) -> str | None: ...
    @property
    def modality(self) -> str | None: ...
    @property
    def operator(self) -> str | None: ...


GROUPINGS: dict[str, Callable[[Grouped], Hashable]] = {
    "procedure": lambda f: f.procedure_id,
    "modality": lambda f: f.modality,
    "operator": lambda f: f.operator,
    "procedure_modality": lambda f: (f.procedure_id, f.modality),
}
PATIENT_ACTOR = "patient-link"
"""Who the audit trail and the timeline name for answers a patient entered through a link."""


class InvalidLink(NotFoundError):
    """A patient link that cannot be used: unknown, expired, used, revoked, or its follow-up recorded."""


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValidationError("now", N_("give a time with its time zone"))
    return now


# ---------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class FollowUpItem:
    """A scheduled follow-up with its procedure, result, disability score and open patient links."""

    follow_up_id: int
    case_id: int
    pseudonym: str
    procedure_id: str
    modality: str
    operator: str
    performed_on: date
    due_on: date
    days_after: int
    baseline_nrs: int | None
    baseline_disability: tuple[str, float] | None
    result: FollowUpResult | None
    score: DisabilityScore | None

    @property
    def recorded(self) -> bool:
        """The follow-up has a result."""
        return self.result is not None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "follow_up_id": self.follow_up_id,
            "case_id": self.case_id,
            "pseudonym": self.pseudonym,
            "procedure_id": self.procedure_id,
            "modality": self.modality,
            "operator": self.operator,
            "performed_on": self.performed_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "days_after": self.days_after,
            "baseline_nrs": self.baseline_nrs,
            "result": self.result.model_dump(mode="json") if self.result else None,
            "disability": self.score.model_dump(mode="json") if self.score else None,
        }


def _items(cases: list[PerformedCase]) -> list[FollowUpItem]:
    return [
        FollowUpItem(
            follow_up_id=follow_up.id or 0,
            case_id=case.case_id,
            pseudonym=case.pseudonym,
            procedure_id=case.procedure_id,
            modality=case.modality,
            operator=case.operator,
            performed_on=case.performed_at.date(),
            due_on=follow_up.due_on,
            days_after=follow_up.days_after,
            baseline_nrs=case.baseline_nrs,
            baseline_disability=case.baseline_disability,
            result=follow_up.result,
            score=score,
        )
        for case in cases
        for follow_up, score in case.follow_ups
    ]


@dataclass(frozen=True, slots=True)
class PatientLink:
    """A link just made: the token (shown once, never stored) and when it expires."""

    follow_up_id: int
    token: str
    expires_at: datetime
    language: str

    @property
    def path(self) -> str:
        """The page path of the link (``/f/<token>``)."""
        return f"/f/{self.token}"


@dataclass(frozen=True, slots=True)
class PatientForm:
    """All a patient link shows: the day of the procedure, its name, and the questions."""

    performed_on: date
    procedure_names: dict[str, str]
    language: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OutcomesView:
    """Responder rates per group at one follow-up day, and Kaplan-Meier curves of relief."""

    group_by: str
    days_after: int | None
    days_available: tuple[int, ...]
    criteria: dict[str, ResponderCriterion]
    responders: tuple[GroupResponders, ...]
    relief_criterion: str
    curves: tuple[KaplanMeierCurve, ...]
    procedures: int
    follow_ups: int

    def to_dict(self) -> dict[str, object]:
        """JSON form (``painguide outcomes summary --json``)."""
        return {
            "group_by": self.group_by,
            "days_after": self.days_after,
            "days_available": list(self.days_available),
            "criteria": {k: v.model_dump(mode="json") for k, v in self.criteria.items()},
            "responders": [_jsonable(g.to_dict()) for g in self.responders],
            "relief_criterion": self.relief_criterion,
            "kaplan_meier": [_jsonable(c.to_dict()) for c in self.curves],
            "procedures": self.procedures,
            "follow_ups": self.follow_ups,
        }


def _jsonable(data: dict[str, object]) -> dict[str, object]:
    group = data.get("group")
    if isinstance(group, tuple):
        data = {**data, "group": list(group)}
    return data


# ------------------------------------------------------------------------------------- staff follow-ups


def list_follow_ups(
    uow: UnitOfWork,
    actor: User,
    *,
    open_only: bool = True,
    until: date | None = None,
    limit: int = 200,
    now: datetime | None = None,
) -> list[FollowUpItem]:
    """Follow-ups by due day (open ones by default, due up to ``until``); an audited read of patient data."""
    authorize(actor, "case.read")
    if not 1 <= limit <= 1000:
        raise ValidationError("limit", N_("give 1-%(max)s"), max=1000)
    items = _items(uow.training.performed())
    if open_only:
        items = [i for i in items if not i.recorded]
    if until is not None:
        items = [i for i in items if i.due_on <= until]
    items = sorted(items, key=lambda i: (i.due_on, i.follow_up_id))[:limit]
    uow.audit.record(actor.username, "case.read", "follow_ups", "list", {"count": len(items)})
    uow.commit()
    return items


def _item(uow: UnitOfWork, follow_up_id: int) -> FollowUpItem:
    row = uow.training.follow_up_row(follow_up_id)
    for item in _items(uow.training.performed(case_ids=[row.case_id])):
        if item.follow_up_id == follow_up_id:
            return item
    raise NotFoundError(f"follow-up {follow_up_id} has no performed procedure; check the id")


def get_follow_up(uow: UnitOfWork, actor: User, follow_up_id: int) -> FollowUpItem:
    """One follow-up with its procedure (audited read)."""
    authorize(actor, "case.read")
    item = _item(uow, follow_up_id)
    uow.audit.record(actor.username, "case.read", "case", str(item.case_id), {"follow_up": follow_up_id})
    uow.commit()
    return item


def record_answers(
    uow: UnitOfWork,
    actor: User,
    follow_up_id: int,
    result: FollowUpResult,
    *,
    disability: DisabilityScore | None = None,
    now: datetime | None = None,
) -> FollowUpItem:
    """Record a follow-up's NRS, PGIC and relief (the pathway's step) and its ODI/NDI, in one transaction."""
    authorize(actor, "case.followup")
    now = _now(now)
    row = uow.training.follow_up_row(follow_up_id)
    if row.result is not None:
        raise ValidationError("follow_up_id", N_("follow-up %(id)s is recorded already"), id=follow_up_id)
    if disability is not None:
        uow.training.set_score(follow_up_id, disability, actor=actor.username, at=now)
    pathway.record_follow_up(uow, actor, row.case_id, follow_up_id, result, now=now)  # commits both
    return _item(uow, follow_up_id)


# ------------------------------------------------------------------------------------------ patient links


def create_patient_link(
    uow: UnitOfWork, actor: User, follow_up_id: int, *, language: str = "de", now: datetime | None = None
) -> PatientLink:
    """A one-time link for the patient to answer one follow-up; earlier open links of it are revoked."""
    authorize(actor, "case.followup")
    now = _now(now)
    if language not in LANGUAGES:
        raise one_of("language", LANGUAGES, language)
    item = _item(uow, follow_up_id)
    if item.recorded:
        raise ValidationError("follow_up_id", N_("follow-up %(id)s is recorded already"), id=follow_up_id)

    for old in uow.training.open_links(follow_up_id):
        old.revoked_at = now
    token, digest = new_token()
    expires = now + timedelta(hours=get_settings().followup_link_hours)
    row = uow.training.add_link(
        LinkRow(
            follow_up_id=follow_up_id,
            token_hash=digest,
            language=language,
            created_at=now,
            created_by=actor.username,
            expires_at=expires,
        )
    )
    detail = {"follow_up": follow_up_id, "link": row.id, "expires_at": expires.isoformat()}
    uow.audit.record(actor.username, "case.followup", "case", str(item.case_id), detail)
    uow.commit()
    return PatientLink(follow_up_id, token, expires, language)


def _usable_link(uow: UnitOfWork, token: str, now: datetime) -> LinkRow:
    row = uow.training.link_by_hash(hash_token(token)) if 16 <= len(token) <= 128 else None
    state = None
    if row is not None:
        follow_up = uow.training.follow_up_row(row.follow_up_id)
        state = LinkState(row.expires_at, row.used_at, row.revoked_at, follow_up.result is not None)
    problem = link_problem(state, now)
    if problem is not None:
        if row is not None:
            detail = {"link": row.id, "refused": problem}
            uow.audit.record(
                PATIENT_ACTOR,
                "followup.link.refused",
                "follow_up",
                str(row.follow_up_id),
                detail,
            )
            uow.commit()
        raise InvalidLink("this link cannot be used (it may have expired or been used already)")
    assert row is not None
    return row


def open_patient_link(uow: UnitOfWork, token: str, *, now: datetime | None = None) -> PatientForm:
    """What the patient's page shows for a usable link (audited); :class:`InvalidLink` otherwise."""
    now = _now(now)
    row = _usable_link(uow, token, now)
    item = _item(uow, row.follow_up_id)
    detail = {"link": row.id}
    uow.audit.record(PATIENT_ACTOR, "followup.link.open", "follow_up", str(row.follow_up_id), detail)
    uow.commit()
    return PatientForm(item.performed_on, _names(item.procedure_id), row.language, row.expires_at)


def _names(procedure_id: str) -> dict[str, str]:
    procedure = load_knowledge(get_settings().site_policy).catalogue.procedures.get(procedure_id)
    if procedure is None:
        return {"en": procedure_id, "de": procedure_id}
    return {str(language): name for language, name in procedure.names.items()}


def submit_patient_link(
    uow: UnitOfWork, token: str, answers: PatientAnswers, *, now: datetime | None = None
) -> str:
    """Record the patient's answers and use up the link (one transaction); :class:`InvalidLink` otherwise.

    Returns the language of the link (for the thank-you page).
    """
    now = _now(now)
    row = _usable_link(uow, token, now)
    follow_up = uow.training.follow_up_row(row.follow_up_id)
    result = FollowUpResult(on=now.date(), nrs=answers.nrs, pgic=answers.pgic, note="entered by the patient")
    follow_up.result = result.model_dump(mode="json")
    follow_up.recorded_at, follow_up.recorded_by = now, PATIENT_ACTOR
    row.used_at = now
    data = {"follow_up_id": follow_up.id, **result.model_dump(mode="json"), "via": "patient link"}
    uow.pathway.add_entry(follow_up.case_id, "follow_up", data, actor=PATIENT_ACTOR, at=now)
    case = uow.pathway.get_case(follow_up.case_id)
    cf = uow.pathway.case_file(case, uow.pathway.get_patient(case.patient_id))
    step = next_step(cf)
    procedure = cf.indication.procedure if cf.indication else None
    uow.pathway.set_stage(case, stage=stage_of(step), step=step, procedure=procedure)
    detail = {"link": row.id, "nrs": answers.nrs, "pgic": answers.pgic}
    uow.audit.record(PATIENT_ACTOR, "followup.link.answer", "follow_up", str(follow_up.id), detail)
    uow.commit()
    return row.language


# ------------------------------------------------------------------------------------------- outcomes


def outcomes(
    uow: UnitOfWork,
    actor: User,
    *,
    group_by: Grouping = "procedure_modality",
    days_after: int | None = None,
    relief_criterion: str = "nrs30",
    since: datetime | None = None,
    until: datetime | None = None,
) -> OutcomesView:
    """Responder rates (Wilson 95 %) per group at one follow-up day, and Kaplan-Meier curves of relief.

    ``days_after`` defaults to the follow-up day recorded most often (after the day of the procedure);
    ``relief_criterion`` names the NRS responder definition whose threshold counts as relief.
    """
    authorize(actor, "outcomes.read")
    if group_by not in GROUPINGS:
        raise one_of("group_by", GROUPINGS, group_by)
    criteria = load_responder_criteria()
    threshold = criteria.get(relief_criterion)
    if threshold is None or threshold.kind != "nrs_reduction" or threshold.min_percent is None:
        nrs = [k for k, c in criteria.items() if c.kind == "nrs_reduction"]
        raise one_of("relief_criterion", nrs, relief_criterion)
    cases = uow.training.performed(since=since, until=until)
    available = tuple(d for d in follow_up_days(cases) if d > 0) or tuple(follow_up_days(cases))
    day = days_after if days_after is not None else (available[0] if available else None)
    points: list[FollowUp] = responder_inputs(cases, days_after=day) if day is not None else []
    key = GROUPINGS[group_by]
    durations: list[ReliefDuration] = relief_durations(cases, min_relief_percent=threshold.min_percent)
    uow.audit.record(actor.username, "outcomes.read", "outcomes", group_by, {"procedures": len(cases)})
    uow.commit()
    return OutcomesView(
        group_by=group_by,
        days_after=day,
        days_available=tuple(sorted(available)),
        criteria=criteria,
        responders=responder_rates(points, criteria, group_by=key),
        relief_criterion=relief_criterion,
        curves=kaplan_meier(durations, group_by=key) if durations else (),
        procedures=len(cases),
        follow_ups=len(points),
    )
