"""Read use cases the case pages and the REST API need beside :mod:`painguide.pathway.service`.

``step_form`` gives a step's form what it shows (the case, the advisor's ranking as the plan step will store
it, the signer's radiation-protection qualification); ``information_sheet`` what the printable patient
information sheet explains; ``get_procedure`` and ``find_procedures`` the scheduled procedures by id and
accession number with their linked dose and ultrasound warnings. Each authorises, reads through
``uow.pathway`` and audits the read of patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from painguide.advisor import Recommendation, find_procedure
from painguide.auth import User, authorize
from painguide.catalogue.loader import load_knowledge
from painguide.catalogue.models import ModalityEntry, Procedure
from painguide.errors import CatalogueError, GateError, NotFoundError, ValidationError
from painguide.i18n.input_errors import one_of
from painguide.i18n.marks import N_
from painguide.pathway import service
from painguide.pathway.case import STEPS
from painguide.pathway.link_service import ProcedureLinks, procedure_links
from painguide.pathway.models import Qualification
from painguide.pathway.service import CaseView
from painguide.settings import get_settings
from painguide.store.pathway_tables import ProcedureRow
from painguide.store.uow import UnitOfWork

__all__ = [
    "CasePage",
    "InformationSheet",
    "StepForm",
    "case_page",
    "find_procedures",
    "get_procedure",
    "information_sheet",
    "step_form",
]


@dataclass(frozen=True, slots=True)
class StepForm:
    """What a step's form shows besides the case.

    ``ranking`` is the advisor's ranking for the indicated procedure and this patient exactly as the plan step
    stores it (``None`` before an indication); ``qualification`` the acting user's radiation-protection
    qualification valid today (``None``: none recorded or expired).
    """

    case: CaseView
    step: str
    ranking: Recommendation | None
    qualification: Qualification | None


def _settings_policy() -> object:
    return get_settings().site_policy


def step_form(
    uow: UnitOfWork, actor: User, case_id: int, step: str, *, now: datetime | None = None
) -> StepForm:
    """The case and what the form of ``step`` needs (the read is audited)."""
    authorize(actor, "case.read")
    if step not in STEPS:
        raise one_of("step", STEPS, step)
    now = now or datetime.now(UTC)
    view = service.get_case(uow, actor, case_id, now=now)
    ranking: Recommendation | None = None
    if step == "plan" and view.file.indication is not None:
        try:
            ranking = service.preview_plan(uow, actor, case_id, now=now)
        except (GateError, CatalogueError):
            ranking = None
    qualification = None
    if step == "justification":
        qualification = uow.pathway.qualification_on(actor.username, now.date())
    return StepForm(view, step, ranking, qualification)


@dataclass(frozen=True, slots=True)
class InformationSheet:
    """The planned procedure explained to the patient: the chosen modality's catalogue entry and the
    alternatives without X-rays, from the catalogue's sourced facts and the stored plan."""

    case: CaseView
    procedure: Procedure
    modality: str
    entry: ModalityEntry
    ranked: dict[str, object]
    no_radiation: list[tuple[str, ModalityEntry]]

    @property
    def ionizing(self) -> bool:
        """Whether the chosen modality uses X-rays."""
        return self.modality in ("fluoroscopy", "ct")


def information_sheet(
    uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None
) -> InformationSheet:
    """The patient information sheet of a planned case (refused until a modality is planned)."""
    view = service.get_case(uow, actor, case_id, now=now)
    plan = view.file.plan
    if plan is None:
        raise ValidationError(
            "plan", N_("case %(case)s has no plan yet; choose the modality first"), case=case_id
        )
    try:
        procedure = find_procedure(load_knowledge(_settings_policy()), plan.procedure)
    except CatalogueError as exc:
        raise ValidationError("procedure", str(exc)) from None
    entry = procedure.modalities.get(plan.modality)
    if entry is None:
        raise ValidationError(
            "modality",
            N_("%(modality)s is not in the catalogue for %(procedure)s"),
            modality=plan.modality,
            procedure=plan.procedure,
        )
    ranked: dict[str, object] = next(
        (m for m in plan.ranking.get("modalities", []) if m.get("modality") == plan.modality), {}
    )
    alternatives: list[tuple[str, ModalityEntry]] = [
        (str(name), m)
        for name, m in procedure.modalities.items()
        if name != plan.modality and m.used and m.radiation_level.value == 0
    ]
    return InformationSheet(view, procedure, plan.modality, entry, ranked, alternatives)


@dataclass(frozen=True, slots=True)
class CasePage:
    """The case page: the case and, once a procedure is scheduled, its linked dose and ultrasound warnings."""

    case: CaseView
    procedure: ProcedureLinks | None


def case_page(uow: UnitOfWork, actor: User, case_id: int, *, now: datetime | None = None) -> CasePage:
    """The case with its procedure's linked dose against the local DRL and ultrasound events to review."""
    view = service.read_case(uow, actor, case_id, now=now)
    procedure = None
    if view.procedure is not None:
        row = uow.pathway.procedure(view.procedure.id)
        if row is not None:
            procedure = _procedure_view(uow, actor, row)
    uow.commit()  # one commit for both audit entries (the case and its procedure)
    return CasePage(view, procedure)


def _procedure_view(uow: UnitOfWork, actor: User, row: ProcedureRow) -> ProcedureLinks:
    uow.audit.record(actor.username, "case.read", "procedure", str(row.id))
    return procedure_links(uow, row)


def get_procedure(uow: UnitOfWork, actor: User, procedure_id: int) -> ProcedureLinks:
    """One procedure by id with its linked dose (totals, each report, against the local DRL) and ultrasound
    warnings to review (the read is audited)."""
    authorize(actor, "case.read")
    row = uow.pathway.procedure(procedure_id)
    if row is None:
        raise NotFoundError(f"procedure {procedure_id} does not exist; check the id")
    view = _procedure_view(uow, actor, row)
    uow.commit()
    return view


def find_procedures(uow: UnitOfWork, actor: User, *, accession: str) -> list[ProcedureLinks]:
    """The procedure with this accession number, as a list (empty when there is none; audited)."""
    authorize(actor, "case.read")
    if not accession.strip():
        raise ValidationError("accession", N_("give an accession number"))
    row = uow.pathway.procedure_by_accession(accession.strip())
    found = [_procedure_view(uow, actor, row)] if row is not None else []
    if not found:
        uow.audit.record(actor.username, "case.read", "procedure", "*", {"accession": accession})
    uow.commit()
    return found
