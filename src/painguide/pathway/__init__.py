"""Care pathway: what to do before and around a procedure (pure domain code).

:mod:`painguide.pathway.anticoagulation` plans antithrombotic drugs around a procedure (N18).
"""

from __future__ import annotations

from painguide.pathway.anticoagulation import (
    AnticoagulationPlan,
    AnticoagulationResult,
    PlanWarning,
    escalate_bleeding_risk,
    plan_anticoagulation,
)

__all__ = [
    "AnticoagulationPlan",
    "AnticoagulationResult",
    "PlanWarning",
    "escalate_bleeding_risk",
    "plan_anticoagulation",
]
