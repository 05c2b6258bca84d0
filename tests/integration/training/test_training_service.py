"""The competence services on a real database: the logbook derived from the pathway's procedure records and
logged sessions, who may read whose logbook, learning curves, competence declarations and revocation,
courses, requirements and reminders, and the audit of every read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from painguide.auth import User
from painguide.errors import NotFoundError, PermissionDeniedError, ValidationError
from painguide.pathway.models import Qualification
from painguide.settings import get_settings
from painguide.store.pathway_repository import PathwayRepository
from painguide.store.tables import AuditEntry
from painguide.store.uow import UnitOfWork
from painguide.training import service
from painguide.training.education import Course
from painguide.training.records import TrainingSession

from .conftest import DOC, OTHER_TRAINEE, RPO, START, TRAINEE, VIEWER, answer, perform

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def audited(uow: UnitOfWork, action: str) -> list[AuditEntry]:
    return list(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_logbook_counts_patient_procedures_and_logged_sessions(uow: UnitOfWork) -> None:
    first = perform(uow, supervisor="dr.a")
    perform(uow, at=START + timedelta(days=1), supervisor="dr.a", complications="vasovagal reaction")
    perform(uow, at=START + timedelta(days=2))
    perform(uow, operator="tom", at=START + timedelta(days=3))  # someone else's
    service.assess_procedure(uow, TRAINEE, first.case_id, target_reached=True, now=NOW)
    sim = TrainingSession(
        operator="tina", procedure_id="knee-ia", modality="ultrasound", setting="simulator",
        performed_on=date(2026, 1, 2), target_reached=True,
    )  # fmt: skip
    service.log_session(uow, TRAINEE, sim, now=NOW)

    view = service.get_logbook(uow, TRAINEE, now=NOW)
    by_setting = {e.setting: e for e in view.entries}
    patients = by_setting["patient"]
    assert (patients.count, patients.supervised, patients.unsupervised) == (3, 2, 1)
    # First: target reached, no complication: success. Second: complication: failure. Third: not assessed.
    assert (patients.successes, patients.failures, patients.not_assessable) == (1, 1, 1)
    assert patients.complications == 1
    assert by_setting["simulator"].count == 1 and by_setting["simulator"].successes == 1
    assert [i.success for i in view.items] == [None, False, True]  # newest first
    assert view.criteria["knee-ia"]["status"] == "convention"
    assert audited(uow, "training.logbook.read")[-1].object_id == "tina"


def test_trainees_see_their_own_logbook_only_viewers_none(uow: UnitOfWork) -> None:
    perform(uow)
    with pytest.raises(PermissionDeniedError):
        service.get_logbook(uow, OTHER_TRAINEE, "tina", now=NOW)
    with pytest.raises(PermissionDeniedError):
        service.get_logbook(uow, VIEWER, now=NOW)
    with pytest.raises(PermissionDeniedError):
        service.learning_curves(uow, RPO, "tina", now=NOW)
    assert service.get_logbook(uow, DOC, "tina", now=NOW).entries[0].count == 1
    own = service.get_logbook(uow, OTHER_TRAINEE, now=NOW)
    assert own.operator == "tom" and own.entries == ()


def test_assessing_another_operators_procedure_needs_the_all_action(uow: UnitOfWork) -> None:
    tom = perform(uow, operator="tom")
    supervised = perform(uow, operator="tom", supervisor="tina")
    with pytest.raises(PermissionDeniedError):
        service.assess_procedure(uow, TRAINEE, tom.case_id, target_reached=True, now=NOW)
    item = service.assess_procedure(uow, TRAINEE, supervised.case_id, target_reached=False, now=NOW)
    assert item.target_reached is False and item.success is False
    assert service.assess_procedure(uow, DOC, tom.case_id, target_reached=True, now=NOW).success is True
    with pytest.raises(NotFoundError, match="no performed procedure"):
        service.assess_procedure(uow, DOC, 999, target_reached=True, now=NOW)


def test_short_term_relief_of_a_diagnostic_block_comes_from_the_day_0_follow_up(uow: UnitOfWork) -> None:
    good = perform(uow, procedure="genicular-block", follow_up_days=(0, 14), baseline_nrs=8)
    poor = perform(uow, procedure="genicular-block", follow_up_days=(0,), at=START + timedelta(days=1))
    late = perform(uow, procedure="genicular-block", follow_up_days=(14,), at=START + timedelta(days=2))
    answer(uow, good.follow_ups[0], nrs=2)  # 75 % relief
    answer(uow, good.follow_ups[14], nrs=8)  # later relief does not count for the block
    answer(uow, poor.follow_ups[0], nrs=6)  # 25 %
    answer(uow, late.follow_ups[14], nrs=1)  # no short-term answer: not assessable
    for performed in (good, poor, late):
        service.assess_procedure(uow, TRAINEE, performed.case_id, target_reached=True, now=NOW)
    items = {i.case_id: i for i in service.get_logbook(uow, TRAINEE, now=NOW).items}
    assert (items[good.case_id].relief_percent, items[good.case_id].success) == (75.0, True)
    assert (items[poor.case_id].relief_percent, items[poor.case_id].success) == (25.0, False)
    assert (items[late.case_id].relief_percent, items[late.case_id].success) == (None, None)


def _successes(uow: UnitOfWork, n: int, *, modality: str = "ultrasound") -> None:
    for day in range(n):
        done = perform(uow, at=START + timedelta(days=day), modality=modality, supervisor="dr.a")
        uow.training.set_assessment(done.case_id, target_reached=True, note=None, actor="dr.a", at=NOW)
    uow.commit()


def test_competence_is_declared_only_after_the_lc_cusum_crosses(uow: UnitOfWork) -> None:
    _successes(uow, 18)
    (curve,) = service.learning_curves(uow, TRAINEE, now=NOW)
    assert curve.procedures == 18 and not curve.crossed  # 18 x s = 2.61 < h = 2.71
    with pytest.raises(ValidationError, match="has not reached its limit"):
        service.declare_competence(uow, DOC, "tina", "knee-ia", "ultrasound", now=NOW)
    _successes(uow, 1)
    (curve,) = service.learning_curves(uow, DOC, "tina", now=NOW)
    assert curve.crossed and curve.curve.competent_at == 18
    with pytest.raises(PermissionDeniedError, match="own competence"):
        service.declare_competence(uow, User_("tina", "physician"), "tina", "knee-ia", "ultrasound", now=NOW)
    with pytest.raises(PermissionDeniedError):
        service.declare_competence(uow, TRAINEE, "tom", "knee-ia", "ultrasound", now=NOW)
    declared = service.declare_competence(uow, DOC, "tina", "knee-ia", "ultrasound", now=NOW)
    assert declared.basis == "lc_cusum" and declared.detail["competent_at"] == 18
    assert service.declared_competence(uow, "tina", NOW.date()) == {("knee-ia", "ultrasound")}
    assert service.declared_competence(uow, "tina", NOW.date() - timedelta(days=1)) == frozenset()
    with pytest.raises(ValidationError, match="already"):
        service.declare_competence(uow, DOC, "tina", "knee-ia", "ultrasound", now=NOW)
    with pytest.raises(ValidationError, match="reason"):
        service.revoke_competence(uow, DOC, declared.id, reason="no", now=NOW)
    revoked = service.revoke_competence(uow, DOC, declared.id, reason="complication audit 2026", now=NOW)
    assert not revoked.active and service.declared_competence(uow, "tina", NOW.date()) == frozenset()


def User_(name: str, role: str) -> User:
    return User(name, name, frozenset({role}))


def test_attestation_needs_a_written_reason_and_an_account(uow: UnitOfWork) -> None:
    with pytest.raises(ValidationError, match="at least 10 characters"):
        service.declare_competence(uow, DOC, "tina", "knee-ia", "landmark", basis="attestation", now=NOW)
    with pytest.raises(ValidationError, match="no active account"):
        service.declare_competence(
            uow, DOC, "nobody", "knee-ia", "landmark", basis="attestation", note="x" * 12
        )
    view = service.declare_competence(
        uow, DOC, "tina", "knee-ia", "landmark", basis="attestation", note="150 blocks in her last post"
    )
    assert view.note == "150 blocks in her last post" and audited(uow, "training.declare")


def test_courses_requirements_and_reminders(
    uow: UnitOfWork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "training.yaml"
    site.write_text(
        "education:\n  requirements:\n"
        "    - {id: us-cme, roles: [trainee, physician], period_months: 12, min_hours: 8, topic: ultrasound,"
        " source: site-policy, status: site}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PAINGUIDE_TRAINING_POLICY", str(site))
    get_settings.cache_clear()
    course = Course("tina", date(2026, 2, 1), "DEGUM", "ultrasound", 6.0, "ultrasound")
    service.record_course(uow, TRAINEE, course, now=NOW)
    with pytest.raises(PermissionDeniedError):
        service.record_course(uow, TRAINEE, Course("tom", date(2026, 2, 1), "X", "ultrasound", 1.0), now=NOW)
    with pytest.raises(ValidationError, match="future"):
        service.record_course(uow, TRAINEE, Course("tina", date(2026, 7, 1), "X", "ultrasound", 1.0), now=NOW)
    view = service.education_status(uow, TRAINEE, now=NOW)
    (status,) = view.requirements
    assert (status.hours_done, status.hours_missing, status.met) == (6.0, 2.0, False)
    (reminder,) = view.reminders
    assert reminder.overdue and "2 of 8 hours" in reminder.message and reminder.status == "site"
    service.record_course(uow, RPO, Course("tina", date(2026, 3, 1), "DGAI", "ultrasound", 2.0), now=NOW)
    view = service.education_status(uow, TRAINEE, now=NOW)
    assert view.requirements[0].met and view.reminders == ()
    # Sixty days before the February course leaves the 12-month window, the reminder comes back.
    later = datetime(2026, 12, 15, tzinfo=UTC)
    (soon,) = service.education_status(uow, TRAINEE, now=later).reminders
    assert not soon.overdue and soon.due_on == date(2027, 2, 1)
    everyone = service.reminders(uow, RPO, everyone=True, now=NOW)
    assert {r.person for r in everyone} == {"dr.a", "tom"}  # no hours yet; tina is done
    with pytest.raises(PermissionDeniedError):
        service.reminders(uow, TRAINEE, everyone=True, now=NOW)


def test_the_radiation_refresher_decides_who_may_sign(uow: UnitOfWork) -> None:
    view = service.education_status(uow, DOC, now=NOW)
    assert not view.justification.allowed and "none recorded" in view.justification.reasons[0]
    PathwayRepository(uow.session).add_qualification(
        Qualification(username="dr.a", certificate="FK-7", valid_until=date(2026, 7, 1)), actor="rpo"
    )
    uow.commit()
    view = service.education_status(uow, DOC, now=NOW)
    assert view.justification.allowed
    (reminder,) = view.reminders
    assert (
        reminder.kind == "radiation_refresher"
        and reminder.due_on == date(2026, 7, 1)
        and not reminder.overdue
    )
    after = service.education_status(uow, DOC, now=datetime(2026, 7, 2, tzinfo=UTC))
    assert (
        not after.justification.allowed
        and "refresher was due on 2026-07-01" in after.justification.reasons[0]
    )
    assert after.reminders[0].overdue


def test_logbook_and_reminders_commands_print_json(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from painguide.cli import main

    perform(uow, supervisor="dr.a")
    PathwayRepository(uow.session).add_qualification(
        Qualification(username="dr.a", certificate="FK-7", valid_until=date(2020, 1, 1)), actor="rpo"
    )
    uow.commit()
    monkeypatch.setenv("PAINGUIDE_DATABASE_URL", str(uow.session.get_bind().url))
    get_settings.cache_clear()
    with pytest.raises(SystemExit) as done:
        main(["training", "logbook", "--operator", "tina", "--json"])
    assert done.value.code == 0
    (entry,) = json.loads(capsys.readouterr().out)["entries"]
    assert (entry["count"], entry["supervised"], entry["not_assessable"]) == (1, 1, 1)
    with pytest.raises(SystemExit) as done:
        main(["training", "reminders", "--json"])
    assert done.value.code == 0
    (reminder,) = json.loads(capsys.readouterr().out)
    assert (reminder["person"], reminder["kind"], reminder["overdue"]) == (
        "dr.a",
        "radiation_refresher",
        True,
    )
