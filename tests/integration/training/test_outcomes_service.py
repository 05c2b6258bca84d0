"""Follow-ups entered by staff (with ODI/NDI) and by the patient through a one-time link (stored hashed,
single use, expiring, revoked by a newer link), and the responder rates and Kaplan-Meier curves of stored
follow-ups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from painguide.errors import PermissionDeniedError, ValidationError
from painguide.outcomes import service
from painguide.outcomes.follow_ups import PatientAnswers, hash_token
from painguide.pathway.models import FollowUpResult
from painguide.store.pathway_tables import EntryRow, FollowUpRow
from painguide.store.tables import AuditEntry
from painguide.store.training_tables import LinkRow, ScoreRow
from painguide.store.uow import UnitOfWork
from painguide.training.records import DisabilityScore

from .conftest import DOC, RPO, START, TRAINEE, VIEWER, answer, perform

NOW = START + timedelta(days=14, hours=3)


def test_staff_record_nrs_pgic_and_odi_in_one_step(uow: UnitOfWork) -> None:
    done = perform(uow, follow_up_days=(14, 90))
    fid = done.follow_ups[14]
    result = FollowUpResult(on=NOW.date(), nrs=3, pgic="much_improved")
    item = service.record_answers(
        uow, TRAINEE, fid, result, disability=DisabilityScore(scale="ODI", score=22), now=NOW
    )
    assert item.result is not None and item.result.nrs == 3
    assert item.score == DisabilityScore(scale="ODI", score=22)
    with pytest.raises(ValidationError, match="recorded already"):
        service.record_answers(
            uow, TRAINEE, fid, result, disability=DisabilityScore(scale="ODI", score=20), now=NOW
        )
    # The refused second entry left no second score behind.
    assert len(list(uow.session.scalars(select(ScoreRow)))) == 1
    with pytest.raises(PermissionDeniedError):
        service.record_answers(uow, VIEWER, done.follow_ups[90], result, now=NOW)
    open_items = service.list_follow_ups(uow, DOC, now=NOW)
    assert [i.follow_up_id for i in open_items] == [done.follow_ups[90]]


def test_a_patient_link_is_hashed_single_use_and_shows_only_what_the_patient_needs(uow: UnitOfWork) -> None:
    done = perform(uow, follow_up_days=(14,), pseudonym="SECRET-PSEUDONYM")
    fid = done.follow_ups[14]
    link = service.create_patient_link(uow, TRAINEE, fid, language="de", now=NOW)
    assert link.path == f"/f/{link.token}" and len(link.token) >= 40
    row = uow.session.scalar(select(LinkRow))
    assert row is not None and row.token_hash == hash_token(link.token)
    stored = [str(getattr(row, c.key)) for c in LinkRow.__table__.columns]
    assert not any(link.token in value for value in stored)  # only the hash is kept

    form = service.open_patient_link(uow, link.token, now=NOW)
    assert form.performed_on == START.date() and form.language == "de"
    assert form.procedure_names["de"] and "SECRET" not in repr(form)
    service.submit_patient_link(uow, link.token, PatientAnswers(nrs=2, pgic="very_much_improved"), now=NOW)
    follow_up = uow.session.get(FollowUpRow, fid)
    assert follow_up is not None and follow_up.result is not None
    assert (follow_up.result["nrs"], follow_up.result["pgic"], follow_up.recorded_by) == (
        2,
        "very_much_improved",
        "patient-link",
    )
    entry = uow.session.scalars(select(EntryRow).where(EntryRow.kind == "follow_up")).one()
    assert entry.by == "patient-link" and entry.data["via"] == "patient link"
    # Single use: neither showing nor answering works a second time.
    with pytest.raises(service.InvalidLink):
        service.open_patient_link(uow, link.token, now=NOW)
    with pytest.raises(service.InvalidLink):
        service.submit_patient_link(uow, link.token, PatientAnswers(nrs=9, pgic="much_worse"), now=NOW)
    assert uow.session.get(FollowUpRow, fid).result["nrs"] == 2  # type: ignore[union-attr]
    actions = [
        a.action for a in uow.session.scalars(select(AuditEntry).where(AuditEntry.actor == "patient-link"))
    ]
    assert actions == [
        "followup.link.open",
        "followup.link.answer",
        "followup.link.refused",
        "followup.link.refused",
    ]


def test_a_link_expires_and_a_newer_link_revokes_the_older(uow: UnitOfWork) -> None:
    done = perform(uow, follow_up_days=(14,))
    fid = done.follow_ups[14]
    first = service.create_patient_link(uow, DOC, fid, language="en", now=NOW)
    second = service.create_patient_link(uow, DOC, fid, language="en", now=NOW + timedelta(minutes=5))
    with pytest.raises(service.InvalidLink):
        service.open_patient_link(uow, first.token, now=NOW + timedelta(minutes=6))
    assert service.open_patient_link(uow, second.token, now=NOW + timedelta(minutes=6)).language == "en"
    assert second.expires_at == NOW + timedelta(minutes=5, hours=168)
    with pytest.raises(service.InvalidLink):
        service.open_patient_link(uow, second.token, now=second.expires_at)
    with pytest.raises(service.InvalidLink):
        service.submit_patient_link(
            uow, second.token, PatientAnswers(nrs=1, pgic="no_change"), now=second.expires_at
        )
    with pytest.raises(service.InvalidLink):
        service.open_patient_link(uow, "x" * 43, now=NOW)  # unknown token, same refusal
    assert uow.session.get(FollowUpRow, fid).result is None  # type: ignore[union-attr]


def test_staff_entry_invalidates_an_open_link(uow: UnitOfWork) -> None:
    done = perform(uow, follow_up_days=(14,))
    fid = done.follow_ups[14]
    link = service.create_patient_link(uow, DOC, fid, now=NOW)
    service.record_answers(uow, DOC, fid, FollowUpResult(on=NOW.date(), nrs=4), now=NOW)
    with pytest.raises(service.InvalidLink):
        service.open_patient_link(uow, link.token, now=NOW)
    with pytest.raises(ValidationError, match="recorded already"):
        service.create_patient_link(uow, DOC, fid, now=NOW)
    with pytest.raises(ValidationError, match="language"):
        service.create_patient_link(
            uow, DOC, perform(uow, follow_up_days=(14,)).follow_ups[14], language="fr"
        )


def test_responder_rates_and_relief_curves(uow: UnitOfWork) -> None:
    # Four ultrasound knee injections, baseline NRS 8: at 14 days NRS 2, 4, 5, 8; at 90 days 3, 7, -, -.
    cases = [perform(uow, at=START + timedelta(days=i), follow_up_days=(14, 90)) for i in range(4)]
    pgics = ("very_much_improved", "much_improved", "no_change", "no_change")
    for case, nrs14, pgic in zip(cases, (2, 4, 5, 8), pgics, strict=True):
        answer(uow, case.follow_ups[14], nrs=nrs14, pgic=pgic)
    answer(uow, cases[0].follow_ups[90], nrs=3)
    answer(uow, cases[1].follow_ups[90], nrs=7)
    perform(uow, operator="tom", modality="landmark", follow_up_days=(14,))  # no answers: not counted
    view = service.outcomes(uow, RPO, group_by="procedure_modality")
    assert view.days_after == 14 and view.days_available == (14, 90)
    (group,) = view.responders
    assert group.group == ("knee-ia", "ultrasound")
    nrs30, nrs50, pgic = group.rates["nrs30"], group.rates["nrs50"], group.rates["pgic"]
    assert (nrs30.responders, nrs30.evaluable) == (3, 4)  # 75 %, 50 %, 37.5 % reductions; 0 %
    assert (nrs50.responders, nrs50.evaluable) == (2, 4)
    assert (pgic.responders, pgic.evaluable) == (2, 4)
    assert nrs30.low is not None and nrs30.low < 0.75 < (nrs30.high or 0)
    (curve,) = view.curves
    # Relief (>= 30 %) lasts to day 90 in case 0 (censored), ends at 90 in case 1, at 14 in case 3; case 2 is
    # still relieved at 14 (censored). Kaplan-Meier: 1 - 1/4 at day 14, then 0.75 x (1 - 1/2) at day 90.
    assert curve.n == 4 and curve.events == 2
    assert dict(zip(curve.days, curve.survival, strict=True)) == pytest.approx(
        {0.0: 1.0, 14.0: 0.75, 90.0: 0.375}
    )
    by_operator = service.outcomes(uow, DOC, group_by="operator", days_after=90)
    assert [g.group for g in by_operator.responders] == ["tina"]
    assert by_operator.responders[0].rates["nrs30"].evaluable == 2
    with pytest.raises(PermissionDeniedError):
        service.outcomes(uow, TRAINEE)
    with pytest.raises(ValidationError, match="relief_criterion"):
        service.outcomes(uow, DOC, relief_criterion="pgic")
    assert date(2026, 1, 1) < START.date()
