"""Outcomes: responder rates with Wilson intervals and duration of relief as Kaplan-Meier curves (pure).

:mod:`painguide.outcomes.responders` counts responders per group, :mod:`painguide.outcomes.survival` fits
Kaplan-Meier curves (lifelines, imported inside the function that needs it).
"""

from __future__ import annotations

from painguide.outcomes.responders import (
    FollowUp,
    GroupResponders,
    Proportion,
    ResponderCriterion,
    load_responder_criteria,
    nrs_reduction_percent,
    responder_rates,
    wilson_interval,
)
from painguide.outcomes.survival import KaplanMeierCurve, ReliefDuration, kaplan_meier

__all__ = [
    "FollowUp",
    "GroupResponders",
    "KaplanMeierCurve",
    "Proportion",
    "ReliefDuration",
    "ResponderCriterion",
    "kaplan_meier",
    "load_responder_criteria",
    "nrs_reduction_percent",
    "responder_rates",
    "wilson_interval",
]
