"""Competence and outcome persistence: the performed procedures the logbook and the outcome figures read,
courses, training sessions, assessments, competence declarations, follow-up scores and patient links.

:class:`TrainingRepository` works inside the caller's unit of work (``uow.training``) and never commits. The
procedures come from the care pathway's tables, read-only: the latest procedure record of each performed
case, its follow-ups and the case's baseline scores, folded into
:class:`~painguide.training.records.PerformedCase`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from painguide.errors import NotFoundError
from painguide.pathway.models import CaseInfo, FollowUp, FollowUpResult, ProcedureRecord
from painguide.store.pathway_tables import (
    CaseRow,
    EntryRow,
    FollowUpRow,
    PatientRow,
    ProcedureRow,
    QualificationRow,
)
from painguide.store.training_tables import (
    AssessmentRow,
    CompetenceRow,
    CourseRow,
    LinkRow,
    ScoreRow,
    SessionRow,
)
from painguide.training.education import Course
from painguide.training.records import DisabilityScore, PerformedCase, TrainingSession

__all__ = ["TrainingRepository"]


class TrainingRepository:
    """Typed access to the competence and outcome tables inside one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------------------------ performed procedures

    def performed(
        self,
        *,
        operator: str | None = None,
        case_ids: Collection[int] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[PerformedCase]:
        """Performed procedures (latest record per case), oldest first, with follow-ups and assessments.

        ``operator`` keeps those the operator performed; ``since``/``until`` bound the time performed.
        """
        stmt = (
            select(ProcedureRow, CaseRow, PatientRow.pseudonym)
            .join(CaseRow, CaseRow.id == ProcedureRow.case_id)
            .join(PatientRow, PatientRow.id == CaseRow.patient_id)
            .where(ProcedureRow.performed_at.is_not(None))
        )
        if case_ids is not None:
            stmt = stmt.where(ProcedureRow.case_id.in_(list(case_ids)))
        if since is not None:
            stmt = stmt.where(ProcedureRow.performed_at >= since)
        if until is not None:
            stmt = stmt.where(ProcedureRow.performed_at < until)
        rows = self.session.execute(stmt.order_by(ProcedureRow.performed_at, ProcedureRow.id)).all()
        ids = [proc.case_id for proc, _, _ in rows]
        records = self._procedure_records(ids)
        follow_ups = self._follow_ups(ids)
        assessed = self.assessments(ids)
        out = []
        for proc, case, pseudonym in rows:
            record = records.get(proc.case_id)
            if record is None or (operator is not None and record.operator != operator):
                continue
            info = CaseInfo.model_validate(case.info)
            out.append(
                PerformedCase(
                    case_id=case.id,
                    patient_id=case.patient_id,
                    pseudonym=pseudonym,
                    procedure_id=proc.procedure,
                    region=proc.region,
                    modality=record.modality,
                    accession_number=proc.accession_number,
                    record=record,
                    baseline_nrs=info.nrs,
                    baseline_disability=(info.disability_scale, info.disability_score)
                    if info.disability_scale is not None and info.disability_score is not None
                    else None,
                    follow_ups=follow_ups.get(proc.case_id, ()),
                    target_reached=assessed.get(proc.case_id),
                    dose_report_ids=tuple(proc.dose_report_ids or ()),
                    sono_analysis_ids=tuple(proc.sono_analysis_ids or ()),
                    study_instance_uid=proc.study_instance_uid,
                )
            )
        return out

    def _procedure_records(self, case_ids: list[int]) -> dict[int, ProcedureRecord]:
        found: dict[int, ProcedureRecord] = {}
        for chunk in _chunks(case_ids):
            stmt = (
                select(EntryRow)
                .where(EntryRow.case_id.in_(chunk), EntryRow.kind == "procedure")
                .order_by(EntryRow.id)
            )
            for entry in self.session.scalars(stmt):
                found[entry.case_id] = ProcedureRecord.model_validate(entry.data)
        return found

    def _follow_ups(
        self, case_ids: list[int]
    ) -> dict[int, tuple[tuple[FollowUp, DisabilityScore | None], ...]]:
        grouped: dict[int, list[tuple[FollowUp, DisabilityScore | None]]] = {}
        for chunk in _chunks(case_ids):
            stmt = (
                select(FollowUpRow, ScoreRow)
                .outerjoin(ScoreRow, ScoreRow.follow_up_id == FollowUpRow.id)
                .where(FollowUpRow.case_id.in_(chunk))
                .order_by(FollowUpRow.due_on, FollowUpRow.id)
            )
            for row, score in self.session.execute(stmt):
                result = FollowUpResult.model_validate(row.result) if row.result is not None else None
                item = FollowUp(id=row.id, due_on=row.due_on, days_after=row.days_after, result=result)
                disability = DisabilityScore(scale=score.scale, score=score.score) if score else None
                grouped.setdefault(row.case_id, []).append((item, disability))
        return {k: tuple(v) for k, v in grouped.items()}

    def operators(self) -> list[str]:
        """Everyone who performed a procedure on a patient or logged a training session, sorted."""
        names = {r.operator for r in self._procedure_records(self._performed_case_ids()).values()}
        names |= set(self.session.scalars(select(SessionRow.operator).distinct()))
        return sorted(names)

    def _performed_case_ids(self) -> list[int]:
        stmt = select(ProcedureRow.case_id).where(ProcedureRow.performed_at.is_not(None))
        return list(self.session.scalars(stmt))

    # ---------------------------------------------------------------------------------------- assessments

    def assessments(self, case_ids: Iterable[int]) -> dict[int, bool]:
        """Whether the target was reached, per assessed case."""
        found: dict[int, bool] = {}
        for chunk in _chunks(list(case_ids)):
            stmt = select(AssessmentRow).where(AssessmentRow.case_id.in_(chunk))
            found.update({row.case_id: row.target_reached for row in self.session.scalars(stmt)})
        return found

    def set_assessment(
        self, case_id: int, *, target_reached: bool, note: str | None, actor: str, at: datetime
    ) -> AssessmentRow:
        """Record (or correct) whether the target was reached in a case's procedure."""
        row = self.session.scalar(select(AssessmentRow).where(AssessmentRow.case_id == case_id))
        if row is None:
            row = AssessmentRow(case_id=case_id, target_reached=target_reached, assessed_by=actor)
            self.session.add(row)
        row.target_reached, row.note, row.assessed_by, row.assessed_at = target_reached, note, actor, at
        self.session.flush()
        return row

    # ------------------------------------------------------------------------------------------- sessions

    def add_session(self, item: TrainingSession, *, actor: str, at: datetime) -> SessionRow:
        """Log a simulator or cadaver session."""
        row = SessionRow(
            operator=item.operator,
            procedure=item.procedure_id,
            modality=item.modality,
            setting=item.setting,
            performed_on=item.performed_on,
            supervisor=item.supervisor,
            target_reached=item.target_reached,
            complications=list(item.complications),
            note=item.note,
            recorded_by=actor,
            recorded_at=at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def sessions(self, operator: str | None = None) -> list[TrainingSession]:
        """Logged training sessions, oldest first."""
        stmt = select(SessionRow).order_by(SessionRow.performed_on, SessionRow.id)
        if operator is not None:
            stmt = stmt.where(SessionRow.operator == operator)
        return [
            TrainingSession(
                id=row.id,
                operator=row.operator,
                procedure_id=row.procedure,
                modality=row.modality,
                setting=row.setting,
                performed_on=row.performed_on,
                supervisor=row.supervisor,
                target_reached=row.target_reached,
                complications=tuple(row.complications or ()),
                note=row.note,
            )
            for row in self.session.scalars(stmt)
        ]

    # ----------------------------------------------------------------------------------------- competence

    def add_competence(self, row: CompetenceRow) -> CompetenceRow:
        """Record a competence declaration."""
        self.session.add(row)
        self.session.flush()
        return row

    def competences(self, operator: str | None = None, *, active_only: bool = False) -> list[CompetenceRow]:
        """Competence declarations, newest first."""
        stmt = select(CompetenceRow).order_by(CompetenceRow.id.desc())
        if operator is not None:
            stmt = stmt.where(CompetenceRow.operator == operator)
        if active_only:
            stmt = stmt.where(CompetenceRow.revoked_at.is_(None))
        return list(self.session.scalars(stmt))

    def get_competence(self, declaration_id: int) -> CompetenceRow:
        """One declaration, or :class:`NotFoundError`."""
        row = self.session.get(CompetenceRow, declaration_id)
        if row is None:
            raise NotFoundError(f"competence declaration {declaration_id} does not exist; check the id")
        return row

    def declared(self, operator: str, on: date) -> frozenset[tuple[str, str]]:
        """``(procedure, modality)`` pairs the operator holds a declared competence for on ``on``."""
        rows = self.competences(operator, active_only=True)
        return frozenset((r.procedure, r.modality) for r in rows if r.declared_on <= on)

    # -------------------------------------------------------------------------------------------- courses

    def add_course(self, course: Course, *, actor: str, at: datetime) -> CourseRow:
        """Record a course attended."""
        row = CourseRow(
            person=course.person,
            attended_on=course.attended_on,
            provider=course.provider,
            topic=course.topic,
            modality=course.modality,
            hours=course.hours,
            recorded_by=actor,
            recorded_at=at,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def courses(self, person: str | None = None) -> list[Course]:
        """Courses attended, newest first."""
        stmt = select(CourseRow).order_by(CourseRow.attended_on.desc(), CourseRow.id.desc())
        if person is not None:
            stmt = stmt.where(CourseRow.person == person)
        return [
            Course(
                person=row.person,
                attended_on=row.attended_on,
                provider=row.provider,
                topic=row.topic,
                hours=row.hours,
                modality=row.modality,  # type: ignore[arg-type]
            )
            for row in self.session.scalars(stmt)
        ]

    def qualifications(self, username: str | None = None) -> list[QualificationRow]:
        """Radiation-protection qualifications recorded in the care pathway, newest first."""
        stmt = select(QualificationRow).order_by(QualificationRow.valid_until.desc(), QualificationRow.id)
        if username is not None:
            stmt = stmt.where(QualificationRow.username == username)
        return list(self.session.scalars(stmt))

    # ------------------------------------------------------------------------------ follow-up scores, links

    def set_score(self, follow_up_id: int, score: DisabilityScore, *, actor: str, at: datetime) -> ScoreRow:
        """Record the disability score answered at a follow-up."""
        row = ScoreRow(
            follow_up_id=follow_up_id, scale=score.scale, score=score.score, recorded_by=actor, recorded_at=at
        )
        self.session.add(row)
        self.session.flush()
        return row

    def add_link(self, row: LinkRow) -> LinkRow:
        """Store a patient link (its token hash only)."""
        self.session.add(row)
        self.session.flush()
        return row

    def link_by_hash(self, token_hash: str) -> LinkRow | None:
        """The link whose token has this SHA-256, if any."""
        return self.session.scalar(select(LinkRow).where(LinkRow.token_hash == token_hash))

    def open_links(self, follow_up_id: int) -> list[LinkRow]:
        """Links of a follow-up that are neither used nor revoked."""
        stmt = select(LinkRow).where(
            LinkRow.follow_up_id == follow_up_id, LinkRow.used_at.is_(None), LinkRow.revoked_at.is_(None)
        )
        return list(self.session.scalars(stmt))

    def follow_up_row(self, follow_up_id: int) -> FollowUpRow:
        """A follow-up row by id, or :class:`NotFoundError`."""
        row = self.session.get(FollowUpRow, follow_up_id)
        if row is None:
            raise NotFoundError(f"follow-up {follow_up_id} does not exist; check the id")
        return row


def _chunks(values: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
