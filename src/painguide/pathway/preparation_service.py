"""Preparation steps of a case: radiation justification, consent (and its revocation), the checklist."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from painguide.auth import User, authorize
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.pathway.case_service import (
    _finish,
    _load,
    _now,
    _policy,
    _write_step,
)
from painguide.pathway.models import (
    IONIZING,
    Checklist,
    Consent,
    ConsentRevocation,
    RadiationJustification,
    build,
)
from painguide.pathway.views import CaseView
from painguide.store.uow import UnitOfWork

__all__ = ["record_checklist", "record_consent", "record_justification", "revoke_consent"]


def record_justification(
    uow: UnitOfWork,
    actor: User,
    case_id: int,
    *,
    alternative: str,
    alternative_not_chosen_because: str,
    note: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Sign the radiation justification of the planned X-ray modality as the acting physician.

    The signer's radiation-protection qualification valid today is copied into the record; without one the
    step is refused (``justification_not_qualified``) where the frame requires it, as it is while the
    pregnancy status of a person who can be pregnant is unknown.
    """
    authorize(actor, "case.justify")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.plan is not None and cf.plan.modality not in IONIZING:
        raise ValidationError(
            "modality",
            N_("%(modality)s uses no X-rays: no radiation justification is needed"),
            modality=cf.plan.modality,
        )
    record = build(
        RadiationJustification,
        modality=cf.plan.modality if cf.plan is not None else "fluoroscopy",
        physician=actor.username,
        on=now.date(),
        alternative=alternative,
        alternative_not_chosen_because=alternative_not_chosen_because,
        note=note,
        qualification=uow.pathway.qualification_on(actor.username, now.date()),
        frame=_policy().frame.id,
    )
    return _write_step(
        uow,
        actor,
        case_id,
        action="case.justify",
        step="justification",
        kind="justification",
        record=record,
        now=now,
    )


def record_consent(
    uow: UnitOfWork, actor: User, case_id: int, consent: Consent, *, now: datetime | None = None
) -> CaseView:
    """Record informed consent for the planned modality (after the justification where one is needed)."""
    authorize(actor, "case.write")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.plan is not None and consent.modality != cf.plan.modality:
        raise ValidationError(
            "modality",
            N_("the plan is %(modality)s; consent covers the planned modality"),
            modality=cf.plan.modality,
        )
    return _write_step(
        uow, actor, case_id, action="case.write", step="consent", kind="consent", record=consent, now=now
    )


def revoke_consent(
    uow: UnitOfWork, actor: User, case_id: int, *, reason: str | None = None, now: datetime | None = None
) -> CaseView:
    """Record that the patient withdrew consent; every later step is refused (``consent_revoked``)."""
    authorize(actor, "case.write")
    now = _now(now)
    _, _, cf = _load(uow, case_id)
    if cf.consent is None or cf.revocation is not None:
        raise ValidationError("consent", N_("case %(case)s has no consent in force to revoke"), case=case_id)
    record = build(ConsentRevocation, on=now.date(), reason=reason)
    uow.pathway.add_entry(
        case_id, "consent_revoked", record.model_dump(mode="json"), actor=actor.username, at=now
    )
    return _finish(uow, actor, case_id, "case.write", now, {"step": "consent_revoked"})


def record_checklist(
    uow: UnitOfWork, actor: User, case_id: int, items: Mapping[str, bool], *, now: datetime | None = None
) -> CaseView:
    """Record the pre-procedure checklist as confirmed by the acting user (items not confirmed stay open)."""
    now = _now(now)
    record = build(Checklist, items=dict(items), by=actor.username, on=now.date())
    return _write_step(
        uow, actor, case_id, action="case.write", step="checklist", kind="checklist", record=record, now=now
    )
