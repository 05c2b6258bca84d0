"""Care pathway: patient → case → diagnostics → indication → plan → preparation → procedure → follow-up.

Pure domain code: :mod:`~painguide.pathway.models` (the records), :mod:`~painguide.pathway.case` (a case as
the gates see it, its stage and next step), :mod:`~painguide.pathway.gates` (safety gates with stable codes),
:mod:`~painguide.pathway.policy` (selectable, sourced policy sets), :mod:`~painguide.pathway.planning`
(advisor ranking and anticoagulation dates) and :mod:`~painguide.pathway.anticoagulation` (the N18 planner).
:mod:`painguide.pathway.service` holds the use cases (it writes through the store).
"""

from __future__ import annotations

from painguide.pathway.anticoagulation import (
    AnticoagulationPlan,
    AnticoagulationResult,
    PlanWarning,
    escalate_bleeding_risk,
    plan_anticoagulation,
)
from painguide.pathway.case import STAGES, STEPS, CaseFile, PriorSession, next_step, stage_of
from painguide.pathway.gates import GATE_CODES, Assessment, GateContext, Unmet, assess, check, require
from painguide.pathway.policy import PathwayPolicy, load_pathway_policy

__all__ = [
    "GATE_CODES",
    "STAGES",
    "STEPS",
    "AnticoagulationPlan",
    "AnticoagulationResult",
    "Assessment",
    "CaseFile",
    "GateContext",
    "PathwayPolicy",
    "PlanWarning",
    "PriorSession",
    "Unmet",
    "assess",
    "check",
    "escalate_bleeding_risk",
    "load_pathway_policy",
    "next_step",
    "plan_anticoagulation",
    "require",
    "stage_of",
]
