"""Care-pathway use cases: one function per use case, for pages, the API and the command line alike.

Every function takes the unit of work and the acting :class:`~painguide.auth.User`, authorises the action
with :func:`~painguide.auth.authorize`, checks the gates of its step (raising
:class:`~painguide.errors.GateError` with every unmet reason), writes through ``uow.pathway``, audits in the
same transaction and commits. A refused step writes nothing but a ``refusal`` entry on the case timeline
and its audit entry (after the rollback), so the case shows what was refused and why. Reads of patient
data are audited too. ``now`` (UTC, timezone-aware) defaults to the current time; tests and the demo pass it.

The use cases live in modules by step group (``case_service``, ``workup_service``, ``planning_service``,
``preparation_service``, ``procedure_service``; outputs in ``views``); this module re-exports their public
names, so ``from painguide.pathway.service import …`` and ``service.get_case`` keep working.
"""

from __future__ import annotations

from painguide.pathway.case_service import (
    MAX_PAGE,
    get_case,
    get_patient,
    list_cases,
    list_qualifications,
    open_case,
    read_case,
    record_qualification,
    register_patient,
    search_patients,
    update_patient,
)
from painguide.pathway.planning_service import (
    preview_plan,
    record_anticoagulation,
    record_plan,
    schedule_procedure,
)
from painguide.pathway.preparation_service import (
    record_checklist,
    record_consent,
    record_justification,
    revoke_consent,
)
from painguide.pathway.procedure_service import (
    override_gate,
    record_follow_up,
    record_procedure,
    schedule_follow_ups,
)
from painguide.pathway.views import (
    CaseSummary,
    CaseView,
    PageOf,
    PatientSummary,
    PatientView,
    ProcedureInfo,
    TimelineItem,
)
from painguide.pathway.workup_service import record_diagnostic, record_indication, record_therapy

__all__ = [
    "MAX_PAGE",
    "CaseSummary",
    "CaseView",
    "PageOf",
    "PatientSummary",
    "PatientView",
    "ProcedureInfo",
    "TimelineItem",
    "get_case",
    "get_patient",
    "list_cases",
    "list_qualifications",
    "open_case",
    "override_gate",
    "preview_plan",
    "read_case",
    "record_anticoagulation",
    "record_checklist",
    "record_consent",
    "record_diagnostic",
    "record_follow_up",
    "record_indication",
    "record_justification",
    "record_plan",
    "record_procedure",
    "record_qualification",
    "record_therapy",
    "register_patient",
    "revoke_consent",
    "schedule_follow_ups",
    "schedule_procedure",
    "search_patients",
    "update_patient",
]
